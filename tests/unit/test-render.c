/*
 * Renderers: the plain and JSON renderers fed a fixed sequence of bus
 * events with an injected clock (TZ=UTC), compared byte for byte with
 * golden text. No loop: the bus works without one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/compat.h"
#include "engine/bus.h"
#include "ui/phase.h"
#include "ui/render.h"
#include "ui/tally.h"

#define T0_WALL_MS 1709640000000ULL /* 2024-03-05T12:00:00Z */
#define T0_MONO_MS 5000000ULL

static uint64_t now_ms; /* since T0 */

static void
fake_clock(uint64_t *mono, uint64_t *wall, void *arg)
{
	*mono = T0_MONO_MS + now_ms;
	*wall = T0_WALL_MS + now_ms;
}

static void
tally_cb(const struct bus_event *ev, void *arg)
{
	tally_event(arg, ev);
}

static const char *const names[] = {"fit01", "fit02", "node100"};

static void
at(struct bus *bus, uint64_t ms, struct bus_event *ev)
{
	now_ms = ms;
	bus_publish(bus, ev);
}

static void
state(struct bus *bus, uint64_t ms, const char *node, enum node_state old,
    enum node_state new, enum node_outcome outcome, const char *why)
{
	struct bus_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_STATE;
	ev.node = node;
	ev.node_state.old = old;
	ev.node_state.new = new;
	ev.node_state.why = why;
	ev.node_state.step = "exec";
	ev.node_state.outcome = outcome;
	at(bus, ms, &ev);
}

static void
message(struct bus *bus, uint64_t ms, const char *node, enum log_level level,
    enum bus_source source, const char *text)
{
	struct bus_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_MESSAGE;
	ev.node = node;
	ev.node_message.level = level;
	ev.node_message.source = source;
	ev.node_message.text = text;
	at(bus, ms, &ev);
}

static void
step(struct bus *bus, uint64_t ms, const char *node, const char *name,
    size_t index, size_t count, int finishing)
{
	struct bus_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_STEP;
	ev.node = node;
	ev.node_step.step = name;
	ev.node_step.index = index;
	ev.node_step.count = count;
	ev.node_step.finishing = finishing;
	at(bus, ms, &ev);
}

static void
progress(struct bus *bus, uint64_t ms, const char *node, int percent)
{
	struct bus_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_PROGRESS;
	ev.node = node;
	ev.node_progress.percent = percent;
	ev.node_progress.bytes = 0;
	ev.node_progress.rate = -1;
	at(bus, ms, &ev);
}

/* The same story for both renderers: every event type at least once. */
static void
feed(struct bus *bus)
{
	static const enum node_outcome outcomes[] = {NODE_OUT_OK,
	    NODE_OUT_CHILD_FAILED, NODE_OUT_TIMEOUT};
	static const char *const whys[] = {NULL, "exit 1",
	    "run timeout after 3s"};
	struct bus_event ev;

	bus_set_clock(bus, fake_clock, NULL);
	memset(&ev, 0, sizeof ev);
	ev.type = BUS_RUN_START;
	ev.run_start.what = "exec";
	ev.run_start.nodes = names;
	ev.run_start.nnodes = nitems(names);
	at(bus, 0, &ev);

	state(bus, 0, "fit01", NODE_NEW, NODE_QUEUED, NODE_OUT_NONE, NULL);
	state(bus, 10, "fit01", NODE_QUEUED, NODE_RUNNING, NODE_OUT_NONE, NULL);
	step(bus, 10, "fit01", "exec", 0, 1, 0);
	message(bus, 1500, "fit01", LOG_LEVEL_INFO, BUS_SOURCE_STDOUT,
	    "hello world");
	message(bus, 1600, "fit02", LOG_LEVEL_WARN, BUS_SOURCE_ENGINE,
	    "disk almost full");
	message(bus, 2000, "fit02", LOG_LEVEL_DEBUG, BUS_SOURCE_ENGINE,
	    "pid 123: sh");
	message(bus, 2100, "fit01", LOG_LEVEL_INFO, BUS_SOURCE_STDERR,
	    "esc\033[31m\ttab \xff\xfe bad \xc3\xa9t\xc3\xa9");

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_NODE_PROGRESS;
	ev.node = "node100";
	ev.node_progress.percent = 45;
	ev.node_progress.bytes = 1536;
	ev.node_progress.rate = 2.5 * 1024 * 1024;
	at(bus, 2500, &ev);
	ev.node_progress.percent = -1;
	ev.node_progress.bytes = 0;
	ev.node_progress.rate = -1;
	at(bus, 2600, &ev);

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_RUN_INFO;
	ev.run_info.level = LOG_LEVEL_WARN;
	ev.run_info.text = "timeout after 3s: stopping 1 nodes";
	at(bus, 3000, &ev);

	state(bus, 3001, "node100", NODE_RUNNING, NODE_STOPPING, NODE_OUT_NONE,
	    "run timeout after 3s");
	state(bus, 3100, "node100", NODE_STOPPING, NODE_DONE, NODE_OUT_TIMEOUT,
	    "run timeout after 3s");
	state(bus, 3100, "fit01", NODE_RUNNING, NODE_DONE, NODE_OUT_OK, NULL);
	state(bus, 3100, "fit02", NODE_RUNNING, NODE_DONE,
	    NODE_OUT_CHILD_FAILED, "exit 1");

	memset(&ev, 0, sizeof ev);
	ev.type = BUS_RUN_END;
	ev.run_end.what = "exec";
	ev.run_end.nodes = names;
	ev.run_end.outcomes = outcomes;
	ev.run_end.whys = whys;
	ev.run_end.nnodes = nitems(names);
	at(bus, 125432, &ev);
}

/* Run the renderer made by make() over feed() and return its output. */
static char *
render(int json, int flags)
{
	struct render_plain *rp = NULL;
	struct render_json *rj = NULL;
	struct bus *bus;
	FILE *f;
	char *out = NULL;
	size_t len = 0;

	assert_non_null(f = open_memstream(&out, &len));
	bus = bus_new();
	if (json)
		rj = render_json_new(bus, f);
	else
		rp = render_plain_new(bus, f, flags);
	feed(bus);
	render_plain_free(rp);
	render_json_free(rj);
	bus_free(bus);
	fclose(f);
	return (out);
}

static const char golden_plain[] =
    "12:00:00 +000s exec: 3 nodes: fit[01-02],node100\n"
    "12:00:01 +001s fit01   hello world\n"
    "12:00:01 +001s fit02   warning: disk almost full\n"
    "12:00:02 +002s fit01   esc\\x1b[31m\ttab \xff\xfe bad \xc3\xa9t\xc3\xa9\n"
    "12:00:02 +002s node100 progress 45% 1.5 KiB 2.5 MiB/s\n"
    "12:00:03 +003s warning: timeout after 3s: stopping 1 nodes\n"
    "12:00:03 +003s node100 running -> stopping: run timeout after 3s\n"
    "12:00:03 +003s node100 stopping -> done: timeout (run timeout after 3s)\n"
    "12:00:03 +003s fit02   running -> done: child-failed (exit 1)\n"
    "12:02:05 +125s exec: 3 nodes: 1 ok, 1 timeout, 1 child-failed\n"
    "12:02:05 +125s ok: fit01\n"
    "12:02:05 +125s timeout: node100\n"
    "12:02:05 +125s child-failed: fit02\n";

static void
test_plain(void **state)
{
	char *out = render(0, 0);

	assert_string_equal(out, golden_plain);
	free(out);
}

/* Flags bring back what plain hides by default. */
static void
test_plain_flags(void **state)
{
	char *out = render(0, RENDER_PLAIN_DEBUG | RENDER_PLAIN_STATES);

	assert_non_null(strstr(out, "12:00:00 +000s fit01   new -> queued\n"));
	assert_non_null(strstr(out, "12:00:02 +002s fit02   pid 123: sh\n"));
	assert_non_null(
	    strstr(out, "12:00:03 +003s fit01   running -> done: ok\n"));
	assert_non_null(
	    strstr(out, "12:00:00 +000s fit01   step exec (1/1)\n"));
	/* Every progress report, even without a percent. */
	assert_non_null(strstr(out, "12:00:02 +002s node100 progress\n"));
	free(out);
}

static const char golden_json[] =
    "{\"event\":\"run-start\",\"time\":\"2024-03-05T12:00:00.000Z\",\"elapsed\":0.0,\"node\":null,\"run\":\"exec\",\"nodes\":[\"fit01\",\"fit02\",\"node100\"]}\n"
    "{\"event\":\"node-state\",\"time\":\"2024-03-05T12:00:00.000Z\",\"elapsed\":0.0,\"node\":\"fit01\",\"old\":\"new\",\"new\":\"queued\",\"why\":null,\"step\":\"exec\"}\n"
    "{\"event\":\"node-state\",\"time\":\"2024-03-05T12:00:00.010Z\",\"elapsed\":0.01,\"node\":\"fit01\",\"old\":\"queued\",\"new\":\"running\",\"why\":null,\"step\":\"exec\"}\n"
    "{\"event\":\"node-step\",\"time\":\"2024-03-05T12:00:00.010Z\",\"elapsed\":0.01,\"node\":\"fit01\",\"step\":\"exec\",\"index\":0,\"count\":1,\"finishing\":false}\n"
    "{\"event\":\"node-message\",\"time\":\"2024-03-05T12:00:01.500Z\",\"elapsed\":1.5,\"node\":\"fit01\",\"level\":\"info\",\"source\":\"stdout\",\"text\":\"hello world\"}\n"
    "{\"event\":\"node-message\",\"time\":\"2024-03-05T12:00:01.600Z\",\"elapsed\":1.6,\"node\":\"fit02\",\"level\":\"warn\",\"source\":\"engine\",\"text\":\"disk almost full\"}\n"
    "{\"event\":\"node-message\",\"time\":\"2024-03-05T12:00:02.000Z\",\"elapsed\":2.0,\"node\":\"fit02\",\"level\":\"debug\",\"source\":\"engine\",\"text\":\"pid 123: sh\"}\n"
    "{\"event\":\"node-message\",\"time\":\"2024-03-05T12:00:02.100Z\",\"elapsed\":2.1,\"node\":\"fit01\",\"level\":\"info\",\"source\":\"stderr\",\"text\":\"esc\\u001B[31m\\ttab \xef\xbf\xbd\xef\xbf\xbd bad \xc3\xa9t\xc3\xa9\"}\n"
    "{\"event\":\"node-progress\",\"time\":\"2024-03-05T12:00:02.500Z\",\"elapsed\":2.5,\"node\":\"node100\",\"percent\":45,\"bytes\":1536,\"rate\":2621440.0}\n"
    "{\"event\":\"node-progress\",\"time\":\"2024-03-05T12:00:02.600Z\",\"elapsed\":2.6,\"node\":\"node100\",\"percent\":null,\"bytes\":0,\"rate\":null}\n"
    "{\"event\":\"run-info\",\"time\":\"2024-03-05T12:00:03.000Z\",\"elapsed\":3.0,\"node\":null,\"level\":\"warn\",\"text\":\"timeout after 3s: stopping 1 nodes\"}\n"
    "{\"event\":\"node-state\",\"time\":\"2024-03-05T12:00:03.001Z\",\"elapsed\":3.001,\"node\":\"node100\",\"old\":\"running\",\"new\":\"stopping\",\"why\":\"run timeout after 3s\",\"step\":\"exec\"}\n"
    "{\"event\":\"node-state\",\"time\":\"2024-03-05T12:00:03.100Z\",\"elapsed\":3.1,\"node\":\"node100\",\"old\":\"stopping\",\"new\":\"done\",\"outcome\":\"timeout\",\"why\":\"run timeout after 3s\",\"step\":\"exec\"}\n"
    "{\"event\":\"node-state\",\"time\":\"2024-03-05T12:00:03.100Z\",\"elapsed\":3.1,\"node\":\"fit01\",\"old\":\"running\",\"new\":\"done\",\"outcome\":\"ok\",\"why\":null,\"step\":\"exec\"}\n"
    "{\"event\":\"node-state\",\"time\":\"2024-03-05T12:00:03.100Z\",\"elapsed\":3.1,\"node\":\"fit02\",\"old\":\"running\",\"new\":\"done\",\"outcome\":\"child-failed\",\"why\":\"exit 1\",\"step\":\"exec\"}\n"
    "{\"event\":\"run-end\",\"time\":\"2024-03-05T12:02:05.432Z\",\"elapsed\":125.432,\"node\":null,\"run\":\"exec\",\"interrupted\":false,\"counts\":{\"ok\":1,\"timeout\":1,\"child-failed\":1},\"results\":[{\"node\":\"fit01\",\"outcome\":\"ok\",\"why\":null},{\"node\":\"fit02\",\"outcome\":\"child-failed\",\"why\":\"exit 1\"},{\"node\":\"node100\",\"outcome\":\"timeout\",\"why\":\"run timeout after 3s\"}]}\n";

static void
test_json(void **state)
{
	char *out = render(1, 0), *line, *save = NULL;
	const char *path = getenv("RHUBARB_EVENTS_OUT");
	json_t *j;
	json_error_t e;
	FILE *f;
	size_t n = 0;

	assert_string_equal(out, golden_json);
	/* For tests/cli/test-json-schema.sh: every event type, validated. */
	if (path != NULL) {
		assert_non_null(f = fopen(path, "w"));
		fputs(out, f);
		assert_int_equal(fclose(f), 0);
	}
	/* Every line is a JSON object of its own. */
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(j = json_loads(line, 0, &e));
		assert_true(json_is_object(j));
		assert_true(json_is_string(json_object_get(j, "event")));
		json_decref(j);
		n++;
	}
	assert_int_equal(n, 16);
	free(out);
}

/* Bytes below 0x20 other than tab and newline, and DEL. */
static int
has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		if (((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n') ||
		    *s == 0x7f)
			return (1);
	}
	return (0);
}

/* No terminal: not one escape or carriage return, even with -v. */
static void
test_plain_no_control(void **state)
{
	char *out;

	out = render(0, 0);
	assert_false(has_control(out));
	free(out);
	out = render(0, RENDER_PLAIN_DEBUG | RENDER_PLAIN_STATES);
	assert_false(has_control(out));
	free(out);
	/* Colour without a terminal is refused by the renderer itself. */
	out = render(0, RENDER_PLAIN_COLOR);
	assert_string_equal(out, golden_plain);
	free(out);
}

/* A terminal: the status line, erased before lines; colours if asked. */
static void
test_plain_tty(void **state)
{
	char *out;

	out = render(0, RENDER_PLAIN_TTY);
	/* Drawn at run-start, before any node ran. */
	assert_non_null(strstr(out,
	    "exec: 3 nodes: fit[01-02],node100\n"
	    "\rexec 3 nodes [....................]   0%  "
	    "3 queued  00:00\033[K"));
	/* Erased before the next line, drawn again after it. */
	assert_non_null(strstr(out,
	    "00:00\033[K\r\033[K12:00:01 +001s fit01 "
	    "  hello world\n\rexec 3 nodes"));
	/* The bar replaces the progress lines. */
	assert_null(strstr(out, "progress"));
	assert_non_null(strstr(out, "  15%  2 queued 1 running  00:02"));
	/* Erased before the summary, and not drawn after it. */
	assert_non_null(strstr(out,
	    "\r\033[K12:02:05 +125s exec: 3 nodes: "
	    "1 ok, 1 timeout, 1 child-failed\n"));
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_null(strstr(out, "\033[3"));
	free(out);

	out = render(0, RENDER_PLAIN_TTY | RENDER_PLAIN_COLOR);
	assert_non_null(
	    strstr(out, "\033[33mwarning: disk almost full\033[0m"));
	assert_non_null(strstr(out,
	    "\033[31mrunning -> done: child-failed "
	    "(exit 1)\033[0m"));
	assert_non_null(strstr(out,
	    "exec: 3 nodes: \033[32m1 ok\033[0m, "
	    "\033[31m1 timeout\033[0m"));
	assert_non_null(strstr(out, "\033[32mok: fit01\033[0m\n"));
	free(out);
}

/* Quiet: the summary and nothing else (no errors in this story). */
static void
test_plain_quiet(void **state)
{
	char *out;

	out = render(0, RENDER_PLAIN_QUIET);
	assert_string_equal(out,
	    "12:02:05 +125s exec: 3 nodes: 1 ok, 1 timeout, 1 child-failed\n"
	    "12:02:05 +125s ok: fit01\n"
	    "12:02:05 +125s timeout: node100\n"
	    "12:02:05 +125s child-failed: fit02\n");
	free(out);
	/* Not even a status line on a terminal. */
	out = render(0, RENDER_PLAIN_QUIET | RENDER_PLAIN_TTY);
	assert_false(has_control(out));
	free(out);
}

static void
start(struct bus *bus, const char *const *nodes, size_t n)
{
	struct bus_event ev;

	bus_set_clock(bus, fake_clock, NULL);
	memset(&ev, 0, sizeof ev);
	ev.type = BUS_RUN_START;
	ev.run_start.what = "load";
	ev.run_start.nodes = nodes;
	ev.run_start.nnodes = n;
	at(bus, 0, &ev);
}

/* Without a terminal, a node's progress once per quarter. */
static void
test_plain_quarters(void **state)
{
	static const int pcts[] = {0, 10, 24, 25, 30, 49, 50, 99, 100, 100};
	struct render_plain *rp;
	struct bus *bus;
	FILE *f;
	char *out = NULL;
	size_t len = 0, i;

	assert_non_null(f = open_memstream(&out, &len));
	bus = bus_new();
	rp = render_plain_new(bus, f, 0);
	start(bus, names, nitems(names));
	for (i = 0; i < nitems(pcts); i++) {
		progress(bus, 1000, "fit01", pcts[i]);
		progress(bus, 1000, "fit02", pcts[i] / 2);
	}
	render_plain_free(rp);
	bus_free(bus);
	fclose(f);
	assert_string_equal(out,
	    "12:00:00 +000s load: 3 nodes: fit[01-02],node100\n"
	    "12:00:01 +001s fit01   progress 0%\n"
	    "12:00:01 +001s fit02   progress 0%\n"
	    "12:00:01 +001s fit01   progress 25%\n"
	    "12:00:01 +001s fit01   progress 50%\n"
	    "12:00:01 +001s fit02   progress 25%\n"
	    "12:00:01 +001s fit01   progress 99%\n"
	    "12:00:01 +001s fit01   progress 100%\n"
	    "12:00:01 +001s fit02   progress 50%\n");
	free(out);
}

/* A flood of events within the rate limit draws the status line once. */
static void
test_plain_rate_limit(void **state)
{
	struct render_plain *rp;
	struct bus *bus;
	FILE *f;
	char *out = NULL, *p;
	size_t len = 0, i, draws = 0;

	assert_non_null(f = open_memstream(&out, &len));
	bus = bus_new();
	rp = render_plain_new(bus, f, RENDER_PLAIN_TTY);
	render_plain_set_tty(rp, 50, NULL);
	start(bus, names, nitems(names));
	for (i = 0; i < 1000; i++)
		progress(bus, 1000 + i / 20, "fit01", (int)(i / 10));
	/* Past the limit: drawn again, with the latest state. */
	progress(bus, 1000 + RENDER_PLAIN_REDRAW_MS, "fit02", 50);
	render_plain_free(rp);
	bus_free(bus);
	fclose(f);
	for (p = out; (p = strstr(p, "\rload")) != NULL; p++)
		draws++;
	/* run-start, the first progress (1000 ms), 1100 ms. */
	assert_int_equal(draws, 3);
	/* (99 + 50 + 0) / 3; the bar shrinks to fit 49 columns. */
	assert_non_null(strstr(out,
	    "\rload 3 nodes [#####.......]  49%  "
	    "3 queued  00:01\033[K"));
	free(out);
}

/* Phases from steps, counts from states, the global percent. */
static void
test_tally(void **unused)
{
	static const char *const many[] = {"n1", "n2", "n3", "n4", "n2"};
	struct tally *t;
	struct bus *bus;

	assert_int_equal(phase_lookup("frisbee"), PHASE_IMAGING);
	assert_int_equal(phase_lookup("imagezip"), PHASE_IMAGING);
	assert_int_equal(phase_lookup("nextboot-set"), PHASE_BOOTING);
	assert_int_equal(phase_lookup("power"), PHASE_BOOTING);
	assert_int_equal(phase_lookup("telnet-wait"), PHASE_BOOTING);
	assert_int_equal(phase_lookup("delay"), PHASE_BOOTING);
	assert_int_equal(phase_lookup("ssh-wait"), PHASE_SSH);
	assert_int_equal(phase_lookup("exec"), PHASE_RUNNING);
	assert_int_equal(phase_lookup("nextboot"), PHASE_RUNNING);
	assert_int_equal(phase_lookup(NULL), PHASE_RUNNING);
	assert_string_equal(phase_name(phase_lookup("frisbee")), "imaging");

	bus = bus_new();
	t = tally_new();
	bus_subscribe(bus, tally_cb, t);
	start(bus, many, nitems(many));
	/* A name twice is one node. */
	assert_int_equal(tally_nodes(t), 4);
	assert_int_equal(tally_count(t, PHASE_QUEUED), 4);
	assert_int_equal(tally_percent(t), 0);

	state(bus, 1, "n1", NODE_QUEUED, NODE_RUNNING, NODE_OUT_NONE, NULL);
	step(bus, 1, "n1", "frisbee", 3, 6, 0);
	state(bus, 1, "n2", NODE_QUEUED, NODE_RUNNING, NODE_OUT_NONE, NULL);
	step(bus, 1, "n2", "ssh-wait", 5, 6, 0);
	state(bus, 1, "n3", NODE_QUEUED, NODE_RUNNING, NODE_OUT_NONE, NULL);
	assert_int_equal(tally_count(t, PHASE_IMAGING), 1);
	assert_int_equal(tally_count(t, PHASE_SSH), 1);
	/* node-state names the step: "exec" */
	assert_int_equal(tally_count(t, PHASE_RUNNING), 1);
	assert_int_equal(tally_count(t, PHASE_QUEUED), 1);

	progress(bus, 2, "n1", 40);
	progress(bus, 2, "n1", -1); /* unknown: the last known stays */
	progress(bus, 2, "n2", 100);
	progress(bus, 2, "nobody", 100);
	/* (40 + 100 + 0 + 0) / 4 */
	assert_int_equal(tally_percent(t), 35);

	/* Failed nodes leave the mean; done ok count 100. */
	state(bus, 3, "n3", NODE_RUNNING, NODE_DONE, NODE_OUT_CHILD_FAILED,
	    NULL);
	state(bus, 3, "n2", NODE_RUNNING, NODE_DONE, NODE_OUT_OK, NULL);
	assert_int_equal(tally_count(t, PHASE_FAILED), 1);
	assert_int_equal(tally_count(t, PHASE_DONE), 1);
	/* (40 + 100 + 0) / 3 */
	assert_int_equal(tally_percent(t), 46);

	/* A stopping node stays stopping through its finishing steps. */
	state(bus, 4, "n1", NODE_RUNNING, NODE_STOPPING, NODE_OUT_NONE, NULL);
	step(bus, 4, "n1", "nextboot-clear", 6, 7, 1);
	assert_int_equal(tally_count(t, PHASE_STOPPING), 1);
	assert_int_equal(tally_count(t, PHASE_BOOTING), 0);
	state(bus, 5, "n1", NODE_STOPPING, NODE_DONE, NODE_OUT_CANCELLED, NULL);
	state(bus, 5, "n4", NODE_QUEUED, NODE_DONE, NODE_OUT_CANCELLED, NULL);
	/* Only n2 is left in the mean. */
	assert_int_equal(tally_percent(t), 100);
	state(bus, 5, "n2", NODE_RUNNING, NODE_DONE, NODE_OUT_TIMEOUT, NULL);
	assert_int_equal(tally_count(t, PHASE_FAILED), 4);
	assert_int_equal(tally_percent(t), 100);

	bus_free(bus);
	tally_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_plain_flags),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_plain_no_control),
	    cmocka_unit_test(test_plain_tty),
	    cmocka_unit_test(test_plain_quiet),
	    cmocka_unit_test(test_plain_quarters),
	    cmocka_unit_test(test_plain_rate_limit),
	    cmocka_unit_test(test_tally),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
