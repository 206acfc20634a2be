/*
 * The telnet session against an in-process fake telnet server on
 * 127.0.0.1 (an evconnlistener in the same loop): it asks for a few
 * options, reads the client's answers and commands (decoding telnet),
 * echoes the commands as a shell would, prints frisbee lines with telnet
 * commands and "\r\0" among them, then a status line, and closes. Checked:
 * the option answers, the commands as the shell gets them and when they
 * are sent, every outcome (closed with and without status, refused,
 * connect timeout, idle and total timeouts, reset, bad address), and the
 * callback contract: never from inside start, end exactly once, none
 * after cancel, cancel from inside an output callback. Every loop run is
 * bounded by a guard timer.
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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "tests/unit/guard.h"
#include "tests/unit/loopback.h"
#include "common/xmalloc.h"
#include "drivers/telnet.h"

#define GUARD_MS 8000

#define IAC  "\xff"
#define WILL "\xfb"
#define DO   "\xfd"
#define NOP  "\xf1"

enum srv_mode {
	SRV_SHELL,     /* echo, output, status, close */
	SRV_NO_STATUS, /* the same without the status line */
	SRV_SILENT,    /* accept, then nothing */
	SRV_TRICKLE,   /* a byte every 50 ms, for ever */
	SRV_RESET,     /* output, then a reset instead of a close */
	SRV_CHATTY,    /* negotiate every 100 ms, then as SHELL */
};

struct fixture {
	struct event_base *base;
	struct guard guard;

	struct evconnlistener *listener;
	int port;
	enum srv_mode mode;
	int status; /* printed by the shell */
	int reset_after_status;
	struct bufferevent *conn;
	struct event *tick;
	int nticks;
	int closing;
	int iac; /* decoder state */
	int cr;
	char neg[256];  /* the client's option answers, as text */
	char got[1024]; /* the client's data, "\r\n" as "\n" */
	size_t ngot;
	int replied;
	struct timespec accepted;
	long commands_ms; /* from accept to the commands' last byte */

	int refused_port;
	int refused_fd;
	struct loopback_full full;

	/* The client's side. */
	struct telnet_session *session;
	int in_start;
	int ends;
	struct telnet_end end;
	char detail[256];
	char trace[4096];
	int cancel_on_line; /* cancel when a line holds this text */
	const char *cancel_text;
};

static void trace_add(struct fixture *, const char *, ...) printflike(2, 3);

static void
trace_add(struct fixture *f, const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(f->trace);

	va_start(ap, fmt);
	vsnprintf(f->trace + n, sizeof f->trace - n, fmt, ap);
	va_end(ap);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000);
}

static void
srv_close(struct fixture *f)
{
	if (f->conn != NULL)
		bufferevent_free(f->conn);
	f->conn = NULL;
}

static void
srv_output(struct fixture *f)
{
	static const char text[] =
	    "Bound to port 10001\r\n"
	    "Joined the team after 0 sec. ID is 1. File is 4 chunks "
	    "(4096 blocks)\r\n"
	    ".." IAC NOP ".." IAC IAC "   0      0\r\n"
	    "Pro\r\0Progress: 50%\r\n"
	    "Wrote 4194304 bytes (4194304 actual)\n";
	struct evbuffer *out = bufferevent_get_output(f->conn);
	struct timeval tv = {0, 200 * 1000};
	char *line, *p, *nl;

	/* The shell's echo of each command line. */
	p = f->got;
	while ((nl = strchr(p, '\n')) != NULL) {
		evbuffer_add_printf(out, "root@fit01:~# %.*s\r\n",
		    (int)(nl - p), p);
		p = nl + 1;
	}
	evbuffer_add(out, text, sizeof text - 1);
	if (f->mode == SRV_SHELL || f->mode == SRV_CHATTY ||
	    (f->mode == SRV_RESET && f->reset_after_status)) {
		xasprintf(&line, "_TELNET_STATUS=%d\r\n", f->status);
		evbuffer_add(out, line, strlen(line));
		free(line);
	}
	if (f->mode == SRV_RESET) {
		/* Once the client has read it all: a reset, not a close. */
		evtimer_add(f->tick, &tv);
		return;
	}
	f->closing = 1;
}

/* Decode the client's bytes: option answers to neg, data to got. */
static void
srv_read(struct bufferevent *bev, void *arg)
{
	struct fixture *f = arg;
	static const char *const verbs[] = {"WILL", "WONT", "DO", "DONT"};
	unsigned char c;
	size_t n = strlen(f->neg);

	while (bufferevent_read(bev, &c, 1) == 1) {
		if (f->iac == 1) {
			if (c >= 0xfb && c <= 0xfe) {
				f->iac = c;
				continue;
			}
			f->iac = 0;
			if (c != 0xff)
				continue;
		} else if (f->iac > 1) {
			snprintf(f->neg + n, sizeof f->neg - n, "%s%u ",
			    verbs[f->iac - 0xfb], c);
			n = strlen(f->neg);
			f->iac = 0;
			continue;
		} else if (c == 0xff) {
			f->iac = 1;
			continue;
		}
		if (f->cr) {
			f->cr = 0;
			if (c == '\n' || c == '\0')
				continue;
		}
		if (c == '\r') {
			f->cr = 1;
			c = '\n';
		}
		if (f->ngot + 1 < sizeof f->got)
			f->got[f->ngot++] = (char)c;
	}
	if (!f->replied && strstr(f->got, "exit\n") != NULL) {
		f->replied = 1;
		f->commands_ms = ms_since(&f->accepted);
		if (f->mode != SRV_SILENT && f->mode != SRV_TRICKLE)
			srv_output(f);
	}
}

static void
srv_write(struct bufferevent *bev, void *arg)
{
	struct fixture *f = arg;

	if (f->closing)
		srv_close(f);
}

static void
srv_event(struct bufferevent *bev, short what, void *arg)
{
	srv_close(arg);
}

static void
srv_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fixture *f = arg;
	struct timeval tv = {0, 50 * 1000};
	struct linger lg = {1, 0};

	if (f->conn == NULL)
		return;
	if (f->mode == SRV_RESET) {
		setsockopt(bufferevent_getfd(f->conn), SOL_SOCKET, SO_LINGER,
		    &lg, sizeof lg);
		srv_close(f);
	} else if (f->mode == SRV_TRICKLE) {
		bufferevent_write(f->conn, "x", 1);
		evtimer_add(f->tick, &tv);
	} else if (f->mode == SRV_CHATTY && ++f->nticks < 30) {
		/* A new option offer every 100 ms, for 3 s. */
		bufferevent_write(f->conn, IAC WILL "\x05", 3);
		tv.tv_usec = 100 * 1000;
		evtimer_add(f->tick, &tv);
	}
}

static void
srv_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct fixture *f = arg;
	struct timeval tv = {0, 0};

	assert_null(f->conn);
	clock_gettime(CLOCK_MONOTONIC, &f->accepted);
	f->conn = bufferevent_socket_new(f->base, fd, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(f->conn);
	bufferevent_setcb(f->conn, srv_read, srv_write, srv_event, f);
	bufferevent_enable(f->conn, EV_READ | EV_WRITE);
	if (f->mode == SRV_SILENT)
		return;
	/* busybox telnetd's opening, and two we refuse. */
	bufferevent_write(f->conn,
	    IAC WILL "\x01" IAC WILL "\x03" IAC DO "\x18" IAC DO "\x1f", 12);
	if (f->mode == SRV_TRICKLE || f->mode == SRV_CHATTY)
		evtimer_add(f->tick, &tv);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	struct sockaddr_in sin;

	f->base = event_base_new();
	assert_non_null(f->base);
	guard_init(&f->guard, f->base);
	f->tick = evtimer_new(f->base, srv_tick, f);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->listener = evconnlistener_new_bind(f->base, srv_accept, f,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&sin, sizeof sin);
	assert_non_null(f->listener);
	f->port = loopback_bound_port(evconnlistener_get_fd(f->listener));

	/* Bound, not listening: a connect is refused. */
	f->refused_fd = loopback_socket(&sin);
	f->refused_port = loopback_bound_port(f->refused_fd);
	loopback_full_open(&f->full);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	srv_close(f);
	evconnlistener_free(f->listener);
	event_free(f->tick);
	guard_free(&f->guard);
	close(f->refused_fd);
	loopback_full_close(&f->full);
	event_base_free(f->base);
	free(f);
	return (0);
}

static void
on_output(const struct frisbee_event *ev, void *arg)
{
	struct fixture *f = arg;

	assert_false(f->in_start);
	assert_int_equal(f->ends, 0);
	switch (ev->type) {
	case FRISBEE_EV_LINE:
		trace_add(f, "L[%s] ", ev->line);
		if (f->cancel_text != NULL &&
		    strstr(ev->line, f->cancel_text) != NULL) {
			telnet_session_cancel(f->session);
			f->session = NULL;
			event_base_loopexit(f->base, NULL);
		}
		break;
	case FRISBEE_EV_JOINED:
		trace_add(f, "J%u ", (unsigned)ev->chunks);
		break;
	case FRISBEE_EV_PROGRESS:
		trace_add(f, "P%d ", ev->percent);
		break;
	case FRISBEE_EV_WROTE:
		trace_add(f, "W ");
		break;
	case FRISBEE_EV_SHORT_WRITE:
		trace_add(f, "S ");
		break;
	case FRISBEE_EV_STATUS:
		trace_add(f, "X%d ", ev->status);
		break;
	}
}

static void
on_end(const struct telnet_end *end, void *arg)
{
	struct fixture *f = arg;

	assert_false(f->in_start);
	f->ends++;
	f->end = *end;
	strlcpy(f->detail, end->detail, sizeof f->detail);
	f->end.detail = f->detail;
	f->session = NULL;
	event_base_loopexit(f->base, NULL);
}

/* Start a session and run the loop until it ends (or the guard). */
static void
session(struct fixture *f, const char *ip, int port, unsigned connect_ms,
    unsigned idle_ms, unsigned total_ms)
{
	struct telnet_params p;

	memset(&p, 0, sizeof p);
	p.ip = ip;
	p.port = port;
	p.connect_ms = connect_ms;
	p.idle_ms = idle_ms;
	p.total_ms = total_ms;
	p.commands = "frisbee -i 127.0.0.1 -m 234.5.6.1 -p 10001 /dev/sda; "
		     "echo _TELNET_STATUS=$?; exit\n";
	f->in_start = 1;
	f->session = telnet_session_start(f->base, &p, on_output, on_end, f);
	f->in_start = 0;
	assert_non_null(f->session);
	guard_run_for(&f->guard, GUARD_MS);
	assert_false(f->guard.fired);
}

static const char shell_trace[] =
    "L[root@fit01:~# frisbee -i 127.0.0.1 -m 234.5.6.1 -p 10001 /dev/sda; "
    "echo _TELNET_STATUS=$?; exit] "
    "L[Bound to port 10001] "
    "L[Joined the team after 0 sec. ID is 1. File is 4 chunks (4096 "
    "blocks)] J4 P0 "
    "L[....\xff   0      0] "
    "L[Pro\rProgress: 50%] P50 "
    "L[Wrote 4194304 bytes (4194304 actual)] W P100 ";

static void
test_closed_with_status(void **state)
{
	struct fixture *f = *state;
	char want[1024];

	f->mode = SRV_SHELL;
	f->status = 3;
	session(f, "127.0.0.1", f->port, 1000, 2000, 5000);
	assert_int_equal(f->ends, 1);
	assert_int_equal(f->end.result, TELNET_CLOSED);
	assert_int_equal(f->end.status, 3);
	assert_true(f->end.have_status);
	assert_true(f->end.connected);
	assert_true(f->end.bytes_in > 200);
	assert_non_null(strstr(f->end.detail, "closed with status 3"));
	assert_string_equal(f->neg, "DO1 DO3 WONT24 WONT31 ");
	assert_string_equal(f->got,
	    "frisbee -i 127.0.0.1 -m 234.5.6.1 -p 10001 /dev/sda; "
	    "echo _TELNET_STATUS=$?; exit\n");
	/* After the negotiation went quiet, not at once, not at the max. */
	assert_true(f->commands_ms >= 150 && f->commands_ms < 900);
	snprintf(want, sizeof want, "%sL[_TELNET_STATUS=3] X3 ", shell_trace);
	assert_string_equal(f->trace, want);
}

static void
test_closed_no_status(void **state)
{
	struct fixture *f = *state;

	f->mode = SRV_NO_STATUS;
	session(f, "127.0.0.1", f->port, 1000, 2000, 5000);
	assert_int_equal(f->ends, 1);
	assert_int_equal(f->end.result, TELNET_CLOSED_NO_STATUS);
	assert_false(f->end.have_status);
	assert_string_equal(f->trace, shell_trace);
}

/* A server that keeps negotiating still gets the commands at ~1 s. */
static void
test_commands_bounded(void **state)
{
	struct fixture *f = *state;

	f->mode = SRV_CHATTY;
	session(f, "127.0.0.1", f->port, 1000, 2000, 5000);
	assert_int_equal(f->end.result, TELNET_CLOSED);
	assert_int_equal(f->end.status, 0);
	assert_true(f->commands_ms >= 900 && f->commands_ms < 1800);
}

static void
test_refused(void **state)
{
	struct fixture *f = *state;

	session(f, "127.0.0.1", f->refused_port, 1000, 1000, 5000);
	assert_int_equal(f->ends, 1);
	assert_int_equal(f->end.result, TELNET_REFUSED);
	assert_false(f->end.connected);
	assert_null(strchr(f->end.detail, '\n'));
}

static void
test_connect_timeout(void **state)
{
	struct fixture *f = *state;
	struct timespec t0;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	session(f, "127.0.0.1", f->full.port, 300, 1000, 5000);
	ms = ms_since(&t0);
	assert_int_equal(f->end.result, TELNET_CONNECT_TIMEOUT);
	assert_true(ms >= 280 && ms < 2000);
	assert_non_null(strstr(f->end.detail, "300 ms"));

	/* Without a connect bound, the total one ends it. */
	f->ends = 0;
	session(f, "127.0.0.1", f->full.port, 0, 1000, 300);
	assert_int_equal(f->end.result, TELNET_TOTAL_TIMEOUT);
	assert_false(f->end.connected);
}

static void
test_idle_timeout(void **state)
{
	struct fixture *f = *state;
	struct timespec t0;
	long ms;

	f->mode = SRV_SILENT;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	session(f, "127.0.0.1", f->port, 1000, 400, 5000);
	ms = ms_since(&t0);
	assert_int_equal(f->end.result, TELNET_IDLE_TIMEOUT);
	assert_true(f->end.connected);
	assert_true(ms >= 380 && ms < 3000);
	/* The commands went out all the same. */
	assert_true(f->replied);
}

/* Bytes keep coming: the idle timer never fires, the total one does. */
static void
test_total_timeout(void **state)
{
	struct fixture *f = *state;
	struct timespec t0;
	long ms;

	f->mode = SRV_TRICKLE;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	session(f, "127.0.0.1", f->port, 1000, 300, 900);
	ms = ms_since(&t0);
	assert_int_equal(f->end.result, TELNET_TOTAL_TIMEOUT);
	assert_true(ms >= 880 && ms < 3000);
	assert_true(f->end.bytes_in > 5);
}

/* A reset after the status line is a finished shell; before, an error. */
static void
test_reset(void **state)
{
	struct fixture *f = *state;

	f->mode = SRV_RESET;
	f->status = 0;
	f->reset_after_status = 1;
	session(f, "127.0.0.1", f->port, 1000, 2000, 5000);
	assert_int_equal(f->ends, 1);
	assert_int_equal(f->end.result, TELNET_CLOSED);
	assert_int_equal(f->end.status, 0);
	assert_non_null(strstr(f->trace, "X0 "));

	srv_close(f);
	memset(f->neg, 0, sizeof f->neg);
	memset(f->got, 0, sizeof f->got);
	f->ngot = 0;
	f->replied = 0;
	f->trace[0] = '\0';
	f->ends = 0;
	f->reset_after_status = 0;
	session(f, "127.0.0.1", f->port, 1000, 2000, 5000);
	assert_int_equal(f->ends, 1);
	assert_int_equal(f->end.result, TELNET_NET_ERROR);
	assert_int_equal(f->end.error, ECONNRESET);
	assert_non_null(strstr(f->end.detail, "connection lost"));
	assert_non_null(strstr(f->trace, "W P100 "));
}

static void
test_bad_address(void **state)
{
	static const char *const bad[] = {"fit01", "", "127.0.0.256", NULL};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f->ends = 0;
		session(f, bad[i], 23, 1000, 1000, 1000);
		assert_int_equal(f->ends, 1);
		assert_int_equal(f->end.result, TELNET_NET_ERROR);
		assert_non_null(strstr(f->end.detail, "numeric"));
	}
	f->ends = 0;
	session(f, "127.0.0.1", 70000, 1000, 1000, 1000);
	assert_int_equal(f->end.result, TELNET_NET_ERROR);
}

/* Cancel right after start, and cancel from an output callback. */
static void
test_cancel(void **state)
{
	struct fixture *f = *state;
	struct telnet_params p;
	struct timeval t = {0, 300 * 1000};
	struct telnet_session *s;

	memset(&p, 0, sizeof p);
	p.ip = "127.0.0.1";
	p.port = f->port;
	p.connect_ms = 1000;
	p.commands = "exit\n";
	s = telnet_session_start(f->base, &p, on_output, on_end, f);
	telnet_session_cancel(s);
	/* And one whose start already failed: still no callback. */
	p.ip = "nowhere";
	s = telnet_session_start(f->base, &p, on_output, on_end, f);
	telnet_session_cancel(s);
	event_base_loopexit(f->base, &t);
	event_base_dispatch(f->base);
	assert_int_equal(f->ends, 0);
	assert_string_equal(f->trace, "");

	f->mode = SRV_SHELL;
	f->cancel_text = "Bound to port";
	srv_close(f);
	session(f, "127.0.0.1", f->port, 1000, 2000, 5000);
	/* Let the loop run on: nothing more may come. */
	event_base_loopexit(f->base, &t);
	event_base_dispatch(f->base);
	assert_int_equal(f->ends, 0);
	assert_null(f->session);
	assert_null(strstr(f->trace, "Joined"));
	assert_non_null(strstr(f->trace, "L[Bound to port 10001] "));
}

static void
test_names(void **state)
{
	assert_string_equal(telnet_result_name(TELNET_CLOSED), "closed");
	assert_string_equal(telnet_result_name(TELNET_IDLE_TIMEOUT),
	    "idle timeout");
	assert_string_equal(telnet_result_name((enum telnet_result)99),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_closed_with_status, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_closed_no_status, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_commands_bounded, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_timeout, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_total_timeout, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	    cmocka_unit_test(test_names),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
