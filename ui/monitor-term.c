/*
 * The monitor's terminal: curses set up on stdin/stdout with newterm (so a
 * missing or unknown terminal is an error we report, not an exit inside
 * initscr), colour pairs, and the guarantee that the terminal comes back:
 * endwin at exit and on fatal signals (then the signal is raised again,
 * with its default action, so the process still dies of it).
 *
 * cbreak, not raw: Ctrl-C stays a SIGINT, handled by the loop like in any
 * other mode. The loop owns SIGINT/SIGTERM before we start, so ncurses
 * leaves them alone; it keeps SIGTSTP, which it handles well.
 */
#include <sys/ioctl.h>

#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "common/xmalloc.h"
#include "ui/monitor-int.h"

/* The one active screen, for the exit and signal paths. */
static SCREEN *mon_term_active;
static int mon_term_atexit_set;
static const int mon_term_fatal[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
static struct sigaction mon_term_old[nitems(mon_term_fatal)];

static void
mon_term_restore(void)
{
	if (mon_term_active != NULL && !isendwin())
		endwin();
}

/*
 * A fatal signal: give the terminal back, then die of the same signal.
 * endwin is not async-signal-safe, but the process is going anyway and a
 * terminal left in cbreak mode without echo is the worse outcome.
 */
static void
mon_term_fatal_cb(int sig)
{
	mon_term_restore();
	mon_term_active = NULL;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
mon_term_handlers(int install)
{
	struct sigaction sa;
	size_t i;

	for (i = 0; i < nitems(mon_term_fatal); i++) {
		if (!install) {
			sigaction(mon_term_fatal[i], &mon_term_old[i], NULL);
			continue;
		}
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = mon_term_fatal_cb;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESETHAND | SA_NODEFER;
		sigaction(mon_term_fatal[i], &sa, &mon_term_old[i]);
	}
}

int
monitor_term_open(struct monitor *m, char **errp)
{
	SCREEN *s;
	const char *term, *nc;

	*errp = NULL;
	if (mon_term_active != NULL) {
		*errp = xstrdup("a monitor is already running");
		return (-1);
	}
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		*errp = xstrdup("the monitor needs a terminal");
		return (-1);
	}
	if ((term = getenv("TERM")) == NULL || *term == '\0' ||
	    strcmp(term, "dumb") == 0) {
		*errp = xstrdup("the monitor needs a terminal type (TERM)");
		return (-1);
	}
	/* Wide characters (the bar's blocks) need the user's locale. */
	setlocale(LC_CTYPE, "");
	m->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	if ((s = newterm(NULL, stdout, stdin)) == NULL) {
		xasprintf(errp, "cannot use terminal type '%s'", term);
		return (-1);
	}
	set_term(s);
	m->screen = s;
	mon_term_active = s;
	if (!mon_term_atexit_set) {
		atexit(mon_term_restore);
		mon_term_atexit_set = 1;
	}
	mon_term_handlers(1);

	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	/* Esc alone must not wait a second for a sequence to complete. */
	set_escdelay(25);

	nc = getenv("NO_COLOR");
	m->colour = has_colors() && !(m->flags & MONITOR_NO_COLOR) &&
	    (nc == NULL || *nc == '\0');
	if (m->colour) {
		start_color();
		use_default_colors();
		monitor_draw_colours();
	}
	return (0);
}

/* The terminal changed size (SIGWINCH arrived through the loop). */
void
monitor_term_resize(struct monitor *m)
{
	struct winsize ws;

	if (m->screen == NULL)
		return;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
}

void
monitor_term_close(struct monitor *m)
{
	if (m->screen == NULL)
		return;
	curs_set(1);
	endwin();
	mon_term_handlers(0);
	mon_term_active = NULL;
	delscreen(m->screen);
	m->screen = NULL;
}
