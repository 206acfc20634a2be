/*
 * The exec step: a child process per node (child.c does the process
 * work). step_data is a struct step_exec holding the child. Cancelling
 * kills the child and waits for it to be reaped: the node ends only when
 * nothing it started is left running.
 */
#include <sys/wait.h>

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/child.h"
#include "engine/step-exec.h"
#include "inventory/inventory.h"

struct step_exec {
	struct node *node;
	struct child *child;
};

static enum step_result step_exec_start(struct node *, const struct step_ctx *);
static enum step_result step_exec_cancel(struct node *);
static void step_exec_clear(struct node *);

const struct step_def step_exec_def = {
    .name = "exec",
    .start = step_exec_start,
    .cancel = step_exec_cancel,
    .clear = step_exec_clear,
};

/* Substitute %n %i %c %% in one argument; NULL if a value is missing. */
static char *
step_exec_expand_one(const char *arg, const struct inv_node *inv, char **errp)
{
	const char *p, *value;
	char *out, *tmp;
	size_t len = 0, size = strlen(arg) + 1, vlen;

	out = xmalloc(size);
	for (p = arg; *p != '\0'; p++) {
		value = NULL;
		if (p[0] == '%') {
			switch (p[1]) {
			case 'n':
				value = inv->name;
				break;
			case 'i':
				value = inv->control.ip;
				break;
			case 'c':
				value = inv->cmc.hostname;
				if (value == NULL) {
					xasprintf(errp, "%%c: %s has no CMC",
					    inv->name);
					free(out);
					return (NULL);
				}
				break;
			case '%':
				value = "%";
				break;
			}
		}
		if (value == NULL) {
			vlen = 1;
			value = p;
		} else {
			vlen = strlen(value);
			p++;
		}
		if (len + vlen + 1 > size) {
			size = (len + vlen + 1) * 2;
			tmp = xreallocarray(out, 1, size);
			out = tmp;
		}
		memcpy(out + len, value, vlen);
		len += vlen;
	}
	out[len] = '\0';
	return (out);
}

char **
step_exec_expand(const char *const *argv, const struct inv_node *inv,
    char **errp)
{
	char **out;
	size_t n = 0, i;

	*errp = NULL;
	while (argv[n] != NULL)
		n++;
	out = xcalloc(n + 1, sizeof *out);
	for (i = 0; i < n; i++) {
		if ((out[i] = step_exec_expand_one(argv[i], inv, errp)) ==
		    NULL) {
			step_exec_argv_free(out);
			return (NULL);
		}
	}
	return (out);
}

void
step_exec_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static void
step_exec_line_cb(struct child *c, int is_stderr, const char *line, void *arg)
{
	struct step_exec *se = arg;

	node_output(se->node, is_stderr, line);
}

static void
step_exec_done_cb(struct child *c, int status, void *arg)
{
	struct step_exec *se = arg;
	char *why;

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		step_done(se->node, NODE_OUT_OK, NULL);
		return;
	}
	why = child_status_string(status);
	step_done(se->node, NODE_OUT_CHILD_FAILED, "%s", why);
	free(why);
}

static enum step_result
step_exec_start(struct node *n, const struct step_ctx *ctx)
{
	const struct step_exec_conf *conf = ctx->arg;
	struct step_exec *se;
	char **argv, *env[2], *err = NULL;

	if ((argv = step_exec_expand(conf->argv, n->inv, &err)) == NULL) {
		node_set_outcome(n, NODE_OUT_FAILED, "%s", err);
		free(err);
		return (STEP_FAIL);
	}
	xasprintf(&env[0], "RHUBARB_NODE=%s", node_name(n));
	env[1] = NULL;

	se = xcalloc(1, sizeof *se);
	se->node = n;
	se->child = child_start(argv, env, step_exec_line_cb, step_exec_done_cb,
	    se, &err);
	if (se->child != NULL)
		node_message(n, LOG_LEVEL_DEBUG, "pid %ld: %s",
		    (long)child_pid(se->child), argv[0]);
	step_exec_argv_free(argv);
	free(env[0]);
	if (se->child == NULL) {
		node_set_outcome(n, NODE_OUT_CHILD_FAILED, "%s", err);
		free(err);
		free(se);
		return (STEP_FAIL);
	}
	n->step_data = se;
	return (STEP_WAIT);
}

/* Kill the child; its done callback (after the reap) ends the step. */
static enum step_result
step_exec_cancel(struct node *n)
{
	struct step_exec *se = n->step_data;

	child_kill(se->child);
	return (STEP_WAIT);
}

static void
step_exec_clear(struct node *n)
{
	struct step_exec *se = n->step_data;

	if (se == NULL)
		return; /* start failed */
	child_free(se->child);
	free(se);
	n->step_data = NULL;
}
