/*
 * rhubarb save (rsave): one node's disk into an image in the current
 * directory, saving__fitNN__YYYY-MM-DD@HH-MM__RADICAL.ndz, as rhubarbe
 * names it. The command starts the image collector (drivers/collector.h)
 * on [networking] local_control_ip, then runs the node's plan: boot it on
 * the imaging system (nextboot link, reset, settle, telnet), remove the
 * link, stamp the disk and run imagezip (engine/step-imagezip.c), and
 * reset it again whatever happened. With -n the node already runs the
 * imaging system: no link, no reset.
 *
 * Everything that can be refused is refused before anything is touched
 * (exit 2): not exactly one node, a bad radical or comment, an existing
 * image, no local_control_ip, a node without its power back end. The
 * image appears under its name only when the node's pipeline exited 0
 * and the whole stream came; otherwise no file is left. The save goes to
 * the audit log.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "drivers/collector.h"
#include "engine/bus.h"
#include "engine/loop.h"
#include "engine/run.h"
#include "engine/step-imagezip.h"
#include "inventory/config.h"
#include "inventory/images.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd-audit.h"
#include "ui/cmd-gate.h"
#include "ui/cmd-imaging.h"
#include "ui/cmd.h"
#include "ui/output.h"

/* How long the imaging shell may take to accept the connection. */
#define CMD_SAVE_CONNECT_MS 10000
#define CMD_SAVE_MAX_STEPS  (CMD_IMAGING_MAX_STEPS + 1)
/* The output options but -c, which is rhubarbe's --comment here. */
#define CMD_SAVE_SHORTOPTS "o:t:c:njqvh"

enum {
	CMD_SAVE_OPTION = 256,
	CMD_SAVE_CURSES,
};

static const struct option cmd_save_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"timeout", required_argument, NULL, 't'},
    {"comment", required_argument, NULL, 'c'},
    {"no-reset", no_argument, NULL, 'n'},
    {"curses", no_argument, NULL, CMD_SAVE_CURSES},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"option", required_argument, NULL, CMD_SAVE_OPTION},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};
/* Who saves: the real uid's name (getlogin needs a terminal). */
static char *
cmd_save_login(void)
{
	struct passwd *pw;
	char *s;

	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name[0] != '\0')
		return (xstrdup(pw->pw_name));
	xasprintf(&s, "uid%ld", (long)getuid());
	return (s);
}

/* The closing line: where the image is, its size and the rate. */
static void
cmd_save_report(const char *node, const char *path,
    const struct collector_result *res)
{
	char size[32], rate[32];
	double r;

	r = res->seconds > 0 ? (double)res->bytes / res->seconds : 0;
	images_human_size((off_t)res->bytes, size, sizeof size);
	images_human_size((off_t)r, rate, sizeof rate);
	printf("%s: saved %s (%s in %.1fs, %s/s)\n", node, path, size,
	    res->seconds, rate);
}

static int
cmd_save_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_imaging im;
	struct step_imagezip_conf iz_conf;
	struct step_imagezip_cmd izc;
	struct step_imagezip_collect collect;
	struct collector_params cp;
	struct step_inst plan[CMD_SAVE_MAX_STEPS];
	struct run_params params;
	struct output_opts oo;
	struct output *out = NULL;
	struct nodeset *set = NULL;
	struct bus *bus = NULL;
	struct run *run = NULL;
	const struct inv_node *inv = NULL;
	const char *radical = NULL, *comment = NULL, *local_ip;
	const char *backends[CMD_IMAGING_MAX_BACKENDS];
	char *err = NULL, *login = NULL, *stamp = NULL, *path = NULL;
	char *partial = NULL, *commands = NULL, *sel;
	struct stat sb;
	struct cmd_audit audit;
	time_t now;
	uint64_t timeout_ms = 0;
	size_t nsteps = 0;
	int ch, reset = 1, r, base;

	memset(&collect, 0, sizeof collect);
	memset(&im, 0, sizeof im);
	memset(&oo, 0, sizeof oo);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CMD_SAVE_SHORTOPTS,
		    cmd_save_options, NULL)) != -1) {
		if (ch != 'c' && output_getopt(&oo, ch))
			continue;
		switch (ch) {
		case 'o':
			radical = optarg;
			break;
		case 't':
			if (cmd_parse_seconds(optarg, 0.001, 7 * 86400,
				&timeout_ms) != 0)
				return (cmd_usage_error(ctx,
				    "bad timeout '%s' (seconds, > 0)", optarg));
			break;
		case 'c':
			comment = optarg;
			break;
		case 'n':
			reset = 0;
			break;
		case CMD_SAVE_OPTION:
			cmd_add_option(ctx, optarg);
			break;
		case CMD_SAVE_CURSES:
			oo.curses = 1;
			break;
		case 'h':
			return (cmd_help(ctx));
		default:
			return (cmd_bad_option(ctx, argv, CMD_SAVE_SHORTOPTS));
		}
	}
	if ((r = cmd_check_output(ctx, &oo)) != 0)
		return (r);
	if (radical == NULL)
		return (cmd_usage_error(ctx, "no image name: -o RADICAL"));
	if (images_name_valid(radical, &err) != 0) {
		r = cmd_usage_error(ctx, "bad image name: %s", err);
		free(err);
		return (r);
	}
	if (comment != NULL && step_imagezip_stamp_valid(comment, &err) != 0) {
		r = cmd_usage_error(ctx, "bad comment: %s", err);
		free(err);
		return (r);
	}
	if ((r = cmd_select(ctx, 0, argc - optind, argv + optind, 0, &set)) !=
	    0)
		return (r);
	if (nodeset_count(set) != 1) {
		sel = nodeset_fold(set);
		cmd_error(ctx, "save takes exactly one node, not %zu (%s)",
		    nodeset_count(set), sel);
		free(sel);
		r = EXIT_USAGE;
		goto out;
	}
	inv = &ctx->inventory->nodes[nodeset_next(set, 0)];
	if (inv->control.ip == NULL) {
		cmd_error(ctx, "%s has no control IP in the inventory",
		    inv->name);
		r = EXIT_USAGE;
		goto out;
	}
	local_ip = config_str(ctx->config, CK_NETWORKING_LOCAL_CONTROL_IP);
	if (local_ip[0] == '\0') {
		cmd_error(ctx,
		    "[networking] local_control_ip is not set: the "
		    "node sends the image there");
		r = EXIT_USAGE;
		goto out;
	}
	if (timeout_ms == 0)
		timeout_ms = (uint64_t)config_int(ctx->config,
				 CK_NODES_SAVE_DEFAULT_TIMEOUT) *
		    1000;

	now = time(NULL);
	login = cmd_save_login();
	stamp = step_imagezip_stamp(now, inv->name, radical, login, comment);
	if (step_imagezip_stamp_valid(stamp, &err) != 0) {
		cmd_error(ctx, "bad image stamp: %s", err);
		free(err);
		r = EXIT_USAGE;
		goto out;
	}
	path = images_saving_name(inv->name, now, radical);
	xasprintf(&partial, "%s.partial", path);
	if (lstat(path, &sb) == 0 || lstat(partial, &sb) == 0) {
		cmd_error(ctx, "%s already exists",
		    lstat(path, &sb) == 0 ? path : partial);
		r = EXIT_USAGE;
		goto out;
	}

	if ((r = cmd_loop_init(ctx)) != 0)
		goto out;
	if ((r = cmd_imaging_open(ctx, set, reset, "save", &im)) != 0 ||
	    (r = cmd_gate(ctx, "save", set, 1)) != 0)
		goto out_loop;

	/* The collector first: a save that cannot receive touches nothing. */
	base = config_port_base(ctx->config, CK_NETWORKING_PATTERN_PORT);
	memset(&cp, 0, sizeof cp);
	cp.bind_ip = local_ip;
	cp.port_min = base + 1;
	cp.port_max =
	    base + (int)config_int(ctx->config, CK_NETWORKING_PATTERN_SIZE);
	cp.peer_ip = inv->control.ip;
	cp.path = path;
	cp.progress = step_imagezip_collect_progress;
	cp.done = step_imagezip_collect_done;
	cp.arg = &collect;
	if ((collect.collector = collector_start(loop_base(), &cp, &err)) ==
	    NULL) {
		cmd_error(ctx, "collector: %s", err);
		free(err);
		r = EXIT_FAILED;
		goto out_loop;
	}

	memset(&izc, 0, sizeof izc);
	izc.stamp = stamp;
	izc.root_partition = config_str(ctx->config, CK_FRISBEE_ROOT_PARTITION);
	izc.mount_point = config_str(ctx->config, CK_FRISBEE_MOUNT_POINT);
	izc.imagezip = config_str(ctx->config, CK_FRISBEE_IMAGEZIP);
	izc.hard_drive = config_str(ctx->config, CK_FRISBEE_HARD_DRIVE);
	izc.netcat = config_str(ctx->config, CK_FRISBEE_NETCAT);
	izc.local_ip = local_ip;
	izc.port = collector_port(collect.collector);
	commands = step_imagezip_commands(&izc);

	bus = bus_new();
	oo.title = "save";
	oo.abort = output_abort_run;
	oo.abort_arg = &run;
	if ((out = output_open(bus, &oo, stdout, &err)) == NULL) {
		/* output_check passed: not expected. */
		cmd_error(ctx, "%s", err);
		free(err);
		r = EXIT_FAILED;
		goto out_loop;
	}

	memset(plan, 0, sizeof plan);
	memset(&iz_conf, 0, sizeof iz_conf);
	iz_conf.commands = commands;
	iz_conf.collect = &collect;
	collect.path = path;
	iz_conf.connect_ms = CMD_SAVE_CONNECT_MS;
	nsteps = cmd_imaging_head(ctx, &im, plan);
	plan[nsteps].def = &step_imagezip_def;
	plan[nsteps].arg = &iz_conf;
	plan[nsteps++].timeout_ms =
	    (uint64_t)config_int(ctx->config, CK_NODES_IMAGING_TIMEOUT) * 1000;
	nsteps += cmd_imaging_tail(ctx, &im, plan + nsteps);

	memset(&params, 0, sizeof params);
	params.what = "save";
	params.fanout = 1;
	params.timeout_ms = timeout_ms;
	run = run_new(bus, &params);
	run_add(run, inv, plan, nsteps);

	cmd_audit_start(&audit);
	run_info(run, LOG_LEVEL_INFO, "saving %s into %s (collector port %d)",
	    inv->name, path, izc.port);
	r = cmd_run_to_end(run);
	output_finish(out);
	/* A stop after the commit keeps the image: it is whole. */
	if (collect.committed) {
		if (!oo.json)
			cmd_save_report(inv->name, path, &collect.result);
	} else if (r == EXIT_OK)
		r = EXIT_FAILED; /* never a silent success */
	cmd_audit_run(ctx, &audit, "save", run, set, backends,
	    cmd_imaging_backends(&im, set, backends));

out_loop:
	if (run != NULL)
		run_free(run);
	/* Before the loop goes: removes PATH.partial unless committed. */
	step_imagezip_collect_clear(&collect);
	if (cmd_imaging_close(ctx, &im) != 0 && r == EXIT_OK)
		r = EXIT_FAILED;
	output_close(out);
	loop_free();
	bus_free(bus);
out:
	free(commands);
	free(partial);
	free(path);
	free(stamp);
	free(login);
	nodeset_free(set);
	return (cmd_flush_stdout(ctx, r));
}

const struct cmd_entry cmd_save_entry = {
    .name = "save",
    .usage = "[-njqv] -o RADICAL [-t SECONDS] [-c COMMENT] "
	     "[--option S.K=V]... NODE",
    .summary = "save one node's disk into saving__NODE__DATE__RADICAL.ndz",
    .help =
	"  -o, --output RADICAL  the image's name (rhubarbe's -o; required)\n"
	"  -t, --timeout S       whole save, in seconds (default [nodes]\n"
	"                        save_default_timeout)\n"
	"  -c, --comment TEXT    appended to the stamp in the node's\n"
	"                        /etc/rhubarbe-image (no control characters)\n"
	"  -n, --no-reset        the node already runs the imaging system:\n"
	"                        no nextboot link, no reset\n"
	"      --curses          the curses monitor (long form only: -c is\n"
	"                        the comment, as in rhubarbe)\n"
	"  -j, --json            one JSON object per event and line\n"
	"                        (docs/events.md), nothing else\n"
	"  -q, --quiet           only errors and the final summary\n"
	"  -v, --verbose         every state change, step and debug message\n"
	"      --option S.K=V    override a configuration key (long form "
	"only:\n"
	"                        -o is the image name here, as in rhubarbe)\n"
	"The image goes to the current directory; an existing file is an "
	"error.\nIt gets its name only once the node's imagezip pipeline "
	"exited 0 and the\nwhole stream came; otherwise no file is left. "
	"Exit 0 if saved, 1 if not,\n2 for bad usage (nothing touched). "
	"Written to STATE_DIR/audit.jsonl.\n",
    .exec = cmd_save_exec,
};
