/*
 * The Sentry3 PDU driver.
 *
 * The settle machine (drivers/pdu-settle.h) is driven by scripts with a
 * fake clock: every outletStatus value for every command, outlets stuck
 * on or off, errors and noComm, a reboot that has not started yet, SNMP
 * errors and timeouts, several outlets and the overall (worst) reply.
 *
 * The libevent/net-snmp glue runs against an in-process fake Sentry3
 * agent on 127.0.0.1 (an ephemeral UDP port, same event loop) made of
 * net-snmp's own server-side session, so no SNMP is parsed here: it
 * checks communities (a SET with the read community is noAccess, an
 * unknown community is dropped as snmpd does), serves outletStatus from
 * a per-outlet script and applies outletControlAction. Also a silent port
 * (nothing ever answers: retransmits are not completions), bad arguments,
 * cancel. Every loop run is bounded by a guard timer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

#include "common/xmalloc.h"
#include "drivers/pdu-sentry3.h"
#include "drivers/pdu-settle.h"
#include "tests/unit/guard.h"

/* ---------------------------------------------------------------------- */
/* The settle machine, with a fake clock. */

#define T_OUT 20000 /* timeout_ms of every script */
#define MAXO  3
#define MAXS  10

enum ev {
	EV_SET,
	EV_GET,
	EV_EXPIRE,
};

struct step {
	enum ev ev;
	uint64_t t;
	enum power_error err; /* the request's outcome */
	int st[MAXO];         /* EV_GET with POWER_ERR_OK */
	enum pdu_settle_next next;
};

struct expect {
	enum power_error err;
	enum power_state state;
	const char *detail;
	int status;
};

struct script {
	const char *name;
	enum pdu_command cmd;
	size_t n;
	int outlets[MAXO];
	enum pdu_settle_next first;
	struct step steps[MAXS];
	struct expect out[MAXO];
	struct expect all;
};

#define OK   POWER_ERR_OK
#define ON   POWER_STATE_ON
#define OFF  POWER_STATE_OFF
#define UNK  POWER_STATE_UNKNOWN
#define GET  PDU_NEXT_GET
#define WAIT PDU_NEXT_WAIT
#define DONE PDU_NEXT_DONE

static const struct script scripts[] = {
    /* STATUS: one read, every value. */
    {"status on/off/waits", PDU_CMD_STATUS, 3, {1, 2, 3}, GET,
	{{EV_GET, 5, OK, {1, 0, 2}, DONE}},
	{{OK, ON, "", 1}, {OK, OFF, "", 0}, {OK, ON, "offWait", 2}},
	{OK, UNK, "outlets disagree", -1}},
    {"status onWait", PDU_CMD_STATUS, 1, {7}, GET, {{EV_GET, 5, OK, {3}, DONE}},
	{{OK, OFF, "onWait", 3}}, {OK, OFF, "", -1}},
    {"status errors", PDU_CMD_STATUS, 3, {1, 2, 3}, GET,
	{{EV_GET, 5, OK, {4, 5, 6}, DONE}},
	{{POWER_ERR_OUTLET_ERROR, UNK, "offError", 4},
	    {POWER_ERR_OUTLET_ERROR, UNK, "onError", 5},
	    {POWER_ERR_NO_COMM, UNK, "noComm", 6}},
	{POWER_ERR_NO_COMM, UNK, "outlet 3: noComm", -1}},
    {"status reading and fuses", PDU_CMD_STATUS, 3, {1, 2, 3}, GET,
	{{EV_GET, 5, OK, {7, 8, 9}, DONE}},
	{{POWER_ERR_BUSY, UNK, "reading", 7},
	    {POWER_ERR_OUTLET_ERROR, OFF, "offFuse", 8},
	    {POWER_ERR_OUTLET_ERROR, ON, "onFuse", 9}},
	{POWER_ERR_OUTLET_ERROR, UNK, "outlet 2: offFuse", -1}},
    {"status bad varbinds", PDU_CMD_STATUS, 3, {1, 2, 3}, GET,
	{{EV_GET, 5, OK, {PDU_ST_NO_SUCH, PDU_ST_BAD_TYPE, 42}, DONE}},
	{{POWER_ERR_BAD_REPLY, UNK, "no such outlet", PDU_ST_UNREAD},
	    {POWER_ERR_BAD_REPLY, UNK, "outletStatus is not an INTEGER",
		PDU_ST_UNREAD},
	    {POWER_ERR_BAD_REPLY, UNK, "outletStatus 42 is not a Sentry3 value",
		42}},
	{POWER_ERR_BAD_REPLY, UNK, "outlet 1: no such outlet", -1}},
    {"status no answer", PDU_CMD_STATUS, 1, {1}, GET,
	{{EV_GET, 3000, POWER_ERR_TIMEOUT, {0}, DONE}},
	{{POWER_ERR_CONNECT_TIMEOUT, UNK, "no answer", PDU_ST_UNREAD}},
	{POWER_ERR_CONNECT_TIMEOUT, UNK, "no answer", -1}},
    {"status refused by the agent", PDU_CMD_STATUS, 1, {1}, GET,
	{{EV_GET, 5, POWER_ERR_CONTROLLER_ERROR, {0}, DONE}},
	{{POWER_ERR_CONTROLLER_ERROR, UNK, "x", PDU_ST_UNREAD}},
	{POWER_ERR_CONTROLLER_ERROR, UNK, "x", -1}},

    /* ON. */
    {"on at once", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {1}, DONE}},
	{{OK, ON, "", 1}}, {OK, ON, "", -1}},
    {"on through waits", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {0}, WAIT},
	    {EV_GET, 510, OK, {3}, WAIT}, {EV_GET, 1010, OK, {7}, WAIT},
	    {EV_GET, 1510, OK, {2}, WAIT}, {EV_GET, 2010, OK, {1}, DONE}},
	{{OK, ON, "", 1}}, {OK, ON, "", -1}},
    {"on stuck off", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {0}, WAIT},
	    {EV_GET, 19000, OK, {0}, WAIT}, {EV_EXPIRE, 20000, OK, {0}, DONE}},
	{{POWER_ERR_TIMEOUT, OFF, "outlet stuck off", 0}},
	{POWER_ERR_TIMEOUT, OFF, "outlet stuck off", -1}},
    {"on still onWait at the deadline", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {3}, WAIT},
	    {EV_GET, 20001, OK, {3}, DONE}},
	{{POWER_ERR_TIMEOUT, OFF, "outlet still onWait", 3}},
	{POWER_ERR_TIMEOUT, OFF, "outlet still onWait", -1}},
    {"on onError", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {3}, WAIT},
	    {EV_GET, 510, OK, {5}, DONE}},
	{{POWER_ERR_OUTLET_ERROR, UNK, "onError", 5}},
	{POWER_ERR_OUTLET_ERROR, UNK, "onError", -1}},
    {"on noComm", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {6}, DONE}},
	{{POWER_ERR_NO_COMM, UNK, "noComm", 6}},
	{POWER_ERR_NO_COMM, UNK, "noComm", -1}},
    {"on offFuse", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {8}, DONE}},
	{{POWER_ERR_OUTLET_ERROR, OFF, "offFuse", 8}},
	{POWER_ERR_OUTLET_ERROR, OFF, "offFuse", -1}},
    {"on write refused", PDU_CMD_ON, 2, {1, 9}, PDU_NEXT_SET,
	{{EV_SET, 5, POWER_ERR_CONTROLLER_ERROR, {0}, DONE}},
	{{POWER_ERR_CONTROLLER_ERROR, UNK, "x", PDU_ST_UNREAD},
	    {POWER_ERR_CONTROLLER_ERROR, UNK, "x", PDU_ST_UNREAD}},
	{POWER_ERR_CONTROLLER_ERROR, UNK, "x", -1}},
    {"on no answer to the set", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 3000, POWER_ERR_TIMEOUT, {0}, DONE}},
	{{POWER_ERR_CONNECT_TIMEOUT, UNK, "no answer", PDU_ST_UNREAD}},
	{POWER_ERR_CONNECT_TIMEOUT, UNK, "no answer", -1}},
    {"on set not sent", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 1, POWER_ERR_NETWORK, {0}, DONE}},
	{{POWER_ERR_NETWORK, UNK, "x", PDU_ST_UNREAD}},
	{POWER_ERR_NETWORK, UNK, "x", -1}},
    {"on a read times out, the next one answers", PDU_CMD_ON, 1, {5},
	PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET},
	    {EV_GET, 3010, POWER_ERR_TIMEOUT, {0}, WAIT},
	    {EV_GET, 3520, OK, {1}, DONE}},
	{{OK, ON, "", 1}}, {OK, ON, "", -1}},
    {"on the PDU stops answering", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {3}, WAIT},
	    {EV_GET, 3510, POWER_ERR_TIMEOUT, {0}, WAIT},
	    {EV_EXPIRE, 20000, OK, {0}, DONE}},
	{{POWER_ERR_TIMEOUT, OFF, "outlet still onWait", 3}},
	{POWER_ERR_TIMEOUT, OFF, "outlet still onWait", -1}},
    {"on never answered at all", PDU_CMD_ON, 1, {5}, PDU_NEXT_SET,
	{{EV_EXPIRE, 20000, OK, {0}, DONE}},
	{{POWER_ERR_CONNECT_TIMEOUT, UNK, "no answer", PDU_ST_UNREAD}},
	{POWER_ERR_CONNECT_TIMEOUT, UNK, "no answer", -1}},
    {"on set answered, deadline before any read", PDU_CMD_ON, 1, {5},
	PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_EXPIRE, 20000, OK, {0}, DONE}},
	{{POWER_ERR_TIMEOUT, UNK, "status never read", PDU_ST_UNREAD}},
	{POWER_ERR_TIMEOUT, UNK, "status never read", -1}},

    /* OFF. */
    {"off through offWait", PDU_CMD_OFF, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {2}, WAIT},
	    {EV_GET, 510, OK, {0}, DONE}},
	{{OK, OFF, "", 0}}, {OK, OFF, "", -1}},
    {"off stuck on", PDU_CMD_OFF, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {1}, WAIT},
	    {EV_EXPIRE, 20000, OK, {0}, DONE}},
	{{POWER_ERR_TIMEOUT, ON, "outlet stuck on", 1}},
	{POWER_ERR_TIMEOUT, ON, "outlet stuck on", -1}},
    {"off offError", PDU_CMD_OFF, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {4}, DONE}},
	{{POWER_ERR_OUTLET_ERROR, UNK, "offError", 4}},
	{POWER_ERR_OUTLET_ERROR, UNK, "offError", -1}},

    /* REBOOT: on again, after having been seen off or waiting. */
    {"reboot", PDU_CMD_REBOOT, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {1}, WAIT},
	    {EV_GET, 510, OK, {0}, WAIT}, {EV_GET, 1010, OK, {3}, WAIT},
	    {EV_GET, 1510, OK, {1}, DONE}},
	{{OK, ON, "", 1}}, {OK, ON, "", -1}},
    {"reboot never seen", PDU_CMD_REBOOT, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {1}, WAIT},
	    {EV_GET, 510, OK, {1}, WAIT}, {EV_EXPIRE, 20000, OK, {0}, DONE}},
	{{POWER_ERR_TIMEOUT, ON, "outlet stuck on (reboot not seen)", 1}},
	{POWER_ERR_TIMEOUT, ON, "outlet stuck on (reboot not seen)", -1}},
    {"reboot stuck off", PDU_CMD_REBOOT, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {0}, WAIT},
	    {EV_EXPIRE, 20000, OK, {0}, DONE}},
	{{POWER_ERR_TIMEOUT, OFF, "outlet stuck off", 0}},
	{POWER_ERR_TIMEOUT, OFF, "outlet stuck off", -1}},
    {"reboot onError", PDU_CMD_REBOOT, 1, {5}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {0}, WAIT},
	    {EV_GET, 510, OK, {5}, DONE}},
	{{POWER_ERR_OUTLET_ERROR, UNK, "onError", 5}},
	{POWER_ERR_OUTLET_ERROR, UNK, "onError", -1}},

    /* Several outlets: each settles once; the overall reply is the worst. */
    {"two outlets, one slower", PDU_CMD_ON, 2, {4, 12}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {1, 3}, WAIT},
	    /* outlet 4 settled: a later 0 does not count */
	    {EV_GET, 510, OK, {0, 1}, DONE}},
	{{OK, ON, "", 1}, {OK, ON, "", 1}}, {OK, ON, "", -1}},
    {"two outlets, one stuck", PDU_CMD_OFF, 2, {4, 12}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET}, {EV_GET, 10, OK, {0, 1}, WAIT},
	    {EV_EXPIRE, 20000, OK, {0}, DONE}},
	{{OK, OFF, "", 0}, {POWER_ERR_TIMEOUT, ON, "outlet stuck on", 1}},
	{POWER_ERR_TIMEOUT, UNK, "outlet 12: outlet stuck on", -1}},
    {"three outlets, the worst wins", PDU_CMD_ON, 3, {1, 2, 3}, PDU_NEXT_SET,
	{{EV_SET, 5, OK, {0}, GET},
	    {EV_GET, 10, OK, {6, PDU_ST_NO_SUCH, 1}, DONE}},
	{{POWER_ERR_NO_COMM, UNK, "noComm", 6},
	    {POWER_ERR_BAD_REPLY, UNK, "no such outlet", PDU_ST_UNREAD},
	    {OK, ON, "", 1}},
	{POWER_ERR_BAD_REPLY, UNK, "outlet 2: no such outlet", -1}},
};

static enum pdu_settle_next
run_step(struct pdu_settle *s, const struct step *st)
{
	switch (st->ev) {
	case EV_SET:
		return (pdu_settle_set_reply(s, st->t, st->err,
		    st->err == OK ? "" : "x"));
	case EV_GET:
		return (pdu_settle_get_reply(s, st->t, st->err,
		    st->err == OK ? "" : "x", st->err == OK ? st->st : NULL));
	case EV_EXPIRE:
		return (pdu_settle_expire(s, st->t));
	}
	return (DONE);
}

static void
check_reply(const char *name, const struct power_reply *r,
    const struct expect *e)
{
	if (r->error != e->err || r->state != e->state ||
	    strcmp(r->detail, e->detail) != 0)
		print_error("%s: got %s/%s/\"%s\", want %s/%s/\"%s\"\n", name,
		    power_error_text(r->error), power_state_name(r->state),
		    r->detail, power_error_text(e->err),
		    power_state_name(e->state), e->detail);
	assert_int_equal(r->error, e->err);
	assert_int_equal(r->state, e->state);
	assert_string_equal(r->detail, e->detail);
}

static void
test_settle_scripts(void **state)
{
	struct pdu_settle s;
	const struct script *sc;
	enum pdu_settle_next next;
	size_t i, k;
	int before;

	for (i = 0; i < nitems(scripts); i++) {
		sc = &scripts[i];
		pdu_settle_init(&s, sc->cmd, sc->outlets, sc->n, 0, T_OUT);
		assert_int_equal(pdu_settle_begin(&s), sc->first);
		next = sc->first;
		for (k = 0; k < MAXS && next != DONE; k++) {
			next = run_step(&s, &sc->steps[k]);
			if (next != sc->steps[k].next)
				print_error("%s: step %zu: next %d, want %d\n",
				    sc->name, k, next, sc->steps[k].next);
			assert_int_equal(next, sc->steps[k].next);
		}
		assert_int_equal(next, DONE);
		assert_true(s.done);
		for (k = 0; k < sc->n; k++) {
			assert_int_equal(s.outlets[k].outlet, sc->outlets[k]);
			assert_int_equal(s.outlets[k].status,
			    sc->out[k].status);
			check_reply(sc->name, &s.outlets[k].reply, &sc->out[k]);
		}
		check_reply(sc->name, &s.overall, &sc->all);

		/* Done is final: nothing moves it any more. */
		before = s.outlets[0].status;
		assert_int_equal(
		    pdu_settle_get_reply(&s, 1, OK, "", (const int[]){5, 5, 5}),
		    DONE);
		assert_int_equal(pdu_settle_expire(&s, T_OUT + 1), DONE);
		assert_int_equal(pdu_settle_abort(&s, POWER_ERR_NETWORK, "y"),
		    DONE);
		assert_int_equal(s.outlets[0].status, before);
		check_reply(sc->name, &s.overall, &sc->all);
		pdu_settle_free(&s);
	}
}

static void
test_settle_edges(void **state)
{
	struct pdu_settle s;

	/* No outlet at all. */
	pdu_settle_init(&s, PDU_CMD_ON, NULL, 0, 0, T_OUT);
	assert_int_equal(pdu_settle_begin(&s), DONE);
	assert_int_equal(s.overall.error, POWER_ERR_CONTROLLER_ERROR);
	assert_string_equal(s.overall.detail, "no outlet");
	pdu_settle_free(&s);

	/* Abort before anything: every outlet says why. */
	pdu_settle_init(&s, PDU_CMD_OFF, (const int[]){3, 4}, 2, 0, T_OUT);
	assert_int_equal(pdu_settle_abort(&s, POWER_ERR_CONTROLLER_ERROR,
			     "bad outlet number 0"),
	    DONE);
	assert_int_equal(s.outlets[1].reply.error, POWER_ERR_CONTROLLER_ERROR);
	assert_string_equal(s.overall.detail, "bad outlet number 0");
	pdu_settle_free(&s);

	/* An answer after the deadline settles what is left at once. */
	pdu_settle_init(&s, PDU_CMD_ON, (const int[]){3}, 1, 1000, 500);
	assert_int_equal(pdu_settle_begin(&s), PDU_NEXT_SET);
	assert_int_equal(pdu_settle_set_reply(&s, 1600, OK, ""), DONE);
	assert_int_equal(s.overall.error, POWER_ERR_TIMEOUT);
	pdu_settle_free(&s);

	/* Names. */
	assert_string_equal(pdu_settle_status_name(3), "onWait");
	assert_string_equal(pdu_settle_status_name(9), "onFuse");
	assert_null(pdu_settle_status_name(10));
	assert_null(pdu_settle_status_name(-1));
}

/* ---------------------------------------------------------------------- */
/* The driver, against a fake agent made of net-snmp's server side. */

#define GUARD_MS 8000
#define NOUT     16
#define SEQMAX   8

static const oid oid_status[] = {1, 3, 6, 1, 4, 1, 1718, 3, 2, 3, 1, 5, 1, 1};
static const oid oid_action[] = {1, 3, 6, 1, 4, 1, 1718, 3, 2, 3, 1, 11, 1, 1};
#define OIDLEN (nitems(oid_status) + 1)

/* An outlet: the statuses its next reads show; the last one stays. */
struct sim_outlet {
	int seq[SEQMAX];
	int n;
	int pos;
	int stuck; /* a SET changes nothing */
};

struct fixture {
	struct event_base *base;
	struct guard guard;

	/* The agent. */
	void *agent;
	struct event *agent_ev;
	int port;
	int silent_fd;
	int silent_port;
	struct sim_outlet out[NOUT + 1];
	int wrong_type;
	int gets, sets;
	long last_action;
	char last_get_community[32];
	char last_set_community[32];

	/* The operation under test. */
	struct pdu_op *op;
	int ncalls;
	struct power_reply overall;
	struct pdu_outlet_reply replies[MAXO];
	size_t nreplies;
	uint64_t t0, t_done;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void
sim_set_seq(struct sim_outlet *o, const int *seq, int n)
{
	memcpy(o->seq, seq, (size_t)n * sizeof *seq);
	o->n = n;
	o->pos = 0;
}

static int
sim_read(struct sim_outlet *o)
{
	int st = o->seq[o->pos];

	if (o->pos < o->n - 1)
		o->pos++;
	return (st);
}

/* The outlet number of name if it is column col of tower 1 infeed 1. */
static int
sim_outlet(const oid *col, const netsnmp_variable_list *v)
{
	if (v->name_length != OIDLEN ||
	    memcmp(v->name, col, sizeof oid_status) != 0 ||
	    v->name[OIDLEN - 1] < 1 || v->name[OIDLEN - 1] > NOUT)
		return (-1);
	return ((int)v->name[OIDLEN - 1]);
}

static void
sim_community(char *buf, size_t len, const netsnmp_pdu *pdu)
{
	size_t n = pdu->community_len < len - 1 ? pdu->community_len : len - 1;

	memcpy(buf, pdu->community, n);
	buf[n] = '\0';
}

/* A GET or SET for the agent: answer as a Sentry3 behind snmpd would. */
static int
agent_cb(int what, netsnmp_session *sess, int reqid, netsnmp_pdu *pdu,
    void *arg)
{
	static const int on[] = {3, 3, 1}, off[] = {2, 0},
			 reboot[] = {1, 0, 3, 1};
	struct fixture *f = arg;
	netsnmp_variable_list *v;
	netsnmp_pdu *resp;
	char community[32];
	long value;
	int o, index = 0;

	if (what != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE)
		return (1);
	sim_community(community, sizeof community, pdu);
	/* snmpd drops a request with an unknown community. */
	if (strcmp(community, "public") != 0 &&
	    strcmp(community, "private") != 0)
		return (1);
	resp = snmp_clone_pdu(pdu);
	assert_non_null(resp);
	resp->command = SNMP_MSG_RESPONSE;
	resp->errstat = SNMP_ERR_NOERROR;
	resp->errindex = 0;
	if (pdu->command == SNMP_MSG_GET) {
		f->gets++;
		strlcpy(f->last_get_community, community,
		    sizeof f->last_get_community);
		for (v = resp->variables; v != NULL; v = v->next_variable) {
			if ((o = sim_outlet(oid_status, v)) == -1)
				snmp_set_var_typed_value(v, SNMP_NOSUCHINSTANCE,
				    NULL, 0);
			else if (f->wrong_type)
				snmp_set_var_typed_value(v, ASN_OCTET_STR, "on",
				    2);
			else {
				value = sim_read(&f->out[o]);
				snmp_set_var_typed_value(v, ASN_INTEGER, &value,
				    sizeof value);
			}
		}
	} else if (pdu->command == SNMP_MSG_SET) {
		f->sets++;
		strlcpy(f->last_set_community, community,
		    sizeof f->last_set_community);
		if (strcmp(community, "private") != 0) {
			resp->errstat = SNMP_ERR_NOACCESS;
			resp->errindex = 1;
		}
		for (v = resp->variables;
		     v != NULL && resp->errstat == SNMP_ERR_NOERROR;
		     v = v->next_variable) {
			index++;
			if ((o = sim_outlet(oid_action, v)) == -1) {
				resp->errstat = SNMP_ERR_NOTWRITABLE;
				resp->errindex = index;
			} else if (v->type != ASN_INTEGER) {
				resp->errstat = SNMP_ERR_WRONGTYPE;
				resp->errindex = index;
			}
		}
		for (v = pdu->variables;
		     v != NULL && resp->errstat == SNMP_ERR_NOERROR;
		     v = v->next_variable) {
			o = sim_outlet(oid_action, v);
			f->last_action = *v->val.integer;
			if (f->out[o].stuck)
				continue;
			if (*v->val.integer == 1)
				sim_set_seq(&f->out[o], on, nitems(on));
			else if (*v->val.integer == 2)
				sim_set_seq(&f->out[o], off, nitems(off));
			else if (*v->val.integer == 3)
				sim_set_seq(&f->out[o], reboot, nitems(reboot));
		}
	}
	if (snmp_sess_send(f->agent, resp) == 0)
		snmp_free_pdu(resp);
	return (1);
}

static void
agent_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fixture *f = arg;
	netsnmp_large_fd_set fds;

	netsnmp_large_fd_set_init(&fds, fd + 1);
	NETSNMP_LARGE_FD_SET(fd, &fds);
	snmp_sess_read2(f->agent, &fds);
	netsnmp_large_fd_set_cleanup(&fds);
}

static int
bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return (ntohs(sin.sin_port));
}

static void
snmp_setup_once(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	/* As the driver does; init_snmp runs once whoever calls it first. */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	setenv("MIBS", "", 1);
	init_snmp("rhubarb-test");
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	netsnmp_session s;
	netsnmp_transport *t;
	struct sockaddr_in sin;
	int i;

	snmp_setup_once();
	f->base = event_base_new();
	assert_non_null(f->base);
	guard_init(&f->guard, f->base);

	t = netsnmp_transport_open_server("rhubarb-test", "udp:127.0.0.1:0");
	assert_non_null(t);
	f->port = bound_port(t->sock);
	snmp_sess_init(&s);
	s.version = SNMP_VERSION_2c;
	s.callback = agent_cb;
	s.callback_magic = f;
	f->agent = snmp_sess_add(&s, t, NULL, NULL);
	assert_non_null(f->agent);
	f->agent_ev =
	    event_new(f->base, t->sock, EV_READ | EV_PERSIST, agent_read_cb, f);
	event_add(f->agent_ev, NULL);
	for (i = 1; i <= NOUT; i++)
		sim_set_seq(&f->out[i], (const int[]){0}, 1);

	/* A UDP port where nobody answers. */
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->silent_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(f->silent_fd >= 0);
	assert_int_equal(
	    bind(f->silent_fd, (struct sockaddr *)&sin, sizeof sin), 0);
	f->silent_port = bound_port(f->silent_fd);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	event_free(f->agent_ev);
	snmp_sess_close(f->agent);
	close(f->silent_fd);
	guard_free(&f->guard);
	event_base_free(f->base);
	free(f);
	return (0);
}

static void
op_cb(const struct power_reply *overall, const struct pdu_outlet_reply *o,
    size_t n, void *arg)
{
	struct fixture *f = arg;

	f->ncalls++;
	f->overall = *overall;
	f->nreplies = n < MAXO ? n : MAXO;
	memcpy(f->replies, o, f->nreplies * sizeof *o);
	f->t_done = now_ms();
	f->op = NULL;
	event_base_loopexit(f->base, NULL);
}

static struct pdu_params
params(struct fixture *f)
{
	struct pdu_params p = {
	    .ip = "127.0.0.1",
	    .port = f->port,
	    .read_community = "public",
	    .write_community = "private",
	    .timeout_ms = 3000,
	    .request_ms = 300,
	    .retries = 1,
	    .poll_ms = 50,
	};

	return (p);
}

/* Start; no callback inside; run until it comes, once. */
static void
op(struct fixture *f, const struct pdu_params *p, const int *outlets, size_t n,
    enum pdu_command cmd)
{
	f->ncalls = 0;
	f->gets = f->sets = 0;
	memset(&f->overall, 0, sizeof f->overall);
	f->t0 = now_ms();
	f->op = pdu_op_start(f->base, p, outlets, n, cmd, op_cb, f);
	assert_non_null(f->op);
	assert_int_equal(f->ncalls, 0);
	guard_run_for(&f->guard, GUARD_MS);
	assert_false(f->guard.fired);
	assert_int_equal(f->ncalls, 1);
	guard_run_for(&f->guard, 50);
	assert_int_equal(f->ncalls, 1);
}

static void
test_driver_status(void **state)
{
	struct fixture *f = *state;
	struct pdu_params p = params(f);

	sim_set_seq(&f->out[2], (const int[]){1}, 1);
	sim_set_seq(&f->out[10], (const int[]){0}, 1);
	op(f, &p, (const int[]){2, 10}, 2, PDU_CMD_STATUS);
	assert_int_equal(f->gets, 1);
	assert_int_equal(f->sets, 0);
	assert_string_equal(f->last_get_community, "public");
	assert_int_equal(f->nreplies, 2);
	assert_int_equal(f->replies[0].outlet, 2);
	assert_int_equal(f->replies[0].reply.error, POWER_ERR_OK);
	assert_int_equal(f->replies[0].reply.state, POWER_STATE_ON);
	assert_int_equal(f->replies[0].status, 1);
	assert_int_equal(f->replies[1].outlet, 10);
	assert_int_equal(f->replies[1].reply.state, POWER_STATE_OFF);
	assert_int_equal(f->overall.error, POWER_ERR_OK);
	assert_int_equal(f->overall.state, POWER_STATE_UNKNOWN);

	/* An outlet the PDU does not have; a value of the wrong type. */
	op(f, &p, (const int[]){2, 17}, 2, PDU_CMD_STATUS);
	assert_int_equal(f->replies[0].reply.error, POWER_ERR_OK);
	assert_int_equal(f->replies[1].reply.error, POWER_ERR_BAD_REPLY);
	assert_string_equal(f->replies[1].reply.detail, "no such outlet");
	assert_int_equal(f->overall.error, POWER_ERR_BAD_REPLY);
	f->wrong_type = 1;
	op(f, &p, (const int[]){2}, 1, PDU_CMD_STATUS);
	f->wrong_type = 0;
	assert_int_equal(f->overall.error, POWER_ERR_BAD_REPLY);
	assert_string_equal(f->overall.detail,
	    "outletStatus is not an INTEGER");

	/* A community the agent does not know: dropped, so a timeout. */
	p.read_community = "nobody";
	op(f, &p, (const int[]){2}, 1, PDU_CMD_STATUS);
	assert_int_equal(f->overall.error, POWER_ERR_CONNECT_TIMEOUT);
}

static void
test_driver_control(void **state)
{
	struct fixture *f = *state;
	struct pdu_params p = params(f);

	/* On: one SET (write community), reads through onWait to on. */
	op(f, &p, (const int[]){3, 11}, 2, PDU_CMD_ON);
	assert_int_equal(f->sets, 1);
	assert_int_equal(f->last_action, 1);
	assert_string_equal(f->last_set_community, "private");
	assert_string_equal(f->last_get_community, "public");
	assert_int_equal(f->gets, 3);
	assert_int_equal(f->overall.error, POWER_ERR_OK);
	assert_int_equal(f->overall.state, POWER_STATE_ON);
	assert_int_equal(f->replies[1].outlet, 11);
	assert_int_equal(f->replies[1].status, 1);
	/* Polled every poll_ms, not faster. */
	assert_true(f->t_done - f->t0 >= 2 * 50);

	/* Off. */
	op(f, &p, (const int[]){3}, 1, PDU_CMD_OFF);
	assert_int_equal(f->last_action, 2);
	assert_int_equal(f->overall.error, POWER_ERR_OK);
	assert_int_equal(f->overall.state, POWER_STATE_OFF);

	/* Reboot: the first read still shows on; done when on again. */
	op(f, &p, (const int[]){3}, 1, PDU_CMD_REBOOT);
	assert_int_equal(f->last_action, 3);
	assert_int_equal(f->gets, 4);
	assert_int_equal(f->overall.error, POWER_ERR_OK);
	assert_int_equal(f->overall.state, POWER_STATE_ON);
}

static void
test_driver_failures(void **state)
{
	struct fixture *f = *state;
	struct pdu_params p = params(f);
	uint64_t took;

	/* Stuck outlet: keeps reading until the deadline. */
	f->out[5].stuck = 1;
	p.timeout_ms = 600;
	op(f, &p, (const int[]){5}, 1, PDU_CMD_ON);
	took = f->t_done - f->t0;
	assert_int_equal(f->overall.error, POWER_ERR_TIMEOUT);
	assert_int_equal(f->overall.state, POWER_STATE_OFF);
	assert_string_equal(f->overall.detail, "outlet stuck off");
	assert_true(f->gets >= 5);
	assert_true(took >= 590 && took < 2000);
	f->out[5].stuck = 0;

	/* An outlet that reports an error. */
	p.timeout_ms = 3000;
	f->out[6].stuck = 1;
	sim_set_seq(&f->out[6], (const int[]){5}, 1);
	op(f, &p, (const int[]){6}, 1, PDU_CMD_ON);
	assert_int_equal(f->overall.error, POWER_ERR_OUTLET_ERROR);
	assert_string_equal(f->overall.detail, "onError");
	sim_set_seq(&f->out[6], (const int[]){6}, 1);
	op(f, &p, (const int[]){6}, 1, PDU_CMD_OFF);
	assert_int_equal(f->overall.error, POWER_ERR_NO_COMM);

	/* The read community cannot write. */
	p.write_community = "public";
	op(f, &p, (const int[]){7}, 1, PDU_CMD_OFF);
	assert_int_equal(f->overall.error, POWER_ERR_CONTROLLER_ERROR);
	assert_string_equal(f->overall.detail,
	    "SNMP noAccess: check the write community");
	assert_int_equal(f->gets, 0);

	/* An outlet without outletControlAction. */
	p.write_community = "private";
	op(f, &p, (const int[]){7, 40}, 2, PDU_CMD_OFF);
	assert_int_equal(f->overall.error, POWER_ERR_CONTROLLER_ERROR);
	assert_string_equal(f->overall.detail, "SNMP notWritable (outlet 40)");
}

/* Nothing answers: retries, then CONNECT_TIMEOUT, not at the first RESEND. */
static void
test_driver_silent(void **state)
{
	struct fixture *f = *state;
	struct pdu_params p = params(f);
	uint64_t took;

	p.port = f->silent_port;
	p.request_ms = 100;
	p.retries = 2;
	p.timeout_ms = 5000;
	op(f, &p, (const int[]){1}, 1, PDU_CMD_STATUS);
	took = f->t_done - f->t0;
	assert_int_equal(f->overall.error, POWER_ERR_CONNECT_TIMEOUT);
	assert_int_equal(f->overall.state, POWER_STATE_UNKNOWN);
	assert_true(took >= 290 && took < 1000);

	op(f, &p, (const int[]){1, 2}, 2, PDU_CMD_ON);
	took = f->t_done - f->t0;
	assert_int_equal(f->overall.error, POWER_ERR_CONNECT_TIMEOUT);
	assert_int_equal(f->replies[1].reply.error, POWER_ERR_CONNECT_TIMEOUT);
	assert_true(took >= 290 && took < 1000);

	/* The whole-operation deadline ends it sooner. */
	p.request_ms = 1000;
	p.timeout_ms = 250;
	op(f, &p, (const int[]){1}, 1, PDU_CMD_OFF);
	took = f->t_done - f->t0;
	assert_int_equal(f->overall.error, POWER_ERR_CONNECT_TIMEOUT);
	assert_true(took >= 240 && took < 900);
}

static void
test_driver_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct pdu_params p = params(f);
	static const struct {
		const char *ip;
		const char *wcomm;
		int outlet;
		size_t n;
		enum pdu_command cmd;
		const char *detail;
	} cases[] = {
	    {"pdu1", "private", 1, 1, PDU_CMD_ON,
		"not a numeric address: \"pdu1\""},
	    {"127.0.0.1", "private", 0, 1, PDU_CMD_ON, "bad outlet number 0"},
	    {"127.0.0.1", "private", 1, 0, PDU_CMD_STATUS, "no outlet"},
	    {"127.0.0.1", "private", 1, 100, PDU_CMD_STATUS,
		"more than 64 outlets"},
	    {"127.0.0.1", NULL, 1, 1, PDU_CMD_REBOOT, "no write community"},
	    {"127.0.0.1", "private", 1, 1, (enum pdu_command)42,
		"unknown command"},
	};
	int outlets[100];
	size_t i;

	for (i = 0; i < nitems(outlets); i++)
		outlets[i] = 1;
	for (i = 0; i < nitems(cases); i++) {
		p.ip = cases[i].ip;
		p.write_community = cases[i].wcomm;
		outlets[0] = cases[i].outlet;
		op(f, &p, outlets, cases[i].n, cases[i].cmd);
		assert_int_equal(f->overall.error, POWER_ERR_CONTROLLER_ERROR);
		assert_string_equal(f->overall.detail, cases[i].detail);
		assert_int_equal(f->gets + f->sets, 0);
	}
}

static void
test_driver_cancel(void **state)
{
	struct fixture *f = *state;
	struct pdu_params p = params(f);
	struct pdu_params silent = params(f);
	int o = 4;

	silent.port = f->silent_port;
	f->ncalls = 0;
	/* At once, before the loop ran. */
	pdu_op_cancel(pdu_op_start(f->base, &p, &o, 1, PDU_CMD_ON, op_cb, f));
	pdu_op_cancel(
	    pdu_op_start(f->base, &silent, &o, 1, PDU_CMD_ON, op_cb, f));
	o = 0;
	pdu_op_cancel(pdu_op_start(f->base, &p, &o, 1, PDU_CMD_ON, op_cb, f));
	pdu_op_cancel(NULL);
	guard_run_for(&f->guard, 300);
	assert_int_equal(f->ncalls, 0);

	/* In flight, waiting for an answer that never comes. */
	o = 4;
	f->op = pdu_op_start(f->base, &silent, &o, 1, PDU_CMD_ON, op_cb, f);
	guard_run_for(&f->guard, 150);
	pdu_op_cancel(f->op);
	guard_run_for(&f->guard, 800);
	assert_int_equal(f->ncalls, 0);

	/* While settling, between reads. */
	f->out[8].stuck = 1;
	o = 8;
	f->gets = 0;
	f->op = pdu_op_start(f->base, &p, &o, 1, PDU_CMD_ON, op_cb, f);
	guard_run_for(&f->guard, 200);
	assert_true(f->gets >= 2);
	pdu_op_cancel(f->op);
	guard_run_for(&f->guard, 300);
	assert_int_equal(f->ncalls, 0);
}

/* Many operations at once on one loop, each to its own fate. */
static int many_calls;

static void
many_cb(const struct power_reply *overall, const struct pdu_outlet_reply *o,
    size_t n, void *arg)
{
	int *ok = arg;

	*ok = overall->error == POWER_ERR_OK && n == 1 &&
	    overall->state == POWER_STATE_ON;
	many_calls++;
}

static void
test_driver_many(void **state)
{
	struct fixture *f = *state;
	struct pdu_params p = params(f);
	int ok[NOUT], outlet[NOUT];
	size_t i;

	many_calls = 0;
	for (i = 0; i < NOUT; i++) {
		ok[i] = -1;
		outlet[i] = (int)i + 1;
		assert_non_null(pdu_op_start(f->base, &p, &outlet[i], 1,
		    PDU_CMD_ON, many_cb, &ok[i]));
	}
	for (i = 0; i < 100 && many_calls < NOUT; i++)
		guard_run_for(&f->guard, 50);
	assert_int_equal(many_calls, NOUT);
	for (i = 0; i < NOUT; i++)
		assert_int_equal(ok[i], 1);
	assert_int_equal(f->sets, NOUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_settle_scripts),
	    cmocka_unit_test(test_settle_edges),
	    cmocka_unit_test_setup_teardown(test_driver_status, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_driver_control, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_driver_failures, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_driver_silent, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_driver_bad_arguments, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_driver_cancel, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_driver_many, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
