/*
 * The nextboot-set and nextboot-clear steps (see step-nextboot.h).
 */
#include <stdlib.h>

#include "engine/nextboot.h"
#include "engine/node.h"
#include "engine/step-nextboot.h"
#include "inventory/inventory.h"

static enum step_result
step_nextboot_do(struct node *n, const struct step_ctx *ctx, int set)
{
	const struct step_nextboot_conf *conf = ctx->arg;
	const char *mac = n->inv->control.mac;
	char *err = NULL;
	int r;

	if (set)
		r = nextboot_set(conf->nb, node_name(n), mac, &err);
	else
		r = nextboot_clear(conf->nb, node_name(n), mac, &err);
	if (r != 0) {
		node_set_outcome(n, NODE_OUT_NEXTBOOT_FAILED, "%s", err);
		free(err);
		return (STEP_FAIL);
	}
	node_message(n, LOG_LEVEL_DEBUG, "nextboot %s",
	    set ? "set: boots the imaging system" : "cleared: boots from disk");
	return (STEP_DONE);
}

static enum step_result
step_nextboot_set_start(struct node *n, const struct step_ctx *ctx)
{
	return (step_nextboot_do(n, ctx, 1));
}

static enum step_result
step_nextboot_clear_start(struct node *n, const struct step_ctx *ctx)
{
	return (step_nextboot_do(n, ctx, 0));
}

/* Synchronous: the timeouts only satisfy the rule for finishing steps. */
const struct step_def step_nextboot_set_def = {
    .name = "nextboot-set",
    .start = step_nextboot_set_start,
    .default_timeout_ms = 1000,
    .timeout_outcome = NODE_OUT_NEXTBOOT_FAILED,
};

const struct step_def step_nextboot_clear_def = {
    .name = "nextboot-clear",
    .start = step_nextboot_clear_start,
    .default_timeout_ms = 1000,
    .timeout_outcome = NODE_OUT_NEXTBOOT_FAILED,
};
