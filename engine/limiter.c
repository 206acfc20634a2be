/*
 * The limiter: a counter and a FIFO. A released slot passes straight to
 * the first waiter, so a node that waited is never overtaken by one that
 * asks later.
 */
#include <assert.h>
#include <stddef.h>

#include "engine/limiter.h"

void
limiter_init(struct limiter *l, unsigned max)
{
	assert(max >= 1);
	l->max = max;
	l->used = 0;
	l->nqueued = 0;
	TAILQ_INIT(&l->queue);
}

int
limiter_acquire(struct limiter *l, struct limiter_waiter *w, void (*cb)(void *),
    void *arg)
{
	assert(!w->queued && !w->holding);
	w->cb = cb;
	w->arg = arg;
	if (l->used < l->max && TAILQ_EMPTY(&l->queue)) {
		l->used++;
		w->holding = 1;
		return (1);
	}
	TAILQ_INSERT_TAIL(&l->queue, w, entry);
	w->queued = 1;
	l->nqueued++;
	return (0);
}

void
limiter_release(struct limiter *l, struct limiter_waiter *w)
{
	struct limiter_waiter *next;

	if (w->queued) {
		TAILQ_REMOVE(&l->queue, w, entry);
		w->queued = 0;
		l->nqueued--;
		return;
	}
	if (!w->holding)
		return;
	w->holding = 0;
	assert(l->used > 0);
	l->used--;
	if ((next = TAILQ_FIRST(&l->queue)) == NULL)
		return;
	TAILQ_REMOVE(&l->queue, next, entry);
	next->queued = 0;
	l->nqueued--;
	next->holding = 1;
	l->used++;
	next->cb(next->arg);
}
