/*
 * rhubarb on|off|reset|cycle|status|info (ron, roff, rreset, rcycle,
 * rstatus, rinfo): power through each node's controller, a CMC card, a
 * BMC or PDU outlets (the inventory's preferred one, or --via), as a run
 * whose plan is one power step per node (engine/step-power.c) sharing the
 * controller queues and fan-out of engine/plan-power.c.
 *
 * Everything that can be refused is refused before anything is touched
 * (exit 2): an unknown node or --via, a node without the asked back end,
 * a -t shorter than the plan's own delays. Then exit 0 only if every node
 * reached the state asked (status and info: answered), 1 otherwise.
 * Actions that change power go to the audit log at the end. The
 * reservation gate (ui/cmd-gate.h) is asked after the checks: it refuses
 * on, off, reset and cycle (exit 1, nothing touched) and only warns for
 * status and info.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/bus.h"
#include "engine/loop.h"
#include "engine/plan-power.h"
#include "engine/run.h"
#include "engine/step-power.h"
#include "inventory/config.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd-gate.h"
#include "ui/cmd-audit.h"
#include "ui/cmd-power-conf.h"
#include "ui/cmd.h"
#include "ui/render-power.h"
#include "ui/output.h"

/* Beyond the longest node deadline: the run's own, a backstop. */
#define CMD_POWER_RUN_GRACE_MS 3000

enum {
	CMD_POWER_LINES = 256,
	CMD_POWER_RHUBARBE,
	CMD_POWER_VIA,
};

static const struct option cmd_power_options[] = {
    {"all-nodes", no_argument, NULL, 'a'},
    {"lines", no_argument, NULL, CMD_POWER_LINES},
    {"rhubarbe", no_argument, NULL, CMD_POWER_RHUBARBE},
    {"json", no_argument, NULL, 'j'},
    {"via", required_argument, NULL, CMD_POWER_VIA},
    {"timeout", required_argument, NULL, 't'},
    {"curses", no_argument, NULL, 'c'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"option", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};
static int
cmd_power_via(const char *s, enum inv_power_kind *kind)
{
	if (strcmp(s, "cmc") == 0)
		*kind = INV_POWER_CMC;
	else if (strcmp(s, "ipmi") == 0)
		*kind = INV_POWER_IPMI;
	else if (strcmp(s, "pdu") == 0)
		*kind = INV_POWER_PDU;
	else
		return (-1);
	return (0);
}

/* The result word of a node: on/off/unknown for status, ok/failed. */
static const char *
cmd_power_result_word(enum power_action action, int ok,
    const struct plan_power_result *res)
{
	if (action == POWER_ACT_STATUS)
		return (ok ? power_state_name(res->state) : "unknown");
	return (ok ? "ok" : "failed");
}

/* The audit line, with the back ends the nodes went through. */
static void
cmd_power_audit(struct cmd_ctx *ctx, const struct cmd_audit *audit,
    enum power_action action, const struct run *run,
    const struct plan_power *pp, const struct nodeset *set)
{
	const char *backends[INV_POWER_PDU + 1];
	const struct plan_power_result *res;
	size_t i, n = 0;
	int seen[INV_POWER_PDU + 1];
	int k;

	memset(seen, 0, sizeof seen);
	for (i = 0; i < run_count(run); i++) {
		res = plan_power_result(pp, run_node(run, i)->inv);
		if (res->started && res->backend <= INV_POWER_PDU)
			seen[res->backend] = 1;
	}
	/* In cmc, ipmi, pdu order. */
	for (k = INV_POWER_CMC; k <= INV_POWER_PDU; k++) {
		if (seen[k])
			backends[n++] =
			    inv_power_kind_name((enum inv_power_kind)k);
	}
	cmd_audit_run(ctx, audit, plan_power_action_name(action), run, set,
	    backends, n);
}

static int
cmd_power_exec(struct cmd_ctx *ctx, int argc, char **argv,
    enum power_action action)
{
	struct plan_power_conf conf;
	struct step_power_conf sconf;
	struct step_inst plan[1];
	struct run_params params;
	struct output_opts oo;
	struct output *sinks = NULL;
	struct render_power_row *rows = NULL;
	struct plan_power *pp = NULL;
	struct nodeset *set = NULL;
	struct bus *bus = NULL;
	struct run *run = NULL;
	const struct node *n;
	struct plan_power_result *res;
	enum render_power_format format = RENDER_POWER_FOLD;
	enum inv_power_kind via = INV_POWER_NONE, *kinds = NULL;
	struct cmd_audit audit;
	uint64_t timeout_ms = 0, maxb = 0;
	size_t i, count;
	char *err = NULL;
	int ch, all = 0, r, nformats = 0;

	memset(&oo, 0, sizeof oo);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "acjt:qvo:h", cmd_power_options,
		    NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case CMD_POWER_LINES:
			format = RENDER_POWER_LINES;
			nformats++;
			break;
		case CMD_POWER_RHUBARBE:
			format = RENDER_POWER_RHUBARBE;
			nformats++;
			break;
		case 'j':
			format = RENDER_POWER_JSON;
			nformats++;
			break;
		case CMD_POWER_VIA:
			if (cmd_power_via(optarg, &via) != 0)
				return (cmd_usage_error(ctx,
				    "unknown back end '%s' (cmc, ipmi or pdu)",
				    optarg));
			break;
		case 't':
			if (cmd_parse_seconds(optarg, 0.001, 86400,
				&timeout_ms) != 0)
				return (cmd_usage_error(ctx,
				    "bad timeout '%s' (seconds, > 0)", optarg));
			break;
		case 'c':
		case 'q':
		case 'v':
			output_getopt(&oo, ch);
			break;
		case 'o':
			cmd_add_option(ctx, optarg);
			break;
		case 'h':
			return (cmd_help(ctx));
		default:
			return (cmd_bad_option(ctx, argv, "acjt:qvo:h"));
		}
	}
	if (nformats > 1)
		return (cmd_usage_error(ctx,
		    "--lines, --rhubarbe and --json exclude each other"));

	if ((r = cmd_select(ctx, all, argc - optind, argv + optind, 0, &set)) !=
	    0)
		return (r);
	if ((r = cmd_power_plan_conf(ctx, &conf)) != 0)
		goto out;

	if ((r = cmd_loop_init(ctx)) != 0)
		goto out;
	if ((pp = plan_power_new(&conf, &plan_power_drivers_real,
		 ctx->inventory, NULL, &err)) == NULL) {
		cmd_error(ctx, "%s", err);
		free(err);
		r = EXIT_FAILED;
		goto out_loop;
	}
	kinds = xcalloc(ctx->inventory->nnodes + 1, sizeof *kinds);
	if ((r = cmd_power_backends(ctx, set, pp, action, via, timeout_ms,
		 kinds, &maxb)) != 0)
		goto out_loop;
	/* Who may act: actions are refused, status and info only warned. */
	if ((r = cmd_gate(ctx, plan_power_action_name(action), set,
		 POWER_ACTION_CHANGES(action))) != 0)
		goto out_loop;

	/*
	 * The result table is the output (-q: only it, the default); -v adds
	 * the run's messages on stderr, with a status line if a terminal.
	 */
	bus = bus_new();
	oo.title = plan_power_action_name(action);
	oo.abort = output_abort_run;
	oo.abort_arg = &run;
	if (oo.curses)
		sinks = output_open(bus, &oo, stdout, NULL);
	else if (oo.verbose && !oo.quiet)
		sinks = output_open(bus, &oo, stderr, NULL);

	memset(&sconf, 0, sizeof sconf);
	sconf.pp = pp;
	sconf.action = action;
	sconf.via = via;
	sconf.timeout_ms = timeout_ms;
	memset(plan, 0, sizeof plan);
	plan[0].def = &step_power_def;
	plan[0].arg = &sconf;

	memset(&params, 0, sizeof params);
	params.what = plan_power_action_name(action);
	/* Every node at once: the controllers' fan-out is the real cap. */
	params.fanout = (unsigned)nodeset_count(set);
	params.timeout_ms = maxb + STEP_POWER_GRACE_MS + CMD_POWER_RUN_GRACE_MS;
	run = run_new(bus, &params);
	NODESET_FOREACH(i, set)
		run_add(run, &ctx->inventory->nodes[i], plan, 1);

	cmd_audit_start(&audit);
	r = cmd_run_to_end(run);

	output_finish(sinks);
	output_close(sinks);
	sinks = NULL;
	count = run_count(run);
	rows = xcalloc(count + 1, sizeof *rows);
	for (i = 0; i < count; i++) {
		n = run_node(run, i);
		res = plan_power_result(pp, n->inv);
		rows[i].node = n->inv->name;
		rows[i].cmc = n->inv->cmc.hostname;
		rows[i].backend = inv_power_kind_name(res->backend);
		rows[i].controller =
		    res->controller[0] != '\0' ? res->controller : NULL;
		rows[i].ok = n->outcome == NODE_OUT_OK;
		rows[i].result = cmd_power_result_word(action, rows[i].ok, res);
		rows[i].reason = res->reason[0] != '\0' ? res->reason : n->why;
		rows[i].info = rows[i].ok ? res->info : NULL;
		rows[i].outcome = node_outcome_name(n->outcome);
		rows[i].state = power_state_name(res->state);
		rows[i].duration = res->duration_ms / 1e3;
		rows[i].ops = res->ops;
	}
	render_power(stdout, format, plan_power_action_name(action), rows,
	    count, (loop_now_ms() - audit.start_mono_ms) / 1e3);
	if (POWER_ACTION_CHANGES(action))
		cmd_power_audit(ctx, &audit, action, run, pp, set);

out_loop:
	if (run != NULL)
		run_free(run);
	plan_power_free(pp);
	output_close(sinks);
	loop_free();
	bus_free(bus);
out:
	free(rows);
	free(kinds);
	nodeset_free(set);
	return (r);
}

#define CMD_POWER_HELP(what)                                                   \
	"  -a, --all-nodes     select testbed.all_scope (or every node)\n"     \
	"      --via B         through back end B: cmc, ipmi or pdu\n"         \
	"                      (default: each node's preferred one)\n"         \
	"  -t, --timeout S     each node's whole deadline, in seconds\n"       \
	"                      (default: from its back end's timeouts,\n"      \
	"                      [nodes] cmc_default_timeout for CMCs)\n"        \
	"      --lines         one 'node: result' line per node\n"             \
	"      --rhubarbe      rhubarbe's 'rebootNN:body' lines\n"             \
	"  -j, --json          one JSON document\n"                            \
	"  -c, --curses        watch the run in the monitor, then the table\n" \
	"  -q, --quiet         only the result table (the default)\n"          \
	"  -v, --verbose       every step on stderr\n"                         \
	"  -o, --option S.K=V  override a key ([power] ...)\n" what

static int
cmd_power_on(struct cmd_ctx *ctx, int argc, char **argv)
{
	return (cmd_power_exec(ctx, argc, argv, POWER_ACT_ON));
}

static int
cmd_power_off(struct cmd_ctx *ctx, int argc, char **argv)
{
	return (cmd_power_exec(ctx, argc, argv, POWER_ACT_OFF));
}

static int
cmd_power_reset(struct cmd_ctx *ctx, int argc, char **argv)
{
	return (cmd_power_exec(ctx, argc, argv, POWER_ACT_RESET));
}

static int
cmd_power_cycle(struct cmd_ctx *ctx, int argc, char **argv)
{
	return (cmd_power_exec(ctx, argc, argv, POWER_ACT_CYCLE));
}

static int
cmd_power_status(struct cmd_ctx *ctx, int argc, char **argv)
{
	return (cmd_power_exec(ctx, argc, argv, POWER_ACT_STATUS));
}

static int
cmd_power_info(struct cmd_ctx *ctx, int argc, char **argv)
{
	return (cmd_power_exec(ctx, argc, argv, POWER_ACT_INFO));
}

#define CMD_POWER_USAGE                                                        \
	"[-acjqv] [--lines|--rhubarbe] [--via cmc|ipmi|pdu] [-t SECONDS] "     \
	"[-o S.K=V]... NODES..."

#define CMD_POWER_ACTION_HELP                                                  \
	"The state is read back after the action (PDU outlets: by the PDU "    \
	"driver).\nExit 0 if every node reached it, 1 if some did not, 2 for " \
	"bad usage\n(nothing touched). Written to STATE_DIR/audit.jsonl.\n"    \
	"The reservation gate ([accounts]) must grant the action: a refusal "  \
	"exits 1,\nnothing touched.\n"

const struct cmd_entry cmd_on_entry = {
    .name = "on",
    .usage = CMD_POWER_USAGE,
    .summary = "power nodes on",
    .help = CMD_POWER_HELP(CMD_POWER_ACTION_HELP),
    .exec = cmd_power_on,
};

const struct cmd_entry cmd_off_entry = {
    .name = "off",
    .usage = CMD_POWER_USAGE,
    .summary = "power nodes off",
    .help = CMD_POWER_HELP(CMD_POWER_ACTION_HELP),
    .exec = cmd_power_off,
};

const struct cmd_entry cmd_reset_entry = {
    .name = "reset",
    .usage = CMD_POWER_USAGE,
    .summary = "reset nodes (PDU outlets: off, settle, on); must read on",
    .help = CMD_POWER_HELP(CMD_POWER_ACTION_HELP),
    .exec = cmd_power_reset,
};

const struct cmd_entry cmd_cycle_entry = {
    .name = "cycle",
    .usage = CMD_POWER_USAGE,
    .summary = "power cycle nodes: off, read back, settle, on, read back",
    .help = CMD_POWER_HELP("All outlets of a node go off before any goes on "
			   "again.\n" CMD_POWER_ACTION_HELP),
    .exec = cmd_power_cycle,
};

const struct cmd_entry cmd_status_entry = {
    .name = "status",
    .usage = CMD_POWER_USAGE,
    .summary = "power state of nodes: on, off, or unknown and why",
    .help = CMD_POWER_HELP(
	"An unreachable controller is 'unknown', never 'off'. Exit 0 if every "
	"node\nanswered, 1 otherwise, 2 for bad usage.\n"),
    .exec = cmd_power_status,
};

const struct cmd_entry cmd_info_entry = {
    .name = "info",
    .usage = CMD_POWER_USAGE,
    .summary = "what each node's power controller says about it",
    .help = CMD_POWER_HELP(
	"CMC: its info verb; BMC: the chassis status; PDU: each outlet's "
	"status.\n"),
    .exec = cmd_power_info,
};
