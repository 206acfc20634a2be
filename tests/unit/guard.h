/*
 * The guard of a unit test's event loop: a timer that, when it fires,
 * says so and makes the loop return, so that no test can hang whatever
 * the code under test does. Tests assert it did not fire.
 */
#ifndef TESTS_UNIT_GUARD_H
#define TESTS_UNIT_GUARD_H

struct event;
struct event_base;

struct guard {
	struct event *ev;
	int fired;
};

/* The guard's timer on base (not armed yet). */
void guard_init(struct guard *, struct event_base *);
/* In ms: fired is set and base's loop exits. Re-arming replaces. */
void guard_arm(struct guard *, unsigned ms);
void guard_disarm(struct guard *);
/* NULL-safe: a guard never initialised is fine. */
void guard_free(struct guard *);
/* Arm, dispatch until the loop exits or the guard fires, disarm. */
void guard_run_for(struct guard *, unsigned ms);

#endif
