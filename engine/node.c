/*
 * Nodes: state, outcome, the deadline timer, and the two ways a node
 * speaks (state changes and messages), both logged and published.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/bus.h"
#include "engine/loop.h"
#include "engine/node.h"
#include "engine/step.h"
#include "inventory/inventory.h"

static const char *node_state_names[] = {
#define NODE_STATE_NAME(id, name) [NODE_##id] = name,
    NODE_STATES(NODE_STATE_NAME)
#undef NODE_STATE_NAME
};
_Static_assert(nitems(node_state_names) == NODE_STATE__COUNT,
    "one name per node state");

static const char *node_outcome_names[] = {
#define NODE_OUTCOME_NAME(id, name) [NODE_OUT_##id] = name,
    NODE_OUTCOMES(NODE_OUTCOME_NAME)
#undef NODE_OUTCOME_NAME
};
_Static_assert(nitems(node_outcome_names) == NODE_OUT__COUNT,
    "one name per node outcome");

/*
 * Allowed transitions: forward only, and never back to NEW. QUEUED may go
 * straight to DONE (cancelled or timed out before it started).
 */
static int
node_transition_ok(enum node_state from, enum node_state to)
{
	switch (from) {
	case NODE_NEW:
		return (to == NODE_QUEUED);
	case NODE_QUEUED:
		return (to == NODE_RUNNING || to == NODE_DONE);
	case NODE_RUNNING:
		return (to == NODE_STOPPING || to == NODE_DONE);
	case NODE_STOPPING:
		return (to == NODE_DONE);
	default:
		return (0);
	}
}

struct node *
node_new(struct run *run, struct bus *bus, const struct inv_node *inv,
    void (*deadline_cb)(int, short, void *))
{
	struct node *n;

	n = xcalloc(1, sizeof *n);
	n->inv = inv;
	n->run = run;
	n->bus = bus;
	n->state = NODE_NEW;
	n->outcome = NODE_OUT_NONE;
	n->deadline = evtimer_new(loop_base(), deadline_cb, n);
	if (n->deadline == NULL) {
		/* Only out of memory makes this fail. */
		log_error("%s: evtimer_new failed", __func__);
		abort();
	}
	return (n);
}

void
node_free(struct node *n)
{
	if (n == NULL)
		return;
	assert(!n->step_live);
	event_free(n->deadline);
	free(n->why);
	free(n->stop_why);
	free(n->first_why);
	free(n);
}

const char *
node_name(const struct node *n)
{
	return (n->inv->name);
}

void
node_set_state(struct node *n, enum node_state state, const char *fmt, ...)
{
	struct bus_event ev;
	enum node_state old = n->state;
	va_list ap;
	char *why = NULL;
	const char *step = NULL;

	assert(NODE_STATE_VALID(state));
	assert(node_transition_ok(old, state));
	if (fmt != NULL) {
		va_start(ap, fmt);
		xvasprintf(&why, fmt, ap);
		va_end(ap);
	}
	n->state = state;
	if (state == NODE_DONE && n->outcome == NODE_OUT_NONE)
		n->outcome = NODE_OUT_OK;
	if (n->step < n->nsteps)
		step = n->plan[n->step].def->name;

	if (state == NODE_DONE)
		log_info("%s: state %s -> %s: %s%s%s%s", node_name(n),
		    node_state_name(old), node_state_name(state),
		    node_outcome_name(n->outcome), why != NULL ? " (" : "",
		    why != NULL ? why : "", why != NULL ? ")" : "");
	else
		log_info("%s: state %s -> %s%s%s%s", node_name(n),
		    node_state_name(old), node_state_name(state),
		    why != NULL ? " (" : "", why != NULL ? why : "",
		    why != NULL ? ")" : "");

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_STATE;
	ev.node = node_name(n);
	ev.node_state.old = old;
	ev.node_state.new = state;
	ev.node_state.why = why;
	ev.node_state.step = step;
	ev.node_state.outcome = n->outcome;
	bus_publish(n->bus, &ev);
	free(why);
}

void
node_raw(struct node *n, const char *line, int truncated)
{
	struct bus_event ev;

	log_info("%s: raw: %s%s", node_name(n), line,
	    truncated ? " [truncated]" : "");
	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_MESSAGE;
	ev.node = node_name(n);
	ev.node_message.level = LOG_LEVEL_DEBUG;
	ev.node_message.source = BUS_SOURCE_STDOUT;
	ev.node_message.text = line;
	bus_publish(n->bus, &ev);
}

void
node_step(struct node *n, int finishing)
{
	struct bus_event ev;

	assert(n->step < n->nsteps);
	log_debug("%s: step %s%s", node_name(n), n->plan[n->step].def->name,
	    finishing ? " (finishing)" : "");
	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_STEP;
	ev.node = node_name(n);
	ev.node_step.step = n->plan[n->step].def->name;
	ev.node_step.index = n->step;
	ev.node_step.count = n->nsteps;
	ev.node_step.finishing = finishing;
	bus_publish(n->bus, &ev);
}

void
node_set_outcome(struct node *n, enum node_outcome outcome, const char *fmt,
    ...)
{
	va_list ap;

	assert(NODE_OUTCOME_VALID(outcome));
	assert(n->state != NODE_DONE);
	n->outcome = outcome;
	free(n->why);
	n->why = NULL;
	if (fmt != NULL) {
		va_start(ap, fmt);
		xvasprintf(&n->why, fmt, ap);
		va_end(ap);
	}
}

void
node_arm_deadline(struct node *n, uint64_t ms)
{
	struct timeval tv;

	loop_ms_to_timeval(ms, &tv);
	evtimer_add(n->deadline, &tv);
}

void
node_clear_deadline(struct node *n)
{
	evtimer_del(n->deadline);
}

void
node_message(struct node *n, enum log_level level, const char *fmt, ...)
{
	struct bus_event ev;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	log_write(level, "%s: %s", node_name(n), text);

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_MESSAGE;
	ev.node = node_name(n);
	ev.node_message.level = level;
	ev.node_message.source = BUS_SOURCE_ENGINE;
	ev.node_message.text = text;
	bus_publish(n->bus, &ev);
	free(text);
}

void
node_output(struct node *n, int is_stderr, const char *line)
{
	struct bus_event ev;
	enum bus_source source;

	source = is_stderr ? BUS_SOURCE_STDERR : BUS_SOURCE_STDOUT;
	log_info("%s: %s: %s", node_name(n), bus_source_name(source), line);
	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_MESSAGE;
	ev.node = node_name(n);
	ev.node_message.level = LOG_LEVEL_INFO;
	ev.node_message.source = source;
	ev.node_message.text = line;
	bus_publish(n->bus, &ev);
}

void
node_progress(struct node *n, int percent, uint64_t bytes, double rate)
{
	struct bus_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_PROGRESS;
	ev.node = node_name(n);
	ev.node_progress.percent = percent;
	ev.node_progress.bytes = bytes;
	ev.node_progress.rate = rate;
	bus_publish(n->bus, &ev);
}

const char *
node_state_name(enum node_state state)
{
	assert(NODE_STATE_VALID(state));
	return (node_state_names[state]);
}

const char *
node_outcome_name(enum node_outcome outcome)
{
	assert(NODE_OUTCOME_VALID(outcome));
	return (node_outcome_names[outcome]);
}

enum node_outcome
node_outcome_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(node_outcome_names); i++) {
		if (strcmp(node_outcome_names[i], name) == 0)
			return ((enum node_outcome)i);
	}
	return (NODE_OUT__COUNT);
}
