/*
 * ServerTech Sentry3 PDUs over SNMP v2c, on the event loop. Two parts:
 *
 * 1. pdu_settle_*: the decisions (drivers/pdu-settle.h), pure functions
 *    of the answers and of a time passed in, so that tests drive them
 *    with a fake clock.
 *
 * 2. pdu_op_*: the glue to net-snmp's single-session API, one session
 *    (one UDP socket) per operation (notes/power.md 5.3). Each request is
 *    sent with snmp_sess_async_send; a persistent read event on the
 *    session's socket calls snmp_sess_read2, and one timer, re-armed after
 *    every send, read and timeout from snmp_sess_select_info2_flags(...,
 *    NETSNMP_SELECT_NOALARMS), calls snmp_sess_timeout, which retransmits
 *    or times the request out. The session's community is the read one;
 *    the SET carries the write community in its own PDU.
 *
 * net-snmp calls the request's callback from inside snmp_sess_read2,
 * snmp_sess_timeout and snmp_sess_close: with RECEIVED_MESSAGE, TIMED_OUT
 * or SEND_FAILED when the request ends, and with RESEND on every
 * retransmission, which is not an end. The callback only records the
 * answer; the next step is taken after net-snmp has returned, and the
 * session is closed (and the user called) from a deferred event, never
 * from inside net-snmp.
 *
 * The library is set up once per process before the first session: no
 * configuration files, no persistent state, no MIB modules (MIBS is empty
 * while init_snmp runs; Debian lacks the non-free MIBs and would print an
 * error per module), and its log goes to ours, never to the terminal.
 */
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "drivers/pdu-sentry3.h"
#include "drivers/pdu-settle.h"

/* ---------------------------------------------------------------------- */
/* 1. The decisions. */

static void pdu_settle_set(struct pdu_settle *, size_t, enum power_error,
    const char *, ...) printflike(4, 5);
static enum pdu_settle_next pdu_settle_finish(struct pdu_settle *,
    enum power_error, const char *);
static enum pdu_settle_next pdu_settle_no_answer(struct pdu_settle *,
    enum power_error, const char *);
static enum power_state pdu_settle_state(int);
static int pdu_settle_failure(struct pdu_settle *, size_t, int);
static void pdu_settle_outlet(struct pdu_settle *, size_t, int);

static const char *const pdu_status_names[] = {
    [PDU_ST_OFF] = "off",
    [PDU_ST_ON] = "on",
    [PDU_ST_OFF_WAIT] = "offWait",
    [PDU_ST_ON_WAIT] = "onWait",
    [PDU_ST_OFF_ERROR] = "offError",
    [PDU_ST_ON_ERROR] = "onError",
    [PDU_ST_NO_COMM] = "noComm",
    [PDU_ST_READING] = "reading",
    [PDU_ST_OFF_FUSE] = "offFuse",
    [PDU_ST_ON_FUSE] = "onFuse",
};

/* The overall reply is the worst outlet's: the first of these present. */
static const enum power_error pdu_error_rank[] = {
    POWER_ERR_CONNECT_TIMEOUT,
    POWER_ERR_CONNECT_REFUSED,
    POWER_ERR_NETWORK,
    POWER_ERR_CREDENTIALS,
    POWER_ERR_CONTROLLER_ERROR,
    POWER_ERR_BAD_REPLY,
    POWER_ERR_NO_COMM,
    POWER_ERR_OUTLET_ERROR,
    POWER_ERR_TIMEOUT,
    POWER_ERR_SESSION_TIMEOUT,
    POWER_ERR_BUSY,
    POWER_ERR_USERNAME_INVALID,
    POWER_ERR_PASSWORD_INVALID,
    POWER_ERR_PRIVILEGE,
    POWER_ERR_CANCELLED,
};

const char *
pdu_settle_status_name(int status)
{
	if (status < 0 || (size_t)status >= nitems(pdu_status_names))
		return (NULL);
	return (pdu_status_names[status]);
}

void
pdu_settle_init(struct pdu_settle *s, enum pdu_command cmd, const int *outlets,
    size_t n, uint64_t now_ms, unsigned timeout_ms)
{
	size_t i;

	memset(s, 0, sizeof *s);
	s->cmd = cmd;
	s->n = n;
	s->outlets = xcalloc(n > 0 ? n : 1, sizeof *s->outlets);
	s->settled = xcalloc(n > 0 ? n : 1, 1);
	s->left_on = xcalloc(n > 0 ? n : 1, 1);
	for (i = 0; i < n; i++) {
		s->outlets[i].outlet = outlets[i];
		s->outlets[i].reply.error = POWER_ERR_OK;
		s->outlets[i].reply.state = POWER_STATE_UNKNOWN;
		s->outlets[i].status = PDU_ST_UNREAD;
	}
	s->deadline_ms = now_ms + timeout_ms;
	s->overall.error = POWER_ERR_OK;
	s->overall.state = POWER_STATE_UNKNOWN;
}

void
pdu_settle_free(struct pdu_settle *s)
{
	free(s->outlets);
	free(s->settled);
	free(s->left_on);
	s->outlets = NULL;
	s->settled = NULL;
	s->left_on = NULL;
}

static void
pdu_settle_set(struct pdu_settle *s, size_t i, enum power_error error,
    const char *fmt, ...)
{
	struct power_reply *r = &s->outlets[i].reply;
	va_list ap;

	r->error = error;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof r->detail, fmt, ap);
	va_end(ap);
}

/* Close: settle every outlet left with error, compute the overall reply. */
static enum pdu_settle_next
pdu_settle_finish(struct pdu_settle *s, enum power_error error,
    const char *detail)
{
	struct power_reply *o = &s->overall;
	enum power_state state = POWER_STATE_UNKNOWN;
	size_t i, k, worst = s->n;
	int same = 1;

	for (i = 0; i < s->n; i++) {
		if (s->settled[i])
			continue;
		s->settled[i] = 1;
		pdu_settle_set(s, i, error, "%s", detail);
	}
	for (k = 0; k < nitems(pdu_error_rank) && worst == s->n; k++) {
		for (i = 0; i < s->n; i++) {
			if (s->outlets[i].reply.error == pdu_error_rank[k]) {
				worst = i;
				break;
			}
		}
	}
	for (i = 0; i < s->n; i++) {
		if (i == 0)
			state = s->outlets[i].reply.state;
		else if (s->outlets[i].reply.state != state)
			same = 0;
	}
	o->state = same ? state : POWER_STATE_UNKNOWN;
	o->detail[0] = '\0';
	if (worst < s->n) {
		o->error = s->outlets[worst].reply.error;
		/* Name the outlet unless they all say the same. */
		for (i = 0; i < s->n; i++) {
			if (s->outlets[i].reply.error != o->error ||
			    strcmp(s->outlets[i].reply.detail,
				s->outlets[worst].reply.detail) != 0)
				break;
		}
		if (i == s->n)
			strlcpy(o->detail, s->outlets[worst].reply.detail,
			    sizeof o->detail);
		else
			snprintf(o->detail, sizeof o->detail,
			    "outlet %d: %.140s", s->outlets[worst].outlet,
			    s->outlets[worst].reply.detail);
	} else {
		o->error = s->n > 0 ? POWER_ERR_OK : error;
		if (s->n == 0)
			strlcpy(o->detail, detail, sizeof o->detail);
		else if (!same)
			strlcpy(o->detail, "outlets disagree",
			    sizeof o->detail);
	}
	s->done = 1;
	return (PDU_NEXT_DONE);
}

enum pdu_settle_next
pdu_settle_abort(struct pdu_settle *s, enum power_error error,
    const char *detail)
{
	if (s->done)
		return (PDU_NEXT_DONE);
	return (pdu_settle_finish(s, error, detail));
}

enum pdu_settle_next
pdu_settle_begin(struct pdu_settle *s)
{
	if (s->done)
		return (PDU_NEXT_DONE);
	if (s->n == 0)
		return (pdu_settle_finish(s, POWER_ERR_CONTROLLER_ERROR,
		    "no outlet"));
	if (s->cmd == PDU_CMD_STATUS)
		return (PDU_NEXT_GET);
	s->set_sent = 1;
	return (PDU_NEXT_SET);
}

/* A request got no answer, or could not be sent. */
static enum pdu_settle_next
pdu_settle_no_answer(struct pdu_settle *s, enum power_error error,
    const char *detail)
{
	if (error == POWER_ERR_TIMEOUT) {
		if (!s->answered)
			return (pdu_settle_finish(s, POWER_ERR_CONNECT_TIMEOUT,
			    "no answer"));
		return (pdu_settle_finish(s, POWER_ERR_TIMEOUT,
		    detail != NULL && *detail != '\0' ? detail : "no answer"));
	}
	return (pdu_settle_finish(s, error, detail != NULL ? detail : ""));
}

enum pdu_settle_next
pdu_settle_set_reply(struct pdu_settle *s, uint64_t now_ms,
    enum power_error error, const char *detail)
{
	if (s->done)
		return (PDU_NEXT_DONE);
	if (error == POWER_ERR_TIMEOUT || error == POWER_ERR_NETWORK)
		return (pdu_settle_no_answer(s, error, detail));
	s->answered = 1;
	if (error != POWER_ERR_OK)
		return (pdu_settle_finish(s, error, detail));
	if (now_ms >= s->deadline_ms)
		return (pdu_settle_expire(s, now_ms));
	/* Accepted: read back at once (a fast PDU has already acted). */
	return (PDU_NEXT_GET);
}

/* The state the PDU reports with a status, as far as it says. */
static enum power_state
pdu_settle_state(int status)
{
	switch (status) {
	case PDU_ST_OFF:
	case PDU_ST_ON_WAIT:  /* off, to be switched on */
	case PDU_ST_OFF_FUSE: /* off: its fuse blew */
		return (POWER_STATE_OFF);
	case PDU_ST_ON:
	case PDU_ST_OFF_WAIT: /* on, to be switched off */
	case PDU_ST_ON_FUSE:
		return (POWER_STATE_ON);
	}
	return (POWER_STATE_UNKNOWN);
}

/*
 * A failure whatever the target, or -1 when status is ordinary. Sets the
 * outlet's reply and settles it.
 */
static int
pdu_settle_failure(struct pdu_settle *s, size_t i, int status)
{
	switch (status) {
	case PDU_ST_OFF_ERROR:
	case PDU_ST_ON_ERROR:
	case PDU_ST_OFF_FUSE:
	case PDU_ST_ON_FUSE:
		pdu_settle_set(s, i, POWER_ERR_OUTLET_ERROR, "%s",
		    pdu_status_names[status]);
		break;
	case PDU_ST_NO_COMM:
		pdu_settle_set(s, i, POWER_ERR_NO_COMM, "noComm");
		break;
	case PDU_ST_NO_SUCH:
		pdu_settle_set(s, i, POWER_ERR_BAD_REPLY, "no such outlet");
		break;
	case PDU_ST_BAD_TYPE:
		pdu_settle_set(s, i, POWER_ERR_BAD_REPLY,
		    "outletStatus is not an INTEGER");
		break;
	case PDU_ST_BAD_VALUE:
		pdu_settle_set(s, i, POWER_ERR_BAD_REPLY,
		    "outletStatus out of range");
		break;
	case PDU_ST_OFF:
	case PDU_ST_ON:
	case PDU_ST_OFF_WAIT:
	case PDU_ST_ON_WAIT:
	case PDU_ST_READING:
		return (-1);
	default:
		pdu_settle_set(s, i, POWER_ERR_BAD_REPLY,
		    "outletStatus %d is not a Sentry3 value", status);
		break;
	}
	/* The replies' status is -1 when there is no value (pdu-sentry3.h). */
	if (status < 0)
		s->outlets[i].status = PDU_ST_UNREAD;
	s->settled[i] = 1;
	return (0);
}

/* One outlet's new status: settle it or leave it pending. */
static void
pdu_settle_outlet(struct pdu_settle *s, size_t i, int status)
{
	struct pdu_outlet_reply *o = &s->outlets[i];

	o->status = status;
	o->reply.state = pdu_settle_state(status);
	o->reply.detail[0] = '\0';
	if (pdu_settle_failure(s, i, status) == 0)
		return;
	switch (s->cmd) {
	case PDU_CMD_STATUS:
		if (status == PDU_ST_READING)
			pdu_settle_set(s, i, POWER_ERR_BUSY, "reading");
		else if (status == PDU_ST_OFF_WAIT || status == PDU_ST_ON_WAIT)
			pdu_settle_set(s, i, POWER_ERR_OK, "%s",
			    pdu_status_names[status]);
		s->settled[i] = 1;
		break;
	case PDU_CMD_ON:
		if (status == PDU_ST_ON)
			s->settled[i] = 1;
		break;
	case PDU_CMD_OFF:
		if (status == PDU_ST_OFF)
			s->settled[i] = 1;
		break;
	case PDU_CMD_REBOOT:
		/* Done when on again after having been seen going off. */
		if (status != PDU_ST_ON)
			s->left_on[i] = 1;
		else if (s->left_on[i])
			s->settled[i] = 1;
		break;
	}
}

enum pdu_settle_next
pdu_settle_get_reply(struct pdu_settle *s, uint64_t now_ms,
    enum power_error error, const char *detail, const int *status)
{
	size_t i;

	if (s->done)
		return (PDU_NEXT_DONE);
	if (error == POWER_ERR_TIMEOUT && s->answered &&
	    s->cmd != PDU_CMD_STATUS) {
		/* It answered before: try again at the next poll. */
		if (now_ms >= s->deadline_ms)
			return (pdu_settle_expire(s, now_ms));
		return (PDU_NEXT_WAIT);
	}
	if (error == POWER_ERR_TIMEOUT || error == POWER_ERR_NETWORK)
		return (pdu_settle_no_answer(s, error, detail));
	s->answered = 1;
	if (error != POWER_ERR_OK || status == NULL)
		return (pdu_settle_finish(s,
		    error != POWER_ERR_OK ? error : POWER_ERR_BAD_REPLY,
		    detail != NULL ? detail : ""));
	for (i = 0; i < s->n; i++) {
		if (!s->settled[i])
			pdu_settle_outlet(s, i, status[i]);
	}
	for (i = 0; i < s->n; i++) {
		if (!s->settled[i])
			break;
	}
	if (i == s->n)
		return (pdu_settle_finish(s, POWER_ERR_OK, ""));
	if (now_ms >= s->deadline_ms)
		return (pdu_settle_expire(s, now_ms));
	return (PDU_NEXT_WAIT);
}

enum pdu_settle_next
pdu_settle_expire(struct pdu_settle *s, uint64_t now_ms)
{
	struct pdu_outlet_reply *o;
	const char *name;
	size_t i;

	if (s->done)
		return (PDU_NEXT_DONE);
	if (!s->answered)
		return (pdu_settle_finish(s, POWER_ERR_CONNECT_TIMEOUT,
		    "no answer"));
	/* Say for each outlet left where it is stuck. */
	for (i = 0; i < s->n; i++) {
		if (s->settled[i])
			continue;
		o = &s->outlets[i];
		s->settled[i] = 1;
		name = pdu_settle_status_name(o->status);
		if (o->status == PDU_ST_UNREAD)
			pdu_settle_set(s, i, POWER_ERR_TIMEOUT,
			    "status never read");
		else if (s->cmd == PDU_CMD_REBOOT && !s->left_on[i])
			pdu_settle_set(s, i, POWER_ERR_TIMEOUT,
			    "outlet stuck on (reboot not seen)");
		else if (o->status == PDU_ST_OFF || o->status == PDU_ST_ON)
			pdu_settle_set(s, i, POWER_ERR_TIMEOUT,
			    "outlet stuck %s", name);
		else
			pdu_settle_set(s, i, POWER_ERR_TIMEOUT,
			    "outlet still %s", name != NULL ? name : "?");
	}
	return (pdu_settle_finish(s, POWER_ERR_TIMEOUT, ""));
}

/* ---------------------------------------------------------------------- */
/* 2. net-snmp on the event loop. */

#define PDU_PORT_DEFAULT       161
#define PDU_TIMEOUT_MS_DEFAULT 20000
#define PDU_REQUEST_MS_DEFAULT 1000
#define PDU_RETRIES_DEFAULT    2
#define PDU_POLL_MS_DEFAULT    500
#define PDU_OUTLET_MAX         128 /* outletIndex; the MIB says 0..16 */
#define PDU_OUTLETS_MAX        64  /* varbinds in one request */

/* Sentry3 outletTable columns, tower 1 (A), infeed 1: .T.I.O = .1.1.N */
static const oid pdu_oid_status[] = {1, 3, 6, 1, 4, 1, 1718, 3, 2, 3, 1, 5, 1,
    1};
static const oid pdu_oid_action[] = {1, 3, 6, 1, 4, 1, 1718, 3, 2, 3, 1, 11, 1,
    1};
#define PDU_OID_LEN (nitems(pdu_oid_status) + 1)

/* outletControlAction values. */
enum pdu_action {
	PDU_ACTION_ON = 1,
	PDU_ACTION_OFF = 2,
	PDU_ACTION_REBOOT = 3,
};

struct pdu_op {
	struct event_base *base;
	char *ip;
	int port;
	char *read_community;
	char *write_community;
	unsigned timeout_ms;
	unsigned request_ms;
	unsigned retries;
	unsigned poll_ms;

	void *sess; /* net-snmp single session */
	struct event *read_ev;
	struct event *snmp_ev;     /* net-snmp's retransmit/timeout */
	struct event *poll_ev;     /* between status reads */
	struct event *deadline_ev; /* the whole operation */
	struct event *done_ev;     /* deferred completion */

	struct pdu_settle settle;

	/* The request in flight and, once it ended, its answer. */
	int reqid;
	int req_is_set;
	unsigned resends;
	int have_answer;
	enum power_error ans_error;
	char ans_detail[128];
	int *ans_status; /* n */

	int closing; /* snmp_sess_close is calling back: ignore */
	int finished;
	int in_callback;
	pdu_cb cb;
	void *arg;
};

static int pdu_snmp_ready;

static uint64_t pdu_now_ms(void);
static void pdu_ms_to_tv(unsigned, struct timeval *);
static int pdu_snmp_log(int, int, void *, void *);
static void pdu_snmp_init(void);
static int pdu_snmp_cb(int, netsnmp_session *, int, netsnmp_pdu *, void *);
static const char *pdu_errstat_name(long);
static void pdu_op_answer(struct pdu_op *, enum power_error, const char *, ...)
    printflike(3, 4);
static void pdu_op_parse(struct pdu_op *, const netsnmp_pdu *);
static void pdu_op_process(struct pdu_op *);
static void pdu_op_rearm(struct pdu_op *);
static void pdu_op_send(struct pdu_op *, int);
static void pdu_op_act(struct pdu_op *, enum pdu_settle_next);
static void pdu_op_read_cb(evutil_socket_t, short, void *);
static void pdu_op_snmp_timer_cb(evutil_socket_t, short, void *);
static void pdu_op_poll_cb(evutil_socket_t, short, void *);
static void pdu_op_deadline_cb(evutil_socket_t, short, void *);
static void pdu_op_done_cb(evutil_socket_t, short, void *);
static void pdu_op_free(struct pdu_op *);
static const char *pdu_op_check(const struct pdu_params *, const int *, size_t,
    enum pdu_command, char *, size_t);

static uint64_t
pdu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void
pdu_ms_to_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/* net-snmp's log lines, into ours. */
static int
pdu_snmp_log(int major, int minor, void *serverarg, void *clientarg)
{
	struct snmp_log_message *m = serverarg;
	size_t len;
	char line[256];

	if (m == NULL || m->msg == NULL)
		return (0);
	strlcpy(line, m->msg, sizeof line);
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (m->priority <= LOG_ERR)
		log_warn("net-snmp: %s", line);
	else
		log_debug("net-snmp: %s", line);
	return (0);
}

/* Once per process, before the first session. */
static void
pdu_snmp_init(void)
{
	char *mibs;
	const char *old;

	if (pdu_snmp_ready)
		return;
	pdu_snmp_ready = 1;
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING,
	    pdu_snmp_log, NULL);
	netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);

	/* No MIB modules: MIBS is empty while init_snmp reads it only. */
	old = getenv("MIBS");
	mibs = old != NULL ? xstrdup(old) : NULL;
	setenv("MIBS", "", 1);
	init_snmp("rhubarb");
	if (mibs != NULL) {
		setenv("MIBS", mibs, 1);
		free(mibs);
	} else
		unsetenv("MIBS");
}

/* Re-arm the retransmit timer from what net-snmp waits for. */
static void
pdu_op_rearm(struct pdu_op *op)
{
	netsnmp_large_fd_set fds;
	struct timeval tv;
	int nfds = 0, block = 1;

	if (op->sess == NULL || op->finished) {
		evtimer_del(op->snmp_ev);
		return;
	}
	netsnmp_large_fd_set_init(&fds, FD_SETSIZE);
	timerclear(&tv);
	snmp_sess_select_info2_flags(op->sess, &nfds, &fds, &tv, &block,
	    NETSNMP_SELECT_NOALARMS);
	netsnmp_large_fd_set_cleanup(&fds);
	if (block == 0)
		evtimer_add(op->snmp_ev, &tv);
	else
		evtimer_del(op->snmp_ev);
}

static const char *
pdu_errstat_name(long errstat)
{
	static const char *const names[] = {"noError", "tooBig", "noSuchName",
	    "badValue", "readOnly", "genErr", "noAccess", "wrongType",
	    "wrongLength", "wrongEncoding", "wrongValue", "noCreation",
	    "inconsistentValue", "resourceUnavailable", "commitFailed",
	    "undoFailed", "authorizationError", "notWritable",
	    "inconsistentName"};

	if (errstat < 0 || (size_t)errstat >= nitems(names))
		return ("unknown error");
	return (names[errstat]);
}

static void
pdu_op_answer(struct pdu_op *op, enum power_error error, const char *fmt, ...)
{
	va_list ap;

	op->have_answer = 1;
	op->ans_error = error;
	va_start(ap, fmt);
	vsnprintf(op->ans_detail, sizeof op->ans_detail, fmt, ap);
	va_end(ap);
}

/* A response PDU, into an answer for the settle machine. */
static void
pdu_op_parse(struct pdu_op *op, const netsnmp_pdu *pdu)
{
	const netsnmp_variable_list *v;
	oid want[PDU_OID_LEN];
	size_t i, n = op->settle.n;
	enum power_error error;

	if (pdu->errstat != SNMP_ERR_NOERROR) {
		switch (pdu->errstat) {
		case SNMP_ERR_NOACCESS:
		case SNMP_ERR_AUTHORIZATIONERROR:
		case SNMP_ERR_READONLY:
			/* What snmpd says to a read-only community. */
			pdu_op_answer(op, POWER_ERR_CONTROLLER_ERROR,
			    "SNMP %s: check the write community",
			    pdu_errstat_name(pdu->errstat));
			return;
		}
		/* errindex names the varbind, so the outlet, at fault. */
		error = POWER_ERR_CONTROLLER_ERROR;
		if (pdu->errstat == SNMP_ERR_NOSUCHNAME ||
		    pdu->errstat == SNMP_ERR_WRONGTYPE)
			error = POWER_ERR_BAD_REPLY;
		if (pdu->errindex >= 1 && (size_t)pdu->errindex <= n)
			pdu_op_answer(op, error, "SNMP %s (outlet %d)",
			    pdu_errstat_name(pdu->errstat),
			    op->settle.outlets[pdu->errindex - 1].outlet);
		else
			pdu_op_answer(op, error, "SNMP %s",
			    pdu_errstat_name(pdu->errstat));
		return;
	}
	if (op->req_is_set) {
		pdu_op_answer(op, POWER_ERR_OK, "%s", "");
		return;
	}
	/* One INTEGER per outlet, in the order asked. */
	memcpy(want, pdu_oid_status, sizeof pdu_oid_status);
	v = pdu->variables;
	for (i = 0; i < n; i++, v = v->next_variable) {
		if (v == NULL) {
			pdu_op_answer(op, POWER_ERR_BAD_REPLY,
			    "%zu values for %zu outlets", i, n);
			return;
		}
		want[PDU_OID_LEN - 1] = (oid)op->settle.outlets[i].outlet;
		if (snmp_oid_compare(v->name, v->name_length, want,
			PDU_OID_LEN) != 0) {
			pdu_op_answer(op, POWER_ERR_BAD_REPLY,
			    "unexpected OID in the reply");
			return;
		}
		switch (v->type) {
		case ASN_INTEGER:
			if (*v->val.integer < 0 || *v->val.integer > INT_MAX)
				op->ans_status[i] = PDU_ST_BAD_VALUE;
			else
				op->ans_status[i] = (int)*v->val.integer;
			break;
		case SNMP_NOSUCHOBJECT:
		case SNMP_NOSUCHINSTANCE:
		case SNMP_ENDOFMIBVIEW:
			op->ans_status[i] = PDU_ST_NO_SUCH;
			break;
		default:
			op->ans_status[i] = PDU_ST_BAD_TYPE;
			break;
		}
	}
	pdu_op_answer(op, POWER_ERR_OK, "%s", "");
}

/*
 * net-snmp's callback for our requests. Only records: the caller (read,
 * timeout) acts on the answer once net-snmp has returned.
 */
static int
pdu_snmp_cb(int what, netsnmp_session *sess, int reqid, netsnmp_pdu *pdu,
    void *arg)
{
	struct pdu_op *op = arg;

	if (op->closing || op->reqid == 0)
		return (1);
	switch (what) {
	case NETSNMP_CALLBACK_OP_RESEND:
		/* Not an end. Follow the id should a resend change it. */
		op->reqid = reqid;
		op->resends++;
		log_debug("pdu %s: request %d resent (%u)", op->ip, reqid,
		    op->resends);
		return (1);
	case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
		pdu_op_parse(op, pdu);
		break;
	case NETSNMP_CALLBACK_OP_TIMED_OUT:
		pdu_op_answer(op, POWER_ERR_TIMEOUT, "no answer to %s",
		    op->req_is_set ? "the SET" : "a status read");
		break;
	case NETSNMP_CALLBACK_OP_SEND_FAILED:
		pdu_op_answer(op, POWER_ERR_NETWORK, "cannot send");
		break;
	case NETSNMP_CALLBACK_OP_SEC_ERROR:
		pdu_op_answer(op, POWER_ERR_CONTROLLER_ERROR,
		    "SNMP security error");
		break;
	default:
		return (1);
	}
	op->reqid = 0;
	return (1);
}

/* Act on the answer the callback recorded, if any. */
static void
pdu_op_process(struct pdu_op *op)
{
	enum pdu_settle_next next;
	uint64_t now = pdu_now_ms();

	if (!op->have_answer || op->finished) {
		pdu_op_rearm(op);
		return;
	}
	op->have_answer = 0;
	if (op->req_is_set)
		next = pdu_settle_set_reply(&op->settle, now, op->ans_error,
		    op->ans_detail);
	else
		next = pdu_settle_get_reply(&op->settle, now, op->ans_error,
		    op->ans_detail, op->ans_status);
	pdu_op_act(op, next);
	pdu_op_rearm(op);
}

static void
pdu_op_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pdu_op *op = arg;
	netsnmp_large_fd_set fds;

	netsnmp_large_fd_set_init(&fds, fd + 1);
	NETSNMP_LARGE_FD_SET(fd, &fds);
	snmp_sess_read2(op->sess, &fds);
	netsnmp_large_fd_set_cleanup(&fds);
	pdu_op_process(op);
}

static void
pdu_op_snmp_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pdu_op *op = arg;

	snmp_sess_timeout(op->sess);
	pdu_op_process(op);
}

static void
pdu_op_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	pdu_op_act(arg, PDU_NEXT_GET);
	pdu_op_rearm(arg);
}

static void
pdu_op_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pdu_op *op = arg;

	pdu_op_act(op, pdu_settle_expire(&op->settle, pdu_now_ms()));
}

/* Send the SET (is_set) or the GET of every outlet. */
static void
pdu_op_send(struct pdu_op *op, int is_set)
{
	netsnmp_pdu *pdu;
	oid name[PDU_OID_LEN];
	const char *community;
	long action;
	size_t i;
	int reqid;

	pdu = snmp_pdu_create(is_set ? SNMP_MSG_SET : SNMP_MSG_GET);
	if (pdu == NULL) {
		pdu_op_answer(op, POWER_ERR_NETWORK, "cannot build a PDU");
		goto failed;
	}
	community = is_set ? op->write_community : op->read_community;
	pdu->community = (u_char *)xstrdup(community);
	pdu->community_len = strlen(community);
	switch (op->settle.cmd) {
	case PDU_CMD_ON:
		action = PDU_ACTION_ON;
		break;
	case PDU_CMD_OFF:
		action = PDU_ACTION_OFF;
		break;
	default:
		action = PDU_ACTION_REBOOT;
		break;
	}
	memcpy(name, is_set ? pdu_oid_action : pdu_oid_status,
	    sizeof pdu_oid_status);
	for (i = 0; i < op->settle.n; i++) {
		name[PDU_OID_LEN - 1] = (oid)op->settle.outlets[i].outlet;
		if (is_set)
			snmp_pdu_add_variable(pdu, name, PDU_OID_LEN,
			    ASN_INTEGER, &action, sizeof action);
		else
			snmp_add_null_var(pdu, name, PDU_OID_LEN);
	}
	op->req_is_set = is_set;
	reqid = snmp_sess_async_send(op->sess, pdu, pdu_snmp_cb, op);
	if (reqid == 0) {
		snmp_free_pdu(pdu);
		pdu_op_answer(op, POWER_ERR_NETWORK, "cannot send");
		goto failed;
	}
	op->reqid = reqid;
	log_debug("pdu %s:%d: %s of %zu outlets (request %d)", op->ip, op->port,
	    is_set ? "SET" : "GET", op->settle.n, reqid);
	return;

failed:
	/* As if net-snmp had said so; process it now (we are not in it). */
	op->req_is_set = is_set;
	pdu_op_process(op);
}

/* Take the step the settle machine asks for. */
static void
pdu_op_act(struct pdu_op *op, enum pdu_settle_next next)
{
	struct timeval tv;

	if (op->finished)
		return;
	switch (next) {
	case PDU_NEXT_SET:
		pdu_op_send(op, 1);
		break;
	case PDU_NEXT_GET:
		pdu_op_send(op, 0);
		break;
	case PDU_NEXT_WAIT:
		pdu_ms_to_tv(op->poll_ms, &tv);
		evtimer_add(op->poll_ev, &tv);
		break;
	case PDU_NEXT_DONE:
		op->finished = 1;
		evtimer_del(op->poll_ev);
		evtimer_del(op->deadline_ev);
		evtimer_del(op->snmp_ev);
		if (op->read_ev != NULL)
			event_del(op->read_ev);
		event_active(op->done_ev, EV_TIMEOUT, 1);
		log_debug("pdu %s:%d: %s%s%s", op->ip, op->port,
		    power_error_text(op->settle.overall.error),
		    op->settle.overall.detail[0] != '\0' ? ": " : "",
		    op->settle.overall.detail);
		break;
	}
}

/* Deferred completion: close the session, call the user, free. */
static void
pdu_op_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pdu_op *op = arg;

	if (op->sess != NULL) {
		op->closing = 1;
		snmp_sess_close(op->sess);
		op->sess = NULL;
	}
	if (op->cb != NULL) {
		op->in_callback = 1;
		op->cb(&op->settle.overall, op->settle.outlets, op->settle.n,
		    op->arg);
		op->in_callback = 0;
	}
	pdu_op_free(op);
}

static void
pdu_op_free(struct pdu_op *op)
{
	if (op->sess != NULL) {
		op->closing = 1;
		snmp_sess_close(op->sess);
	}
	if (op->read_ev != NULL)
		event_free(op->read_ev);
	event_free(op->snmp_ev);
	event_free(op->poll_ev);
	event_free(op->deadline_ev);
	event_free(op->done_ev);
	pdu_settle_free(&op->settle);
	free(op->ans_status);
	free(op->ip);
	free(op->read_community);
	free(op->write_community);
	free(op);
}

/* Check the arguments: NULL if fine, otherwise why not. */
static const char *
pdu_op_check(const struct pdu_params *p, const int *outlets, size_t n,
    enum pdu_command cmd, char *buf, size_t len)
{
	struct in6_addr a6;
	struct in_addr a4;
	size_t i;

	if (p->ip == NULL ||
	    (inet_pton(AF_INET, p->ip, &a4) != 1 &&
		inet_pton(AF_INET6, p->ip, &a6) != 1)) {
		snprintf(buf, len, "not a numeric address: \"%.64s\"",
		    p->ip != NULL ? p->ip : "");
		return (buf);
	}
	if (p->port < 0 || p->port > 65535) {
		snprintf(buf, len, "bad port %d", p->port);
		return (buf);
	}
	if (p->read_community == NULL || *p->read_community == '\0')
		return ("no read community");
	if (cmd != PDU_CMD_STATUS &&
	    (p->write_community == NULL || *p->write_community == '\0'))
		return ("no write community");
	if (cmd != PDU_CMD_STATUS && cmd != PDU_CMD_ON && cmd != PDU_CMD_OFF &&
	    cmd != PDU_CMD_REBOOT)
		return ("unknown command");
	if (n == 0 || outlets == NULL)
		return ("no outlet");
	if (n > PDU_OUTLETS_MAX) {
		snprintf(buf, len, "more than %d outlets", PDU_OUTLETS_MAX);
		return (buf);
	}
	for (i = 0; i < n; i++) {
		if (outlets[i] < 1 || outlets[i] > PDU_OUTLET_MAX) {
			snprintf(buf, len, "bad outlet number %d", outlets[i]);
			return (buf);
		}
	}
	return (NULL);
}

struct pdu_op *
pdu_op_start(struct event_base *base, const struct pdu_params *p,
    const int *outlets, size_t noutlets, enum pdu_command cmd, pdu_cb cb,
    void *arg)
{
	struct pdu_op *op;
	netsnmp_session s;
	netsnmp_transport *t;
	struct timeval tv;
	const char *why;
	char buf[128], *peer = NULL, *err = NULL;
	int sys_errno = 0, snmp_errno_ = 0;

	op = xcalloc(1, sizeof *op);
	op->base = base;
	op->cb = cb;
	op->arg = arg;
	op->ip = xstrdup(p->ip != NULL ? p->ip : "");
	op->port = p->port != 0 ? p->port : PDU_PORT_DEFAULT;
	op->read_community =
	    xstrdup(p->read_community != NULL ? p->read_community : "");
	op->write_community =
	    xstrdup(p->write_community != NULL ? p->write_community : "");
	op->timeout_ms =
	    p->timeout_ms != 0 ? p->timeout_ms : PDU_TIMEOUT_MS_DEFAULT;
	op->request_ms =
	    p->request_ms != 0 ? p->request_ms : PDU_REQUEST_MS_DEFAULT;
	op->retries = p->retries != 0 ? p->retries : PDU_RETRIES_DEFAULT;
	op->poll_ms = p->poll_ms != 0 ? p->poll_ms : PDU_POLL_MS_DEFAULT;

	/* libevent fails these only when out of memory: fatal, as xmalloc. */
	op->snmp_ev = evtimer_new(base, pdu_op_snmp_timer_cb, op);
	op->poll_ev = evtimer_new(base, pdu_op_poll_cb, op);
	op->deadline_ev = evtimer_new(base, pdu_op_deadline_cb, op);
	op->done_ev = event_new(base, -1, 0, pdu_op_done_cb, op);
	if (op->snmp_ev == NULL || op->poll_ev == NULL ||
	    op->deadline_ev == NULL || op->done_ev == NULL)
		abort();

	pdu_settle_init(&op->settle, cmd, outlets,
	    outlets != NULL ? noutlets : 0, pdu_now_ms(), op->timeout_ms);
	op->ans_status = xcalloc(noutlets > 0 ? noutlets : 1, sizeof(int));

	/* Bad arguments are replies too, delivered like any other. */
	if ((why = pdu_op_check(p, outlets, noutlets, cmd, buf, sizeof buf)) !=
	    NULL) {
		pdu_op_act(op,
		    pdu_settle_abort(&op->settle, POWER_ERR_CONTROLLER_ERROR,
			why));
		return (op);
	}

	pdu_snmp_init();
	snmp_sess_init(&s);
	if (strchr(op->ip, ':') != NULL)
		xasprintf(&peer, "udp6:[%s]:%d", op->ip, op->port);
	else
		xasprintf(&peer, "udp:%s:%d", op->ip, op->port);
	s.peername = peer;
	s.version = SNMP_VERSION_2c;
	s.community = (u_char *)op->read_community;
	s.community_len = strlen(op->read_community);
	s.timeout = (long)op->request_ms * 1000;
	s.retries = (int)op->retries;
	op->sess = snmp_sess_open(&s);
	free(peer);
	if (op->sess == NULL) {
		snmp_error(&s, &sys_errno, &snmp_errno_, &err);
		pdu_op_act(op,
		    pdu_settle_abort(&op->settle, POWER_ERR_NETWORK,
			err != NULL ? err : "cannot open an SNMP session"));
		free(err);
		return (op);
	}
	t = snmp_sess_transport(op->sess);
	op->read_ev =
	    event_new(base, t->sock, EV_READ | EV_PERSIST, pdu_op_read_cb, op);
	if (op->read_ev == NULL)
		abort();
	event_add(op->read_ev, NULL);

	pdu_ms_to_tv(op->timeout_ms, &tv);
	evtimer_add(op->deadline_ev, &tv);
	pdu_op_act(op, pdu_settle_begin(&op->settle));
	pdu_op_rearm(op);
	return (op);
}

void
pdu_op_cancel(struct pdu_op *op)
{
	if (op == NULL)
		return;
	op->cb = NULL;
	/* From inside its own callback: pdu_op_done_cb frees it after. */
	if (!op->in_callback)
		pdu_op_free(op);
}
