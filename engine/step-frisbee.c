/*
 * The frisbee step: the telnet driver does the talking and the parsing;
 * this file turns its events into node messages, progress and an outcome.
 * step_data is a struct step_frisbee. Live steps are kept on one list so
 * that the loss of the frisbee server can end them at once instead of
 * letting each wait for its deadline.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "drivers/telnet.h"
#include "engine/frisbeed.h"
#include "engine/loop.h"
#include "engine/step-frisbee.h"
#include "inventory/inventory.h"

struct step_frisbee {
	struct node *node;
	const struct step_frisbee_conf *conf;
	struct telnet_session *session; /* NULL once over */
	uint64_t serial;                /* start order, for server_lost */
	uint64_t started_ms;
	uint64_t joined_ms; /* 0: not yet */
	int short_write;
	TAILQ_ENTRY(step_frisbee) entry;
};

static TAILQ_HEAD(, step_frisbee) step_frisbee_live = TAILQ_HEAD_INITIALIZER(
    step_frisbee_live);
static uint64_t step_frisbee_serial;

static enum step_result step_frisbee_start(struct node *,
    const struct step_ctx *);
static enum step_result step_frisbee_cancel(struct node *);
static void step_frisbee_clear(struct node *);

const struct step_def step_frisbee_def = {
    .name = "frisbee",
    .start = step_frisbee_start,
    .cancel = step_frisbee_cancel,
    .clear = step_frisbee_clear,
    .default_timeout_ms = STEP_FRISBEE_TIMEOUT_MS,
    .timeout_outcome = NODE_OUT_FRISBEE_TIMEOUT,
};

char *
step_frisbee_commands(const struct step_frisbee_conf *conf, const char *node_ip,
    const char *group, int port)
{
	char *s;

	xasprintf(&s,
	    "%s -i %s -m %s -p %d %s\n"
	    "echo _TELNET_STATUS=$?\n"
	    "exit\n",
	    conf->client, node_ip, group, port, conf->hard_drive);
	return (s);
}

/* Seconds since the join (or the start, without one); never 0. */
static double
step_frisbee_elapsed(const struct step_frisbee *sf)
{
	uint64_t from, now = loop_now_ms();

	from = sf->joined_ms != 0 ? sf->joined_ms : sf->started_ms;
	if (now <= from)
		return (0.001);
	return ((double)(now - from) / 1000.0);
}

static void
step_frisbee_output(const struct frisbee_event *ev, void *arg)
{
	struct step_frisbee *sf = arg;
	struct node *n = sf->node;
	uint64_t bytes = 0;
	double secs, rate = -1;

	switch (ev->type) {
	case FRISBEE_EV_LINE:
		node_raw(n, ev->line, ev->truncated);
		break;
	case FRISBEE_EV_JOINED:
		sf->joined_ms = loop_now_ms();
		node_message(n, LOG_LEVEL_INFO, "joined: %" PRIu64 " chunks",
		    ev->chunks);
		break;
	case FRISBEE_EV_PROGRESS:
		if (sf->conf->image_size != 0) {
			bytes =
			    sf->conf->image_size / 100 * (uint64_t)ev->percent +
			    sf->conf->image_size % 100 * (uint64_t)ev->percent /
				100;
			if (sf->joined_ms != 0)
				rate = (double)bytes / step_frisbee_elapsed(sf);
		}
		node_progress(n, ev->percent, bytes, rate);
		break;
	case FRISBEE_EV_WROTE:
		secs = step_frisbee_elapsed(sf);
		node_message(n, LOG_LEVEL_INFO,
		    "wrote %" PRIu64 " bytes in %.1f s, %.1f MiB/s", ev->total,
		    secs, (double)ev->total / secs / (1024.0 * 1024.0));
		break;
	case FRISBEE_EV_SHORT_WRITE:
		sf->short_write = 1;
		node_message(n, LOG_LEVEL_WARN, "short write");
		break;
	case FRISBEE_EV_STATUS:
		break;
	}
}

static void
step_frisbee_end(const struct telnet_end *end, void *arg)
{
	struct step_frisbee *sf = arg;
	struct node *n = sf->node;

	sf->session = NULL; /* gone after this callback */
	switch (end->result) {
	case TELNET_CLOSED:
		if (end->status == 0 && !sf->short_write)
			step_done(n, NODE_OUT_OK, NULL);
		else if (end->status == 0)
			step_done(n, NODE_OUT_FRISBEE_FAILED,
			    "frisbee exit 0 but short write");
		else
			step_done(n, NODE_OUT_FRISBEE_FAILED,
			    "frisbee exit %d%s", end->status,
			    sf->short_write ? ": short write" : "");
		return;
	case TELNET_CLOSED_NO_STATUS:
		step_done(n, NODE_OUT_FRISBEE_FAILED,
		    "connection closed before the status line");
		return;
	case TELNET_REFUSED:
		step_done(n, NODE_OUT_FRISBEE_FAILED,
		    "telnet: connection refused");
		return;
	case TELNET_CONNECT_TIMEOUT:
		step_done(n, NODE_OUT_FRISBEE_FAILED,
		    "telnet: connect timeout");
		return;
	case TELNET_IDLE_TIMEOUT:
		step_done(n, NODE_OUT_FRISBEE_FAILED,
		    "telnet: no output for %u s",
		    (sf->conf->idle_ms + 999) / 1000);
		return;
	case TELNET_TOTAL_TIMEOUT:
	case TELNET_NET_ERROR:
		break;
	}
	step_done(n, NODE_OUT_FRISBEE_FAILED, "telnet: %s",
	    end->detail != NULL ? end->detail
				: telnet_result_name(end->result));
}

static enum step_result
step_frisbee_start(struct node *n, const struct step_ctx *ctx)
{
	const struct step_frisbee_conf *conf = ctx->arg;
	struct step_frisbee *sf;
	struct telnet_params p;
	const char *group = conf->group, *ip = n->inv->control.ip;
	int port = conf->port;
	char *commands;

	if (conf->server != NULL) {
		if (!frisbeed_serving(conf->server)) {
			node_set_outcome(n, NODE_OUT_FRISBEE_FAILED,
			    "frisbee server not serving");
			return (STEP_FAIL);
		}
		group = frisbeed_group(conf->server);
		port = frisbeed_port(conf->server);
	}
	if (ip == NULL || *ip == '\0') {
		node_set_outcome(n, NODE_OUT_FRISBEE_FAILED, "no control IP");
		return (STEP_FAIL);
	}
	commands = step_frisbee_commands(conf, ip, group, port);

	sf = xcalloc(1, sizeof *sf);
	sf->node = n;
	sf->conf = conf;
	sf->serial = ++step_frisbee_serial;
	sf->started_ms = loop_now_ms();
	memset(&p, 0, sizeof p);
	p.ip = ip;
	p.port = conf->telnet_port != 0 ? conf->telnet_port
					: STEP_FRISBEE_DEFAULT_PORT;
	p.connect_ms =
	    conf->connect_ms != 0 ? conf->connect_ms : STEP_FRISBEE_CONNECT_MS;
	p.idle_ms = conf->idle_ms;
	p.commands = commands;
	node_message(n, LOG_LEVEL_DEBUG,
	    "telnet %s:%d: %s -i %s -m %s -p %d %s", ip, p.port, conf->client,
	    ip, group, port, conf->hard_drive);
	sf->session = telnet_session_start(loop_base(), &p, step_frisbee_output,
	    step_frisbee_end, sf);
	free(commands);
	TAILQ_INSERT_TAIL(&step_frisbee_live, sf, entry);
	n->step_data = sf;
	return (STEP_WAIT);
}

/* Nothing to wait for: the session stops at once, without callbacks. */
static enum step_result
step_frisbee_cancel(struct node *n)
{
	struct step_frisbee *sf = n->step_data;

	if (sf->session != NULL)
		telnet_session_cancel(sf->session);
	sf->session = NULL;
	return (STEP_DONE);
}

static void
step_frisbee_clear(struct node *n)
{
	struct step_frisbee *sf = n->step_data;

	if (sf == NULL)
		return; /* start failed */
	if (sf->session != NULL)
		telnet_session_cancel(sf->session);
	TAILQ_REMOVE(&step_frisbee_live, sf, entry);
	free(sf);
	n->step_data = NULL;
}

size_t
step_frisbee_server_lost(const struct step_frisbee_conf *conf, const char *why)
{
	struct step_frisbee *sf;
	uint64_t upto = step_frisbee_serial;
	size_t count = 0;

	/*
	 * Look again from the top after each one: ending a step may start
	 * others (which came after upto, so are left alone) and frees it.
	 */
	for (;;) {
		TAILQ_FOREACH(sf, &step_frisbee_live, entry) {
			if (sf->conf == conf && sf->serial <= upto &&
			    sf->session != NULL)
				break;
		}
		if (sf == NULL)
			break;
		telnet_session_cancel(sf->session);
		sf->session = NULL;
		step_done(sf->node, NODE_OUT_FRISBEE_FAILED,
		    "frisbee server lost: %s", why != NULL ? why : "it died");
		count++;
	}
	return (count);
}
