/*
 * The reservation gate: may this login act on these nodes? rhubarbe's
 * lease check (check_reservation) made site-neutral:
 *
 * - a login in [accounts] privileged (comma list) is granted, nothing run;
 * - [accounts] access_policy open grants, closed refuses;
 * - leased runs the [accounts] gate command (split on blanks, no shell)
 *   as "GATE LOGIN NODE...", with RHUBARB_GATE_ACTION set to the action,
 *   bounded by gate_timeout: exit 0 grants, anything else refuses with
 *   its first output line as the reason; its output lines are logged.
 *   Leased without a gate refuses, naming the key.
 *
 * The check runs on the loop and answers through a callback, always from
 * the loop (never from inside gate_start), exactly once unless cancelled.
 */
#ifndef ENGINE_GATE_H
#define ENGINE_GATE_H

#include <stddef.h>
#include <stdint.h>

struct gate;

struct gate_params {
	const char *login;
	const char *privileged; /* "root,guest" */
	const char *policy;     /* "open", "leased" or "closed" */
	const char *command;    /* the gate; "" for none */
	uint64_t timeout_ms;    /* > 0 */
	const char *action;     /* "on", "load": for the gate's environment */
	const char *const *nodes;
	size_t nnodes;
};

/* granted 1 or 0; reason is one line (borrowed for the call). */
typedef void (*gate_cb)(int granted, const char *reason, void *arg);

struct gate *gate_start(const struct gate_params *, gate_cb, void *arg);
/* No callback after this; a gate process still running is killed. */
void gate_cancel(struct gate *);

/* Whether login is in the comma-separated list (blanks around ignored). */
int gate_privileged(const char *list, const char *login);
/*
 * The gate's argv: command split on blanks, then login and nodes
 * (allocated, NULL-terminated; free each and the array). NULL if command
 * has no word.
 */
char **gate_argv(const char *command, const char *login,
    const char *const *nodes, size_t nnodes);

#endif
