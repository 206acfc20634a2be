/*
 * ServerTech Sentry3 PDUs over SNMP (v2c): outlet status and control of
 * one or more outlets of one PDU in one operation, non-blocking (net-snmp's
 * single-session API on the event loop). Control writes
 * outletControlAction with the write community, then reads outletStatus
 * with the read community until every outlet settles: onWait/offWait are
 * transient, offError/onError are POWER_ERR_OUTLET_ERROR, noComm is
 * POWER_ERR_NO_COMM, and not settling in time is POWER_ERR_TIMEOUT.
 */
#ifndef DRIVERS_PDU_SENTRY3_H
#define DRIVERS_PDU_SENTRY3_H

#include <stddef.h>

#include "drivers/power.h"

struct event_base;
struct pdu_op;

enum pdu_command {
	PDU_CMD_STATUS,
	PDU_CMD_ON,
	PDU_CMD_OFF,
	PDU_CMD_REBOOT,
};

struct pdu_params {
	const char *ip; /* numeric */
	int port;       /* 161 */
	const char *read_community;
	const char *write_community;
	unsigned timeout_ms; /* whole operation, settling included */
	unsigned request_ms; /* one SNMP request before a retry */
	unsigned retries;    /* per request */
	unsigned poll_ms;    /* between status reads while settling */
};

/* Per outlet: its error and state, in the order given. */
struct pdu_outlet_reply {
	int outlet;
	struct power_reply reply;
	int status; /* Sentry3 outletStatus, -1 if unknown */
};

/*
 * overall is the worst outlet's error (its detail prefixed "outlet N: "
 * unless every outlet says the same), with a state only when all outlets
 * agree. Bad arguments are CONTROLLER_ERROR, delivered the same way.
 */
typedef void (*pdu_cb)(const struct power_reply *overall,
    const struct pdu_outlet_reply *outlets, size_t n, void *arg);

/* As cmc_request_start: cb exactly once, later, never after cancel. */
struct pdu_op *pdu_op_start(struct event_base *, const struct pdu_params *,
    const int *outlets, size_t noutlets, enum pdu_command, pdu_cb, void *arg);
void pdu_op_cancel(struct pdu_op *);

#endif
