/*
 * The plain renderer: a line per message on a FILE (stdout), in the shape
 * rhubarbe users know ("HH:MM:SS +NNNs fit01 text"), and on a terminal a
 * status line below them (render.h). Bytes from children are printed with
 * control characters escaped, so output cannot move the terminal's cursor
 * or forge lines; the only control sequences written are our own, and
 * only on a terminal.
 *
 * The status line is redrawn on events at most every
 * RENDER_PLAIN_REDRAW_MS; a change held back by that limit, and the
 * clock, are drawn by a timer on the loop. A thousand nodes reporting
 * progress thus cost ten redraws a second, not a thousand.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/xmalloc.h"
#include "engine/bus.h"
#include "engine/loop.h"
#include "inventory/nodeset.h"
#include "ui/render.h"
#include "ui/tally.h"

#define RENDER_PLAIN_RED    "\033[31m"
#define RENDER_PLAIN_YELLOW "\033[33m"
#define RENDER_PLAIN_GREEN  "\033[32m"
#define RENDER_PLAIN_RESET  "\033[0m"
#define RENDER_PLAIN_BAR    20 /* cells of the bar at most */

struct render_plain {
	struct bus_sink *sink;
	FILE *f;
	int flags;
	int width; /* of the node column */
	int started;
	uint64_t start_ms; /* monotonic, at run-start */
	struct tally *tally;

	/* The status line, with RENDER_PLAIN_TTY. */
	int columns; /* 0: ask the terminal */
	struct event_base *base;
	struct event *timer;
	char *what;        /* the run's, as run-start said */
	int running;       /* between run-start and run-end */
	int shown;         /* it is on the screen */
	int dirty;         /* something changed since it was drawn */
	uint64_t drawn_ms; /* when, monotonic */
	uint64_t drawn_s;  /* the elapsed seconds it shows */
};

static void render_plain_cb(const struct bus_event *, void *);

struct render_plain *
render_plain_new(struct bus *bus, FILE *f, int flags)
{
	struct render_plain *rp;

	rp = xcalloc(1, sizeof *rp);
	rp->f = f;
	rp->flags = flags;
	/* Colours and control sequences only ever go to a terminal. */
	if ((flags & RENDER_PLAIN_TTY) == 0)
		rp->flags &= ~RENDER_PLAIN_COLOR;
	rp->tally = tally_new();
	rp->sink = bus_subscribe(bus, render_plain_cb, rp);
	return (rp);
}

void
render_plain_set_tty(struct render_plain *rp, int columns,
    struct event_base *base)
{
	rp->flags |= RENDER_PLAIN_TTY;
	rp->columns = columns;
	rp->base = base;
}

static void
render_plain_erase(struct render_plain *rp)
{
	if (!rp->shown)
		return;
	fputs("\r\033[K", rp->f);
	rp->shown = 0;
}

static void
render_plain_stop(struct render_plain *rp)
{
	rp->running = 0;
	if (rp->timer != NULL) {
		event_free(rp->timer);
		rp->timer = NULL;
	}
}

void
render_plain_free(struct render_plain *rp)
{
	if (rp == NULL)
		return;
	bus_unsubscribe(rp->sink);
	render_plain_stop(rp);
	if (rp->shown) {
		render_plain_erase(rp);
		fflush(rp->f);
	}
	tally_free(rp->tally);
	free(rp->what);
	free(rp);
}

static void
render_plain_color(struct render_plain *rp, const char *color)
{
	if (rp->flags & RENDER_PLAIN_COLOR)
		fputs(color, rp->f);
}

static void
render_plain_uncolor(struct render_plain *rp)
{
	if (rp->flags & RENDER_PLAIN_COLOR)
		fputs(RENDER_PLAIN_RESET, rp->f);
}

/* The terminal's width, or 80. */
static int
render_plain_columns(struct render_plain *rp)
{
	struct winsize ws;
	int fd;

	if (rp->columns > 0)
		return (rp->columns);
	if ((fd = fileno(rp->f)) >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		return (ws.ws_col);
	return (80);
}

/* The status line for now_ms, at most max bytes long (without NUL). */
static void
render_plain_status(struct render_plain *rp, uint64_t now_ms, char *buf,
    size_t size, size_t max)
{
	char counts[256], clock[32], bar[RENDER_PLAIN_BAR + 1];
	uint64_t s = 0;
	size_t n, len, k, cells, fill;
	int pct;

	if (now_ms > rp->start_ms)
		s = (now_ms - rp->start_ms) / 1000;
	rp->drawn_s = s;
	if (s >= 3600)
		snprintf(clock, sizeof clock, "%llu:%02u:%02u",
		    (unsigned long long)(s / 3600), (unsigned)(s / 60 % 60),
		    (unsigned)(s % 60));
	else
		snprintf(clock, sizeof clock, "%02u:%02u", (unsigned)(s / 60),
		    (unsigned)(s % 60));
	counts[0] = '\0';
	for (k = 0; k < PHASE__COUNT; k++) {
		if ((n = tally_count(rp->tally, (enum phase)k)) == 0)
			continue;
		len = strlen(counts);
		snprintf(counts + len, sizeof counts - len, "%s%zu %s",
		    len == 0 ? "" : " ", n, phase_name((enum phase)k));
	}
	n = tally_nodes(rp->tally);
	pct = tally_percent(rp->tally);

	/* The bar gives way first when the terminal is narrow. */
	len = (size_t)snprintf(buf, size, "%s %zu node%s [] %3d%%  %s  %s",
	    rp->what != NULL ? rp->what : "run", n, n == 1 ? "" : "s", pct,
	    counts, clock);
	cells = RENDER_PLAIN_BAR;
	if (len + cells > max)
		cells = len + 5 <= max ? max - len : 0;
	fill = cells * (size_t)pct / 100;
	memset(bar, '#', fill);
	memset(bar + fill, '.', cells - fill);
	bar[cells] = '\0';
	if (cells > 0)
		snprintf(buf, size, "%s %zu node%s [%s] %3d%%  %s  %s",
		    rp->what != NULL ? rp->what : "run", n, n == 1 ? "" : "s",
		    bar, pct, counts, clock);
	else
		snprintf(buf, size, "%s %zu node%s %d%%  %s  %s",
		    rp->what != NULL ? rp->what : "run", n, n == 1 ? "" : "s",
		    pct, counts, clock);
	if (strlen(buf) > max)
		buf[max] = '\0';
}

static void
render_plain_draw(struct render_plain *rp, uint64_t now_ms)
{
	char buf[512];
	int cols = render_plain_columns(rp);

	/* One column short of the width: a full line would wrap. */
	render_plain_status(rp, now_ms, buf, sizeof buf,
	    cols > 1 ? (size_t)cols - 1 : 1);
	fprintf(rp->f, "\r%s\033[K", buf);
	rp->shown = 1;
	rp->dirty = 0;
	rp->drawn_ms = now_ms;
}

/* Redraw what the rate limit held back, and the clock. */
static void
render_plain_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct render_plain *rp = arg;
	uint64_t now = loop_now_ms();

	if (!rp->running)
		return;
	if (rp->dirty || !rp->shown ||
	    (now > rp->start_ms &&
		(now - rp->start_ms) / 1000 != rp->drawn_s)) {
		render_plain_draw(rp, now);
		fflush(rp->f);
	}
}

static void
render_plain_start_timer(struct render_plain *rp)
{
	struct timeval tv;

	if (rp->base == NULL || rp->timer != NULL)
		return;
	rp->timer =
	    event_new(rp->base, -1, EV_PERSIST, render_plain_timer_cb, rp);
	loop_ms_to_timeval(RENDER_PLAIN_REDRAW_MS, &tv);
	event_add(rp->timer, &tv);
}

/* "HH:MM:SS +NNNs " and the node column (absent for run-wide lines). */
static void
render_plain_prefix(struct render_plain *rp, const struct bus_event *ev)
{
	struct tm tm;
	time_t t = (time_t)(ev->wall_ms / 1000);
	uint64_t elapsed = 0;
	char stamp[16];

	render_plain_erase(rp);
	if (!rp->started) {
		rp->started = 1;
		rp->start_ms = ev->mono_ms;
	}
	if (ev->mono_ms > rp->start_ms)
		elapsed = (ev->mono_ms - rp->start_ms) / 1000;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	fprintf(rp->f, "%s +%03llus ", stamp, (unsigned long long)elapsed);
	if (ev->node != NULL)
		fprintf(rp->f, "%-*s ", rp->width, ev->node);
}

/* Text with anything unprintable shown as \xNN (UTF-8 kept). */
static void
render_plain_text(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static const char *
render_plain_level(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:
		return ("error: ");
	case LOG_LEVEL_WARN:
		return ("warning: ");
	default:
		return ("");
	}
}

static const char *
render_plain_level_color(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:
		return (RENDER_PLAIN_RED);
	case LOG_LEVEL_WARN:
		return (RENDER_PLAIN_YELLOW);
	default:
		return (NULL);
	}
}

/* A message line: prefix, level, text, in the level's colour. */
static void
render_plain_message(struct render_plain *rp, const struct bus_event *ev,
    enum log_level level, const char *text)
{
	const char *color = render_plain_level_color(level);

	render_plain_prefix(rp, ev);
	if (color != NULL)
		render_plain_color(rp, color);
	fputs(render_plain_level(level), rp->f);
	render_plain_text(rp->f, text);
	if (color != NULL)
		render_plain_uncolor(rp);
	fputc('\n', rp->f);
}

/* 1536 -> "1.5 KiB". */
static void
render_plain_size(char *buf, size_t size, double v, const char *suffix)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;

	while (v >= 1024 && u < nitems(units) - 1) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%.0f %s%s", v, units[u], suffix);
	else
		snprintf(buf, size, "%.1f %s%s", v, units[u], suffix);
}

static void
render_plain_state(struct render_plain *rp, const struct bus_event *ev)
{
	const char *old = node_state_name(ev->node_state.old);
	const char *new = node_state_name(ev->node_state.new);
	const char *why = ev->node_state.why;
	const char *color = NULL;

	/*
	 * By default only what needs attention: a node being stopped, or
	 * ending other than ok (the summary at the end lists the rest).
	 */
	if ((rp->flags & RENDER_PLAIN_STATES) == 0 &&
	    ev->node_state.new != NODE_STOPPING &&
	    (ev->node_state.new != NODE_DONE ||
		ev->node_state.outcome == NODE_OUT_OK))
		return;
	if (ev->node_state.new == NODE_STOPPING)
		color = RENDER_PLAIN_YELLOW;
	else if (ev->node_state.new == NODE_DONE)
		color = ev->node_state.outcome == NODE_OUT_OK
		    ? RENDER_PLAIN_GREEN
		    : RENDER_PLAIN_RED;
	render_plain_prefix(rp, ev);
	if (color != NULL)
		render_plain_color(rp, color);
	if (ev->node_state.new == NODE_DONE) {
		fprintf(rp->f, "%s -> %s: %s", old, new,
		    node_outcome_name(ev->node_state.outcome));
		if (why != NULL) {
			fputs(" (", rp->f);
			render_plain_text(rp->f, why);
			fputc(')', rp->f);
		}
	} else {
		fprintf(rp->f, "%s -> %s", old, new);
		if (why != NULL) {
			fputs(": ", rp->f);
			render_plain_text(rp->f, why);
		}
	}
	if (color != NULL)
		render_plain_uncolor(rp);
	fputc('\n', rp->f);
}

/*
 * On a terminal the status line shows progress; elsewhere a node's
 * progress is a line when it reaches a new quarter (mark: 1 + the last
 * quarter printed), so a thousand nodes imaging print five lines each.
 */
static void
render_plain_progress(struct render_plain *rp, const struct bus_event *ev)
{
	struct tally_node *tn;
	char buf[32];
	int q;

	if ((rp->flags & RENDER_PLAIN_STATES) == 0) {
		if ((rp->flags & RENDER_PLAIN_TTY) ||
		    ev->node_progress.percent < 0)
			return;
		q = (ev->node_progress.percent > 100
			    ? 100
			    : ev->node_progress.percent) /
		    25;
		if ((tn = tally_find(rp->tally, ev->node)) != NULL) {
			if (q + 1 <= tn->mark)
				return;
			tn->mark = q + 1;
		}
	}
	render_plain_prefix(rp, ev);
	fputs("progress", rp->f);
	if (ev->node_progress.percent >= 0)
		fprintf(rp->f, " %d%%", ev->node_progress.percent);
	if (ev->node_progress.bytes > 0) {
		render_plain_size(buf, sizeof buf,
		    (double)ev->node_progress.bytes, "");
		fprintf(rp->f, " %s", buf);
	}
	if (ev->node_progress.rate >= 0) {
		render_plain_size(buf, sizeof buf, ev->node_progress.rate,
		    "/s");
		fprintf(rp->f, " %s", buf);
	}
	fputc('\n', rp->f);
}

static const char *
render_plain_outcome_color(size_t k)
{
	return (k == NODE_OUT_OK ? RENDER_PLAIN_GREEN : RENDER_PLAIN_RED);
}

/* "exec: 6 nodes: 5 ok, 1 child-failed", then "ok: fit[01-05]"... */
static void
render_plain_end(struct render_plain *rp, const struct bus_event *ev)
{
	size_t counts[NODE_OUT__COUNT] = {0};
	const char **names;
	char *folded;
	size_t i, k, n;
	const char *sep = "";

	for (i = 0; i < ev->run_end.nnodes; i++)
		counts[ev->run_end.outcomes[i]]++;
	render_plain_prefix(rp, ev);
	fprintf(rp->f, "%s: %zu node%s:", ev->run_end.what, ev->run_end.nnodes,
	    ev->run_end.nnodes == 1 ? "" : "s");
	for (k = 0; k < NODE_OUT__COUNT; k++) {
		if (counts[k] == 0)
			continue;
		fprintf(rp->f, "%s ", sep);
		render_plain_color(rp, render_plain_outcome_color(k));
		fprintf(rp->f, "%zu %s", counts[k],
		    node_outcome_name((enum node_outcome)k));
		render_plain_uncolor(rp);
		sep = ",";
	}
	if (ev->run_end.interrupted) {
		fputc(' ', rp->f);
		render_plain_color(rp, RENDER_PLAIN_YELLOW);
		fputs("(interrupted)", rp->f);
		render_plain_uncolor(rp);
	}
	fputc('\n', rp->f);

	names = xcalloc(ev->run_end.nnodes + 1, sizeof *names);
	for (k = 0; k < NODE_OUT__COUNT; k++) {
		if (counts[k] == 0)
			continue;
		for (i = n = 0; i < ev->run_end.nnodes; i++) {
			if (ev->run_end.outcomes[i] == k)
				names[n++] = ev->run_end.nodes[i];
		}
		folded = nodeset_fold_names(names, n);
		render_plain_prefix(rp, ev);
		render_plain_color(rp, render_plain_outcome_color(k));
		fprintf(rp->f, "%s: %s",
		    node_outcome_name((enum node_outcome)k), folded);
		render_plain_uncolor(rp);
		fputc('\n', rp->f);
		free(folded);
	}
	free(names);
}

static void
render_plain_start(struct render_plain *rp, const struct bus_event *ev)
{
	char *folded;
	size_t i, len;

	rp->started = 1;
	rp->start_ms = ev->mono_ms;
	rp->width = 0;
	for (i = 0; i < ev->run_start.nnodes; i++) {
		len = strlen(ev->run_start.nodes[i]);
		if (len > (size_t)rp->width)
			rp->width = (int)len;
	}
	free(rp->what);
	rp->what = xstrdup(ev->run_start.what);
	if (rp->flags & RENDER_PLAIN_QUIET)
		return;
	folded = nodeset_fold_names(ev->run_start.nodes, ev->run_start.nnodes);
	render_plain_prefix(rp, ev);
	fprintf(rp->f, "%s: %zu node%s: %s\n", ev->run_start.what,
	    ev->run_start.nnodes, ev->run_start.nnodes == 1 ? "" : "s", folded);
	free(folded);
	if (rp->flags & RENDER_PLAIN_TTY) {
		rp->running = 1;
		render_plain_start_timer(rp);
	}
}

/* Quiet: only errors (and the summary, which run-end always prints). */
static int
render_plain_quiet_skips(const struct bus_event *ev)
{
	switch (ev->type) {
	case BUS_RUN_START:
	case BUS_RUN_END:
		return (0);
	case BUS_NODE_MESSAGE:
		return (ev->node_message.level != LOG_LEVEL_ERROR);
	case BUS_RUN_INFO:
		return (ev->run_info.level != LOG_LEVEL_ERROR);
	default:
		return (1);
	}
}

static void
render_plain_cb(const struct bus_event *ev, void *arg)
{
	struct render_plain *rp = arg;

	tally_event(rp->tally, ev);
	if ((rp->flags & RENDER_PLAIN_QUIET) && render_plain_quiet_skips(ev))
		return;
	switch (ev->type) {
	case BUS_RUN_START:
		render_plain_start(rp, ev);
		break;
	case BUS_NODE_STATE:
		render_plain_state(rp, ev);
		break;
	case BUS_NODE_STEP:
		/* With -v: where each node is in its plan. */
		if ((rp->flags & RENDER_PLAIN_STATES) == 0)
			break;
		render_plain_prefix(rp, ev);
		fprintf(rp->f, "step %s (%zu/%zu)%s\n", ev->node_step.step,
		    ev->node_step.index + 1, ev->node_step.count,
		    ev->node_step.finishing ? ", finishing" : "");
		break;
	case BUS_NODE_PROGRESS:
		render_plain_progress(rp, ev);
		break;
	case BUS_NODE_MESSAGE:
		if (ev->node_message.level == LOG_LEVEL_DEBUG &&
		    (rp->flags & RENDER_PLAIN_DEBUG) == 0)
			break;
		render_plain_message(rp, ev, ev->node_message.level,
		    ev->node_message.text);
		break;
	case BUS_RUN_INFO:
		if (ev->run_info.level == LOG_LEVEL_DEBUG &&
		    (rp->flags & RENDER_PLAIN_DEBUG) == 0)
			break;
		render_plain_message(rp, ev, ev->run_info.level,
		    ev->run_info.text);
		break;
	case BUS_RUN_END:
		render_plain_stop(rp);
		render_plain_end(rp, ev);
		break;
	default:
		break;
	}
	/* Drawn again at once after a line, else within the rate limit. */
	if (rp->running) {
		if (!rp->shown ||
		    ev->mono_ms >= rp->drawn_ms + RENDER_PLAIN_REDRAW_MS)
			render_plain_draw(rp, ev->mono_ms);
		else
			rp->dirty = 1;
	}
	fflush(rp->f);
}
