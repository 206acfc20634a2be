/*
 * The event loop: the process's one event_base, with a monotonic clock,
 * SIGINT/SIGTERM turned into events (the first asks whoever registered an
 * interrupt handler, normally the current run, to cancel; the second makes
 * loop_run return at once), SIGCHLD turned into an event that reaps every
 * child (so processes are started through child.c only), and deferred
 * calls that run on the next loop turn so that nothing is freed inside its
 * own callback.
 *
 * A singleton: there is one loop per process, between loop_init() and
 * loop_free(). Drivers take loop_base() explicitly.
 */
#ifndef ENGINE_LOOP_H
#define ENGINE_LOOP_H

#include <stdint.h>

struct event_base;

/* Create the event_base and the signal events. 0, or -1 with *errp set. */
int loop_init(char **errp);
/*
 * Run what is still deferred, free the base and restore signal handling.
 * Children still alive are killed and reaped (child_shutdown).
 */
void loop_free(void);
struct event_base *loop_base(void);

/*
 * Dispatch until loop_exit() or a second interrupt signal. Returns 0, or
 * the number of the signal that broke the loop.
 */
int loop_run(void);
/* Make loop_run return once the current callbacks are done. */
void loop_exit(void);

/* Monotonic time in milliseconds (CLOCK_MONOTONIC). */
uint64_t loop_now_ms(void);

/* Call fn(arg) on the next loop turn (or from loop_free at the latest). */
void loop_defer(void (*fn)(void *), void *arg);

/*
 * Delete ev now and free it on the next turn: safe inside ev's own
 * callback. NULL is ignored.
 */
struct event;
void loop_event_free(struct event *);

/*
 * The handler for the first SIGINT or SIGTERM. Without one, the first
 * signal already breaks the loop. One at a time: the run installs itself
 * while it runs, and clears itself (only if it is still the one) after.
 */
void loop_set_interrupt(void (*fn)(int sig, void *), void *arg);
void loop_clear_interrupt(void (*fn)(int sig, void *), void *arg);
/* Signals received since loop_init. */
unsigned loop_interrupts(void);

/* struct timeval from milliseconds, for evtimer_add. */
struct timeval;
void loop_ms_to_timeval(uint64_t ms, struct timeval *tv);

#endif
