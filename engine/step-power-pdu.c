/*
 * PDU batches. A batch is open (queued at its controller, listed in the
 * plan's pdu_batches so that nodes can join it) until granted; then it
 * runs one driver operation over the union of its members' outlets and
 * hands each member its share. A batch without members is freed at once,
 * withdrawing its request or cancelling its operation.
 *
 * Deliveries detach every member first, so a member's callback (which may
 * end its node and make other nodes leave their own batches) never sees
 * the batch half delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/controller.h"
#include "engine/loop.h"
#include "engine/plan-power.h"
#include "engine/step-power-pdu.h"

struct step_power_pdu_member {
	struct step_power_pdu_batch *b; /* NULL once delivered */
	int *outlets;
	size_t n;
	uint64_t deadline_ms;
	uint64_t op_cap_ms;
	struct event *timer; /* its own deadline, while queued */
	step_power_pdu_cb cb;
	void *arg;
	TAILQ_ENTRY(step_power_pdu_member) entry;
};

TAILQ_HEAD(step_power_pdu_members, step_power_pdu_member);

struct step_power_pdu_batch {
	struct plan_power *pp;
	struct controller *ctl;
	enum pdu_command cmd;
	struct pdu_params params;
	char ip[64];
	char *read_community;
	char *write_community;
	struct controller_wait *wait;
	int open; /* in pp->pdu_batches */
	struct pdu_op *op;
	int *outlets; /* the union, each once */
	size_t noutlets;
	uint64_t deadline_ms; /* the latest member's */
	struct step_power_pdu_members members;
	TAILQ_ENTRY(step_power_pdu_batch) entry;
};

static void spp_grant_cb(struct controller_wait *, void *);
static void spp_expire_cb(struct controller_wait *, const char *, void *);

static void
spp_batch_free(struct step_power_pdu_batch *b)
{
	if (b->open) {
		TAILQ_REMOVE(&b->pp->pdu_batches, b, entry);
		b->open = 0;
	}
	if (b->op != NULL)
		b->pp->drivers->pdu_cancel(b->op);
	if (b->wait != NULL)
		controller_release(b->wait);
	free(b->read_community);
	free(b->write_community);
	free(b->outlets);
	free(b);
}

static void
spp_member_free(struct step_power_pdu_member *m)
{
	loop_event_free(m->timer);
	free(m->outlets);
	free(m);
}

/* Take every member out, for delivery. */
static void
spp_detach_all(struct step_power_pdu_batch *b,
    struct step_power_pdu_members *out)
{
	struct step_power_pdu_member *m;

	TAILQ_INIT(out);
	while ((m = TAILQ_FIRST(&b->members)) != NULL) {
		TAILQ_REMOVE(&b->members, m, entry);
		m->b = NULL;
		evtimer_del(m->timer);
		TAILQ_INSERT_TAIL(out, m, entry);
	}
}

/* A member's deadline, still queued: it leaves with a timeout. */
static void
spp_member_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct step_power_pdu_member *m = arg;
	struct step_power_pdu_batch *b = m->b;
	struct power_reply r;

	memset(&r, 0, sizeof r);
	r.error = POWER_ERR_TIMEOUT;
	controller_wait_describe(b->wait, r.detail, sizeof r.detail);
	TAILQ_REMOVE(&b->members, m, entry);
	m->b = NULL;
	if (TAILQ_EMPTY(&b->members))
		spp_batch_free(b);
	m->cb(&r, NULL, 0, m->arg);
	spp_member_free(m);
}

static void
spp_add_outlets(struct step_power_pdu_batch *b, const int *outlets, size_t n)
{
	size_t i, j;

	b->outlets =
	    xreallocarray(b->outlets, b->noutlets + n + 1, sizeof *b->outlets);
	for (i = 0; i < n; i++) {
		for (j = 0; j < b->noutlets; j++) {
			if (b->outlets[j] == outlets[i])
				break;
		}
		if (j == b->noutlets)
			b->outlets[b->noutlets++] = outlets[i];
	}
}

struct step_power_pdu_member *
step_power_pdu_join(struct plan_power *pp, struct controller *ctl,
    const struct pdu_params *params, enum pdu_command cmd, const int *outlets,
    size_t n, uint64_t deadline_ms, uint64_t op_cap_ms, step_power_pdu_cb cb,
    void *arg)
{
	struct step_power_pdu_batch *b;
	struct step_power_pdu_member *m;
	struct timeval tv;
	uint64_t now = loop_now_ms();

	TAILQ_FOREACH(b, &pp->pdu_batches, entry) {
		if (b->ctl == ctl && b->cmd == cmd)
			break;
	}
	if (b == NULL) {
		b = xcalloc(1, sizeof *b);
		b->pp = pp;
		b->ctl = ctl;
		b->cmd = cmd;
		b->params = *params;
		strlcpy(b->ip, params->ip, sizeof b->ip);
		b->params.ip = b->ip;
		b->read_community = params->read_community != NULL
		    ? xstrdup(params->read_community)
		    : NULL;
		b->write_community = params->write_community != NULL
		    ? xstrdup(params->write_community)
		    : NULL;
		b->params.read_community = b->read_community;
		b->params.write_community = b->write_community;
		TAILQ_INIT(&b->members);
		b->deadline_ms = deadline_ms;
		TAILQ_INSERT_TAIL(&pp->pdu_batches, b, entry);
		b->open = 1;
		b->wait = controller_request(ctl, deadline_ms, spp_grant_cb,
		    spp_expire_cb, b);
	} else if (deadline_ms > b->deadline_ms) {
		b->deadline_ms = deadline_ms;
		controller_extend(b->wait, deadline_ms);
	}
	spp_add_outlets(b, outlets, n);

	m = xcalloc(1, sizeof *m);
	m->b = b;
	m->outlets = xcalloc(n + 1, sizeof *m->outlets);
	memcpy(m->outlets, outlets, n * sizeof *outlets);
	m->n = n;
	m->deadline_ms = deadline_ms;
	m->op_cap_ms = op_cap_ms;
	m->cb = cb;
	m->arg = arg;
	m->timer = evtimer_new(loop_base(), spp_member_timer_cb, m);
	if (m->timer == NULL) {
		log_error("%s: evtimer_new failed", __func__);
		abort();
	}
	loop_ms_to_timeval(deadline_ms > now ? deadline_ms - now : 0, &tv);
	evtimer_add(m->timer, &tv);
	TAILQ_INSERT_TAIL(&b->members, m, entry);
	return (m);
}

void
step_power_pdu_leave(struct step_power_pdu_member *m)
{
	struct step_power_pdu_batch *b;

	if (m == NULL)
		return;
	if ((b = m->b) != NULL) {
		TAILQ_REMOVE(&b->members, m, entry);
		/* Outlets it added stay in the batch: harmless, read back. */
		if (TAILQ_EMPTY(&b->members))
			spp_batch_free(b);
	}
	spp_member_free(m);
}

/* The operation is over: each member gets its outlets' replies. */
static void
spp_op_cb(const struct power_reply *overall,
    const struct pdu_outlet_reply *outlets, size_t n, void *arg)
{
	struct step_power_pdu_batch *b = arg;
	struct step_power_pdu_members ms;
	struct step_power_pdu_member *m;
	struct pdu_outlet_reply *mine;
	struct power_reply r = *overall;
	size_t i, j, k;

	b->op = NULL;
	/* Free for the next operation before anyone moves on. */
	controller_release(b->wait);
	b->wait = NULL;
	spp_detach_all(b, &ms);
	mine = xcalloc(b->noutlets + 1, sizeof *mine);
	while ((m = TAILQ_FIRST(&ms)) != NULL) {
		TAILQ_REMOVE(&ms, m, entry);
		for (i = 0, k = 0; i < m->n; i++) {
			for (j = 0; j < n; j++) {
				if (outlets[j].outlet == m->outlets[i])
					break;
			}
			if (j < n)
				mine[k++] = outlets[j];
		}
		m->cb(&r, mine, k, m->arg);
		spp_member_free(m);
	}
	free(mine);
	spp_batch_free(b);
}

static void
spp_grant_cb(struct controller_wait *w, void *arg)
{
	struct step_power_pdu_batch *b = arg;
	struct step_power_pdu_member *m;
	struct step_power_pdu_members ms;
	struct power_reply r;
	uint64_t now = loop_now_ms(), tmo = 1, t;
	size_t nm = 0;

	TAILQ_REMOVE(&b->pp->pdu_batches, b, entry);
	b->open = 0;
	/* The longest any member may still wait. */
	TAILQ_FOREACH(m, &b->members, entry) {
		nm++;
		evtimer_del(m->timer);
		t = m->deadline_ms > now ? m->deadline_ms - now : 1;
		if (m->op_cap_ms != 0 && m->op_cap_ms < t)
			t = m->op_cap_ms;
		if (t > tmo)
			tmo = t;
	}
	b->params.timeout_ms = (unsigned)tmo;
	log_debug("pdu %s: command %d on %zu outlets for %zu nodes, "
		  "timeout %llums",
	    controller_name(b->ctl), (int)b->cmd, b->noutlets, nm,
	    (unsigned long long)tmo);
	b->op = b->pp->drivers->pdu_start(loop_base(), &b->params, b->outlets,
	    b->noutlets, b->cmd, spp_op_cb, b);
	if (b->op != NULL)
		return;
	/* Nothing started: every member hears it now. */
	memset(&r, 0, sizeof r);
	r.error = POWER_ERR_NETWORK;
	strlcpy(r.detail, "the driver could not start", sizeof r.detail);
	spp_detach_all(b, &ms);
	while ((m = TAILQ_FIRST(&ms)) != NULL) {
		TAILQ_REMOVE(&ms, m, entry);
		m->cb(&r, NULL, 0, m->arg);
		spp_member_free(m);
	}
	spp_batch_free(b);
}

/* The latest member's deadline passed while queued: all of them leave. */
static void
spp_expire_cb(struct controller_wait *w, const char *why, void *arg)
{
	struct step_power_pdu_batch *b = arg;
	struct step_power_pdu_member *m;
	struct step_power_pdu_members ms;
	struct power_reply r;

	b->wait = NULL; /* freed by the registry */
	memset(&r, 0, sizeof r);
	r.error = POWER_ERR_TIMEOUT;
	strlcpy(r.detail, why, sizeof r.detail);
	spp_detach_all(b, &ms);
	spp_batch_free(b);
	while ((m = TAILQ_FIRST(&ms)) != NULL) {
		TAILQ_REMOVE(&ms, m, entry);
		m->cb(&r, NULL, 0, m->arg);
		spp_member_free(m);
	}
}

void
step_power_pdu_free_all(struct plan_power *pp)
{
	struct step_power_pdu_batch *b;
	struct step_power_pdu_members ms;
	struct step_power_pdu_member *m;

	while ((b = TAILQ_FIRST(&pp->pdu_batches)) != NULL) {
		spp_detach_all(b, &ms);
		while ((m = TAILQ_FIRST(&ms)) != NULL) {
			TAILQ_REMOVE(&ms, m, entry);
			spp_member_free(m);
		}
		spp_batch_free(b);
	}
}
