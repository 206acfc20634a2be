/*
 * The curses monitor (-c): a bus sink that shows a run as it happens, one
 * row per node under a header with the run's global progress and counts by
 * phase, with a detail view per node, help, and an abort that asks first.
 *
 * It runs on the engine's loop (stdin, a redraw timer coalescing events to
 * about 10 frames a second, SIGWINCH) and never calls the engine: the
 * command gives it an abort callback, which normally calls run_cancel.
 * Ctrl-C is left to the loop's SIGINT handling (the terminal is in cbreak
 * mode, not raw), so it cancels the run like in any other mode.
 *
 * Create it after loop_init (its events live on loop_base()) and before
 * run_start; call monitor_finish once the run has ended, then monitor_free
 * before loop_free. The terminal is restored by monitor_free, at exit, and
 * on fatal signals; the summary of outcomes is printed again on the normal
 * screen once curses has ended, so it stays in the terminal.
 *
 * monitor_finish waits for a key only when stdin and stdout are terminals
 * and RHUBARB_MONITOR_NO_WAIT is unset or empty (tests set it to 1).
 * Colours are off when NO_COLOR is set (and not empty), with
 * MONITOR_NO_COLOR, or when the terminal has none; states stay readable
 * from their labels.
 */
#ifndef UI_MONITOR_H
#define UI_MONITOR_H

#include <stdint.h>

struct bus;
struct monitor;

#define MONITOR_NO_COLOR 0x1 /* never use colours */

struct monitor_params {
	/* The first header line: "load sample.ndz @ 500 Mibps". */
	const char *title;
	/* Asked for by 'q' then 'y'; NULL: the monitor cannot abort. */
	void (*abort)(void *);
	void *abort_arg;
	/* Time for elapsed counters; NULL: the loop's monotonic clock. */
	uint64_t (*now_ms)(void *);
	void *now_arg;
	int flags; /* MONITOR_* */
};

/*
 * Take over the terminal and subscribe to bus. NULL with *errp set when
 * there is no usable terminal (the caller falls back to the plain
 * renderer).
 */
struct monitor *monitor_new(struct bus *, const struct monitor_params *,
    char **errp);
/* Draw now what has changed (a test's snapshot point; normally timed). */
void monitor_flush(struct monitor *);
/*
 * The run has ended: show the summary; if a user is there (see above),
 * keep it on screen, browsable, until a key other than a move is pressed.
 */
void monitor_finish(struct monitor *);
/* Frames drawn so far (for the benchmark). */
uint64_t monitor_frames(const struct monitor *);
/* Unsubscribe, restore the terminal, print the summary. NULL is ignored. */
void monitor_free(struct monitor *);

#endif
