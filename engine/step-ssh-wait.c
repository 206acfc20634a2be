/*
 * The ssh-wait step (see step-ssh-wait.h). step_data is a struct
 * ssh_wait; a node is in one of three places: waiting for a handshake
 * slot (queued in the limiter), probing (holding a slot), or backing off
 * (its timer armed). At the deadline, the run asks the step what it
 * was still waiting for (step_def.expired): the last failure decides
 * between ssh-timeout and ssh-auth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/backoff.h"
#include "engine/limiter.h"
#include "engine/loop.h"
#include "engine/step-ssh-wait.h"
#include "inventory/config.h"
#include "inventory/inventory.h"

struct ssh_wait {
	struct node *node;
	const struct step_ssh_wait_conf *conf;
	struct limiter_waiter slot;
	struct ssh_probe *probe;
	struct event *backoff;
	unsigned tries;
	enum node_outcome last; /* NONE until a probe failed */
	char last_why[200];
};

static enum step_result step_ssh_wait_start(struct node *,
    const struct step_ctx *);
static enum step_result step_ssh_wait_cancel(struct node *);
static void step_ssh_wait_clear(struct node *);
static const char *step_ssh_wait_expired(struct node *, enum node_outcome *);
static void step_ssh_wait_try(struct ssh_wait *);

const struct step_def step_ssh_wait_def = {
    .name = "ssh-wait",
    .start = step_ssh_wait_start,
    .cancel = step_ssh_wait_cancel,
    .clear = step_ssh_wait_clear,
    .timeout_outcome = NODE_OUT_SSH_TIMEOUT,
    .expired = step_ssh_wait_expired,
};

void
step_ssh_wait_params_from_config(struct step_ssh_wait_params *p,
    const struct config *cf)
{
	double backoff, connect;

	memset(p, 0, sizeof *p);
	p->key_path = config_str(cf, CK_NETWORKING_SSH_KEY);
	p->user = config_str(cf, CK_NETWORKING_SSH_USER);
	/* A CONFIG_CHOICE: the config already refused anything else. */
	if (ssh_probe_hostkey_policy_parse(
		config_str(cf, CK_NETWORKING_SSH_HOST_KEY_POLICY),
		&p->hostkey_policy) != 0)
		p->hostkey_policy = SSH_PROBE_HOSTKEY_ACCEPT_NEW;
	p->known_hosts = config_str(cf, CK_NETWORKING_SSH_KNOWN_HOSTS);
	backoff = config_double(cf, CK_NETWORKING_SSH_BACKOFF);
	p->backoff_ms = (uint64_t)(backoff * 1000 + 0.5);
	p->max_handshakes =
	    (unsigned)config_int(cf, CK_NETWORKING_SSH_MAX_HANDSHAKES);
	connect = config_double(cf, CK_NETWORKING_SSH_TIMEOUT);
	p->connect_timeout_ms = (unsigned)(connect * 1000 + 0.5);
}

struct step_ssh_wait_conf *
step_ssh_wait_conf_new(const struct step_ssh_wait_params *p, char **errp)
{
	struct step_ssh_wait_conf *conf;
	struct ssh_probe_key *key;

	if ((key = ssh_probe_key_load(p->key_path, errp)) == NULL)
		return (NULL);
	conf = xcalloc(1, sizeof *conf);
	conf->key = key;
	conf->user =
	    xstrdup(p->user != NULL && *p->user != '\0' ? p->user : "root");
	conf->hostkey_policy = p->hostkey_policy;
	conf->known_hosts = p->known_hosts != NULL && *p->known_hosts != '\0'
	    ? xstrdup(p->known_hosts)
	    : NULL;
	conf->backoff_ms = p->backoff_ms;
	conf->connect_timeout_ms = p->connect_timeout_ms;
	conf->limiter = xcalloc(1, sizeof *conf->limiter);
	limiter_init(conf->limiter,
	    p->max_handshakes >= 1 ? p->max_handshakes : 1);
	return (conf);
}

void
step_ssh_wait_conf_free(struct step_ssh_wait_conf *conf)
{
	if (conf == NULL)
		return;
	ssh_probe_key_free(conf->key);
	free(conf->user);
	free(conf->known_hosts);
	free(conf->limiter);
	free(conf);
}

static int
step_ssh_wait_is_auth(enum ssh_probe_result result)
{
	return (result == SSH_PROBE_AUTH_DENIED ||
	    result == SSH_PROBE_HOSTKEY_MISMATCH ||
	    result == SSH_PROBE_HOSTKEY_UNKNOWN);
}

/* Stop whatever is under way: probe, slot, backoff. */
static void
step_ssh_wait_stop(struct ssh_wait *sw)
{
	if (sw->probe != NULL) {
		ssh_probe_cancel(sw->probe);
		sw->probe = NULL;
	}
	limiter_release(sw->conf->limiter, &sw->slot);
	if (sw->backoff != NULL)
		evtimer_del(sw->backoff);
}

static void
step_ssh_wait_probe_cb(const struct ssh_probe_reply *reply, void *arg)
{
	struct ssh_wait *sw = arg;
	struct timeval tv;
	uint64_t ms;
	const char *text = ssh_probe_result_text(reply->result);

	sw->probe = NULL;
	/* The next node gets the slot at once. */
	limiter_release(sw->conf->limiter, &sw->slot);
	if (reply->result == SSH_PROBE_OK) {
		node_message(sw->node, LOG_LEVEL_DEBUG,
		    "ssh: connection OK after %u tr%s", sw->tries,
		    sw->tries == 1 ? "y" : "ies");
		step_ssh_wait_stop(sw);
		step_done(sw->node, NODE_OUT_OK, NULL);
		return;
	}
	sw->last = step_ssh_wait_is_auth(reply->result) ? NODE_OUT_SSH_AUTH
							: NODE_OUT_SSH_TIMEOUT;
	snprintf(sw->last_why, sizeof sw->last_why, "%s", text);
	ms = backoff_next_ms(sw->conf->backoff_ms);
	node_message(sw->node, LOG_LEVEL_DEBUG,
	    "ssh: cannot connect (%s%s%s), backing off for %.2fs", text,
	    reply->detail[0] != '\0' ? ": " : "", reply->detail,
	    (double)ms / 1000);
	loop_ms_to_timeval(ms, &tv);
	evtimer_add(sw->backoff, &tv);
}

/* The slot is ours: probe. */
static void
step_ssh_wait_probe(void *arg)
{
	struct ssh_wait *sw = arg;
	const struct inv_node *inv = sw->node->inv;
	struct ssh_probe_params p;

	memset(&p, 0, sizeof p);
	p.ip = inv->control.ip;
	p.port = inv->ssh_port;
	p.user = sw->conf->user;
	p.key = sw->conf->key;
	p.hostkey_policy = sw->conf->hostkey_policy;
	p.known_hosts = sw->conf->known_hosts;
	p.connect_timeout_ms = sw->conf->connect_timeout_ms;
	sw->tries++;
	node_message(sw->node, LOG_LEVEL_DEBUG,
	    "ssh: trying to connect (%s@%s)", sw->conf->user, inv->control.ip);
	sw->probe =
	    ssh_probe_start(loop_base(), &p, step_ssh_wait_probe_cb, sw);
}

static void
step_ssh_wait_try(struct ssh_wait *sw)
{
	if (limiter_acquire(sw->conf->limiter, &sw->slot, step_ssh_wait_probe,
		sw))
		step_ssh_wait_probe(sw);
}

static void
step_ssh_wait_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	step_ssh_wait_try(arg);
}

/* At the deadline: what the last failure says. */
static const char *
step_ssh_wait_expired(struct node *n, enum node_outcome *outcome)
{
	struct ssh_wait *sw = n->step_data;

	if (sw->last != NODE_OUT_NONE) {
		*outcome = sw->last;
		return (sw->last_why);
	}
	return (sw->tries == 0 ? "no handshake slot" : "no answer");
}

static enum step_result
step_ssh_wait_start(struct node *n, const struct step_ctx *ctx)
{
	const struct step_ssh_wait_conf *conf = ctx->arg;
	struct ssh_wait *sw;

	sw = xcalloc(1, sizeof *sw);
	sw->node = n;
	sw->conf = conf;
	sw->last = NODE_OUT_NONE;
	sw->backoff = evtimer_new(loop_base(), step_ssh_wait_backoff_cb, sw);
	if (sw->backoff == NULL) {
		log_error("%s: evtimer_new failed", __func__);
		abort();
	}
	n->step_data = sw;
	step_ssh_wait_try(sw);
	return (STEP_WAIT);
}

static enum step_result
step_ssh_wait_cancel(struct node *n)
{
	step_ssh_wait_stop(n->step_data);
	return (STEP_DONE);
}

static void
step_ssh_wait_clear(struct node *n)
{
	struct ssh_wait *sw = n->step_data;

	if (sw == NULL)
		return;
	step_ssh_wait_stop(sw);
	loop_event_free(sw->backoff);
	free(sw);
	n->step_data = NULL;
}
