/*
 * The plain renderer: a line per message on a FILE (stdout), in the shape
 * rhubarbe users know ("HH:MM:SS +NNNs fit01 text"). Bytes from children
 * are printed with control characters escaped, so output cannot move the
 * terminal's cursor or forge lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xmalloc.h"
#include "engine/bus.h"
#include "inventory/nodeset.h"
#include "ui/render.h"

struct render_plain {
	struct bus_sink *sink;
	FILE *f;
	int flags;
	int width; /* of the node column */
	int started;
	uint64_t start_ms; /* monotonic, at run-start */
};

static void render_plain_cb(const struct bus_event *, void *);

struct render_plain *
render_plain_new(struct bus *bus, FILE *f, int flags)
{
	struct render_plain *rp;

	rp = xcalloc(1, sizeof *rp);
	rp->f = f;
	rp->flags = flags;
	rp->sink = bus_subscribe(bus, render_plain_cb, rp);
	return (rp);
}

void
render_plain_free(struct render_plain *rp)
{
	if (rp == NULL)
		return;
	bus_unsubscribe(rp->sink);
	free(rp);
}

/* "HH:MM:SS +NNNs " and the node column (absent for run-wide lines). */
static void
render_plain_prefix(struct render_plain *rp, const struct bus_event *ev)
{
	struct tm tm;
	time_t t = (time_t)(ev->wall_ms / 1000);
	uint64_t elapsed = 0;
	char stamp[16];

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

	/*
	 * By default only what needs attention: a node being stopped, or
	 * ending other than ok (the summary at the end lists the rest).
	 */
	if ((rp->flags & RENDER_PLAIN_STATES) == 0 &&
	    ev->node_state.new != NODE_STOPPING &&
	    (ev->node_state.new != NODE_DONE ||
		ev->node_state.outcome == NODE_OUT_OK))
		return;
	render_plain_prefix(rp, ev);
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
	fputc('\n', rp->f);
}

static void
render_plain_progress(struct render_plain *rp, const struct bus_event *ev)
{
	char buf[32];

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
		fprintf(rp->f, "%s %zu %s", sep, counts[k],
		    node_outcome_name((enum node_outcome)k));
		sep = ",";
	}
	if (ev->run_end.interrupted)
		fputs(" (interrupted)", rp->f);
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
		fprintf(rp->f, "%s: %s\n",
		    node_outcome_name((enum node_outcome)k), folded);
		free(folded);
	}
	free(names);
}

static void
render_plain_cb(const struct bus_event *ev, void *arg)
{
	struct render_plain *rp = arg;
	char *folded;
	size_t i, len;

	switch (ev->type) {
	case BUS_RUN_START:
		rp->started = 1;
		rp->start_ms = ev->mono_ms;
		rp->width = 0;
		for (i = 0; i < ev->run_start.nnodes; i++) {
			len = strlen(ev->run_start.nodes[i]);
			if (len > (size_t)rp->width)
				rp->width = (int)len;
		}
		folded = nodeset_fold_names(ev->run_start.nodes,
		    ev->run_start.nnodes);
		render_plain_prefix(rp, ev);
		fprintf(rp->f, "%s: %zu node%s: %s\n", ev->run_start.what,
		    ev->run_start.nnodes, ev->run_start.nnodes == 1 ? "" : "s",
		    folded);
		free(folded);
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
		render_plain_prefix(rp, ev);
		fputs(render_plain_level(ev->node_message.level), rp->f);
		render_plain_text(rp->f, ev->node_message.text);
		fputc('\n', rp->f);
		break;
	case BUS_RUN_INFO:
		if (ev->run_info.level == LOG_LEVEL_DEBUG &&
		    (rp->flags & RENDER_PLAIN_DEBUG) == 0)
			break;
		render_plain_prefix(rp, ev);
		fputs(render_plain_level(ev->run_info.level), rp->f);
		render_plain_text(rp->f, ev->run_info.text);
		fputc('\n', rp->f);
		break;
	case BUS_RUN_END:
		render_plain_end(rp, ev);
		break;
	default:
		break;
	}
	fflush(rp->f);
}
