/*
 * CMC cards: one HTTP GET per request (rhubarbe's verbs) with libevent's
 * evhttp client, on a connection of its own to the card's numeric address
 * (no name lookup: the engine resolved it), "Connection: close".
 *
 * Deadlines are ours, not evhttp's. evhttp 2.1.12 has one timeout per
 * connection, applied to the connect and then, as an idle timer, to every
 * read and write: it can neither tell a card that never answers the SYN
 * from one that accepts and then says nothing, nor bound a reply that
 * trickles in. So each request arms two timers: connect_ms, which ends the
 * request with CONNECT_TIMEOUT unless the TCP connection is established by
 * then, and total_ms, which ends it with TIMEOUT (or CONNECT_TIMEOUT if it
 * never connected). evhttp's own timeout is set beyond total_ms as a
 * backstop only.
 *
 * evhttp does not say when the connection is established nor why a
 * connect failed (its request callback gets a response code of 0 and errno
 * has been overwritten by the close). While it connects, it owns the
 * bufferevent's event callback; we wrap that callback for the connect
 * event only, note "connected" or the connect errno, and hand the event
 * on to evhttp, which then installs its own callbacks.
 *
 * evhttp quirks handled here (libevent 2.1.12, http.c):
 * - the request is freed by evhttp right after its callback returns (and
 *   before its error callback, on failures), so our pointer to it is
 *   dropped in both callbacks;
 * - a failure can call the request callback from inside
 *   evhttp_make_request, and the connection must not be freed from inside
 *   any evhttp callback; so the user's callback and all freeing happen in
 *   a deferred event, never from cmc_request_start or an evhttp callback;
 * - a request still in flight is withdrawn with evhttp_cancel_request
 *   (which calls the error callback with REQUEST_CANCEL, ignored) before
 *   the connection is freed.
 *
 * The body is parsed strictly (see cmc.h); what is not understood is shown
 * in the reply's detail, escaped to one line and bounded.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "drivers/cmc.h"

#define CMC_PORT_DEFAULT       80
#define CMC_CONNECT_MS_DEFAULT 3000 /* rhubarbe's cmc_default_timeout */
#define CMC_TOTAL_MS_DEFAULT   3000
#define CMC_BODY_MAX           4096 /* a card says a word or a line */
#define CMC_HEADERS_MAX        8192
#define CMC_BACKSTOP_MS        1000 /* evhttp's timeout: total_ms + this */

/* What a verb's body must be. */
enum cmc_expect {
	CMC_EXPECT_ONOFF, /* "on" or "off": the power state */
	CMC_EXPECT_OK,    /* "ok" */
	CMC_EXPECT_LINE,  /* any text: its first line is the detail */
	CMC_EXPECT_USRP,  /* a line; on/off (or usrpon/usrpoff) set state */
};

static const struct cmc_verb {
	const char *name;
	enum cmc_expect expect;
} cmc_verbs[] = {
    {"status", CMC_EXPECT_ONOFF},
    {"on", CMC_EXPECT_OK},
    {"off", CMC_EXPECT_OK},
    {"reset", CMC_EXPECT_OK},
    {"info", CMC_EXPECT_LINE},
    {"usrpstatus", CMC_EXPECT_USRP},
    {"usrpon", CMC_EXPECT_OK},
    {"usrpoff", CMC_EXPECT_OK},
};

struct cmc_request {
	struct event_base *base;
	const struct cmc_verb *verb;
	char *ip;
	int port;
	unsigned connect_ms;
	unsigned total_ms;

	struct evhttp_connection *evcon;
	struct evhttp_request *req; /* NULL once evhttp has freed it */
	/* evhttp's connect callback, while we wrap it. */
	bufferevent_event_cb http_eventcb;
	void *http_eventarg;

	struct event *connect_ev;
	struct event *total_ev;
	struct event *done_ev; /* deferred completion */

	int connected;   /* the TCP connection was established */
	int sock_errno;  /* why the connect failed, if it did */
	int http_code;   /* status code, once the headers came */
	int http_error;  /* evhttp's error, -1 if none */
	int finished;    /* reply set, done_ev active */
	int in_callback; /* the user's callback is running */

	struct power_reply reply;
	cmc_cb cb;
	void *arg;
};

static const struct cmc_verb *cmc_find_verb(const char *);
static void cmc_escape(char *, size_t, const char *, size_t, int);
static int cmc_is(const char *, size_t, const char *);
static int cmc_is_space(char);
static void cmc_ms_to_tv(unsigned, struct timeval *);
static void cmc_connect_eventcb(struct bufferevent *, short, void *);
static void cmc_http_cb(struct evhttp_request *, void *);
static void cmc_error_cb(enum evhttp_request_error, void *);
static int cmc_header_cb(struct evhttp_request *, void *);
static void cmc_connect_timer_cb(evutil_socket_t, short, void *);
static void cmc_total_timer_cb(evutil_socket_t, short, void *);
static void cmc_done_cb(evutil_socket_t, short, void *);
static void cmc_finish(struct cmc_request *, enum power_error, enum power_state,
    const char *, ...) printflike(4, 5);
static void cmc_fail(struct cmc_request *);
static void cmc_parse(struct cmc_request *, const char *, size_t);
static void cmc_release(struct cmc_request *);
static void cmc_free(struct cmc_request *);

static const struct cmc_verb *
cmc_find_verb(const char *name)
{
	size_t i;

	if (name == NULL)
		return (NULL);
	for (i = 0; i < nitems(cmc_verbs); i++) {
		if (strcmp(cmc_verbs[i].name, name) == 0)
			return (&cmc_verbs[i]);
	}
	return (NULL);
}

/*
 * Escape len bytes of s into out (size outlen) on one line, C-style (\n,
 * \t, \xHH), in double quotes if quote is set; cut with "..." when it does
 * not fit.
 */
static void
cmc_escape(char *out, size_t outlen, const char *s, size_t len, int quote)
{
	size_t i, o = 0, n;
	char esc[8];
	unsigned char c;

	if (outlen < 8) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	if (quote)
		out[o++] = '"';
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\n')
			strlcpy(esc, "\\n", sizeof esc);
		else if (c == '\r')
			strlcpy(esc, "\\r", sizeof esc);
		else if (c == '\t')
			strlcpy(esc, "\\t", sizeof esc);
		else if (quote && (c == '"' || c == '\\'))
			snprintf(esc, sizeof esc, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			snprintf(esc, sizeof esc, "\\x%02x", c);
		else {
			esc[0] = (char)c;
			esc[1] = '\0';
		}
		/* Keep room for "...", the closing quote and the NUL. */
		n = strlen(esc);
		if (o + n + 5 > outlen) {
			strlcpy(out + o, "...", outlen - o);
			return;
		}
		memcpy(out + o, esc, n);
		o += n;
	}
	if (quote)
		out[o++] = '"';
	out[o] = '\0';
}

static int
cmc_is(const char *s, size_t len, const char *word)
{
	return (len == strlen(word) && memcmp(s, word, len) == 0);
}

static int
cmc_is_space(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	    c == '\f');
}

/* Judge a 200 reply's body by what the verb expects. */
static void
cmc_parse(struct cmc_request *r, const char *body, size_t len)
{
	char quoted[sizeof r->reply.detail];
	size_t line;

	while (len > 0 && cmc_is_space(body[len - 1]))
		len--;
	for (line = 0; line < len && body[line] != '\n'; line++)
		;
	while (line > 0 && cmc_is_space(body[line - 1]))
		line--;

	switch (r->verb->expect) {
	case CMC_EXPECT_ONOFF:
		if (cmc_is(body, len, "on")) {
			cmc_finish(r, POWER_ERR_OK, POWER_STATE_ON, "on");
			return;
		}
		if (cmc_is(body, len, "off")) {
			cmc_finish(r, POWER_ERR_OK, POWER_STATE_OFF, "off");
			return;
		}
		break;
	case CMC_EXPECT_OK:
		if (cmc_is(body, len, "ok")) {
			cmc_finish(r, POWER_ERR_OK, POWER_STATE_UNKNOWN, "ok");
			return;
		}
		break;
	case CMC_EXPECT_USRP:
		if (cmc_is(body, len, "on") || cmc_is(body, len, "usrpon")) {
			cmc_finish(r, POWER_ERR_OK, POWER_STATE_ON, "on");
			return;
		}
		if (cmc_is(body, len, "off") || cmc_is(body, len, "usrpoff")) {
			cmc_finish(r, POWER_ERR_OK, POWER_STATE_OFF, "off");
			return;
		}
		break;
	case CMC_EXPECT_LINE:
		break;
	}
	/* info, and usrpstatus with other words: the text is the answer. */
	if (line > 0 &&
	    (r->verb->expect == CMC_EXPECT_LINE ||
		r->verb->expect == CMC_EXPECT_USRP)) {
		cmc_escape(quoted, sizeof quoted, body, line, 0);
		cmc_finish(r, POWER_ERR_OK, POWER_STATE_UNKNOWN, "%s", quoted);
		return;
	}
	if (len == 0) {
		cmc_finish(r, POWER_ERR_BAD_REPLY, POWER_STATE_UNKNOWN,
		    "empty reply");
		return;
	}
	cmc_escape(quoted, sizeof quoted, body, len, 1);
	cmc_finish(r, POWER_ERR_BAD_REPLY, POWER_STATE_UNKNOWN, "%s", quoted);
}

/*
 * End the request with a reply: stop our timers and let the loop call the
 * user (and free the evhttp side) on its next turn. Only the first reply
 * counts.
 */
static void
cmc_finish(struct cmc_request *r, enum power_error error,
    enum power_state state, const char *fmt, ...)
{
	va_list ap;

	if (r->finished)
		return;
	r->finished = 1;
	r->reply.error = error;
	r->reply.state = state;
	va_start(ap, fmt);
	vsnprintf(r->reply.detail, sizeof r->reply.detail, fmt, ap);
	va_end(ap);
	evtimer_del(r->connect_ev);
	evtimer_del(r->total_ev);
	event_active(r->done_ev, EV_TIMEOUT, 1);
	log_debug("cmc %s:%d /%s: %s%s%s", r->ip, r->port, r->verb->name,
	    power_error_text(error), r->reply.detail[0] != '\0' ? ": " : "",
	    r->reply.detail);
}

/* The request failed before a complete reply: say why. */
static void
cmc_fail(struct cmc_request *r)
{
	if (!r->connected) {
		switch (r->sock_errno) {
		case ECONNREFUSED:
			cmc_finish(r, POWER_ERR_CONNECT_REFUSED,
			    POWER_STATE_UNKNOWN, "port %d", r->port);
			return;
		case ETIMEDOUT:
			cmc_finish(r, POWER_ERR_CONNECT_TIMEOUT,
			    POWER_STATE_UNKNOWN, "connect: %s",
			    strerror(r->sock_errno));
			return;
		case 0:
			break;
		default:
			cmc_finish(r, POWER_ERR_NETWORK, POWER_STATE_UNKNOWN,
			    "connect: %s", strerror(r->sock_errno));
			return;
		}
		if (r->http_error == EVREQ_HTTP_TIMEOUT) {
			cmc_finish(r, POWER_ERR_CONNECT_TIMEOUT,
			    POWER_STATE_UNKNOWN, "no connection");
			return;
		}
		cmc_finish(r, POWER_ERR_NETWORK, POWER_STATE_UNKNOWN,
		    "connect failed");
		return;
	}
	switch (r->http_error) {
	case EVREQ_HTTP_TIMEOUT:
		cmc_finish(r, POWER_ERR_TIMEOUT, POWER_STATE_UNKNOWN,
		    "no reply");
		return;
	case EVREQ_HTTP_INVALID_HEADER:
		cmc_finish(r, POWER_ERR_BAD_REPLY, POWER_STATE_UNKNOWN,
		    "malformed HTTP reply");
		return;
	case EVREQ_HTTP_DATA_TOO_LONG:
		if (r->http_code != 0 && r->http_code != 200) {
			cmc_finish(r, POWER_ERR_CONTROLLER_ERROR,
			    POWER_STATE_UNKNOWN, "HTTP %d", r->http_code);
			return;
		}
		cmc_finish(r, POWER_ERR_BAD_REPLY, POWER_STATE_UNKNOWN,
		    "reply longer than %d bytes", CMC_BODY_MAX);
		return;
	case EVREQ_HTTP_EOF:
		cmc_finish(r, POWER_ERR_NETWORK, POWER_STATE_UNKNOWN,
		    "connection closed %s the reply",
		    r->http_code != 0 ? "during" : "before");
		return;
	default:
		break;
	}
	cmc_finish(r, POWER_ERR_NETWORK, POWER_STATE_UNKNOWN, "HTTP error %d",
	    r->http_error);
}

/*
 * The connect event, on its way to evhttp's own callback: note whether
 * the connection was made, and the errno of a failed connect before
 * evhttp's cleanup overwrites it.
 */
static void
cmc_connect_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct cmc_request *r = arg;
	bufferevent_event_cb cb = r->http_eventcb;
	void *cbarg = r->http_eventarg;
	int saved = errno;

	if (what & BEV_EVENT_CONNECTED) {
		r->connected = 1;
		evtimer_del(r->connect_ev);
	} else if (what & BEV_EVENT_ERROR)
		r->sock_errno = saved;
	/* Give the bufferevent back to evhttp, then the event. */
	bufferevent_setcb(bev, NULL, NULL, cb, cbarg);
	r->http_eventcb = NULL;
	errno = saved;
	cb(bev, what, cbarg);
}

/* The status line and headers came: remember the code. */
static int
cmc_header_cb(struct evhttp_request *req, void *arg)
{
	struct cmc_request *r = arg;

	r->connected = 1;
	r->http_code = evhttp_request_get_response_code(req);
	return (0);
}

/*
 * evhttp failed the request (evhttp_connection_fail_): req is already
 * freed. The request callback follows with NULL, except on cancel.
 */
static void
cmc_error_cb(enum evhttp_request_error error, void *arg)
{
	struct cmc_request *r = arg;
	int saved = errno; /* evhttp restored the socket error */

	r->req = NULL;
	r->http_error = (int)error;
	if (!r->connected && r->sock_errno == 0 &&
	    error != EVREQ_HTTP_REQUEST_CANCEL && error != EVREQ_HTTP_TIMEOUT)
		r->sock_errno = saved;
}

/*
 * evhttp is done with the request: a reply, a failed connect (a request
 * with code 0) or a failure (NULL). It frees req when we return.
 */
static void
cmc_http_cb(struct evhttp_request *req, void *arg)
{
	struct cmc_request *r = arg;
	struct evbuffer *buf;
	char body[CMC_BODY_MAX + 1];
	char quoted[sizeof r->reply.detail];
	const char *line;
	size_t len;
	int code;

	r->req = NULL;
	if (r->finished)
		return;
	if (req == NULL ||
	    (code = evhttp_request_get_response_code(req)) == 0) {
		cmc_fail(r);
		return;
	}
	r->connected = 1;
	r->http_code = code;
	if (code != 200) {
		line = evhttp_request_get_response_code_line(req);
		if (line == NULL || *line == '\0') {
			cmc_finish(r, POWER_ERR_CONTROLLER_ERROR,
			    POWER_STATE_UNKNOWN, "HTTP %d", code);
			return;
		}
		cmc_escape(quoted, sizeof quoted - 16, line, strlen(line), 1);
		cmc_finish(r, POWER_ERR_CONTROLLER_ERROR, POWER_STATE_UNKNOWN,
		    "HTTP %d %s", code, quoted);
		return;
	}
	buf = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(buf);
	if (len > CMC_BODY_MAX) {
		cmc_finish(r, POWER_ERR_BAD_REPLY, POWER_STATE_UNKNOWN,
		    "reply longer than %d bytes", CMC_BODY_MAX);
		return;
	}
	if (evbuffer_copyout(buf, body, len) != (ev_ssize_t)len) {
		cmc_finish(r, POWER_ERR_NETWORK, POWER_STATE_UNKNOWN,
		    "cannot read the reply");
		return;
	}
	body[len] = '\0';
	cmc_parse(r, body, len);
}

/* connect_ms passed: fine if connected, otherwise a connect timeout. */
static void
cmc_connect_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cmc_request *r = arg;
	struct bufferevent *bev;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	evutil_socket_t s;

	if (r->connected || r->finished)
		return;
	/* Established, with the event not yet dispatched? */
	bev = evhttp_connection_get_bufferevent(r->evcon);
	if (bev != NULL && (s = bufferevent_getfd(bev)) != -1 &&
	    getpeername(s, (struct sockaddr *)&ss, &sslen) == 0)
		return;
	cmc_finish(r, POWER_ERR_CONNECT_TIMEOUT, POWER_STATE_UNKNOWN,
	    "no connection after %u ms", r->connect_ms);
}

static void
cmc_total_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cmc_request *r = arg;

	if (r->connected)
		cmc_finish(r, POWER_ERR_TIMEOUT, POWER_STATE_UNKNOWN,
		    "no reply after %u ms", r->total_ms);
	else
		cmc_finish(r, POWER_ERR_CONNECT_TIMEOUT, POWER_STATE_UNKNOWN,
		    "no connection after %u ms", r->total_ms);
}

/* Deferred completion: release evhttp, call the user, free. */
static void
cmc_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cmc_request *r = arg;

	cmc_release(r);
	if (r->cb != NULL) {
		r->in_callback = 1;
		r->cb(&r->reply, r->arg);
		r->in_callback = 0;
	}
	cmc_free(r);
}

/* Withdraw the request from evhttp and free the connection. */
static void
cmc_release(struct cmc_request *r)
{
	struct bufferevent *bev;

	if (r->evcon != NULL && r->http_eventcb != NULL) {
		/* Still wrapped: put evhttp's callback back first. */
		bev = evhttp_connection_get_bufferevent(r->evcon);
		bufferevent_setcb(bev, NULL, NULL, r->http_eventcb,
		    r->http_eventarg);
		r->http_eventcb = NULL;
	}
	r->finished = 1;
	if (r->req != NULL) {
		evhttp_cancel_request(r->req); /* calls cmc_error_cb */
		r->req = NULL;
	}
	if (r->evcon != NULL) {
		evhttp_connection_free(r->evcon);
		r->evcon = NULL;
	}
}

static void
cmc_free(struct cmc_request *r)
{
	cmc_release(r);
	if (r->connect_ev != NULL)
		event_free(r->connect_ev);
	if (r->total_ev != NULL)
		event_free(r->total_ev);
	if (r->done_ev != NULL)
		event_free(r->done_ev);
	free(r->ip);
	free(r);
}

static void
cmc_ms_to_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

struct cmc_request *
cmc_request_start(struct event_base *base, const struct cmc_params *params,
    const char *verb, cmc_cb cb, void *arg)
{
	struct cmc_request *r;
	struct evkeyvalq *headers;
	struct bufferevent *bev;
	bufferevent_data_cb readcb, writecb;
	struct in6_addr a6;
	struct in_addr a4;
	struct timeval tv;
	char *uri;

	r = xcalloc(1, sizeof *r);
	r->base = base;
	r->cb = cb;
	r->arg = arg;
	r->http_error = -1;
	r->verb = cmc_find_verb(verb);
	r->ip = xstrdup(params->ip != NULL ? params->ip : "");
	r->port = params->port != 0 ? params->port : CMC_PORT_DEFAULT;
	r->connect_ms = params->connect_ms != 0 ? params->connect_ms
						: CMC_CONNECT_MS_DEFAULT;
	r->total_ms =
	    params->total_ms != 0 ? params->total_ms : CMC_TOTAL_MS_DEFAULT;
	if (r->connect_ms > r->total_ms)
		r->connect_ms = r->total_ms;
	r->reply.error = POWER_ERR_OK;
	r->reply.state = POWER_STATE_UNKNOWN;

	/* libevent fails these only when out of memory: fatal, as xmalloc. */
	r->connect_ev = evtimer_new(base, cmc_connect_timer_cb, r);
	r->total_ev = evtimer_new(base, cmc_total_timer_cb, r);
	r->done_ev = event_new(base, -1, 0, cmc_done_cb, r);
	if (r->connect_ev == NULL || r->total_ev == NULL || r->done_ev == NULL)
		abort();

	/* Bad arguments are replies too, delivered like any other. */
	if (r->verb == NULL) {
		/* A verb to name in the log: the first one. */
		r->verb = &cmc_verbs[0];
		cmc_finish(r, POWER_ERR_CONTROLLER_ERROR, POWER_STATE_UNKNOWN,
		    "unknown CMC verb \"%.32s\"", verb != NULL ? verb : "");
		return (r);
	}
	if (inet_pton(AF_INET, r->ip, &a4) != 1 &&
	    inet_pton(AF_INET6, r->ip, &a6) != 1) {
		cmc_finish(r, POWER_ERR_NETWORK, POWER_STATE_UNKNOWN,
		    "not a numeric address: \"%.64s\"", r->ip);
		return (r);
	}
	if (r->port < 1 || r->port > 65535) {
		cmc_finish(r, POWER_ERR_NETWORK, POWER_STATE_UNKNOWN,
		    "bad port %d", r->port);
		return (r);
	}

	r->evcon = evhttp_connection_base_new(base, NULL, r->ip,
	    (unsigned short)r->port);
	if (r->evcon == NULL)
		goto fail;
	cmc_ms_to_tv(r->total_ms + CMC_BACKSTOP_MS, &tv);
	evhttp_connection_set_timeout_tv(r->evcon, &tv);
	evhttp_connection_set_retries(r->evcon, 0);
	evhttp_connection_set_max_body_size(r->evcon, CMC_BODY_MAX);
	evhttp_connection_set_max_headers_size(r->evcon, CMC_HEADERS_MAX);

	if ((r->req = evhttp_request_new(cmc_http_cb, r)) == NULL)
		goto fail;
	evhttp_request_set_error_cb(r->req, cmc_error_cb);
	evhttp_request_set_header_cb(r->req, cmc_header_cb);
	headers = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(headers, "Host",
	    params->host != NULL && *params->host != '\0' ? params->host
							  : r->ip);
	evhttp_add_header(headers, "Connection", "close");
	evhttp_add_header(headers, "User-Agent", "rhubarb");

	cmc_ms_to_tv(r->connect_ms, &tv);
	evtimer_add(r->connect_ev, &tv);
	cmc_ms_to_tv(r->total_ms, &tv);
	evtimer_add(r->total_ev, &tv);

	/* This connects at once; a failure may already call cmc_http_cb. */
	xasprintf(&uri, "/%s", r->verb->name);
	if (evhttp_make_request(r->evcon, r->req, EVHTTP_REQ_GET, uri) != 0) {
		r->req = NULL; /* freed by evhttp */
		free(uri);
		if (!r->finished) {
			r->sock_errno = errno;
			cmc_fail(r);
		}
		return (r);
	}
	free(uri);
	if (r->finished)
		return (r);

	/* Wrap evhttp's connect callback (see the top of the file). */
	bev = evhttp_connection_get_bufferevent(r->evcon);
	bufferevent_getcb(bev, &readcb, &writecb, &r->http_eventcb,
	    &r->http_eventarg);
	if (readcb == NULL && writecb == NULL && r->http_eventcb != NULL)
		bufferevent_setcb(bev, NULL, NULL, cmc_connect_eventcb, r);
	else {
		r->http_eventcb = NULL;
		r->connected = 1;
	}
	log_debug("cmc %s:%d /%s: started", r->ip, r->port, r->verb->name);
	return (r);

fail:
	cmc_finish(r, POWER_ERR_NETWORK, POWER_STATE_UNKNOWN, "%s",
	    "cannot create the HTTP request");
	return (r);
}

void
cmc_request_cancel(struct cmc_request *r)
{
	if (r == NULL)
		return;
	r->cb = NULL;
	/* From inside its own callback: cmc_done_cb frees it after. */
	if (!r->in_callback)
		cmc_free(r);
}
