/*
 * rhubarb load (rload): write an image on the disks of nodes, as rhubarbe
 * does, but as one state machine per node with a deadline in every
 * waiting state (notes/rhubarbe.md 2.1):
 *
 *	nextboot-set    the node's PXE link points at the imaging system
 *	power boot      on if off, reset if on, read back
 *	delay           [nodes] idle_after_reset
 *	telnet-wait     until the imaging system answers ([nodes] boot_timeout)
 *	nextboot-clear  at once, so the next reset boots from disk
 *	frisbee         the client against this run's frisbeed
 *			([nodes] imaging_timeout)
 *	power reset     whether frisbee worked or not ([nodes]
 *			final_reset_timeout)
 *	ssh-wait        with --wait: until the node answers ssh ([nodes]
 *			boot_timeout)
 *
 * nextboot-clear and the last reset are finishing steps: they also run
 * after a failure, and after a timeout or an interrupt (the reset only
 * with [nodes] reset_on_abort, and only on nodes the first reset
 * touched), so no node is left in the imaging system with its disk half
 * written. Every link is journaled (engine/nextboot.h) and removed on
 * every way out; a run killed outright is undone by the next command.
 *
 * Who may: ui/cmd-gate.h ([accounts] privileged, or the reservation
 * gate); a refusal touches nothing (exit 1). Every load goes to the audit
 * log (ui/cmd-audit.h).
 *
 * Everything that can be refused is refused before anything is touched
 * (exit 2): the selection, the image, the bandwidth, nodes without a MAC
 * or a power controller, a missing pxelinux directory or local IP.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/bus.h"
#include "engine/frisbeed.h"
#include "engine/loop.h"
#include "engine/nextboot.h"
#include "engine/run.h"
#include "engine/step-frisbee.h"
#include "engine/step-ssh-wait.h"
#include "inventory/config.h"
#include "inventory/images.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd-audit.h"
#include "ui/cmd-gate.h"
#include "ui/cmd-imaging.h"
#include "ui/cmd.h"
#include "ui/output.h"

enum {
	CMD_LOAD_WAIT = 256,
};

static const struct option cmd_load_options[] = {
    {"image", required_argument, NULL, 'i'},
    {"timeout", required_argument, NULL, 't'},
    {"bandwidth", required_argument, NULL, 'b'},
    {"no-reset", no_argument, NULL, 'n'},
    {"wait", no_argument, NULL, CMD_LOAD_WAIT},
    {"all-nodes", no_argument, NULL, 'a'},
    OUTPUT_LONGOPTS,
    {"option", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

#define CMD_LOAD_SHORTOPTS "i:t:b:nao:h" OUTPUT_SHORTOPTS

/* What the load's callbacks share. */
struct cmd_load {
	struct frisbeed *server;
	struct step_frisbee_conf frisbee;
	struct run *run;
	int server_heard;                 /* server_event is set */
	enum frisbeed_event server_event; /* the last one */
	char *server_why;
};

static void
cmd_load_server_cb(struct frisbeed *fd, enum frisbeed_event what,
    const char *why, void *arg)
{
	struct cmd_load *cl = arg;

	cl->server_heard = 1;
	cl->server_event = what;
	free(cl->server_why);
	cl->server_why = why != NULL ? xstrdup(why) : NULL;
	switch (what) {
	case FRISBEED_LOST:
		if (cl->run != NULL && !run_finished(cl->run)) {
			run_info(cl->run, LOG_LEVEL_ERROR, "%s", why);
			step_frisbee_server_lost(&cl->frisbee, why);
		}
		break;
	case FRISBEED_READY:
	case FRISBEED_FAILED:
	case FRISBEED_STOPPED:
		/* The command waits for these in a loop of its own. */
		if (cl->run == NULL || run_finished(cl->run))
			loop_exit();
		break;
	}
}

/* Every selected node can be imaged. 0 or EXIT_USAGE. */
static int
cmd_load_check_nodes(struct cmd_ctx *ctx, const struct nodeset *set)
{
	const struct inventory *inv = ctx->inventory;
	const char **bad;
	char *folded;
	size_t i, nbad = 0;
	int r = 0;

	bad = xcalloc(nodeset_count(set) + 1, sizeof *bad);
	NODESET_FOREACH(i, set) {
		if (inv->nodes[i].control.mac == NULL ||
		    inv->nodes[i].control.ip == NULL)
			bad[nbad++] = inv->nodes[i].name;
	}
	if (nbad > 0) {
		folded = nodeset_fold_names(bad, nbad);
		r = cmd_usage_error(ctx,
		    "%s: no control MAC or IP in the inventory", folded);
		free(folded);
	}
	free(bad);
	return (r);
}

/* The image to load: -i, or [frisbee] default_image. 0 or EXIT_USAGE. */
static int
cmd_load_image(struct cmd_ctx *ctx, const char *arg, char **pathp,
    uint64_t *sizep)
{
	struct images *im;
	const struct image *img;
	char *err = NULL;
	int bad = 0;

	if (arg == NULL)
		arg = config_str(ctx->config, CK_FRISBEE_DEFAULT_IMAGE);
	im = images_scan(config_str(ctx->config, CK_FRISBEE_IMAGES_DIR), 0);
	if ((img = images_lookup(im, arg, &bad, &err)) == NULL) {
		cmd_error(ctx, "%s", err);
		free(err);
		images_free(im);
		return (EXIT_USAGE);
	}
	*pathp = xstrdup(img->path);
	*sizep = (uint64_t)img->size;
	images_free(im);
	return (0);
}

static int
cmd_load_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_load cl;
	struct cmd_imaging im;
	struct cmd_audit audit;
	const char *backends[CMD_IMAGING_MAX_BACKENDS];
	struct frisbeed_params fp;
	struct step_inst plan[CMD_IMAGING_MAX_STEPS + 2];
	struct step_ssh_wait_params sp;
	struct step_ssh_wait_conf *ssh = NULL;
	struct run_params params;
	struct output_opts oo;
	struct output *out = NULL;
	struct nodeset *set = NULL;
	struct bus *bus = NULL;
	const char *image_arg = NULL, *local_ip;
	char *image = NULL, *err = NULL, *title = NULL;
	long long timeout_s = 0, bandwidth = 0;
	uint64_t image_size = 0;
	size_t i, nsteps;
	int ch, all = 0, no_reset = 0, wait_ssh = 0, r;

	memset(&cl, 0, sizeof cl);
	memset(&im, 0, sizeof im);
	memset(&oo, 0, sizeof oo);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CMD_LOAD_SHORTOPTS,
		    cmd_load_options, NULL)) != -1) {
		if (output_getopt(&oo, ch))
			continue;
		switch (ch) {
		case 'i':
			image_arg = optarg;
			break;
		case 't':
			if (cmd_parse_int(optarg, 1, 7 * 86400, &timeout_s) !=
			    0)
				return (cmd_usage_error(ctx,
				    "bad timeout '%s' (whole seconds, > 0)",
				    optarg));
			break;
		case 'b':
			if (cmd_parse_int(optarg, 1, 100000, &bandwidth) != 0)
				return (cmd_usage_error(ctx,
				    "bad bandwidth '%s' (Mibps, 1 to 100000)",
				    optarg));
			break;
		case 'n':
			no_reset = 1;
			break;
		case CMD_LOAD_WAIT:
			wait_ssh = 1;
			break;
		case 'a':
			all = 1;
			break;
		case 'o':
			cmd_add_option(ctx, optarg);
			break;
		case 'h':
			return (cmd_help(ctx));
		default:
			return (cmd_bad_option(ctx, argv, CMD_LOAD_SHORTOPTS));
		}
	}
	if ((r = cmd_check_output(ctx, &oo)) != 0)
		return (r);
	if ((r = cmd_select(ctx, all, argc - optind, argv + optind, 0, &set)) !=
	    0)
		return (r);
	if ((r = cmd_load_check_nodes(ctx, set)) != 0)
		goto out;
	if ((r = cmd_load_image(ctx, image_arg, &image, &image_size)) != 0)
		goto out;
	if (bandwidth == 0)
		bandwidth = config_int(ctx->config, CK_NETWORKING_BANDWIDTH);
	if (timeout_s == 0)
		timeout_s =
		    config_int(ctx->config, CK_NODES_LOAD_DEFAULT_TIMEOUT);
	if (wait_ssh) {
		/* A key we cannot read is bad input: nothing is touched. */
		step_ssh_wait_params_from_config(&sp, ctx->config);
		if ((ssh = step_ssh_wait_conf_new(&sp, &err)) == NULL) {
			r = cmd_usage_error(ctx, "%s", err);
			free(err);
			goto out;
		}
	}
	local_ip = config_str(ctx->config, CK_NETWORKING_LOCAL_CONTROL_IP);
	if (*local_ip == '\0') {
		r = cmd_usage_error(ctx,
		    "no local IP for frisbeed: set [networking] "
		    "local_control_ip");
		goto out;
	}

	if ((r = cmd_loop_init(ctx)) != 0)
		goto out;
	if ((r = cmd_imaging_open(ctx, set, !no_reset, "load", &im)) != 0 ||
	    (r = cmd_gate(ctx, "load", set, 1)) != 0)
		goto out_loop;

	/* The server first: without it nothing is worth touching. */
	memset(&fp, 0, sizeof fp);
	fp.server = config_str(ctx->config, CK_FRISBEE_SERVER);
	fp.server_options = config_str(ctx->config, CK_FRISBEE_SERVER_OPTIONS);
	fp.local_ip = local_ip;
	fp.bandwidth = bandwidth;
	fp.image = image;
	fp.pattern_multicast =
	    config_str(ctx->config, CK_NETWORKING_PATTERN_MULTICAST);
	fp.port_base =
	    config_port_base(ctx->config, CK_NETWORKING_PATTERN_PORT);
	fp.pattern_size =
	    (int)config_int(ctx->config, CK_NETWORKING_PATTERN_SIZE);
	if ((cl.server = frisbeed_start(&fp, cmd_load_server_cb, NULL, &cl,
		 &err)) == NULL) {
		cmd_error(ctx, "%s", err);
		free(err);
		r = EXIT_FAILED;
		goto out_loop;
	}
	loop_run();
	if (!cl.server_heard || cl.server_event != FRISBEED_READY) {
		if (cl.server_heard && cl.server_event == FRISBEED_FAILED)
			cmd_error(ctx, "%s", cl.server_why);
		else
			cmd_error(ctx, "interrupted before loading");
		r = EXIT_FAILED;
		goto out_server;
	}
	/* Killed outright, we leave a server: the next command stops it. */
	if (im.nb != NULL &&
	    nextboot_process(im.nb, frisbeed_pid(cl.server), "frisbeed",
		&err) != 0) {
		cmd_error(ctx, "%s", err);
		free(err);
		r = EXIT_FAILED;
		goto out_server;
	}

	bus = bus_new();
	xasprintf(&title, "load %s @ %lld Mibps",
	    strrchr(image, '/') != NULL ? strrchr(image, '/') + 1 : image,
	    bandwidth);
	oo.title = title;
	oo.abort = output_abort_run;
	oo.abort_arg = &cl.run;
	if ((out = output_open(bus, &oo, stdout, &err)) == NULL) {
		/* output_check said yes: only a changed terminal gets here. */
		cmd_error(ctx, "%s", err);
		free(err);
		r = EXIT_FAILED;
		goto out_server;
	}

	/* The plan, shared by every node (see the top of the file). */
	cl.frisbee.client = config_str(ctx->config, CK_FRISBEE_CLIENT);
	cl.frisbee.hard_drive = config_str(ctx->config, CK_FRISBEE_HARD_DRIVE);
	cl.frisbee.server = cl.server;
	cl.frisbee.image_size = image_size;
	nsteps = cmd_imaging_head(ctx, &im, plan);
	memset(&plan[nsteps], 0, sizeof plan[nsteps]);
	plan[nsteps].def = &step_frisbee_def;
	plan[nsteps].arg = &cl.frisbee;
	plan[nsteps++].timeout_ms =
	    (uint64_t)config_int(ctx->config, CK_NODES_IMAGING_TIMEOUT) * 1000;
	nsteps += cmd_imaging_tail(ctx, &im, plan + nsteps);
	if (ssh != NULL) {
		/* The node boots its new system: a boot's deadline. */
		memset(&plan[nsteps], 0, sizeof plan[nsteps]);
		plan[nsteps].def = &step_ssh_wait_def;
		plan[nsteps].arg = ssh;
		plan[nsteps++].timeout_ms =
		    (uint64_t)config_int(ctx->config, CK_NODES_BOOT_TIMEOUT) *
		    1000;
	}

	memset(&params, 0, sizeof params);
	params.what = "load";
	params.fanout = (unsigned)config_int(ctx->config, CK_NODES_FANOUT);
	params.timeout_ms = (uint64_t)timeout_s * 1000;
	cl.run = run_new(bus, &params);
	NODESET_FOREACH(i, set)
		run_add(cl.run, &ctx->inventory->nodes[i], plan, nsteps);
	run_info(cl.run, LOG_LEVEL_INFO,
	    "image %s at %lld Mibps, frisbeed %s:%d", image, bandwidth,
	    frisbeed_group(cl.server), frisbeed_port(cl.server));

	cmd_audit_start(&audit);
	r = cmd_run_to_end(cl.run);
	output_finish(out);
	cmd_audit_run(ctx, &audit, "load", cl.run, set, backends,
	    cmd_imaging_backends(&im, set, backends));

out_server:
	/* Stopped and awaited (bounded by frisbeed itself). */
	if (frisbeed_stop(cl.server))
		loop_run();
	if (cl.server_heard && cl.server_event == FRISBEED_STOPPED &&
	    cl.server_why != NULL)
		cmd_warn(ctx, "%s", cl.server_why);
	frisbeed_free(cl.server);
	run_free(cl.run);
out_loop:
	if (cmd_imaging_close(ctx, &im) != 0 && r == EXIT_OK)
		r = EXIT_FAILED;
	output_close(out);
	loop_free();
	if (bus != NULL)
		bus_free(bus);
out:
	step_ssh_wait_conf_free(ssh);
	free(cl.server_why);
	free(title);
	free(image);
	nodeset_free(set);
	return (cmd_flush_stdout(ctx, r));
}

const struct cmd_entry cmd_load_entry = {
    .name = "load",
    .usage = "[-acjnqv] [-i IMAGE] [-t SECONDS] [-b MIBPS] [--wait] "
	     "[-o S.K=V]... NODES...",
    .summary = "write an image on the nodes' disks (frisbee)",
    .help =
	"  -i, --image IMAGE   image name or path (default "
	"frisbee.default_image)\n"
	"  -t, --timeout S     whole run, in seconds (default "
	"nodes.load_default_timeout)\n"
	"  -b, --bandwidth B   frisbeed rate in Mibps (default "
	"networking.bandwidth)\n"
	"  -n, --no-reset      the nodes already run the imaging system: no\n"
	"                      nextboot link, no reset before or after\n"
	"      --wait          then wait until the nodes answer ssh\n"
	"  -a, --all-nodes     select testbed.all_scope (or every node)\n" OUTPUT_HELP
	"  -o, --option S.K=V  override a configuration key\n"
	"Per node: nextboot link, boot (on if off, reset if on), telnet to "
	"the imaging\nsystem ([nodes] boot_timeout), link removed, frisbee "
	"([nodes] imaging_timeout),\nreset, whether frisbee worked or not. "
	"After a timeout or ^C, links are removed\nand nodes reset "
	"([nodes] reset_on_abort). Exit 0 if every node was loaded,\n1 if "
	"some failed, 2 for bad usage (nothing touched).\n",
    .exec = cmd_load_exec,
};
