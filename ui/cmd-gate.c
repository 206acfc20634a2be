/*
 * cmd_gate (see cmd-gate.h): gather the login, the [accounts] keys and
 * the node names, run the engine's gate check on the loop until it
 * answers, then print, audit and return the exit code.
 */
#include <sys/time.h>

#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/audit.h"
#include "engine/gate.h"
#include "engine/loop.h"
#include "inventory/config.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
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
cmd_gate_audit(struct cmd_ctx *ctx, const char *action,
    const struct nodeset *set, uint64_t start_wall_ms, uint64_t duration_ms)
{
	struct audit_record rec;
	struct audit_result res;
	const char *dir;
	char *sel, *err = NULL;

	sel = nodeset_fold(set);
	res.outcome = "denied";
	res.nodes = sel;
	memset(&rec, 0, sizeof rec);
	rec.action = action;
	rec.nodes = sel;
	rec.results = &res;
	rec.nresults = 1;
	rec.start_wall_ms = start_wall_ms;
	rec.duration_ms = duration_ms;
	if ((dir = cmd_state_dir(ctx)) == NULL)
		cmd_warn(ctx,
		    "audit log not written: no usable state "
		    "directory");
	else if (audit_write(dir, &rec, &err) != 0) {
		cmd_warn(ctx, "audit log not written: %s", err);
		free(err);
	}
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
	struct timeval tv;
	const char **names;
	char login[64];
	uint64_t t0, start_wall_ms;
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

	gettimeofday(&tv, NULL);
	start_wall_ms =
	    (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	t0 = loop_now_ms();
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
	cmd_gate_audit(ctx, action, set, start_wall_ms, loop_now_ms() - t0);
	return (EXIT_FAILED);
}
