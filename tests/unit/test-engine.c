/*
 * Engine core: the bus (unsubscribe and subscribe during dispatch), the
 * loop (deferred calls, signals), and the run (fan-out, per-step and
 * run-wide deadlines, cancel, deferred free). Steps here are the delay
 * step and small test steps; child processes are in test-engine-exec.c.
 *
 * Every test that runs the loop arms a guard timer that stops it and
 * fails the test, so none can hang.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "engine/bus.h"
#include "engine/loop.h"
#include "engine/node.h"
#include "engine/run.h"
#include "engine/step-delay.h"
#include "engine/step.h"
#include "inventory/inventory.h"
#include "tests/unit/guard.h"

#define GUARD_MS 10000
#define NNODES   6

/* What a test saw on the bus. */
struct rec {
	size_t nevents;
	size_t count[BUS_EVENT__COUNT];
	unsigned active; /* running or stopping now */
	unsigned max_active;
	size_t ever_running[NNODES];
	char order[NNODES * 8]; /* node digits, as started */
	int ended;
	int late; /* node events after run-end */
	int end_interrupted;
	uint64_t end_ms;
};

struct fixture {
	struct bus *bus;
	struct rec rec;
	struct guard guard;
	struct inv_node inv[NNODES];
	char names[NNODES][16];
	uint64_t t0;
};

static struct fixture *F;

static int
node_index(const char *name)
{
	return (atoi(name + 3) - 1);
}

static void
rec_cb(const struct bus_event *ev, void *arg)
{
	struct rec *rec = arg;
	char digit[2];

	rec->nevents++;
	rec->count[ev->type]++;
	if (rec->ended && ev->type != BUS_RUN_END)
		rec->late++;
	switch (ev->type) {
	case BUS_NODE_STATE:
		if (ev->node_state.new == NODE_RUNNING) {
			rec->active++;
			rec->ever_running[node_index(ev->node)]++;
			digit[0] = ev->node[4];
			digit[1] = '\0';
			strlcat(rec->order, digit, sizeof rec->order);
		}
		if (ev->node_state.new == NODE_DONE &&
		    (ev->node_state.old == NODE_RUNNING ||
			ev->node_state.old == NODE_STOPPING))
			rec->active--;
		if (rec->active > rec->max_active)
			rec->max_active = rec->active;
		break;
	case BUS_RUN_END:
		rec->ended = 1;
		rec->end_interrupted = ev->run_end.interrupted;
		rec->end_ms = loop_now_ms();
		break;
	default:
		break;
	}
}

static int
setup(void **state)
{
	char *err = NULL;
	int i;

	F = calloc(1, sizeof *F);
	assert_int_equal(loop_init(&err), 0);
	F->bus = bus_new();
	bus_subscribe(F->bus, rec_cb, &F->rec);
	guard_init(&F->guard, loop_base());
	guard_arm(&F->guard, GUARD_MS);
	for (i = 0; i < NNODES; i++) {
		snprintf(F->names[i], sizeof F->names[i], "fit%02d", i + 1);
		F->inv[i].name = F->names[i];
		F->inv[i].number = i + 1;
	}
	F->t0 = loop_now_ms();
	*state = F;
	return (0);
}

static int
teardown(void **state)
{
	guard_free(&F->guard);
	loop_free();
	bus_free(F->bus);
	free(F);
	F = NULL;
	return (0);
}

/* A step that waits for ever; only its deadline or a cancel ends it. */
static enum step_result
never_start(struct node *n, const struct step_ctx *ctx)
{
	return (STEP_WAIT);
}

static int never_cancels;

static enum step_result
never_cancel(struct node *n)
{
	never_cancels++;
	return (STEP_DONE);
}

static const struct step_def never_def = {
    .name = "never",
    .start = never_start,
    .cancel = never_cancel,
};

/* Like never, but its cleanup never finishes either. */
static enum step_result
stubborn_cancel(struct node *n)
{
	return (STEP_WAIT);
}

static const struct step_def stubborn_def = {
    .name = "stubborn",
    .start = never_start,
    .cancel = stubborn_cancel,
};

static struct run *
new_run(unsigned fanout, uint64_t timeout_ms)
{
	struct run_params p;

	memset(&p, 0, sizeof p);
	p.what = "test";
	p.fanout = fanout;
	p.timeout_ms = timeout_ms;
	return (run_new(F->bus, &p));
}

/* Run until the run ends; asserts the guard did not fire. */
static void
run_to_end(struct run *run)
{
	run_start(run);
	if (!run_finished(run))
		loop_run();
	assert_false(F->guard.fired);
	assert_true(run_finished(run));
	assert_int_equal(F->rec.late, 0);
}

/* --- bus ------------------------------------------------------------ */

struct sink_state {
	struct bus *bus;
	struct bus_sink *self;
	struct bus_sink *other;   /* to unsubscribe, or subscribed */
	struct sink_state *child; /* state of the sink subscribed */
	int calls;
	int action;
};

enum { ACT_NONE, ACT_UNSUB_SELF, ACT_UNSUB_OTHER, ACT_SUBSCRIBE };

static void
sink_cb(const struct bus_event *ev, void *arg)
{
	struct sink_state *s = arg;

	s->calls++;
	switch (s->action) {
	case ACT_UNSUB_SELF:
		bus_unsubscribe(s->self);
		s->action = ACT_NONE;
		break;
	case ACT_UNSUB_OTHER:
		bus_unsubscribe(s->other);
		s->action = ACT_NONE;
		break;
	case ACT_SUBSCRIBE:
		s->other = bus_subscribe(s->bus, sink_cb, s->child);
		s->action = ACT_NONE;
		break;
	}
}

static void
publish_info(struct bus *bus)
{
	struct bus_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_RUN_INFO;
	ev.run_info.text = "x";
	bus_publish(bus, &ev);
}

static void
test_bus_unsubscribe_self(void **state)
{
	struct bus *bus = bus_new();
	struct sink_state a = {0}, b = {0};

	a.self = bus_subscribe(bus, sink_cb, &a);
	b.self = bus_subscribe(bus, sink_cb, &b);
	a.action = ACT_UNSUB_SELF;
	publish_info(bus);
	publish_info(bus);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 2);
	bus_free(bus);
}

static void
test_bus_unsubscribe_other(void **state)
{
	struct bus *bus = bus_new();
	struct sink_state a = {0}, b = {0};

	a.self = bus_subscribe(bus, sink_cb, &a);
	b.self = bus_subscribe(bus, sink_cb, &b);
	a.other = b.self;
	a.action = ACT_UNSUB_OTHER;
	publish_info(bus);
	publish_info(bus);
	/* b was removed before the walk reached it. */
	assert_int_equal(a.calls, 2);
	assert_int_equal(b.calls, 0);
	bus_free(bus);
}

static void
test_bus_subscribe_during_dispatch(void **state)
{
	struct bus *bus = bus_new();
	struct sink_state a = {0}, c = {0};

	a.bus = bus;
	a.child = &c;
	a.action = ACT_SUBSCRIBE;
	a.self = bus_subscribe(bus, sink_cb, &a);
	publish_info(bus);
	assert_non_null(a.other);
	assert_int_equal(c.calls, 0); /* not the event in flight */
	publish_info(bus);
	assert_int_equal(a.calls, 2);
	assert_int_equal(c.calls, 1);
	bus_free(bus);
}

/* A sink publishing from its callback: nested events reach new sinks. */
static int nested_depth;

static void
nested_cb(const struct bus_event *ev, void *arg)
{
	struct bus *bus = arg;

	if (nested_depth++ == 0)
		publish_info(bus);
}

static void
test_bus_nested_publish(void **state)
{
	struct bus *bus = bus_new();
	struct sink_state b = {0};

	nested_depth = 0;
	bus_subscribe(bus, nested_cb, bus);
	b.self = bus_subscribe(bus, sink_cb, &b);
	publish_info(bus);
	assert_int_equal(nested_depth, 2);
	assert_int_equal(b.calls, 2);
	bus_free(bus);
}

/* --- loop ----------------------------------------------------------- */

static char defer_log[16];
static char defer_a[] = "a", defer_b[] = "b", defer_c[] = "c";
static char defer_d[] = "d", defer_e[] = "e";

static void
defer_append(void *arg)
{
	strlcat(defer_log, arg, sizeof defer_log);
	if (strcmp(arg, "b") == 0)
		loop_defer(defer_append, defer_d); /* next turn, after "c" */
}

static void
defer_exit(void *arg)
{
	loop_exit();
}

static void
test_loop_defer(void **state)
{
	char *err = NULL;

	defer_log[0] = '\0';
	loop_defer(defer_append, defer_a);
	loop_defer(defer_append, defer_b);
	loop_defer(defer_append, defer_c);
	assert_string_equal(defer_log, ""); /* never synchronously */
	loop_defer(defer_exit, NULL);
	loop_run();
	/* "d", deferred during the turn, waits for the next one. */
	assert_string_equal(defer_log, "abc");
	loop_defer(defer_append, defer_e);
	/* The loop going away still runs what is deferred, in order. */
	guard_free(&F->guard);
	loop_free();
	assert_string_equal(defer_log, "abcde");
	assert_int_equal(loop_init(&err), 0);
	guard_init(&F->guard, loop_base());
}

static void
test_loop_now_monotonic(void **state)
{
	uint64_t a, b;

	a = loop_now_ms();
	b = loop_now_ms();
	assert_true(b >= a);
	assert_true(a > 0);
}

/* --- run ------------------------------------------------------------ */

static void
test_run_fanout(void **state)
{
	struct step_delay_conf conf = {30};
	struct step_inst plan[] = {{&step_delay_def, &conf, 0, 0}};
	struct run *run;
	size_t i;

	run = new_run(2, 5000);
	for (i = 0; i < NNODES; i++)
		run_add(run, &F->inv[i], plan, 1);
	run_to_end(run);
	assert_int_equal(F->rec.max_active, 2);
	assert_string_equal(F->rec.order, "123456");
	for (i = 0; i < NNODES; i++) {
		assert_int_equal(run_node(run, i)->outcome, NODE_OUT_OK);
		assert_int_equal(F->rec.ever_running[i], 1);
	}
	assert_int_equal(run_exit_code(run), 0);
	/* Three waves of 30 ms. */
	assert_true(F->rec.end_ms - F->t0 >= 90);
	assert_int_equal(F->rec.count[BUS_RUN_START], 1);
	assert_int_equal(F->rec.count[BUS_RUN_END], 1);
	run_free(run);
}

/* A plan of several steps, and steps that finish synchronously. */
static void
test_run_plan_steps(void **state)
{
	struct step_delay_conf zero = {0}, some = {10};
	struct step_inst plan[] = {
	    {&step_delay_def, &zero, 0, 0},
	    {&step_delay_def, &some, 0, 0},
	    {&step_delay_def, &zero, 0, 0},
	    {&step_delay_def, &some, 0, 0},
	};
	struct run *run;
	size_t i;

	run = new_run(NNODES, 5000);
	for (i = 0; i < NNODES; i++)
		run_add(run, &F->inv[i], plan, nitems(plan));
	run_to_end(run);
	for (i = 0; i < NNODES; i++)
		assert_int_equal(run_node(run, i)->outcome, NODE_OUT_OK);
	assert_true(F->rec.end_ms - F->t0 >= 20);
	run_free(run);
}

/* An empty plan, or one done at once: the run ends inside run_start. */
static void
test_run_synchronous(void **state)
{
	struct step_delay_conf zero = {0};
	struct step_inst plan[] = {{&step_delay_def, &zero, 0, 0}};
	struct run *run;

	run = new_run(1, 5000);
	run_add(run, &F->inv[0], plan, 1);
	run_add(run, &F->inv[1], NULL, 0);
	run_start(run);
	assert_true(run_finished(run));
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	assert_int_equal(run_node(run, 1)->outcome, NODE_OUT_OK);
	assert_int_equal(run_exit_code(run), 0);
	run_free(run);
}

static void
test_run_step_deadline(void **state)
{
	struct step_delay_conf conf = {20};
	struct step_inst ok[] = {{&step_delay_def, &conf, 0, 0}};
	struct step_inst stuck[] = {{&never_def, NULL, 100, 0}};
	struct run *run;
	const struct node *n;

	never_cancels = 0;
	run = new_run(NNODES, 5000);
	run_add(run, &F->inv[0], ok, 1);
	run_add(run, &F->inv[1], stuck, 1);
	run_add(run, &F->inv[2], ok, 1);
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	assert_int_equal(run_node(run, 2)->outcome, NODE_OUT_OK);
	n = run_node(run, 1);
	assert_int_equal(n->outcome, NODE_OUT_TIMEOUT);
	assert_string_equal(n->why, "step never: no result after 100ms");
	assert_int_equal(never_cancels, 1);
	assert_true(n->ended_ms - n->started_ms >= 100);
	assert_true(F->rec.end_ms - F->t0 < 2000);
	assert_int_equal(run_exit_code(run), 1);
	run_free(run);
}

static void
test_run_global_timeout(void **state)
{
	struct step_inst stuck[] = {{&never_def, NULL, 0, 0}};
	struct step_inst later[] = {{&never_def, NULL, 60000, 0}};
	struct run *run;
	size_t i;

	never_cancels = 0;
	run = new_run(2, 150);
	run_add(run, &F->inv[0], stuck, 1);
	run_add(run, &F->inv[1], later, 1);
	run_add(run, &F->inv[2], stuck, 1); /* never gets a slot */
	run_to_end(run);
	for (i = 0; i < 3; i++) {
		assert_int_equal(run_node(run, i)->outcome, NODE_OUT_TIMEOUT);
		assert_string_equal(run_node(run, i)->why,
		    "run timeout after 150ms");
	}
	assert_int_equal(F->rec.ever_running[2], 0);
	assert_int_equal(never_cancels, 2);
	assert_true(F->rec.end_ms - F->t0 >= 150);
	assert_true(F->rec.end_ms - F->t0 < 2000);
	assert_int_equal(run_exit_code(run), 1);
	run_free(run);
}

/* A step timeout beyond the run's: the run's deadline wins. */
static void
test_run_deadline_bounded_by_run(void **state)
{
	struct step_inst stuck[] = {{&never_def, NULL, 60000, 0}};
	struct run *run;

	run = new_run(1, 100);
	run_add(run, &F->inv[0], stuck, 1);
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_TIMEOUT);
	assert_true(F->rec.end_ms - F->t0 < 2000);
	run_free(run);
}

/*
 * Finishing steps (STEP_AFTER_FAIL, STEP_AFTER_STOP): a "mark" step
 * counts its runs per node, and fails when its argument says so.
 */
static int marks[NNODES];

static enum step_result
mark_start(struct node *n, const struct step_ctx *ctx)
{
	marks[node_index(node_name(n))]++;
	if (ctx->arg != NULL) {
		node_set_outcome(n, NODE_OUT_CHILD_FAILED, "mark failed");
		return (STEP_FAIL);
	}
	return (STEP_DONE);
}

static const struct step_def mark_def = {
    .name = "mark",
    .start = mark_start,
    .default_timeout_ms = 1000,
};

static enum step_result
fail_start(struct node *n, const struct step_ctx *ctx)
{
	node_set_outcome(n, NODE_OUT_POWER_FAILED, "refused");
	return (STEP_FAIL);
}

static const struct step_def fail_def = {
    .name = "fail",
    .start = fail_start,
};

/* After a failure: only AFTER_FAIL steps, and the first failure stands. */
static void
test_run_after_fail(void **state)
{
	static const int yes = 1;
	struct step_inst plan[] = {
	    {&fail_def, NULL, 0, 0},
	    {&mark_def, NULL, 0, 0},               /* skipped */
	    {&mark_def, NULL, 0, STEP_AFTER_STOP}, /* skipped */
	    {&mark_def, &yes, 0, STEP_AFTER_FAIL}, /* runs, fails too */
	    {&mark_def, NULL, 0, STEP_AFTER_FAIL | STEP_AFTER_STOP},
	};
	struct step_inst fine[] = {
	    {&mark_def, NULL, 0, 0},
	    {&mark_def, NULL, 0, STEP_AFTER_FAIL}, /* runs in order too */
	};
	struct run *run;
	const struct node *n;

	memset(marks, 0, sizeof marks);
	run = new_run(NNODES, 5000);
	run_add(run, &F->inv[0], plan, nitems(plan));
	run_add(run, &F->inv[1], fine, nitems(fine));
	run_to_end(run);
	n = run_node(run, 0);
	assert_int_equal(n->outcome, NODE_OUT_POWER_FAILED);
	assert_string_equal(n->why, "refused");
	assert_int_equal(marks[0], 2);
	assert_int_equal(run_node(run, 1)->outcome, NODE_OUT_OK);
	assert_int_equal(marks[1], 2);
	run_free(run);
}

/* A step's own deadline is a failure: AFTER_FAIL steps run, not _STOP. */
static void
test_run_after_step_deadline(void **state)
{
	struct step_inst plan[] = {
	    {&never_def, NULL, 50, 0},
	    {&mark_def, NULL, 0, STEP_AFTER_STOP},
	    {&mark_def, NULL, 0, STEP_AFTER_FAIL},
	};
	struct run *run;

	memset(marks, 0, sizeof marks);
	run = new_run(NNODES, 5000);
	run_add(run, &F->inv[0], plan, nitems(plan));
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_TIMEOUT);
	assert_int_equal(marks[0], 1);
	run_free(run);
}

/*
 * The run's timeout stops nodes: their AFTER_STOP steps still run, with
 * their own deadline (past the run's), and the node ends "timeout".
 * Queued nodes never started and run nothing.
 */
static void
test_run_after_stop(void **state)
{
	struct step_delay_conf conf = {100};
	struct step_inst plan[] = {
	    {&never_def, NULL, 0, 0},
	    {&mark_def, NULL, 0, STEP_AFTER_FAIL},
	    {&step_delay_def, &conf, 1000, STEP_AFTER_STOP},
	    {&mark_def, NULL, 0, STEP_AFTER_STOP},
	};
	struct run *run;
	const struct node *n;

	memset(marks, 0, sizeof marks);
	run = new_run(1, 50);
	run_add(run, &F->inv[0], plan, nitems(plan));
	run_add(run, &F->inv[1], plan, nitems(plan));
	run_to_end(run);
	n = run_node(run, 0);
	assert_int_equal(n->outcome, NODE_OUT_TIMEOUT);
	assert_string_equal(n->why, "run timeout after 50ms");
	assert_int_equal(marks[0], 1);
	assert_true(n->ended_ms - n->started_ms >= 150);
	assert_int_equal(run_node(run, 1)->outcome, NODE_OUT_TIMEOUT);
	assert_int_equal(marks[1], 0);
	assert_int_equal(F->rec.count[BUS_NODE_STEP], 3);
	run_free(run);
}

/* A finishing step that overruns its own deadline is cancelled. */
static void
test_run_after_stop_bounded(void **state)
{
	struct step_inst plan[] = {
	    {&never_def, NULL, 0, 0},
	    {&never_def, NULL, 80, STEP_AFTER_STOP},
	    {&mark_def, NULL, 0, STEP_AFTER_STOP},
	};
	struct run *run;
	const struct node *n;

	memset(marks, 0, sizeof marks);
	never_cancels = 0;
	run = new_run(1, 50);
	run_add(run, &F->inv[0], plan, nitems(plan));
	run_to_end(run);
	n = run_node(run, 0);
	assert_int_equal(n->outcome, NODE_OUT_TIMEOUT);
	assert_int_equal(never_cancels, 2);
	assert_int_equal(marks[0], 1);
	assert_true(n->ended_ms - n->started_ms >= 130);
	assert_true(F->rec.end_ms - F->t0 < 2000);
	run_free(run);
}

/* run-end's sink frees the run: ASan checks nothing touches it later. */
static void
free_on_end_cb(const struct bus_event *ev, void *arg)
{
	struct run **runp = arg;

	if (ev->type == BUS_RUN_END) {
		run_free(*runp);
		*runp = NULL;
	}
}

static void
test_run_free_from_run_end(void **state)
{
	struct step_delay_conf conf = {5};
	struct step_inst plan[] = {{&step_delay_def, &conf, 0, 0}};
	struct run *run;
	size_t i;

	run = new_run(3, 5000);
	bus_subscribe(F->bus, free_on_end_cb, &run);
	for (i = 0; i < NNODES; i++)
		run_add(run, &F->inv[i], plan, 1);
	run_start(run);
	loop_run();
	assert_false(F->guard.fired);
	assert_null(run);
	assert_int_equal(F->rec.ended, 1);
}

/* A run freed while its nodes wait: steps cleared, nothing leaks. */
static void
free_mid_run_cb(const struct bus_event *ev, void *arg)
{
	struct run **runp = arg;

	if (ev->type == BUS_NODE_STATE &&
	    ev->node_state.new == NODE_RUNNING &&*runp != NULL) {
		run_free(*runp);
		*runp = NULL;
		loop_exit();
	}
}

static void
test_run_free_mid_run(void **state)
{
	struct step_delay_conf conf = {60000};
	struct step_inst plan[] = {{&step_delay_def, &conf, 0, 0}};
	struct run *run;
	size_t i;

	run = new_run(NNODES, 60000);
	for (i = 0; i < NNODES; i++)
		run_add(run, &F->inv[i], plan, 1);
	bus_subscribe(F->bus, free_mid_run_cb, &run);
	run_start(run);
	loop_run();
	assert_false(F->guard.fired);
	assert_null(run);
	assert_int_equal(F->rec.ended, 0);
}

/* Cancelled from a sink while the first node is entering its step. */
static void
cancel_on_running_cb(const struct bus_event *ev, void *arg)
{
	struct run *run = arg;

	if (ev->type == BUS_NODE_STATE && ev->node_state.new == NODE_RUNNING)
		run_cancel(run, NODE_OUT_CANCELLED, "by a sink");
}

static void
test_run_cancel_reentrant(void **state)
{
	struct step_inst plan[] = {{&never_def, NULL, 0, 0}};
	struct run *run;
	size_t i;

	never_cancels = 0;
	run = new_run(2, 5000);
	for (i = 0; i < 4; i++)
		run_add(run, &F->inv[i], plan, 1);
	bus_subscribe(F->bus, cancel_on_running_cb, run);
	run_to_end(run);
	for (i = 0; i < 4; i++) {
		assert_int_equal(run_node(run, i)->outcome, NODE_OUT_CANCELLED);
		assert_string_equal(run_node(run, i)->why, "by a sink");
	}
	/* Only fit01 started; its step never did, so nothing to cancel. */
	assert_int_equal(F->rec.ever_running[0], 1);
	assert_int_equal(F->rec.ever_running[1], 0);
	assert_int_equal(never_cancels, 0);
	run_free(run);
}

/*
 * Cancelled by a sink seeing fit01 end, the sink being first on the bus:
 * every sink still gets each node-state before run-end.
 */
static void
cancel_on_done_cb(const struct bus_event *ev, void *arg)
{
	struct run *run = arg;

	if (ev->type == BUS_NODE_STATE && ev->node_state.new == NODE_DONE)
		run_cancel(run, NODE_OUT_CANCELLED, "enough");
}

static void
test_run_cancel_on_done(void **state)
{
	struct step_delay_conf conf = {10};
	struct step_inst plan[] = {{&step_delay_def, &conf, 0, 0}};
	struct bus *bus = bus_new();
	struct run_params p;
	struct rec rec;
	struct run *run;
	size_t i;

	memset(&rec, 0, sizeof rec);
	memset(&p, 0, sizeof p);
	p.fanout = 1;
	p.timeout_ms = 5000;
	run = run_new(bus, &p);
	bus_subscribe(bus, cancel_on_done_cb, run);
	bus_subscribe(bus, rec_cb, &rec);
	for (i = 0; i < 3; i++)
		run_add(run, &F->inv[i], plan, 1);
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	assert_int_equal(run_node(run, 1)->outcome, NODE_OUT_CANCELLED);
	assert_int_equal(run_node(run, 2)->outcome, NODE_OUT_CANCELLED);
	assert_int_equal(rec.ended, 1);
	assert_int_equal(rec.late, 0);
	assert_int_equal(rec.count[BUS_RUN_END], 1);
	/* The run's deferred free does not touch the bus. */
	run_free(run);
	bus_free(bus);
}

/* --- signals -------------------------------------------------------- */

static void
raise_cb(evutil_socket_t fd, short what, void *arg)
{
	raise(SIGTERM);
}

static struct event *
raise_at(uint64_t ms)
{
	struct event *ev;
	struct timeval tv;

	ev = evtimer_new(loop_base(), raise_cb, NULL);
	loop_ms_to_timeval(ms, &tv);
	evtimer_add(ev, &tv);
	return (ev);
}

static void
test_sigterm_cancels(void **state)
{
	struct step_delay_conf conf = {60000};
	struct step_inst plan[] = {{&step_delay_def, &conf, 0, 0}};
	struct event *ev;
	struct run *run;
	size_t i;

	run = new_run(2, 60000);
	for (i = 0; i < 4; i++)
		run_add(run, &F->inv[i], plan, 1);
	ev = raise_at(50);
	run_start(run);
	assert_int_equal(loop_run(), 0); /* ended by the run */
	assert_false(F->guard.fired);
	assert_true(run_finished(run));
	assert_int_equal(loop_interrupts(), 1);
	for (i = 0; i < 4; i++) {
		assert_int_equal(run_node(run, i)->outcome, NODE_OUT_CANCELLED);
		assert_string_equal(run_node(run, i)->why,
		    "interrupted by SIGTERM");
	}
	assert_int_equal(F->rec.end_interrupted, 1);
	assert_true(F->rec.end_ms - F->t0 < 2000);
	assert_int_equal(run_exit_code(run), 1);
	event_free(ev);
	run_free(run);
}

/* Cleanup that never ends, and a second signal: out at once, abort. */
static void
test_second_signal_breaks(void **state)
{
	struct step_inst plan[] = {{&stubborn_def, NULL, 0, 0}};
	struct event *ev1, *ev2;
	struct run *run;
	size_t i;

	run = new_run(NNODES, 60000);
	for (i = 0; i < 3; i++)
		run_add(run, &F->inv[i], plan, 1);
	ev1 = raise_at(30);
	ev2 = raise_at(80);
	run_start(run);
	assert_int_equal(loop_run(), SIGTERM);
	assert_false(F->guard.fired);
	assert_false(run_finished(run));
	assert_true(loop_now_ms() - F->t0 < RUN_CLEANUP_MS);
	for (i = 0; i < 3; i++)
		assert_int_equal(run_node(run, i)->state, NODE_STOPPING);
	run_abort(run);
	assert_true(run_finished(run));
	for (i = 0; i < 3; i++)
		assert_int_equal(run_node(run, i)->outcome, NODE_OUT_CANCELLED);
	assert_int_equal(F->rec.end_interrupted, 1);
	event_free(ev1);
	event_free(ev2);
	run_free(run);
}

/* --- names ---------------------------------------------------------- */

static void
test_names(void **state)
{
	static const struct {
		enum node_outcome o;
		const char *name;
	} t[] = {
	    {NODE_OUT_OK, "ok"},
	    {NODE_OUT_FAILED, "failed"},
	    {NODE_OUT_TIMEOUT, "timeout"},
	    {NODE_OUT_CANCELLED, "cancelled"},
	    {NODE_OUT_CHILD_FAILED, "child-failed"},
	};
	size_t i;

	for (i = 0; i < nitems(t); i++) {
		assert_string_equal(node_outcome_name(t[i].o), t[i].name);
		assert_int_equal(node_outcome_lookup(t[i].name), t[i].o);
	}
	assert_int_equal(node_outcome_lookup("nope"), NODE_OUT__COUNT);
	assert_string_equal(node_state_name(NODE_STOPPING), "stopping");
	assert_string_equal(bus_event_name(BUS_NODE_PROGRESS), "node-progress");
	assert_ptr_equal(step_find("delay"), &step_delay_def);
	assert_non_null(step_find("exec"));
	assert_null(step_find("nope"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bus_unsubscribe_self),
	    cmocka_unit_test(test_bus_unsubscribe_other),
	    cmocka_unit_test(test_bus_subscribe_during_dispatch),
	    cmocka_unit_test(test_bus_nested_publish),
	    cmocka_unit_test(test_names),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_loop_defer),
	    T(test_loop_now_monotonic),
	    T(test_run_fanout),
	    T(test_run_plan_steps),
	    T(test_run_synchronous),
	    T(test_run_step_deadline),
	    T(test_run_global_timeout),
	    T(test_run_deadline_bounded_by_run),
	    T(test_run_after_fail),
	    T(test_run_after_step_deadline),
	    T(test_run_after_stop),
	    T(test_run_after_stop_bounded),
	    T(test_run_free_from_run_end),
	    T(test_run_free_mid_run),
	    T(test_run_cancel_reentrant),
	    T(test_run_cancel_on_done),
	    T(test_sigterm_cancels),
	    T(test_second_signal_breaks),
#undef T
	};

	log_set_stderr_ok(0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
