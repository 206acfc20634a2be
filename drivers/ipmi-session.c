/*
 * One IPMI 2.0 (RMCP+) power operation as a state machine fed with
 * datagrams and time (see ipmi-session.h), built on libfreeipmi's packet
 * functions: fill_* and assemble_* to build, unassemble_* and the check
 * functions to accept an answer. What ipmipower does per host
 * (ipmipower_powercmd.c), with the protocol kept apart from the I/O:
 *
 *   Get Channel Authentication Capabilities (IPMI 1.5 packet, no session)
 *   Open Session Request/Response (with the privilege we want)
 *   RAKP 1/2 (user name; we check the BMC knows the password)
 *   RAKP 3/4 (we prove we know it; we check the session integrity key)
 *   Set Session Privilege Level
 *   Get Chassis Status, or Chassis Control
 *   Close Session (best effort, awaited IPMI_CLOSE_WAIT_MS at most)
 *
 * Each state is named after the answer it waits for. One request is out
 * at a time; a request is sent again when its answer is late, with a
 * stepped backoff; Chassis Control only every control_retransmit_ms, since
 * a BMC executes every copy it receives (notes/power.md 4.5). A resent
 * request keeps its requester sequence number (rq_seq), so that a BMC may
 * recognise the copy and so that an answer to any copy is taken; its
 * session sequence number is new, as a BMC's replay window wants. Session
 * setup messages get a new message tag per copy instead, because a BMC
 * starts over on each copy: only the answer to the last one is good.
 *
 * Whatever happens, the operation ends by the whole deadline (timeout_ms):
 * "connection timeout" when nothing valid ever came back, "session
 * timeout" otherwise. The typed outcomes (username invalid, password
 * invalid, privilege refused, busy...) are decided by what the BMC said.
 * Datagrams that are not the awaited answer are ignored and counted.
 *
 * The session keeps a copy of the password and the session keys; both are
 * wiped when it is freed. Details never contain them.
 */
#include <sys/random.h>

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <freeipmi/freeipmi.h>

#include "common/xmalloc.h"
#include "drivers/ipmi-session.h"

/* What the session waits for. */
enum ipmi_wait {
	IPMI_WAIT_AUTH_CAPS,
	IPMI_WAIT_OPEN_SESSION,
	IPMI_WAIT_RAKP2,
	IPMI_WAIT_RAKP4,
	IPMI_WAIT_PRIVILEGE,
	IPMI_WAIT_STATUS,
	IPMI_WAIT_CONTROL,
	IPMI_WAIT_CLOSE,
	IPMI_WAIT_NOTHING, /* done */
};

static const struct {
	const char *name;    /* ipmi_session_waiting() */
	const char *request; /* for details: what was sent */
} ipmi_waits[] = {
    [IPMI_WAIT_AUTH_CAPS] = {"auth-caps",
	"Get Channel Authentication Capabilities"},
    [IPMI_WAIT_OPEN_SESSION] = {"open-session", "Open Session Request"},
    [IPMI_WAIT_RAKP2] = {"rakp2", "RAKP 1"},
    [IPMI_WAIT_RAKP4] = {"rakp4", "RAKP 3"},
    [IPMI_WAIT_PRIVILEGE] = {"privilege", "Set Session Privilege Level"},
    [IPMI_WAIT_STATUS] = {"status", "Get Chassis Status"},
    [IPMI_WAIT_CONTROL] = {"control", "Chassis Control"},
    [IPMI_WAIT_CLOSE] = {"close", "Close Session"},
    [IPMI_WAIT_NOTHING] = {"done", "nothing"},
};

/* libfreeipmi's keys are at most 32 bytes (SHA-256); room to spare. */
#define IPMI_KEY_MAX 64

/* The header and trailer objects, reused for every packet. */
struct ipmi_objs {
	fiid_obj_t rmcp;
	fiid_obj_t lan_session;
	fiid_obj_t msg_rq;
	fiid_obj_t msg_rs;
	fiid_obj_t msg_trlr;
	fiid_obj_t rp_session;
	fiid_obj_t rp_payload;
	fiid_obj_t rp_trlr;
};

struct ipmi_session {
	enum ipmi_command cmd;
	enum ipmi_wait wait;

	/* Parameters, defaults applied. */
	char user[IPMI_MAX_USER_NAME_LENGTH + 1];
	size_t user_len;
	char password[IPMI_2_0_MAX_PASSWORD_LENGTH + 1];
	size_t password_len;
	int cipher;
	uint8_t auth_alg;
	uint8_t integ_alg;
	uint8_t conf_alg;
	uint8_t privilege;      /* IPMI_PRIVILEGE_LEVEL_* */
	uint8_t open_privilege; /* asked in the Open Session Request */
	unsigned timeout_ms;
	unsigned retransmit_ms;
	unsigned control_ms;

	/* Time. */
	uint64_t deadline;  /* of the whole operation */
	uint64_t last_send; /* of the current request */
	uint64_t close_by;  /* end of the wait for the Close Session answer */

	/* Counters. */
	unsigned tries;   /* copies of the current request sent */
	unsigned sent;    /* datagrams sent */
	unsigned control; /* Chassis Control requests sent */
	unsigned ignored; /* datagrams that were not the awaited answer */
	int answered;     /* a valid answer came back */
	int sock_errno;   /* last error the socket reported */

	/* Protocol. */
	uint8_t rq_seq;
	uint8_t msg_tag;
	uint32_t out_seq; /* our session sequence number */
	uint32_t rc_sid;  /* remote console (our) session id */
	uint32_t ms_sid;  /* managed system (BMC) session id */
	uint8_t rc_random[IPMI_REMOTE_CONSOLE_RANDOM_NUMBER_LENGTH];
	uint8_t ms_random[IPMI_MANAGED_SYSTEM_RANDOM_NUMBER_LENGTH];
	uint8_t ms_guid[IPMI_MANAGED_SYSTEM_GUID_LENGTH];
	uint8_t sik[IPMI_KEY_MAX];
	uint8_t k1[IPMI_KEY_MAX];
	uint8_t k2[IPMI_KEY_MAX];
	void *sik_ptr;
	void *k1_ptr;
	void *k2_ptr;
	unsigned sik_len;
	unsigned k1_len;
	unsigned k2_len;
	uint32_t highest_seq; /* the BMC's, for the sliding window */
	uint32_t seq_list;
	int established; /* RAKP 4 checked: a session to close */

	struct ipmi_objs o;

	/* The datagram to send. */
	uint8_t out[IPMI_SESSION_DATAGRAM_MAX];
	size_t out_len;

	int have_result;
	struct power_reply reply;
};

static int ipmi_send(struct ipmi_session *, uint64_t, int);
static void ipmi_end(struct ipmi_session *, uint64_t);
static void ipmi_result(struct ipmi_session *, enum power_error,
    enum power_state, const char *, ...) printflike(4, 5);

static fiid_obj_t
ipmi_obj_new(fiid_template_t tmpl)
{
	fiid_obj_t obj;

	/* Only allocation can fail here: as fatal as in xmalloc. */
	if ((obj = fiid_obj_create(tmpl)) == NULL)
		abort();
	return (obj);
}

static void
ipmi_objs_new(struct ipmi_objs *o)
{
	o->rmcp = ipmi_obj_new(tmpl_rmcp_hdr);
	o->lan_session = ipmi_obj_new(tmpl_lan_session_hdr);
	o->msg_rq = ipmi_obj_new(tmpl_lan_msg_hdr_rq);
	o->msg_rs = ipmi_obj_new(tmpl_lan_msg_hdr_rs);
	o->msg_trlr = ipmi_obj_new(tmpl_lan_msg_trlr);
	o->rp_session = ipmi_obj_new(tmpl_rmcpplus_session_hdr);
	o->rp_payload = ipmi_obj_new(tmpl_rmcpplus_payload);
	o->rp_trlr = ipmi_obj_new(tmpl_rmcpplus_session_trlr);
}

static void
ipmi_objs_free(struct ipmi_objs *o)
{
	fiid_obj_destroy(o->rmcp);
	fiid_obj_destroy(o->lan_session);
	fiid_obj_destroy(o->msg_rq);
	fiid_obj_destroy(o->msg_rs);
	fiid_obj_destroy(o->msg_trlr);
	fiid_obj_destroy(o->rp_session);
	fiid_obj_destroy(o->rp_payload);
	fiid_obj_destroy(o->rp_trlr);
}

static void
ipmi_random(void *buf, size_t len)
{
	if (getrandom(buf, len, GRND_NONBLOCK) == (ssize_t)len)
		return;
	/* Early boot, or no getrandom: libfreeipmi reads /dev/urandom. */
	if (ipmi_get_random(buf, len) < 0)
		abort();
}

static const char *
ipmi_privilege_name(uint8_t level)
{
	switch (level) {
	case IPMI_PRIVILEGE_LEVEL_USER:
		return ("user");
	case IPMI_PRIVILEGE_LEVEL_OPERATOR:
		return ("operator");
	case IPMI_PRIVILEGE_LEVEL_ADMIN:
		return ("admin");
	case IPMI_PRIVILEGE_LEVEL_CALLBACK:
		return ("callback");
	}
	return ("none");
}

/* The first result wins: a later one (a timeout while closing) is dropped. */
static void
ipmi_result(struct ipmi_session *s, enum power_error error,
    enum power_state state, const char *fmt, ...)
{
	va_list ap;

	if (s->have_result)
		return;
	s->have_result = 1;
	s->reply.error = error;
	s->reply.state = state;
	va_start(ap, fmt);
	vsnprintf(s->reply.detail, sizeof s->reply.detail, fmt, ap);
	va_end(ap);
}

/* A result and the end: Close Session if a session is up. */
#define ipmi_fail(s, now, error, ...)                                          \
	do {                                                                   \
		ipmi_result((s), (error), POWER_STATE_UNKNOWN, __VA_ARGS__);   \
		ipmi_end((s), (now));                                          \
	} while (0)

/* --- building requests ------------------------------------------------ */

/* An IPMI 1.5 request outside a session. */
static int
ipmi_build_lan(struct ipmi_session *s, uint8_t net_fn, fiid_obj_t cmd)
{
	int len;

	if (fill_rmcp_hdr_ipmi(s->o.rmcp) < 0 ||
	    fill_lan_session_hdr(IPMI_AUTHENTICATION_TYPE_NONE, 0, 0,
		s->o.lan_session) < 0 ||
	    fill_lan_msg_hdr(IPMI_SLAVE_ADDRESS_BMC, net_fn,
		IPMI_BMC_IPMB_LUN_BMC, s->rq_seq, s->o.msg_rq) < 0)
		return (-1);
	len = assemble_ipmi_lan_pkt(s->o.rmcp, s->o.lan_session, s->o.msg_rq,
	    cmd, NULL, 0, s->out, sizeof s->out, IPMI_INTERFACE_FLAGS_DEFAULT);
	if (len <= 0)
		return (-1);
	s->out_len = len;
	return (0);
}

/* An RMCP+ session setup message (Open Session Request, RAKP 1, RAKP 3). */
static int
ipmi_build_setup(struct ipmi_session *s, uint8_t payload_type, fiid_obj_t cmd)
{
	int len;

	/* The message header is not sent, but must be a valid object. */
	if (fill_rmcp_hdr_ipmi(s->o.rmcp) < 0 ||
	    fill_rmcpplus_session_hdr(payload_type,
		IPMI_PAYLOAD_FLAG_UNAUTHENTICATED,
		IPMI_PAYLOAD_FLAG_UNENCRYPTED, 0, 0, 0, 0,
		s->o.rp_session) < 0 ||
	    fill_lan_msg_hdr(IPMI_SLAVE_ADDRESS_BMC, IPMI_NET_FN_APP_RQ,
		IPMI_BMC_IPMB_LUN_BMC, s->rq_seq, s->o.msg_rq) < 0 ||
	    fill_rmcpplus_session_trlr(s->o.rp_trlr) < 0)
		return (-1);
	len =
	    assemble_ipmi_rmcpplus_pkt(IPMI_AUTHENTICATION_ALGORITHM_RAKP_NONE,
		IPMI_INTEGRITY_ALGORITHM_NONE,
		IPMI_CONFIDENTIALITY_ALGORITHM_NONE, NULL, 0, NULL, 0, NULL, 0,
		s->o.rmcp, s->o.rp_session, s->o.msg_rq, cmd, s->o.rp_trlr,
		s->out, sizeof s->out, IPMI_INTERFACE_FLAGS_DEFAULT);
	if (len <= 0)
		return (-1);
	s->out_len = len;
	return (0);
}

/* An IPMI message inside the session: signed and encrypted as agreed. */
static int
ipmi_build_session(struct ipmi_session *s, uint8_t net_fn, fiid_obj_t cmd)
{
	int len;

	/* Sequence number 0 is not used in a session. */
	if (++s->out_seq == 0)
		s->out_seq = 1;
	if (fill_rmcp_hdr_ipmi(s->o.rmcp) < 0 ||
	    fill_rmcpplus_session_hdr(IPMI_PAYLOAD_TYPE_IPMI,
		s->integ_alg != IPMI_INTEGRITY_ALGORITHM_NONE
		    ? IPMI_PAYLOAD_FLAG_AUTHENTICATED
		    : IPMI_PAYLOAD_FLAG_UNAUTHENTICATED,
		s->conf_alg != IPMI_CONFIDENTIALITY_ALGORITHM_NONE
		    ? IPMI_PAYLOAD_FLAG_ENCRYPTED
		    : IPMI_PAYLOAD_FLAG_UNENCRYPTED,
		0, 0, s->ms_sid, s->out_seq, s->o.rp_session) < 0 ||
	    fill_lan_msg_hdr(IPMI_SLAVE_ADDRESS_BMC, net_fn,
		IPMI_BMC_IPMB_LUN_BMC, s->rq_seq, s->o.msg_rq) < 0 ||
	    fill_rmcpplus_session_trlr(s->o.rp_trlr) < 0)
		return (-1);
	len = assemble_ipmi_rmcpplus_pkt(s->auth_alg, s->integ_alg, s->conf_alg,
	    s->k1_ptr, s->k1_len, s->k2_ptr, s->k2_len, s->password,
	    s->password_len, s->o.rmcp, s->o.rp_session, s->o.msg_rq, cmd,
	    s->o.rp_trlr, s->out, sizeof s->out, IPMI_INTERFACE_FLAGS_DEFAULT);
	if (len <= 0)
		return (-1);
	s->out_len = len;
	return (0);
}

static uint8_t
ipmi_chassis_control_code(enum ipmi_command cmd)
{
	switch (cmd) {
	case IPMI_CMD_ON:
		return (IPMI_CHASSIS_CONTROL_POWER_UP);
	case IPMI_CMD_OFF:
		return (IPMI_CHASSIS_CONTROL_POWER_DOWN);
	case IPMI_CMD_CYCLE:
		return (IPMI_CHASSIS_CONTROL_POWER_CYCLE);
	case IPMI_CMD_RESET:
		return (IPMI_CHASSIS_CONTROL_HARD_RESET);
	case IPMI_CMD_SOFT:
		return (IPMI_CHASSIS_CONTROL_INITIATE_SOFT_SHUTDOWN);
	case IPMI_CMD_STATUS:
		break;
	}
	abort();
}

/* Build the request of the current state into s->out. */
static int
ipmi_build(struct ipmi_session *s)
{
	uint8_t code[IPMI_KEY_MAX];
	fiid_obj_t cmd;
	int r = -1, len;

	switch (s->wait) {
	case IPMI_WAIT_AUTH_CAPS:
		cmd = ipmi_obj_new(
		    tmpl_cmd_get_channel_authentication_capabilities_rq);
		if (fill_cmd_get_channel_authentication_capabilities(
			IPMI_CHANNEL_NUMBER_CURRENT_CHANNEL, s->privilege,
			IPMI_GET_IPMI_V20_EXTENDED_DATA, cmd) == 0)
			r = ipmi_build_lan(s, IPMI_NET_FN_APP_RQ, cmd);
		break;
	case IPMI_WAIT_OPEN_SESSION:
		cmd = ipmi_obj_new(tmpl_rmcpplus_open_session_request);
		if (fill_rmcpplus_open_session(++s->msg_tag, s->open_privilege,
			s->rc_sid, s->auth_alg, s->integ_alg, s->conf_alg,
			cmd) == 0)
			r = ipmi_build_setup(s,
			    IPMI_PAYLOAD_TYPE_RMCPPLUS_OPEN_SESSION_REQUEST,
			    cmd);
		break;
	case IPMI_WAIT_RAKP2:
		cmd = ipmi_obj_new(tmpl_rmcpplus_rakp_message_1);
		if (fill_rmcpplus_rakp_message_1(++s->msg_tag, s->ms_sid,
			s->rc_random, sizeof s->rc_random, s->privilege,
			IPMI_NAME_ONLY_LOOKUP, s->user_len ? s->user : NULL,
			s->user_len, cmd) == 0)
			r = ipmi_build_setup(s,
			    IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_1, cmd);
		break;
	case IPMI_WAIT_RAKP4:
		cmd = ipmi_obj_new(tmpl_rmcpplus_rakp_message_3);
		len = ipmi_calculate_rakp_3_key_exchange_authentication_code(
		    s->auth_alg, s->password_len ? s->password : NULL,
		    s->password_len, s->ms_random, sizeof s->ms_random,
		    s->rc_sid, IPMI_NAME_ONLY_LOOKUP, s->privilege,
		    s->user_len ? s->user : NULL, s->user_len, code,
		    sizeof code);
		if (len >= 0 &&
		    fill_rmcpplus_rakp_message_3(++s->msg_tag,
			RMCPPLUS_STATUS_NO_ERRORS, s->ms_sid, len ? code : NULL,
			len, cmd) == 0)
			r = ipmi_build_setup(s,
			    IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_3, cmd);
		explicit_bzero(code, sizeof code);
		break;
	case IPMI_WAIT_PRIVILEGE:
		cmd = ipmi_obj_new(tmpl_cmd_set_session_privilege_level_rq);
		if (fill_cmd_set_session_privilege_level(s->privilege, cmd) ==
		    0)
			r = ipmi_build_session(s, IPMI_NET_FN_APP_RQ, cmd);
		break;
	case IPMI_WAIT_STATUS:
		cmd = ipmi_obj_new(tmpl_cmd_get_chassis_status_rq);
		if (fill_cmd_get_chassis_status(cmd) == 0)
			r = ipmi_build_session(s, IPMI_NET_FN_CHASSIS_RQ, cmd);
		break;
	case IPMI_WAIT_CONTROL:
		cmd = ipmi_obj_new(tmpl_cmd_chassis_control_rq);
		if (fill_cmd_chassis_control(ipmi_chassis_control_code(s->cmd),
			cmd) == 0)
			r = ipmi_build_session(s, IPMI_NET_FN_CHASSIS_RQ, cmd);
		break;
	case IPMI_WAIT_CLOSE:
		cmd = ipmi_obj_new(tmpl_cmd_close_session_rq);
		if (fill_cmd_close_session(s->ms_sid, NULL, cmd) == 0)
			r = ipmi_build_session(s, IPMI_NET_FN_APP_RQ, cmd);
		break;
	case IPMI_WAIT_NOTHING:
	default:
		abort();
	}
	fiid_obj_destroy(cmd);
	return (r);
}

/*
 * Send the current state's request (again if retransmit). 0, or -1 when
 * it cannot be built (then the result is set; the caller ends).
 */
static int
ipmi_send(struct ipmi_session *s, uint64_t now, int retransmit)
{
	if (!retransmit) {
		s->rq_seq = (s->rq_seq + 1) %
		    (IPMI_LAN_REQUESTER_SEQUENCE_NUMBER_MAX + 1);
		s->tries = 0;
	}
	if (ipmi_build(s) != 0) {
		ipmi_result(s, POWER_ERR_CONTROLLER_ERROR, POWER_STATE_UNKNOWN,
		    "cannot build %s: %s", ipmi_waits[s->wait].request,
		    strerror(errno));
		s->out_len = 0;
		return (-1);
	}
	s->last_send = now;
	s->tries++;
	s->sent++;
	if (s->wait == IPMI_WAIT_CONTROL)
		s->control++;
	return (0);
}

/* Move to the state waiting for wait, sending its request. */
static void
ipmi_goto(struct ipmi_session *s, enum ipmi_wait wait, uint64_t now)
{
	s->wait = wait;
	if (ipmi_send(s, now, 0) != 0)
		ipmi_end(s, now);
}

/* The result is known: close the session if there is one, and finish. */
static void
ipmi_end(struct ipmi_session *s, uint64_t now)
{
	if (s->established && s->wait != IPMI_WAIT_CLOSE &&
	    s->wait != IPMI_WAIT_NOTHING) {
		s->wait = IPMI_WAIT_CLOSE;
		s->close_by = now + IPMI_CLOSE_WAIT_MS;
		if (s->close_by > s->deadline)
			s->close_by = s->deadline;
		if (ipmi_send(s, now, 0) == 0)
			return;
	}
	s->wait = IPMI_WAIT_NOTHING;
}

/* --- accepting answers ------------------------------------------------ */

static uint64_t
ipmi_get(fiid_obj_t obj, const char *field)
{
	uint64_t val;

	if (fiid_obj_get(obj, field, &val) != 1)
		return (0);
	return (val);
}

/* Whether pkt is an IPMI 2.0 packet whose payload type and flags are t. */
static int
ipmi_rmcpplus_header_is(const uint8_t *pkt, size_t len, uint8_t t,
    int authenticated, int encrypted)
{
	/* RMCP header (4), authentication type, payload type and flags. */
	if (len < 16 || ipmi_is_ipmi_2_0_packet(pkt, len) != 1)
		return (0);
	return ((pkt[5] & 0x3f) == t && !!(pkt[5] & 0x40) == authenticated &&
	    !!(pkt[5] & 0x80) == encrypted);
}

/* The answer to our IPMI 1.5 request? 1 if so, with cmd filled. */
static int
ipmi_accept_lan(struct ipmi_session *s, const void *pkt, size_t len,
    uint8_t net_fn, uint8_t code, fiid_obj_t cmd)
{
	if (len < 16 || ipmi_is_ipmi_1_5_packet(pkt, len) != 1)
		return (0);
	if (unassemble_ipmi_lan_pkt(pkt, len, s->o.rmcp, s->o.lan_session,
		s->o.msg_rs, cmd, s->o.msg_trlr,
		IPMI_INTERFACE_FLAGS_DEFAULT) != 1)
		return (0);
	if (ipmi_get(s->o.lan_session, "session_id") != 0 ||
	    ipmi_lan_check_checksum(s->o.msg_rs, cmd, s->o.msg_trlr) != 1 ||
	    ipmi_lan_check_net_fn(s->o.msg_rs, net_fn) != 1 ||
	    ipmi_check_cmd(cmd, code) != 1 ||
	    ipmi_lan_check_rq_seq(s->o.msg_rs, s->rq_seq) != 1 ||
	    fiid_obj_packet_sufficient(cmd) != 1)
		return (0);
	return (1);
}

/* The answer to our session setup message? 1 if so, with cmd filled. */
static int
ipmi_accept_setup(struct ipmi_session *s, const void *pkt, size_t len,
    uint8_t payload_type, fiid_obj_t cmd)
{
	if (!ipmi_rmcpplus_header_is(pkt, len, payload_type, 0, 0))
		return (0);
	if (unassemble_ipmi_rmcpplus_pkt(
		IPMI_AUTHENTICATION_ALGORITHM_RAKP_NONE,
		IPMI_INTEGRITY_ALGORITHM_NONE,
		IPMI_CONFIDENTIALITY_ALGORITHM_NONE, NULL, 0, NULL, 0, pkt, len,
		s->o.rmcp, s->o.rp_session, s->o.rp_payload, s->o.msg_rs, cmd,
		s->o.msg_trlr, s->o.rp_trlr, IPMI_INTERFACE_FLAGS_DEFAULT) != 1)
		return (0);
	if (ipmi_rmcpplus_check_payload_type(s->o.rp_session, payload_type) !=
		1 ||
	    ipmi_rmcpplus_check_message_tag(cmd, s->msg_tag) != 1 ||
	    fiid_obj_packet_sufficient(cmd) != 1)
		return (0);
	/* A refusal may be short; a success must be whole and ours. */
	if (ipmi_get(cmd, "rmcpplus_status_code") != RMCPPLUS_STATUS_NO_ERRORS)
		return (1);
	if (fiid_obj_packet_valid(cmd) != 1 ||
	    ipmi_rmcpplus_check_remote_console_session_id(cmd, s->rc_sid) != 1)
		return (0);
	return (1);
}

/* The answer to our request in the session? 1 if so, with cmd filled. */
static int
ipmi_accept_session(struct ipmi_session *s, const void *pkt, size_t len,
    uint8_t net_fn, uint8_t code, fiid_obj_t cmd)
{
	int authenticated = s->integ_alg != IPMI_INTEGRITY_ALGORITHM_NONE;
	int encrypted = s->conf_alg != IPMI_CONFIDENTIALITY_ALGORITHM_NONE;

	if (!ipmi_rmcpplus_header_is(pkt, len, IPMI_PAYLOAD_TYPE_IPMI,
		authenticated, encrypted))
		return (0);
	if (unassemble_ipmi_rmcpplus_pkt(s->auth_alg, s->integ_alg, s->conf_alg,
		s->k1_ptr, s->k1_len, s->k2_ptr, s->k2_len, pkt, len, s->o.rmcp,
		s->o.rp_session, s->o.rp_payload, s->o.msg_rs, cmd,
		s->o.msg_trlr, s->o.rp_trlr, IPMI_INTERFACE_FLAGS_DEFAULT) != 1)
		return (0);
	if (ipmi_rmcpplus_check_payload_type(s->o.rp_session,
		IPMI_PAYLOAD_TYPE_IPMI) != 1 ||
	    ipmi_rmcpplus_check_payload_pad(s->conf_alg, s->o.rp_payload) != 1)
		return (0);
	if (authenticated &&
	    (ipmi_rmcpplus_check_integrity_pad(s->o.rp_trlr) != 1 ||
		ipmi_rmcpplus_check_packet_session_authentication_code(
		    s->integ_alg, pkt, len, s->k1_ptr, s->k1_len, s->password,
		    s->password_len, s->o.rp_trlr) != 1))
		return (0);
	if (ipmi_lan_check_checksum(s->o.msg_rs, cmd, s->o.msg_trlr) != 1 ||
	    ipmi_rmcpplus_check_session_id(s->o.rp_session, s->rc_sid) != 1)
		return (0);
	/* Only an authentic packet may move the replay window. */
	if (ipmi_check_session_sequence_number_2_0(
		(uint32_t)ipmi_get(s->o.rp_session, "session_sequence_number"),
		&s->highest_seq, &s->seq_list, 0) != 1)
		return (0);
	if (ipmi_lan_check_net_fn(s->o.msg_rs, net_fn) != 1 ||
	    ipmi_check_cmd(cmd, code) != 1 ||
	    ipmi_lan_check_rq_seq(s->o.msg_rs, s->rq_seq) != 1 ||
	    fiid_obj_packet_sufficient(cmd) != 1)
		return (0);
	return (1);
}

/* libfreeipmi's texts end with spaces or a period: not in a detail. */
static void
ipmi_trim(char *text)
{
	size_t n = strlen(text);

	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '.'))
		text[--n] = '\0';
}

/* A non-zero completion code: busy, privilege, or "it said no". */
static void
ipmi_completion_fail(struct ipmi_session *s, uint64_t now, fiid_obj_t cmd,
    uint8_t net_fn)
{
	uint8_t cc = ipmi_get(cmd, "comp_code");
	enum power_error error = POWER_ERR_CONTROLLER_ERROR;
	char text[96];

	if (ipmi_completion_code_strerror_cmd_r(cmd, net_fn, text,
		sizeof text) != 0)
		strlcpy(text, "unknown", sizeof text);
	ipmi_trim(text);
	if (cc == IPMI_COMP_CODE_NODE_BUSY)
		error = POWER_ERR_BUSY;
	else if (cc == IPMI_COMP_CODE_INSUFFICIENT_PRIVILEGE_LEVEL)
		error = POWER_ERR_PRIVILEGE;
	else if (s->wait == IPMI_WAIT_PRIVILEGE &&
	    (cc == IPMI_COMP_CODE_SET_SESSION_PRIVILEGE_LEVEL_REQUESTED_LEVEL_NOT_AVAILABLE_FOR_USER ||
		cc ==
		    IPMI_COMP_CODE_SET_SESSION_PRIVILEGE_LEVEL_REQUESTED_LEVEL_EXCEEDS_USER_PRIVILEGE_LIMIT ||
		cc ==
		    IPMI_COMP_CODE_SET_SESSION_PRIVILEGE_LEVEL_CANNOT_DISABLE_USER_LEVEL_AUTHENTICATION))
		error = POWER_ERR_PRIVILEGE;
	ipmi_fail(s, now, error, "%s: completion code 0x%02X (%s)",
	    ipmi_waits[s->wait].request, cc, text);
}

/* A session setup message refused with an RMCP+ status code. */
static void
ipmi_status_fail(struct ipmi_session *s, uint64_t now, fiid_obj_t cmd)
{
	uint8_t st = ipmi_get(cmd, "rmcpplus_status_code");
	enum power_error error = POWER_ERR_CONTROLLER_ERROR;
	char text[96];

	if (ipmi_rmcpplus_status_strerror_r(st, text, sizeof text) != 0)
		strlcpy(text, "unknown", sizeof text);
	ipmi_trim(text);
	switch (st) {
	case RMCPPLUS_STATUS_INSUFFICIENT_RESOURCES_TO_CREATE_A_SESSION:
	case RMCPPLUS_STATUS_INSUFFICIENT_RESOURCES_TO_CREATE_A_SESSION_AT_THE_REQUESTED_TIME:
		error = POWER_ERR_BUSY;
		break;
	case RMCPPLUS_STATUS_INVALID_ROLE:
	case RMCPPLUS_STATUS_UNAUTHORIZED_ROLE_OR_PRIVILEGE_LEVEL_REQUESTED:
		error = POWER_ERR_PRIVILEGE;
		break;
	case RMCPPLUS_STATUS_UNAUTHORIZED_NAME:
	case RMCPPLUS_STATUS_INVALID_NAME_LENGTH:
		error = POWER_ERR_USERNAME_INVALID;
		break;
	case RMCPPLUS_STATUS_INVALID_INTEGRITY_CHECK_VALUE:
		/* Our RAKP 3 code is wrong for the BMC: not its password. */
		if (s->wait == IPMI_WAIT_RAKP4)
			error = POWER_ERR_PASSWORD_INVALID;
		break;
	}
	ipmi_fail(s, now, error, "%s refused: RMCP+ status 0x%02X (%s)",
	    ipmi_waits[s->wait].request, st, text);
}

static int
ipmi_input_auth_caps(struct ipmi_session *s, const void *pkt, size_t len,
    uint64_t now)
{
	fiid_obj_t cmd;
	int r;

	cmd = ipmi_obj_new(tmpl_cmd_get_channel_authentication_capabilities_rs);
	if (!ipmi_accept_lan(s, pkt, len, IPMI_NET_FN_APP_RS,
		IPMI_CMD_GET_CHANNEL_AUTHENTICATION_CAPABILITIES, cmd)) {
		fiid_obj_destroy(cmd);
		return (0);
	}
	s->answered = 1;
	if (ipmi_get(cmd, "comp_code") != IPMI_COMP_CODE_COMMAND_SUCCESS)
		ipmi_completion_fail(s, now, cmd, IPMI_NET_FN_APP_RQ);
	else if (fiid_obj_packet_valid(cmd) != 1)
		ipmi_fail(s, now, POWER_ERR_BAD_REPLY,
		    "short answer to Get Channel Authentication Capabilities");
	else if (ipmi_check_authentication_capabilities_ipmi_2_0(cmd) != 1)
		ipmi_fail(s, now, POWER_ERR_CONTROLLER_ERROR,
		    "the BMC does not offer IPMI 2.0 (RMCP+) on this channel");
	else if ((r = ipmi_check_authentication_capabilities_username(
		      s->user_len ? s->user : NULL,
		      s->password_len ? s->password : NULL, cmd)) != 1)
		ipmi_fail(s, now, POWER_ERR_USERNAME_INVALID,
		    "the BMC does not accept %s user names",
		    s->user_len ? "non-null" : "null");
	else if (ipmi_check_authentication_capabilities_k_g(NULL, cmd) != 1)
		ipmi_fail(s, now, POWER_ERR_CREDENTIALS,
		    "the BMC wants a K_g key, which is not supported");
	else
		ipmi_goto(s, IPMI_WAIT_OPEN_SESSION, now);
	fiid_obj_destroy(cmd);
	return (1);
}

static int
ipmi_input_open_session(struct ipmi_session *s, const void *pkt, size_t len,
    uint64_t now)
{
	fiid_obj_t cmd;

	cmd = ipmi_obj_new(tmpl_rmcpplus_open_session_response);
	if (!ipmi_accept_setup(s, pkt, len,
		IPMI_PAYLOAD_TYPE_RMCPPLUS_OPEN_SESSION_RESPONSE, cmd)) {
		fiid_obj_destroy(cmd);
		return (0);
	}
	s->answered = 1;
	s->ms_sid = ipmi_get(cmd, "managed_system_session_id");
	if (ipmi_get(cmd, "rmcpplus_status_code") != RMCPPLUS_STATUS_NO_ERRORS)
		ipmi_status_fail(s, now, cmd);
	else if (s->ms_sid == 0)
		ipmi_fail(s, now, POWER_ERR_BAD_REPLY,
		    "Open Session Response without a session id");
	else if (ipmi_get(cmd,
		     "authentication_payload.authentication_algorithm") !=
		s->auth_alg ||
	    ipmi_get(cmd, "integrity_payload.integrity_algorithm") !=
		s->integ_alg ||
	    ipmi_get(cmd,
		"confidentiality_payload.confidentiality_algorithm") !=
		s->conf_alg)
		ipmi_fail(s, now, POWER_ERR_CONTROLLER_ERROR,
		    "the BMC answered cipher suite %d with other algorithms",
		    s->cipher);
	else if (ipmi_check_open_session_maximum_privilege(s->privilege, cmd) !=
		1 &&
	    s->open_privilege == IPMI_PRIVILEGE_LEVEL_HIGHEST_LEVEL)
		ipmi_fail(s, now, POWER_ERR_PRIVILEGE,
		    "the BMC grants privilege %s for \"the highest level\" "
		    "(it may need the opensesspriv workaround)",
		    ipmi_privilege_name(
			ipmi_get(cmd, "maximum_privilege_level")));
	else if (ipmi_check_open_session_maximum_privilege(s->privilege, cmd) !=
	    1)
		ipmi_fail(s, now, POWER_ERR_PRIVILEGE,
		    "the BMC grants privilege %s at most, %s was asked",
		    ipmi_privilege_name(
			ipmi_get(cmd, "maximum_privilege_level")),
		    ipmi_privilege_name(s->privilege));
	else
		ipmi_goto(s, IPMI_WAIT_RAKP2, now);
	fiid_obj_destroy(cmd);
	return (1);
}

static int
ipmi_input_rakp2(struct ipmi_session *s, const void *pkt, size_t len,
    uint64_t now)
{
	fiid_obj_t cmd;
	int r;

	cmd = ipmi_obj_new(tmpl_rmcpplus_rakp_message_2);
	if (!ipmi_accept_setup(s, pkt, len, IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_2,
		cmd)) {
		fiid_obj_destroy(cmd);
		return (0);
	}
	s->answered = 1;
	if (ipmi_get(cmd, "rmcpplus_status_code") !=
	    RMCPPLUS_STATUS_NO_ERRORS) {
		ipmi_status_fail(s, now, cmd);
		goto out;
	}
	if (fiid_obj_get_data(cmd, "managed_system_random_number", s->ms_random,
		sizeof s->ms_random) != sizeof s->ms_random ||
	    fiid_obj_get_data(cmd, "managed_system_guid", s->ms_guid,
		sizeof s->ms_guid) != sizeof s->ms_guid) {
		ipmi_fail(s, now, POWER_ERR_BAD_REPLY, "short RAKP 2");
		goto out;
	}
	r = ipmi_rmcpplus_check_rakp_2_key_exchange_authentication_code(
	    s->auth_alg, s->password_len ? s->password : NULL, s->password_len,
	    s->rc_sid, s->ms_sid, s->rc_random, sizeof s->rc_random,
	    s->ms_random, sizeof s->ms_random, s->ms_guid, sizeof s->ms_guid,
	    IPMI_NAME_ONLY_LOOKUP, s->privilege, s->user_len ? s->user : NULL,
	    s->user_len, cmd);
	if (r == 0) {
		ipmi_fail(s, now, POWER_ERR_PASSWORD_INVALID,
		    "the BMC's RAKP 2 key exchange code does not match the "
		    "password");
		goto out;
	}
	s->sik_ptr = s->sik;
	s->k1_ptr = s->k1;
	s->k2_ptr = s->k2;
	s->sik_len = s->k1_len = s->k2_len = IPMI_KEY_MAX;
	if (r < 0 ||
	    ipmi_calculate_rmcpplus_session_keys(s->auth_alg, s->integ_alg,
		s->conf_alg, s->password_len ? s->password : NULL,
		s->password_len, NULL, 0, s->rc_random, sizeof s->rc_random,
		s->ms_random, sizeof s->ms_random, IPMI_NAME_ONLY_LOOKUP,
		s->privilege, s->user_len ? s->user : NULL, s->user_len,
		&s->sik_ptr, &s->sik_len, &s->k1_ptr, &s->k1_len, &s->k2_ptr,
		&s->k2_len) != 0) {
		ipmi_fail(s, now, POWER_ERR_CONTROLLER_ERROR,
		    "cannot compute the session keys: %s", strerror(errno));
		goto out;
	}
	ipmi_goto(s, IPMI_WAIT_RAKP4, now);
out:
	fiid_obj_destroy(cmd);
	return (1);
}

static int
ipmi_input_rakp4(struct ipmi_session *s, const void *pkt, size_t len,
    uint64_t now)
{
	fiid_obj_t cmd;

	cmd = ipmi_obj_new(tmpl_rmcpplus_rakp_message_4);
	if (!ipmi_accept_setup(s, pkt, len, IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_4,
		cmd)) {
		fiid_obj_destroy(cmd);
		return (0);
	}
	s->answered = 1;
	if (ipmi_get(cmd, "rmcpplus_status_code") != RMCPPLUS_STATUS_NO_ERRORS)
		ipmi_status_fail(s, now, cmd);
	else if (ipmi_rmcpplus_check_rakp_4_integrity_check_value(s->auth_alg,
		     s->sik_ptr, s->sik_len, s->rc_random, sizeof s->rc_random,
		     s->ms_sid, s->ms_guid, sizeof s->ms_guid, cmd) != 1)
		ipmi_fail(s, now, POWER_ERR_CONTROLLER_ERROR,
		    "the RAKP 4 integrity check value does not match");
	else {
		s->established = 1;
		ipmi_goto(s, IPMI_WAIT_PRIVILEGE, now);
	}
	fiid_obj_destroy(cmd);
	return (1);
}

static int
ipmi_input_privilege(struct ipmi_session *s, const void *pkt, size_t len,
    uint64_t now)
{
	fiid_obj_t cmd;

	cmd = ipmi_obj_new(tmpl_cmd_set_session_privilege_level_rs);
	if (!ipmi_accept_session(s, pkt, len, IPMI_NET_FN_APP_RS,
		IPMI_CMD_SET_SESSION_PRIVILEGE_LEVEL, cmd)) {
		fiid_obj_destroy(cmd);
		return (0);
	}
	s->answered = 1;
	if (ipmi_get(cmd, "comp_code") != IPMI_COMP_CODE_COMMAND_SUCCESS)
		ipmi_completion_fail(s, now, cmd, IPMI_NET_FN_APP_RQ);
	else if (fiid_obj_packet_valid(cmd) == 1 &&
	    ipmi_get(cmd, "privilege_level") < s->privilege)
		ipmi_fail(s, now, POWER_ERR_PRIVILEGE,
		    "the BMC set privilege %s, %s was asked",
		    ipmi_privilege_name(ipmi_get(cmd, "privilege_level")),
		    ipmi_privilege_name(s->privilege));
	else if (s->cmd == IPMI_CMD_STATUS)
		ipmi_goto(s, IPMI_WAIT_STATUS, now);
	else
		ipmi_goto(s, IPMI_WAIT_CONTROL, now);
	fiid_obj_destroy(cmd);
	return (1);
}

static int
ipmi_input_status(struct ipmi_session *s, const void *pkt, size_t len,
    uint64_t now)
{
	fiid_obj_t cmd;
	uint64_t on;

	cmd = ipmi_obj_new(tmpl_cmd_get_chassis_status_rs);
	if (!ipmi_accept_session(s, pkt, len, IPMI_NET_FN_CHASSIS_RS,
		IPMI_CMD_GET_CHASSIS_STATUS, cmd)) {
		fiid_obj_destroy(cmd);
		return (0);
	}
	s->answered = 1;
	if (ipmi_get(cmd, "comp_code") != IPMI_COMP_CODE_COMMAND_SUCCESS)
		ipmi_completion_fail(s, now, cmd, IPMI_NET_FN_CHASSIS_RQ);
	else if (fiid_obj_get(cmd, "current_power_state.power_is_on", &on) != 1)
		ipmi_fail(s, now, POWER_ERR_BAD_REPLY,
		    "Get Chassis Status answer without the power state");
	else {
		ipmi_result(s, POWER_ERR_OK,
		    on == IPMI_SYSTEM_POWER_IS_ON ? POWER_STATE_ON
						  : POWER_STATE_OFF,
		    "%s", "");
		ipmi_end(s, now);
	}
	fiid_obj_destroy(cmd);
	return (1);
}

static int
ipmi_input_control(struct ipmi_session *s, const void *pkt, size_t len,
    uint64_t now)
{
	fiid_obj_t cmd;

	cmd = ipmi_obj_new(tmpl_cmd_chassis_control_rs);
	if (!ipmi_accept_session(s, pkt, len, IPMI_NET_FN_CHASSIS_RS,
		IPMI_CMD_CHASSIS_CONTROL, cmd)) {
		fiid_obj_destroy(cmd);
		return (0);
	}
	s->answered = 1;
	if (ipmi_get(cmd, "comp_code") != IPMI_COMP_CODE_COMMAND_SUCCESS)
		ipmi_completion_fail(s, now, cmd, IPMI_NET_FN_CHASSIS_RQ);
	else {
		if (s->control > 1)
			ipmi_result(s, POWER_ERR_OK, POWER_STATE_UNKNOWN,
			    "Chassis Control sent %u times: the BMC may have "
			    "run it more than once",
			    s->control);
		else
			ipmi_result(s, POWER_ERR_OK, POWER_STATE_UNKNOWN, "%s",
			    "");
		ipmi_end(s, now);
	}
	fiid_obj_destroy(cmd);
	return (1);
}

static int
ipmi_input_close(struct ipmi_session *s, const void *pkt, size_t len,
    uint64_t now)
{
	fiid_obj_t cmd;

	cmd = ipmi_obj_new(tmpl_cmd_close_session_rs);
	if (!ipmi_accept_session(s, pkt, len, IPMI_NET_FN_APP_RS,
		IPMI_CMD_CLOSE_SESSION, cmd)) {
		fiid_obj_destroy(cmd);
		return (0);
	}
	/* Whatever it says: the result is already known. */
	s->wait = IPMI_WAIT_NOTHING;
	fiid_obj_destroy(cmd);
	return (1);
}

/* --- the interface ---------------------------------------------------- */

static uint8_t
ipmi_privilege_level(enum ipmi_privilege p)
{
	switch (p) {
	case IPMI_PRIV_USER:
		return (IPMI_PRIVILEGE_LEVEL_USER);
	case IPMI_PRIV_OPERATOR:
		return (IPMI_PRIVILEGE_LEVEL_OPERATOR);
	case IPMI_PRIV_ADMIN:
		return (IPMI_PRIVILEGE_LEVEL_ADMIN);
	}
	return (0);
}

/* Check and copy the parameters; 0, or -1 with the result set. */
static int
ipmi_session_params(struct ipmi_session *s, const struct ipmi_params *p)
{
	const char *user = p->user != NULL ? p->user : "";
	const char *password = p->password != NULL ? p->password : "";

	s->user_len = strlen(user);
	if (s->user_len > IPMI_MAX_USER_NAME_LENGTH) {
		ipmi_result(s, POWER_ERR_CREDENTIALS, POWER_STATE_UNKNOWN,
		    "the user name is longer than %d characters",
		    IPMI_MAX_USER_NAME_LENGTH);
		return (-1);
	}
	memcpy(s->user, user, s->user_len);
	s->password_len = strlen(password);
	if (s->password_len > IPMI_2_0_MAX_PASSWORD_LENGTH) {
		s->password_len = 0;
		ipmi_result(s, POWER_ERR_CREDENTIALS, POWER_STATE_UNKNOWN,
		    "the password is longer than %d characters",
		    IPMI_2_0_MAX_PASSWORD_LENGTH);
		return (-1);
	}
	memcpy(s->password, password, s->password_len);

	s->cipher = p->cipher < 0 ? IPMI_DEFAULT_CIPHER : p->cipher;
	if (s->cipher > IPMI_CIPHER_SUITE_ID_MAX ||
	    !IPMI_CIPHER_SUITE_ID_SUPPORTED(s->cipher) ||
	    ipmi_cipher_suite_id_to_algorithms(s->cipher, &s->auth_alg,
		&s->integ_alg, &s->conf_alg) != 0) {
		ipmi_result(s, POWER_ERR_CREDENTIALS, POWER_STATE_UNKNOWN,
		    "cipher suite %d is not supported "
		    "(0-3, 6-8, 11-12, 15-17)",
		    p->cipher);
		return (-1);
	}
	if ((s->privilege = ipmi_privilege_level(p->privilege)) == 0) {
		ipmi_result(s, POWER_ERR_CREDENTIALS, POWER_STATE_UNKNOWN,
		    "privilege %d is not user, operator or admin",
		    (int)p->privilege);
		return (-1);
	}
	/*
	 * ipmipower's "-W opensesspriv": some BMCs (ipmi_sim) refuse an Open
	 * Session Request for "the highest level" and want the privilege.
	 */
	if (p->workarounds & IPMI_WORKAROUND_OPENSESSPRIV)
		s->open_privilege = s->privilege;
	else
		s->open_privilege = IPMI_PRIVILEGE_LEVEL_HIGHEST_LEVEL;
	s->timeout_ms =
	    p->timeout_ms != 0 ? p->timeout_ms : IPMI_DEFAULT_TIMEOUT_MS;
	s->retransmit_ms = p->retransmit_ms != 0 ? p->retransmit_ms
						 : IPMI_DEFAULT_RETRANSMIT_MS;
	s->control_ms = p->control_retransmit_ms != 0
	    ? p->control_retransmit_ms
	    : IPMI_DEFAULT_CONTROL_RETRANSMIT_MS;
	/* Chassis Control is never resent faster than other requests. */
	if (s->control_ms < s->retransmit_ms)
		s->control_ms = s->retransmit_ms;
	return (0);
}

struct ipmi_session *
ipmi_session_new(const struct ipmi_params *p, enum ipmi_command cmd,
    uint64_t now)
{
	struct ipmi_session *s;

	static int crypto_ready;

	assert((unsigned)cmd <= IPMI_CMD_SOFT);
	s = xcalloc(1, sizeof *s);
	s->cmd = cmd;
	s->wait = IPMI_WAIT_NOTHING;
	ipmi_objs_new(&s->o);
	/* libfreeipmi's crypto (libgcrypt) is set up once per process. */
	if (!crypto_ready) {
		if (ipmi_rmcpplus_init() != 0) {
			ipmi_result(s, POWER_ERR_CONTROLLER_ERROR,
			    POWER_STATE_UNKNOWN,
			    "libfreeipmi cannot set up its crypto library");
			return (s);
		}
		crypto_ready = 1;
	}
	if (ipmi_session_params(s, p) != 0)
		return (s);
	s->deadline = now + s->timeout_ms;

	/* Session id 0 means "none" in IPMI 2.0. */
	do
		ipmi_random(&s->rc_sid, sizeof s->rc_sid);
	while (s->rc_sid == 0);
	ipmi_random(s->rc_random, sizeof s->rc_random);
	ipmi_random(&s->msg_tag, sizeof s->msg_tag);
	ipmi_random(&s->rq_seq, sizeof s->rq_seq);
	if (ipmi_check_session_sequence_number_2_0_init(&s->highest_seq,
		&s->seq_list) != 0)
		abort();

	ipmi_goto(s, IPMI_WAIT_AUTH_CAPS, now);
	return (s);
}

void
ipmi_session_free(struct ipmi_session *s)
{
	if (s == NULL)
		return;
	ipmi_objs_free(&s->o);
	/* The password, the keys, the randoms. */
	explicit_bzero(s, sizeof *s);
	free(s);
}

void
ipmi_session_input(struct ipmi_session *s, const void *pkt, size_t len,
    uint64_t now)
{
	int (*fn)(struct ipmi_session *, const void *, size_t, uint64_t);

	switch (s->wait) {
	case IPMI_WAIT_AUTH_CAPS:
		fn = ipmi_input_auth_caps;
		break;
	case IPMI_WAIT_OPEN_SESSION:
		fn = ipmi_input_open_session;
		break;
	case IPMI_WAIT_RAKP2:
		fn = ipmi_input_rakp2;
		break;
	case IPMI_WAIT_RAKP4:
		fn = ipmi_input_rakp4;
		break;
	case IPMI_WAIT_PRIVILEGE:
		fn = ipmi_input_privilege;
		break;
	case IPMI_WAIT_STATUS:
		fn = ipmi_input_status;
		break;
	case IPMI_WAIT_CONTROL:
		fn = ipmi_input_control;
		break;
	case IPMI_WAIT_CLOSE:
		fn = ipmi_input_close;
		break;
	case IPMI_WAIT_NOTHING:
	default:
		return;
	}
	if (pkt == NULL || len == 0 || !fn(s, pkt, len, now))
		s->ignored++;
}

void
ipmi_session_socket_error(struct ipmi_session *s, int errnum)
{
	s->sock_errno = errnum;
}

/* The whole deadline has come: the outcome says how far we got. */
static void
ipmi_timeout(struct ipmi_session *s, uint64_t now)
{
	const char *what = ipmi_waits[s->wait].request;

	if (s->wait == IPMI_WAIT_CLOSE) {
		s->wait = IPMI_WAIT_NOTHING;
		return;
	}
	if (!s->answered && s->ignored > 0)
		ipmi_result(s, POWER_ERR_BAD_REPLY, POWER_STATE_UNKNOWN,
		    "%u datagrams in %u ms, none a valid answer to %s",
		    s->ignored, s->timeout_ms, what);
	else if (!s->answered && s->sock_errno == ECONNREFUSED)
		ipmi_result(s, POWER_ERR_CONNECT_REFUSED, POWER_STATE_UNKNOWN,
		    "port unreachable: nothing answers %s (sent %u times)",
		    what, s->tries);
	else if (!s->answered)
		ipmi_result(s, POWER_ERR_CONNECT_TIMEOUT, POWER_STATE_UNKNOWN,
		    "no answer to %s in %u ms (sent %u times)%s%s", what,
		    s->timeout_ms, s->tries, s->sock_errno != 0 ? ": " : "",
		    s->sock_errno != 0 ? strerror(s->sock_errno) : "");
	else if (s->wait == IPMI_WAIT_CONTROL)
		ipmi_result(s, POWER_ERR_SESSION_TIMEOUT, POWER_STATE_UNKNOWN,
		    "no answer to Chassis Control in %u ms (sent %u times): "
		    "the BMC may have run it",
		    s->timeout_ms, s->tries);
	else
		ipmi_result(s, POWER_ERR_SESSION_TIMEOUT, POWER_STATE_UNKNOWN,
		    "no answer to %s in %u ms (sent %u times)", what,
		    s->timeout_ms, s->tries);
	/* Free the BMC's session now rather than when it times out. */
	if (s->established) {
		s->wait = IPMI_WAIT_CLOSE;
		(void)ipmi_send(s, now, 0);
	}
	s->wait = IPMI_WAIT_NOTHING;
}

/* The wait before the current request is sent again. */
static uint64_t
ipmi_retransmit_interval(const struct ipmi_session *s)
{
	unsigned resent = s->tries > 0 ? s->tries - 1 : 0;

	if (s->wait == IPMI_WAIT_CONTROL)
		return (s->control_ms);
	/* Stepped backoff: one more retransmit_ms every 4 copies. */
	return ((uint64_t)s->retransmit_ms * (1 + resent / 4));
}

void
ipmi_session_timer(struct ipmi_session *s, uint64_t now)
{
	switch (s->wait) {
	case IPMI_WAIT_NOTHING:
		return;
	case IPMI_WAIT_CLOSE:
		if (now >= s->close_by || now >= s->deadline)
			s->wait = IPMI_WAIT_NOTHING;
		return;
	default:
		break;
	}
	if (now >= s->deadline) {
		ipmi_timeout(s, now);
		return;
	}
	if (now >= s->last_send + ipmi_retransmit_interval(s) &&
	    ipmi_send(s, now, 1) != 0)
		ipmi_end(s, now);
}

size_t
ipmi_session_output(struct ipmi_session *s, void *buf, size_t size)
{
	size_t len = s->out_len;

	if (len == 0 || size < len)
		return (0);
	memcpy(buf, s->out, len);
	s->out_len = 0;
	return (len);
}

uint64_t
ipmi_session_next(const struct ipmi_session *s)
{
	uint64_t t;

	switch (s->wait) {
	case IPMI_WAIT_NOTHING:
		return (UINT64_MAX);
	case IPMI_WAIT_CLOSE:
		return (s->close_by < s->deadline ? s->close_by : s->deadline);
	default:
		t = s->last_send + ipmi_retransmit_interval(s);
		return (t < s->deadline ? t : s->deadline);
	}
}

int
ipmi_session_done(const struct ipmi_session *s, struct power_reply *reply)
{
	if (s->wait != IPMI_WAIT_NOTHING)
		return (0);
	if (reply != NULL) {
		*reply = s->reply;
		/* Cannot happen: every way to the end sets a result. */
		if (!s->have_result) {
			reply->error = POWER_ERR_CONTROLLER_ERROR;
			reply->state = POWER_STATE_UNKNOWN;
			strlcpy(reply->detail, "no result",
			    sizeof reply->detail);
		}
	}
	return (1);
}

const char *
ipmi_session_waiting(const struct ipmi_session *s)
{
	return (ipmi_waits[s->wait].name);
}

unsigned
ipmi_session_sent(const struct ipmi_session *s)
{
	return (s->sent);
}

unsigned
ipmi_session_control_sent(const struct ipmi_session *s)
{
	return (s->control);
}
