/*
 * monitor-replay: drive the curses monitor (or, as a baseline, the plain
 * renderer or no sink) from a JSON-lines file of bus events in the format
 * of ui/render-json.c, with a fixed clock taken from each event's
 * "elapsed", so that screens are the same on every run. For the golden
 * tests and the benchmark; not installed.
 *
 *   monitor-replay [-m monitor|plain|none] [-s SPEED] [-S STATUS]
 *       [-t TITLE] [-C] FILE
 *
 * SPEED 0 (the default) publishes as fast as possible; otherwise SPEED
 * seconds of the file per real second. A line {"pause":"LABEL"} draws the
 * screen, appends "paused LABEL" to STATUS and waits for SIGUSR1. The
 * abort callback appends "abort"; the end appends "end cpu_ms=N wall_ms=N
 * frames=N". -C turns colours off.
 */
#include <sys/resource.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/bus.h"
#include "engine/loop.h"
#include "engine/node.h"
#include "ui/monitor.h"
#include "ui/render.h"

#define REPLAY_BASE_MS 1000000

static struct {
	FILE *in;
	const char *status;
	double speed;
	struct bus *bus;
	struct monitor *mon;
	struct event *ev_feed, *ev_usr1;
	uint64_t now; /* the fixed clock, ms */
	uint64_t real_start;
	int paused, done;
	json_t *pending; /* read but not yet due */
} rp;

static void
replay_status(const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	if (rp.status == NULL || (f = fopen(rp.status, "a")) == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static void
replay_clock(uint64_t *mono, uint64_t *wall, void *arg)
{
	*mono = REPLAY_BASE_MS + rp.now;
	*wall = 1700000000000ULL + rp.now;
}

static uint64_t
replay_now(void *arg)
{
	return (REPLAY_BASE_MS + rp.now);
}

static void
replay_abort(void *arg)
{
	replay_status("abort");
}

static const char *
replay_str(json_t *o, const char *key)
{
	return (json_string_value(json_object_get(o, key)));
}

static enum log_level
replay_level(const char *s)
{
	if (s == NULL)
		return (LOG_LEVEL_INFO);
	if (strcmp(s, "error") == 0)
		return (LOG_LEVEL_ERROR);
	if (strcmp(s, "warn") == 0)
		return (LOG_LEVEL_WARN);
	if (strcmp(s, "debug") == 0)
		return (LOG_LEVEL_DEBUG);
	return (LOG_LEVEL_INFO);
}

static enum node_state
replay_state(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < NODE_STATE__COUNT; i++) {
		if (strcmp(s, node_state_name((enum node_state)i)) == 0)
			return ((enum node_state)i);
	}
	return (NODE_NEW);
}

static enum node_outcome
replay_outcome(const char *s)
{
	enum node_outcome o;

	if (s == NULL || (o = node_outcome_lookup(s)) == NODE_OUT__COUNT)
		return (NODE_OUT_NONE);
	return (o);
}

/* Publish one event line. */
static void
replay_publish(json_t *o)
{
	struct bus_event ev;
	const char *name = replay_str(o, "event"), *src;
	const char **names = NULL, **whys = NULL;
	enum node_outcome *outs = NULL;
	json_t *a, *r;
	size_t i, n = 0;
	int k;

	memset(&ev, 0, sizeof ev);
	for (k = 0; k < BUS_EVENT__COUNT; k++) {
		if (name != NULL &&
		    strcmp(name, bus_event_name((enum bus_event_type)k)) == 0)
			break;
	}
	if (k == BUS_EVENT__COUNT)
		return;
	ev.type = (enum bus_event_type)k;
	ev.node = replay_str(o, "node");
	switch (ev.type) {
	case BUS_RUN_START:
		a = json_object_get(o, "nodes");
		n = json_array_size(a);
		names = xcalloc(n + 1, sizeof *names);
		for (i = 0; i < n; i++)
			names[i] = json_string_value(json_array_get(a, i));
		ev.run_start.what = replay_str(o, "run");
		ev.run_start.nodes = names;
		ev.run_start.nnodes = n;
		break;
	case BUS_NODE_STATE:
		ev.node_state.old = replay_state(replay_str(o, "old"));
		ev.node_state.new = replay_state(replay_str(o, "new"));
		ev.node_state.outcome =
		    replay_outcome(replay_str(o, "outcome"));
		ev.node_state.why = replay_str(o, "why");
		ev.node_state.step = replay_str(o, "step");
		break;
	case BUS_NODE_STEP:
		ev.node_step.step = replay_str(o, "step");
		if (ev.node_step.step == NULL)
			ev.node_step.step = "?";
		ev.node_step.index =
		    (size_t)json_integer_value(json_object_get(o, "index"));
		ev.node_step.count =
		    (size_t)json_integer_value(json_object_get(o, "count"));
		ev.node_step.finishing =
		    json_is_true(json_object_get(o, "finishing"));
		break;
	case BUS_NODE_PROGRESS:
		r = json_object_get(o, "percent");
		ev.node_progress.percent =
		    json_is_integer(r) ? (int)json_integer_value(r) : -1;
		ev.node_progress.bytes =
		    (uint64_t)json_integer_value(json_object_get(o, "bytes"));
		r = json_object_get(o, "rate");
		ev.node_progress.rate =
		    json_is_number(r) ? json_number_value(r) : -1;
		break;
	case BUS_NODE_MESSAGE:
		ev.node_message.level = replay_level(replay_str(o, "level"));
		src = replay_str(o, "source");
		ev.node_message.source = src == NULL ? BUS_SOURCE_ENGINE
		    : strcmp(src, "stdout") == 0     ? BUS_SOURCE_STDOUT
		    : strcmp(src, "stderr") == 0     ? BUS_SOURCE_STDERR
						     : BUS_SOURCE_ENGINE;
		ev.node_message.text = replay_str(o, "text");
		if (ev.node_message.text == NULL)
			ev.node_message.text = "";
		break;
	case BUS_RUN_INFO:
		ev.run_info.level = replay_level(replay_str(o, "level"));
		ev.run_info.text = replay_str(o, "text");
		if (ev.run_info.text == NULL)
			ev.run_info.text = "";
		break;
	case BUS_RUN_END:
		a = json_object_get(o, "results");
		n = json_array_size(a);
		names = xcalloc(n + 1, sizeof *names);
		whys = xcalloc(n + 1, sizeof *whys);
		outs = xcalloc(n + 1, sizeof *outs);
		for (i = 0; i < n; i++) {
			r = json_array_get(a, i);
			names[i] = replay_str(r, "node");
			whys[i] = replay_str(r, "why");
			outs[i] = replay_outcome(replay_str(r, "outcome"));
		}
		ev.run_end.what = replay_str(o, "run");
		ev.run_end.nodes = names;
		ev.run_end.outcomes = outs;
		ev.run_end.whys = whys;
		ev.run_end.nnodes = n;
		ev.run_end.interrupted =
		    json_is_true(json_object_get(o, "interrupted"));
		break;
	default:
		break;
	}
	bus_publish(rp.bus, &ev);
	free(names);
	free(whys);
	free(outs);
}

/* The next line as JSON, or NULL at the end of the file. */
static json_t *
replay_next(void)
{
	char *line = NULL;
	size_t cap = 0;
	json_t *o;

	while (getline(&line, &cap, rp.in) != -1) {
		if ((o = json_loads(line, 0, NULL)) == NULL)
			continue;
		free(line);
		return (o);
	}
	free(line);
	return (NULL);
}

static void
replay_arm(uint64_t ms)
{
	struct timeval tv;

	loop_ms_to_timeval(ms, &tv);
	evtimer_add(rp.ev_feed, &tv);
}

/* Publish what is due; stop at a pause or at the end. */
static void
replay_feed_cb(evutil_socket_t fd, short what, void *arg)
{
	json_t *o, *e;
	uint64_t due = UINT64_MAX, at;

	if (rp.speed > 0)
		due = (uint64_t)((double)(loop_now_ms() - rp.real_start) *
		    rp.speed);
	for (;;) {
		o = rp.pending != NULL ? rp.pending : replay_next();
		rp.pending = NULL;
		if (o == NULL) {
			rp.done = 1;
			loop_exit();
			return;
		}
		if (json_object_get(o, "pause") != NULL) {
			monitor_flush(rp.mon);
			replay_status("paused %s", replay_str(o, "pause"));
			json_decref(o);
			rp.paused = 1;
			return;
		}
		e = json_object_get(o, "elapsed");
		at = json_is_number(e)
		    ? (uint64_t)(json_number_value(e) * 1000 + 0.5)
		    : rp.now;
		if (at > due) {
			rp.pending = o;
			rp.now = due;
			replay_arm(10);
			return;
		}
		rp.now = at;
		replay_publish(o);
		json_decref(o);
	}
}

static void
replay_usr1_cb(evutil_socket_t fd, short what, void *arg)
{
	if (!rp.paused)
		return;
	rp.paused = 0;
	replay_arm(0);
}

int
main(int argc, char **argv)
{
	struct monitor_params mp;
	struct render_plain *plain = NULL;
	struct rusage ru;
	const char *mode = "monitor", *title = "load sample.ndz @ 500 Mibps";
	char *err = NULL;
	FILE *devnull = NULL;
	uint64_t cpu_ms, frames = 0;
	int ch, nocolour = 0;

	while ((ch = getopt(argc, argv, "m:s:S:t:C")) != -1) {
		switch (ch) {
		case 'm':
			mode = optarg;
			break;
		case 's':
			rp.speed = atof(optarg);
			break;
		case 'S':
			rp.status = optarg;
			break;
		case 't':
			title = optarg;
			break;
		case 'C':
			nocolour = 1;
			break;
		default:
			fprintf(stderr,
			    "usage: monitor-replay [-C] [-m "
			    "monitor|plain|none] [-s SPEED] [-S "
			    "STATUS] [-t TITLE] FILE\n");
			return (2);
		}
	}
	if (optind + 1 != argc || (rp.in = fopen(argv[optind], "r")) == NULL) {
		fprintf(stderr, "monitor-replay: no events file\n");
		return (2);
	}
	log_set_stderr_ok(0);
	if (loop_init(&err) != 0) {
		fprintf(stderr, "monitor-replay: %s\n", err);
		return (1);
	}
	rp.bus = bus_new();
	bus_set_clock(rp.bus, replay_clock, NULL);
	if (strcmp(mode, "monitor") == 0) {
		memset(&mp, 0, sizeof mp);
		mp.title = title;
		mp.abort = replay_abort;
		mp.now_ms = replay_now;
		mp.flags = nocolour ? MONITOR_NO_COLOR : 0;
		if ((rp.mon = monitor_new(rp.bus, &mp, &err)) == NULL) {
			fprintf(stderr, "monitor-replay: %s\n", err);
			return (1);
		}
	} else if (strcmp(mode, "plain") == 0) {
		devnull = fopen("/dev/null", "w");
		plain = render_plain_new(rp.bus, devnull, 0);
	}
	rp.ev_feed = evtimer_new(loop_base(), replay_feed_cb, NULL);
	rp.ev_usr1 = evsignal_new(loop_base(), SIGUSR1, replay_usr1_cb, NULL);
	event_add(rp.ev_usr1, NULL);
	rp.real_start = loop_now_ms();
	replay_arm(0);
	loop_run();

	if (rp.mon != NULL) {
		monitor_finish(rp.mon);
		frames = monitor_frames(rp.mon);
		monitor_free(rp.mon);
	}
	render_plain_free(plain);
	if (devnull != NULL)
		fclose(devnull);
	getrusage(RUSAGE_SELF, &ru);
	cpu_ms = (uint64_t)ru.ru_utime.tv_sec * 1000 +
	    (uint64_t)ru.ru_utime.tv_usec / 1000 +
	    (uint64_t)ru.ru_stime.tv_sec * 1000 +
	    (uint64_t)ru.ru_stime.tv_usec / 1000;
	replay_status("end cpu_ms=%llu wall_ms=%llu frames=%llu",
	    (unsigned long long)cpu_ms,
	    (unsigned long long)(loop_now_ms() - rp.real_start),
	    (unsigned long long)frames);
	event_free(rp.ev_feed);
	event_free(rp.ev_usr1);
	json_decref(rp.pending);
	loop_free();
	bus_free(rp.bus);
	fclose(rp.in);
	return (rp.done ? 0 : 1);
}
