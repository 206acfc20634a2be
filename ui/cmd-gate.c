/*
 * cmd_gate (see cmd-gate.h): gather the login, the [accounts] keys and
 * the node names, run the engine's gate check on the loop until it
 * answers, then print, audit and return the exit code.
 */

#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "engine/audit.h"
#include "engine/gate.h"
#include "engine/loop.h"
#include "inventory/config.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd-audit.h"
#include "ui/cmd-gate.h"
#include "ui/cmd.h"

struct cmd_gate_wait {
	int done;
	int granted;
	char *reason;
};

static void
cmd_gate_cb(int granted, const char *reason, void *arg)
{
	struct cmd_gate_wait *w = arg;

	w->done = 1;
	w->granted = granted;
	w->reason = xstrdup(reason);
	loop_exit();
}

/* The refusal in the audit log: every selected node "denied". */
static void
cmd_gate_audit(struct cmd_ctx *ctx, const struct cmd_audit *audit,
    const char *action, const struct nodeset *set)
{
	struct audit_result res;
	char *sel;

	sel = nodeset_fold(set);
	res.outcome = "denied";
	res.nodes = sel;
	cmd_audit_write(ctx, audit, action, set, &res, 1, NULL, 0);
	free(sel);
}

int
cmd_gate(struct cmd_ctx *ctx, const char *action, const struct nodeset *set,
    int enforce)
{
	struct gate_params p;
	struct cmd_gate_wait w;
	struct passwd *pw;
	struct gate *g;
	struct cmd_audit audit;
	const char **names;
	char login[64];
	size_t i, n = 0;

	/* The real uid's name: sudo and su do not change who asks. */
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name != NULL)
		snprintf(login, sizeof login, "%s", pw->pw_name);
	else
		snprintf(login, sizeof login, "#%ld", (long)getuid());

	names = xcalloc(nodeset_count(set) + 1, sizeof *names);
	NODESET_FOREACH(i, set)
		names[n++] = ctx->inventory->nodes[i].name;

	memset(&p, 0, sizeof p);
	p.login = login;
	p.privileged = config_str(ctx->config, CK_ACCOUNTS_PRIVILEGED);
	p.policy = config_str(ctx->config, CK_ACCOUNTS_ACCESS_POLICY);
	p.command = config_str(ctx->config, CK_ACCOUNTS_GATE);
	p.timeout_ms =
	    (uint64_t)(config_double(ctx->config, CK_ACCOUNTS_GATE_TIMEOUT) *
		    1000 +
		0.5);
	if (p.timeout_ms == 0) {
		free(names);
		return (cmd_usage_error(ctx,
		    "[accounts] gate_timeout must be above 0 (%s)",
		    config_origin(ctx->config, CK_ACCOUNTS_GATE_TIMEOUT)));
	}
	p.action = action;
	p.nodes = names;
	p.nnodes = n;

	cmd_audit_start(&audit);
	memset(&w, 0, sizeof w);
	g = gate_start(&p, cmd_gate_cb, &w);
	/* Bounded: the gate's timer kills it, and a verdict always comes. */
	while (!w.done) {
		if (loop_run() != 0)
			break; /* a second ^C */
	}
	if (!w.done) {
		gate_cancel(g);
		w.granted = 0;
		w.reason = xstrdup("interrupted");
	}
	free(names);

	if (w.granted) {
		free(w.reason);
		return (0);
	}
	if (!enforce) {
		cmd_warn(ctx, "access denied: %s", w.reason);
		free(w.reason);
		return (0);
	}
	cmd_error(ctx, "access denied: %s", w.reason);
	free(w.reason);
	cmd_gate_audit(ctx, &audit, action, set);
	return (EXIT_FAILED);
}
