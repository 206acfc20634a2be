/*
 * The monitor on the loop: a bus sink that updates the model and asks for
 * a frame; frames are coalesced by a 100 ms timer (so a thousand nodes
 * reporting progress cost about ten frames a second, not one per event),
 * plus a one-second tick for the clocks. Keys arrive through an event on
 * stdin, the terminal size through SIGWINCH as a loop signal event.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>
#include <event2/event.h>

#include "common/xmalloc.h"
#include "engine/loop.h"
#include "ui/monitor-int.h"

#define MONITOR_FRAME_MS 100
#define MONITOR_TICK_MS  1000

static void monitor_bus_cb(const struct bus_event *, void *);
static void monitor_stdin_cb(evutil_socket_t, short, void *);
static void monitor_timer_cb(evutil_socket_t, short, void *);
static void monitor_tick_cb(evutil_socket_t, short, void *);
static void monitor_winch_cb(evutil_socket_t, short, void *);

/* Ask for a frame within MONITOR_FRAME_MS. */
static void
monitor_dirty(struct monitor *m)
{
	struct timeval tv;

	m->dirty = 1;
	if (m->ev_timer != NULL && !evtimer_pending(m->ev_timer, NULL)) {
		loop_ms_to_timeval(MONITOR_FRAME_MS, &tv);
		evtimer_add(m->ev_timer, &tv);
	}
}

struct monitor *
monitor_new(struct bus *bus, const struct monitor_params *p, char **errp)
{
	struct monitor *m;
	struct timeval tv;

	m = xcalloc(1, sizeof *m);
	m->title = xstrdup(p->title != NULL ? p->title : "rhubarb");
	m->abort = p->abort;
	m->abort_arg = p->abort_arg;
	m->now_ms = p->now_ms;
	m->now_arg = p->now_arg;
	m->flags = p->flags;
	if (monitor_term_open(m, errp) != 0) {
		free(m->title);
		free(m);
		return (NULL);
	}
	m->ev_stdin = event_new(loop_base(), STDIN_FILENO, EV_READ | EV_PERSIST,
	    monitor_stdin_cb, m);
	m->ev_timer = evtimer_new(loop_base(), monitor_timer_cb, m);
	m->ev_tick = event_new(loop_base(), -1, EV_PERSIST, monitor_tick_cb, m);
	m->ev_winch = evsignal_new(loop_base(), SIGWINCH, monitor_winch_cb, m);
	event_add(m->ev_stdin, NULL);
	loop_ms_to_timeval(MONITOR_TICK_MS, &tv);
	event_add(m->ev_tick, &tv);
	/* After newterm: the loop's handler replaces ncurses' own. */
	event_add(m->ev_winch, NULL);
	m->sink = bus_subscribe(bus, monitor_bus_cb, m);
	monitor_draw(m);
	return (m);
}

static void
monitor_bus_cb(const struct bus_event *ev, void *arg)
{
	struct monitor *m = arg;

	monitor_model_event(m, ev);
	monitor_dirty(m);
}

static void
monitor_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	monitor_flush(arg);
}

static void
monitor_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct monitor *m = arg;

	/* Only clocks move: nothing to do once the run has ended. */
	if (!m->ended)
		monitor_dirty(m);
}

static void
monitor_winch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct monitor *m = arg;

	monitor_term_resize(m);
	m->dirty = 1;
	monitor_flush(m);
}

void
monitor_flush(struct monitor *m)
{
	if (m == NULL || m->screen == NULL || !m->dirty)
		return;
	m->dirty = 0;
	monitor_draw(m);
}

/* Move the list selection (or scroll the detail) by delta rows. */
static void
monitor_move(struct monitor *m, long delta)
{
	long pos;

	if (m->view == MON_VIEW_DETAIL) {
		pos = (long)m->detail_up - delta;
		m->detail_up = pos < 0 ? 0 : (size_t)pos;
		return;
	}
	if (m->nnodes == 0)
		return;
	pos = (long)m->cursor + delta;
	if (pos < 0)
		pos = 0;
	if (pos >= (long)m->nnodes)
		pos = (long)m->nnodes - 1;
	m->cursor = (size_t)pos;
}

/* A key that moves, in any view; 1 if it was one. */
static int
monitor_key_move(struct monitor *m, int key)
{
	long page = m->list_rows > 1 ? m->list_rows - 1 : 1;

	if (m->view == MON_VIEW_DETAIL)
		page = LINES > 6 ? LINES - 6 : 1;
	switch (key) {
	case KEY_UP:
	case 'k':
		monitor_move(m, -1);
		return (1);
	case KEY_DOWN:
	case 'j':
		monitor_move(m, 1);
		return (1);
	case KEY_PPAGE:
		monitor_move(m, -page);
		return (1);
	case KEY_NPAGE:
	case ' ':
		monitor_move(m, page);
		return (1);
	case KEY_HOME:
	case 'g':
		monitor_move(m, -(long)m->nnodes - MON_RING);
		return (1);
	case KEY_END:
	case 'G':
		monitor_move(m, (long)m->nnodes + MON_RING);
		return (1);
	}
	return (0);
}

static void
monitor_key(struct monitor *m, int key)
{
	if (key == KEY_RESIZE) {
		/* ncurses' own SIGWINCH path, should it ever win the race. */
		return;
	}
	if (m->view == MON_VIEW_HELP) {
		m->view = m->back;
		return;
	}
	if (m->confirm) {
		m->confirm = 0;
		if ((key == 'y' || key == 'Y') && m->abort != NULL &&
		    !m->aborting) {
			m->aborting = 1;
			m->abort(m->abort_arg);
		}
		return;
	}
	if (monitor_key_move(m, key))
		return;
	switch (key) {
	case '?':
	case 'h':
		m->back = m->view;
		m->view = MON_VIEW_HELP;
		return;
	case '\r':
	case '\n':
	case KEY_ENTER:
	case KEY_RIGHT:
		if (m->view == MON_VIEW_LIST && m->nnodes > 0) {
			m->view = MON_VIEW_DETAIL;
			m->detail = m->cursor;
			m->detail_up = 0;
		} else if (key != KEY_RIGHT)
			m->view = MON_VIEW_LIST;
		return;
	case 27: /* Esc */
	case KEY_LEFT:
	case KEY_BACKSPACE:
		m->view = MON_VIEW_LIST;
		return;
	case 'l':
		clearok(curscr, TRUE);
		return;
	}
	if (m->view == MON_VIEW_DETAIL && key == 'q') {
		m->view = MON_VIEW_LIST;
		return;
	}
	if (m->waiting) {
		/* Done looking: any other key ends the wait. */
		m->waiting = 0;
		loop_exit();
		return;
	}
	if (key == 'q' && !m->finished && !m->ended && m->abort != NULL &&
	    !m->aborting)
		m->confirm = 1;
}

static void
monitor_stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct monitor *m = arg;
	int key, n = 0;

	while ((key = getch()) != ERR) {
		monitor_key(m, key);
		n++;
	}
	/* Readable yet no key: stdin is gone (a hangup); stop watching it. */
	if (n == 0) {
		event_del(m->ev_stdin);
		if (m->waiting) {
			m->waiting = 0;
			loop_exit();
		}
	}
	m->dirty = 1;
	monitor_flush(m);
}

/* A user is there to read the summary: terminals both ways, not a test. */
static int
monitor_user_present(void)
{
	const char *v = getenv("RHUBARB_MONITOR_NO_WAIT");

	return (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
	    (v == NULL || *v == '\0'));
}

void
monitor_finish(struct monitor *m)
{
	if (m == NULL || m->screen == NULL || m->finished)
		return;
	m->finished = 1;
	m->confirm = 0;
	if (!m->ended)
		m->end_ms = monitor_now(m);
	if (monitor_user_present()) {
		m->waiting = 1;
		m->dirty = 1;
		monitor_flush(m);
		/*
		 * Keys, resizes and the detail view keep working while the
		 * summary waits; a key, a hangup or a signal ends the wait.
		 */
		loop_run();
		m->waiting = 0;
	}
	m->dirty = 1;
	monitor_flush(m);
}

uint64_t
monitor_frames(const struct monitor *m)
{
	return (m->frames);
}

void
monitor_free(struct monitor *m)
{
	if (m == NULL)
		return;
	bus_unsubscribe(m->sink);
	if (m->ev_stdin != NULL)
		event_free(m->ev_stdin);
	if (m->ev_timer != NULL)
		event_free(m->ev_timer);
	if (m->ev_tick != NULL)
		event_free(m->ev_tick);
	if (m->ev_winch != NULL)
		event_free(m->ev_winch);
	monitor_term_close(m);
	monitor_draw_summary_text(m, stdout);
	monitor_model_free(m);
	free(m->title);
	free(m);
}
