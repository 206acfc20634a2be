/*
 * A telnet session with a node's imaging shell (see telnet.h): a
 * bufferevent for the connection, libtelnet 0.21 for the protocol, the
 * frisbee output parser for lines and the status line, and four timers of
 * our own (connect, idle, total, and the one that sends the commands).
 *
 * Options, as checked against busybox telnetd (notes/testbed.md 2.2): we
 * let the server echo and suppress go-ahead, and refuse terminal type and
 * window size, so that the shell sees no terminal it could paint on.
 *
 * When to send the commands: rhubarbe waited for telnetlib3's negotiation
 * to settle (at least 0.2 s, at most 1 s). Here the commands go when the
 * server has sent nothing for SETTLE_QUIET_MS (its options, a banner, the
 * prompt), or at SETTLE_MAX_MS whatever it keeps sending. Any byte counts,
 * not only negotiation: libtelnet reports no event for the options it
 * refuses. Sending them early
 * is harmless (telnetd hands them to the shell once it runs); the wait
 * only keeps them out of the middle of the server's opening.
 *
 * Callbacks: the end callback always runs from an event of ours activated
 * for it, never from libevent's or libtelnet's callbacks, so that the
 * session can be freed there; output callbacks run from the read callback,
 * and a cancel from inside one only marks the session, which the read
 * callback frees once libtelnet and the parser have returned.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include <libtelnet.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "drivers/telnet.h"

#define SETTLE_QUIET_MS 200
#define SETTLE_MAX_MS   1000
#define READ_CHUNK      4096

static const telnet_telopt_t telnet_telopts[] = {
    {TELNET_TELOPT_ECHO, TELNET_WONT, TELNET_DO},
    {TELNET_TELOPT_SGA, TELNET_WILL, TELNET_DO},
    {TELNET_TELOPT_TTYPE, TELNET_WONT, TELNET_DONT},
    {TELNET_TELOPT_NAWS, TELNET_WONT, TELNET_DONT},
    {-1, 0, 0},
};

struct telnet_session {
	struct event_base *base;
	struct bufferevent *bev;
	telnet_t *telnet;
	struct frisbee_parser *parser;
	char *commands;
	char *where; /* "ip:port", for the log */

	struct event *connect_timer;
	struct event *idle_timer;
	struct event *total_timer;
	struct event *quiet_timer; /* negotiation quiet: send */
	struct event *max_timer;   /* negotiation too long: send anyway */
	struct event *done_ev;     /* runs the end callback */
	unsigned connect_ms;
	unsigned idle_ms;

	telnet_output_cb output_cb;
	telnet_end_cb end_cb;
	void *arg;

	int connected;
	int sent;
	int have_status;
	int status;
	int ended;     /* the result is set; done_ev is active */
	int cancelled; /* cancelled from inside an output callback */
	int busy;      /* inside libtelnet and the parser */
	uint64_t bytes_in;

	struct telnet_end end;
	char detail[160];
};

static void arm_ms(struct event *, unsigned);
static void session_release(struct telnet_session *);
static void session_free(struct telnet_session *);
static void finish(struct telnet_session *, enum telnet_result, int,
    const char *);
static void finish_closed(struct telnet_session *, enum telnet_result, int,
    const char *);
static void send_commands(struct telnet_session *);
static void on_parse(const struct frisbee_event *, void *);
static void on_telnet(telnet_t *, telnet_event_t *, void *);
static void drain(struct telnet_session *);
static void on_read(struct bufferevent *, void *);
static void on_event(struct bufferevent *, short, void *);
static void on_connect_timer(evutil_socket_t, short, void *);
static void on_idle_timer(evutil_socket_t, short, void *);
static void on_total_timer(evutil_socket_t, short, void *);
static void on_settle_timer(evutil_socket_t, short, void *);
static void on_done(evutil_socket_t, short, void *);

static void
arm_ms(struct event *ev, unsigned ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/* Close the connection and stop the timers; the struct stays. */
static void
session_release(struct telnet_session *s)
{
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	s->bev = NULL;
	if (s->telnet != NULL)
		telnet_free(s->telnet);
	s->telnet = NULL;
	evtimer_del(s->connect_timer);
	evtimer_del(s->idle_timer);
	evtimer_del(s->total_timer);
	evtimer_del(s->quiet_timer);
	evtimer_del(s->max_timer);
}

static void
session_free(struct telnet_session *s)
{
	session_release(s);
	event_free(s->connect_timer);
	event_free(s->idle_timer);
	event_free(s->total_timer);
	event_free(s->quiet_timer);
	event_free(s->max_timer);
	event_free(s->done_ev);
	frisbee_parse_free(s->parser);
	free(s->commands);
	free(s->where);
	free(s);
}

/*
 * Set the result once and have done_ev deliver it. Nothing is freed here:
 * this may run inside libtelnet or the parser.
 */
static void
finish(struct telnet_session *s, enum telnet_result result, int error,
    const char *detail)
{
	if (s->ended || s->cancelled)
		return;
	s->ended = 1;
	if (s->bev != NULL)
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	evtimer_del(s->connect_timer);
	evtimer_del(s->idle_timer);
	evtimer_del(s->total_timer);
	evtimer_del(s->quiet_timer);
	evtimer_del(s->max_timer);

	memset(&s->end, 0, sizeof s->end);
	s->end.result = result;
	s->end.status = s->status;
	s->end.have_status = s->have_status;
	s->end.error = error;
	s->end.connected = s->connected;
	s->end.bytes_in = s->bytes_in;
	if (error != 0)
		snprintf(s->detail, sizeof s->detail, "%s: %s: %s", s->where,
		    detail, strerror(error));
	else
		snprintf(s->detail, sizeof s->detail, "%s: %s", s->where,
		    detail);
	s->end.detail = s->detail;
	log_debug("telnet %s", s->detail);
	event_active(s->done_ev, EV_TIMEOUT, 1);
}

/*
 * The connection is over, cleanly or not: a shell that printed its status
 * has done its work, whatever happens to the connection after it.
 */
static void
finish_closed(struct telnet_session *s, enum telnet_result otherwise, int error,
    const char *detail)
{
	char text[64];

	if (s->ended || s->cancelled)
		return;
	s->busy++;
	frisbee_parse_finish(s->parser);
	s->busy--;
	if (s->have_status) {
		snprintf(text, sizeof text, "closed with status %d", s->status);
		finish(s, TELNET_CLOSED, 0, text);
	} else
		finish(s, otherwise, error, detail);
}

static void
send_commands(struct telnet_session *s)
{
	if (s->sent || s->ended || s->telnet == NULL)
		return;
	s->sent = 1;
	evtimer_del(s->quiet_timer);
	evtimer_del(s->max_timer);
	/* telnet_printf: "\n" becomes "\r\n" and IAC is escaped. */
	telnet_printf(s->telnet, "%s", s->commands);
}

static void
on_parse(const struct frisbee_event *ev, void *arg)
{
	struct telnet_session *s = arg;

	if (s->ended || s->cancelled)
		return;
	if (ev->type == FRISBEE_EV_STATUS) {
		s->have_status = 1;
		s->status = ev->status;
	}
	if (s->output_cb != NULL)
		s->output_cb(ev, s->arg);
}

static void
on_telnet(telnet_t *t, telnet_event_t *ev, void *arg)
{
	struct telnet_session *s = arg;

	if (s->ended || s->cancelled)
		return;
	switch (ev->type) {
	case TELNET_EV_DATA:
		frisbee_parse_feed(s->parser, ev->data.buffer, ev->data.size);
		break;
	case TELNET_EV_SEND:
		if (s->bev != NULL)
			bufferevent_write(s->bev, ev->data.buffer,
			    ev->data.size);
		break;
	case TELNET_EV_ERROR:
		finish(s, TELNET_NET_ERROR, 0, "telnet protocol error");
		break;
	case TELNET_EV_WARNING:
		log_debug("telnet %s: %s", s->where, ev->error.msg);
		break;
	default:
		break;
	}
}

/* Hand what was received to libtelnet (and so to the parser). */
static void
drain(struct telnet_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	char buf[READ_CHUNK];
	int n;

	s->busy++;
	while (!s->ended && !s->cancelled &&
	    (n = evbuffer_remove(in, buf, sizeof buf)) > 0) {
		s->bytes_in += (uint64_t)n;
		if (s->idle_ms != 0)
			arm_ms(s->idle_timer, s->idle_ms);
		/* The server's opening is not over yet. */
		if (!s->sent)
			arm_ms(s->quiet_timer, SETTLE_QUIET_MS);
		telnet_recv(s->telnet, buf, (size_t)n);
	}
	s->busy--;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct telnet_session *s = arg;

	drain(s);
	if (s->cancelled)
		session_free(s);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct telnet_session *s = arg;
	int error = EVUTIL_SOCKET_ERROR();

	if (s->ended)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		s->connected = 1;
		evtimer_del(s->connect_timer);
		if (s->idle_ms != 0)
			arm_ms(s->idle_timer, s->idle_ms);
		arm_ms(s->quiet_timer, SETTLE_QUIET_MS);
		arm_ms(s->max_timer, SETTLE_MAX_MS);
		s->telnet = telnet_init(telnet_telopts, on_telnet, 0, s);
		if (s->telnet == NULL) {
			finish(s, TELNET_NET_ERROR, ENOMEM, "telnet_init");
			return;
		}
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if (!s->connected) {
		if (error == ECONNREFUSED)
			finish(s, TELNET_REFUSED, 0, "connection refused");
		else
			finish(s, TELNET_NET_ERROR, error, "connect");
		return;
	}
	/* Lines still in the input buffer come first. */
	drain(s);
	if (what & BEV_EVENT_EOF)
		finish_closed(s, TELNET_CLOSED_NO_STATUS, 0,
		    "closed without a status line");
	else
		finish_closed(s, TELNET_NET_ERROR, error, "connection lost");
	if (s->cancelled)
		session_free(s);
}

static void
on_connect_timer(evutil_socket_t fd, short what, void *arg)
{
	struct telnet_session *s = arg;
	char text[64];

	snprintf(text, sizeof text, "not connected after %u ms", s->connect_ms);
	finish(s, TELNET_CONNECT_TIMEOUT, 0, text);
}

static void
on_idle_timer(evutil_socket_t fd, short what, void *arg)
{
	struct telnet_session *s = arg;
	char text[64];

	snprintf(text, sizeof text, "nothing received for %u ms", s->idle_ms);
	finish(s, TELNET_IDLE_TIMEOUT, 0, text);
}

static void
on_total_timer(evutil_socket_t fd, short what, void *arg)
{
	struct telnet_session *s = arg;

	finish(s, TELNET_TOTAL_TIMEOUT, 0, "session timeout");
}

static void
on_settle_timer(evutil_socket_t fd, short what, void *arg)
{
	send_commands(arg);
}

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	struct telnet_session *s = arg;

	session_release(s);
	s->end_cb(&s->end, s->arg);
	session_free(s);
}

struct telnet_session *
telnet_session_start(struct event_base *base, const struct telnet_params *p,
    telnet_output_cb output_cb, telnet_end_cb end_cb, void *arg)
{
	struct telnet_session *s;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sslen;
	int port = p->port > 0 ? p->port : 23;

	s = xcalloc(1, sizeof *s);
	s->base = base;
	s->output_cb = output_cb;
	s->end_cb = end_cb;
	s->arg = arg;
	s->connect_ms = p->connect_ms;
	s->idle_ms = p->idle_ms;
	s->commands = xstrdup(p->commands != NULL ? p->commands : "");
	xasprintf(&s->where, "%s:%d", p->ip != NULL ? p->ip : "", port);
	s->parser = frisbee_parse_new(on_parse, s);
	s->connect_timer = evtimer_new(base, on_connect_timer, s);
	s->idle_timer = evtimer_new(base, on_idle_timer, s);
	s->total_timer = evtimer_new(base, on_total_timer, s);
	s->quiet_timer = evtimer_new(base, on_settle_timer, s);
	s->max_timer = evtimer_new(base, on_settle_timer, s);
	s->done_ev = event_new(base, -1, 0, on_done, s);
	if (s->connect_timer == NULL || s->idle_timer == NULL ||
	    s->total_timer == NULL || s->quiet_timer == NULL ||
	    s->max_timer == NULL || s->done_ev == NULL)
		abort(); /* only when out of memory: fatal, as xmalloc */

	memset(&ss, 0, sizeof ss);
	if (p->ip != NULL && inet_pton(AF_INET, p->ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sslen = sizeof *sin;
	} else if (p->ip != NULL &&
	    inet_pton(AF_INET6, p->ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sslen = sizeof *sin6;
	} else {
		finish(s, TELNET_NET_ERROR, 0, "not a numeric address");
		return (s);
	}
	if (port > 65535) {
		finish(s, TELNET_NET_ERROR, 0, "bad port");
		return (s);
	}

	if (p->total_ms != 0)
		arm_ms(s->total_timer, p->total_ms);
	if (p->connect_ms != 0)
		arm_ms(s->connect_timer, p->connect_ms);
	s->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		finish(s, TELNET_NET_ERROR, errno, "socket");
		return (s);
	}
	bufferevent_setcb(s->bev, on_read, NULL, on_event, s);
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&ss,
		(int)sslen) != 0) {
		/* Failures it reports at once (no socket, no route). */
		if (!s->ended)
			finish(s,
			    errno == ECONNREFUSED ? TELNET_REFUSED
						  : TELNET_NET_ERROR,
			    errno == ECONNREFUSED ? 0 : errno, "connect");
	}
	return (s);
}

void
telnet_session_cancel(struct telnet_session *s)
{
	if (s == NULL)
		return;
	if (s->busy) {
		s->cancelled = 1;
		if (s->bev != NULL)
			bufferevent_disable(s->bev, EV_READ | EV_WRITE);
		return;
	}
	session_free(s);
}

const char *
telnet_result_name(enum telnet_result r)
{
	switch (r) {
	case TELNET_CLOSED:
		return ("closed");
	case TELNET_CLOSED_NO_STATUS:
		return ("closed without status");
	case TELNET_CONNECT_TIMEOUT:
		return ("connect timeout");
	case TELNET_REFUSED:
		return ("refused");
	case TELNET_IDLE_TIMEOUT:
		return ("idle timeout");
	case TELNET_TOTAL_TIMEOUT:
		return ("total timeout");
	case TELNET_NET_ERROR:
		return ("network error");
	}
	return ("unknown");
}
