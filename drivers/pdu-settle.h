/*
 * The decisions of the Sentry3 driver, without I/O and without a clock:
 * given the answers to its SNMP requests and the time (passed in, in
 * monotonic milliseconds), what to send next and what each outlet ended
 * with. drivers/pdu-sentry3.c feeds it from net-snmp; unit tests feed it
 * by hand with a fake clock. Private to the driver and its tests.
 *
 * An operation is STATUS (one GET of every outlet's outletStatus) or a
 * control (ON, OFF, REBOOT): one SET of outletControlAction for all the
 * outlets, then GETs of their outletStatus, at once and then every
 * poll_ms, until each outlet settles or the deadline passes. The
 * outletStatus values:
 *
 *   ON      settled by 1 on; 0 off, 2 offWait, 3 onWait, 7 reading are
 *           transient (read again)
 *   OFF     settled by 0 off; 1 on, 2, 3, 7 transient
 *   REBOOT  settled by 1 on once the outlet was seen 0, 2 or 3 (a first
 *           read may still show it on, before the PDU acted); 0, 2, 3, 7
 *           transient
 *   any     4 offError, 5 onError, 8 offFuse, 9 onFuse: OUTLET_ERROR;
 *           6 noComm: NO_COMM
 *
 * An outlet still off after an ON (on after an OFF) when the deadline
 * passes is "stuck": TIMEOUT. When nothing ever answered (the SET, or
 * STATUS's GET, timed out) it is CONNECT_TIMEOUT; a GET that times out
 * after the PDU had answered is tried again at the next poll.
 * SNMP errors (noAccess, ...) are CONTROLLER_ERROR; a varbind that is not
 * an INTEGER or does not exist is BAD_REPLY for its outlet.
 *
 * STATUS reads once: 0 off, 1 on; 2 offWait is still on and 3 onWait
 * still off (the detail says so); 7 reading is BUSY; the failures as above.
 */
#ifndef DRIVERS_PDU_SETTLE_H
#define DRIVERS_PDU_SETTLE_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/pdu-sentry3.h"

/* Sentry3-MIB outletStatus. */
enum pdu_outlet_status {
	PDU_ST_OFF = 0,
	PDU_ST_ON = 1,
	PDU_ST_OFF_WAIT = 2,
	PDU_ST_ON_WAIT = 3,
	PDU_ST_OFF_ERROR = 4,
	PDU_ST_ON_ERROR = 5,
	PDU_ST_NO_COMM = 6,
	PDU_ST_READING = 7,
	PDU_ST_OFF_FUSE = 8,
	PDU_ST_ON_FUSE = 9,
};
/* What a GET can give instead of a status, per varbind. */
#define PDU_ST_UNREAD    (-1) /* not read yet (the replies' "unknown") */
#define PDU_ST_NO_SUCH   (-2) /* noSuchObject, noSuchInstance, endOfMibView */
#define PDU_ST_BAD_TYPE  (-3) /* not an INTEGER */
#define PDU_ST_BAD_VALUE (-4) /* an INTEGER out of int's range */

enum pdu_settle_next {
	PDU_NEXT_SET,  /* send the SET of outletControlAction */
	PDU_NEXT_GET,  /* read every outlet's status now */
	PDU_NEXT_WAIT, /* read them after poll_ms */
	PDU_NEXT_DONE, /* the replies are final */
};

struct pdu_settle {
	enum pdu_command cmd;
	size_t n;
	struct pdu_outlet_reply *outlets; /* n, in the order given */
	unsigned char *settled;           /* n */
	unsigned char *left_on;           /* n; REBOOT: seen not on */
	uint64_t deadline_ms;
	int answered; /* the PDU answered something */
	int set_sent; /* the SET went out (it may have acted) */
	int done;
	struct power_reply overall;
};

/* Prepare for an operation starting at now_ms; never fails. */
void pdu_settle_init(struct pdu_settle *, enum pdu_command, const int *outlets,
    size_t n, uint64_t now_ms, unsigned timeout_ms);
void pdu_settle_free(struct pdu_settle *);

/* The first step: SET for a control, GET for STATUS. */
enum pdu_settle_next pdu_settle_begin(struct pdu_settle *);

/*
 * The answer to the SET: POWER_ERR_OK if the PDU accepted it, TIMEOUT if
 * nothing came back, NETWORK if it could not be sent, another error (with
 * a detail) if the PDU refused it.
 */
enum pdu_settle_next pdu_settle_set_reply(struct pdu_settle *, uint64_t now_ms,
    enum power_error, const char *detail);

/*
 * The answer to a GET: POWER_ERR_OK and status[n] (outletStatus values or
 * PDU_ST_NO_SUCH / PDU_ST_BAD_TYPE), or the request's error as for the SET
 * (status is then ignored and may be NULL).
 */
enum pdu_settle_next pdu_settle_get_reply(struct pdu_settle *, uint64_t now_ms,
    enum power_error, const char *detail, const int *status);

/* The deadline passed (or now_ms is past it): settle what is left. */
enum pdu_settle_next pdu_settle_expire(struct pdu_settle *, uint64_t now_ms);

/* End at once: every outlet not settled gets error (e.g. a bad argument). */
enum pdu_settle_next pdu_settle_abort(struct pdu_settle *, enum power_error,
    const char *detail);

/* The Sentry3-MIB name of an outletStatus value ("onWait"), or NULL. */
const char *pdu_settle_status_name(int);

#endif
