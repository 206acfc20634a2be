/*
 * The power step: one node's power action (status, on, off, reset, cycle,
 * info) through its back end, as a sequence of phases run by this one
 * step (see plan-power.h), with a deadline of its own: the node's budget,
 * from its start. Its argument is a step_power_conf, shared by the nodes
 * of a run; results go to the plan's result table.
 *
 * Other plans (load: power reset between nextboot and telnet) use it as
 * one step among theirs.
 */
#ifndef ENGINE_STEP_POWER_H
#define ENGINE_STEP_POWER_H

#include <stdint.h>

#include "engine/plan-power.h"
#include "engine/step.h"

struct step_power_conf {
	struct plan_power *pp;
	enum power_action action;
	enum inv_power_kind via; /* INV_POWER_NONE: the node's preferred */
	/*
	 * The node's whole deadline, queueing included. 0: its plan's
	 * budget, each operation bounded by its back end's timeout.
	 */
	uint64_t timeout_ms;
	/*
	 * Do nothing unless an earlier power step of this run started on
	 * the node and did not fail: the reset that ends a load touches only
	 * nodes its first reset touched, and does not knock again on a
	 * controller that already failed them.
	 */
	int only_if_powered;
};

/* After the deadline: how long the step waits for a late driver. */
#define STEP_POWER_GRACE_MS 500

extern const struct step_def step_power_def;

#endif
