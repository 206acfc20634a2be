/*
 * A tally of a run, kept from its bus events: each node's phase
 * (ui/phase.h) and last known percent, the number of nodes per phase,
 * and one global percent for a progress bar. A renderer feeds it every
 * event it gets; it never publishes anything.
 *
 * Global percent: the mean, over the nodes that have not failed, of each
 * node's progress, where a node done ok counts 100, a node still going
 * counts its last reported percent (0 before any report), and a failed
 * node is left out of the mean (it will never get there, and it should
 * not hold the bar back). With every node failed, or no node, it is 100.
 */
#ifndef UI_TALLY_H
#define UI_TALLY_H

#include <stddef.h>

#include "ui/phase.h"

struct bus_event;

struct tally_node {
	char *name;
	enum phase phase;
	int percent; /* last reported, 0-100, or -1 before any */
	int mark;    /* free for the tally's user (a renderer's own state) */
};

struct tally;

struct tally *tally_new(void);
void tally_free(struct tally *);

/* Follow one event; run-start resets the tally to the run's nodes. */
void tally_event(struct tally *, const struct bus_event *);

/* The node named name in the current run, or NULL. */
struct tally_node *tally_find(struct tally *, const char *name);
size_t tally_nodes(const struct tally *);
size_t tally_count(const struct tally *, enum phase);
/* 0-100, as defined above. */
int tally_percent(const struct tally *);

#endif
