/*
 * The TCP probe (see tcp-probe.h): a bufferevent connect, a timer for the
 * whole probe, and a deferred event that delivers the result so that the
 * caller may start the next probe from its callback.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "drivers/tcp-probe.h"

struct tcp_probe {
	struct bufferevent *bev;
	struct event *timer;
	struct event *done_ev;
	int want_byte;
	unsigned timeout_ms;
	enum tcp_probe_result result;
	char detail[128];
	tcp_probe_cb cb;
	void *arg;
};

static void
tcp_probe_free(struct tcp_probe *p)
{
	if (p->bev != NULL)
		bufferevent_free(p->bev);
	event_free(p->timer);
	event_free(p->done_ev);
	free(p);
}

/* Stop the I/O and deliver result from the loop. */
static void
tcp_probe_end(struct tcp_probe *p, enum tcp_probe_result result,
    const char *detail)
{
	if (p->bev != NULL) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
	evtimer_del(p->timer);
	p->result = result;
	strlcpy(p->detail, detail, sizeof p->detail);
	event_active(p->done_ev, EV_WRITE, 0);
}

static void
tcp_probe_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_probe *p = arg;

	p->cb(p->result, p->detail, p->arg);
	tcp_probe_free(p);
}

static void
tcp_probe_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_probe *p = arg;
	char detail[64];

	snprintf(detail, sizeof detail, "%s after %u ms",
	    p->bev != NULL && p->want_byte && p->result == TCP_PROBE_OK
		? "nothing received"
		: "no connection",
	    p->timeout_ms);
	tcp_probe_end(p, TCP_PROBE_TIMEOUT, detail);
}

static void
tcp_probe_read_cb(struct bufferevent *bev, void *arg)
{
	tcp_probe_end(arg, TCP_PROBE_OK, "answered");
}

static void
tcp_probe_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_probe *p = arg;
	int err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		if (!p->want_byte) {
			tcp_probe_end(p, TCP_PROBE_OK, "connected");
			return;
		}
		/* Connected: the timer now waits for the first byte. */
		p->result = TCP_PROBE_OK;
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_EOF)
		tcp_probe_end(p, TCP_PROBE_CLOSED, "closed before a byte");
	else if (err == ECONNREFUSED)
		tcp_probe_end(p, TCP_PROBE_REFUSED, "connection refused");
	else
		tcp_probe_end(p, TCP_PROBE_NET_ERROR, strerror(err));
}

struct tcp_probe *
tcp_probe_start(struct event_base *base, const struct tcp_probe_params *params,
    tcp_probe_cb cb, void *arg, char **errp)
{
	struct sockaddr_storage ss;
	struct tcp_probe *p;
	struct timeval tv;
	char addr[80];
	int len = sizeof ss;

	if (strchr(params->ip, ':') != NULL)
		snprintf(addr, sizeof addr, "[%s]:%d", params->ip,
		    params->port);
	else
		snprintf(addr, sizeof addr, "%s:%d", params->ip, params->port);
	memset(&ss, 0, sizeof ss);
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &len) !=
	    0) {
		xasprintf(errp, "bad address '%s'", addr);
		return (NULL);
	}
	p = xcalloc(1, sizeof *p);
	p->cb = cb;
	p->arg = arg;
	p->want_byte = params->want_byte;
	p->timeout_ms = params->timeout_ms;
	/* Not connected yet: the timer's message says so. */
	p->result = TCP_PROBE_TIMEOUT;
	p->timer = evtimer_new(base, tcp_probe_timer_cb, p);
	p->done_ev = event_new(base, -1, 0, tcp_probe_done_cb, p);
	p->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (p->timer == NULL || p->done_ev == NULL || p->bev == NULL) {
		log_error("%s: out of resources", __func__);
		abort();
	}
	bufferevent_setcb(p->bev, tcp_probe_read_cb, NULL, tcp_probe_event_cb,
	    p);
	tv.tv_sec = params->timeout_ms / 1000;
	tv.tv_usec = (params->timeout_ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss, len) !=
	    0) {
		/* Failed at once (bad route...): still reported from the loop.
		 */
		tcp_probe_end(p,
		    errno == ECONNREFUSED ? TCP_PROBE_REFUSED
					  : TCP_PROBE_NET_ERROR,
		    strerror(errno));
	}
	return (p);
}

void
tcp_probe_cancel(struct tcp_probe *p)
{
	if (p != NULL)
		tcp_probe_free(p);
}

const char *
tcp_probe_result_name(enum tcp_probe_result r)
{
	switch (r) {
	case TCP_PROBE_OK:
		return ("ok");
	case TCP_PROBE_REFUSED:
		return ("refused");
	case TCP_PROBE_TIMEOUT:
		return ("timeout");
	case TCP_PROBE_CLOSED:
		return ("closed");
	case TCP_PROBE_NET_ERROR:
		return ("network error");
	}
	return ("?");
}
