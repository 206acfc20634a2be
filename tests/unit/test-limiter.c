/*
 * The handshake limiter (engine/limiter.c): never more than max holders,
 * waiters served in FIFO order from inside release, a waiter that leaves
 * the queue is never granted; the ssh-wait back-off stays within
 * [0.5, 1.5) times its base; and the gate's pure parts (the privileged
 * list, the gate's argv).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/gate.h"
#include "engine/backoff.h"
#include "engine/limiter.h"
#include "engine/step-ssh-wait.h"

#define NW 6

static struct limiter lim;
static struct limiter_waiter w[NW];
static int order[NW], norder;

static void
granted(void *arg)
{
	order[norder++] = (int)(intptr_t)arg;
	assert_true(lim.used <= lim.max);
}

static void
test_limiter_fifo(void **state)
{
	int i;

	memset(w, 0, sizeof w);
	norder = 0;
	limiter_init(&lim, 2);
	for (i = 0; i < NW; i++)
		assert_int_equal(
		    limiter_acquire(&lim, &w[i], granted, (void *)(intptr_t)i),
		    i < 2);
	assert_int_equal(lim.used, 2);
	assert_int_equal(lim.nqueued, 4);

	/* Waiter 3 gives up: it is never granted. */
	limiter_release(&lim, &w[3]);
	assert_int_equal(lim.nqueued, 3);
	assert_false(w[3].queued);

	limiter_release(&lim, &w[0]);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 2);
	assert_true(w[2].holding);
	assert_int_equal(lim.used, 2);

	limiter_release(&lim, &w[1]);
	limiter_release(&lim, &w[2]);
	assert_int_equal(norder, 3);
	assert_int_equal(order[1], 4);
	assert_int_equal(order[2], 5);
	assert_int_equal(lim.nqueued, 0);

	/* Releasing what is not held changes nothing. */
	limiter_release(&lim, &w[0]);
	assert_int_equal(lim.used, 2);
	limiter_release(&lim, &w[4]);
	limiter_release(&lim, &w[5]);
	assert_int_equal(lim.used, 0);
	assert_int_equal(norder, 3);
}

/* A newcomer does not overtake the queue even when a slot is free. */
static void
test_limiter_no_overtaking(void **state)
{
	memset(w, 0, sizeof w);
	norder = 0;
	limiter_init(&lim, 1);
	assert_true(limiter_acquire(&lim, &w[0], granted, (void *)0));
	assert_false(limiter_acquire(&lim, &w[1], granted, (void *)1));
	limiter_release(&lim, &w[0]);
	assert_int_equal(order[0], 1);
	assert_false(limiter_acquire(&lim, &w[2], granted, (void *)2));
	limiter_release(&lim, &w[1]);
	assert_int_equal(order[1], 2);
	limiter_release(&lim, &w[2]);
	assert_int_equal(lim.used, 0);
}

static void
test_backoff_range(void **state)
{
	uint64_t ms;
	int i;

	assert_int_equal(backoff_spread_ms(3000, 0), 1500);
	assert_int_equal(backoff_spread_ms(3000, 0.5), 3000);
	assert_true(backoff_spread_ms(3000, 0.999999) < 4500);
	assert_int_equal(backoff_spread_ms(0, 0.7), 0);
	/* Out of range: the middle, never a wild wait. */
	assert_int_equal(backoff_spread_ms(3000, 1), 3000);
	assert_int_equal(backoff_spread_ms(3000, -1), 3000);
	for (i = 0; i < 10000; i++) {
		ms = backoff_spread_ms(1000, random() / ((double)RAND_MAX + 1));
		assert_true(ms >= 500 && ms < 1500);
	}
}

static void
test_gate_privileged(void **state)
{
	assert_true(gate_privileged("root,guest", "root"));
	assert_true(gate_privileged("root, guest ", "guest"));
	assert_false(gate_privileged("root,guest", "roo"));
	assert_false(gate_privileged("root,guest", "guests"));
	assert_false(gate_privileged("", "root"));
	assert_false(gate_privileged(",,", ""));
}

static void
test_gate_argv(void **state)
{
	const char *nodes[] = {"fit01", "fit02"};
	char **argv;
	int i;

	argv = gate_argv("  /usr/bin/check  --site r2lab ", "alice", nodes, 2);
	assert_non_null(argv);
	assert_string_equal(argv[0], "/usr/bin/check");
	assert_string_equal(argv[1], "--site");
	assert_string_equal(argv[2], "r2lab");
	assert_string_equal(argv[3], "alice");
	assert_string_equal(argv[4], "fit01");
	assert_string_equal(argv[5], "fit02");
	assert_null(argv[6]);
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
	assert_null(gate_argv(" \t ", "alice", nodes, 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limiter_fifo),
	    cmocka_unit_test(test_limiter_no_overtaking),
	    cmocka_unit_test(test_backoff_range),
	    cmocka_unit_test(test_gate_privileged),
	    cmocka_unit_test(test_gate_argv),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
