/*
 * The TCP probe (drivers/tcp-probe.c) and the telnet-wait step built on
 * it (engine/step-telnet-wait.c), against loopback peers: a listener that
 * greets, one that stays silent, one that hangs up, a refusing port, and
 * a listener that only appears after a few refused tries. Every test runs
 * the loop under a guard timer, so none can hang.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/compat.h"
#include "common/log.h"
#include "drivers/tcp-probe.h"
#include "engine/backoff.h"
#include "engine/bus.h"
#include "engine/loop.h"
#include "engine/run.h"
#include "engine/step-telnet-wait.h"
#include "inventory/inventory.h"
#include "tests/unit/guard.h"
#include "tests/unit/loopback.h"

#define GUARD_MS 10000

/* How the peer treats each connection it accepts. */
enum peer_mode {
	PEER_GREET,  /* sends a byte */
	PEER_SILENT, /* says nothing */
	PEER_HANGUP, /* closes at once */
};

struct fixture {
	struct guard guard;
	int listen_fd;
	int port;
	enum peer_mode mode;
	struct event *accept_ev;
	int conns[8];
	size_t nconns;
	struct event *open_later; /* starts listening after a delay */
	struct bus *bus;          /* freed after the loop */
	/* One probe's result. */
	int ended;
	enum tcp_probe_result result;
	char detail[128];
};

static struct fixture *F;

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	int c;

	if ((c = accept(fd, NULL, NULL)) < 0)
		return;
	switch (F->mode) {
	case PEER_GREET:
		/* A telnetd's first bytes: IAC DO TTYPE. */
		assert_int_equal(write(c, "\xff\xfd\x18", 3), 3);
		break;
	case PEER_HANGUP:
		close(c);
		return;
	case PEER_SILENT:
		break;
	}
	if (F->nconns < nitems(F->conns))
		F->conns[F->nconns++] = c;
	else
		close(c);
}

static void
peer_listen(void)
{
	assert_int_equal(listen(F->listen_fd, 8), 0);
	F->accept_ev = event_new(loop_base(), F->listen_fd,
	    EV_READ | EV_PERSIST, accept_cb, NULL);
	event_add(F->accept_ev, NULL);
}

static int
setup(void **state)
{
	struct sockaddr_in sin;
	char *err = NULL;

	F = calloc(1, sizeof *F);
	assert_int_equal(loop_init(&err), 0);
	guard_init(&F->guard, loop_base());
	guard_arm(&F->guard, GUARD_MS);
	/* Bound, not listening: refuses until peer_listen. */
	F->listen_fd = loopback_socket(&sin);
	F->port = loopback_bound_port(F->listen_fd);
	*state = F;
	return (0);
}

static int
teardown(void **state)
{
	size_t i;

	for (i = 0; i < F->nconns; i++)
		close(F->conns[i]);
	if (F->accept_ev != NULL)
		event_free(F->accept_ev);
	if (F->open_later != NULL)
		event_free(F->open_later);
	close(F->listen_fd);
	guard_free(&F->guard);
	loop_free();
	if (F->bus != NULL)
		bus_free(F->bus);
	free(F);
	return (0);
}

static void
probe_cb(enum tcp_probe_result result, const char *detail, void *arg)
{
	F->ended++;
	F->result = result;
	strlcpy(F->detail, detail, sizeof F->detail);
	loop_exit();
}

static void
probe_once(int port, unsigned timeout_ms, int want_byte)
{
	struct tcp_probe_params p = {"127.0.0.1", port, timeout_ms, want_byte};
	char *err = NULL;

	assert_non_null(tcp_probe_start(loop_base(), &p, probe_cb, NULL, &err));
	assert_int_equal(F->ended, 0); /* never from inside start */
	loop_run();
	assert_false(F->guard.fired);
	assert_int_equal(F->ended, 1);
}

static void
test_probe_greeting(void **state)
{
	F->mode = PEER_GREET;
	peer_listen();
	probe_once(F->port, 2000, 1);
	assert_int_equal(F->result, TCP_PROBE_OK);
}

static void
test_probe_silent(void **state)
{
	F->mode = PEER_SILENT;
	peer_listen();
	probe_once(F->port, 200, 1);
	assert_int_equal(F->result, TCP_PROBE_TIMEOUT);
	assert_string_equal(F->detail, "nothing received after 200 ms");
	/* Without want_byte, the connection is enough. */
	F->ended = 0;
	probe_once(F->port, 200, 0);
	assert_int_equal(F->result, TCP_PROBE_OK);
}

static void
test_probe_hangup(void **state)
{
	F->mode = PEER_HANGUP;
	peer_listen();
	probe_once(F->port, 2000, 1);
	assert_int_equal(F->result, TCP_PROBE_CLOSED);
}

static void
test_probe_refused(void **state)
{
	probe_once(F->port, 2000, 1);
	assert_int_equal(F->result, TCP_PROBE_REFUSED);
	assert_string_equal(F->detail, "connection refused");
}

static void
test_probe_connect_timeout(void **state)
{
	struct loopback_full full;

	loopback_full_open(&full);
	probe_once(full.port, 200, 1);
	loopback_full_close(&full);
	assert_int_equal(F->result, TCP_PROBE_TIMEOUT);
	assert_string_equal(F->detail, "no connection after 200 ms");
}

static void
test_probe_bad_address(void **state)
{
	struct tcp_probe_params p = {"not-an-ip", 23, 100, 0};
	char *err = NULL;

	assert_null(tcp_probe_start(loop_base(), &p, probe_cb, NULL, &err));
	assert_string_equal(err, "bad address 'not-an-ip:23'");
	free(err);
}

static void
test_jitter_range(void **state)
{
	uint64_t v;
	int i;

	for (i = 0; i < 1000; i++) {
		v = backoff_next_ms(3000);
		assert_true(v >= 1500 && v < 4500);
	}
	assert_int_equal(backoff_next_ms(0), 0);
}

static void
open_later_cb(evutil_socket_t fd, short what, void *arg)
{
	peer_listen();
}

/* The step in a run: a node whose telnet answers late, one never. */
static void
test_step_waits_then_times_out(void **state)
{
	struct step_telnet_wait_conf conf;
	struct step_inst plan[1];
	struct run_params params;
	struct inv_node inv[2];
	char name1[] = "fit01", name2[] = "fit02", ip[] = "127.0.0.1";
	struct bus *bus = bus_new();
	struct run *run;
	struct timeval tv;
	int dead_fd;
	struct sockaddr_in sin;

	F->mode = PEER_GREET;
	F->open_later = evtimer_new(loop_base(), open_later_cb, NULL);
	loop_ms_to_timeval(300, &tv);
	evtimer_add(F->open_later, &tv);
	dead_fd = loopback_socket(&sin);

	memset(inv, 0, sizeof inv);
	inv[0].name = name1;
	inv[0].control.ip = ip;
	inv[0].telnet_port = F->port;
	inv[1].name = name2;
	inv[1].control.ip = ip;
	inv[1].telnet_port = loopback_bound_port(dead_fd);
	memset(&conf, 0, sizeof conf);
	conf.connect_ms = 200;
	conf.backoff_ms = 100;
	memset(plan, 0, sizeof plan);
	plan[0].def = &step_telnet_wait_def;
	plan[0].arg = &conf;
	plan[0].timeout_ms = 1500;
	memset(&params, 0, sizeof params);
	params.what = "test";
	params.fanout = 2;
	params.timeout_ms = 5000;
	run = run_new(bus, &params);
	run_add(run, &inv[0], plan, 1);
	run_add(run, &inv[1], plan, 1);
	run_start(run);
	loop_run();
	assert_false(F->guard.fired);
	assert_true(run_finished(run));
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	assert_int_equal(run_node(run, 1)->outcome, NODE_OUT_TELNET_TIMEOUT);
	assert_string_equal(run_node(run, 1)->why,
	    "step telnet-wait: no result after 1.5s; last try: "
	    "connection refused");
	run_free(run); /* on the next loop turn: loop_free in teardown */
	close(dead_fd);
	F->bus = bus;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_probe_greeting),
	    T(test_probe_silent),
	    T(test_probe_hangup),
	    T(test_probe_refused),
	    T(test_probe_connect_timeout),
	    T(test_probe_bad_address),
	    T(test_jitter_range),
	    T(test_step_waits_then_times_out),
#undef T
	};

	log_set_stderr_ok(0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
