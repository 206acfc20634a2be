/*
 * A run: a set of nodes, each going through a plan (an array of step
 * instances), at most `fanout` of them at once while the rest wait in a
 * queue. Every waiting step has a deadline on its node's timer: the
 * smaller of the step's timeout and the time left before the run's
 * timeout, after which every unfinished node ends "timeout" (its step
 * cancelled and cleaned up first, within RUN_CLEANUP_MS). The first
 * SIGINT/SIGTERM cancels the same way with outcome "cancelled".
 *
 * When the last node is done the run publishes run-end and calls its done
 * callback (default: loop_exit). Results stay readable until run_free.
 */
#ifndef ENGINE_RUN_H
#define ENGINE_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "common/compat.h"
#include "common/log.h"
#include "engine/node.h"

/* How long a cancelled step may take to clean up before it is dropped. */
#define RUN_CLEANUP_MS 5000

struct bus;
struct inv_node;
struct run;
struct step_inst;

struct run_params {
	const char *what;    /* names the run: "exec" */
	unsigned fanout;     /* nodes at once, >= 1 */
	uint64_t timeout_ms; /* whole run, > 0 */
	/* Called once when every node is done; NULL: loop_exit(). */
	void (*done)(struct run *, void *);
	void *done_arg;
	/* The command's own, for its steps: run_data(ctx->run). */
	void *data;
};

struct run *run_new(struct bus *, const struct run_params *);
/*
 * Free on the next loop turn (so from any callback, run-end's included).
 * A run still going is stopped first: steps cleared, children killed.
 */
void run_free(struct run *);

/*
 * Add a node with its plan, before run_start. The array is copied (once
 * per distinct plan, so nodes share it); the step arguments it points to
 * are borrowed and must stay valid until the run has finished.
 */
struct node *run_add(struct run *, const struct inv_node *,
    const struct step_inst *plan, size_t nsteps);
/* Publish run-start, arm the run timeout, start the first nodes. */
void run_start(struct run *);
/*
 * End every unfinished node with outcome (after its step's cleanup);
 * queued nodes end at once. Later calls change nothing.
 */
void run_cancel(struct run *, enum node_outcome, const char *why, ...)
    printflike(3, 4);
/*
 * End everything now, without waiting for cleanup (after loop_run was
 * broken by a second signal): steps are cleared, nodes end "cancelled",
 * run-end is published.
 */
void run_abort(struct run *);

/* A run-wide message: logged and published as run-info. */
void run_info(struct run *, enum log_level, const char *, ...) printflike(3, 4);

void *run_data(const struct run *);
int run_finished(const struct run *);
size_t run_count(const struct run *);
const struct node *run_node(const struct run *, size_t);
/* 0 if every node ended ok, 1 otherwise (ui/cmd.h EXIT_*). */
int run_exit_code(const struct run *);

/* For step.c: see step_done(). */
void run_step_done(struct node *, enum node_outcome, const char *why);

#endif
