/*
 * A limiter: at most `max` holders of a resource at once (ssh handshakes
 * in flight across a run), the others waiting in a FIFO. A waiter is a
 * struct the caller embeds; it is granted a slot either at once by
 * limiter_acquire, or later through its callback, called from inside
 * limiter_release (never from inside limiter_acquire). No loop and no
 * allocation here, so a run shares one limiter by pointer and tests drive
 * it directly.
 */
#ifndef ENGINE_LIMITER_H
#define ENGINE_LIMITER_H

#include "common/compat.h"

struct limiter_waiter {
	TAILQ_ENTRY(limiter_waiter) entry;
	void (*cb)(void *); /* the slot is ours now */
	void *arg;
	int queued;
	int holding;
};

struct limiter {
	unsigned max;  /* >= 1 */
	unsigned used; /* holders */
	TAILQ_HEAD(, limiter_waiter) queue;
	unsigned nqueued;
};

void limiter_init(struct limiter *, unsigned max);
/*
 * Ask for a slot: 1 if w holds one now, 0 if it waits (cb(arg) when it is
 * granted). w must be neither holding nor queued.
 */
int limiter_acquire(struct limiter *, struct limiter_waiter *,
    void (*cb)(void *), void *arg);
/*
 * Give w's slot back (the first waiter gets it, its callback called from
 * here), or leave the queue if w was waiting; nothing if neither.
 */
void limiter_release(struct limiter *, struct limiter_waiter *);

#endif
