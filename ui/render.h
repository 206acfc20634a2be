/*
 * Renderers: bus sinks that turn engine events into output.
 *
 * Plain: one line per message, "HH:MM:SS +NNNs node text" (local time,
 * seconds since run-start, the node column padded to the longest name of
 * the run; run-wide messages have no node column). Node state changes are
 * messages too; run-end prints a summary and, per outcome, the folded
 * list of nodes.
 *
 * JSON: one compact object per event and per line, flushed at once, with
 * "event", "time" (ISO 8601 UTC, ms), "elapsed" (seconds since run-start),
 * "node" (null for run-wide events) and the event's fields.
 *
 * Both only read the events: the clock comes from the event (bus.h), so a
 * test that sets the bus clock gets the same bytes every time.
 */
#ifndef UI_RENDER_H
#define UI_RENDER_H

#include <stdio.h>

struct bus;

/* Plain renderer flags. */
#define RENDER_PLAIN_DEBUG  0x1 /* also debug-level messages */
#define RENDER_PLAIN_STATES 0x2 /* every state change, not just failures */

struct render_plain;
struct render_json;

struct render_plain *render_plain_new(struct bus *, FILE *, int flags);
void render_plain_free(struct render_plain *);

struct render_json *render_json_new(struct bus *, FILE *);
void render_json_free(struct render_json *);

#endif
