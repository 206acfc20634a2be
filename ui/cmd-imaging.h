/*
 * The part of a load's and a save's plans that takes nodes to the imaging
 * system and back (see cmd-imaging.c): nextboot-set, boot (power on if
 * off, reset if on), settle, telnet-wait, nextboot-clear before the
 * imaging step, and the final reset after it. Without reset (-n) only the
 * telnet-wait remains: the nodes already run the imaging system.
 */
#ifndef UI_CMD_IMAGING_H
#define UI_CMD_IMAGING_H

#include <stddef.h>

#include "engine/plan-power.h"
#include "engine/step-delay.h"
#include "engine/step-nextboot.h"
#include "engine/step-power.h"
#include "engine/step-telnet-wait.h"
#include "engine/step.h"

struct cmd_ctx;
struct nodeset;

/* The most steps cmd_imaging_head and cmd_imaging_tail add together. */
#define CMD_IMAGING_MAX_STEPS 6

struct cmd_imaging {
	int reset;
	struct plan_power *pp;      /* when reset */
	struct nextboot *nb;        /* when reset: the run's journal */
	enum inv_power_kind *kinds; /* per inventory node, when reset */
	struct step_nextboot_conf nb_conf;
	struct step_power_conf boot_conf;
	struct step_power_conf final_conf;
	struct step_delay_conf idle_conf;
	struct step_telnet_wait_conf tw_conf;
};

/*
 * After cmd_select and loop_init, before anything is touched: check the
 * settings and every node's power back end (exit 2 on a refusal), then
 * open the nextboot journal of run "what" (exit 1 if it cannot be made).
 * 0, or the exit code after a one-line error; cmd_imaging_close either
 * way.
 */
int cmd_imaging_open(struct cmd_ctx *, const struct nodeset *, int reset,
    const char *what, struct cmd_imaging *);
/* Append the steps before the imaging step; returns how many. */
size_t cmd_imaging_head(struct cmd_ctx *, struct cmd_imaging *,
    struct step_inst *);
/* Append the steps after it (the final reset); returns how many. */
size_t cmd_imaging_tail(struct cmd_ctx *, struct cmd_imaging *,
    struct step_inst *);
/*
 * The back ends the resets of the selected nodes go through, in cmc,
 * ipmi, pdu order, into names (room for CMD_IMAGING_MAX_BACKENDS); none
 * without reset. For the audit line.
 */
#define CMD_IMAGING_MAX_BACKENDS 3
size_t cmd_imaging_backends(const struct cmd_imaging *, const struct nodeset *,
    const char **names);
/*
 * After the run: clear what links are left, close the journal, free.
 * 0, or -1 after a one-line error when a link could not be removed (the
 * journal stays for the next command to retry): the command must not
 * then say it succeeded.
 */
int cmd_imaging_close(struct cmd_ctx *, struct cmd_imaging *);

#endif
