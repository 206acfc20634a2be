/*
 * Renderers: bus sinks that turn engine events into output.
 *
 * Plain: one line per message, "HH:MM:SS +NNNs node text" (local time,
 * seconds since run-start, the node column padded to the longest name of
 * the run; run-wide messages have no node column). Node state changes are
 * messages too; run-end prints a summary and, per outcome, the folded
 * list of nodes.
 *
 * On a terminal (RENDER_PLAIN_TTY, decided by the caller), one status
 * line stays at the bottom, erased before each message line and drawn
 * again after it, and redrawn at most every RENDER_PLAIN_REDRAW_MS:
 *
 *	exec 12 nodes [#########.......] 58%  7 done 3 imaging 2 failed  01:23
 *
 * (the global percent and the counts per phase of ui/tally.h), and it
 * replaces the per-node progress lines. Without a terminal, no escape or
 * carriage-return character is ever written, and a node's progress is
 * printed only when it reaches a new quarter (its first report, then 25,
 * 50, 75 and 100%), reports without a percent not at all (-v: all).
 * Colours (RENDER_PLAIN_COLOR, only ever with a terminal): errors and
 * failures red, warnings yellow, ok green.
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
#include <stdint.h>

struct bus;
struct event_base;

/* Plain renderer flags. */
#define RENDER_PLAIN_DEBUG  0x1 /* also debug-level messages */
#define RENDER_PLAIN_STATES 0x2 /* every state change, step and progress */
#define RENDER_PLAIN_TTY    0x4 /* a terminal: status line, no progress lines */
#define RENDER_PLAIN_COLOR  0x8 /* colours (only with RENDER_PLAIN_TTY) */
#define RENDER_PLAIN_QUIET  0x10 /* only errors and the final summary */

/* The status line is drawn at most this often. */
#define RENDER_PLAIN_REDRAW_MS 100

struct render_plain;
struct render_json;

struct render_plain *render_plain_new(struct bus *, FILE *, int flags);
void render_plain_free(struct render_plain *);
/*
 * With a terminal: its width (0: ask the terminal each time, else 80), and
 * the loop whose timer redraws a status line left stale by the rate limit
 * and ticks its clock (NULL: redraw on events only, as tests do). The
 * timer is freed at run-end or by render_plain_free, which must then come
 * before the loop is freed.
 */
void render_plain_set_tty(struct render_plain *, int columns,
    struct event_base *);

struct render_json *render_json_new(struct bus *, FILE *);
void render_json_free(struct render_json *);

#endif
