/*
 * Power settings and checks shared by the commands that drive power (see
 * cmd-power-conf.c).
 */
#ifndef UI_CMD_POWER_CONF_H
#define UI_CMD_POWER_CONF_H

#include <stdint.h>

#include "engine/plan-power.h"

struct cmd_ctx;
struct nodeset;

/*
 * The plan settings from the [power] and [nodes] sections; keys that must
 * be above 0 are checked. 0, or EXIT_USAGE after a one-line error.
 */
int cmd_power_plan_conf(struct cmd_ctx *, struct plan_power_conf *);

/*
 * Check every selected node before touching any: it has the back end
 * (via, or its preferred one), and timeout_ms (0: none given) leaves room
 * for the delays of action. Fills kinds (indexed by inventory node) and
 * *maxp, the longest node deadline. 0, or EXIT_USAGE after a one-line
 * error naming the nodes.
 */
int cmd_power_backends(struct cmd_ctx *, const struct nodeset *,
    const struct plan_power *, enum power_action, enum inv_power_kind via,
    uint64_t timeout_ms, enum inv_power_kind *kinds, uint64_t *maxp);

#endif
