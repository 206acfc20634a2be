/*
 * Child processes and the exec step: exit codes become outcomes, output
 * lines become node-message events (split and bounded), a command that
 * outlives its deadline is killed and reaped, and %n %i %c are
 * substituted. Real processes (sh, true, false), each run bounded by a
 * guard timer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/bus.h"
#include "engine/child.h"
#include "engine/loop.h"
#include "engine/node.h"
#include "engine/run.h"
#include "engine/step-exec.h"
#include "inventory/inventory.h"
#include "tests/unit/guard.h"

#define GUARD_MS 10000
#define NNODES   3
#define MAXMSG   64

struct msg {
	char node[16];
	enum bus_source source;
	enum log_level level;
	char text[CHILD_LINE_MAX + 1];
};

struct fixture {
	struct bus *bus;
	struct guard guard;
	struct inv_node inv[NNODES];
	char names[NNODES][24];
	char ips[NNODES][24];
	char cmcs[NNODES][24];
	struct msg msgs[MAXMSG];
	size_t nmsgs;
	long pids[NNODES];
	uint64_t t0;
	uint64_t end_ms;
};

static struct fixture *F;

static void
rec_cb(const struct bus_event *ev, void *arg)
{
	struct msg *m;
	long pid;

	if (ev->type == BUS_RUN_END)
		F->end_ms = loop_now_ms();
	if (ev->type != BUS_NODE_MESSAGE)
		return;
	if (ev->node_message.source == BUS_SOURCE_ENGINE &&
	    sscanf(ev->node_message.text, "pid %ld:", &pid) == 1)
		F->pids[atoi(ev->node + 3) - 1] = pid;
	if (ev->node_message.level == LOG_LEVEL_DEBUG || F->nmsgs == MAXMSG)
		return;
	m = &F->msgs[F->nmsgs++];
	strlcpy(m->node, ev->node, sizeof m->node);
	m->source = ev->node_message.source;
	m->level = ev->node_message.level;
	strlcpy(m->text, ev->node_message.text, sizeof m->text);
}

static int
setup(void **state)
{
	char *err = NULL;
	int i;

	F = xcalloc(1, sizeof *F);
	assert_int_equal(loop_init(&err), 0);
	F->bus = bus_new();
	bus_subscribe(F->bus, rec_cb, NULL);
	guard_init(&F->guard, loop_base());
	guard_arm(&F->guard, GUARD_MS);
	for (i = 0; i < NNODES; i++) {
		snprintf(F->names[i], sizeof F->names[i], "fit%02d", i + 1);
		snprintf(F->ips[i], sizeof F->ips[i], "192.168.3.%d", i + 1);
		snprintf(F->cmcs[i], sizeof F->cmcs[i], "reboot%02d", i + 1);
		F->inv[i].name = F->names[i];
		F->inv[i].number = i + 1;
		F->inv[i].control.hostname = F->names[i];
		F->inv[i].control.ip = F->ips[i];
		/* fit03 has no CMC. */
		F->inv[i].cmc.hostname = i == 2 ? NULL : F->cmcs[i];
	}
	F->t0 = loop_now_ms();
	*state = F;
	return (0);
}

static int
teardown(void **state)
{
	guard_free(&F->guard);
	loop_free();
	/* Nothing left behind: every child reaped. */
	assert_int_equal(child_count(), 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	bus_free(F->bus);
	free(F);
	F = NULL;
	return (0);
}

static struct run *
new_run(uint64_t timeout_ms)
{
	struct run_params p;

	memset(&p, 0, sizeof p);
	p.what = "exec";
	p.fanout = NNODES;
	p.timeout_ms = timeout_ms;
	return (run_new(F->bus, &p));
}

static void
run_to_end(struct run *run)
{
	run_start(run);
	if (!run_finished(run))
		loop_run();
	assert_false(F->guard.fired);
	assert_true(run_finished(run));
}

static const struct msg *
find_msg(const char *node, const char *text)
{
	size_t i;

	for (i = 0; i < F->nmsgs; i++) {
		if (strcmp(F->msgs[i].node, node) == 0 &&
		    strcmp(F->msgs[i].text, text) == 0)
			return (&F->msgs[i]);
	}
	return (NULL);
}

/* The message, or fail the test (never returns NULL to the caller). */
static const struct msg *
need_msg(const char *node, const char *text)
{
	static const struct msg none;
	const struct msg *m;

	if ((m = find_msg(node, text)) == NULL) {
		fail_msg("no message '%s' from %s", text, node);
		return (&none);
	}
	return (m);
}

/* --- argument substitution ---------------------------------------- */

static void
test_expand(void **state)
{
	static const struct {
		const char *in;
		int node;
		const char *out; /* NULL: error */
	} t[] = {
	    {"%n", 0, "fit01"},
	    {"%i", 1, "192.168.3.2"},
	    {"%c", 0, "reboot01"},
	    {"x%n-%i.y", 0, "xfit01-192.168.3.1.y"},
	    {"100%%", 0, "100%"},
	    {"%%n", 0, "%n"},
	    {"date +%s", 0, "date +%s"},
	    {"%", 0, "%"},
	    {"a%", 0, "a%"},
	    {"", 0, ""},
	    {"%n%n%n%n%n%n%n%n%n%n", 0,
		"fit01fit01fit01fit01fit01fit01fit01fit01fit01fit01"},
	    {"%c", 2, NULL},
	};
	const char *argv[2];
	char **out, *err;
	size_t i;

	for (i = 0; i < nitems(t); i++) {
		argv[0] = t[i].in;
		argv[1] = NULL;
		out = step_exec_expand(argv, &F->inv[t[i].node], &err);
		if (t[i].out == NULL) {
			assert_null(out);
			assert_string_equal(err, "%c: fit03 has no CMC");
			free(err);
			continue;
		}
		assert_non_null(out);
		assert_string_equal(out[0], t[i].out);
		assert_null(out[1]);
		step_exec_argv_free(out);
	}
	(void)F;
}

/* --- exec step ------------------------------------------------------ */

static void
test_exec_true_false(void **state)
{
	const char *const t[] = {"true", NULL};
	const char *const f[] = {"false", NULL};
	const char *const k[] = {"sh", "-c", "kill -9 $$", NULL};
	struct step_exec_conf ct = {t}, cf = {f}, ck = {k};
	struct step_inst pt[] = {{&step_exec_def, &ct, 0, 0}};
	struct step_inst pf[] = {{&step_exec_def, &cf, 0, 0}};
	struct step_inst pk[] = {{&step_exec_def, &ck, 0, 0}};
	struct run *run;

	run = new_run(5000);
	run_add(run, &F->inv[0], pt, 1);
	run_add(run, &F->inv[1], pf, 1);
	run_add(run, &F->inv[2], pk, 1);
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	assert_null(run_node(run, 0)->why);
	assert_int_equal(run_node(run, 1)->outcome, NODE_OUT_CHILD_FAILED);
	assert_string_equal(run_node(run, 1)->why, "exit 1");
	assert_int_equal(run_node(run, 2)->outcome, NODE_OUT_CHILD_FAILED);
	assert_string_equal(run_node(run, 2)->why, "killed by SIGKILL");
	assert_int_equal(run_exit_code(run), 1);
	run_free(run);
}

static void
test_exec_output(void **state)
{
	const char *const argv[] = {"sh", "-c",
	    "echo hello; echo oops >&2; printf 'a\\r\\nb\\n'; printf tail",
	    NULL};
	struct step_exec_conf conf = {argv};
	struct step_inst plan[] = {{&step_exec_def, &conf, 0, 0}};
	const struct msg *m;
	struct run *run;

	run = new_run(5000);
	run_add(run, &F->inv[0], plan, 1);
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	m = need_msg("fit01", "hello");
	assert_int_equal(m->source, BUS_SOURCE_STDOUT);
	assert_int_equal(m->level, LOG_LEVEL_INFO);
	m = need_msg("fit01", "oops");
	assert_int_equal(m->source, BUS_SOURCE_STDERR);
	assert_non_null(find_msg("fit01", "a")); /* \r\n stripped */
	assert_non_null(find_msg("fit01", "b"));
	m = need_msg("fit01", "tail"); /* no newline */
	assert_int_equal(m->source, BUS_SOURCE_STDOUT);
	assert_int_equal(F->nmsgs, 5);
	run_free(run);
}

/* The child gets stdin, stdout and stderr, and no other descriptor. */
static void
test_exec_no_fd_leak(void **state)
{
	const char *const argv[] = {"sh", "-c", "ls /proc/$$/fd", NULL};
	struct step_exec_conf conf = {argv};
	struct step_inst plan[] = {{&step_exec_def, &conf, 0, 0}};
	struct run *run;
	size_t i;
	int fd;

	/* A descriptor someone opened without O_CLOEXEC. */
	assert_true((fd = open("/dev/null", O_RDONLY)) > 2);
	run = new_run(5000);
	run_add(run, &F->inv[0], plan, 1);
	run_to_end(run);
	close(fd);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	assert_int_equal(F->nmsgs, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(atoi(F->msgs[i].text), (int)i);
	run_free(run);
}

/* Lines longer than CHILD_LINE_MAX arrive in bounded pieces. */
static void
test_exec_long_line(void **state)
{
	const char *const argv[] = {"sh", "-c",
	    "i=0; while [ $i -lt 2500 ]; do printf x; i=$((i+1)); done; echo",
	    NULL};
	struct step_exec_conf conf = {argv};
	struct step_inst plan[] = {{&step_exec_def, &conf, 0, 0}};
	struct run *run;
	size_t i, total = 0;

	run = new_run(5000);
	run_add(run, &F->inv[0], plan, 1);
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	assert_int_equal(F->nmsgs, 3);
	for (i = 0; i < F->nmsgs; i++) {
		assert_true(strlen(F->msgs[i].text) <= CHILD_LINE_MAX);
		assert_int_equal(strspn(F->msgs[i].text, "x"),
		    strlen(F->msgs[i].text));
		total += strlen(F->msgs[i].text);
	}
	assert_int_equal(strlen(F->msgs[0].text), CHILD_LINE_MAX);
	assert_int_equal(total, 2500);
	run_free(run);
}

static void
test_exec_substitution_env(void **state)
{
	const char *const argv[] = {"sh", "-c",
	    "echo $RHUBARB_NODE $0 $1 100%%", "%n", "%i %c", NULL};
	struct step_exec_conf conf = {argv};
	struct step_inst plan[] = {{&step_exec_def, &conf, 0, 0}};
	struct run *run;

	setenv("RHUBARB_NODE", "stale", 1);
	run = new_run(5000);
	run_add(run, &F->inv[1], plan, 1);
	run_add(run, &F->inv[2], plan, 1); /* no CMC for %c */
	run_to_end(run);
	unsetenv("RHUBARB_NODE");
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	assert_non_null(
	    find_msg("fit02", "fit02 fit02 192.168.3.2 reboot02 100%"));
	assert_int_equal(run_node(run, 1)->outcome, NODE_OUT_FAILED);
	assert_string_equal(run_node(run, 1)->why, "%c: fit03 has no CMC");
	run_free(run);
}

static void
test_exec_not_found(void **state)
{
	const char *const argv[] = {"/nonexistent/rhubarb-test", NULL};
	struct step_exec_conf conf = {argv};
	struct step_inst plan[] = {{&step_exec_def, &conf, 0, 0}};
	struct run *run;

	run = new_run(5000);
	run_add(run, &F->inv[0], plan, 1);
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_CHILD_FAILED);
	assert_string_equal(run_node(run, 0)->why,
	    "cannot run '/nonexistent/rhubarb-test': No such file or "
	    "directory");
	run_free(run);
}

/*
 * A command past its step deadline: SIGTERM to its process group, the
 * node ends "timeout" only once the child is reaped, others unaffected.
 */
static void
test_exec_timeout_kills(void **state)
{
	const char *const slow[] = {"sh", "-c", "sleep 30", NULL};
	const char *const fast[] = {"sh", "-c", "echo done", NULL};
	struct step_exec_conf cs = {slow}, cf = {fast};
	struct step_inst ps[] = {{&step_exec_def, &cs, 200, 0}};
	struct step_inst pf[] = {{&step_exec_def, &cf, 200, 0}};
	struct run *run;

	run = new_run(5000);
	run_add(run, &F->inv[0], ps, 1);
	run_add(run, &F->inv[1], pf, 1);
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_TIMEOUT);
	assert_string_equal(run_node(run, 0)->why,
	    "step exec: no result after 200ms");
	assert_int_equal(run_node(run, 1)->outcome, NODE_OUT_OK);
	assert_non_null(find_msg("fit02", "done"));
	/* Ended after the deadline, well before the SIGKILL grace. */
	assert_true(F->end_ms - F->t0 >= 200);
	assert_true(F->end_ms - F->t0 < CHILD_KILL_GRACE_MS);
	/* Reaped already: not even a zombie is left. */
	assert_true(F->pids[0] > 0);
	assert_int_equal(kill((pid_t)F->pids[0], 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(child_count(), 0);
	run_free(run);
}

/* A child that ignores SIGTERM gets SIGKILL after the grace period. */
static void
test_exec_term_ignored(void **state)
{
	const char *const argv[] = {"sh", "-c",
	    "trap '' TERM; echo ready; while :; do sleep 1; done", NULL};
	struct step_exec_conf conf = {argv};
	struct step_inst plan[] = {{&step_exec_def, &conf, 100, 0}};
	struct run *run;

	run = new_run(5000);
	run_add(run, &F->inv[0], plan, 1);
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_TIMEOUT);
	assert_true(F->end_ms - F->t0 >= 100 + CHILD_KILL_GRACE_MS);
	assert_true(F->end_ms - F->t0 < 100 + CHILD_KILL_GRACE_MS + 2000);
	assert_int_equal(kill((pid_t)F->pids[0], 0), -1);
	run_free(run);
}

/* Exited, but a background grandchild keeps the pipe: drained, done. */
static void
test_exec_pipe_held(void **state)
{
	const char *const argv[] = {"sh", "-c", "sleep 5 & echo parent", NULL};
	struct step_exec_conf conf = {argv};
	struct step_inst plan[] = {{&step_exec_def, &conf, 0, 0}};
	struct run *run;

	run = new_run(5000);
	run_add(run, &F->inv[0], plan, 1);
	run_to_end(run);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	assert_non_null(find_msg("fit01", "parent"));
	assert_true(F->end_ms - F->t0 >= CHILD_DRAIN_MS);
	assert_true(F->end_ms - F->t0 < 4000);
	/* The grandchild is not ours to wait for; stop it for teardown. */
	kill(-(pid_t)F->pids[0], SIGKILL);
	run_free(run);
}

/* SIGTERM to us: children are killed, nodes end "cancelled". */
static void
raise_cb(evutil_socket_t fd, short what, void *arg)
{
	raise(SIGTERM);
}

static void
test_exec_sigterm(void **state)
{
	const char *const argv[] = {"sleep", "30", NULL};
	struct step_exec_conf conf = {argv};
	struct step_inst plan[] = {{&step_exec_def, &conf, 0, 0}};
	struct event *ev;
	struct timeval tv = {0, 100000};
	struct run *run;
	size_t i;

	run = new_run(60000);
	for (i = 0; i < NNODES; i++)
		run_add(run, &F->inv[i], plan, 1);
	ev = evtimer_new(loop_base(), raise_cb, NULL);
	evtimer_add(ev, &tv);
	run_to_end(run);
	for (i = 0; i < NNODES; i++) {
		assert_int_equal(run_node(run, i)->outcome, NODE_OUT_CANCELLED);
		assert_int_equal(kill((pid_t)F->pids[i], 0), -1);
	}
	assert_true(F->end_ms - F->t0 < CHILD_KILL_GRACE_MS);
	event_free(ev);
	run_free(run);
}

/* Freed while children run: they are killed and reaped by loop_free. */
static void
exit_soon_cb(evutil_socket_t fd, short what, void *arg)
{
	loop_exit();
}

static void
test_exec_free_running(void **state)
{
	const char *const argv[] = {"sleep", "30", NULL};
	struct step_exec_conf conf = {argv};
	struct step_inst plan[] = {{&step_exec_def, &conf, 0, 0}};
	struct event *ev;
	struct timeval tv = {0, 50000};
	struct run *run;
	size_t i;

	run = new_run(60000);
	for (i = 0; i < NNODES; i++)
		run_add(run, &F->inv[i], plan, 1);
	ev = evtimer_new(loop_base(), exit_soon_cb, NULL);
	evtimer_add(ev, &tv);
	run_start(run);
	loop_run();
	assert_false(run_finished(run));
	assert_int_equal(child_count(), NNODES);
	event_free(ev);
	run_free(run);
	/* teardown: loop_free reaps them, child_count() is 0. */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_expand),
	    T(test_exec_true_false),
	    T(test_exec_output),
	    T(test_exec_no_fd_leak),
	    T(test_exec_long_line),
	    T(test_exec_substitution_env),
	    T(test_exec_not_found),
	    T(test_exec_timeout_kills),
	    T(test_exec_term_ignored),
	    T(test_exec_pipe_held),
	    T(test_exec_sigterm),
	    T(test_exec_free_running),
#undef T
	};

	log_set_stderr_ok(0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
