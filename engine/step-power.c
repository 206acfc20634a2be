/*
 * The power step. step_data is a struct step_power: the node's targets
 * (one per controller: its CMC, its BMC, or each PDU its outlets are on),
 * the phases of its plan and where it is in them, and two timers: one for
 * delays (settle, the wait before a read-back), one guarding the whole
 * deadline in case a driver does not keep its own.
 *
 * A phase that talks to controllers sends one operation per target, each
 * queued at its controller (controller.c) with the node's deadline, then
 * run by its driver with a timeout of what is left (and, without -t, no
 * more than the back end's timeout); the phase is over when every target
 * has answered, been refused by its deadline, or failed. Nothing here
 * ends the node from inside start(): work begins on the next loop turn.
 *
 * After step_done() the step is cleared (step_data freed) before the call
 * returns, so every path returns at once after ending the node.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/controller.h"
#include "engine/loop.h"
#include "engine/plan-power.h"
#include "engine/resolve.h"
#include "engine/step-power-pdu.h"
#include "engine/step-power.h"
#include "inventory/inventory.h"

struct step_power;

/* One controller of the node, and the operation on it. */
struct sp_target {
	struct step_power *sp;
	const char *name;   /* for messages: reboot01, bmc01, pdu2 */
	const char *lookup; /* a name to resolve, or NULL */
	char ip[INET_ADDRSTRLEN];
	int port;
	const struct inv_pdu *pdu;
	int *outlets;
	size_t noutlets;
	struct controller *ctl;

	struct resolve_req *rreq;
	struct controller_wait *wait;
	struct cmc_request *cmc;
	struct ipmi_op *ipmi;
	struct step_power_pdu_member *member;
	int active;

	struct power_reply reply;
	struct pdu_outlet_reply *outs; /* noutlets, after a PDU operation */
	size_t nouts;
};

enum sp_timer {
	SP_TIMER_BEGIN,  /* start the current phase */
	SP_TIMER_READ,   /* read back (VERIFY) */
	SP_TIMER_SETTLE, /* the settle delay is over */
};

struct step_power {
	struct node *n;
	struct plan_power *pp;
	const struct step_power_conf *conf;
	struct plan_power_result *res;
	enum inv_power_kind kind;
	enum controller_kind ck;
	const struct plan_power_phase *phases;
	size_t nphases;
	size_t phase;
	unsigned tries;
	uint64_t start_ms;
	uint64_t deadline_ms;
	int op_bounded; /* each operation <= its back end's timeout */
	const char *password;

	struct sp_target *targets;
	size_t ntargets;
	size_t pending; /* resolutions or operations outstanding */
	enum plan_power_cmd cmd;
	const char *doing;

	struct event *timer;
	enum sp_timer timer_what;
	struct event *guard;
	int left_off; /* an off went through and no on since */
};

static enum step_result step_power_start(struct node *,
    const struct step_ctx *);
static enum step_result step_power_cancel(struct node *);
static void step_power_clear(struct node *);

const struct step_def step_power_def = {
    .name = "power",
    .start = step_power_start,
    .cancel = step_power_cancel,
    .clear = step_power_clear,
    .timeout_outcome = NODE_OUT_POWER_TIMEOUT,
};

static void sp_phase_begin(struct step_power *);
static void sp_op_done(struct step_power *);

/* Sentry3 outletStatus values, as the MIB names them. */
static const char *const sp_outlet_status_names[] = {"off", "on", "offWait",
    "onWait", "offError", "onError", "noComm", "reading", "offFuse", "onFuse"};

static const char *
sp_outlet_status_name(int status)
{
	if (status < 0 || (size_t)status >= nitems(sp_outlet_status_names))
		return ("unknown");
	return (sp_outlet_status_names[status]);
}

static struct event *
sp_evtimer(void (*cb)(evutil_socket_t, short, void *), void *arg)
{
	struct event *ev;

	if ((ev = evtimer_new(loop_base(), cb, arg)) == NULL) {
		log_error("%s: evtimer_new failed", __func__);
		abort();
	}
	return (ev);
}

static const char *
sp_fmt_ms(uint64_t ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, size, "%.1fs", ms / 1e3);
	return (buf);
}

/* Stop whatever is outstanding; safe to call twice. */
static void
sp_stop(struct step_power *sp)
{
	const struct plan_power_drivers *d = sp->pp->drivers;
	struct sp_target *t;
	size_t i;

	for (i = 0; i < sp->ntargets; i++) {
		t = &sp->targets[i];
		if (t->rreq != NULL) {
			resolve_cancel(t->rreq);
			t->rreq = NULL;
		}
		if (t->cmc != NULL) {
			d->cmc_cancel(t->cmc);
			t->cmc = NULL;
		}
		if (t->ipmi != NULL) {
			d->ipmi_cancel(t->ipmi);
			t->ipmi = NULL;
		}
		if (t->member != NULL) {
			step_power_pdu_leave(t->member);
			t->member = NULL;
		}
		if (t->wait != NULL) {
			controller_release(t->wait);
			t->wait = NULL;
		}
		t->active = 0;
	}
	sp->pending = 0;
	if (sp->timer != NULL)
		evtimer_del(sp->timer);
	if (sp->guard != NULL)
		evtimer_del(sp->guard);
}

/*
 * End the node. reason NULL is success. Returns nothing: sp is gone once
 * step_done returns.
 */
static void
sp_end(struct step_power *sp, enum node_outcome outcome, enum power_error err,
    const char *reason)
{
	struct plan_power_result *res = sp->res;
	struct node *n = sp->n;

	sp_stop(sp);
	res->ended = 1;
	res->error = err;
	res->duration_ms = loop_now_ms() - sp->start_ms;
	if (reason != NULL)
		strlcpy(res->reason, reason, sizeof res->reason);
	if (outcome == NODE_OUT_OK)
		step_done(n, NODE_OUT_OK, NULL);
	else
		step_done(n, outcome, "%s", res->reason);
}

/* Whether a reply's detail says more than its error text. */
static int
sp_detail_useful(const struct power_reply *r)
{
	if (r->detail[0] == '\0')
		return (0);
	switch (r->error) {
	case POWER_ERR_TIMEOUT:
	case POWER_ERR_BUSY:
	case POWER_ERR_CONTROLLER_ERROR:
	case POWER_ERR_BAD_REPLY:
	case POWER_ERR_OUTLET_ERROR:
	case POWER_ERR_NO_COMM:
	case POWER_ERR_NETWORK:
	case POWER_ERR_CREDENTIALS:
		return (1);
	default:
		return (0);
	}
}

/*
 * Fail with t's error: "connection timeout", or with context, "off: pdu2:
 * controller error: ... (left off)". The verb is named when it is not the
 * action's own (a read-back, the halves of a cycle), the controller when
 * the node has several.
 */
static void
sp_fail_reply(struct step_power *sp, const struct sp_target *t,
    const struct power_reply *r, const char *outlet)
{
	const char *verb = plan_power_cmd_name(sp->cmd);
	char reason[256];
	size_t len = 0;

	reason[0] = '\0';
	if (strcmp(verb, plan_power_action_name(sp->conf->action)) != 0)
		len +=
		    snprintf(reason + len, sizeof reason - len, "%s: ", verb);
	if (sp->ntargets > 1 && len < sizeof reason)
		len += snprintf(reason + len, sizeof reason - len,
		    "%s: ", t->name);
	if (outlet != NULL && len < sizeof reason)
		len +=
		    snprintf(reason + len, sizeof reason - len, "%s: ", outlet);
	if (len < sizeof reason)
		len += snprintf(reason + len, sizeof reason - len, "%s",
		    power_error_text(r->error));
	if (sp_detail_useful(r) && len < sizeof reason)
		len += snprintf(reason + len, sizeof reason - len, ": %s",
		    r->detail);
	if (sp->left_off && len < sizeof reason)
		snprintf(reason + len, sizeof reason - len, "; left off");
	sp->res->state = POWER_STATE_UNKNOWN;
	sp_end(sp, plan_power_outcome(r->error), r->error, reason);
}

static void sp_fail(struct step_power *, enum node_outcome, enum power_error,
    const char *, ...) printflike(4, 5);

static void
sp_fail(struct step_power *sp, enum node_outcome outcome, enum power_error err,
    const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	len = strlen(reason);
	if (sp->left_off && len < sizeof reason)
		snprintf(reason + len, sizeof reason - len, "; left off");
	sp_end(sp, outcome, err, reason);
}

/* Arm the delay timer, or fail if the deadline comes first. */
static void
sp_wait(struct step_power *sp, uint64_t ms, enum sp_timer what,
    const char *doing)
{
	struct timeval tv;
	uint64_t now = loop_now_ms();
	char a[32], b[32];

	if (now + ms > sp->deadline_ms) {
		sp_fail(sp, NODE_OUT_POWER_TIMEOUT, POWER_ERR_TIMEOUT,
		    "deadline in %s: no time left for %s (%s)",
		    sp_fmt_ms(sp->deadline_ms > now ? sp->deadline_ms - now : 0,
			a, sizeof a),
		    doing, sp_fmt_ms(ms, b, sizeof b));
		return;
	}
	sp->doing = doing;
	sp->timer_what = what;
	loop_ms_to_timeval(ms, &tv);
	evtimer_add(sp->timer, &tv);
}

/* --- one operation per target ----------------------------------------- */

static void
sp_sub_done(struct sp_target *t)
{
	struct step_power *sp = t->sp;
	const struct power_reply *r = &t->reply;
	const char *detail = r->error != POWER_ERR_OK ? r->detail : "";

	t->active = 0;
	node_message(sp->n, LOG_LEVEL_DEBUG, "%s %s: %s: %s%s%s",
	    controller_kind_name(sp->ck), t->name, plan_power_cmd_name(sp->cmd),
	    r->error == POWER_ERR_OK ? power_state_name(r->state)
				     : power_error_text(r->error),
	    *detail != '\0' ? ": " : "", detail);
	if (--sp->pending == 0)
		sp_op_done(sp);
}

static void
sp_cmc_cb(const struct power_reply *r, void *arg)
{
	struct sp_target *t = arg;

	t->cmc = NULL;
	controller_release(t->wait);
	t->wait = NULL;
	t->reply = *r;
	sp_sub_done(t);
}

static void
sp_ipmi_cb(const struct power_reply *r, void *arg)
{
	struct sp_target *t = arg;

	t->ipmi = NULL;
	controller_release(t->wait);
	t->wait = NULL;
	t->reply = *r;
	sp_sub_done(t);
}

static void
sp_pdu_cb(const struct power_reply *overall,
    const struct pdu_outlet_reply *outlets, size_t n, void *arg)
{
	struct sp_target *t = arg;

	t->member = NULL;
	if (outlets != NULL)
		t->sp->res->ops++;
	t->reply = *overall;
	free(t->outs);
	t->outs = NULL;
	t->nouts = 0;
	if (n > 0 && outlets != NULL) {
		t->outs = xcalloc(n, sizeof *t->outs);
		memcpy(t->outs, outlets, n * sizeof *outlets);
		t->nouts = n;
	}
	sp_sub_done(t);
}

static enum ipmi_privilege
sp_ipmi_privilege(const char *name)
{
	if (name != NULL && strcmp(name, "user") == 0)
		return (IPMI_PRIV_USER);
	if (name != NULL && strcmp(name, "operator") == 0)
		return (IPMI_PRIV_OPERATOR);
	return (IPMI_PRIV_ADMIN);
}

/* The controller is ours: start the driver. */
static void
sp_grant_cb(struct controller_wait *w, void *arg)
{
	struct sp_target *t = arg;
	struct step_power *sp = t->sp;
	const struct plan_power_conf *c = &sp->pp->conf;
	const struct plan_power_drivers *d = sp->pp->drivers;
	const struct inv_node *inv = sp->n->inv;
	struct cmc_params cp;
	struct ipmi_params ip;
	uint64_t now = loop_now_ms(), left, tmo;
	static const enum ipmi_command ipmi_cmds[] = {
	    [PLAN_POWER_CMD_STATUS] = IPMI_CMD_STATUS,
	    [PLAN_POWER_CMD_ON] = IPMI_CMD_ON,
	    [PLAN_POWER_CMD_OFF] = IPMI_CMD_OFF,
	    [PLAN_POWER_CMD_RESET] = IPMI_CMD_RESET,
	    [PLAN_POWER_CMD_INFO] = IPMI_CMD_STATUS,
	};
	int started = 0;

	left = sp->deadline_ms > now ? sp->deadline_ms - now : 1;
	tmo = left;
	if (sp->op_bounded && c->op_timeout_ms[sp->ck] < tmo)
		tmo = c->op_timeout_ms[sp->ck];
	sp->res->ops++;
	node_message(sp->n, LOG_LEVEL_DEBUG,
	    "%s %s (%s:%d): %s, timeout %llums", controller_kind_name(sp->ck),
	    t->name, t->ip, t->port, plan_power_cmd_name(sp->cmd),
	    (unsigned long long)tmo);

	switch (sp->kind) {
	case INV_POWER_CMC:
		memset(&cp, 0, sizeof cp);
		cp.ip = t->ip;
		cp.host = inv->cmc.hostname;
		cp.port = t->port;
		cp.total_ms = (unsigned)tmo;
		cp.connect_ms =
		    c->cmc_connect_ms < tmo ? c->cmc_connect_ms : (unsigned)tmo;
		t->cmc = d->cmc_start(loop_base(), &cp,
		    plan_power_cmd_name(sp->cmd), sp_cmc_cb, t);
		started = t->cmc != NULL;
		break;
	case INV_POWER_IPMI:
		memset(&ip, 0, sizeof ip);
		ip.ip = t->ip;
		ip.port = t->port;
		ip.user = inv->ipmi->user != NULL ? inv->ipmi->user : "";
		ip.password = sp->password;
		ip.cipher = inv->ipmi->cipher;
		ip.privilege = sp_ipmi_privilege(inv->ipmi->privilege);
		ip.timeout_ms = (unsigned)tmo;
		ip.retransmit_ms = c->ipmi_retransmit_ms;
		ip.control_retransmit_ms = c->ipmi_control_retransmit_ms;
		ip.workarounds = c->ipmi_workarounds;
		t->ipmi = d->ipmi_start(loop_base(), &ip, ipmi_cmds[sp->cmd],
		    sp_ipmi_cb, t);
		started = t->ipmi != NULL;
		break;
	default:
		break;
	}
	if (!started) {
		controller_release(w);
		t->wait = NULL;
		memset(&t->reply, 0, sizeof t->reply);
		t->reply.error = POWER_ERR_NETWORK;
		strlcpy(t->reply.detail, "the driver could not start",
		    sizeof t->reply.detail);
		sp_sub_done(t);
	}
}

/* Still queued at the deadline: a typed timeout saying for what. */
static void
sp_expire_cb(struct controller_wait *w, const char *why, void *arg)
{
	struct sp_target *t = arg;

	t->wait = NULL; /* freed by the registry */
	memset(&t->reply, 0, sizeof t->reply);
	t->reply.error = POWER_ERR_TIMEOUT;
	strlcpy(t->reply.detail, why, sizeof t->reply.detail);
	sp_sub_done(t);
}

/* A PDU target joins the batch of its PDU for cmd. */
static void
sp_issue_pdu(struct step_power *sp, struct sp_target *t,
    enum plan_power_cmd cmd)
{
	const struct plan_power_conf *c = &sp->pp->conf;
	struct pdu_params pdp;
	static const enum pdu_command pdu_cmds[] = {
	    [PLAN_POWER_CMD_STATUS] = PDU_CMD_STATUS,
	    [PLAN_POWER_CMD_ON] = PDU_CMD_ON,
	    [PLAN_POWER_CMD_OFF] = PDU_CMD_OFF,
	    [PLAN_POWER_CMD_RESET] = PDU_CMD_REBOOT,
	    [PLAN_POWER_CMD_INFO] = PDU_CMD_STATUS,
	};

	memset(&pdp, 0, sizeof pdp);
	pdp.ip = t->ip;
	pdp.port = t->port;
	pdp.read_community = t->pdu->read_community;
	pdp.write_community = t->pdu->write_community;
	pdp.request_ms = c->pdu_request_ms;
	pdp.retries = c->pdu_retries;
	pdp.poll_ms = c->pdu_poll_ms;
	node_message(sp->n, LOG_LEVEL_DEBUG, "pdu %s (%s:%d): %s outlets",
	    t->name, t->ip, t->port, plan_power_cmd_name(cmd));
	t->member = step_power_pdu_join(sp->pp, t->ctl, &pdp, pdu_cmds[cmd],
	    t->outlets, t->noutlets, sp->deadline_ms,
	    sp->op_bounded ? c->op_timeout_ms[sp->ck] : 0, sp_pdu_cb, t);
}

/* Send cmd to every target. */
static void
sp_issue(struct step_power *sp, enum plan_power_cmd cmd)
{
	struct sp_target *t;
	size_t i;

	sp->cmd = cmd;
	sp->doing = plan_power_cmd_name(cmd);
	sp->pending = sp->ntargets;
	for (i = 0; i < sp->ntargets; i++) {
		t = &sp->targets[i];
		memset(&t->reply, 0, sizeof t->reply);
		free(t->outs);
		t->outs = NULL;
		t->nouts = 0;
		t->active = 1;
		if (sp->kind == INV_POWER_PDU)
			sp_issue_pdu(sp, t, cmd);
		else
			t->wait = controller_request(t->ctl, sp->deadline_ms,
			    sp_grant_cb, sp_expire_cb, t);
	}
}

/* --- what an operation said ------------------------------------------- */

/* The first target that failed, or NULL. */
static const struct sp_target *
sp_failed_target(const struct step_power *sp)
{
	size_t i;

	for (i = 0; i < sp->ntargets; i++) {
		if (sp->targets[i].reply.error != POWER_ERR_OK)
			return (&sp->targets[i]);
	}
	return (NULL);
}

/*
 * The state of a node on PDU outlets: on if any outlet is on (one supply
 * keeps it up), off if every outlet answered off, unknown otherwise.
 * Outlets that are not on are listed in note.
 */
static enum power_state
sp_pdu_state(const struct step_power *sp, char *note, size_t size)
{
	const struct sp_target *t;
	const struct pdu_outlet_reply *o;
	size_t i, j, len = 0;
	int any_on = 0, all_off = 1;

	note[0] = '\0';
	for (i = 0; i < sp->ntargets; i++) {
		t = &sp->targets[i];
		if (t->nouts < t->noutlets) {
			all_off = 0;
			if (len < size)
				len += snprintf(note + len, size - len,
				    "%s%s: %s", len > 0 ? ", " : "", t->name,
				    t->reply.error != POWER_ERR_OK
					? power_error_text(t->reply.error)
					: "outlets missing from the reply");
			continue;
		}
		for (j = 0; j < t->nouts; j++) {
			o = &t->outs[j];
			if (o->reply.error == POWER_ERR_OK &&
			    o->reply.state == POWER_STATE_ON) {
				any_on = 1;
				continue;
			}
			if (o->reply.error != POWER_ERR_OK ||
			    o->reply.state != POWER_STATE_OFF)
				all_off = 0;
			if (len < size)
				len += snprintf(note + len, size - len,
				    "%s%s outlet %d: %s", len > 0 ? ", " : "",
				    t->name, o->outlet,
				    o->reply.error != POWER_ERR_OK
					? power_error_text(o->reply.error)
					: sp_outlet_status_name(o->status));
		}
	}
	if (any_on)
		return (POWER_STATE_ON);
	if (all_off)
		return (POWER_STATE_OFF);
	return (POWER_STATE_UNKNOWN);
}

/*
 * The first error among this node's PDU outlets (the target's overall
 * reply when its outlets are missing from it): 1 with *tp and *r set.
 */
static int
sp_pdu_error(const struct step_power *sp, const struct sp_target **tp,
    struct power_reply *r)
{
	const struct sp_target *t;
	size_t i, j;

	for (i = 0; i < sp->ntargets; i++) {
		t = &sp->targets[i];
		if (t->nouts < t->noutlets) {
			*tp = t;
			*r = t->reply;
			if (r->error == POWER_ERR_OK) {
				r->error = POWER_ERR_BAD_REPLY;
				strlcpy(r->detail,
				    "outlets missing from the reply",
				    sizeof r->detail);
			}
			return (1);
		}
		for (j = 0; j < t->nouts; j++) {
			if (t->outs[j].reply.error != POWER_ERR_OK) {
				*tp = t;
				*r = t->outs[j].reply;
				return (1);
			}
		}
	}
	return (0);
}

/* The info text of the node (allocated). */
static char *
sp_info_text(const struct step_power *sp)
{
	const struct sp_target *t = &sp->targets[0];
	char *s = NULL, *tmp;
	size_t i, j;

	switch (sp->kind) {
	case INV_POWER_CMC:
		return (xstrdup(t->reply.detail));
	case INV_POWER_IPMI:
		xasprintf(&s, "power %s%s%s", power_state_name(t->reply.state),
		    t->reply.detail[0] != '\0' ? ", " : "", t->reply.detail);
		return (s);
	default:
		break;
	}
	s = xstrdup("");
	for (i = 0; i < sp->ntargets; i++) {
		t = &sp->targets[i];
		for (j = 0; j < t->nouts; j++) {
			xasprintf(&tmp, "%s%s%s outlet %d: %s", s,
			    *s != '\0' ? ", " : "", t->name, t->outs[j].outlet,
			    sp_outlet_status_name(t->outs[j].status));
			free(s);
			s = tmp;
		}
	}
	return (s);
}

/* A status or info operation is over. */
static void
sp_read_done(struct step_power *sp)
{
	const struct sp_target *bad = sp_failed_target(sp);
	struct plan_power_result *res = sp->res;
	struct power_reply err;
	enum power_state state;
	char note[200];

	if (sp->kind == INV_POWER_PDU) {
		/* This node's outlets only: the batch may hold others. */
		state = sp_pdu_state(sp, note, sizeof note);
		if (state == POWER_STATE_UNKNOWN) {
			if (sp_pdu_error(sp, &bad, &err) && bad != NULL) {
				sp_fail_reply(sp, bad, &err, NULL);
				return;
			}
			/* Outlets in transition or odd states. */
			res->state = state;
			sp_fail(sp, NODE_OUT_POWER_FAILED,
			    POWER_ERR_OUTLET_ERROR, "%s", note);
			return;
		}
		bad = NULL; /* known anyway; the note says the rest */
		if (state == POWER_STATE_OFF)
			note[0] = '\0'; /* every outlet off: nothing to add */
	} else {
		state = bad == NULL ? sp->targets[0].reply.state
				    : POWER_STATE_UNKNOWN;
		note[0] = '\0';
		/* A CMC's info is text only: no state to expect. */
		if (bad == NULL && state == POWER_STATE_UNKNOWN &&
		    sp->cmd == PLAN_POWER_CMD_STATUS) {
			sp_fail(sp, NODE_OUT_POWER_FAILED, POWER_ERR_BAD_REPLY,
			    "%s: no power state in the reply",
			    sp->targets[0].name);
			return;
		}
	}
	if (bad != NULL) {
		sp_fail_reply(sp, bad, &bad->reply, NULL);
		return;
	}
	res->state = state;
	if (note[0] != '\0')
		strlcpy(res->reason, note, sizeof res->reason);
	if (sp->cmd == PLAN_POWER_CMD_INFO) {
		free(res->info);
		res->info = sp_info_text(sp);
	}
	sp->phase++;
	sp_phase_begin(sp);
}

/* An on, off or reset is over. */
static void
sp_action_done(struct step_power *sp, const struct plan_power_phase *ph)
{
	const struct sp_target *t, *bad = sp_failed_target(sp);
	const struct pdu_outlet_reply *o;
	char outlet[64];
	size_t i, j;

	/* PDU outlets are judged one by one (a batch's overall reply
	 * may be another node's stuck outlet). */
	if (bad != NULL && sp->kind != INV_POWER_PDU) {
		sp_fail_reply(sp, bad, &bad->reply, NULL);
		return;
	}
	if (sp->kind == INV_POWER_PDU) {
		/* Every outlet read back in the state asked. */
		for (i = 0; i < sp->ntargets; i++) {
			t = &sp->targets[i];
			if (t->nouts < t->noutlets &&
			    t->reply.error != POWER_ERR_OK) {
				sp_fail_reply(sp, t, &t->reply, NULL);
				return;
			}
			if (t->nouts < t->noutlets) {
				sp_fail(sp, NODE_OUT_POWER_FAILED,
				    POWER_ERR_BAD_REPLY,
				    "%s: %zu outlets in the reply, %zu asked",
				    t->name, t->nouts, t->noutlets);
				return;
			}
			for (j = 0; j < t->nouts; j++) {
				o = &t->outs[j];
				snprintf(outlet, sizeof outlet, "outlet %d",
				    o->outlet);
				if (o->reply.error != POWER_ERR_OK) {
					sp_fail_reply(sp, t, &o->reply,
					    t->noutlets > 1 ? outlet : NULL);
					return;
				}
				if (o->reply.state != ph->want) {
					sp->res->state = o->reply.state;
					sp_fail(sp, NODE_OUT_POWER_UNVERIFIED,
					    POWER_ERR_OK,
					    "%s %s reads %s after %s", t->name,
					    outlet,
					    sp_outlet_status_name(o->status),
					    plan_power_cmd_name(sp->cmd));
					return;
				}
			}
		}
		sp->res->state = ph->want;
	}
	if (sp->cmd == PLAN_POWER_CMD_OFF)
		sp->left_off = 1;
	else if (sp->cmd == PLAN_POWER_CMD_ON)
		sp->left_off = 0;
	sp->phase++;
	sp_phase_begin(sp);
}

/* A read-back is over: the state asked, another try, or a failure. */
static void
sp_verify_done(struct step_power *sp, const struct plan_power_phase *ph)
{
	const struct sp_target *bad = sp_failed_target(sp);
	enum power_state state;
	const char *after;

	if (bad != NULL) {
		sp_fail_reply(sp, bad, &bad->reply, NULL);
		return;
	}
	state = sp->targets[0].reply.state;
	sp->res->state = state;
	if (state == ph->want) {
		sp->phase++;
		sp_phase_begin(sp);
		return;
	}
	if (++sp->tries < sp->pp->conf.verify_tries) {
		sp_wait(sp, sp->pp->conf.verify_interval_ms, SP_TIMER_READ,
		    "the next read-back");
		return;
	}
	after = sp->phase > 0
	    ? plan_power_cmd_name(sp->phases[sp->phase - 1].cmd)
	    : "?";
	sp_fail(sp, NODE_OUT_POWER_UNVERIFIED, POWER_ERR_OK,
	    "reads %s after %s", power_state_name(state), after);
}

static void
sp_op_done(struct step_power *sp)
{
	const struct plan_power_phase *ph = &sp->phases[sp->phase];

	if (ph->kind == PLAN_POWER_VERIFY)
		sp_verify_done(sp, ph);
	else if (sp->cmd == PLAN_POWER_CMD_STATUS ||
	    sp->cmd == PLAN_POWER_CMD_INFO)
		sp_read_done(sp);
	else
		sp_action_done(sp, ph);
}

/* --- phases ------------------------------------------------------------ */

static void
sp_phase_begin(struct step_power *sp)
{
	const struct plan_power_phase *ph;
	uint64_t now = loop_now_ms();
	char buf[32];

	if (sp->phase == sp->nphases) {
		sp_end(sp, NODE_OUT_OK, POWER_ERR_OK, NULL);
		return;
	}
	if (now >= sp->deadline_ms) {
		sp_fail(sp, NODE_OUT_POWER_TIMEOUT, POWER_ERR_TIMEOUT,
		    "deadline (%s) passed before %s",
		    sp_fmt_ms(sp->deadline_ms - sp->start_ms, buf, sizeof buf),
		    plan_power_cmd_name(sp->phases[sp->phase].cmd));
		return;
	}
	ph = &sp->phases[sp->phase];
	switch (ph->kind) {
	case PLAN_POWER_OP:
		sp_issue(sp, ph->cmd);
		break;
	case PLAN_POWER_VERIFY:
		sp->tries = 0;
		sp->cmd = PLAN_POWER_CMD_STATUS;
		if (ph->after_reset && sp->pp->conf.reset_verify_delay_ms > 0)
			sp_wait(sp, sp->pp->conf.reset_verify_delay_ms,
			    SP_TIMER_READ, "the read-back after reset");
		else
			sp_issue(sp, PLAN_POWER_CMD_STATUS);
		break;
	case PLAN_POWER_SETTLE:
		sp_wait(sp, sp->pp->conf.settle_ms[sp->ck], SP_TIMER_SETTLE,
		    "the settle delay");
		break;
	}
}

static void
sp_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct step_power *sp = arg;

	switch (sp->timer_what) {
	case SP_TIMER_BEGIN:
		sp_phase_begin(sp);
		break;
	case SP_TIMER_READ:
		sp_issue(sp, PLAN_POWER_CMD_STATUS);
		break;
	case SP_TIMER_SETTLE:
		sp->phase++;
		sp_phase_begin(sp);
		break;
	}
}

/* The deadline passed and something did not answer by itself. */
static void
sp_guard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct step_power *sp = arg;
	const struct sp_target *t;
	char buf[32];
	size_t i;

	/* A name server that never answered: the name did not resolve. */
	for (i = 0; i < sp->ntargets; i++) {
		t = &sp->targets[i];
		if (t->rreq != NULL) {
			sp_fail(sp, NODE_OUT_POWER_RESOLVE, POWER_ERR_NETWORK,
			    "%s: no answer from the name servers within %s",
			    t->lookup,
			    sp_fmt_ms(sp->deadline_ms - sp->start_ms, buf,
				sizeof buf));
			return;
		}
	}
	sp_fail(sp, NODE_OUT_POWER_TIMEOUT, POWER_ERR_TIMEOUT,
	    "no result within %s (%s)",
	    sp_fmt_ms(sp->deadline_ms - sp->start_ms, buf, sizeof buf),
	    sp->doing != NULL ? sp->doing : "starting");
}

static void
sp_resolve_cb(const char *ip, const char *err, void *arg)
{
	struct sp_target *t = arg;
	struct step_power *sp = t->sp;
	char id[64];

	t->rreq = NULL;
	if (ip == NULL) {
		sp_fail(sp, NODE_OUT_POWER_RESOLVE, POWER_ERR_NETWORK, "%s: %s",
		    t->lookup, err);
		return;
	}
	strlcpy(t->ip, ip, sizeof t->ip);
	snprintf(id, sizeof id, "%s:%d", t->ip, t->port);
	t->ctl = controller_get(sp->pp->controllers, sp->ck, id, t->name);
	if (--sp->pending == 0)
		sp_phase_begin(sp);
}

/* --- the step ---------------------------------------------------------- */

/* The node's targets: its CMC, its BMC, or one per PDU of its outlets. */
static void
sp_targets(struct step_power *sp)
{
	const struct inv_node *inv = sp->n->inv;
	const struct inventory *invy = sp->pp->inv;
	struct sp_target *t;
	size_t i, j;

	switch (sp->kind) {
	case INV_POWER_CMC:
		sp->targets = xcalloc(1, sizeof *sp->targets);
		sp->ntargets = 1;
		t = &sp->targets[0];
		t->name = inv->cmc.hostname;
		strlcpy(t->ip, inv->cmc.ip, sizeof t->ip);
		t->port = inv->cmc_port;
		break;
	case INV_POWER_IPMI:
		sp->targets = xcalloc(1, sizeof *sp->targets);
		sp->ntargets = 1;
		t = &sp->targets[0];
		t->name = inv->ipmi->host;
		t->lookup = inv->ipmi->host;
		t->port = inv->ipmi->port;
		break;
	default:
		/* Outlets grouped by PDU, PDUs in the order first seen. */
		sp->targets = xcalloc(inv->noutlets, sizeof *sp->targets);
		for (i = 0; i < inv->noutlets; i++) {
			for (j = 0; j < sp->ntargets; j++) {
				if (sp->targets[j].pdu ==
				    &invy->pdus[inv->outlets[i].pdu])
					break;
			}
			t = &sp->targets[j];
			if (j == sp->ntargets) {
				sp->ntargets++;
				t->pdu = &invy->pdus[inv->outlets[i].pdu];
				t->name = t->pdu->name;
				t->lookup = t->pdu->host;
				t->port = t->pdu->port;
				t->outlets =
				    xcalloc(inv->noutlets, sizeof *t->outlets);
			}
			t->outlets[t->noutlets++] = inv->outlets[i].outlet;
		}
		break;
	}
	for (i = 0; i < sp->ntargets; i++)
		sp->targets[i].sp = sp;
}

static enum step_result
step_power_start(struct node *n, const struct step_ctx *ctx)
{
	const struct step_power_conf *conf = ctx->arg;
	struct plan_power *pp = conf->pp;
	struct plan_power_result *res = plan_power_result(pp, n->inv);
	struct step_power *sp;
	struct timeval tv;
	enum inv_power_kind kind;
	const char *perr = NULL, *password = NULL;
	char *err = NULL, id[64];
	uint64_t budget;
	size_t i;

	if (conf->only_if_powered &&
	    (!res->started || (res->ended && res->error != POWER_ERR_OK))) {
		node_message(n, LOG_LEVEL_DEBUG, "%s skipped: %s",
		    plan_power_action_name(conf->action),
		    res->started ? "its controller failed already"
				 : "not powered yet");
		return (STEP_DONE);
	}
	free(res->info);
	memset(res, 0, sizeof *res);
	res->started = 1;
	if (plan_power_backend(n->inv, conf->via, &kind, &err) != 0) {
		res->ended = 1;
		res->error = POWER_ERR_CONTROLLER_ERROR;
		strlcpy(res->reason, err, sizeof res->reason);
		node_set_outcome(n, NODE_OUT_POWER_FAILED, "%s", err);
		free(err);
		return (STEP_FAIL);
	}
	res->backend = kind;
	if (kind == INV_POWER_IPMI) {
		if (n->inv->ipmi->password_file == NULL)
			perr = "no password_file for its BMC in the inventory";
		else
			password = plan_power_password(pp,
			    n->inv->ipmi->password_file, &perr);
		if (password == NULL) {
			res->ended = 1;
			res->error = POWER_ERR_CREDENTIALS;
			strlcpy(res->reason, perr, sizeof res->reason);
			node_set_outcome(n, NODE_OUT_POWER_CREDENTIALS, "%s",
			    perr);
			return (STEP_FAIL);
		}
	}

	sp = xcalloc(1, sizeof *sp);
	sp->n = n;
	sp->pp = pp;
	sp->conf = conf;
	sp->res = res;
	sp->kind = kind;
	sp->ck = plan_power_controller_kind(kind);
	sp->password = password;
	sp->phases = plan_power_phases(kind, conf->action, &sp->nphases);
	budget = conf->timeout_ms != 0
	    ? conf->timeout_ms
	    : plan_power_budget(pp, kind, conf->action);
	sp->op_bounded = conf->timeout_ms == 0;
	sp->start_ms = loop_now_ms();
	sp->deadline_ms = sp->start_ms + budget;
	sp->timer = sp_evtimer(sp_timer_cb, sp);
	sp->guard = sp_evtimer(sp_guard_cb, sp);
	loop_ms_to_timeval(budget + STEP_POWER_GRACE_MS, &tv);
	evtimer_add(sp->guard, &tv);
	n->step_data = sp;

	sp_targets(sp);
	strlcpy(res->controller, sp->targets[0].name, sizeof res->controller);
	node_message(n, LOG_LEVEL_DEBUG, "%s through %s %s, deadline %llums",
	    plan_power_action_name(conf->action), inv_power_kind_name(kind),
	    res->controller, (unsigned long long)budget);

	/* Names first (callbacks later), or straight to the first phase. */
	for (i = 0; i < sp->ntargets; i++) {
		if (sp->targets[i].lookup != NULL) {
			sp->pending++;
			sp->doing = "resolving";
		} else {
			snprintf(id, sizeof id, "%s:%d", sp->targets[i].ip,
			    sp->targets[i].port);
			sp->targets[i].ctl = controller_get(pp->controllers,
			    sp->ck, id, sp->targets[i].name);
		}
	}
	for (i = 0; i < sp->ntargets; i++) {
		if (sp->targets[i].lookup != NULL)
			sp->targets[i].rreq =
			    resolve_start(pp->resolver, sp->targets[i].lookup,
				sp_resolve_cb, &sp->targets[i]);
	}
	if (sp->pending == 0) {
		sp->timer_what = SP_TIMER_BEGIN;
		loop_ms_to_timeval(0, &tv);
		evtimer_add(sp->timer, &tv);
	}
	return (STEP_WAIT);
}

static enum step_result
step_power_cancel(struct node *n)
{
	struct step_power *sp = n->step_data;

	sp_stop(sp);
	sp->res->ended = 1;
	sp->res->error = POWER_ERR_CANCELLED;
	sp->res->duration_ms = loop_now_ms() - sp->start_ms;
	return (STEP_DONE);
}

static void
step_power_clear(struct node *n)
{
	struct step_power *sp = n->step_data;
	size_t i;

	if (sp == NULL)
		return;
	sp_stop(sp);
	for (i = 0; i < sp->ntargets; i++) {
		free(sp->targets[i].outlets);
		free(sp->targets[i].outs);
	}
	free(sp->targets);
	loop_event_free(sp->timer);
	loop_event_free(sp->guard);
	free(sp);
	n->step_data = NULL;
}
