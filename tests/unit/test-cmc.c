/*
 * The CMC driver against an in-process evhttp server on 127.0.0.1 (an
 * ephemeral port, same event loop): every verb's good answers, strict
 * parsing of bad ones (wrong case, garbage, several lines, huge bodies,
 * HTTP errors), and the network outcomes: refused (a bound socket that
 * does not listen), connect timeout (a listener whose accept queue is full,
 * so the kernel drops our SYN), total timeout (a server that takes the
 * request and never answers), a peer that closes at once. Also the
 * callback contract: never from inside start, exactly once, none after
 * cancel (before and after the connection is made), cancel from inside
 * the callback. Each loop run is bounded by a guard timer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "tests/unit/guard.h"
#include "tests/unit/loopback.h"
#include "common/xmalloc.h"
#include "drivers/cmc.h"

#define GUARD_MS 5000

enum srv_mode {
	SRV_REPLY, /* answer with code and body */
	SRV_STALL, /* take the request, never answer */
};

struct fixture {
	struct event_base *base;
	struct guard guard;

	/* The fake card. */
	struct evhttp *http;
	int port;
	enum srv_mode mode;
	int code;
	const char *body;
	size_t body_len;
	int nrequests;
	char path[64];
	char host[64];

	/* Ports for the network outcomes (-1 when not made). */
	int refused_fd;
	int refused_port;
	struct loopback_full full;
	struct evconnlistener *closer;
	int closer_port;

	/* The request under test. */
	struct cmc_request *req;
	int ncalls;
	struct power_reply reply;
	int cancel_in_cb;
	uint64_t t0, t_done;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void
srv_cb(struct evhttp_request *req, void *arg)
{
	struct fixture *f = arg;
	struct evbuffer *buf;
	const char *host;

	f->nrequests++;
	strlcpy(f->path, evhttp_request_get_uri(req), sizeof f->path);
	host =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	strlcpy(f->host, host != NULL ? host : "", sizeof f->host);
	if (f->mode == SRV_STALL)
		return; /* evhttp_free releases it */
	buf = evbuffer_new();
	assert_non_null(buf);
	evbuffer_add(buf, f->body, f->body_len);
	evhttp_send_reply(req, f->code, f->code == 200 ? "OK" : "Not Found",
	    buf);
	evbuffer_free(buf);
}

/* A peer that accepts and closes at once. */
static void
closer_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	close(fd);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	int fd;

	f->base = event_base_new();
	assert_non_null(f->base);
	guard_init(&f->guard, f->base);
	f->http = evhttp_new(f->base);
	assert_non_null(f->http);
	bs = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
	assert_non_null(bs);
	f->port = loopback_bound_port(evhttp_bound_socket_get_fd(bs));
	evhttp_set_gencb(f->http, srv_cb, f);
	f->mode = SRV_REPLY;
	f->code = 200;

	/* Bound, not listening: a connect is refused. */
	f->refused_fd = loopback_socket(&sin);
	f->refused_port = loopback_bound_port(f->refused_fd);

	loopback_full_open(&f->full);

	fd = loopback_socket(&sin);
	assert_int_equal(listen(fd, 16), 0);
	f->closer_port = loopback_bound_port(fd);
	evutil_make_socket_nonblocking(fd);
	f->closer = evconnlistener_new(f->base, closer_cb, f,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	assert_non_null(f->closer);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	evconnlistener_free(f->closer);
	close(f->refused_fd);
	loopback_full_close(&f->full);
	evhttp_free(f->http);
	guard_free(&f->guard);
	event_base_free(f->base);
	free(f);
	return (0);
}

static void
reply_cb(const struct power_reply *reply, void *arg)
{
	struct fixture *f = arg;

	f->ncalls++;
	f->reply = *reply;
	f->t_done = now_ms();
	if (f->cancel_in_cb)
		cmc_request_cancel(f->req);
	f->req = NULL;
	event_base_loopexit(f->base, NULL);
}

/*
 * Start verb on port; the callback must not run inside start. Run until
 * it does (bounded), then a little more to see that it runs only once.
 */
static void
request(struct fixture *f, const char *ip, int port, const char *verb,
    unsigned connect_ms, unsigned total_ms)
{
	struct cmc_params p = {
	    .ip = ip,
	    .host = "reboot01",
	    .port = port,
	    .connect_ms = connect_ms,
	    .total_ms = total_ms,
	};

	f->ncalls = 0;
	memset(&f->reply, 0, sizeof f->reply);
	f->t0 = now_ms();
	f->req = cmc_request_start(f->base, &p, verb, reply_cb, f);
	assert_non_null(f->req);
	assert_int_equal(f->ncalls, 0);
	guard_run_for(&f->guard, GUARD_MS);
	assert_false(f->guard.fired);
	assert_int_equal(f->ncalls, 1);
	guard_run_for(&f->guard, 100);
	assert_int_equal(f->ncalls, 1);
}

static void
serve(struct fixture *f, int code, const char *body)
{
	f->mode = SRV_REPLY;
	f->code = code;
	f->body = body;
	f->body_len = strlen(body);
}

/* Every verb, answered as a card (and the simulated testbed) does. */
static void
test_verbs(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *verb;
		const char *body;
		enum power_error error;
		enum power_state pstate;
		const char *detail;
	} cases[] = {
	    {"status", "on\n", POWER_ERR_OK, POWER_STATE_ON, "on"},
	    {"status", "off\n", POWER_ERR_OK, POWER_STATE_OFF, "off"},
	    {"status", "off \r\n\t", POWER_ERR_OK, POWER_STATE_OFF, "off"},
	    {"status", "on", POWER_ERR_OK, POWER_STATE_ON, "on"},
	    {"on", "ok\n", POWER_ERR_OK, POWER_STATE_UNKNOWN, "ok"},
	    {"off", "ok\n", POWER_ERR_OK, POWER_STATE_UNKNOWN, "ok"},
	    {"reset", "ok\r\n", POWER_ERR_OK, POWER_STATE_UNKNOWN, "ok"},
	    {"usrpon", "ok\n", POWER_ERR_OK, POWER_STATE_UNKNOWN, "ok"},
	    {"usrpoff", "ok\n", POWER_ERR_OK, POWER_STATE_UNKNOWN, "ok"},
	    {"info", "fit01 chassis=on state=installed\nmore\n", POWER_ERR_OK,
		POWER_STATE_UNKNOWN, "fit01 chassis=on state=installed"},
	    {"info", "tab\there\x01\n", POWER_ERR_OK, POWER_STATE_UNKNOWN,
		"tab\\there\\x01"},
	    {"usrpstatus", "on\n", POWER_ERR_OK, POWER_STATE_ON, "on"},
	    {"usrpstatus", "off\n", POWER_ERR_OK, POWER_STATE_OFF, "off"},
	    {"usrpstatus", "usrpoff\n", POWER_ERR_OK, POWER_STATE_OFF, "off"},
	    {"usrpstatus", "no usrp\n", POWER_ERR_OK, POWER_STATE_UNKNOWN,
		"no usrp"},
	};
	char path[64];
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		serve(f, 200, cases[i].body);
		f->nrequests = 0;
		request(f, "127.0.0.1", f->port, cases[i].verb, 1000, 2000);
		assert_int_equal(f->nrequests, 1);
		snprintf(path, sizeof path, "/%s", cases[i].verb);
		assert_string_equal(f->path, path);
		assert_string_equal(f->host, "reboot01");
		assert_int_equal(f->reply.error, cases[i].error);
		assert_int_equal(f->reply.state, cases[i].pstate);
		assert_string_equal(f->reply.detail, cases[i].detail);
	}
}

/* Anything else is an error, with the text shown on one line. */
static void
test_bad_replies(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *verb;
		int code;
		const char *body;
		enum power_error error;
		const char *detail;
	} cases[] = {
	    {"status", 200, "ON\n", POWER_ERR_BAD_REPLY, "\"ON\""},
	    {"status", 200, "Off", POWER_ERR_BAD_REPLY, "\"Off\""},
	    {"status", 200, " on", POWER_ERR_BAD_REPLY, "\" on\""},
	    {"status", 200, "on\noff\n", POWER_ERR_BAD_REPLY, "\"on\\noff\""},
	    {"status", 200, "ok\n", POWER_ERR_BAD_REPLY, "\"ok\""},
	    {"status", 200, "", POWER_ERR_BAD_REPLY, "empty reply"},
	    {"status", 200, " \n\r\n", POWER_ERR_BAD_REPLY, "empty reply"},
	    {"on", 200, "on\n", POWER_ERR_BAD_REPLY, "\"on\""},
	    {"off", 200, "OK\n", POWER_ERR_BAD_REPLY, "\"OK\""},
	    {"reset", 200, "\x01\x02<html>\"x\"\xff", POWER_ERR_BAD_REPLY,
		"\"\\x01\\x02<html>\\\"x\\\"\\xff\""},
	    {"info", 200, "\n\n", POWER_ERR_BAD_REPLY, "empty reply"},
	    {"status", 404, "nope\n", POWER_ERR_CONTROLLER_ERROR,
		"HTTP 404 \"Not Found\""},
	    {"on", 500, "", POWER_ERR_CONTROLLER_ERROR,
		"HTTP 500 \"Not Found\""},
	};
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		serve(f, cases[i].code, cases[i].body);
		request(f, "127.0.0.1", f->port, cases[i].verb, 1000, 2000);
		assert_int_equal(f->reply.error, cases[i].error);
		assert_int_equal(f->reply.state, POWER_STATE_UNKNOWN);
		assert_string_equal(f->reply.detail, cases[i].detail);
	}
}

/* A long garbage line is cut, still one line; a huge body is refused. */
static void
test_long_replies(void **state)
{
	struct fixture *f = *state;
	char *big;
	size_t len;

	big = xmalloc(8192);
	memset(big, 'x', 8191);
	big[8191] = '\0';
	big[100] = '\n';

	/* 300 bytes: cut to the detail's size, no newline. */
	f->mode = SRV_REPLY;
	f->code = 200;
	f->body = big;
	f->body_len = 300;
	request(f, "127.0.0.1", f->port, "status", 1000, 2000);
	assert_int_equal(f->reply.error, POWER_ERR_BAD_REPLY);
	len = strlen(f->reply.detail);
	assert_true(len < sizeof f->reply.detail);
	assert_true(len > 100);
	assert_null(strchr(f->reply.detail, '\n'));
	assert_string_equal(f->reply.detail + len - 3, "...");
	assert_non_null(strstr(f->reply.detail, "x\\nx"));

	/* Over 4 KiB: refused whole. */
	f->body_len = 5000;
	request(f, "127.0.0.1", f->port, "status", 1000, 2000);
	assert_int_equal(f->reply.error, POWER_ERR_BAD_REPLY);
	assert_string_equal(f->reply.detail, "reply longer than 4096 bytes");

	/* A huge error page: the HTTP status is what matters. */
	f->code = 404;
	request(f, "127.0.0.1", f->port, "status", 1000, 2000);
	assert_int_equal(f->reply.error, POWER_ERR_CONTROLLER_ERROR);
	assert_string_equal(f->reply.detail, "HTTP 404");

	/* Exactly 4 KiB is allowed (then judged): one long line, cut. */
	big[100] = 'x';
	f->code = 200;
	f->body_len = 4096;
	request(f, "127.0.0.1", f->port, "info", 1000, 2000);
	assert_int_equal(f->reply.error, POWER_ERR_OK);
	len = strlen(f->reply.detail);
	assert_true(len >= 150 && len < sizeof f->reply.detail);
	assert_string_equal(f->reply.detail + len - 3, "...");
	free(big);
}

static void
test_refused(void **state)
{
	struct fixture *f = *state;

	request(f, "127.0.0.1", f->refused_port, "status", 1000, 2000);
	assert_int_equal(f->reply.error, POWER_ERR_CONNECT_REFUSED);
	assert_int_equal(f->reply.state, POWER_STATE_UNKNOWN);
	assert_true(f->t_done - f->t0 < 500);
}

/* No SYN-ACK: ends at connect_ms, well before total_ms. */
static void
test_connect_timeout(void **state)
{
	struct fixture *f = *state;
	uint64_t took;

	request(f, "127.0.0.1", f->full.port, "status", 300, 3000);
	took = f->t_done - f->t0;
	assert_int_equal(f->reply.error, POWER_ERR_CONNECT_TIMEOUT);
	assert_int_equal(f->reply.state, POWER_STATE_UNKNOWN);
	assert_string_equal(f->reply.detail, "no connection after 300 ms");
	assert_true(took >= 290);
	assert_true(took < 1500);

	/* connect_ms above total_ms: total_ms bounds it. */
	request(f, "127.0.0.1", f->full.port, "status", 5000, 400);
	took = f->t_done - f->t0;
	assert_int_equal(f->reply.error, POWER_ERR_CONNECT_TIMEOUT);
	assert_true(took >= 390);
	assert_true(took < 1500);
}

/* Connected, asked, no answer: a timeout at total_ms, not a connect one. */
static void
test_total_timeout(void **state)
{
	struct fixture *f = *state;
	uint64_t took;

	f->mode = SRV_STALL;
	f->nrequests = 0;
	request(f, "127.0.0.1", f->port, "status", 200, 700);
	took = f->t_done - f->t0;
	assert_int_equal(f->nrequests, 1);
	assert_int_equal(f->reply.error, POWER_ERR_TIMEOUT);
	assert_string_equal(f->reply.detail, "no reply after 700 ms");
	assert_true(took >= 690);
	assert_true(took < 2000);
}

static void
test_closed(void **state)
{
	struct fixture *f = *state;

	request(f, "127.0.0.1", f->closer_port, "status", 1000, 2000);
	/* Reset or orderly close, depending on timing: never a success. */
	assert_int_equal(f->reply.error, POWER_ERR_NETWORK);
}

/* Bad arguments are replies, delivered from the loop too. */
static void
test_bad_arguments(void **state)
{
	struct fixture *f = *state;

	request(f, "reboot01", 80, "status", 1000, 2000);
	assert_int_equal(f->reply.error, POWER_ERR_NETWORK);
	assert_string_equal(f->reply.detail,
	    "not a numeric address: \"reboot01\"");

	request(f, "127.0.0.1", f->port, "explode", 1000, 2000);
	assert_int_equal(f->reply.error, POWER_ERR_CONTROLLER_ERROR);
	assert_string_equal(f->reply.detail, "unknown CMC verb \"explode\"");

	request(f, "127.0.0.1", 70000, "status", 1000, 2000);
	assert_int_equal(f->reply.error, POWER_ERR_NETWORK);
}

static struct cmc_request *
start(struct fixture *f, int port, const char *verb)
{
	struct cmc_params p = {
	    .ip = "127.0.0.1",
	    .host = "reboot01",
	    .port = port,
	    .connect_ms = 300,
	    .total_ms = 600,
	};

	f->ncalls = 0;
	return (cmc_request_start(f->base, &p, verb, reply_cb, f));
}

/* Cancel: no callback, whatever stage; ASan checks that all is freed. */
static void
test_cancel(void **state)
{
	struct fixture *f = *state;
	struct cmc_request *r;
	int i;

	/* Before the loop ever ran: connecting, or a reply already due. */
	serve(f, 200, "on\n");
	cmc_request_cancel(start(f, f->port, "status"));
	cmc_request_cancel(start(f, f->full.port, "status"));
	cmc_request_cancel(start(f, f->refused_port, "status"));
	cmc_request_cancel(start(f, f->port, "explode"));
	cmc_request_cancel(NULL);
	guard_run_for(&f->guard, 800);
	assert_int_equal(f->ncalls, 0);

	/* After the request reached the server. */
	f->mode = SRV_STALL;
	f->nrequests = 0;
	r = start(f, f->port, "off");
	for (i = 0; i < 100 && f->nrequests == 0; i++)
		guard_run_for(&f->guard, 20);
	assert_int_equal(f->nrequests, 1);
	cmc_request_cancel(r);
	guard_run_for(&f->guard, 800);
	assert_int_equal(f->ncalls, 0);

	/* While the SYN goes unanswered. */
	r = start(f, f->full.port, "on");
	guard_run_for(&f->guard, 100);
	cmc_request_cancel(r);
	guard_run_for(&f->guard, 400);
	assert_int_equal(f->ncalls, 0);
}

/* Cancelling from inside the callback is harmless. */
static void
test_cancel_in_callback(void **state)
{
	struct fixture *f = *state;

	serve(f, 200, "off\n");
	f->cancel_in_cb = 1;
	request(f, "127.0.0.1", f->port, "status", 1000, 2000);
	f->cancel_in_cb = 0;
	assert_int_equal(f->reply.error, POWER_ERR_OK);
	assert_int_equal(f->reply.state, POWER_STATE_OFF);
}

/* Many at once, on one loop: each gets its own answer once. */
static int many_calls;

static void
many_cb(const struct power_reply *reply, void *arg)
{
	int *ok = arg;

	*ok = reply->error == POWER_ERR_OK && reply->state == POWER_STATE_ON;
	many_calls++;
}

static void
test_many(void **state)
{
	struct fixture *f = *state;
	struct cmc_params p = {.ip = "127.0.0.1",
	    .host = "x",
	    .connect_ms = 1000,
	    .total_ms = 3000};
	int ok[50];
	size_t i;

	serve(f, 200, "on\n");
	p.port = f->port;
	many_calls = 0;
	for (i = 0; i < nitems(ok); i++) {
		ok[i] = -1;
		assert_non_null(
		    cmc_request_start(f->base, &p, "status", many_cb, &ok[i]));
	}
	for (i = 0; i < 100 && many_calls < (int)nitems(ok); i++)
		guard_run_for(&f->guard, 50);
	assert_int_equal(many_calls, nitems(ok));
	for (i = 0; i < nitems(ok); i++)
		assert_int_equal(ok[i], 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_verbs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_replies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_replies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_timeout, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_total_timeout, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_arguments, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_in_callback, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
