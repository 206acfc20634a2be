/*
 * The output of a node's imaging shell, as rhubarb reads it over telnet:
 * the frisbee client's lines (notes/rhubarbe.md 2.1.E) and the shell's
 * status line. A pure, incremental parser: bytes in, in any chunks, typed
 * events out through a callback, with integers only. No I/O, no loop.
 *
 * Lines end with "\n"; a "\r" before it is dropped, and so are NUL bytes
 * (telnet's "\r\0" is a bare carriage return). A line longer than
 * FRISBEE_LINE_MAX is cut there: its first FRISBEE_LINE_MAX bytes are
 * reported as a truncated line, the rest up to the newline is skipped, and
 * a truncated line yields no other event. For each line, a LINE event
 * first (the raw text, for the log), then, in this order, whichever match:
 *
 *	[.sz]{1,75} N REMAINING ...  PROGRESS from remaining chunks (needs a
 *				     JOINED first: the total)
 *	... team after ... File is N chunks ...   JOINED, then PROGRESS 0
 *	Progress: N% ...             PROGRESS N (0..100)
 *	Wrote N bytes (M ...         WROTE, then PROGRESS 100
 *	... Short write ...          SHORT_WRITE
 *	_TELNET_STATUS=N             STATUS (nothing else on the line but
 *				     blanks: the shell's echo of the command,
 *				     "echo _TELNET_STATUS=$?", never matches)
 *
 * Matching looks at the text after the last carriage return inside the
 * line (what a terminal would show there: a shell may put "\r" or an
 * escape sequence ending in one before the next output), and all but
 * JOINED and SHORT_WRITE are anchored at its start. A number too large for
 * its type is no match.
 */
#ifndef DRIVERS_FRISBEE_PARSE_H
#define DRIVERS_FRISBEE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define FRISBEE_LINE_MAX 4096

enum frisbee_event_type {
	FRISBEE_EV_LINE,        /* every line, raw */
	FRISBEE_EV_JOINED,      /* chunks */
	FRISBEE_EV_PROGRESS,    /* percent */
	FRISBEE_EV_WROTE,       /* total, actual */
	FRISBEE_EV_SHORT_WRITE, /* the disk write failed */
	FRISBEE_EV_STATUS,      /* status: the shell's $? */
};

struct frisbee_event {
	enum frisbee_event_type type;
	const char *line; /* the line, NUL-terminated, without "\r\n" */
	size_t len;
	int truncated; /* the line was longer than FRISBEE_LINE_MAX */
	uint64_t chunks;
	int percent; /* 0..100 */
	uint64_t total;
	uint64_t actual;
	int status; /* 0..INT_MAX */
};

typedef void (*frisbee_parse_cb)(const struct frisbee_event *, void *arg);

struct frisbee_parser;

struct frisbee_parser *frisbee_parse_new(frisbee_parse_cb, void *arg);
void frisbee_parse_free(struct frisbee_parser *);
/* Feed bytes; events for every line completed by them. */
void frisbee_parse_feed(struct frisbee_parser *, const void *, size_t);
/* End of input: a last line without its newline is reported now. */
void frisbee_parse_finish(struct frisbee_parser *);
/* The total chunks from the last JOINED, 0 if none yet. */
uint64_t frisbee_parse_chunks(const struct frisbee_parser *);

#endif
