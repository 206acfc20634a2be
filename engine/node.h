/*
 * A node as the engine works on it: one inventory node going through its
 * plan. Its state says where it is in the run (queued for a fan-out slot,
 * running a step, stopping while a cancelled step cleans up, done); its
 * outcome says how it ended, as a closed enum with a name table.
 *
 * node_set_state() is the only writer of the state: it checks the
 * transition, logs it and publishes it on the bus.
 *
 * Engine-internal: ui/ sees nodes only through bus events and run results.
 */
#ifndef ENGINE_NODE_H
#define ENGINE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/compat.h"
#include "common/log.h"

struct bus;
struct event;
struct inv_node;
struct run;
struct step_inst;

/* X(ID, name). Ordered: a node only moves down this list. */
#define NODE_STATES(X)                                                         \
	X(NEW, "new")           /* created, run not started */                 \
	X(QUEUED, "queued")     /* waiting for a fan-out slot */               \
	X(RUNNING, "running")   /* in a step */                                \
	X(STOPPING, "stopping") /* cancelled, waiting for step cleanup */      \
	X(DONE, "done")         /* ended; the outcome says how */

#define NODE_STATE_ENUM(id, name) NODE_##id,
enum node_state { NODE_STATES(NODE_STATE_ENUM) NODE_STATE__COUNT };
#undef NODE_STATE_ENUM
#define NODE_STATE_VALID(s) ((unsigned)(s) < NODE_STATE__COUNT)

/*
 * How a node ended. A closed list: each failure a plan can meet gets its
 * own value, chosen by the step (and by the state it timed out in), so
 * renderers and exit codes never parse strings. Later plans add theirs
 * here (power-failed, telnet-timeout, frisbee-failed, ssh-timeout, ...).
 */
#define NODE_OUTCOMES(X)                                                       \
	X(NONE, "none") /* not ended yet */                                    \
	X(OK, "ok")                                                            \
	X(FAILED, "failed")             /* a step failed */                    \
	X(TIMEOUT, "timeout")           /* a deadline passed */                \
	X(CANCELLED, "cancelled")       /* interrupted */                      \
	X(CHILD_FAILED, "child-failed") /* a command exited != 0 */            \
	X(POWER_FAILED, "power-failed") /* a controller refused or erred */    \
	X(POWER_UNREACHABLE, "power-unreachable") /* controller silent */      \
	X(POWER_TIMEOUT, "power-timeout") /* stalled, or deadline passed */    \
	X(POWER_AUTH, "power-auth") /* user, password or privilege refused */  \
	X(POWER_CREDENTIALS, "power-credentials") /* password file unusable */ \
	X(POWER_RESOLVE, "power-resolve")       /* controller name unknown */  \
	X(POWER_UNVERIFIED, "power-unverified") /* read back another state */  \
	X(DENIED, "denied") /* the reservation gate said no */                 \
	X(NEXTBOOT_FAILED, "nextboot-failed") /* link not made or removed */   \
	X(TELNET_TIMEOUT, "telnet-timeout")   /* imaging system never up */    \
	X(FRISBEE_FAILED, "frisbee-failed")   /* client failed or dropped */   \
	X(FRISBEE_TIMEOUT, "frisbee-timeout") /* imaging deadline passed */    \
	X(SAVE_FAILED, "save-failed")   /* imagezip or the transfer failed */  \
	X(SAVE_TIMEOUT, "save-timeout") /* imaging deadline passed */          \
	X(SSH_TIMEOUT, "ssh-timeout")   /* no ssh before the deadline */       \
	X(SSH_AUTH, "ssh-auth")         /* sshd up, key or host key refused */

#define NODE_OUTCOME_ENUM(id, name) NODE_OUT_##id,
enum node_outcome { NODE_OUTCOMES(NODE_OUTCOME_ENUM) NODE_OUT__COUNT };
#undef NODE_OUTCOME_ENUM
#define NODE_OUTCOME_VALID(o) ((unsigned)(o) < NODE_OUT__COUNT)

struct node {
	const struct inv_node *inv; /* borrowed from the inventory */
	struct run *run;            /* owner */
	struct bus *bus;            /* where changes are published */
	enum node_state state;
	enum node_outcome outcome;
	char *why; /* outcome detail, or NULL */

	struct event *deadline;         /* the waiting step's evtimer */
	int deadline_run;               /* armed for the run's timeout */
	enum node_outcome stop_outcome; /* asked to stop, or NONE */
	char *stop_why;
	uint64_t started_ms; /* monotonic, when running */
	uint64_t ended_ms;

	const struct step_inst *plan; /* borrowed, nsteps long */
	size_t nsteps;
	size_t step;     /* current step index */
	void *step_data; /* the current step's own */
	int in_step;     /* its start/cancel is running */
	int step_live;   /* started, not yet cleared */
	int cancelling;  /* its step was cancelled; cleanup under way */
	/* STEP_AFTER_FAIL or _STOP: only those steps run now (step.h). */
	unsigned finishing;
	enum node_outcome first_outcome; /* kept while finishing */
	char *first_why;

	TAILQ_ENTRY(node) queue_entry; /* run's fan-out queue */
};

/*
 * A node for inv, owned by run, with a deadline timer that calls
 * deadline_cb(fd, what, node).
 */
struct node *node_new(struct run *, struct bus *, const struct inv_node *,
    void (*deadline_cb)(int, short, void *));
void node_free(struct node *);
const char *node_name(const struct node *);

/* The only writer of n->state. why may be NULL. */
void node_set_state(struct node *, enum node_state, const char *why, ...)
    printflike(3, 4);
/* Record how the node ends (kept until node_set_state(NODE_DONE)). */
void node_set_outcome(struct node *, enum node_outcome, const char *why, ...)
    printflike(3, 4);

/* Arm (replacing) or clear the node's deadline timer. */
void node_arm_deadline(struct node *, uint64_t ms);
void node_clear_deadline(struct node *);

/* Log a line about the node and publish it as node-message. */
void node_message(struct node *, enum log_level, const char *, ...)
    printflike(3, 4);
/*
 * A line a child wrote on its standard output (or error, if is_stderr):
 * logged and published as node-message.
 */
void node_output(struct node *, int is_stderr, const char *line);
/*
 * A line of the node's own output (its imaging shell over telnet): always
 * kept in the log, whatever its level, and published as a debug-level
 * node-message from stdout (shown with -v and in the monitor's detail).
 */
void node_raw(struct node *, const char *line, int truncated);
/* Publish node-step: n starts step n->step of its plan. */
void node_step(struct node *, int finishing);
/* Publish node-progress. percent -1, bytes 0 and rate < 0 mean unknown. */
void node_progress(struct node *, int percent, uint64_t bytes, double rate);

const char *node_state_name(enum node_state);
const char *node_outcome_name(enum node_outcome);
/* By name, or NODE_OUT__COUNT if unknown. */
enum node_outcome node_outcome_lookup(const char *);

#endif
