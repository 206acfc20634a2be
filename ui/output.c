/*
 * The output layer: option parsing shared by the run commands, and the
 * choice of sinks (JSON lines, plain with or without a terminal, the
 * curses monitor). Renderers stay ignorant of options and terminals: this
 * file asks isatty and NO_COLOR and tells them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "engine/loop.h"
#include "engine/run.h"
#include "ui/monitor.h"
#include "ui/output.h"
#include "ui/render.h"

struct output {
	struct render_plain *plain;
	struct render_json *json;
	struct monitor *monitor;
};

void
output_abort_run(void *arg)
{
	struct run *run = *(struct run **)arg;

	if (run != NULL)
		run_cancel(run, NODE_OUT_CANCELLED, "aborted from the monitor");
}

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
 * The monitor takes the terminal; where there is none (a pipe, TERM
 * unset or dumb) the run is shown the plain way, with a warning.
 */
static void
output_open_curses(struct output *o, struct bus *bus,
    const struct output_opts *oo)
{
	struct monitor_params mp;
	char *err = NULL;

	memset(&mp, 0, sizeof mp);
	mp.title = oo->title;
	mp.abort = oo->abort;
	mp.abort_arg = oo->abort_arg;
	if (output_no_color())
		mp.flags |= MONITOR_NO_COLOR;
	if ((o->monitor = monitor_new(bus, &mp, &err)) == NULL) {
		fprintf(stderr, "-c: %s; plain output instead\n", err);
		free(err);
	}
}

int
output_check(const struct output_opts *oo, char **errp)
{
	if (oo->curses && oo->json) {
		xasprintf(errp, "-c and -j exclude each other");
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
		output_open_curses(o, bus, oo);
		if (o->monitor != NULL)
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
output_finish(struct output *o)
{
	if (o != NULL && o->monitor != NULL)
		monitor_finish(o->monitor);
}

void
output_close(struct output *o)
{
	if (o == NULL)
		return;
	monitor_free(o->monitor);
	render_plain_free(o->plain);
	render_json_free(o->json);
	free(o);
}
