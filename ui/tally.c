/*
 * The run tally: nodes in an array sorted by name, found by binary
 * search (events name their node), with the count per phase kept up to
 * date on each change so that a status line costs nothing to draw even
 * with thousands of nodes. The percent sum is recomputed on demand: a
 * walk over the nodes, at most about ten times a second.
 */
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/bus.h"
#include "ui/tally.h"

struct tally {
	struct tally_node *nodes; /* sorted by name */
	size_t n;
	size_t counts[PHASE__COUNT];
};

struct tally *
tally_new(void)
{
	return (xcalloc(1, sizeof(struct tally)));
}

static void
tally_clear(struct tally *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->nodes[i].name);
	free(t->nodes);
	t->nodes = NULL;
	t->n = 0;
	memset(t->counts, 0, sizeof t->counts);
}

void
tally_free(struct tally *t)
{
	if (t == NULL)
		return;
	tally_clear(t);
	free(t);
}

static int
tally_cmp(const void *a, const void *b)
{
	const struct tally_node *na = a, *nb = b;

	return (strcmp(na->name, nb->name));
}

static void
tally_start(struct tally *t, const struct bus_event *ev)
{
	size_t i, j;

	tally_clear(t);
	t->nodes = xcalloc(ev->run_start.nnodes + 1, sizeof *t->nodes);
	for (i = 0; i < ev->run_start.nnodes; i++) {
		t->nodes[i].name = xstrdup(ev->run_start.nodes[i]);
		t->nodes[i].phase = PHASE_QUEUED;
		t->nodes[i].percent = -1;
	}
	qsort(t->nodes, ev->run_start.nnodes, sizeof *t->nodes, tally_cmp);
	/* A name given twice is one node. */
	for (i = j = 0; i < ev->run_start.nnodes; i++) {
		if (j > 0 &&
		    strcmp(t->nodes[j - 1].name, t->nodes[i].name) == 0)
			free(t->nodes[i].name);
		else
			t->nodes[j++] = t->nodes[i];
	}
	t->n = j;
	t->counts[PHASE_QUEUED] = j;
}

struct tally_node *
tally_find(struct tally *t, const char *name)
{
	struct tally_node key;

	if (name == NULL || t->n == 0)
		return (NULL);
	key.name = (char *)name;
	return (bsearch(&key, t->nodes, t->n, sizeof *t->nodes, tally_cmp));
}

static void
tally_move(struct tally *t, struct tally_node *tn, enum phase p)
{
	t->counts[tn->phase]--;
	tn->phase = p;
	t->counts[p]++;
}

void
tally_event(struct tally *t, const struct bus_event *ev)
{
	struct tally_node *tn;

	if (ev->type == BUS_RUN_START) {
		tally_start(t, ev);
		return;
	}
	if ((tn = tally_find(t, ev->node)) == NULL)
		return;
	switch (ev->type) {
	case BUS_NODE_STATE:
		switch (ev->node_state.new) {
		case NODE_NEW:
		case NODE_QUEUED:
			tally_move(t, tn, PHASE_QUEUED);
			break;
		case NODE_RUNNING:
			tally_move(t, tn, phase_lookup(ev->node_state.step));
			break;
		case NODE_STOPPING:
			tally_move(t, tn, PHASE_STOPPING);
			break;
		case NODE_DONE:
			tally_move(t, tn,
			    ev->node_state.outcome == NODE_OUT_OK
				? PHASE_DONE
				: PHASE_FAILED);
			break;
		default:
			break;
		}
		break;
	case BUS_NODE_STEP:
		/* Finishing steps of a stopping node keep it stopping. */
		if (tn->phase != PHASE_STOPPING && tn->phase != PHASE_DONE &&
		    tn->phase != PHASE_FAILED)
			tally_move(t, tn, phase_lookup(ev->node_step.step));
		break;
	case BUS_NODE_PROGRESS:
		if (ev->node_progress.percent >= 0)
			tn->percent = ev->node_progress.percent > 100
			    ? 100
			    : ev->node_progress.percent;
		break;
	default:
		break;
	}
}

size_t
tally_nodes(const struct tally *t)
{
	return (t->n);
}

size_t
tally_count(const struct tally *t, enum phase p)
{
	if ((unsigned)p >= PHASE__COUNT)
		return (0);
	return (t->counts[p]);
}

int
tally_percent(const struct tally *t)
{
	unsigned long long sum = 0;
	size_t i, n = 0;

	for (i = 0; i < t->n; i++) {
		switch (t->nodes[i].phase) {
		case PHASE_FAILED:
			continue;
		case PHASE_DONE:
			sum += 100;
			break;
		default:
			if (t->nodes[i].percent > 0)
				sum += (unsigned)t->nodes[i].percent;
			break;
		}
		n++;
	}
	if (n == 0)
		return (100);
	return ((int)(sum / n));
}
