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
#include "ui/render.h"

#define T0_WALL_MS 1709640000000ULL /* 2024-03-05T12:00:00Z */
#define T0_MONO_MS 5000000ULL

static uint64_t now_ms; /* since T0 */

static void
fake_clock(uint64_t *mono, uint64_t *wall, void *arg)
{
	*mono = T0_MONO_MS + now_ms;
	*wall = T0_WALL_MS + now_ms;
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

/* The same story for both renderers. */
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
    "12:00:02 +002s node100 progress\n"
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
	free(out);
}

static const char golden_json[] =
    "{\"event\":\"run-start\",\"time\":\"2024-03-05T12:00:00.000Z\",\"elapsed\":0.0,\"node\":null,\"run\":\"exec\",\"nodes\":[\"fit01\",\"fit02\",\"node100\"]}\n"
    "{\"event\":\"node-state\",\"time\":\"2024-03-05T12:00:00.000Z\",\"elapsed\":0.0,\"node\":\"fit01\",\"old\":\"new\",\"new\":\"queued\",\"why\":null,\"step\":\"exec\"}\n"
    "{\"event\":\"node-state\",\"time\":\"2024-03-05T12:00:00.010Z\",\"elapsed\":0.01,\"node\":\"fit01\",\"old\":\"queued\",\"new\":\"running\",\"why\":null,\"step\":\"exec\"}\n"
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
	json_t *j;
	json_error_t e;
	size_t n = 0;

	assert_string_equal(out, golden_json);
	/* Every line is a JSON object of its own. */
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(j = json_loads(line, 0, &e));
		assert_true(json_is_object(j));
		assert_true(json_is_string(json_object_get(j, "event")));
		json_decref(j);
		n++;
	}
	assert_int_equal(n, 15);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_plain_flags),
	    cmocka_unit_test(test_json),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
