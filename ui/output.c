/*
 * The output layer: option parsing shared by the run commands, and the
 * choice of sinks (JSON lines, plain with or without a terminal, the
 * curses monitor). Renderers stay ignorant of options and terminals: this
 * file asks isatty and NO_COLOR and tells them.
 */
#include <stdlib.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "engine/loop.h"
#include "ui/output.h"
#include "ui/render.h"

struct output {
	struct render_plain *plain;
	struct render_json *json;
	void *curses; /* the monitor, once there is one */
};

int
output_getopt(struct output_opts *oo, int ch)
{
	switch (ch) {
	case 'c':
		oo->curses = 1;
		return (1);
	case 'j':
		oo->json = 1;
		return (1);
	case 'q':
		oo->quiet = 1;
		return (1);
	case 'v':
		oo->verbose = 1;
		return (1);
	default:
		return (0);
	}
}

/* https://no-color.org: set and not empty means no colour. */
static int
output_no_color(void)
{
	const char *s = getenv("NO_COLOR");

	return (s != NULL && *s != '\0');
}

/*
 * The curses monitor (ui/monitor*.c) plugs in here: set this to 1, open
 * the monitor on the bus below and keep it in o->curses, close it in
 * output_close.
 */
static const int output_curses_available = 0;

static int
output_open_curses(struct output *o, struct bus *bus,
    const struct output_opts *oo, FILE *f, char **errp)
{
	xasprintf(errp, "-c: the curses monitor is not available");
	return (-1);
}

int
output_check(const struct output_opts *oo, char **errp)
{
	if (oo->curses && oo->json) {
		xasprintf(errp, "-c and -j exclude each other");
		return (-1);
	}
	if (oo->curses && output_curses_available == 0) {
		xasprintf(errp, "-c: the curses monitor is not available");
		return (-1);
	}
	return (0);
}

struct output *
output_open(struct bus *bus, const struct output_opts *oo, FILE *f, char **errp)
{
	struct output *o;
	int flags = 0, tty;

	if (output_check(oo, errp) != 0)
		return (NULL);
	o = xcalloc(1, sizeof *o);
	if (oo->json) {
		o->json = render_json_new(bus, f);
		return (o);
	}
	if (oo->curses) {
		if (output_open_curses(o, bus, oo, f, errp) != 0) {
			free(o);
			return (NULL);
		}
		return (o);
	}
	tty = oo->tty != 0 ? oo->tty > 0 : isatty(fileno(f));
	if (oo->verbose)
		flags |= RENDER_PLAIN_DEBUG | RENDER_PLAIN_STATES;
	if (oo->quiet)
		flags |= RENDER_PLAIN_QUIET;
	if (tty)
		flags |= RENDER_PLAIN_TTY;
	if (tty && !output_no_color())
		flags |= RENDER_PLAIN_COLOR;
	o->plain = render_plain_new(bus, f, flags);
	if (tty)
		render_plain_set_tty(o->plain, 0, loop_base());
	return (o);
}

void
output_close(struct output *o)
{
	if (o == NULL)
		return;
	render_plain_free(o->plain);
	render_json_free(o->json);
	free(o);
}
