/*
 * The loop guard of the unit tests (see guard.h).
 */
#include <stddef.h>
#include <stdlib.h>

#include <event2/event.h>

#include "tests/unit/guard.h"

static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guard *g = arg;

	g->fired = 1;
	event_base_loopexit(event_get_base(g->ev), NULL);
}

void
guard_init(struct guard *g, struct event_base *base)
{
	g->fired = 0;
	if ((g->ev = evtimer_new(base, guard_cb, g)) == NULL)
		abort();
}

void
guard_arm(struct guard *g, unsigned ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	g->fired = 0;
	evtimer_add(g->ev, &tv);
}

void
guard_disarm(struct guard *g)
{
	evtimer_del(g->ev);
}

void
guard_free(struct guard *g)
{
	if (g->ev != NULL)
		event_free(g->ev);
	g->ev = NULL;
}

void
guard_run_for(struct guard *g, unsigned ms)
{
	guard_arm(g, ms);
	event_base_dispatch(event_get_base(g->ev));
	guard_disarm(g);
}
