/*
 * The reservation gate (see gate.h). Decisions that need no process are
 * still delivered through loop_defer, so callers have one code path. The
 * gate process is a child (child.c): its lines are logged, the first one
 * kept as the reason; a timer kills it at gate_timeout, and the verdict
 * comes only once it is reaped, so no gate outlives the check.
 */
#include <sys/wait.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/child.h"
#include "engine/gate.h"
#include "engine/loop.h"

struct gate {
	gate_cb cb;
	void *arg;
	int cancelled;
	int granted;
	char *reason;
	char *first_line;
	char *name; /* argv[0], for messages */
	struct child *child;
	struct event *timer;
	uint64_t timeout_ms;
	int timed_out;
};

int
gate_privileged(const char *list, const char *login)
{
	const char *p = list, *end;
	size_t len;

	if (list == NULL || login == NULL || *login == '\0')
		return (0);
	while (*p != '\0') {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		end = p + strcspn(p, ",");
		len = (size_t)(end - p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len > 0 && strlen(login) == len &&
		    strncmp(p, login, len) == 0)
			return (1);
		p = end;
	}
	return (0);
}

char **
gate_argv(const char *command, const char *login, const char *const *nodes,
    size_t nnodes)
{
	char **argv, *copy, *word, *save = NULL;
	size_t n = 0, i;

	copy = xstrdup(command);
	argv = xcalloc(strlen(command) / 2 + 2 + nnodes + 1, sizeof *argv);
	for (word = strtok_r(copy, " \t\r\n", &save); word != NULL;
	     word = strtok_r(NULL, " \t\r\n", &save))
		argv[n++] = xstrdup(word);
	free(copy);
	if (n == 0) {
		free(argv);
		return (NULL);
	}
	argv[n++] = xstrdup(login);
	for (i = 0; i < nnodes; i++)
		argv[n++] = xstrdup(nodes[i]);
	argv[n] = NULL;
	return (argv);
}

static void
gate_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static void
gate_free(struct gate *g)
{
	if (g->child != NULL)
		child_free(g->child);
	if (g->timer != NULL)
		loop_event_free(g->timer);
	free(g->reason);
	free(g->first_line);
	free(g->name);
	free(g);
}

/* Deliver the verdict (from the loop), then free. */
static void
gate_deliver(void *arg)
{
	struct gate *g = arg;

	if (!g->cancelled) {
		log_info("gate: %s: %s", g->granted ? "granted" : "refused",
		    g->reason);
		g->cb(g->granted, g->reason, g->arg);
	}
	gate_free(g);
}

static void gate_decide(struct gate *g, int granted, const char *fmt, ...)
    printflike(3, 4);

static void
gate_decide(struct gate *g, int granted, const char *fmt, ...)
{
	va_list ap;

	g->granted = granted;
	free(g->reason);
	va_start(ap, fmt);
	xvasprintf(&g->reason, fmt, ap);
	va_end(ap);
	loop_defer(gate_deliver, g);
}

static void
gate_line_cb(struct child *c, int is_stderr, const char *line, void *arg)
{
	struct gate *g = arg;

	log_info("gate %s: %s%s", g->name, is_stderr ? "(stderr) " : "", line);
	if (g->first_line == NULL && *line != '\0')
		g->first_line = xstrdup(line);
}

static void
gate_done_cb(struct child *c, int status, void *arg)
{
	struct gate *g = arg;
	char *s, buf[32];
	uint64_t ms = g->timeout_ms;

	evtimer_del(g->timer);
	if (g->timed_out) {
		if (ms % 1000 == 0)
			snprintf(buf, sizeof buf, "%llus",
			    (unsigned long long)(ms / 1000));
		else
			snprintf(buf, sizeof buf, "%.1fs", (double)ms / 1000);
		gate_decide(g, 0, "gate timed out after %s", buf);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		gate_decide(g, 1, "gate %s said yes%s%s", g->name,
		    g->first_line != NULL ? ": " : "",
		    g->first_line != NULL ? g->first_line : "");
	else if (g->first_line != NULL)
		gate_decide(g, 0, "%s", g->first_line);
	else {
		s = child_status_string(status);
		gate_decide(g, 0, "gate %s refused (%s)", g->name, s);
		free(s);
	}
}

static void
gate_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gate *g = arg;

	g->timed_out = 1;
	log_warn("gate %s: no answer after %llu ms; killing it", g->name,
	    (unsigned long long)g->timeout_ms);
	child_kill(g->child);
}

struct gate *
gate_start(const struct gate_params *p, gate_cb cb, void *arg)
{
	struct gate *g;
	struct timeval tv;
	char **argv, *env[2], *err = NULL;

	g = xcalloc(1, sizeof *g);
	g->cb = cb;
	g->arg = arg;
	g->timeout_ms = p->timeout_ms;

	if (gate_privileged(p->privileged, p->login)) {
		gate_decide(g, 1, "%s is privileged ([accounts] privileged)",
		    p->login);
		return (g);
	}
	if (strcmp(p->policy, "open") == 0) {
		gate_decide(g, 1, "access is open ([accounts] access_policy)");
		return (g);
	}
	if (strcmp(p->policy, "leased") != 0) {
		gate_decide(g, 0,
		    "access is %s ([accounts] access_policy): only %s may act "
		    "on nodes",
		    p->policy,
		    *p->privileged != '\0' ? p->privileged : "nobody");
		return (g);
	}
	argv = gate_argv(p->command != NULL ? p->command : "", p->login,
	    p->nodes, p->nnodes);
	if (argv == NULL) {
		gate_decide(g, 0,
		    "no reservation gate configured ([accounts] gate): only "
		    "%s may act on nodes",
		    *p->privileged != '\0' ? p->privileged : "nobody");
		return (g);
	}
	g->name = xstrdup(argv[0]);
	xasprintf(&env[0], "RHUBARB_GATE_ACTION=%s",
	    p->action != NULL ? p->action : "");
	env[1] = NULL;
	g->child = child_start(argv, env, gate_line_cb, gate_done_cb, g, &err);
	free(env[0]);
	gate_argv_free(argv);
	if (g->child == NULL) {
		gate_decide(g, 0, "gate: %s", err);
		free(err);
		return (g);
	}
	log_debug("gate: pid %ld: %s", (long)child_pid(g->child), g->name);
	if ((g->timer = evtimer_new(loop_base(), gate_timer_cb, g)) == NULL) {
		log_error("%s: evtimer_new failed", __func__);
		abort();
	}
	loop_ms_to_timeval(p->timeout_ms, &tv);
	evtimer_add(g->timer, &tv);
	return (g);
}

void
gate_cancel(struct gate *g)
{
	if (g == NULL)
		return;
	g->cancelled = 1;
	/* No more callbacks from the child: SIGKILL, reaped by the loop. */
	if (g->child != NULL) {
		child_free(g->child);
		g->child = NULL;
	}
	if (g->timer != NULL)
		evtimer_del(g->timer);
	/* A verdict already deferred frees g; else free it from here. */
	if (g->reason == NULL)
		loop_defer(gate_deliver, g);
}
