/*
 * Power plans: what a run needs to switch, reset, cycle or read the power
 * of nodes through their controllers (a CMC card, a BMC, PDU outlets),
 * shared by every node of the run: the controller registry (one operation
 * per controller, minimum interval, fan-out cap), the resolver for BMC and
 * PDU names, the passwords read from their files, the drivers (a table,
 * so that tests run plans on fakes) and a result per inventory node.
 *
 * The work itself is the "power" step (step-power.h), one per node: its
 * back end decides the phases (e.g. cycle on a BMC: off, read back off,
 * settle, on, read back on; on PDU outlets: all off, settle, all on, the
 * PDU driver reading every outlet back). Every phase is bounded by the
 * node's deadline.
 */
#ifndef ENGINE_PLAN_POWER_H
#define ENGINE_PLAN_POWER_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/cmc.h"
#include "drivers/ipmi.h"
#include "drivers/pdu-sentry3.h"
#include "common/compat.h"
#include "drivers/power.h"
#include "engine/controller.h"
#include "engine/node.h"
#include "inventory/inventory.h"

struct event_base;
struct resolver;

#define POWER_ACTIONS(X)                                                       \
	X(STATUS, "status")                                                    \
	X(ON, "on")                                                            \
	X(OFF, "off")                                                          \
	X(RESET, "reset")                                                      \
	X(CYCLE, "cycle")                                                      \
	X(INFO, "info")                                                        \
	X(BOOT, "boot") /* load and save: on if off, reset if on */

#define POWER_ACTION_ENUM(id, name) POWER_ACT_##id,
enum power_action { POWER_ACTIONS(POWER_ACTION_ENUM) POWER_ACT__COUNT };
#undef POWER_ACTION_ENUM

/* Whether the action changes power (and so is audited). */
#define POWER_ACTION_CHANGES(a)                                                \
	((a) != POWER_ACT_STATUS && (a) != POWER_ACT_INFO)

/* The drivers' entry points (drivers/cmc.h, ipmi.h, pdu-sentry3.h). */
struct plan_power_drivers {
	struct cmc_request *(*cmc_start)(struct event_base *,
	    const struct cmc_params *, const char *, cmc_cb, void *);
	void (*cmc_cancel)(struct cmc_request *);
	struct ipmi_op *(*ipmi_start)(struct event_base *,
	    const struct ipmi_params *, enum ipmi_command, ipmi_cb, void *);
	void (*ipmi_cancel)(struct ipmi_op *);
	struct pdu_op *(*pdu_start)(struct event_base *,
	    const struct pdu_params *, const int *, size_t, enum pdu_command,
	    pdu_cb, void *);
	void (*pdu_cancel)(struct pdu_op *);
};

/* The real ones (plan-power-drivers.c). */
extern const struct plan_power_drivers plan_power_drivers_real;

/* Settings, from the [power] and [nodes] configuration sections. */
struct plan_power_conf {
	unsigned fanout; /* controller operations in flight */
	/* Per back end, indexed by enum controller_kind. */
	uint64_t op_timeout_ms[CONTROLLER_KIND__COUNT];
	uint64_t min_interval_ms[CONTROLLER_KIND__COUNT];
	uint64_t settle_ms[CONTROLLER_KIND__COUNT]; /* off during cycle */
	uint64_t reset_verify_delay_ms; /* reset, then read back after */
	uint64_t verify_interval_ms;    /* between read-backs */
	unsigned verify_tries;          /* read-backs at most, >= 1 */
	unsigned cmc_connect_ms;
	unsigned ipmi_retransmit_ms;
	unsigned ipmi_control_retransmit_ms;
	int ipmi_workarounds; /* IPMI_WORKAROUND_* */
	unsigned pdu_request_ms;
	unsigned pdu_retries;
	unsigned pdu_poll_ms;
	unsigned resolve_timeout_ms; /* one DNS query */
};

/*
 * One phase of a node's plan. OP sends cmd to every controller of the
 * node (PDU outlets on two PDUs: two operations, in parallel); VERIFY
 * reads the state back until it is want (at most verify_tries reads,
 * verify_interval apart, the first one reset_verify_delay after a reset);
 * SETTLE waits the back end's settle delay (power off during a cycle).
 */
enum plan_power_phase_kind {
	PLAN_POWER_OP,
	PLAN_POWER_VERIFY,
	PLAN_POWER_SETTLE,
};

enum plan_power_cmd {
	PLAN_POWER_CMD_STATUS,
	PLAN_POWER_CMD_ON,
	PLAN_POWER_CMD_OFF,
	PLAN_POWER_CMD_RESET,
	PLAN_POWER_CMD_INFO,
};

struct plan_power_phase {
	enum plan_power_phase_kind kind;
	enum plan_power_cmd cmd; /* OP */
	enum power_state want;   /* VERIFY; OP on PDU outlets */
	int after_reset;         /* VERIFY: wait reset_verify_delay first */
};

/* The phases of action on a back end. */
const struct plan_power_phase *plan_power_phases(enum inv_power_kind,
    enum power_action, size_t *np);
const char *plan_power_cmd_name(enum plan_power_cmd);

/* How a node's power went. */
struct plan_power_result {
	int started;
	int ended;
	enum inv_power_kind backend;
	enum power_state state; /* last state read (status: the answer) */
	enum power_error error; /* OK, or what ended the node */
	char reason[256];       /* why it failed; for status, a note */
	char *info;             /* info: the text */
	unsigned ops;           /* controller operations started */
	char controller[64];    /* the controller's name (first one) */
	uint64_t duration_ms;
};

/* A password file, read once per run. */
struct plan_power_secret {
	char *path;
	char *password; /* NULL if refused */
	char *err;      /* why it was refused */
};

struct step_power_pdu_batch;

struct plan_power {
	struct plan_power_conf conf;
	const struct plan_power_drivers *drivers;
	const struct inventory *inv;
	struct controller_registry *controllers;
	struct resolver *resolver;
	struct plan_power_secret *secrets;
	size_t nsecrets;
	struct plan_power_result *results; /* per inventory node */
	/* PDU batches not yet started (step-power-pdu.c). */
	TAILQ_HEAD(, step_power_pdu_batch) pdu_batches;
};

/*
 * The shared context of a power run. resolver may be NULL (the system's
 * is made); plan_power_free frees it either way. NULL with *errp set if
 * name resolution cannot start.
 */
struct plan_power *plan_power_new(const struct plan_power_conf *,
    const struct plan_power_drivers *, const struct inventory *,
    struct resolver *, char **errp);
/* After the run is over. Wipes the passwords. */
void plan_power_free(struct plan_power *);

/*
 * The back end node uses: via, or its preferred one when via is
 * INV_POWER_NONE. 0, or -1 with *errp set ("fit03 has no ipmi").
 */
int plan_power_backend(const struct inv_node *, enum inv_power_kind via,
    enum inv_power_kind *kindp, char **errp);
enum controller_kind plan_power_controller_kind(enum inv_power_kind);

/*
 * The default deadline of a node: its plan's operations, each bounded by
 * its back end's timeout, plus its delays. The minimum is the delays
 * alone: a shorter -t could only fail half way through a cycle.
 */
uint64_t plan_power_budget(const struct plan_power *, enum inv_power_kind,
    enum power_action);
uint64_t plan_power_min_budget(const struct plan_power *, enum inv_power_kind,
    enum power_action);

/*
 * The password in path (first line), read at most once per run. NULL with
 * *errp pointing at a one-line reason (kept by pp) if the file is not a
 * regular file, is readable or writable by group or others, cannot be
 * read, or holds more than 20 bytes (IPMI 2.0's limit).
 */
const char *plan_power_password(struct plan_power *, const char *path,
    const char **errp);

/* The node outcome a driver error stands for. */
enum node_outcome plan_power_outcome(enum power_error);

struct plan_power_result *plan_power_result(const struct plan_power *,
    const struct inv_node *);

const char *plan_power_action_name(enum power_action);
/* By name; POWER_ACT__COUNT if unknown. */
enum power_action plan_power_action_lookup(const char *);

#endif
