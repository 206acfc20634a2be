/*
 * Audit lines of runs (see cmd-audit.h).
 */
#include <sys/time.h>

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/audit.h"
#include "engine/loop.h"
#include "engine/node.h"
#include "engine/run.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd-audit.h"
#include "ui/cmd.h"

void
cmd_audit_start(struct cmd_audit *a)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	a->start_wall_ms =
	    (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	a->start_mono_ms = loop_now_ms();
}

void
cmd_audit_write(struct cmd_ctx *ctx, const struct cmd_audit *a,
    const char *action, const struct nodeset *set,
    const struct audit_result *results, size_t nresults,
    const char *const *backends, size_t nbackends)
{
	struct audit_record rec;
	const char *dir;
	char *sel, *err = NULL;

	sel = nodeset_fold(set);
	memset(&rec, 0, sizeof rec);
	rec.action = action;
	rec.backends = backends;
	rec.nbackends = nbackends;
	rec.nodes = sel;
	rec.results = results;
	rec.nresults = nresults;
	rec.start_wall_ms = a->start_wall_ms;
	rec.duration_ms = loop_now_ms() - a->start_mono_ms;
	rec.interrupted = loop_interrupts() > 0;
	if ((dir = cmd_state_dir(ctx)) == NULL)
		cmd_warn(ctx,
		    "audit log not written: no usable state directory");
	else if (audit_write(dir, &rec, &err) != 0) {
		cmd_warn(ctx, "audit log not written: %s", err);
		free(err);
	}
	free(sel);
}

void
cmd_audit_run(struct cmd_ctx *ctx, const struct cmd_audit *a,
    const char *action, const struct run *run, const struct nodeset *set,
    const char *const *backends, size_t nbackends)
{
	struct audit_result *results;
	const char **names;
	size_t i, j, k, nres = 0, count = run_count(run);
	char **folded;

	names = xcalloc(count + 1, sizeof *names);
	folded = xcalloc(NODE_OUT__COUNT, sizeof *folded);
	results = xcalloc(NODE_OUT__COUNT, sizeof *results);
	/* One entry per outcome that happened, in the outcome table order. */
	for (k = 0; k < NODE_OUT__COUNT; k++) {
		for (i = 0, j = 0; i < count; i++) {
			if ((size_t)run_node(run, i)->outcome == k)
				names[j++] = run_node(run, i)->inv->name;
		}
		if (j == 0)
			continue;
		folded[k] = nodeset_fold_names(names, j);
		results[nres].outcome = node_outcome_name((enum node_outcome)k);
		results[nres].nodes = folded[k];
		nres++;
	}
	cmd_audit_write(ctx, a, action, set, results, nres, backends,
	    nbackends);
	for (k = 0; k < NODE_OUT__COUNT; k++)
		free(folded[k]);
	free(folded);
	free(results);
	free(names);
}
