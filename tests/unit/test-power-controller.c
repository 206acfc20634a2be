/*
 * The controller registry (engine/controller.c) on the real loop with
 * fake operations: each granted request holds its controller for a set
 * time on a timer, then releases it. Checked: one operation at a time per
 * controller, FIFO order, the minimum interval between two operations on
 * one controller (measured, a lower bound), the global fan-out cap, many
 * controllers in parallel, a request that reaches its deadline while
 * queued (it leaves the queue with a reason, and the next one is served),
 * a withdrawn request, and grants never from inside controller_request.
 *
 * Every test arms a guard timer that stops the loop and fails the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/xmalloc.h"
#include "engine/controller.h"
#include "engine/loop.h"
#include "tests/unit/guard.h"

#define GUARD_MS 10000
#define MAXOPS   64
#define MAXCTL   16

struct op {
	int id;
	int ctl;         /* index into F->ctl */
	uint64_t hold;   /* ms held once granted */
	uint64_t queued; /* when requested */
	uint64_t start;  /* granted */
	uint64_t end;    /* released */
	int granted;
	int expired;
	char why[160];
	struct controller_wait *w;
	struct event *timer;
};

struct fixture {
	struct controller_registry *reg;
	struct controller *ctl[MAXCTL];
	unsigned active[MAXCTL]; /* granted now, per controller */
	unsigned max_active[MAXCTL];
	unsigned inflight;
	unsigned max_inflight;
	struct op ops[MAXOPS];
	int nops;
	int order[MAXOPS]; /* op ids in grant order */
	int norder;
	int left; /* ops not yet released or expired */
	int in_request;
	int granted_inside;
	struct guard guard;
};

static struct fixture *F;

static void
op_done(void)
{
	if (--F->left == 0)
		loop_exit();
}

static void
hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct op *op = arg;

	op->end = loop_now_ms();
	F->active[op->ctl]--;
	F->inflight--;
	controller_release(op->w);
	op->w = NULL;
	op_done();
}

static void
grant_cb(struct controller_wait *w, void *arg)
{
	struct op *op = arg;
	struct timeval tv;

	if (F->in_request)
		F->granted_inside = 1;
	assert_ptr_equal(w, op->w);
	op->granted = 1;
	op->start = loop_now_ms();
	F->order[F->norder++] = op->id;
	if (++F->active[op->ctl] > F->max_active[op->ctl])
		F->max_active[op->ctl] = F->active[op->ctl];
	if (++F->inflight > F->max_inflight)
		F->max_inflight = F->inflight;
	loop_ms_to_timeval(op->hold, &tv);
	evtimer_add(op->timer, &tv);
}

static void
expire_cb(struct controller_wait *w, const char *why, void *arg)
{
	struct op *op = arg;

	assert_ptr_equal(w, op->w);
	op->expired = 1;
	op->end = loop_now_ms();
	strlcpy(op->why, why, sizeof op->why);
	op->w = NULL;
	op_done();
}

/* Queue op id on controller ctl, held hold ms, deadline in dl ms. */
static struct op *
add_op(int ctl, uint64_t hold, uint64_t dl)
{
	struct op *op = &F->ops[F->nops];

	assert_true(F->nops < MAXOPS);
	op->id = F->nops++;
	op->ctl = ctl;
	op->hold = hold;
	op->queued = loop_now_ms();
	op->timer = evtimer_new(loop_base(), hold_cb, op);
	F->in_request = 1;
	op->w = controller_request(F->ctl[ctl], op->queued + dl, grant_cb,
	    expire_cb, op);
	F->in_request = 0;
	F->left++;
	return (op);
}

static void
run_loop(void)
{
	guard_arm(&F->guard, GUARD_MS);
	loop_run();
	assert_false(F->guard.fired);
	assert_false(F->granted_inside);
	assert_int_equal(F->left, 0);
}

/* A registry of nctl controllers of kind, fanout, min interval. */
static void
make(unsigned fanout, enum controller_kind kind, uint64_t interval, int nctl)
{
	struct controller_params p;
	char id[32], name[32];
	int i;

	memset(&p, 0, sizeof p);
	p.fanout = fanout;
	p.min_interval_ms[kind] = interval;
	F->reg = controller_registry_new(&p);
	for (i = 0; i < nctl; i++) {
		snprintf(id, sizeof id, "127.3.0.%d:623", i + 1);
		snprintf(name, sizeof name, "bmc%02d", i + 1);
		F->ctl[i] = controller_get(F->reg, kind, id, name);
	}
}

static int
setup(void **state)
{
	char *err = NULL;

	F = xcalloc(1, sizeof *F);
	if (loop_init(&err) != 0)
		fail_msg("%s", err);
	guard_init(&F->guard, loop_base());
	*state = F;
	return (0);
}

static int
teardown(void **state)
{
	int i;

	controller_registry_free(F->reg);
	for (i = 0; i < F->nops; i++)
		event_free(F->ops[i].timer);
	guard_free(&F->guard);
	loop_free();
	free(F);
	F = NULL;
	return (0);
}

/* The same identity is the same controller; another kind is another. */
static void
test_identity(void **state)
{
	struct controller *a, *b, *c;
	struct controller_stats st;

	make(4, CONTROLLER_IPMI, 0, 0);
	a = controller_get(F->reg, CONTROLLER_IPMI, "127.3.0.1:623", "bmc01");
	b = controller_get(F->reg, CONTROLLER_IPMI, "127.3.0.1:623", "other");
	c = controller_get(F->reg, CONTROLLER_PDU, "127.3.0.1:623", "pdu");
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_string_equal(controller_name(b), "bmc01");
	assert_string_equal(controller_kind_name(CONTROLLER_PDU), "pdu");
	controller_registry_stats(F->reg, &st);
	assert_int_equal(st.controllers, 2);
}

/* Five operations on one controller: one at a time, in order. */
static void
test_one_at_a_time(void **state)
{
	int i;

	make(16, CONTROLLER_IPMI, 0, 1);
	for (i = 0; i < 5; i++)
		add_op(0, 20, 5000);
	assert_int_equal(F->norder, 0); /* nothing granted inside */
	run_loop();
	assert_int_equal(F->max_active[0], 1);
	assert_int_equal(F->norder, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(F->order[i], i);
		if (i > 0)
			assert_true(F->ops[i].start >= F->ops[i - 1].end);
	}
	assert_int_equal(controller_granted(F->ctl[0]), 5);
}

/* The minimum interval runs from the end of one operation. */
static void
test_min_interval(void **state)
{
	struct controller_stats st;
	int i;

	make(16, CONTROLLER_IPMI, 150, 2);
	for (i = 0; i < 3; i++)
		add_op(0, 10, 5000);
	/* Another controller is not slowed down by them. */
	add_op(1, 10, 5000);
	run_loop();
	assert_true(F->ops[3].start - F->ops[3].queued < 100);
	for (i = 1; i < 3; i++)
		assert_true(F->ops[i].start >= F->ops[i - 1].end + 150);
	/* The first one was not delayed: nothing ran before it. */
	assert_true(F->ops[0].start - F->ops[0].queued < 100);
	controller_registry_stats(F->reg, &st);
	assert_int_equal(st.granted, 4);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.queued, 0);
}

/* Ten controllers, fan-out 3: never more than 3 in flight, all served. */
static void
test_fanout_cap(void **state)
{
	struct controller_stats st;
	int i;

	make(3, CONTROLLER_PDU, 0, 10);
	for (i = 0; i < 10; i++)
		add_op(i, 30, 5000);
	run_loop();
	assert_int_equal(F->max_inflight, 3);
	assert_int_equal(F->norder, 10);
	/* Controllers became ready in order: granted in order. */
	for (i = 0; i < 10; i++)
		assert_int_equal(F->order[i], i);
	controller_registry_stats(F->reg, &st);
	assert_int_equal(st.max_inflight, 3);
}

/* Many controllers in parallel: 12 operations of 200 ms take ~200 ms. */
static void
test_parallel(void **state)
{
	uint64_t t0 = loop_now_ms(), last = 0;
	int i;

	make(64, CONTROLLER_CMC, 0, 12);
	for (i = 0; i < 12; i++)
		add_op(i, 200, 5000);
	run_loop();
	for (i = 0; i < 12; i++)
		if (F->ops[i].end > last)
			last = F->ops[i].end;
	assert_int_equal(F->max_inflight, 12);
	/* Serialised it would be 2.4 s. */
	assert_true(last - t0 < 1500);
}

/*
 * A request still queued at its deadline leaves the queue with a reason;
 * the controller then serves the next one. Three causes: the controller
 * busy, the fan-out cap, the minimum interval.
 */
static void
test_deadline_queued(void **state)
{
	struct controller_stats st;
	struct op *a, *b, *c;

	make(16, CONTROLLER_IPMI, 0, 1);
	a = add_op(0, 300, 5000);
	b = add_op(0, 10, 100); /* behind a, gives up at 100 ms */
	c = add_op(0, 10, 5000);
	run_loop();
	assert_true(a->granted);
	assert_false(b->granted);
	assert_true(b->expired);
	assert_true(b->end - b->queued >= 100);
	assert_true(b->end < a->end); /* did not wait for a */
	assert_non_null(strstr(b->why, "bmc01 behind 1 operation"));
	assert_true(c->granted);
	assert_true(c->start >= a->end);
	assert_int_equal(F->norder, 2);
	controller_registry_stats(F->reg, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.queued, 0);
}

static void
test_deadline_fanout(void **state)
{
	struct op *a, *b;

	make(1, CONTROLLER_IPMI, 0, 2);
	a = add_op(0, 300, 5000);
	b = add_op(1, 10, 100); /* its controller is free; the cap is not */
	run_loop();
	assert_true(a->granted);
	assert_true(b->expired);
	assert_non_null(strstr(b->why, "fan-out cap"));
}

static void
test_deadline_interval(void **state)
{
	struct op *a, *b;

	make(16, CONTROLLER_PDU, 1000, 1);
	a = add_op(0, 10, 5000);
	b = add_op(0, 10, 200);
	run_loop();
	assert_true(a->granted);
	assert_true(b->expired);
	assert_non_null(strstr(b->why, "minimum interval"));
}

/* A deadline already past: expired on the next turn, not inside. */
static void
test_deadline_past(void **state)
{
	struct op *a;

	make(16, CONTROLLER_CMC, 0, 1);
	F->in_request = 1;
	a = &F->ops[F->nops++];
	a->timer = evtimer_new(loop_base(), hold_cb, a);
	a->w = controller_request(F->ctl[0], loop_now_ms() - 1, grant_cb,
	    expire_cb, a);
	F->in_request = 0;
	F->left++;
	assert_false(a->expired);
	/* Its controller was free: a grant or an expiry, never both. */
	run_loop();
	assert_true(a->granted != a->expired);
}

/* A withdrawn request is never granted and frees its place. */
static void
test_withdraw(void **state)
{
	struct op *a, *b, *c;

	make(16, CONTROLLER_IPMI, 0, 1);
	a = add_op(0, 100, 5000);
	b = add_op(0, 10, 5000);
	c = add_op(0, 10, 5000);
	controller_release(b->w);
	b->w = NULL;
	F->left--;
	run_loop();
	assert_true(a->granted);
	assert_false(b->granted);
	assert_false(b->expired);
	assert_true(c->granted);
	assert_int_equal(F->norder, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_at_a_time, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_min_interval, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fanout_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parallel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deadline_queued, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_deadline_fanout, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_deadline_interval, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_deadline_past, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_withdraw, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
