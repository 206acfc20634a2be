/*
 * The exec step: run a local command for a node (pdsh -R exec style).
 * In each argument %n becomes the node's name, %i its control IP, %c its
 * CMC hostname and %% a '%'; any other '%' is kept. RHUBARB_NODE is set
 * to the node's name. Output lines become node-message events; exit 0 is
 * done, anything else ends the node "child-failed" ("exit 3", "killed by
 * SIGTERM").
 */
#ifndef ENGINE_STEP_EXEC_H
#define ENGINE_STEP_EXEC_H

#include "engine/step.h"

struct inv_node;

struct step_exec_conf {
	const char *const *argv; /* template, NULL-terminated */
};

extern const struct step_def step_exec_def;

/*
 * The template with n's values substituted (allocated, NULL-terminated,
 * free with step_exec_argv_free), or NULL with *errp set when a value is
 * missing ("%c: fit03 has no CMC").
 */
char **step_exec_expand(const char *const *argv, const struct inv_node *,
    char **errp);
void step_exec_argv_free(char **);

#endif
