/*
 * The monitor's drawing: the list (a header with the run's progress and
 * counts by phase, one row per node, a message line and a key line), a
 * node's detail (its recent messages, raw output included) and help.
 *
 * Readable without colour: every state has its own label (failures in
 * capitals), the selected row is marked with '>' as well as reversed, and
 * colours only repeat what the words say. When nodes outnumber the rows,
 * failed nodes scrolled out of view are pinned under the list.
 */
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "engine/loop.h"
#include "ui/monitor-int.h"

enum {
	MON_PAIR_OK = 1,
	MON_PAIR_FAILED,
	MON_PAIR_IMAGING,
	MON_PAIR_BOOTING,
	MON_PAIR_SSH,
	MON_PAIR_STOPPING,
	MON_PAIR_WARN,
	MON_PAIR_TITLE,
};

static int mon_colour;

void
monitor_draw_colours(void)
{
	init_pair(MON_PAIR_OK, COLOR_GREEN, -1);
	init_pair(MON_PAIR_FAILED, COLOR_RED, -1);
	init_pair(MON_PAIR_IMAGING, COLOR_CYAN, -1);
	init_pair(MON_PAIR_BOOTING, COLOR_YELLOW, -1);
	init_pair(MON_PAIR_SSH, COLOR_BLUE, -1);
	init_pair(MON_PAIR_STOPPING, COLOR_MAGENTA, -1);
	init_pair(MON_PAIR_WARN, COLOR_YELLOW, -1);
	init_pair(MON_PAIR_TITLE, COLOR_WHITE, COLOR_BLUE);
}

static attr_t
mon_pair(int pair)
{
	return (mon_colour ? COLOR_PAIR(pair) : A_NORMAL);
}

static attr_t
mon_phase_attr(enum phase phase)
{
	switch (phase) {
	case PHASE_BOOTING:
		return (mon_pair(MON_PAIR_BOOTING));
	case PHASE_IMAGING:
		return (mon_pair(MON_PAIR_IMAGING));
	case PHASE_SSH:
		return (mon_pair(MON_PAIR_SSH));
	case PHASE_STOPPING:
		return (mon_pair(MON_PAIR_STOPPING));
	case PHASE_DONE:
		return (mon_pair(MON_PAIR_OK));
	case PHASE_FAILED:
		return (mon_pair(MON_PAIR_FAILED) | A_BOLD);
	case PHASE_QUEUED:
		return (A_DIM);
	default:
		return (A_NORMAL);
	}
}

/* Text at (y, x), at most w columns, control and non-ASCII bytes as '?'. */
static void
mon_put(int y, int x, int w, const char *s)
{
	char buf[512];
	int i;

	if (w <= 0 || s == NULL)
		return;
	if (w > (int)sizeof buf - 1)
		w = sizeof buf - 1;
	for (i = 0; i < w && s[i] != '\0'; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	mvaddstr(y, x, buf);
}

/* A whole line, cleared to its end. */
static void
mon_line(int y, attr_t attr, const char *s)
{
	move(y, 0);
	attrset(attr);
	clrtoeol();
	mon_put(y, 0, COLS, s);
	attrset(A_NORMAL);
}

static void
mon_duration(char *buf, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (s < 100 * 60)
		snprintf(buf, len, "%02u:%02u", (unsigned)(s / 60),
		    (unsigned)(s % 60));
	else
		snprintf(buf, len, "%uh%02u", (unsigned)(s / 3600),
		    (unsigned)(s / 60 % 60));
}

static void
mon_rate(char *buf, size_t len, double rate)
{
	if (rate < 0)
		snprintf(buf, len, "-");
	else if (rate >= 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.1fG/s", rate / (1024.0 * 1024 * 1024));
	else if (rate >= 1024.0 * 1024)
		snprintf(buf, len, "%.1fM/s", rate / (1024.0 * 1024));
	else if (rate >= 1024.0)
		snprintf(buf, len, "%.0fK/s", rate / 1024.0);
	else
		snprintf(buf, len, "%.0fB/s", rate);
}

/* A bar of w cells for percent, in eighths when the terminal has UTF-8. */
static void
mon_bar(struct monitor *m, int y, int x, int w, int percent, attr_t attr)
{
	static const char *eighths[] = {"", "\u258f", "\u258e", "\u258d",
	    "\u258c", "\u258b", "\u258a", "\u2589"};
	int i, full, part, cells;

	if (percent < 0)
		percent = 0;
	if (percent > 100)
		percent = 100;
	cells = w * 8 * percent / 100;
	full = cells / 8;
	part = cells % 8;
	move(y, x);
	attron(attr);
	for (i = 0; i < full; i++)
		addstr(m->utf8 ? "\u2588" : "#");
	if (part > 0 && full < w) {
		addstr(m->utf8 ? eighths[part] : (part >= 4 ? "=" : "-"));
		i++;
	}
	attroff(attr);
	attron(A_DIM);
	for (; i < w; i++)
		addstr(m->utf8 ? "\u00b7" : ".");
	attroff(A_DIM);
}

static const char *
mon_label(const struct mon_node *n)
{
	switch (n->phase) {
	case PHASE_RUNNING:
		return (n->step != NULL ? n->step : "running");
	case PHASE_STOPPING:
		return (n->finishing ? "finishing" : "stopping");
	case PHASE_DONE:
		return ("ok");
	case PHASE_FAILED:
		return (
		    n->outcome == NODE_OUT_CANCELLED ? "CANCELLED" : "FAILED");
	default:
		return (monitor_phase_name(n->phase));
	}
}

/* Column layout of a node row for the current width. */
struct mon_cols {
	int name, state, bar, pct, rate, time, msg; /* x of each */
	int namew, barw, msgw;
};

static void
mon_layout(struct monitor *m, struct mon_cols *c)
{
	size_t i, len, namew = 4;

	for (i = 0; i < m->nnodes; i++) {
		if ((len = strlen(m->nodes[i]->name)) > namew)
			namew = len;
	}
	if (namew > 16)
		namew = 16;
	c->namew = (int)namew;
	c->barw = 16 + (COLS - 80) / 6;
	if (c->barw < 8)
		c->barw = 8;
	if (c->barw > 40)
		c->barw = 40;
	c->name = 2;
	c->state = c->name + c->namew + 1;
	c->bar = c->state + 10;
	c->pct = c->bar + c->barw + 1;
	c->rate = c->pct + 5;
	c->time = c->rate + 8;
	c->msg = c->time + 6;
	c->msgw = COLS - c->msg;
}

static void
mon_draw_node(struct monitor *m, const struct mon_cols *c, int y,
    const struct mon_node *n, int selected)
{
	char buf[64], msg[512];
	attr_t pattr = mon_phase_attr(n->phase);
	uint64_t end;

	move(y, 0);
	attrset(selected ? A_REVERSE : A_NORMAL);
	clrtoeol();
	mon_put(y, 0, 1, selected ? ">" : " ");
	mon_put(y, c->name, c->namew, n->name);
	attron(pattr);
	mon_put(y, c->state, 9, mon_label(n));
	attroff(pattr);
	attrset(selected ? A_REVERSE : A_NORMAL);
	mon_bar(m, y, c->bar, c->barw, n->percent, pattr & ~A_BOLD);
	attrset(selected ? A_REVERSE : A_NORMAL);
	if (n->percent >= 0)
		snprintf(buf, sizeof buf, "%3d%%", n->percent);
	else
		snprintf(buf, sizeof buf, "   -");
	mon_put(y, c->pct, 4, buf);
	if (n->phase == PHASE_IMAGING && n->rate >= 0) {
		mon_rate(msg, 32, n->rate);
		snprintf(buf, sizeof buf, "%7.16s", msg);
		mon_put(y, c->rate, 7, buf);
	}
	if (n->start_ms != 0) {
		end = n->end_ms != 0 ? n->end_ms : monitor_now(m);
		mon_duration(buf, sizeof buf,
		    end > n->start_ms ? end - n->start_ms : 0);
		mon_put(y, c->time, 5, buf);
	}
	if (n->phase == PHASE_FAILED)
		snprintf(msg, sizeof msg, "%s%s%s",
		    node_outcome_name(n->outcome), n->why != NULL ? ": " : "",
		    n->why != NULL ? n->why : "");
	else if (n->last != NULL)
		snprintf(msg, sizeof msg, "%s", n->last);
	else
		snprintf(msg, sizeof msg, "%s", n->step != NULL ? n->step : "");
	if (n->phase == PHASE_FAILED)
		attron(pattr);
	mon_put(y, c->msg, c->msgw, msg);
	attrset(A_NORMAL);
}

/* Global progress: finished nodes count whole, others by their percent. */
static int
mon_global_percent(const struct monitor *m, double *rate)
{
	const struct mon_node *n;
	uint64_t sum = 0;
	size_t i;

	*rate = 0;
	if (m->nnodes == 0)
		return (0);
	for (i = 0; i < m->nnodes; i++) {
		n = m->nodes[i];
		if (n->phase == PHASE_DONE || n->phase == PHASE_FAILED)
			sum += 100;
		else if (n->percent > 0)
			sum += (uint64_t)n->percent;
		if (n->phase == PHASE_IMAGING && n->rate > 0)
			*rate += n->rate;
	}
	return ((int)(sum / m->nnodes));
}

static void
mon_draw_header(struct monitor *m)
{
	char buf[256], t[32], r[32];
	uint64_t now;
	double rate;
	int pct, x, barw, i;

	now = m->ended ? m->end_ms : monitor_now(m);
	mon_duration(t, sizeof t, now > m->start_ms ? now - m->start_ms : 0);
	attrset(
	    mon_pair(MON_PAIR_TITLE) | A_BOLD | (mon_colour ? 0 : A_REVERSE));
	move(0, 0);
	clrtoeol();
	for (i = 0; i < COLS; i++)
		addch(' ');
	mon_put(0, 1, COLS - 2, m->title);
	snprintf(buf, sizeof buf, "%zu nodes  %s%s", m->nnodes, t,
	    m->ended ? " (ended)" : "");
	x = COLS - 1 - (int)strlen(buf);
	if (x > 2 + (int)strlen(m->title))
		mon_put(0, x, (int)strlen(buf), buf);
	attrset(A_NORMAL);

	pct = mon_global_percent(m, &rate);
	move(1, 0);
	clrtoeol();
	mon_put(1, 1, 3, "all");
	barw = COLS - 24;
	if (barw > 60)
		barw = 60;
	mon_bar(m, 1, 5, barw, pct, mon_pair(MON_PAIR_OK) | A_BOLD);
	mon_rate(r, sizeof r, rate);
	snprintf(buf, sizeof buf, "%3d%%  %s", pct, rate > 0 ? r : "");
	mon_put(1, 5 + barw + 1, 18, buf);

	move(2, 0);
	clrtoeol();
	x = 1;
	for (i = 0; i < PHASE__COUNT; i++) {
		/* The five everyone expects, the others when they occur. */
		if (m->counts[i] == 0 && i != PHASE_QUEUED &&
		    i != PHASE_BOOTING && i != PHASE_IMAGING &&
		    i != PHASE_DONE && i != PHASE_FAILED)
			continue;
		snprintf(buf, sizeof buf, "%s %zu", monitor_phase_name(i),
		    m->counts[i]);
		if (x + (int)strlen(buf) >= COLS)
			break;
		attrset(m->counts[i] > 0 ? mon_phase_attr(i) : A_DIM);
		mon_put(2, x, (int)strlen(buf), buf);
		attrset(A_NORMAL);
		x += (int)strlen(buf) + 3;
	}
}

/* Failed nodes outside rows [top, top + rows), in display order. */
static size_t
mon_failed_outside(struct monitor *m, size_t top, size_t rows,
    const struct mon_node **out, size_t max)
{
	size_t i, k = 0, total = 0;

	if (m->counts[PHASE_FAILED] == 0)
		return (0);
	for (i = 0; i < m->nnodes; i++) {
		if (m->nodes[i]->phase != PHASE_FAILED)
			continue;
		if (i >= top && i < top + rows)
			continue;
		if (k < max)
			out[k++] = m->nodes[i];
		total++;
	}
	return (total);
}

static void
mon_draw_list(struct monitor *m)
{
	const struct mon_node *pinned[64];
	struct mon_cols c;
	char buf[256];
	size_t area, rows, npinned, shown, i;
	int y;

	mon_layout(m, &c);
	attrset(A_BOLD | A_UNDERLINE);
	move(3, 0);
	clrtoeol();
	mon_put(3, c.name, c.namew, "NODE");
	mon_put(3, c.state, 9, "STATE");
	mon_put(3, c.bar, c.barw, "PROGRESS");
	mon_put(3, c.pct, 4, "   %");
	mon_put(3, c.rate, 7, "   RATE");
	mon_put(3, c.time, 5, " TIME");
	mon_put(3, c.msg, c.msgw, "MESSAGE");
	attrset(A_NORMAL);

	area = LINES > 6 ? (size_t)LINES - 6 : 1;
	if (m->cursor >= m->nnodes && m->nnodes > 0)
		m->cursor = m->nnodes - 1;
	/*
	 * Pinning shrinks the scrolled part, which may hide more failed
	 * nodes: settle in two passes, the pinned part capped at a third.
	 */
	rows = area;
	npinned = 0;
	for (i = 0; i < 2; i++) {
		if (m->cursor < m->top)
			m->top = m->cursor;
		if (m->cursor >= m->top + rows)
			m->top = m->cursor - rows + 1;
		if (m->top + rows > m->nnodes)
			m->top = m->nnodes > rows ? m->nnodes - rows : 0;
		npinned =
		    mon_failed_outside(m, m->top, rows, pinned, nitems(pinned));
		if (npinned == 0)
			break;
		shown = npinned < area / 3 ? npinned : area / 3;
		rows = area - shown - 1;
	}
	m->list_rows = (int)rows;
	for (i = 0, y = 4; i < rows; i++, y++) {
		if (m->top + i < m->nnodes)
			mon_draw_node(m, &c, y, m->nodes[m->top + i],
			    m->top + i == m->cursor);
		else {
			move(y, 0);
			clrtoeol();
		}
	}
	if (npinned > 0 && rows < area) {
		shown = area - rows - 1;
		if (npinned > shown)
			snprintf(buf, sizeof buf,
			    "-- failed, out of view: %zu (first %zu) --",
			    npinned, shown);
		else
			snprintf(buf, sizeof buf,
			    "-- failed, out of view: %zu --", npinned);
		mon_line(y++, mon_pair(MON_PAIR_FAILED), buf);
		for (i = 0; i < shown && i < nitems(pinned); i++, y++)
			mon_draw_node(m, &c, y, pinned[i], 0);
	}
	for (; y < LINES - 2; y++) {
		move(y, 0);
		clrtoeol();
	}
}

/* Counts by outcome, in enum order: "10 ok, 1 frisbee-timeout". */
static void
mon_outcomes(const struct monitor *m, char *buf, size_t len)
{
	size_t counts[NODE_OUT__COUNT] = {0}, i, off = 0;
	int k;

	for (i = 0; i < m->nnodes; i++)
		counts[m->nodes[i]->outcome]++;
	buf[0] = '\0';
	for (k = 0; k < NODE_OUT__COUNT; k++) {
		if (counts[k] == 0 || off >= len)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%zu %s",
		    off > 0 ? ", " : "", counts[k],
		    k == NODE_OUT_NONE
			? "unfinished"
			: node_outcome_name((enum node_outcome)k));
	}
}

static void
mon_draw_footer(struct monitor *m)
{
	char buf[512], o[400], t[32];
	attr_t attr;

	if (m->finished || m->ended) {
		mon_outcomes(m, o, sizeof o);
		mon_duration(t, sizeof t,
		    m->end_ms > m->start_ms ? m->end_ms - m->start_ms : 0);
		snprintf(buf, sizeof buf, "%s in %s: %s",
		    m->interrupted ? "interrupted" : "finished", t, o);
		mon_line(LINES - 2,
		    (m->counts[PHASE_FAILED] > 0 ? mon_pair(MON_PAIR_FAILED)
						 : mon_pair(MON_PAIR_OK)) |
			A_BOLD,
		    buf);
	} else if (loop_interrupts() > 0) {
		mon_line(LINES - 2, mon_pair(MON_PAIR_WARN) | A_BOLD,
		    "interrupted: cleaning up (Ctrl-C again to quit at once)");
	} else if (m->aborting) {
		mon_line(LINES - 2, mon_pair(MON_PAIR_WARN) | A_BOLD,
		    "aborting: cleaning up");
	} else {
		attr = m->info_level <= LOG_LEVEL_WARN
		    ? mon_pair(MON_PAIR_WARN) | A_BOLD
		    : A_NORMAL;
		mon_line(LINES - 2, attr, m->info != NULL ? m->info : "");
	}
	if (m->confirm)
		mon_line(LINES - 1, A_REVERSE | A_BOLD,
		    "abort the run? all nodes will be stopped and reset (y/n)");
	else if (m->waiting)
		mon_line(LINES - 1, A_REVERSE,
		    "q: exit   Up/Down PgUp/PgDn: move   Enter: node detail");
	else if (m->finished)
		mon_line(LINES - 1, A_NORMAL, "");
	else
		mon_line(LINES - 1, A_REVERSE,
		    "Up/Down PgUp/PgDn: move   Enter: detail   q: abort   ?: "
		    "help");
}

static void
mon_draw_detail(struct monitor *m)
{
	const struct mon_node *n = m->nodes[m->detail];
	const struct mon_msg *msg;
	static const char *levels[] = {"error", "warn", "info", "debug"};
	char buf[640], t[32], r[32];
	size_t rows, i, first;
	uint64_t end;
	int y;
	attr_t attr;

	end = n->end_ms != 0 ? n->end_ms : monitor_now(m);
	mon_duration(t, sizeof t,
	    n->start_ms != 0 && end > n->start_ms ? end - n->start_ms : 0);
	mon_rate(r, sizeof r, n->rate);
	snprintf(buf, sizeof buf, " %s  %s  step %s  %d%%  %s  %s", n->name,
	    mon_label(n), n->step != NULL ? n->step : "-",
	    n->percent < 0 ? 0 : n->percent, n->rate >= 0 ? r : "-", t);
	mon_line(0,
	    mon_pair(MON_PAIR_TITLE) | A_BOLD | (mon_colour ? 0 : A_REVERSE),
	    buf);
	if (n->state == NODE_DONE)
		snprintf(buf, sizeof buf, " outcome: %s%s%s",
		    node_outcome_name(n->outcome), n->why != NULL ? ": " : "",
		    n->why != NULL ? n->why : "");
	else
		snprintf(buf, sizeof buf, " state: %s%s",
		    node_state_name(n->state),
		    n->finishing ? " (finishing after a failure or a stop)"
				 : "");
	mon_line(1, mon_phase_attr(n->phase), buf);
	snprintf(buf, sizeof buf,
	    " recent messages, debug and raw output "
	    "included (%zu kept):",
	    n->nring);
	mon_line(2, A_BOLD | A_UNDERLINE, buf);

	rows = LINES > 4 ? (size_t)LINES - 4 : 1;
	if (m->detail_up + rows > n->nring)
		m->detail_up = n->nring > rows ? n->nring - rows : 0;
	/* Oldest shown first; the newest sits at the bottom unless scrolled. */
	first = m->detail_up +
	    (n->nring - m->detail_up < rows ? n->nring - m->detail_up : rows);
	for (y = 3, i = first; y < LINES - 1; y++) {
		if (i == 0 || (msg = monitor_model_msg(n, --i)) == NULL ||
		    i < m->detail_up) {
			mon_line(y, A_NORMAL, "");
			i = 0;
			continue;
		}
		snprintf(buf, sizeof buf, " +%7.1fs %-5s %s%s",
		    msg->ms / 1000.0, levels[msg->level],
		    msg->source == BUS_SOURCE_STDOUT       ? "| "
			: msg->source == BUS_SOURCE_STDERR ? "! "
							   : "",
		    msg->text);
		attr = msg->level == LOG_LEVEL_ERROR
		    ? mon_pair(MON_PAIR_FAILED) | A_BOLD
		    : msg->level == LOG_LEVEL_WARN  ? mon_pair(MON_PAIR_WARN)
		    : msg->level == LOG_LEVEL_DEBUG ? A_DIM
						    : A_NORMAL;
		mon_line(y, attr, buf);
	}
	mon_line(LINES - 1, A_REVERSE,
	    "Esc/Enter/Left: back   Up/Down PgUp/PgDn: scroll   ?: help");
}

static void
mon_draw_help(struct monitor *m)
{
	static const char *lines[] = {
	    "rhubarb monitor: keys",
	    "",
	    "  Up/Down, k/j     move the selection (or scroll a detail)",
	    "  PgUp/PgDn        a page",
	    "  Home/End, g/G    first or last node",
	    "  Enter            open the selected node: its recent messages",
	    "                   and raw output; Enter, Esc or Left go back",
	    "  q                abort the run (asks first; y confirms)",
	    "  Ctrl-C           abort at once (cleans up the same way)",
	    "  ?                this help; any key closes it",
	    "",
	    "States: waiting, booting, imaging, ssh (waiting for ssh),",
	    "stopping/finishing (final reset), ok, FAILED, CANCELLED.",
	    "Failed nodes out of view are pinned under the list.",
	};
	size_t i;
	int y;

	for (y = 0; y < LINES; y++)
		mon_line(y, A_NORMAL, "");
	for (i = 0; i < nitems(lines) && (int)i + 1 < LINES; i++)
		mon_line((int)i + 1, i == 0 ? A_BOLD : A_NORMAL, lines[i]);
	mon_line(LINES - 1, A_REVERSE, "any key: back");
}

void
monitor_draw(struct monitor *m)
{
	mon_colour = m->colour;
	if (LINES < 8 || COLS < 40) {
		erase();
		mon_put(0, 0, COLS, "terminal too small (40x8 at least)");
	} else if (m->view == MON_VIEW_HELP)
		mon_draw_help(m);
	else if (m->view == MON_VIEW_DETAIL && m->detail < m->nnodes)
		mon_draw_detail(m);
	else {
		mon_draw_header(m);
		mon_draw_list(m);
		mon_draw_footer(m);
	}
	refresh();
	m->frames++;
}

void
monitor_draw_summary_text(struct monitor *m, FILE *f)
{
	char o[400], t[32];
	const struct mon_node *n;
	size_t i, k, shown;

	if (!m->started)
		return;
	mon_outcomes(m, o, sizeof o);
	mon_duration(t, sizeof t,
	    m->end_ms > m->start_ms ? m->end_ms - m->start_ms : 0);
	fprintf(f, "%s: %s in %s: %s\n", m->title,
	    m->interrupted ? "interrupted" : "finished", t, o);
	for (k = 0; k < NODE_OUT__COUNT; k++) {
		if (k == NODE_OUT_OK)
			continue;
		shown = 0;
		for (i = 0; i < m->nnodes; i++) {
			n = m->nodes[i];
			if (n->outcome != k)
				continue;
			if (shown == 0)
				fprintf(f, "  %s:",
				    k == NODE_OUT_NONE
					? "unfinished"
					: node_outcome_name(n->outcome));
			if (shown++ < 12)
				fprintf(f, " %s", n->name);
		}
		if (shown > 12)
			fprintf(f, " (+%zu more)", shown - 12);
		if (shown > 0)
			fprintf(f, "\n");
	}
	fflush(f);
}
