/*
 * The monitor's model: one row per node, updated from bus events, and the
 * counts by phase the header shows. Step names map to the phase a user
 * thinks in (booting, imaging, waiting for ssh); a step we do not know
 * shows as "running" with its own name (ui/phase.c has the one table,
 * shared with the plain status line). Counts are kept as rows change,
 * so a frame never walks a thousand nodes to count them.
 */
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/loop.h"
#include "ui/monitor-int.h"

/*
 * Phases are ui/phase.h's, as the plain status line counts them; only the
 * header's word for nodes not started yet is the one a user watching a
 * load expects.
 */
const char *
monitor_phase_name(enum phase phase)
{
	return (phase == PHASE_QUEUED ? "waiting" : phase_name(phase));
}

uint64_t
monitor_now(const struct monitor *m)
{
	if (m->now_ms != NULL)
		return (m->now_ms(m->now_arg));
	return (loop_now_ms());
}

static struct mon_node *
mon_find(struct monitor *m, const char *name)
{
	size_t lo = 0, hi = m->nnodes, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(name, m->byname[mid]->name);
		if (c == 0)
			return (m->byname[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (NULL);
}

/* A node not seen yet: appended to the display and counted as waiting. */
static struct mon_node *
mon_add(struct monitor *m, const char *name)
{
	struct mon_node *n;
	size_t i;

	if ((n = mon_find(m, name)) != NULL)
		return (n);
	if (m->nnodes == m->cap) {
		m->cap = m->cap == 0 ? 64 : m->cap * 2;
		m->nodes = xreallocarray(m->nodes, m->cap, sizeof *m->nodes);
		m->byname = xreallocarray(m->byname, m->cap, sizeof *m->byname);
	}
	n = xcalloc(1, sizeof *n);
	n->name = xstrdup(name);
	n->index = m->nnodes;
	n->phase = PHASE_QUEUED;
	n->percent = -1;
	n->rate = -1;
	m->nodes[m->nnodes] = n;
	/* Insert in name order (run-start names come sorted: cheap). */
	for (i = m->nnodes; i > 0 && strcmp(m->byname[i - 1]->name, name) > 0;
	     i--)
		m->byname[i] = m->byname[i - 1];
	m->byname[i] = n;
	m->nnodes++;
	m->counts[PHASE_QUEUED]++;
	return (n);
}

static void
mon_set_phase(struct monitor *m, struct mon_node *n, enum phase phase)
{
	m->counts[n->phase]--;
	n->phase = phase;
	m->counts[n->phase]++;
}

static void
mon_set_text(char **p, const char *text)
{
	free(*p);
	*p = text != NULL ? xstrdup(text) : NULL;
}

static void
mon_ring_add(struct monitor *m, struct mon_node *n, uint64_t ms,
    enum log_level level, enum bus_source source, const char *text)
{
	struct mon_msg *msg = &n->ring[n->head];

	free(msg->text);
	msg->text = xstrdup(text);
	msg->ms = ms >= m->start_ms ? ms - m->start_ms : 0;
	msg->level = level;
	msg->source = source;
	n->head = (n->head + 1) % MON_RING;
	if (n->nring < MON_RING)
		n->nring++;
}

const struct mon_msg *
monitor_model_msg(const struct mon_node *n, size_t i)
{
	if (i >= n->nring)
		return (NULL);
	return (&n->ring[(n->head + MON_RING - 1 - i) % MON_RING]);
}

static void
mon_state(struct monitor *m, struct mon_node *n, const struct bus_event *ev)
{
	char line[512];

	n->state = ev->node_state.new;
	switch (n->state) {
	case NODE_NEW:
	case NODE_QUEUED:
		mon_set_phase(m, n, PHASE_QUEUED);
		break;
	case NODE_RUNNING:
		if (n->start_ms == 0)
			n->start_ms = ev->mono_ms;
		if (n->phase == PHASE_QUEUED)
			mon_set_phase(m, n, PHASE_BOOTING);
		break;
	case NODE_STOPPING:
		mon_set_phase(m, n, PHASE_STOPPING);
		break;
	case NODE_DONE:
		n->end_ms = ev->mono_ms;
		n->outcome = ev->node_state.outcome;
		mon_set_text(&n->why, ev->node_state.why);
		mon_set_phase(m, n,
		    n->outcome == NODE_OUT_OK ? PHASE_DONE : PHASE_FAILED);
		if (n->outcome == NODE_OUT_OK && n->percent >= 0)
			n->percent = 100;
		break;
	default:
		break;
	}
	snprintf(line, sizeof line, "state %s%s%s%s%s",
	    node_state_name(n->state), n->state == NODE_DONE ? " " : "",
	    n->state == NODE_DONE ? node_outcome_name(n->outcome) : "",
	    ev->node_state.why != NULL ? ": " : "",
	    ev->node_state.why != NULL ? ev->node_state.why : "");
	mon_ring_add(m, n, ev->mono_ms, LOG_LEVEL_DEBUG, BUS_SOURCE_ENGINE,
	    line);
}

static void
mon_step(struct monitor *m, struct mon_node *n, const struct bus_event *ev)
{
	char line[256];

	mon_set_text(&n->step, ev->node_step.step);
	n->finishing = ev->node_step.finishing;
	if (n->state != NODE_DONE && n->state != NODE_STOPPING)
		mon_set_phase(m, n,
		    n->finishing ? PHASE_STOPPING
				 : phase_lookup(ev->node_step.step));
	snprintf(line, sizeof line, "step %zu/%zu %s%s",
	    ev->node_step.index + 1, ev->node_step.count, ev->node_step.step,
	    n->finishing ? " (finishing)" : "");
	mon_ring_add(m, n, ev->mono_ms, LOG_LEVEL_DEBUG, BUS_SOURCE_ENGINE,
	    line);
}

static void
mon_run_start(struct monitor *m, const struct bus_event *ev)
{
	size_t i;

	m->started = 1;
	m->start_ms = ev->mono_ms;
	mon_set_text(&m->what, ev->run_start.what);
	for (i = 0; i < ev->run_start.nnodes; i++)
		mon_add(m, ev->run_start.nodes[i]);
}

static void
mon_run_end(struct monitor *m, const struct bus_event *ev)
{
	struct mon_node *n;
	size_t i;

	m->ended = 1;
	m->end_ms = ev->mono_ms;
	m->interrupted = ev->run_end.interrupted;
	/* Outcomes the node-state events may not have carried (run_abort). */
	for (i = 0; i < ev->run_end.nnodes; i++) {
		n = mon_add(m, ev->run_end.nodes[i]);
		n->outcome = ev->run_end.outcomes[i];
		if (n->state != NODE_DONE) {
			n->state = NODE_DONE;
			n->end_ms = ev->mono_ms;
		}
		if (ev->run_end.whys[i] != NULL)
			mon_set_text(&n->why, ev->run_end.whys[i]);
		mon_set_phase(m, n,
		    n->outcome == NODE_OUT_OK ? PHASE_DONE : PHASE_FAILED);
	}
}

void
monitor_model_event(struct monitor *m, const struct bus_event *ev)
{
	struct mon_node *n = NULL;

	if (!m->started && ev->type != BUS_RUN_START) {
		m->started = 1;
		m->start_ms = ev->mono_ms;
	}
	if (ev->node != NULL)
		n = mon_add(m, ev->node);
	switch (ev->type) {
	case BUS_RUN_START:
		mon_run_start(m, ev);
		break;
	case BUS_NODE_STATE:
		if (n != NULL)
			mon_state(m, n, ev);
		break;
	case BUS_NODE_STEP:
		if (n != NULL)
			mon_step(m, n, ev);
		break;
	case BUS_NODE_PROGRESS:
		if (n == NULL)
			break;
		if (ev->node_progress.percent >= 0)
			n->percent = ev->node_progress.percent;
		n->bytes = ev->node_progress.bytes;
		n->rate = ev->node_progress.rate;
		break;
	case BUS_NODE_MESSAGE:
		if (n == NULL)
			break;
		mon_ring_add(m, n, ev->mono_ms, ev->node_message.level,
		    ev->node_message.source, ev->node_message.text);
		if (ev->node_message.level <= LOG_LEVEL_INFO) {
			mon_set_text(&n->last, ev->node_message.text);
			n->last_level = ev->node_message.level;
		}
		break;
	case BUS_RUN_INFO:
		if (ev->run_info.level <= LOG_LEVEL_INFO) {
			mon_set_text(&m->info, ev->run_info.text);
			m->info_level = ev->run_info.level;
		}
		break;
	case BUS_RUN_END:
		mon_run_end(m, ev);
		break;
	default:
		break;
	}
}

void
monitor_model_free(struct monitor *m)
{
	struct mon_node *n;
	size_t i, k;

	for (i = 0; i < m->nnodes; i++) {
		n = m->nodes[i];
		for (k = 0; k < MON_RING; k++)
			free(n->ring[k].text);
		free(n->name);
		free(n->step);
		free(n->last);
		free(n->why);
		free(n);
	}
	free(m->nodes);
	free(m->byname);
	free(m->what);
	free(m->info);
}
