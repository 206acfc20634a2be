/*
 * Steps: what a plan is made of. Each step is one file (step-*.c)
 * exporting a const struct step_def, listed in step_table (step.c).
 *
 * start() either finishes at once (STEP_DONE, or STEP_FAIL after setting
 * the node's outcome with node_set_outcome) or starts async work and
 * returns STEP_WAIT; a driver callback then calls step_done() exactly
 * once. The run arms the node's deadline while a step waits; when it
 * passes (or the run is cancelled) the run calls cancel(), which stops
 * the async work and returns STEP_DONE, or STEP_WAIT if cleanup goes on:
 * then step_done() ends it (its outcome is ignored, the node keeps the
 * cancel's). clear() releases n->step_data whatever happened, exactly
 * once per start() (so also after STEP_DONE or STEP_FAIL, possibly with
 * step_data NULL); after it no callback may reach the node.
 *
 * A failing step ends its node's plan, and so does a cancel; but a step
 * instance flagged STEP_AFTER_FAIL or STEP_AFTER_STOP still runs then
 * (the reset that ends a load, whether frisbee worked or not; clearing a
 * nextboot link when the run is interrupted). Such "finishing" steps are
 * bounded by their own timeout alone (which they must have), are not
 * cancelled by a later stop, and do not change the node's outcome: the
 * first failure, or the stop, stands; a finishing step's own failure is
 * reported as a message.
 */
#ifndef ENGINE_STEP_H
#define ENGINE_STEP_H

#include <stdint.h>

#include "common/compat.h"
#include "engine/node.h"

struct run;

enum step_result {
	STEP_DONE,
	STEP_FAIL,
	STEP_WAIT,
};

struct step_ctx {
	struct run *run;
	const void *arg;     /* the step instance's configuration */
	uint64_t timeout_ms; /* its own deadline, 0 = run's only */
};

struct step_def {
	const char *name;
	enum step_result (*start)(struct node *, const struct step_ctx *);
	/* Required when start can return STEP_WAIT. */
	enum step_result (*cancel)(struct node *);
	/* NULL when the step keeps no step_data. */
	void (*clear)(struct node *);
	/* 0: bounded by the run's timeout only. */
	uint64_t default_timeout_ms;
	/* The outcome when its deadline passes; NONE means TIMEOUT. */
	enum node_outcome timeout_outcome;
	/*
	 * Optional, called when the deadline passes, before cancel(): what
	 * the step was still waiting for ("last try: connection refused"),
	 * added to the node's why, valid until clear(); it may change
	 * *outcome (an ssh wait that only met refused keys).
	 */
	const char *(*expired)(struct node *, enum node_outcome *outcome);
};

#define STEP_AFTER_FAIL 0x1 /* also after an earlier step failed */
#define STEP_AFTER_STOP 0x2 /* also after a cancel or a timeout */

/* One step of a plan: what to run and with which configuration. */
struct step_inst {
	const struct step_def *def;
	const void *arg;     /* borrowed, step-specific */
	uint64_t timeout_ms; /* 0: def->default_timeout_ms */
	unsigned when;       /* STEP_AFTER_*: run it in those cases too */
};

/*
 * The waiting step of n is over: NODE_OUT_OK moves on to the next step,
 * anything else ends the node with that outcome (why may be NULL).
 * Never from inside start() or cancel().
 */
void step_done(struct node *, enum node_outcome, const char *why, ...)
    printflike(3, 4);

/* Every step, NULL-terminated; and lookup by name (NULL if none). */
extern const struct step_def *const step_table[];
const struct step_def *step_find(const char *name);

#endif
