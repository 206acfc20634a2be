/*
 * The bus. Sinks live on a list; dispatch walks it, skipping sinks that
 * were removed (dead) or added (newer generation) since the event started.
 * Dead sinks are freed when the outermost dispatch returns, so a callback
 * can always unsubscribe, even itself.
 */
#include <assert.h>
#include <stdlib.h>
#include <time.h>

#include "common/xmalloc.h"
#include "engine/bus.h"

struct bus_sink {
	struct bus *bus;
	bus_cb cb;
	void *arg;
	uint64_t since; /* generation when subscribed */
	int dead;
	TAILQ_ENTRY(bus_sink) entry;
};

struct bus {
	TAILQ_HEAD(, bus_sink) sinks;
	uint64_t generation; /* of the latest event */
	unsigned depth;      /* nested dispatches */
	unsigned ndead;
	void (*clock)(uint64_t *, uint64_t *, void *);
	void *clock_arg;
};

static const char *bus_event_names[] = {
#define BUS_EVENT_NAME(id, name) [BUS_##id] = name,
    BUS_EVENTS(BUS_EVENT_NAME)
#undef BUS_EVENT_NAME
};
_Static_assert(nitems(bus_event_names) == BUS_EVENT__COUNT,
    "one name per bus event");

static void bus_reap(struct bus *);

struct bus *
bus_new(void)
{
	struct bus *bus;

	bus = xcalloc(1, sizeof *bus);
	TAILQ_INIT(&bus->sinks);
	return (bus);
}

void
bus_free(struct bus *bus)
{
	struct bus_sink *s;

	if (bus == NULL)
		return;
	assert(bus->depth == 0);
	while ((s = TAILQ_FIRST(&bus->sinks)) != NULL) {
		TAILQ_REMOVE(&bus->sinks, s, entry);
		free(s);
	}
	free(bus);
}

struct bus_sink *
bus_subscribe(struct bus *bus, bus_cb cb, void *arg)
{
	struct bus_sink *s;

	s = xcalloc(1, sizeof *s);
	s->bus = bus;
	s->cb = cb;
	s->arg = arg;
	s->since = bus->generation;
	TAILQ_INSERT_TAIL(&bus->sinks, s, entry);
	return (s);
}

void
bus_unsubscribe(struct bus_sink *s)
{
	struct bus *bus;

	if (s == NULL || s->dead)
		return;
	bus = s->bus;
	if (bus->depth > 0) {
		/* The walk in progress may hold s: free it afterwards. */
		s->dead = 1;
		bus->ndead++;
		return;
	}
	TAILQ_REMOVE(&bus->sinks, s, entry);
	free(s);
}

/* Free the sinks removed during dispatch. */
static void
bus_reap(struct bus *bus)
{
	struct bus_sink *s, *s1;

	TAILQ_FOREACH_SAFE(s, &bus->sinks, entry, s1) {
		if (!s->dead)
			continue;
		TAILQ_REMOVE(&bus->sinks, s, entry);
		free(s);
	}
	bus->ndead = 0;
}

static void
bus_default_clock(uint64_t *mono, uint64_t *wall, void *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	*mono = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	clock_gettime(CLOCK_REALTIME, &ts);
	*wall = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
bus_set_clock(struct bus *bus, void (*clock)(uint64_t *, uint64_t *, void *),
    void *arg)
{
	bus->clock = clock;
	bus->clock_arg = arg;
}

void
bus_publish(struct bus *bus, struct bus_event *ev)
{
	struct bus_sink *s;
	uint64_t generation;

	assert((unsigned)ev->type < BUS_EVENT__COUNT);
	if (bus->clock != NULL)
		bus->clock(&ev->mono_ms, &ev->wall_ms, bus->clock_arg);
	else
		bus_default_clock(&ev->mono_ms, &ev->wall_ms, NULL);

	/*
	 * Sinks are only ever appended and, while depth > 0, never freed, so
	 * the plain walk is safe even when callbacks change the list.
	 */
	generation = ++bus->generation;
	bus->depth++;
	TAILQ_FOREACH(s, &bus->sinks, entry) {
		if (s->dead || s->since >= generation)
			continue;
		s->cb(ev, s->arg);
	}
	if (--bus->depth == 0 && bus->ndead > 0)
		bus_reap(bus);
}

const char *
bus_event_name(enum bus_event_type type)
{
	assert((unsigned)type < BUS_EVENT__COUNT);
	return (bus_event_names[type]);
}

const char *
bus_source_name(enum bus_source source)
{
	switch (source) {
	case BUS_SOURCE_STDOUT:
		return ("stdout");
	case BUS_SOURCE_STDERR:
		return ("stderr");
	default:
		return ("engine");
	}
}
