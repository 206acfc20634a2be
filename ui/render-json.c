/*
 * The JSON-lines renderer (--json): one compact object per bus event,
 * flushed per line so a consumer reading a pipe sees each event at once.
 * Text from children may be any bytes; JSON strings must be UTF-8, so
 * invalid sequences become U+FFFD rather than a dropped event.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "engine/bus.h"
#include "ui/render.h"

struct render_json {
	struct bus_sink *sink;
	FILE *f;
	int started;
	uint64_t start_ms;
};

static void render_json_cb(const struct bus_event *, void *);

struct render_json *
render_json_new(struct bus *bus, FILE *f)
{
	struct render_json *rj;

	rj = xcalloc(1, sizeof *rj);
	rj->f = f;
	rj->sink = bus_subscribe(bus, render_json_cb, rj);
	return (rj);
}

void
render_json_free(struct render_json *rj)
{
	if (rj == NULL)
		return;
	bus_unsubscribe(rj->sink);
	free(rj);
}

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
static size_t
render_json_utf8_len(const unsigned char *p)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return (0);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (len);
}

/* A JSON string for s (NULL gives null), repairing invalid UTF-8. */
static json_t *
render_json_string(const char *s)
{
	const unsigned char *p;
	json_t *j;
	char *fixed, *q;
	size_t len;

	if (s == NULL)
		return (json_null());
	if ((j = json_string(s)) != NULL)
		return (j);
	q = fixed = xmalloc(strlen(s) * 3 + 1);
	for (p = (const unsigned char *)s; *p != '\0'; p += len) {
		if ((len = render_json_utf8_len(p)) == 0) {
			memcpy(q, "\xef\xbf\xbd", 3);
			q += 3;
			len = 1;
		} else {
			memcpy(q, p, len);
			q += len;
		}
	}
	*q = '\0';
	j = json_string(fixed);
	free(fixed);
	return (j != NULL ? j : json_null());
}

static const char *
render_json_level(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:
		return ("error");
	case LOG_LEVEL_WARN:
		return ("warn");
	case LOG_LEVEL_DEBUG:
		return ("debug");
	default:
		return ("info");
	}
}

/* The fields every line has: event, time, elapsed, node. */
static json_t *
render_json_head(struct render_json *rj, const struct bus_event *ev)
{
	json_t *o;
	struct tm tm;
	time_t t = (time_t)(ev->wall_ms / 1000);
	uint64_t elapsed = 0;
	char stamp[32], iso[40];

	if (ev->type == BUS_RUN_START || !rj->started) {
		rj->started = 1;
		rj->start_ms = ev->mono_ms;
	}
	if (ev->mono_ms > rj->start_ms)
		elapsed = ev->mono_ms - rj->start_ms;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(iso, sizeof iso, "%s.%03uZ", stamp,
	    (unsigned)(ev->wall_ms % 1000));

	o = json_object();
	json_object_set_new(o, "event", json_string(bus_event_name(ev->type)));
	json_object_set_new(o, "time", json_string(iso));
	json_object_set_new(o, "elapsed", json_real((double)elapsed / 1000));
	json_object_set_new(o, "node", render_json_string(ev->node));
	return (o);
}

static void
render_json_names(json_t *o, const char *key, const char *const *names,
    size_t n)
{
	json_t *a;
	size_t i;

	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, render_json_string(names[i]));
	json_object_set_new(o, key, a);
}

static void
render_json_end(json_t *o, const struct bus_event *ev)
{
	size_t counts[NODE_OUT__COUNT] = {0};
	json_t *c, *results, *r;
	size_t i, k;

	json_object_set_new(o, "run", json_string(ev->run_end.what));
	json_object_set_new(o, "interrupted",
	    json_boolean(ev->run_end.interrupted));
	results = json_array();
	for (i = 0; i < ev->run_end.nnodes; i++) {
		counts[ev->run_end.outcomes[i]]++;
		r = json_object();
		json_object_set_new(r, "node",
		    render_json_string(ev->run_end.nodes[i]));
		json_object_set_new(r, "outcome",
		    json_string(node_outcome_name(ev->run_end.outcomes[i])));
		json_object_set_new(r, "why",
		    render_json_string(ev->run_end.whys[i]));
		json_array_append_new(results, r);
	}
	c = json_object();
	for (k = 0; k < NODE_OUT__COUNT; k++) {
		if (counts[k] > 0)
			json_object_set_new(c,
			    node_outcome_name((enum node_outcome)k),
			    json_integer((json_int_t)counts[k]));
	}
	json_object_set_new(o, "counts", c);
	json_object_set_new(o, "results", results);
}

static void
render_json_cb(const struct bus_event *ev, void *arg)
{
	struct render_json *rj = arg;
	json_t *o;
	char *line;

	o = render_json_head(rj, ev);
	switch (ev->type) {
	case BUS_RUN_START:
		json_object_set_new(o, "run", json_string(ev->run_start.what));
		render_json_names(o, "nodes", ev->run_start.nodes,
		    ev->run_start.nnodes);
		break;
	case BUS_NODE_STATE:
		json_object_set_new(o, "old",
		    json_string(node_state_name(ev->node_state.old)));
		json_object_set_new(o, "new",
		    json_string(node_state_name(ev->node_state.new)));
		if (ev->node_state.new == NODE_DONE)
			json_object_set_new(o, "outcome",
			    json_string(
				node_outcome_name(ev->node_state.outcome)));
		json_object_set_new(o, "why",
		    render_json_string(ev->node_state.why));
		json_object_set_new(o, "step",
		    render_json_string(ev->node_state.step));
		break;
	case BUS_NODE_STEP:
		json_object_set_new(o, "step", json_string(ev->node_step.step));
		json_object_set_new(o, "index",
		    json_integer((json_int_t)ev->node_step.index));
		json_object_set_new(o, "count",
		    json_integer((json_int_t)ev->node_step.count));
		json_object_set_new(o, "finishing",
		    json_boolean(ev->node_step.finishing));
		break;
	case BUS_NODE_PROGRESS:
		json_object_set_new(o, "percent",
		    ev->node_progress.percent >= 0
			? json_integer(ev->node_progress.percent)
			: json_null());
		json_object_set_new(o, "bytes",
		    json_integer((json_int_t)ev->node_progress.bytes));
		json_object_set_new(o, "rate",
		    ev->node_progress.rate >= 0
			? json_real(ev->node_progress.rate)
			: json_null());
		break;
	case BUS_NODE_MESSAGE:
		json_object_set_new(o, "level",
		    json_string(render_json_level(ev->node_message.level)));
		json_object_set_new(o, "source",
		    json_string(bus_source_name(ev->node_message.source)));
		json_object_set_new(o, "text",
		    render_json_string(ev->node_message.text));
		break;
	case BUS_RUN_INFO:
		json_object_set_new(o, "level",
		    json_string(render_json_level(ev->run_info.level)));
		json_object_set_new(o, "text",
		    render_json_string(ev->run_info.text));
		break;
	case BUS_RUN_END:
		render_json_end(o, ev);
		break;
	default:
		break;
	}
	/* %.12g: "elapsed": 1.234, not 1.2339999999999999. */
	line = json_dumps(o,
	    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	json_decref(o);
	if (line != NULL) {
		fprintf(rj->f, "%s\n", line);
		free(line);
	}
	fflush(rj->f);
}
