/*
 * What every command that drives power needs from the configuration and
 * the selection: the plan settings of engine/plan-power.h, and the check,
 * before anything is touched, that every selected node has a controller
 * (power commands, and the resets of load and save).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/plan-power.h"
#include "inventory/config.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd-power-conf.h"
#include "ui/cmd.h"

static uint64_t
cmd_power_conf_ms(struct cmd_ctx *ctx, enum config_key k)
{
	return ((uint64_t)(config_double(ctx->config, k) * 1000 + 0.5));
}

/*
 * The plan settings from the configuration. Keys that must be > 0 are
 * checked here (the table's bounds are integers). 0 or EXIT_USAGE.
 */
int
cmd_power_plan_conf(struct cmd_ctx *ctx, struct plan_power_conf *c)
{
	static const enum config_key positive[] = {
	    CK_POWER_CMC_CONNECT_TIMEOUT,
	    CK_POWER_IPMI_TIMEOUT,
	    CK_POWER_IPMI_RETRANSMIT,
	    CK_POWER_IPMI_CONTROL_RETRANSMIT,
	    CK_POWER_PDU_TIMEOUT,
	    CK_POWER_PDU_REQUEST_TIMEOUT,
	    CK_POWER_PDU_POLL,
	};
	size_t i;

	for (i = 0; i < nitems(positive); i++) {
		if (cmd_power_conf_ms(ctx, positive[i]) == 0)
			return (
			    cmd_usage_error(ctx, "[%s] %s must be above 0 (%s)",
				config_key_section(positive[i]),
				config_key_name(positive[i]),
				config_origin(ctx->config, positive[i])));
	}
	memset(c, 0, sizeof *c);
	c->fanout = (unsigned)config_int(ctx->config, CK_POWER_FANOUT);
	c->op_timeout_ms[CONTROLLER_CMC] =
	    (uint64_t)config_int(ctx->config, CK_NODES_CMC_DEFAULT_TIMEOUT) *
	    1000;
	c->op_timeout_ms[CONTROLLER_IPMI] =
	    cmd_power_conf_ms(ctx, CK_POWER_IPMI_TIMEOUT);
	c->op_timeout_ms[CONTROLLER_PDU] =
	    cmd_power_conf_ms(ctx, CK_POWER_PDU_TIMEOUT);
	c->min_interval_ms[CONTROLLER_CMC] =
	    cmd_power_conf_ms(ctx, CK_POWER_CMC_MIN_INTERVAL);
	c->min_interval_ms[CONTROLLER_IPMI] =
	    cmd_power_conf_ms(ctx, CK_POWER_IPMI_MIN_INTERVAL);
	c->min_interval_ms[CONTROLLER_PDU] =
	    cmd_power_conf_ms(ctx, CK_POWER_PDU_MIN_INTERVAL);
	c->settle_ms[CONTROLLER_CMC] =
	    cmd_power_conf_ms(ctx, CK_POWER_CMC_SETTLE);
	c->settle_ms[CONTROLLER_IPMI] =
	    cmd_power_conf_ms(ctx, CK_POWER_IPMI_SETTLE);
	c->settle_ms[CONTROLLER_PDU] =
	    cmd_power_conf_ms(ctx, CK_POWER_PDU_SETTLE);
	c->reset_verify_delay_ms =
	    cmd_power_conf_ms(ctx, CK_POWER_RESET_VERIFY_DELAY);
	c->verify_interval_ms =
	    cmd_power_conf_ms(ctx, CK_POWER_VERIFY_INTERVAL);
	c->verify_tries =
	    (unsigned)config_int(ctx->config, CK_POWER_VERIFY_TRIES);
	c->cmc_connect_ms =
	    (unsigned)cmd_power_conf_ms(ctx, CK_POWER_CMC_CONNECT_TIMEOUT);
	c->ipmi_retransmit_ms =
	    (unsigned)cmd_power_conf_ms(ctx, CK_POWER_IPMI_RETRANSMIT);
	c->ipmi_control_retransmit_ms =
	    (unsigned)cmd_power_conf_ms(ctx, CK_POWER_IPMI_CONTROL_RETRANSMIT);
	if (strcmp(config_str(ctx->config, CK_POWER_IPMI_WORKAROUNDS),
		"opensesspriv") == 0)
		c->ipmi_workarounds |= IPMI_WORKAROUND_OPENSESSPRIV;
	c->pdu_request_ms =
	    (unsigned)cmd_power_conf_ms(ctx, CK_POWER_PDU_REQUEST_TIMEOUT);
	c->pdu_retries =
	    (unsigned)config_int(ctx->config, CK_POWER_PDU_RETRIES);
	c->pdu_poll_ms = (unsigned)cmd_power_conf_ms(ctx, CK_POWER_PDU_POLL);
	c->resolve_timeout_ms = 2000;
	return (0);
}

/* "2s", "1.5s". */
static const char *
cmd_power_conf_fmt_ms(uint64_t ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, size, "%.1fs", ms / 1e3);
	return (buf);
}

/*
 * Check every selected node before touching any: it has the back end, and
 * -t leaves room for the plan's delays. Fills kinds (per inventory node)
 * and the longest deadline. 0 or EXIT_USAGE.
 */
int
cmd_power_backends(struct cmd_ctx *ctx, const struct nodeset *set,
    const struct plan_power *pp, enum power_action action,
    enum inv_power_kind via, uint64_t timeout_ms, enum inv_power_kind *kinds,
    uint64_t *maxp)
{
	const struct inventory *inv = ctx->inventory;
	const char **bad;
	size_t i, nbad = 0;
	uint64_t b, minb = 0;
	char *err = NULL, *folded, buf[32];
	int r = 0;

	bad = xcalloc(nodeset_count(set) + 1, sizeof *bad);
	*maxp = 0;
	NODESET_FOREACH(i, set) {
		if (plan_power_backend(&inv->nodes[i], via, &kinds[i], &err) !=
		    0) {
			bad[nbad++] = inv->nodes[i].name;
			free(err);
			err = NULL;
			continue;
		}
		b = timeout_ms != 0 ? timeout_ms
				    : plan_power_budget(pp, kinds[i], action);
		if (b > *maxp)
			*maxp = b;
		b = plan_power_min_budget(pp, kinds[i], action);
		if (b > minb)
			minb = b;
	}
	if (nbad > 0) {
		folded = nodeset_fold_names(bad, nbad);
		if (via != INV_POWER_NONE)
			r = cmd_usage_error(ctx, "%s: no %s back end", folded,
			    inv_power_kind_name(via));
		else
			r = cmd_usage_error(ctx, "%s: no power controller",
			    folded);
		free(folded);
	} else if (timeout_ms != 0 && timeout_ms < minb) {
		r = cmd_usage_error(ctx,
		    "-t %s is shorter than the delays of %s (%s)",
		    cmd_power_conf_fmt_ms(timeout_ms, buf, sizeof buf),
		    plan_power_action_name(action),
		    cmd_power_conf_fmt_ms(minb, buf + 16, sizeof buf - 16));
	}
	free(bad);
	return (r);
}
