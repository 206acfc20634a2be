/*
 * The monitor's insides, shared by its files: the model (one row per node,
 * fed by bus events: monitor-model.c), the drawing (monitor-draw.c), the
 * terminal (monitor-term.c) and the loop and keys (monitor.c). Nothing
 * outside ui/monitor*.c includes it.
 */
#ifndef UI_MONITOR_INT_H
#define UI_MONITOR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/log.h"
#include "engine/bus.h"
#include "engine/node.h"
#include "ui/monitor.h"
#include "ui/phase.h"

/* Recent messages kept per node for the detail view. */
#define MON_RING 128

struct mon_msg {
	uint64_t ms; /* since run-start */
	enum log_level level;
	enum bus_source source;
	char *text;
};

struct mon_node {
	char *name;
	size_t index; /* in display order */
	enum phase phase;
	enum node_state state;
	enum node_outcome outcome;
	char *step; /* current step name, or NULL */
	int finishing;
	int percent; /* -1 unknown */
	uint64_t bytes;
	double rate;               /* bytes/s, < 0 unknown */
	uint64_t start_ms, end_ms; /* monotonic; 0 not yet */
	char *last;                /* last message at info level or above */
	enum log_level last_level;
	char *why; /* outcome detail */
	struct mon_msg ring[MON_RING];
	size_t nring, head; /* head: next slot */
};

enum mon_view {
	MON_VIEW_LIST,
	MON_VIEW_DETAIL,
	MON_VIEW_HELP,
};

struct monitor {
	struct bus_sink *sink;
	char *title;
	void (*abort)(void *);
	void *abort_arg;
	uint64_t (*now_ms)(void *);
	void *now_arg;
	int flags;

	/* The model. */
	struct mon_node **nodes; /* display order */
	size_t nnodes, cap;
	struct mon_node **byname; /* sorted by name, for lookup */
	size_t counts[PHASE__COUNT];
	int started;
	uint64_t start_ms, end_ms;
	char *what; /* run name from run-start */
	char *info; /* last run-info text */
	enum log_level info_level;
	int ended, interrupted;
	size_t nfailed_names; /* failed nodes, for the summary */

	/* The screen. */
	void *screen; /* SCREEN *, opaque here */
	int colour, utf8;
	struct event *ev_stdin, *ev_timer, *ev_tick, *ev_winch;
	int dirty;
	enum mon_view view, back; /* back: the view help returns to */
	size_t cursor, top;       /* list: selected row, first shown */
	size_t detail;            /* node shown in detail */
	size_t detail_up;         /* lines scrolled up from the tail */
	int confirm;              /* "abort? y/n" asked */
	int aborting;
	int finished, waiting; /* monitor_finish called; waiting for a key */
	uint64_t frames;
	int list_rows; /* rows for nodes at the last draw, for page keys */
};

/* monitor-model.c */
void monitor_model_event(struct monitor *, const struct bus_event *);
void monitor_model_free(struct monitor *);
const char *monitor_phase_name(enum phase);
/* The i-th most recent message of n (0 newest), or NULL. */
const struct mon_msg *monitor_model_msg(const struct mon_node *, size_t);
uint64_t monitor_now(const struct monitor *);

/* monitor-draw.c */
/* Set the colour pairs (after start_color). */
void monitor_draw_colours(void);
void monitor_draw(struct monitor *);
/* The end-of-run summary as plain lines on f (after curses has ended). */
void monitor_draw_summary_text(struct monitor *, FILE *);

/* monitor-term.c */
int monitor_term_open(struct monitor *, char **errp);
void monitor_term_resize(struct monitor *);
void monitor_term_close(struct monitor *);

#endif
