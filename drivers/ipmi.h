/*
 * IPMI 2.0 (RMCP+, "lanplus") power control of one BMC, non-blocking on
 * the event loop: its own UDP socket, a session state machine built on
 * libfreeipmi's packet functions (never the blocking ipmi_ctx API), a
 * whole-operation deadline and a retransmit timer. Chassis Control is not
 * retransmitted faster than control_retransmit_ms, since a BMC executes
 * every copy it receives.
 */
#ifndef DRIVERS_IPMI_H
#define DRIVERS_IPMI_H

#include "drivers/power.h"

struct event_base;
struct ipmi_op;

enum ipmi_command {
	IPMI_CMD_STATUS, /* Get Chassis Status */
	IPMI_CMD_ON,
	IPMI_CMD_OFF,
	IPMI_CMD_CYCLE,
	IPMI_CMD_RESET, /* hard reset */
	IPMI_CMD_SOFT,  /* soft shutdown (ACPI) */
};

enum ipmi_privilege {
	IPMI_PRIV_USER,
	IPMI_PRIV_OPERATOR,
	IPMI_PRIV_ADMIN,
};

/*
 * Zero (or -1 for cipher) means the default. Bad values are reported
 * through the callback: POWER_ERR_NETWORK for the address and port,
 * POWER_ERR_CREDENTIALS for the user (at most 16 characters), the password
 * (at most 20), the cipher suite and the privilege.
 */
struct ipmi_params {
	const char *ip;       /* numeric (IPv4 or IPv6) */
	int port;             /* 0: 623 */
	const char *user;     /* NULL or "": the null user name */
	const char *password; /* borrowed; the driver keeps a wiped copy */
	int cipher; /* cipher suite id; -1: 3. 0, 1, 2, 3, 6-8, 11, 12,
		       15-17 (0 is no authentication at all) */
	enum ipmi_privilege privilege; /* Chassis Control needs operator */
	unsigned timeout_ms;           /* whole operation; 0: 20000 */
	unsigned retransmit_ms; /* session packets; 0: 1000, growing by as
				   much every 4 copies of one request */
	unsigned control_retransmit_ms; /* Chassis Control; 0: 5000; never
					   less than retransmit_ms */
	int workarounds;                /* IPMI_WORKAROUND_* below */
};

/* Open Session Request privilege workaround (ipmi_sim, some BMCs). */
#define IPMI_WORKAROUND_OPENSESSPRIV 0x1

typedef void (*ipmi_cb)(const struct power_reply *, void *arg);

/*
 * As cmc_request_start: cb exactly once, later, never after cancel; the op
 * is freed by then (do not cancel it from its callback). The result comes
 * once the command was answered and Close Session answered too, or not
 * within a short wait (IPMI_CLOSE_WAIT_MS). status gives POWER_STATE_ON or
 * OFF; the other commands POWER_STATE_UNKNOWN (the BMC accepted, which is
 * not "done"). Typed errors: CONNECT_TIMEOUT (nothing valid came back),
 * CONNECT_REFUSED (ICMP port unreachable), BAD_REPLY (only garbage came
 * back), SESSION_TIMEOUT (answered, then stalled before the end),
 * USERNAME_INVALID, PASSWORD_INVALID, PRIVILEGE, BUSY (completion code
 * 0xC0 or no session slot), CONTROLLER_ERROR (any other refusal, the
 * code in detail), NETWORK, CREDENTIALS.
 */
struct ipmi_op *ipmi_op_start(struct event_base *, const struct ipmi_params *,
    enum ipmi_command, ipmi_cb, void *arg);
void ipmi_op_cancel(struct ipmi_op *);
const char *ipmi_command_name(enum ipmi_command);

#endif
