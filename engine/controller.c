/*
 * The controller registry. Controllers live in a red-black tree keyed by
 * kind and identity. Each has a FIFO of waits, at most one granted wait
 * (busy), the time its last operation ended and a timer for the minimum
 * interval. Scheduling is one function, controller_pump, run from an
 * event activated whenever something changes: it first re-examines the
 * controllers marked dirty (a controller whose head may start goes to the
 * back of the ready list), then grants heads of ready controllers while
 * the fan-out allows. So callers never see a callback from inside their
 * own call, and the order of grants is the order in which controllers
 * became ready.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/tree.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/controller.h"
#include "engine/loop.h"

enum controller_wait_state {
	CONTROLLER_WAIT_QUEUED,
	CONTROLLER_WAIT_GRANTED,
};

struct controller_wait {
	struct controller *c;
	enum controller_wait_state state;
	uint64_t since_ms; /* when it was queued */
	struct event *timer;
	controller_grant_cb grant_cb;
	controller_expire_cb expire_cb;
	void *arg;
	TAILQ_ENTRY(controller_wait) entry;
};

struct controller {
	struct controller_registry *reg;
	enum controller_kind kind;
	char *id;
	char *name;
	uint64_t interval_ms;
	TAILQ_HEAD(, controller_wait) queue;
	size_t nqueued;
	struct controller_wait *busy;
	int has_run;
	uint64_t last_end_ms;
	struct event *timer; /* the minimum interval */
	int timer_armed;
	uint64_t granted;

	int in_dirty;
	int in_ready;
	TAILQ_ENTRY(controller) dirty_entry;
	TAILQ_ENTRY(controller) ready_entry;
	RB_ENTRY(controller) tree_entry;
};

RB_HEAD(controller_tree, controller);

struct controller_registry {
	struct controller_params params;
	struct controller_tree tree;
	TAILQ_HEAD(, controller) dirty;
	TAILQ_HEAD(, controller) ready;
	struct event *pump;
	int pumping;
	unsigned inflight;
	unsigned max_inflight;
	size_t queued;
	uint64_t granted;
	uint64_t expired;
	size_t ncontrollers;
};

static int controller_cmp(struct controller *, struct controller *);
static void controller_schedule(struct controller_registry *);
static void controller_dirty(struct controller *);
static void controller_check(struct controller *, uint64_t);
static void controller_pump(struct controller_registry *);
static void controller_pump_cb(evutil_socket_t, short, void *);
static void controller_interval_cb(evutil_socket_t, short, void *);
static void controller_expire_timer_cb(evutil_socket_t, short, void *);

RB_GENERATE_STATIC(controller_tree, controller, tree_entry, controller_cmp)

static const char *const controller_kind_names[] = {
    [CONTROLLER_CMC] = "cmc",
    [CONTROLLER_IPMI] = "ipmi",
    [CONTROLLER_PDU] = "pdu",
};
_Static_assert(nitems(controller_kind_names) == CONTROLLER_KIND__COUNT,
    "one name per controller kind");

static int
controller_cmp(struct controller *a, struct controller *b)
{
	if (a->kind != b->kind)
		return (a->kind < b->kind ? -1 : 1);
	return (strcmp(a->id, b->id));
}

static struct event *
controller_evtimer(void (*cb)(evutil_socket_t, short, void *), void *arg)
{
	struct event *ev;

	if ((ev = evtimer_new(loop_base(), cb, arg)) == NULL) {
		/* Only out of memory makes this fail. */
		log_error("%s: evtimer_new failed", __func__);
		abort();
	}
	return (ev);
}

struct controller_registry *
controller_registry_new(const struct controller_params *params)
{
	struct controller_registry *reg;

	assert(params->fanout >= 1);
	reg = xcalloc(1, sizeof *reg);
	reg->params = *params;
	RB_INIT(&reg->tree);
	TAILQ_INIT(&reg->dirty);
	TAILQ_INIT(&reg->ready);
	reg->pump = event_new(loop_base(), -1, 0, controller_pump_cb, reg);
	if (reg->pump == NULL) {
		log_error("%s: event_new failed", __func__);
		abort();
	}
	return (reg);
}

void
controller_registry_free(struct controller_registry *reg)
{
	struct controller *c, *c1;
	struct controller_wait *w, *w1;

	if (reg == NULL)
		return;
	RB_FOREACH_SAFE(c, controller_tree, &reg->tree, c1) {
		RB_REMOVE(controller_tree, &reg->tree, c);
		TAILQ_FOREACH_SAFE(w, &c->queue, entry, w1) {
			loop_event_free(w->timer);
			free(w);
		}
		if (c->busy != NULL) {
			loop_event_free(c->busy->timer);
			free(c->busy);
		}
		loop_event_free(c->timer);
		free(c->id);
		free(c->name);
		free(c);
	}
	loop_event_free(reg->pump);
	free(reg);
}

struct controller *
controller_get(struct controller_registry *reg, enum controller_kind kind,
    const char *id, const char *name)
{
	struct controller key, *c;

	assert((unsigned)kind < CONTROLLER_KIND__COUNT);
	memset(&key, 0, sizeof key);
	key.kind = kind;
	key.id = (char *)(uintptr_t)id;
	if ((c = RB_FIND(controller_tree, &reg->tree, &key)) != NULL)
		return (c);

	c = xcalloc(1, sizeof *c);
	c->reg = reg;
	c->kind = kind;
	c->id = xstrdup(id);
	c->name = xstrdup(name != NULL ? name : id);
	c->interval_ms = reg->params.min_interval_ms[kind];
	TAILQ_INIT(&c->queue);
	c->timer = controller_evtimer(controller_interval_cb, c);
	RB_INSERT(controller_tree, &reg->tree, c);
	reg->ncontrollers++;
	return (c);
}

const char *
controller_name(const struct controller *c)
{
	return (c->name);
}

const char *
controller_kind_name(enum controller_kind kind)
{
	assert((unsigned)kind < CONTROLLER_KIND__COUNT);
	return (controller_kind_names[kind]);
}

/* Run controller_pump on the next loop turn (once, however many asks). */
static void
controller_schedule(struct controller_registry *reg)
{
	event_active(reg->pump, EV_TIMEOUT, 0);
}

static void
controller_dirty(struct controller *c)
{
	if (!c->in_dirty) {
		c->in_dirty = 1;
		TAILQ_INSERT_TAIL(&c->reg->dirty, c, dirty_entry);
	}
	controller_schedule(c->reg);
}

static void
controller_unready(struct controller *c)
{
	if (c->in_ready) {
		c->in_ready = 0;
		TAILQ_REMOVE(&c->reg->ready, c, ready_entry);
	}
}

/* Whether c's head may start (but for the fan-out); arm the interval. */
static void
controller_check(struct controller *c, uint64_t now)
{
	struct timeval tv;
	uint64_t at;

	if (c->busy != NULL || TAILQ_EMPTY(&c->queue)) {
		controller_unready(c);
		return;
	}
	at = c->last_end_ms + c->interval_ms;
	if (c->has_run && now < at) {
		controller_unready(c);
		if (!c->timer_armed) {
			loop_ms_to_timeval(at - now, &tv);
			evtimer_add(c->timer, &tv);
			c->timer_armed = 1;
		}
		return;
	}
	if (!c->in_ready) {
		c->in_ready = 1;
		TAILQ_INSERT_TAIL(&c->reg->ready, c, ready_entry);
	}
}

static void
controller_grant(struct controller *c)
{
	struct controller_registry *reg = c->reg;
	struct controller_wait *w;

	w = TAILQ_FIRST(&c->queue);
	assert(w != NULL && c->busy == NULL);
	TAILQ_REMOVE(&c->queue, w, entry);
	c->nqueued--;
	reg->queued--;
	evtimer_del(w->timer);
	w->state = CONTROLLER_WAIT_GRANTED;
	c->busy = w;
	c->granted++;
	reg->granted++;
	if (++reg->inflight > reg->max_inflight)
		reg->max_inflight = reg->inflight;
	log_debug("controller %s %s: granted (%u in flight)",
	    controller_kind_name(c->kind), c->name, reg->inflight);
	/* w may be released (freed) inside. */
	w->grant_cb(w, w->arg);
}

/*
 * Re-examine dirty controllers, then grant while the fan-out allows.
 * Grant callbacks may request or release (marking more controllers
 * dirty): both loops see that work before returning.
 */
static void
controller_pump(struct controller_registry *reg)
{
	struct controller *c;
	uint64_t now;

	if (reg->pumping)
		return;
	reg->pumping = 1;
	for (;;) {
		now = loop_now_ms();
		while ((c = TAILQ_FIRST(&reg->dirty)) != NULL) {
			TAILQ_REMOVE(&reg->dirty, c, dirty_entry);
			c->in_dirty = 0;
			controller_check(c, now);
		}
		if (reg->inflight >= reg->params.fanout ||
		    (c = TAILQ_FIRST(&reg->ready)) == NULL)
			break;
		controller_unready(c);
		controller_grant(c);
		/* Its release, now or later, marks it dirty again. */
	}
	reg->pumping = 0;
}

static void
controller_pump_cb(evutil_socket_t fd, short what, void *arg)
{
	controller_pump(arg);
}

static void
controller_interval_cb(evutil_socket_t fd, short what, void *arg)
{
	struct controller *c = arg;

	c->timer_armed = 0;
	controller_dirty(c);
	controller_pump(c->reg);
}

struct controller_wait *
controller_request(struct controller *c, uint64_t deadline_ms,
    controller_grant_cb grant_cb, controller_expire_cb expire_cb, void *arg)
{
	struct controller_wait *w;
	struct timeval tv;
	uint64_t now = loop_now_ms();

	w = xcalloc(1, sizeof *w);
	w->c = c;
	w->state = CONTROLLER_WAIT_QUEUED;
	w->since_ms = now;
	w->grant_cb = grant_cb;
	w->expire_cb = expire_cb;
	w->arg = arg;
	w->timer = controller_evtimer(controller_expire_timer_cb, w);
	loop_ms_to_timeval(deadline_ms > now ? deadline_ms - now : 0, &tv);
	evtimer_add(w->timer, &tv);
	TAILQ_INSERT_TAIL(&c->queue, w, entry);
	c->nqueued++;
	c->reg->queued++;
	controller_dirty(c);
	return (w);
}

void
controller_release(struct controller_wait *w)
{
	struct controller *c = w->c;
	struct controller_registry *reg = c->reg;

	if (w->state == CONTROLLER_WAIT_GRANTED) {
		assert(c->busy == w);
		c->busy = NULL;
		c->has_run = 1;
		c->last_end_ms = loop_now_ms();
		reg->inflight--;
	} else {
		TAILQ_REMOVE(&c->queue, w, entry);
		c->nqueued--;
		reg->queued--;
	}
	loop_event_free(w->timer);
	free(w);
	controller_dirty(c);
}

void
controller_extend(struct controller_wait *w, uint64_t deadline_ms)
{
	struct timeval tv;
	uint64_t now = loop_now_ms();

	if (w->state != CONTROLLER_WAIT_QUEUED)
		return;
	loop_ms_to_timeval(deadline_ms > now ? deadline_ms - now : 0, &tv);
	evtimer_add(w->timer, &tv);
}

/* What w has been waiting for (at its deadline, still queued). */
void
controller_wait_describe(const struct controller_wait *w, char *buf,
    size_t size)
{
	const struct controller *c = w->c;
	const struct controller_wait *x;
	uint64_t waited = loop_now_ms() - w->since_ms;
	size_t ahead = c->busy != NULL ? 1 : 0;

	TAILQ_FOREACH(x, &c->queue, entry) {
		if (x == w)
			break;
		ahead++;
	}
	if (ahead > 0)
		snprintf(buf, size,
		    "queued %.1fs for %s behind %zu operation%s", waited / 1e3,
		    c->name, ahead, ahead == 1 ? "" : "s");
	else if (c->in_ready)
		snprintf(buf, size,
		    "queued %.1fs for %s: fan-out cap (%u operations in "
		    "flight)",
		    waited / 1e3, c->name, c->reg->inflight);
	else if (c->timer_armed)
		snprintf(buf, size,
		    "queued %.1fs for %s: minimum interval %.1fs between "
		    "operations",
		    waited / 1e3, c->name, c->interval_ms / 1e3);
	else
		snprintf(buf, size, "queued %.1fs for %s", waited / 1e3,
		    c->name);
}

static void
controller_expire_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct controller_wait *w = arg;
	struct controller *c = w->c;
	char why[160];

	assert(w->state == CONTROLLER_WAIT_QUEUED);
	controller_wait_describe(w, why, sizeof why);
	TAILQ_REMOVE(&c->queue, w, entry);
	c->nqueued--;
	c->reg->queued--;
	c->reg->expired++;
	log_debug("controller %s %s: %s", controller_kind_name(c->kind),
	    c->name, why);
	controller_dirty(c);
	w->expire_cb(w, why, w->arg);
	loop_event_free(w->timer);
	free(w);
}

void
controller_registry_stats(const struct controller_registry *reg,
    struct controller_stats *st)
{
	memset(st, 0, sizeof *st);
	st->inflight = reg->inflight;
	st->max_inflight = reg->max_inflight;
	st->queued = reg->queued;
	st->granted = reg->granted;
	st->expired = reg->expired;
	st->controllers = reg->ncontrollers;
}

uint64_t
controller_granted(const struct controller *c)
{
	return (c->granted);
}
