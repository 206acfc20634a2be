/*
 * The real drivers behind power plans. Kept apart from plan-power.c and
 * step-power.c so that a test linking those with fake drivers does not
 * pull the protocol libraries in.
 */
#include "engine/plan-power.h"

const struct plan_power_drivers plan_power_drivers_real = {
    .cmc_start = cmc_request_start,
    .cmc_cancel = cmc_request_cancel,
    .ipmi_start = ipmi_op_start,
    .ipmi_cancel = ipmi_op_cancel,
    .pdu_start = pdu_op_start,
    .pdu_cancel = pdu_op_cancel,
};
