/*
 * The bus: typed events published by the engine, delivered in order to
 * every subscribed sink (renderers, audit, the API's event stream).
 *
 * Dispatch is synchronous and a sink must not block; pointers inside an
 * event are valid only during the callback. A sink may unsubscribe itself
 * or any other sink during dispatch (it is marked dead and freed once the
 * outermost dispatch returns), and a sink added during dispatch does not
 * receive the event in flight (generation counter, as tmux events.c).
 */
#ifndef ENGINE_BUS_H
#define ENGINE_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "engine/node.h"

#define BUS_EVENTS(X)                                                          \
	X(RUN_START, "run-start")                                              \
	X(NODE_STATE, "node-state")                                            \
	X(NODE_STEP, "node-step")                                              \
	X(NODE_PROGRESS, "node-progress")                                      \
	X(NODE_MESSAGE, "node-message")                                        \
	X(RUN_INFO, "run-info")                                                \
	X(RUN_END, "run-end")

#define BUS_EVENT_ENUM(id, name) BUS_##id,
enum bus_event_type { BUS_EVENTS(BUS_EVENT_ENUM) BUS_EVENT__COUNT };
#undef BUS_EVENT_ENUM

/* Where a node-message came from. */
enum bus_source {
	BUS_SOURCE_ENGINE, /* the engine or a step */
	BUS_SOURCE_STDOUT, /* a child's standard output */
	BUS_SOURCE_STDERR, /* a child's standard error */
};

struct bus_event {
	enum bus_event_type type;
	uint64_t mono_ms; /* monotonic, set by publish */
	uint64_t wall_ms; /* UTC epoch ms, set by publish */
	const char *node; /* NULL for run-wide events */
	union {
		struct {
			const char *what; /* "exec" */
			const char *const *nodes;
			size_t nnodes;
		} run_start;
		struct {
			enum node_state old;
			enum node_state new;
			const char *why;           /* or NULL */
			const char *step;          /* or NULL */
			enum node_outcome outcome; /* when new is DONE */
		} node_state;
		struct {
			const char *step; /* its name: "frisbee" */
			size_t index;     /* 0-based, in the node's plan */
			size_t count;     /* steps in the plan */
			int finishing;    /* run after a failure or a stop */
		} node_step;
		struct {
			int percent; /* 0-100, -1 unknown */
			uint64_t bytes;
			double rate; /* bytes/s, < 0 unknown */
		} node_progress;
		struct {
			enum log_level level;
			enum bus_source source;
			const char *text;
		} node_message;
		struct {
			enum log_level level;
			const char *text;
		} run_info;
		struct {
			const char *what;
			const char *const *nodes;
			const enum node_outcome *outcomes;
			const char *const *whys; /* entries may be NULL */
			size_t nnodes;
			int interrupted;
		} run_end;
	};
};

struct bus;
struct bus_sink;

typedef void (*bus_cb)(const struct bus_event *, void *);

struct bus *bus_new(void);
/* Frees the remaining sinks; must not be called during dispatch. */
void bus_free(struct bus *);

struct bus_sink *bus_subscribe(struct bus *, bus_cb, void *arg);
void bus_unsubscribe(struct bus_sink *);

/* Stamp ev with the clock and deliver it to every live sink. */
void bus_publish(struct bus *, struct bus_event *ev);

/*
 * Replace the clock used to stamp events (tests make output repeatable).
 * NULL restores CLOCK_MONOTONIC and CLOCK_REALTIME.
 */
void bus_set_clock(struct bus *,
    void (*)(uint64_t *mono_ms, uint64_t *wall_ms, void *), void *arg);

const char *bus_event_name(enum bus_event_type);
const char *bus_source_name(enum bus_source);

#endif
