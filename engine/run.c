/*
 * The plan runner. A node moves new -> queued -> running -> (stopping) ->
 * done; the run counts the active (running or stopping) nodes against the
 * fan-out and starts queued ones as slots free up.
 *
 * Callbacks re-enter here from anywhere (a step finishing synchronously,
 * a sink cancelling the run while an event is published), so:
 * - starting queued nodes happens in one loop (run_pump) guarded against
 *   recursion, which also notices when the last node is done;
 * - a stop that arrives while a step's start() or cancel() is running is
 *   recorded in the node and acted on when that function returns;
 * - the run itself is freed on the next loop turn.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/bus.h"
#include "engine/loop.h"
#include "engine/node.h"
#include "engine/run.h"
#include "engine/step.h"

/* A plan copied at run_add, so teardown never reads the caller's. */
struct run_plan {
	struct step_inst *copy;
	size_t nsteps;
};

struct run {
	struct bus *bus;
	char *what;
	unsigned fanout;
	uint64_t timeout_ms;
	void (*done_cb)(struct run *, void *);
	void *done_arg;
	void *data;

	struct node **nodes;
	const char **names;
	struct run_plan *plans; /* copies, see run_add */
	size_t nplans;
	size_t nnodes;
	TAILQ_HEAD(, node) queue; /* waiting for a slot */
	unsigned active;          /* running or stopping */
	size_t ndone;

	struct event *timer;  /* the run's timeout */
	uint64_t deadline_ms; /* monotonic */

	int started;
	int stopping; /* start nothing new */
	int finished;
	int freed;
	int pumping; /* depth: no pump (nor end) inside */
	int interrupted;
	int has_interrupt; /* loop_set_interrupt is us */
};

static void run_pump(struct run *);
static void run_node_start(struct run *, struct node *);
static void run_node_advance(struct run *, struct node *);
static void run_node_stop(struct run *, struct node *, enum node_outcome,
    const char *);
static void run_node_cancel_step(struct run *, struct node *);
static void run_node_after_cancel(struct run *, struct node *);
static void run_node_end(struct run *, struct node *);
static void run_step_clear(struct node *);
static void run_deadline_cb(int, short, void *);
static void run_timeout(struct run *);
static void run_timeout_cb(evutil_socket_t, short, void *);
static void run_interrupt_cb(int, void *);
static void run_finish(struct run *);
static void run_destroy(void *);

/* "200ms", "60s", "1.5s". */
static const char *
run_fmt_ms(uint64_t ms, char *buf, size_t size)
{
	if (ms < 1000)
		snprintf(buf, size, "%llums", (unsigned long long)ms);
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, size, "%.1fs", (double)ms / 1000);
	return (buf);
}

static const char *
run_step_name(const struct node *n)
{
	return (n->step < n->nsteps ? n->plan[n->step].def->name : "none");
}

struct run *
run_new(struct bus *bus, const struct run_params *params)
{
	struct run *r;

	/* Every wait has a deadline: a run without one is a bug. */
	assert(params->fanout >= 1);
	assert(params->timeout_ms > 0);

	r = xcalloc(1, sizeof *r);
	r->bus = bus;
	r->what = xstrdup(params->what != NULL ? params->what : "run");
	r->fanout = params->fanout;
	r->timeout_ms = params->timeout_ms;
	r->done_cb = params->done;
	r->done_arg = params->done_arg;
	r->data = params->data;
	TAILQ_INIT(&r->queue);
	if ((r->timer = evtimer_new(loop_base(), run_timeout_cb, r)) == NULL) {
		log_error("%s: evtimer_new failed", __func__);
		abort();
	}
	return (r);
}

/* Whether plan is the same as p (so its copy can be shared). */
static int
run_plan_same(const struct run_plan *p, const struct step_inst *plan,
    size_t nsteps)
{
	size_t i;

	if (p->nsteps != nsteps)
		return (0);
	for (i = 0; i < nsteps; i++) {
		if (p->copy[i].def != plan[i].def ||
		    p->copy[i].arg != plan[i].arg ||
		    p->copy[i].timeout_ms != plan[i].timeout_ms ||
		    p->copy[i].when != plan[i].when)
			return (0);
	}
	return (1);
}

struct node *
run_add(struct run *r, const struct inv_node *inv, const struct step_inst *plan,
    size_t nsteps)
{
	struct node *n;
	struct run_plan *p = NULL;
	size_t i;

	assert(!r->started);
	for (i = 0; i < nsteps; i++) {
		/* A finishing step has no run deadline to fall back on. */
		assert(plan[i].when == 0 || plan[i].timeout_ms != 0 ||
		    plan[i].def->default_timeout_ms != 0);
	}
	/* Nodes usually share one plan: compare with the latest copy. */
	if (r->nplans > 0 &&
	    run_plan_same(&r->plans[r->nplans - 1], plan, nsteps))
		p = &r->plans[r->nplans - 1];
	else {
		r->plans =
		    xreallocarray(r->plans, r->nplans + 1, sizeof *r->plans);
		p = &r->plans[r->nplans++];
		p->nsteps = nsteps;
		p->copy = xcalloc(nsteps + 1, sizeof *p->copy);
		if (nsteps > 0)
			memcpy(p->copy, plan, nsteps * sizeof *plan);
	}
	n = node_new(r, r->bus, inv, run_deadline_cb);
	n->plan = p->copy;
	n->nsteps = nsteps;
	r->nodes = xreallocarray(r->nodes, r->nnodes + 1, sizeof *r->nodes);
	r->nodes[r->nnodes++] = n;
	return (n);
}

void
run_start(struct run *r)
{
	struct bus_event ev;
	struct timeval tv;
	size_t i;
	char buf[32];

	assert(!r->started);
	r->started = 1;
	r->deadline_ms = loop_now_ms() + r->timeout_ms;
	loop_ms_to_timeval(r->timeout_ms, &tv);
	evtimer_add(r->timer, &tv);
	loop_set_interrupt(run_interrupt_cb, r);
	r->has_interrupt = 1;

	r->names = xcalloc(r->nnodes + 1, sizeof *r->names);
	for (i = 0; i < r->nnodes; i++)
		r->names[i] = node_name(r->nodes[i]);
	log_info("%s: start: %zu nodes, fanout %u, timeout %s", r->what,
	    r->nnodes, r->fanout, run_fmt_ms(r->timeout_ms, buf, sizeof buf));
	memset(&ev, 0, sizeof ev);
	ev.type = BUS_RUN_START;
	ev.run_start.what = r->what;
	ev.run_start.nodes = r->names;
	ev.run_start.nnodes = r->nnodes;
	bus_publish(r->bus, &ev);

	/* All queued first, so that fan-out order is inventory order. */
	r->pumping++;
	for (i = 0; i < r->nnodes; i++) {
		node_set_state(r->nodes[i], NODE_QUEUED, NULL);
		TAILQ_INSERT_TAIL(&r->queue, r->nodes[i], queue_entry);
	}
	r->pumping--;
	run_pump(r);
}

/*
 * Start queued nodes while there is room, then see whether the run is
 * over. Re-entered from inside (a node ending, a sink cancelling), it
 * returns at once and the outermost call does the work: the stack does
 * not grow with the number of nodes, and run-end always comes after the
 * last node's node-state.
 */
static void
run_pump(struct run *r)
{
	struct node *n;

	if (r->pumping > 0)
		return;
	r->pumping++;
	while (!r->stopping && r->active < r->fanout &&
	    (n = TAILQ_FIRST(&r->queue)) != NULL) {
		/* A slot freed at the deadline: time is up for the queue. */
		if (loop_now_ms() >= r->deadline_ms) {
			r->pumping--;
			run_timeout(r);
			return;
		}
		TAILQ_REMOVE(&r->queue, n, queue_entry);
		run_node_start(r, n);
	}
	r->pumping--;
	if (r->started && !r->finished && r->ndone == r->nnodes)
		run_finish(r);
}

static void
run_node_start(struct run *r, struct node *n)
{
	r->active++;
	n->started_ms = loop_now_ms();
	n->step = 0;
	node_set_state(n, NODE_RUNNING, NULL);
	run_node_advance(r, n);
}

/* Arm n's deadline: the step's timeout or what is left of the run's. */
static void
run_arm_deadline(struct run *r, struct node *n, uint64_t step_ms)
{
	uint64_t now = loop_now_ms(), left;

	left = r->deadline_ms > now ? r->deadline_ms - now : 0;
	n->deadline_run = step_ms == 0 || step_ms >= left;
	node_arm_deadline(n, n->deadline_run ? left : step_ms);
}

/* The step's own timeout, or its definition's; 0 for none. */
static uint64_t
run_step_timeout(const struct step_inst *inst)
{
	return (inst->timeout_ms != 0 ? inst->timeout_ms
				      : inst->def->default_timeout_ms);
}

/*
 * Only steps flagged for why (STEP_AFTER_FAIL or _STOP) run from now on;
 * the outcome so far is kept to be restored at the end.
 */
static void
run_node_finish(struct node *n, unsigned why)
{
	size_t i;

	assert(n->finishing == 0);
	n->finishing = why;
	if (why == STEP_AFTER_STOP) {
		n->first_outcome = n->stop_outcome;
		n->first_why = xstrdup(n->stop_why);
	} else {
		n->first_outcome = n->outcome;
		n->first_why = n->why != NULL ? xstrdup(n->why) : NULL;
	}
	if (n->state != NODE_RUNNING || why != STEP_AFTER_STOP)
		return;
	for (i = n->step; i < n->nsteps; i++) {
		if (n->plan[i].when & why) {
			node_set_state(n, NODE_STOPPING, "%s", n->stop_why);
			return;
		}
	}
}

/*
 * The current step of n ended with outcome (not ok): the node fails,
 * unless it is finishing already, when the first failure stands.
 */
static void
run_node_failed(struct node *n, const struct step_def *def,
    enum node_outcome outcome, const char *why)
{
	if (n->finishing == 0) {
		if (outcome != NODE_OUT_NONE)
			node_set_outcome(n, outcome, "%s",
			    why != NULL ? why : node_outcome_name(outcome));
		else if (n->outcome == NODE_OUT_NONE ||
		    n->outcome == NODE_OUT_OK)
			node_set_outcome(n, NODE_OUT_FAILED, "step %s failed",
			    def->name);
		run_node_finish(n, STEP_AFTER_FAIL);
		return;
	}
	if (outcome == NODE_OUT_NONE)
		outcome = n->outcome;
	node_message(n, LOG_LEVEL_WARN, "%s failed too: %s%s%s", def->name,
	    node_outcome_name(outcome), why != NULL ? ": " : "",
	    why != NULL ? why : "");
}

/* Run steps from n->step until one waits or the plan ends. */
static void
run_node_advance(struct run *r, struct node *n)
{
	const struct step_inst *inst;
	struct step_ctx ctx;
	enum step_result res;

	while (n->step < n->nsteps) {
		inst = &n->plan[n->step];
		if (n->finishing == 0 && n->stop_outcome != NODE_OUT_NONE) {
			/* Stopped between two steps. */
			run_node_finish(n, STEP_AFTER_STOP);
			continue;
		}
		if (n->finishing != 0 && (inst->when & n->finishing) == 0) {
			n->step++;
			continue;
		}
		node_step(n, n->finishing != 0);

		memset(&ctx, 0, sizeof ctx);
		ctx.run = r;
		ctx.arg = inst->arg;
		ctx.timeout_ms = run_step_timeout(inst);
		n->step_live = 1;
		n->in_step = 1;
		res = inst->def->start(n, &ctx);
		n->in_step = 0;

		if (res == STEP_WAIT) {
			assert(inst->def->cancel != NULL);
			if (n->finishing != 0) {
				/* Its own time only: the run's may be over. */
				n->deadline_run = 0;
				node_arm_deadline(n, ctx.timeout_ms);
			} else if (n->stop_outcome != NODE_OUT_NONE)
				run_node_cancel_step(r, n);
			else
				run_arm_deadline(r, n, ctx.timeout_ms);
			return;
		}
		run_step_clear(n);
		if (res == STEP_FAIL)
			run_node_failed(n, inst->def, NODE_OUT_NONE, NULL);
		n->step++;
	}
	run_node_end(r, n);
}

/*
 * Ask n to end with outcome. Queued: at once. Running: cancel its step
 * (now, or when its start/cancel returns if we are inside one), then run
 * its STEP_AFTER_STOP steps. A finishing node goes on: the first failure
 * or stop stands.
 */
static void
run_node_stop(struct run *r, struct node *n, enum node_outcome outcome,
    const char *why)
{
	switch (n->state) {
	case NODE_QUEUED:
		TAILQ_REMOVE(&r->queue, n, queue_entry);
		node_set_outcome(n, outcome, "%s", why);
		run_node_end(r, n);
		return;
	case NODE_RUNNING:
		if (n->stop_outcome != NODE_OUT_NONE || n->finishing != 0)
			return;
		n->stop_outcome = outcome;
		n->stop_why = xstrdup(why);
		/* Else run_node_advance or the caller acts on it. */
		if (!n->in_step && n->step_live && !n->cancelling)
			run_node_cancel_step(r, n);
		return;
	default:
		/* Stopping or done: the first outcome stands. */
		return;
	}
}

/* Cancel n's waiting step; wait (bounded) if its cleanup is async. */
static void
run_node_cancel_step(struct run *r, struct node *n)
{
	const struct step_def *def = n->plan[n->step].def;
	enum step_result res = STEP_DONE;

	node_clear_deadline(n);
	if (def->cancel != NULL) {
		n->in_step = 1;
		res = def->cancel(n);
		n->in_step = 0;
	}
	if (res == STEP_WAIT) {
		n->cancelling = 1;
		if (n->state == NODE_RUNNING &&
		    n->stop_outcome != NODE_OUT_NONE)
			node_set_state(n, NODE_STOPPING, "%s", n->stop_why);
		n->deadline_run = 0;
		node_arm_deadline(n, RUN_CLEANUP_MS);
		return;
	}
	run_step_clear(n);
	run_node_after_cancel(r, n);
}

/* n's current step was cancelled and is cleared: go on with the plan. */
static void
run_node_after_cancel(struct run *r, struct node *n)
{
	n->cancelling = 0;
	if (n->finishing == 0) {
		assert(n->stop_outcome != NODE_OUT_NONE);
		run_node_finish(n, STEP_AFTER_STOP);
	}
	n->step++;
	run_node_advance(r, n);
}

/* Release the current step's data, once. */
static void
run_step_clear(struct node *n)
{
	const struct step_def *def;

	if (!n->step_live)
		return;
	def = n->plan[n->step].def;
	if (def->clear != NULL)
		def->clear(n);
	n->step_data = NULL;
	n->step_live = 0;
}

/* n is over: fix its outcome, count it, publish. */
static void
run_node_end(struct run *r, struct node *n)
{
	int was_active;

	assert(!n->step_live);
	node_clear_deadline(n);
	if (n->finishing != 0)
		node_set_outcome(n, n->first_outcome,
		    n->first_why != NULL ? "%s" : NULL, n->first_why);
	else if (n->stop_outcome != NODE_OUT_NONE)
		node_set_outcome(n, n->stop_outcome, "%s", n->stop_why);
	was_active = n->state == NODE_RUNNING || n->state == NODE_STOPPING;
	n->ended_ms = loop_now_ms();
	if (was_active)
		r->active--;
	r->ndone++;
	/* Counted first; the caller's run_pump ends the run if need be. */
	r->pumping++;
	if (n->why != NULL)
		node_set_state(n, NODE_DONE, "%s", n->why);
	else
		node_set_state(n, NODE_DONE, NULL);
	r->pumping--;
}

void
run_step_done(struct node *n, enum node_outcome outcome, const char *why)
{
	struct run *r = n->run;

	assert(NODE_OUTCOME_VALID(outcome) && outcome != NODE_OUT_NONE);
	assert(!n->in_step); /* not from inside start() or cancel() */
	assert(n->step_live);
	assert(n->state == NODE_RUNNING || n->state == NODE_STOPPING);
	node_clear_deadline(n);
	run_step_clear(n);

	if (n->cancelling) {
		log_debug("%s: step %s cleaned up (%s%s%s)", node_name(n),
		    run_step_name(n), node_outcome_name(outcome),
		    why != NULL ? ": " : "", why != NULL ? why : "");
		run_node_after_cancel(r, n);
	} else {
		if (outcome != NODE_OUT_OK)
			run_node_failed(n, n->plan[n->step].def, outcome, why);
		n->step++;
		run_node_advance(r, n);
	}
	run_pump(r);
}

/* The node's timer: its step's deadline, or the end of its cleanup. */
static void
run_deadline_cb(int fd, short what, void *arg)
{
	struct node *n = arg;
	struct run *r = n->run;
	const struct step_def *def;
	enum node_outcome outcome;
	const char *detail;
	char *why, buf[32];

	assert(n->step_live);
	def = n->plan[n->step].def;
	if (n->cancelling) {
		node_message(n, LOG_LEVEL_WARN,
		    "step %s: cleanup not done after %s; abandoned", def->name,
		    run_fmt_ms(RUN_CLEANUP_MS, buf, sizeof buf));
		run_step_clear(n);
		run_node_after_cancel(r, n);
		run_pump(r);
		return;
	}
	if (n->deadline_run) {
		/* The run's time is up, whichever timer saw it first. */
		run_timeout(r);
		return;
	}
	outcome = def->timeout_outcome != NODE_OUT_NONE ? def->timeout_outcome
							: NODE_OUT_TIMEOUT;
	detail = def->expired != NULL ? def->expired(n, &outcome) : NULL;
	xasprintf(&why, "step %s: no result after %s%s%s", def->name,
	    run_fmt_ms(run_step_timeout(&n->plan[n->step]), buf, sizeof buf),
	    detail != NULL ? "; " : "", detail != NULL ? detail : "");
	/* A step's own deadline is its failure: STEP_AFTER_FAIL steps run. */
	run_node_failed(n, def, outcome, why);
	run_node_cancel_step(r, n);
	free(why);
	run_pump(r);
}

/* The run's own timeout: every unfinished node ends "timeout". */
static void
run_timeout(struct run *r)
{
	char buf[32];

	if (r->stopping)
		return;
	run_fmt_ms(r->timeout_ms, buf, sizeof buf);
	run_info(r, LOG_LEVEL_WARN, "timeout after %s: stopping %zu nodes", buf,
	    r->nnodes - r->ndone);
	run_cancel(r, NODE_OUT_TIMEOUT, "run timeout after %s", buf);
}

static void
run_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	run_timeout(arg);
}

/* First SIGINT or SIGTERM: cancel cleanly; a second one quits (loop.c). */
static void
run_interrupt_cb(int sig, void *arg)
{
	struct run *r = arg;
	const char *name = sigabbrev_np(sig);

	r->interrupted = 1;
	run_info(r, LOG_LEVEL_WARN,
	    "SIG%s: cancelling %zu nodes (again to quit at once)",
	    name != NULL ? name : "?", r->nnodes - r->ndone);
	run_cancel(r, NODE_OUT_CANCELLED, "interrupted by SIG%s",
	    name != NULL ? name : "?");
}

void
run_cancel(struct run *r, enum node_outcome outcome, const char *fmt, ...)
{
	va_list ap;
	char *why;
	size_t i;

	if (!r->started || r->finished || r->stopping)
		return;
	r->stopping = 1;
	va_start(ap, fmt);
	xvasprintf(&why, fmt, ap);
	va_end(ap);

	r->pumping++;
	for (i = 0; i < r->nnodes; i++)
		run_node_stop(r, r->nodes[i], outcome, why);
	r->pumping--;
	free(why);
	run_pump(r);
}

void
run_abort(struct run *r)
{
	struct node *n;
	size_t i;

	if (!r->started || r->finished)
		return;
	run_info(r, LOG_LEVEL_WARN, "quitting: %zu nodes abandoned",
	    r->nnodes - r->ndone);
	r->stopping = 1;
	r->interrupted = 1;
	r->pumping++;
	for (i = 0; i < r->nnodes; i++) {
		n = r->nodes[i];
		assert(!n->in_step);
		if (n->state == NODE_DONE)
			continue;
		if (n->state == NODE_QUEUED)
			TAILQ_REMOVE(&r->queue, n, queue_entry);
		if (n->stop_outcome == NODE_OUT_NONE) {
			n->stop_outcome = NODE_OUT_CANCELLED;
			n->stop_why = xstrdup("abandoned");
		}
		node_clear_deadline(n);
		run_step_clear(n);
		n->cancelling = 0;
		run_node_end(r, n);
	}
	r->pumping--;
	run_pump(r);
}

static void
run_finish(struct run *r)
{
	struct bus_event ev;
	enum node_outcome *outcomes;
	const char **whys;
	size_t i, nok = 0;

	r->finished = 1;
	evtimer_del(r->timer);
	if (r->has_interrupt) {
		loop_clear_interrupt(run_interrupt_cb, r);
		r->has_interrupt = 0;
	}
	outcomes = xcalloc(r->nnodes + 1, sizeof *outcomes);
	whys = xcalloc(r->nnodes + 1, sizeof *whys);
	for (i = 0; i < r->nnodes; i++) {
		outcomes[i] = r->nodes[i]->outcome;
		whys[i] = r->nodes[i]->why;
		if (outcomes[i] == NODE_OUT_OK)
			nok++;
	}
	log_info("%s: end: %zu nodes, %zu ok", r->what, r->nnodes, nok);

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_RUN_END;
	ev.run_end.what = r->what;
	ev.run_end.nodes = r->names;
	ev.run_end.outcomes = outcomes;
	ev.run_end.whys = whys;
	ev.run_end.nnodes = r->nnodes;
	ev.run_end.interrupted = r->interrupted;
	bus_publish(r->bus, &ev);
	free(outcomes);
	free(whys);

	/* r may be freed by now, but only on the next loop turn. */
	if (r->done_cb != NULL)
		r->done_cb(r, r->done_arg);
	else
		loop_exit();
}

void
run_info(struct run *r, enum log_level level, const char *fmt, ...)
{
	struct bus_event ev;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	log_write(level, "%s: %s", r->what, text);
	memset(&ev, 0, sizeof ev);
	ev.type = BUS_RUN_INFO;
	ev.run_info.level = level;
	ev.run_info.text = text;
	bus_publish(r->bus, &ev);
	free(text);
}

void *
run_data(const struct run *r)
{
	return (r->data);
}

int
run_finished(const struct run *r)
{
	return (r->finished);
}

size_t
run_count(const struct run *r)
{
	return (r->nnodes);
}

const struct node *
run_node(const struct run *r, size_t i)
{
	assert(i < r->nnodes);
	return (r->nodes[i]);
}

int
run_exit_code(const struct run *r)
{
	size_t i;

	if (!r->finished)
		return (1);
	for (i = 0; i < r->nnodes; i++) {
		if (r->nodes[i]->outcome != NODE_OUT_OK)
			return (1);
	}
	return (0);
}

void
run_free(struct run *r)
{
	if (r == NULL || r->freed)
		return;
	r->freed = 1;
	r->stopping = 1;
	loop_defer(run_destroy, r);
}

/* The deferred half of run_free: nothing of r is on the stack now. */
static void
run_destroy(void *arg)
{
	struct run *r = arg;
	struct node *n;
	size_t i;

	for (i = 0; i < r->nnodes; i++) {
		n = r->nodes[i];
		node_clear_deadline(n);
		run_step_clear(n);
		node_free(n);
	}
	if (r->has_interrupt)
		loop_clear_interrupt(run_interrupt_cb, r);
	event_free(r->timer);
	for (i = 0; i < r->nplans; i++)
		free(r->plans[i].copy);
	free(r->plans);
	free(r->nodes);
	free(r->names);
	free(r->what);
	free(r);
}
