/*
 * The CMC cards of every node: one evhttp server on 0.0.0.0:80 in the
 * namespace, where the node is the local address of the connection (the
 * address the client dialled: rebootNN). It speaks rhubarbe's verbs
 * (DESIGN.md, "CMC HTTP"): GET /status, /on, /off, /reset, /info,
 * /usrpstatus, /usrpon, /usrpoff; a text body and a newline.
 *
 * Replies are deferred, never blocking: cmc-slow arms a 5 s timer, and a
 * reply to a change waits for nft to carry it (simd-nft.c waiters). A
 * request read by evhttp stays on its connection, which reads nothing
 * more until it is answered, so a held request lives until we answer it
 * or evhttp_free() takes it at exit.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "simd.h"

#define SIMD_CMC_PORT     80
#define SIMD_CMC_BACKLOG  4096
#define SIMD_CMC_SLOW_SEC 5
/* Idle and I/O timeout of a client connection, in seconds. */
#define SIMD_CMC_TIMEOUT 30

struct simd_cmc_reply {
	TAILQ_ENTRY(simd_cmc_reply) entry;
	struct evhttp_request *req;
	struct event *timer; /* cmc-slow */
	struct simd_nft_waiter waiter;
	int code;
	char body[128];
};
TAILQ_HEAD(simd_cmc_replies, simd_cmc_reply);

static void simd_cmc_status(struct simd_node *, char *, size_t);
static void simd_cmc_on(struct simd_node *, char *, size_t);
static void simd_cmc_off(struct simd_node *, char *, size_t);
static void simd_cmc_reset(struct simd_node *, char *, size_t);
static void simd_cmc_info(struct simd_node *, char *, size_t);
static void simd_cmc_usrpstatus(struct simd_node *, char *, size_t);
static void simd_cmc_usrpon(struct simd_node *, char *, size_t);
static void simd_cmc_usrpoff(struct simd_node *, char *, size_t);
static void simd_cmc_request(struct evhttp_request *, void *);
static void simd_cmc_send(struct evhttp_request *, int, const char *);
static void simd_cmc_ready(struct simd_cmc_reply *);
static void simd_cmc_slow_cb(evutil_socket_t, short, void *);
static void simd_cmc_nft_cb(void *);
static void simd_cmc_finish(struct simd_cmc_reply *);

static const struct simd_cmc_verb {
	const char *path;
	void (*exec)(struct simd_node *, char *, size_t);
} simd_cmc_verbs[] = {
    {"/status", simd_cmc_status},
    {"/on", simd_cmc_on},
    {"/off", simd_cmc_off},
    {"/reset", simd_cmc_reset},
    {"/info", simd_cmc_info},
    {"/usrpstatus", simd_cmc_usrpstatus},
    {"/usrpon", simd_cmc_usrpon},
    {"/usrpoff", simd_cmc_usrpoff},
};

static struct evhttp *simd_cmc_http;
static struct simd_cmc_replies simd_cmc_replies =
    TAILQ_HEAD_INITIALIZER(simd_cmc_replies);

static void
simd_cmc_status(struct simd_node *n, char *body, size_t len)
{
	snprintf(body, len, "%s", simd_power_is_on(n) ? "on" : "off");
}

/* On a node already on, and off on one off: "ok", nothing changes. */
static void
simd_cmc_on(struct simd_node *n, char *body, size_t len)
{
	simd_power_chassis(n, 1, "cmc on");
	snprintf(body, len, "ok");
}

static void
simd_cmc_off(struct simd_node *n, char *body, size_t len)
{
	simd_power_chassis(n, 0, "cmc off");
	snprintf(body, len, "ok");
}

/* On a node that is off, "ok" and nothing happens, like the real card. */
static void
simd_cmc_reset(struct simd_node *n, char *body, size_t len)
{
	simd_power_reset(n, "cmc reset");
	snprintf(body, len, "ok");
}

static void
simd_cmc_info(struct simd_node *n, char *body, size_t len)
{
	snprintf(body, len, "%s chassis=%s state=%s", n->name,
	    n->chassis ? "on" : "off", simd_power_state_name(n->state));
}

static void
simd_cmc_usrpstatus(struct simd_node *n, char *body, size_t len)
{
	snprintf(body, len, "%s", n->usrp ? "on" : "off");
}

static void
simd_cmc_usrpon(struct simd_node *n, char *body, size_t len)
{
	simd_power_usrp(n, 1);
	snprintf(body, len, "ok");
}

static void
simd_cmc_usrpoff(struct simd_node *n, char *body, size_t len)
{
	simd_power_usrp(n, 0);
	snprintf(body, len, "ok");
}

/* Answer now: body and a newline, as text. */
static void
simd_cmc_send(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer *buf;
	const char *reason;

	switch (code) {
	case HTTP_OK:
		reason = "OK";
		break;
	case HTTP_NOTFOUND:
		reason = "Not Found";
		break;
	default:
		reason = "Bad Request";
		break;
	}
	buf = evbuffer_new();
	evbuffer_add_printf(buf, "%s\n", body);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	evhttp_send_reply(req, code, reason, buf);
	evbuffer_free(buf);
}

static void
simd_cmc_request(struct evhttp_request *req, void *arg)
{
	const struct simd_cmc_verb *v;
	struct simd_cmc_reply *r;
	struct evhttp_connection *evcon;
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;
	struct simd_node *n;
	const char *path;
	char a[INET_ADDRSTRLEN], body[128];
	evutil_socket_t fd;
	struct timeval tv = {SIMD_CMC_SLOW_SEC, 0};

	evcon = evhttp_request_get_connection(req);
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (getsockname(fd, (struct sockaddr *)&sin, &slen) != 0 ||
	    sin.sin_family != AF_INET) {
		simd_cmc_send(req, HTTP_NOTFOUND, "no CMC here");
		return;
	}
	if ((n = simd_node_by_addr(sin.sin_addr, SIMD_ADDR_CMC)) == NULL) {
		inet_ntop(AF_INET, &sin.sin_addr, a, sizeof a);
		snprintf(body, sizeof body, "no CMC at %s", a);
		simd_cmc_send(req, HTTP_NOTFOUND, body);
		return;
	}

	r = xcalloc(1, sizeof *r);
	r->req = req;
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	for (v = simd_cmc_verbs; v < simd_cmc_verbs + nitems(simd_cmc_verbs);
	     v++) {
		if (path != NULL && strcmp(path, v->path) == 0)
			break;
	}
	if (v == simd_cmc_verbs + nitems(simd_cmc_verbs)) {
		r->code = HTTP_NOTFOUND;
		snprintf(r->body, sizeof r->body, "not found");
	} else {
		r->code = HTTP_OK;
		v->exec(n, r->body, sizeof r->body);
	}
	log_debug("%s: cmc %s -> %s", n->name, path != NULL ? path : "?",
	    r->body);
	TAILQ_INSERT_TAIL(&simd_cmc_replies, r, entry);

	if (simd_fault_has(n, SIMD_FAULT_CMC_SLOW)) {
		r->timer = evtimer_new(simd.base, simd_cmc_slow_cb, r);
		evtimer_add(r->timer, &tv);
		return;
	}
	simd_cmc_ready(r);
}

/* The reply may go once nft carries what it reports. */
static void
simd_cmc_ready(struct simd_cmc_reply *r)
{
	if (simd_nft_wait(&r->waiter, simd_cmc_nft_cb, r))
		return;
	simd_cmc_finish(r);
}

static void
simd_cmc_slow_cb(evutil_socket_t fd, short what, void *arg)
{
	simd_cmc_ready(arg);
}

static void
simd_cmc_nft_cb(void *arg)
{
	simd_cmc_finish(arg);
}

static void
simd_cmc_finish(struct simd_cmc_reply *r)
{
	TAILQ_REMOVE(&simd_cmc_replies, r, entry);
	simd_cmc_send(r->req, r->code, r->body);
	if (r->timer != NULL)
		event_free(r->timer);
	free(r);
}

/* Listen on 0.0.0.0:80. */
int
simd_cmc_start(char **errp)
{
	struct evconnlistener *lev;
	struct sockaddr_in sin;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(errp, "socket: %s", strerror(errno));
		return (-1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(SIMD_CMC_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(fd, SIMD_CMC_BACKLOG) != 0) {
		xasprintf(errp, "cannot listen on 0.0.0.0:%d: %s",
		    SIMD_CMC_PORT, strerror(errno));
		close(fd);
		return (-1);
	}
	lev = evconnlistener_new(simd.base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (lev == NULL) {
		xasprintf(errp, "cannot listen on 0.0.0.0:%d", SIMD_CMC_PORT);
		close(fd);
		return (-1);
	}
	simd_cmc_http = evhttp_new(simd.base);
	evhttp_set_timeout(simd_cmc_http, SIMD_CMC_TIMEOUT);
	evhttp_set_max_headers_size(simd_cmc_http, 8192);
	evhttp_set_max_body_size(simd_cmc_http, 4096);
	evhttp_set_allowed_methods(simd_cmc_http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
	evhttp_set_gencb(simd_cmc_http, simd_cmc_request, NULL);
	if (evhttp_bind_listener(simd_cmc_http, lev) == NULL) {
		xasprintf(errp, "cannot serve HTTP on 0.0.0.0:%d",
		    SIMD_CMC_PORT);
		evconnlistener_free(lev);
		evhttp_free(simd_cmc_http);
		simd_cmc_http = NULL;
		return (-1);
	}
	return (0);
}

/* Drop the replies still held (evhttp frees their requests) and stop. */
void
simd_cmc_stop(void)
{
	struct simd_cmc_reply *r;

	while ((r = TAILQ_FIRST(&simd_cmc_replies)) != NULL) {
		TAILQ_REMOVE(&simd_cmc_replies, r, entry);
		simd_nft_unwait(&r->waiter);
		if (r->timer != NULL)
			event_free(r->timer);
		free(r);
	}
	if (simd_cmc_http != NULL)
		evhttp_free(simd_cmc_http);
	simd_cmc_http = NULL;
}
