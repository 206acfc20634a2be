/*
 * PDU operations shared by nodes. A PDU serves one operation at a time
 * (its controller's rule), and an operation may cover any outlets of it,
 * so nodes asking the same command of the same PDU while an earlier
 * operation runs are gathered into one batch: when the PDU is free, one
 * SNMP operation switches (and reads back) all their outlets, and each
 * node gets the replies of its own outlets. Eight nodes on one PDU cost
 * one operation, not eight in a row, and one stuck outlet delays its
 * batch but fails only its own node.
 *
 * A node joins the open (not yet started) batch for its PDU and command,
 * or opens one. While queued, each member keeps its own deadline: at it,
 * the member alone leaves with a typed timeout. The batch's operation is
 * given the longest time any member has left.
 */
#ifndef ENGINE_STEP_POWER_PDU_H
#define ENGINE_STEP_POWER_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/pdu-sentry3.h"

struct controller;
struct plan_power;
struct step_power_pdu_member;

/*
 * Exactly once, from the loop, never after leave: overall is the
 * operation's reply (or a queueing timeout, with outs NULL), outs the
 * replies for the member's own outlets, in its order.
 */
typedef void (*step_power_pdu_cb)(const struct power_reply *overall,
    const struct pdu_outlet_reply *outs, size_t n, void *arg);

/*
 * Join (or open) the batch for cmd on ctl. params gives the PDU's address
 * and settings (copied; its timeout_ms is ignored). op_cap_ms bounds the
 * operation's timeout for this member (0: only its deadline).
 */
struct step_power_pdu_member *step_power_pdu_join(struct plan_power *,
    struct controller *, const struct pdu_params *, enum pdu_command,
    const int *outlets, size_t n, uint64_t deadline_ms, uint64_t op_cap_ms,
    step_power_pdu_cb, void *arg);
/* Leave, whatever the batch's state; no callback after this. */
void step_power_pdu_leave(struct step_power_pdu_member *);
/* Free what plan_power still holds (at its end, nothing should be). */
void step_power_pdu_free_all(struct plan_power *);

#endif
