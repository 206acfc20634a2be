/*
 * rhubarb exec (rexec): run a local command once per selected node, as
 * pdsh -R exec does ("%n" the node's name, "%i" its control IP, "%c" its
 * CMC hostname; RHUBARB_NODE in the environment), through the engine: a
 * run whose plan is one exec step, optionally after a delay step. It is
 * the smallest complete use of the engine, and a handy tool ("rexec -a --
 * ping -c1 %i").
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
#include "engine/step-delay.h"
#include "engine/step-exec.h"
#include "inventory/config.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd.h"
#include "ui/output.h"

#define CMD_EXEC_DEFAULT_TIMEOUT_MS 60000

#define CMD_EXEC_SHORTOPTS "af:t:o:h" OUTPUT_SHORTOPTS

enum {
	CMD_EXEC_DELAY = 256,
};

static const struct option cmd_exec_options[] = {
    {"all-nodes", no_argument, NULL, 'a'},
    {"fanout", required_argument, NULL, 'f'},
    {"timeout", required_argument, NULL, 't'},
    OUTPUT_LONGOPTS,
    {"delay", required_argument, NULL, CMD_EXEC_DELAY},
    {"option", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};
static int
cmd_exec_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct step_delay_conf delay_conf;
	struct step_exec_conf exec_conf;
	struct step_inst plan[2];
	struct run_params params;
	struct output_opts oo;
	struct output *out = NULL;
	struct nodeset *set = NULL;
	struct bus *bus = NULL;
	struct run *run = NULL;
	char *err = NULL;
	long long v, fanout = 0, delay = -1;
	uint64_t timeout_ms = CMD_EXEC_DEFAULT_TIMEOUT_MS;
	size_t nsteps = 0, i;
	int ch, all = 0, r, dashes;

	/*
	 * The command starts after the first "--"; split there ourselves, as
	 * getopt's permutation would otherwise mix node specs and command.
	 */
	for (dashes = 1; dashes < argc; dashes++) {
		if (strcmp(argv[dashes], "--") == 0)
			break;
	}
	memset(&oo, 0, sizeof oo);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(dashes, argv, CMD_EXEC_SHORTOPTS,
		    cmd_exec_options, NULL)) != -1) {
		if (output_getopt(&oo, ch))
			continue;
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'f':
			if (cmd_parse_int(optarg, 1, 1000000, &v) != 0)
				return (cmd_usage_error(ctx,
				    "bad fanout '%s' (1 to 1000000)", optarg));
			fanout = v;
			break;
		case 't':
			if (cmd_parse_seconds(optarg, 0.001, 7 * 86400,
				&timeout_ms) != 0)
				return (cmd_usage_error(ctx,
				    "bad timeout '%s' (seconds, > 0)", optarg));
			break;
		case CMD_EXEC_DELAY:
			if (cmd_parse_int(optarg, 0, 86400000, &v) != 0)
				return (cmd_usage_error(ctx,
				    "bad delay '%s' (milliseconds)", optarg));
			delay = v;
			break;
		case 'o':
			cmd_add_option(ctx, optarg);
			break;
		case 'h':
			return (cmd_help(ctx));
		default:
			return (cmd_bad_option(ctx, argv, CMD_EXEC_SHORTOPTS));
		}
	}
	if ((r = cmd_check_output(ctx, &oo)) != 0)
		return (r);
	if (dashes == argc)
		return (cmd_usage_error(ctx, "no '--' before the command"));
	if (dashes + 1 == argc)
		return (cmd_usage_error(ctx, "no command after '--'"));

	if ((r = cmd_select(ctx, all, dashes - optind, argv + optind, 0,
		 &set)) != 0)
		return (r);
	if (fanout == 0)
		fanout = config_int(ctx->config, CK_NODES_FANOUT);

	if ((r = cmd_loop_init(ctx)) != 0) {
		nodeset_free(set);
		return (r);
	}

	bus = bus_new();
	oo.title = "exec";
	oo.abort = output_abort_run;
	oo.abort_arg = &run;
	if ((out = output_open(bus, &oo, stdout, &err)) == NULL) {
		cmd_usage_error(ctx, "%s", err);
		free(err);
		bus_free(bus);
		loop_free();
		nodeset_free(set);
		return (EXIT_USAGE);
	}

	memset(plan, 0, sizeof plan);
	if (delay >= 0) {
		delay_conf.ms = (uint64_t)delay;
		plan[nsteps].def = &step_delay_def;
		plan[nsteps++].arg = &delay_conf;
	}
	exec_conf.argv = (const char *const *)(argv + dashes + 1);
	plan[nsteps].def = &step_exec_def;
	plan[nsteps++].arg = &exec_conf;

	memset(&params, 0, sizeof params);
	params.what = "exec";
	params.fanout = (unsigned)fanout;
	params.timeout_ms = timeout_ms;
	run = run_new(bus, &params);
	NODESET_FOREACH(i, set)
		run_add(run, &ctx->inventory->nodes[i], plan, nsteps);

	r = cmd_run_to_end(run);
	output_finish(out);

	run_free(run);
	output_close(out);
	loop_free();
	bus_free(bus);
	nodeset_free(set);
	return (r);
}

const struct cmd_entry cmd_exec_entry = {
    .name = "exec",
    .usage = "[-acjqv] [-f FANOUT] [-t SECONDS] [--delay MS] "
	     "[-o S.K=V]... NODES... -- COMMAND [ARGS...]",
    .summary = "run a local command once per node (%n %i %c substituted)",
    .help =
	"  -a, --all-nodes     select testbed.all_scope (or every node)\n"
	"  -f, --fanout N      nodes at once (default nodes.fanout)\n"
	"  -t, --timeout S     whole run, in seconds (default 60)\n"
	"      --delay MS      wait MS milliseconds before the command\n" OUTPUT_HELP
	"  -o, --option S.K=V  override a configuration key\n"
	"In COMMAND and ARGS: %n node name, %i control IP, %c CMC "
	"hostname, %% a '%'.\n"
	"RHUBARB_NODE is set to the node name. Exit 0 if every command "
	"exited 0,\n1 if some failed or timed out, 2 for bad usage.\n",
    .exec = cmd_exec_exec,
};
