/*
 * The run's frisbeed server, with shell-script stand-ins written into a
 * temporary directory: the first free group and port is chosen when a
 * test socket holds the first pair or when the server says "Could not
 * bind" (exit 98); every pair taken, a missing or non-executable program
 * and a server that exits at once give one-line errors; a server that
 * dies after it settled is reported lost; a stop ends a server by SIGTERM,
 * and one that ignores SIGTERM by SIGKILL; output lines reach the line
 * callback and the log. Every loop run is bounded by a guard timer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/child.h"
#include "engine/frisbeed.h"
#include "engine/loop.h"
#include "tests/unit/guard.h"

#define GUARD_MS (FRISBEED_STOP_MS + 5000)
#define MAXEV    8
#define MAXLINES 16

struct fixture {
	char dir[64];
	char logpath[96];
	char image[96];
	int base; /* port base */
	struct guard guard;

	enum frisbeed_event evs[MAXEV];
	char whys[MAXEV][256];
	int has_why[MAXEV];
	size_t nevs;
	char lines[MAXLINES][256];
	size_t nlines;
	int free_on_lost;
};

static struct fixture *F;

static void
ev_cb(struct frisbeed *f, enum frisbeed_event ev, const char *why, void *arg)
{
	if (F->nevs < MAXEV) {
		F->evs[F->nevs] = ev;
		F->has_why[F->nevs] = why != NULL;
		if (why != NULL)
			strlcpy(F->whys[F->nevs], why, sizeof F->whys[0]);
		F->nevs++;
	}
	if (ev == FRISBEED_LOST && F->free_on_lost)
		frisbeed_free(f);
	loop_exit();
}

static void
line_cb(struct frisbeed *f, int is_stderr, const char *line, void *arg)
{
	if (F->nlines < MAXLINES)
		snprintf(F->lines[F->nlines++], sizeof F->lines[0], "%s%s",
		    is_stderr ? "2:" : "1:", line);
}

/* Run the loop until the n-th event has come (or the guard fires). */
static void
wait_events(size_t n)
{
	while (F->nevs < n && !F->guard.fired)
		loop_run();
	assert_false(F->guard.fired);
	assert_int_equal(F->nevs, n);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp;

	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* DIR/name, a shell script with body after a line printing its args. */
static char *
script(const char *name, const char *body)
{
	char *path, *text;

	xasprintf(&path, "%s/%s", F->dir, name);
	xasprintf(&text, "#!/bin/sh\necho \"args: $*\"\n%s\n", body);
	write_file(path, text, 0755);
	free(text);
	return (path);
}

/* A UDP socket holding group:port, as another run's server would. */
static int
try_hold(const char *group, int port)
{
	struct sockaddr_in sin;
	int fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, group, &sin.sin_addr), 1);
	assert_true((fd = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
hold(const char *group, int port)
{
	int fd;

	assert_true((fd = try_hold(group, port)) >= 0);
	return (fd);
}

static void
params(struct frisbeed_params *p, const char *server)
{
	memset(p, 0, sizeof *p);
	p->server = server;
	p->server_options = "  -K 3\t";
	p->local_ip = "127.0.0.1";
	p->bandwidth = 500;
	p->image = F->image;
	p->pattern_multicast = "234.5.6.*";
	p->port_base = F->base;
	p->pattern_size = 3;
	p->settle_ms = 200;
}

static int
log_has(const char *text)
{
	FILE *fp;
	char line[1024];
	int found = 0;

	if ((fp = fopen(F->logpath, "r")) == NULL)
		return (0);
	while (!found && fgets(line, sizeof line, fp) != NULL)
		found = strstr(line, text) != NULL;
	fclose(fp);
	return (found);
}

static int
setup(void **state)
{
	char *err = NULL;
	int fd, i, free_pairs;

	F = xcalloc(1, sizeof *F);
	strlcpy(F->dir, "/tmp/test-frisbeed.XXXXXX", sizeof F->dir);
	assert_non_null(mkdtemp(F->dir));
	snprintf(F->logpath, sizeof F->logpath, "%s/log", F->dir);
	snprintf(F->image, sizeof F->image, "%s/img.ndz", F->dir);
	write_file(F->image, "image", 0644);
	log_open(F->logpath, 0);
	log_set_level(LOG_LEVEL_DEBUG);
	assert_int_equal(loop_init(&err), 0);
	guard_init(&F->guard, loop_base());
	guard_arm(&F->guard, GUARD_MS);

	/* A port range nobody else on this machine uses right now. */
	for (F->base = 20000 + (int)(getpid() % 1000) * 20;; F->base += 7) {
		free_pairs = 1;
		for (i = 1; i <= 3 && free_pairs; i++) {
			char group[32];

			snprintf(group, sizeof group, "234.5.6.%d", i);
			if ((fd = try_hold(group, F->base + i)) == -1)
				free_pairs = 0;
			else
				close(fd);
		}
		if (free_pairs)
			break;
	}
	*state = F;
	return (0);
}

static int
teardown(void **state)
{
	char *cmd;

	guard_free(&F->guard);
	loop_free();
	assert_int_equal(child_count(), 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	log_close();
	xasprintf(&cmd, "rm -rf '%s'", F->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(F);
	F = NULL;
	return (0);
}

/* A test socket holds pair 1: the server gets pair 2; SIGTERM stops it. */
static void
test_next_pair_and_stop(void **state)
{
	struct frisbeed_params p;
	struct frisbeed *f;
	char *server, *err, want[512];
	int fd;
	long pid;

	server = script("serve", "exec sleep 30");
	fd = hold("234.5.6.1", F->base + 1);
	params(&p, server);
	f = frisbeed_start(&p, ev_cb, line_cb, NULL, &err);
	assert_non_null(f);
	assert_null(err);
	assert_string_equal(frisbeed_group(f), "234.5.6.2");
	assert_int_equal(frisbeed_port(f), F->base + 2);
	assert_false(frisbeed_serving(f));
	wait_events(1);
	assert_int_equal(F->evs[0], FRISBEED_READY);
	assert_true(frisbeed_serving(f));
	snprintf(want, sizeof want,
	    "frisbeed@234.5.6.2:%d on img.ndz at 500 Mibps", F->base + 2);
	assert_string_equal(frisbeed_describe(f), want);

	/* rhubarbe's argument order, options split on blanks. */
	assert_true(F->nlines >= 1);
	snprintf(want, sizeof want,
	    "1:args: -i 127.0.0.1 -W 524288000 %s -K 3 -m 234.5.6.2 -p %d",
	    F->image, F->base + 2);
	assert_string_equal(F->lines[0], want);
	snprintf(want, sizeof want, "frisbeed 234.5.6.2:%d: args: -i",
	    F->base + 2);
	assert_true(log_has(want));

	pid = frisbeed_pid(f);
	assert_true(pid > 0);
	assert_int_equal(frisbeed_stop(f), 1);
	assert_int_equal(frisbeed_stop(f), 0);
	wait_events(2);
	assert_int_equal(F->evs[1], FRISBEED_STOPPED);
	assert_false(F->has_why[1]);
	assert_false(frisbeed_serving(f));
	assert_int_equal(frisbeed_pid(f), -1);
	assert_int_equal(kill((pid_t)pid, 0), -1);
	snprintf(want, sizeof want,
	    "frisbeed 234.5.6.2:%d: stopped (killed by "
	    "SIGTERM)",
	    F->base + 2);
	assert_true(log_has(want));
	frisbeed_free(f);
	close(fd);
	free(server);
}

/*
 * The server's own bind fails (another run took the pair after our
 * probe): "Could not bind", exit 98, and the next pair is tried.
 */
static void
test_server_busy_tries_next(void **state)
{
	struct frisbeed_params p;
	struct frisbeed *f;
	char *server, *body, *err;

	xasprintf(&body,
	    "for a; do port=$a; done\n"
	    "if [ $port = %d ]; then\n"
	    "  echo \"Could not bind to port $port!\" >&2; exit 98\n"
	    "fi\n"
	    "exec sleep 30",
	    F->base + 1);
	server = script("busy", body);
	params(&p, server);
	f = frisbeed_start(&p, ev_cb, line_cb, NULL, &err);
	assert_non_null(f);
	assert_string_equal(frisbeed_group(f), "234.5.6.1");
	wait_events(1);
	assert_int_equal(F->evs[0], FRISBEED_READY);
	assert_string_equal(frisbeed_group(f), "234.5.6.2");
	assert_int_equal(frisbeed_port(f), F->base + 2);
	assert_int_equal(frisbeed_stop(f), 1);
	wait_events(2);
	assert_int_equal(F->evs[1], FRISBEED_STOPPED);
	frisbeed_free(f);
	free(body);
	free(server);
}

/* Every pair held: nothing starts, one line says why. */
static void
test_all_taken(void **state)
{
	struct frisbeed_params p;
	char *server, *err, want[256];
	int fds[3], i;

	server = script("serve", "exec sleep 30");
	for (i = 0; i < 3; i++) {
		char group[32];

		snprintf(group, sizeof group, "234.5.6.%d", i + 1);
		fds[i] = hold(group, F->base + i + 1);
	}
	params(&p, server);
	assert_null(frisbeed_start(&p, ev_cb, line_cb, NULL, &err));
	snprintf(want, sizeof want,
	    "frisbeed: every group and port is taken (234.5.6.1:%d to "
	    "234.5.6.3:%d)",
	    F->base + 1, F->base + 3);
	assert_string_equal(err, want);
	free(err);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	assert_int_equal(child_count(), 0);
	free(server);
}

/* Missing, not executable, bad parameters: one line each. */
static void
test_cannot_start(void **state)
{
	struct frisbeed_params p;
	char *path, *err, want[256];

	params(&p, "/nonexistent/frisbeed");
	assert_null(frisbeed_start(&p, ev_cb, NULL, NULL, &err));
	assert_string_equal(err,
	    "frisbeed: cannot run '/nonexistent/frisbeed': "
	    "No such file or directory");
	free(err);

	params(&p, "rhubarb-no-such-frisbeed");
	assert_null(frisbeed_start(&p, ev_cb, NULL, NULL, &err));
	assert_string_equal(err,
	    "frisbeed: cannot run "
	    "'rhubarb-no-such-frisbeed': No such file or "
	    "directory");
	free(err);

	/* No x bit at all: even root cannot run it. */
	xasprintf(&path, "%s/noexec", F->dir);
	write_file(path, "#!/bin/sh\n", 0644);
	params(&p, path);
	assert_null(frisbeed_start(&p, ev_cb, NULL, NULL, &err));
	snprintf(want, sizeof want,
	    "frisbeed: cannot run '%s': Permission denied", path);
	assert_string_equal(err, want);
	free(err);
	free(path);

	params(&p, "frisbeed");
	p.local_ip = "";
	assert_null(frisbeed_start(&p, ev_cb, NULL, NULL, &err));
	assert_string_equal(err,
	    "frisbeed: no local IP (set [networking] "
	    "local_control_ip)");
	free(err);

	params(&p, "frisbeed");
	p.pattern_multicast = "234.5.*.6";
	assert_null(frisbeed_start(&p, ev_cb, NULL, NULL, &err));
	assert_string_equal(err,
	    "frisbeed: bad multicast pattern '234.5.*.6' "
	    "(want a.b.c.*)");
	free(err);

	/* The prefix form (config_port_base's) is accepted. */
	params(&p, "/nonexistent/frisbeed");
	p.pattern_multicast = "234.5.6.";
	assert_null(frisbeed_start(&p, ev_cb, NULL, NULL, &err));
	assert_non_null(strstr(err, "cannot run"));
	free(err);
	assert_int_equal(F->nevs, 0);
}

/* It exits at once for another reason: FAILED, with its last line. */
static void
test_exits_at_once(void **state)
{
	struct frisbeed_params p;
	struct frisbeed *f;
	char *server, *err, want[256];

	server = script("bad", "echo 'Cannot read img.ndz' >&2; exit 1");
	params(&p, server);
	f = frisbeed_start(&p, ev_cb, line_cb, NULL, &err);
	assert_non_null(f);
	wait_events(1);
	assert_int_equal(F->evs[0], FRISBEED_FAILED);
	snprintf(want, sizeof want,
	    "frisbeed 234.5.6.1:%d exited at once (exit 1): Cannot read "
	    "img.ndz",
	    F->base + 1);
	assert_string_equal(F->whys[0], want);
	assert_false(frisbeed_serving(f));
	assert_int_equal(frisbeed_stop(f), 0);
	frisbeed_free(f);
	free(server);
}

/* It dies after it settled: LOST; freeing it from the callback is safe. */
static void
test_lost(void **state)
{
	struct frisbeed_params p;
	struct frisbeed *f;
	char *server, *err, want[256];

	server = script("dies", "sleep 1; echo 'out of memory' >&2; exit 3");
	params(&p, server);
	F->free_on_lost = 1;
	f = frisbeed_start(&p, ev_cb, line_cb, NULL, &err);
	assert_non_null(f);
	wait_events(2);
	assert_int_equal(F->evs[0], FRISBEED_READY);
	assert_int_equal(F->evs[1], FRISBEED_LOST);
	snprintf(want, sizeof want,
	    "frisbeed 234.5.6.1:%d died (exit 3): out of memory", F->base + 1);
	assert_string_equal(F->whys[1], want);
	assert_string_equal(F->lines[1], "2:out of memory");
	free(server);
}

/* SIGTERM ignored: SIGKILL after the grace, and STOPPED within bound. */
static void
test_stop_needs_sigkill(void **state)
{
	struct frisbeed_params p;
	struct frisbeed *f;
	char *server, *err, want[256];

	server = script("stubborn",
	    "trap '' TERM\necho ready\nwhile :; do sleep 1; done");
	params(&p, server);
	f = frisbeed_start(&p, ev_cb, line_cb, NULL, &err);
	assert_non_null(f);
	wait_events(1);
	assert_int_equal(F->evs[0], FRISBEED_READY);
	assert_int_equal(frisbeed_stop(f), 1);
	wait_events(2);
	assert_int_equal(F->evs[1], FRISBEED_STOPPED);
	assert_false(F->has_why[1]);
	snprintf(want, sizeof want,
	    "frisbeed 234.5.6.1:%d: stopped (killed by SIGKILL)", F->base + 1);
	assert_true(log_has(want));
	frisbeed_free(f);
	free(server);
}

/* Freed while it runs: killed and reaped, no callback. */
static void
test_free_running(void **state)
{
	struct frisbeed_params p;
	struct frisbeed *f;
	char *server, *err;

	server = script("serve", "exec sleep 30");
	params(&p, server);
	f = frisbeed_start(&p, ev_cb, line_cb, NULL, &err);
	assert_non_null(f);
	frisbeed_free(f);
	free(server);
	assert_int_equal(F->nevs, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_next_pair_and_stop, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_server_busy_tries_next, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_all_taken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cannot_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exits_at_once, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_lost, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_needs_sigkill, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_free_running, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
