/*
 * The telnet-wait step (see step-telnet-wait.h): a probe, then a timer,
 * then a probe, until one answers or the run cancels the step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "drivers/tcp-probe.h"
#include "engine/backoff.h"
#include "engine/loop.h"
#include "engine/node.h"
#include "engine/step-telnet-wait.h"
#include "inventory/inventory.h"

struct step_telnet_wait {
	struct node *node;
	const struct step_telnet_wait_conf *conf;
	struct tcp_probe *probe;
	struct event *timer; /* backoff */
	int port;
	unsigned tries;
	char last[160]; /* the last try's result */
};

static void step_telnet_wait_try(struct step_telnet_wait *);

static void
step_telnet_wait_probe_cb(enum tcp_probe_result result, const char *detail,
    void *arg)
{
	struct step_telnet_wait *w = arg;
	struct timeval tv;
	uint64_t ms;

	w->probe = NULL;
	if (result == TCP_PROBE_OK) {
		node_message(w->node, LOG_LEVEL_INFO,
		    "imaging system up (telnet, try %u)", w->tries);
		step_done(w->node, NODE_OUT_OK, NULL);
		return;
	}
	snprintf(w->last, sizeof w->last, "last try: %s", detail);
	ms = backoff_next_ms(w->conf->backoff_ms);
	node_message(w->node, LOG_LEVEL_DEBUG, "telnet: %s; next try in %.1fs",
	    detail, (double)ms / 1000);
	loop_ms_to_timeval(ms, &tv);
	evtimer_add(w->timer, &tv);
}

static void
step_telnet_wait_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	step_telnet_wait_try(arg);
}

static void
step_telnet_wait_try(struct step_telnet_wait *w)
{
	struct tcp_probe_params p;
	char *err = NULL;

	memset(&p, 0, sizeof p);
	p.ip = w->node->inv->control.ip;
	p.port = w->port;
	p.timeout_ms = w->conf->connect_ms;
	p.want_byte = 1;
	w->tries++;
	w->probe = tcp_probe_start(loop_base(), &p, step_telnet_wait_probe_cb,
	    w, &err);
	if (w->probe == NULL) {
		/* Only a bad address; the inventory checked it. */
		step_done(w->node, NODE_OUT_FAILED, "telnet: %s", err);
		free(err);
	}
}

static enum step_result
step_telnet_wait_start(struct node *n, const struct step_ctx *ctx)
{
	const struct step_telnet_wait_conf *conf = ctx->arg;
	struct step_telnet_wait *w;
	struct timeval tv;

	w = xcalloc(1, sizeof *w);
	w->node = n;
	w->conf = conf;
	w->port = conf->port != 0      ? conf->port
	    : n->inv->telnet_port != 0 ? n->inv->telnet_port
				       : 23;
	strlcpy(w->last, "no try yet", sizeof w->last);
	if ((w->timer = evtimer_new(loop_base(), step_telnet_wait_timer_cb,
		 w)) == NULL) {
		log_error("%s: evtimer_new failed", __func__);
		abort();
	}
	n->step_data = w;
	node_message(n, LOG_LEVEL_INFO, "waiting for the imaging system");
	/* The first try from the loop: no step_done inside start(). */
	loop_ms_to_timeval(0, &tv);
	evtimer_add(w->timer, &tv);
	return (STEP_WAIT);
}

static const char *
step_telnet_wait_expired(struct node *n, enum node_outcome *outcome)
{
	struct step_telnet_wait *w = n->step_data;

	return (w->last);
}

static enum step_result
step_telnet_wait_cancel(struct node *n)
{
	struct step_telnet_wait *w = n->step_data;

	tcp_probe_cancel(w->probe);
	w->probe = NULL;
	evtimer_del(w->timer);
	return (STEP_DONE);
}

static void
step_telnet_wait_clear(struct node *n)
{
	struct step_telnet_wait *w = n->step_data;

	if (w == NULL)
		return;
	tcp_probe_cancel(w->probe);
	event_free(w->timer);
	free(w);
}

const struct step_def step_telnet_wait_def = {
    .name = "telnet-wait",
    .start = step_telnet_wait_start,
    .cancel = step_telnet_wait_cancel,
    .clear = step_telnet_wait_clear,
    .default_timeout_ms = 240000,
    .timeout_outcome = NODE_OUT_TELNET_TIMEOUT,
    .expired = step_telnet_wait_expired,
};
