/*
 * rhubarb wait (rwait): wait until nodes answer ssh, as rhubarbe's wait
 * does, through the engine: a run whose plan is one ssh-wait step per
 * node (engine/step-ssh-wait.h), every node at once, the handshakes in
 * flight capped by [networking] ssh_max_handshakes.
 *
 * The -t timeout is each node's: a node that has not answered by then
 * ends ssh-timeout (or ssh-auth when sshd refused the key or its host key
 * was refused), and the command ends then too. It needs no configuration
 * file: every key has a compiled-in default (rhubarbe 6.2+ crashed without
 * wait_default_timeout).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/bus.h"
#include "engine/loop.h"
#include "engine/run.h"
#include "engine/step-ssh-wait.h"
#include "inventory/config.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd.h"
#include "ui/output.h"

/* The run's own deadline is a backstop behind each node's (-t). */
#define CMD_WAIT_RUN_GRACE_MS 2000

#define CMD_WAIT_SHORTOPTS "at:b:u:so:h" OUTPUT_SHORTOPTS

static const struct option cmd_wait_options[] = {
    {"all-nodes", no_argument, NULL, 'a'},
    {"timeout", required_argument, NULL, 't'},
    {"backoff", required_argument, NULL, 'b'},
    {"user", required_argument, NULL, 'u'},
    {"silent", no_argument, NULL, 's'},
    OUTPUT_LONGOPTS,
    {"option", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};
static int
cmd_wait_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct step_ssh_wait_params sp;
	struct step_ssh_wait_conf *conf = NULL;
	struct step_inst plan[1];
	struct run_params params;
	struct output_opts oo;
	struct output *out = NULL;
	struct nodeset *set = NULL;
	struct bus *bus = NULL;
	struct run *run = NULL;
	const struct node *n;
	const char *user = NULL;
	char *err = NULL;
	uint64_t timeout_ms = 0, backoff_ms = 0;
	size_t i;
	int ch, all = 0, silent = 0, backoff_set = 0;
	int r;

	memset(&oo, 0, sizeof oo);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CMD_WAIT_SHORTOPTS,
		    cmd_wait_options, NULL)) != -1) {
		if (output_getopt(&oo, ch))
			continue;
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 't':
			if (cmd_parse_seconds(optarg, 0.001, 86400,
				&timeout_ms) != 0 ||
			    timeout_ms == 0)
				return (cmd_usage_error(ctx,
				    "bad timeout '%s' (seconds, > 0)", optarg));
			break;
		case 'b':
			if (cmd_parse_seconds(optarg, 0, 86400, &backoff_ms) !=
			    0)
				return (cmd_usage_error(ctx,
				    "bad backoff '%s' (seconds, >= 0)",
				    optarg));
			backoff_set = 1;
			break;
		case 'u':
			if (*optarg == '\0')
				return (cmd_usage_error(ctx, "empty user"));
			user = optarg;
			break;
		case 's':
			silent = 1;
			break;
		case 'o':
			cmd_add_option(ctx, optarg);
			break;
		case 'h':
			return (cmd_help(ctx));
		default:
			return (cmd_bad_option(ctx, argv, CMD_WAIT_SHORTOPTS));
		}
	}

	if ((r = cmd_check_output(ctx, &oo)) != 0)
		return (r);
	if ((r = cmd_select(ctx, all, argc - optind, argv + optind, 0, &set)) !=
	    0)
		return (r);
	if (timeout_ms == 0)
		timeout_ms = (uint64_t)config_int(ctx->config,
				 CK_NODES_WAIT_DEFAULT_TIMEOUT) *
		    1000;
	step_ssh_wait_params_from_config(&sp, ctx->config);
	if (user != NULL)
		sp.user = user;
	if (backoff_set)
		sp.backoff_ms = backoff_ms;
	/* A key we cannot read is bad input: nothing was tried. */
	if ((conf = step_ssh_wait_conf_new(&sp, &err)) == NULL) {
		cmd_error(ctx, "%s", err);
		free(err);
		nodeset_free(set);
		return (EXIT_USAGE);
	}

	if ((r = cmd_loop_init(ctx)) != 0) {
		step_ssh_wait_conf_free(conf);
		nodeset_free(set);
		return (r);
	}

	bus = bus_new();
	oo.title = "wait (ssh)";
	oo.abort = output_abort_run;
	oo.abort_arg = &run;
	if (!silent && (out = output_open(bus, &oo, stdout, &err)) == NULL) {
		/* output_check said yes: only a changed terminal gets here. */
		cmd_error(ctx, "%s", err);
		free(err);
		r = EXIT_FAILED;
		goto out;
	}

	memset(plan, 0, sizeof plan);
	plan[0].def = &step_ssh_wait_def;
	plan[0].arg = conf;
	plan[0].timeout_ms = timeout_ms;

	memset(&params, 0, sizeof params);
	params.what = "wait";
	/* Every node at once: ssh_max_handshakes is the real cap. */
	params.fanout = (unsigned)nodeset_count(set);
	params.timeout_ms = timeout_ms + CMD_WAIT_RUN_GRACE_MS;
	run = run_new(bus, &params);
	NODESET_FOREACH(i, set)
		run_add(run, &ctx->inventory->nodes[i], plan, 1);

	r = cmd_run_to_end(run);
	output_finish(out);

	/* rhubarbe's lines, in node order, once everything is known. */
	if (!silent && !oo.json && !oo.curses) {
		for (i = 0; i < run_count(run); i++) {
			n = run_node(run, i);
			printf("<Node %s>:ssh %s\n", n->inv->name,
			    n->outcome == NODE_OUT_OK ? "OK" : "KO");
		}
	}

	run_free(run);
out:
	output_close(out);
	loop_free();
	bus_free(bus);
	step_ssh_wait_conf_free(conf);
	nodeset_free(set);
	return (cmd_flush_stdout(ctx, r));
}

const struct cmd_entry cmd_wait_entry = {
    .name = "wait",
    .usage = "[-acjqsv] [-t SECONDS] [-b SECONDS] [-u USER] [-o S.K=V]... "
	     "NODES...",
    .summary = "wait until nodes answer ssh",
    .help =
	"  -a, --all-nodes     select testbed.all_scope (or every node)\n"
	"  -t, --timeout S     each node's deadline, in seconds\n"
	"                      (default [nodes] wait_default_timeout)\n"
	"  -b, --backoff S     base wait between two tries of a node; each\n"
	"                      wait is S*(0.5+random) (default [networking]\n"
	"                      ssh_backoff)\n"
	"  -u, --user USER     ssh login (default [networking] ssh_user)\n"
	"  -s, --silent        no output: the exit code says it all\n" OUTPUT_HELP
	"  -o, --option S.K=V  override a key ([networking] ssh_key,\n"
	"                      ssh_host_key_policy, ssh_known_hosts,\n"
	"                      ssh_max_handshakes, ssh_timeout ...)\n"
	"Output: the run's lines (start, each node that failed with its\n"
	"outcome and last error, the summary), then rhubarbe's line per "
	"node in\nnode order: '<Node fit01>:ssh OK' or '<Node fit01>:ssh "
	"KO'. A node ends ok\nonce ssh authenticated with the key; at its "
	"deadline ssh-timeout, or\nssh-auth if the last try was refused for "
	"the key or the host key.\nExit 0 if every node answered, 1 if some "
	"did not, 2 for bad usage\n(or an unreadable key).\n",
    .exec = cmd_wait_exec,
};
