/*
 * The event loop. One event_base built with a monotonic timer; signals are
 * libevent events, so their handlers run as ordinary callbacks and may do
 * anything a callback may. Deferred calls are kept in our own list (rather
 * than fire-and-forget event_base_once) so that loop_free can still run
 * them: a deferred free must happen even when the loop is not run again.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/child.h"
#include "engine/loop.h"

struct loop_deferred {
	void (*fn)(void *);
	void *arg;
	TAILQ_ENTRY(loop_deferred) entry;
};
TAILQ_HEAD(loop_deferred_list, loop_deferred);

static struct {
	struct event_base *base;
	struct event *ev_int;
	struct event *ev_term;
	struct event *ev_chld;
	struct event *ev_defer;
	struct loop_deferred_list deferred;
	void (*interrupt_fn)(int, void *);
	void *interrupt_arg;
	unsigned interrupts;
	int broken_by;
	struct sigaction old_pipe;
} loop;

static void loop_signal_cb(evutil_socket_t, short, void *);
static void loop_sigchld_cb(evutil_socket_t, short, void *);
static void loop_defer_cb(evutil_socket_t, short, void *);
static void loop_event_log(int, const char *);
static void loop_event_fatal(int);

/* libevent's own messages go to our log. */
static void
loop_event_log(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warn("libevent: %s", msg);
		break;
	default:
		log_error("libevent: %s", msg);
		break;
	}
}

/* libevent found its own state corrupted: there is no way to go on. */
static void
loop_event_fatal(int err)
{
	log_error("libevent: fatal error %d", err);
	abort();
}

int
loop_init(char **errp)
{
	struct event_config *cfg;
	struct sigaction sa;

	assert(loop.base == NULL);
	*errp = NULL;
	event_set_log_callback(loop_event_log);
	event_set_fatal_callback(loop_event_fatal);

	if ((cfg = event_config_new()) == NULL) {
		*errp = xstrdup("event_config_new failed");
		return (-1);
	}
	/*
	 * libevent 2.1 always times with a monotonic clock (the 2.2 flag
	 * EVENT_BASE_FLAG_MONOTONIC_TIMER does not exist there); PRECISE
	 * makes it CLOCK_MONOTONIC itself rather than a coarse variant, the
	 * same clock as loop_now_ms().
	 */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	loop.base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (loop.base == NULL) {
		*errp = xstrdup("cannot create the event loop");
		return (-1);
	}
	/*
	 * A peer closing a socket or pipe must be an error on write, not the
	 * death of the process. Children get the default back (child.c).
	 */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, &loop.old_pipe);

	TAILQ_INIT(&loop.deferred);
	loop.interrupts = 0;
	loop.broken_by = 0;
	loop.interrupt_fn = NULL;

	loop.ev_int = evsignal_new(loop.base, SIGINT, loop_signal_cb, NULL);
	loop.ev_term = evsignal_new(loop.base, SIGTERM, loop_signal_cb, NULL);
	loop.ev_chld = evsignal_new(loop.base, SIGCHLD, loop_sigchld_cb, NULL);
	loop.ev_defer = evtimer_new(loop.base, loop_defer_cb, NULL);
	if (loop.ev_int == NULL || loop.ev_term == NULL ||
	    loop.ev_chld == NULL || loop.ev_defer == NULL ||
	    event_add(loop.ev_int, NULL) != 0 ||
	    event_add(loop.ev_term, NULL) != 0 ||
	    event_add(loop.ev_chld, NULL) != 0) {
		*errp = xstrdup("cannot set up signal events");
		loop_free();
		return (-1);
	}
	return (0);
}

void
loop_free(void)
{
	if (loop.base == NULL)
		return;
	/*
	 * Deferred calls may defer more; run until none is left, before and
	 * after the children go (their teardown defers frees too).
	 */
	while (!TAILQ_EMPTY(&loop.deferred))
		loop_defer_cb(-1, 0, NULL);
	child_shutdown();
	while (!TAILQ_EMPTY(&loop.deferred))
		loop_defer_cb(-1, 0, NULL);

	if (loop.ev_int != NULL)
		event_free(loop.ev_int);
	if (loop.ev_term != NULL)
		event_free(loop.ev_term);
	if (loop.ev_chld != NULL)
		event_free(loop.ev_chld);
	if (loop.ev_defer != NULL)
		event_free(loop.ev_defer);
	event_base_free(loop.base);
	sigaction(SIGPIPE, &loop.old_pipe, NULL);
	memset(&loop, 0, sizeof loop);
}

struct event_base *
loop_base(void)
{
	assert(loop.base != NULL);
	return (loop.base);
}

int
loop_run(void)
{
	assert(loop.base != NULL);
	loop.broken_by = 0;
	if (event_base_dispatch(loop.base) == -1)
		log_error("event_base_dispatch failed");
	return (loop.broken_by);
}

void
loop_exit(void)
{
	event_base_loopexit(loop.base, NULL);
}

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

void
loop_ms_to_timeval(uint64_t ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

void
loop_defer(void (*fn)(void *), void *arg)
{
	struct loop_deferred *d;
	struct timeval tv = {0, 0};

	assert(loop.base != NULL);
	d = xcalloc(1, sizeof *d);
	d->fn = fn;
	d->arg = arg;
	TAILQ_INSERT_TAIL(&loop.deferred, d, entry);
	if (!evtimer_pending(loop.ev_defer, NULL))
		evtimer_add(loop.ev_defer, &tv);
}

/*
 * Run the calls deferred so far. Calls deferred while these run wait for
 * the next turn, so a callback that keeps deferring cannot starve the loop.
 */
static void
loop_defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop_deferred_list now;
	struct loop_deferred *d;

	TAILQ_INIT(&now);
	TAILQ_CONCAT(&now, &loop.deferred, entry);
	while ((d = TAILQ_FIRST(&now)) != NULL) {
		TAILQ_REMOVE(&now, d, entry);
		d->fn(d->arg);
		free(d);
	}
}

static void
loop_event_free_cb(void *arg)
{
	event_free(arg);
}

void
loop_event_free(struct event *ev)
{
	if (ev == NULL)
		return;
	event_del(ev);
	loop_defer(loop_event_free_cb, ev);
}

void
loop_set_interrupt(void (*fn)(int, void *), void *arg)
{
	loop.interrupt_fn = fn;
	loop.interrupt_arg = arg;
}

void
loop_clear_interrupt(void (*fn)(int, void *), void *arg)
{
	if (loop.interrupt_fn == fn && loop.interrupt_arg == arg) {
		loop.interrupt_fn = NULL;
		loop.interrupt_arg = NULL;
	}
}

unsigned
loop_interrupts(void)
{
	return (loop.interrupts);
}

/*
 * SIGINT or SIGTERM. The first asks for a clean cancel (the handler ends
 * every node after its step's cleanup); a second means the user will not
 * wait for that, so the loop returns at once.
 */
static void
loop_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	loop.interrupts++;
	log_info("loop: signal %d (%u)", (int)sig, loop.interrupts);
	if (loop.interrupts == 1 && loop.interrupt_fn != NULL) {
		loop.interrupt_fn((int)sig, loop.interrupt_arg);
		return;
	}
	loop.broken_by = (int)sig;
	event_base_loopbreak(loop.base);
}

/* Reap every child that has exited; signals coalesce, so loop. */
static void
loop_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		child_reaped(pid, status);
	}
}
