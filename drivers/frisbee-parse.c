/*
 * The imaging shell's output, parsed: see frisbee-parse.h for the rules.
 * Hand-written matchers instead of regular expressions, each bounded by
 * the line's length (lines may hold NUL-free arbitrary bytes), and every
 * number parsed with an overflow check, so that no input can crash it or
 * make it report a wrapped value.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "drivers/frisbee-parse.h"

/* rhubarbe's "[\.sz]{60,75}": we also take the short last line. */
#define FRISBEE_DOTS_MAX 75

struct frisbee_parser {
	frisbee_parse_cb cb;
	void *arg;
	uint64_t chunks; /* from the last JOINED */
	size_t len;
	int skipping; /* inside an overlong line, after its cut */
	char buf[FRISBEE_LINE_MAX + 1];
};

static int is_blank(char);
static int is_digit(char);
static int parse_u64(const char *, size_t, size_t *, uint64_t *);
static size_t skip_blanks(const char *, size_t, size_t);
static int has_prefix(const char *, size_t, size_t, const char *);
static int percent_of(uint64_t, uint64_t);
static void emit(struct frisbee_parser *, struct frisbee_event *);
static void emit_progress(struct frisbee_parser *, struct frisbee_event *, int);
static void match_dots(struct frisbee_parser *, struct frisbee_event *,
    const char *, size_t);
static void match_joined(struct frisbee_parser *, struct frisbee_event *,
    const char *, size_t);
static void match_progress(struct frisbee_parser *, struct frisbee_event *,
    const char *, size_t);
static void match_wrote(struct frisbee_parser *, struct frisbee_event *,
    const char *, size_t);
static void match_status(struct frisbee_parser *, struct frisbee_event *,
    const char *, size_t);
static void line_done(struct frisbee_parser *, int);

static int
is_blank(char c)
{
	/* Python's \s, less the line ends a line cannot hold. */
	return (c == ' ' || c == '\t' || c == '\f' || c == '\v');
}

static int
is_digit(char c)
{
	return (c >= '0' && c <= '9');
}

/* One or more digits at p[*ip]; 0 and *ip past them, or -1 (none, too big). */
static int
parse_u64(const char *p, size_t n, size_t *ip, uint64_t *vp)
{
	uint64_t v = 0;
	size_t i = *ip;
	unsigned d;

	if (i >= n || !is_digit(p[i]))
		return (-1);
	for (; i < n && is_digit(p[i]); i++) {
		d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return (-1);
		v = v * 10 + d;
	}
	*ip = i;
	*vp = v;
	return (0);
}

static size_t
skip_blanks(const char *p, size_t n, size_t i)
{
	while (i < n && is_blank(p[i]))
		i++;
	return (i);
}

static int
has_prefix(const char *p, size_t n, size_t i, const char *prefix)
{
	size_t plen = strlen(prefix);

	return (i <= n && n - i >= plen && memcmp(p + i, prefix, plen) == 0);
}

/* How much of total is done when remaining are left, in whole percent. */
static int
percent_of(uint64_t total, uint64_t remaining)
{
	uint64_t done;

	if (total == 0 || remaining >= total)
		return (0);
	done = total - remaining; /* < total: the result is below 100 */
	if (done <= UINT64_MAX / 100)
		return ((int)(done * 100 / total));
#ifdef __SIZEOF_INT128__
	return ((int)((unsigned __int128)done * 100 / total));
#else
	/* Chunk counts this large are not real; near enough. */
	return ((int)(done / (total / 100)) > 99 ? 99
						 : (int)(done / (total / 100)));
#endif
}

static void
emit(struct frisbee_parser *fp, struct frisbee_event *ev)
{
	fp->cb(ev, fp->arg);
}

static void
emit_progress(struct frisbee_parser *fp, struct frisbee_event *ev, int pct)
{
	ev->type = FRISBEE_EV_PROGRESS;
	ev->percent = pct;
	emit(fp, ev);
}

/* "[.sz]{1,75}\s+\d+\s+(\d+)": elapsed seconds, chunks remaining. */
static void
match_dots(struct frisbee_parser *fp, struct frisbee_event *ev, const char *p,
    size_t n)
{
	uint64_t elapsed, remaining;
	size_t i = 0, j;

	while (i < n && (p[i] == '.' || p[i] == 's' || p[i] == 'z'))
		i++;
	if (i == 0 || i > FRISBEE_DOTS_MAX)
		return;
	if ((j = skip_blanks(p, n, i)) == i)
		return;
	if (parse_u64(p, n, &j, &elapsed) != 0)
		return;
	i = j;
	if ((j = skip_blanks(p, n, i)) == i)
		return;
	if (parse_u64(p, n, &j, &remaining) != 0)
		return;
	/* rhubarbe logs an error here; progress without a total is none. */
	if (fp->chunks == 0)
		return;
	emit_progress(fp, ev, percent_of(fp->chunks, remaining));
}

/* ".*team after .*File is (\d+) chunks": the first such "File is". */
static void
match_joined(struct frisbee_parser *fp, struct frisbee_event *ev, const char *p,
    size_t n)
{
	const char *t, *f;
	uint64_t chunks;
	size_t i;

	if ((t = memmem(p, n, "team after ", 11)) == NULL)
		return;
	i = (size_t)(t - p) + 11;
	while ((f = memmem(p + i, n - i, "File is ", 8)) != NULL) {
		i = (size_t)(f - p) + 8;
		if (parse_u64(p, n, &i, &chunks) == 0 &&
		    has_prefix(p, n, i, " chunks")) {
			fp->chunks = chunks;
			ev->type = FRISBEE_EV_JOINED;
			ev->chunks = chunks;
			emit(fp, ev);
			emit_progress(fp, ev, 0);
			return;
		}
	}
}

/* "Progress:\s+(\d+)%": the old style. */
static void
match_progress(struct frisbee_parser *fp, struct frisbee_event *ev,
    const char *p, size_t n)
{
	uint64_t pct;
	size_t i, j;

	if (!has_prefix(p, n, 0, "Progress:"))
		return;
	i = 9;
	if ((j = skip_blanks(p, n, i)) == i)
		return;
	if (parse_u64(p, n, &j, &pct) != 0 || pct > 100 ||
	    !has_prefix(p, n, j, "%"))
		return;
	emit_progress(fp, ev, (int)pct);
}

/* "Wrote\s+(\d+)\s+bytes \((\d+)": the end of the transfer. */
static void
match_wrote(struct frisbee_parser *fp, struct frisbee_event *ev, const char *p,
    size_t n)
{
	uint64_t total, actual;
	size_t i, j;

	if (!has_prefix(p, n, 0, "Wrote"))
		return;
	i = 5;
	if ((j = skip_blanks(p, n, i)) == i)
		return;
	if (parse_u64(p, n, &j, &total) != 0)
		return;
	i = j;
	if ((j = skip_blanks(p, n, i)) == i)
		return;
	if (!has_prefix(p, n, j, "bytes ("))
		return;
	j += 7;
	if (parse_u64(p, n, &j, &actual) != 0)
		return;
	ev->type = FRISBEE_EV_WROTE;
	ev->total = total;
	ev->actual = actual;
	emit(fp, ev);
	emit_progress(fp, ev, 100);
}

/* "_TELNET_STATUS=(\d+)\s*$": the output of echo, not its echo. */
static void
match_status(struct frisbee_parser *fp, struct frisbee_event *ev, const char *p,
    size_t n)
{
	uint64_t status;
	size_t i = 15;

	if (!has_prefix(p, n, 0, "_TELNET_STATUS="))
		return;
	if (parse_u64(p, n, &i, &status) != 0 || status > INT_MAX)
		return;
	if (skip_blanks(p, n, i) != n)
		return;
	ev->type = FRISBEE_EV_STATUS;
	ev->status = (int)status;
	emit(fp, ev);
}

/* The line in fp->buf (fp->len bytes) is complete. */
static void
line_done(struct frisbee_parser *fp, int truncated)
{
	struct frisbee_event ev;
	const char *p, *cr;
	size_t n;

	n = fp->len;
	if (!truncated) {
		while (n > 0 && fp->buf[n - 1] == '\r')
			n--;
	}
	fp->buf[n] = '\0';
	memset(&ev, 0, sizeof ev);
	ev.type = FRISBEE_EV_LINE;
	ev.line = fp->buf;
	ev.len = n;
	ev.truncated = truncated;
	emit(fp, &ev);
	fp->len = 0;
	if (truncated)
		return;

	/* What a terminal shows: the text after the last carriage return. */
	p = fp->buf;
	if ((cr = memrchr(p, '\r', n)) != NULL) {
		n -= (size_t)(cr + 1 - p);
		p = cr + 1;
	}
	match_dots(fp, &ev, p, n);
	match_joined(fp, &ev, p, n);
	match_progress(fp, &ev, p, n);
	match_wrote(fp, &ev, p, n);
	if (memmem(p, n, "Short write", 11) != NULL) {
		ev.type = FRISBEE_EV_SHORT_WRITE;
		emit(fp, &ev);
	}
	match_status(fp, &ev, p, n);
}

struct frisbee_parser *
frisbee_parse_new(frisbee_parse_cb cb, void *arg)
{
	struct frisbee_parser *fp;

	fp = xcalloc(1, sizeof *fp);
	fp->cb = cb;
	fp->arg = arg;
	return (fp);
}

void
frisbee_parse_free(struct frisbee_parser *fp)
{
	free(fp);
}

void
frisbee_parse_feed(struct frisbee_parser *fp, const void *data, size_t size)
{
	const char *p = data;
	size_t i;

	for (i = 0; i < size; i++) {
		if (p[i] == '\n') {
			if (!fp->skipping)
				line_done(fp, 0);
			fp->skipping = 0;
			fp->len = 0;
		} else if (p[i] == '\0' || fp->skipping)
			continue;
		else if (fp->len == FRISBEE_LINE_MAX) {
			line_done(fp, 1);
			fp->skipping = 1;
		} else
			fp->buf[fp->len++] = p[i];
	}
}

void
frisbee_parse_finish(struct frisbee_parser *fp)
{
	if (!fp->skipping && fp->len > 0)
		line_done(fp, 0);
	fp->skipping = 0;
	fp->len = 0;
}

uint64_t
frisbee_parse_chunks(const struct frisbee_parser *fp)
{
	return (fp->chunks);
}
