/*
 * Output options shared by every command that drives a run, so that each
 * gets the same -c/-j/-q/-v without its own getopt code, and one place
 * that turns them into bus sinks:
 *
 *	-c, --curses   the curses monitor
 *	-j, --json     JSON lines (docs/events.md), nothing else on stdout
 *	-q, --quiet    only errors and the final summary
 *	-v, --verbose  every state change, step, progress and debug message
 *
 * Plain is the default; on a terminal (isatty, unless the caller forces
 * it) it keeps a status line, in colour unless NO_COLOR is set and not
 * empty (https://no-color.org).
 *
 * A command lists OUTPUT_LONGOPTS in its option table and
 * OUTPUT_SHORTOPTS in its getopt string, hands every option to
 * output_getopt first, and opens the output between loop_init and the
 * run, closing it before loop_free.
 */
#ifndef UI_OUTPUT_H
#define UI_OUTPUT_H

#include <getopt.h>
#include <stdio.h>

struct bus;

struct output_opts {
	int json;          /* -j */
	int quiet;         /* -q */
	int verbose;       /* -v */
	int curses;        /* -c */
	int tty;           /* 0: ask isatty; 1: a terminal; -1: not one */
	const char *title; /* the monitor's, or NULL */
	/* The monitor's abort ('q', 'y'): normally run_cancel. */
	void (*abort)(void *);
	void *abort_arg;
};

#define OUTPUT_SHORTOPTS "cjqv"
#define OUTPUT_LONGOPTS                                                        \
	{"curses", no_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},  \
	    {"quiet", no_argument, NULL, 'q'},                                 \
	{                                                                      \
		"verbose", no_argument, NULL, 'v'                              \
	}
#define OUTPUT_HELP                                                            \
	"  -c, --curses        the curses monitor\n"                           \
	"  -j, --json          one JSON object per event and line\n"           \
	"  -q, --quiet         only errors and the final summary\n"            \
	"  -v, --verbose       every state change, step and debug message\n"

struct output;

/*
 * An abort for the monitor: arg points to the command's struct run *
 * (NULL until the run exists); the run is cancelled as by a SIGINT.
 */
void output_abort_run(void *arg);

/* Take ch if it is an output option: 1, else 0. */
int output_getopt(struct output_opts *, int ch);

/*
 * Refuse what cannot be had (-c without the monitor, -c with -j) before
 * anything is touched: 0, or -1 with *errp set (a usage error).
 */
int output_check(const struct output_opts *, char **errp);

/*
 * Subscribe the sinks the options ask for, writing to f. NULL with *errp
 * set if output_check would have refused.
 */
struct output *output_open(struct bus *, const struct output_opts *, FILE *,
    char **errp);
/*
 * The run has ended: the monitor shows its summary (and, with a user at
 * the terminal, waits for a key). Before output_close.
 */
void output_finish(struct output *);
/* Unsubscribe and free the sinks; before loop_free. NULL is ignored. */
void output_close(struct output *);

#endif
