/*
 * Nextboot links and their journal, in temporary directories: link names,
 * set and clear (dangling links, regular files), replacement without a
 * moment without the link, the journal written before the link, and
 * recovery of dead runs' journals (but not of live ones, nor of links
 * someone repointed since).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/xmalloc.h"
#include "engine/nextboot.h"

#define MAC  "02:00:00:03:0A:01"
#define LINK "01-02-00-00-03-0a-01"

struct dirs {
	char top[64];
	char *state;
	char *pxe;
	char *link;
};

static int
setup(void **state)
{
	struct dirs *d = xcalloc(1, sizeof *d);

	strlcpy(d->top, "/tmp/test-nextboot.XXXXXX", sizeof d->top);
	assert_non_null(mkdtemp(d->top));
	xasprintf(&d->state, "%s/state", d->top);
	xasprintf(&d->pxe, "%s/pxelinux.cfg", d->top);
	xasprintf(&d->link, "%s/%s", d->pxe, LINK);
	assert_int_equal(mkdir(d->state, 0700), 0);
	assert_int_equal(mkdir(d->pxe, 0755), 0);
	*state = d;
	return (0);
}

static int
teardown(void **state)
{
	struct dirs *d = *state;
	char *cmd;

	xasprintf(&cmd, "rm -rf '%s'", d->top);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(d->state);
	free(d->pxe);
	free(d->link);
	free(d);
	return (0);
}

static char *
read_link(const char *path)
{
	char buf[PATH_MAX];
	ssize_t n;

	if ((n = readlink(path, buf, sizeof buf - 1)) == -1)
		return (NULL);
	buf[n] = '\0';
	return (xstrdup(buf));
}

static int
exists(const char *path)
{
	struct stat sb;

	return (lstat(path, &sb) == 0);
}

static char *
slurp(const char *path)
{
	char *buf = xcalloc(1, 65536);
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1) {
		free(buf);
		return (NULL);
	}
	assert_true(read(fd, buf, 65535) >= 0);
	close(fd);
	return (buf);
}

static void
test_link_path(void **state)
{
	static const struct {
		const char *dir, *mac, *want; /* want NULL: error */
	} cases[] = {
	    {"/t/p", "aa:bb:cc:dd:ee:ff", "/t/p/01-aa-bb-cc-dd-ee-ff"},
	    {"/t/p/", "AA:BB:CC:DD:EE:0F", "/t/p/01-aa-bb-cc-dd-ee-0f"},
	    {"/t/p", "aa-bb-cc-dd-ee-ff", "/t/p/01-aa-bb-cc-dd-ee-ff"},
	    {"/t/p", "aa:bb:cc:dd:ee", NULL},
	    {"/t/p", "aa:bb:cc:dd:ee:fg", NULL},
	    {"/t/p", "aa:bb:cc:dd:ee:ff:", NULL},
	    {"/t/p", "../../../etc/pass", NULL},
	    {"/t/p", "", NULL},
	};
	size_t i;
	char *p, *err;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		err = NULL;
		p = nextboot_link_path(cases[i].dir, cases[i].mac, &err);
		if (cases[i].want == NULL) {
			assert_null(p);
			assert_non_null(strstr(err, "malformed mac"));
			assert_null(strchr(err, '\n'));
			free(err);
		} else {
			assert_non_null(p);
			assert_string_equal(p, cases[i].want);
			free(p);
		}
	}
}

static void
test_bad_open(void **state)
{
	struct dirs *d = *state;
	static const char *ids[] = {"", "a/b", "a b", "../x", "x\ty"};
	char *err;
	size_t i;

	for (i = 0; i < nitems(ids); i++) {
		err = NULL;
		assert_null(nextboot_open(d->state, ids[i], d->pxe,
		    "pxefrisbee", &err));
		assert_non_null(strstr(err, "bad run id"));
		free(err);
	}
	err = NULL;
	assert_null(nextboot_open(d->state, "r1", d->pxe, "a\tb", &err));
	assert_non_null(err);
	free(err);
}

static void
test_set_clear(void **state)
{
	struct dirs *d = *state;
	struct nextboot *nb;
	char *err = NULL, *t;

	nb = nextboot_open(d->state, "run1", d->pxe, "pxefrisbee", &err);
	assert_non_null(nb);
	assert_true(exists(nextboot_journal(nb)));
	assert_int_equal(nextboot_set(nb, "fit01", MAC, &err), 0);
	t = read_link(d->link);
	assert_non_null(t);
	assert_string_equal(t, "pxefrisbee");
	free(t);
	/* Twice is fine (replaces). */
	assert_int_equal(nextboot_set(nb, "fit01", MAC, &err), 0);
	assert_int_equal(nextboot_clear(nb, "fit01", MAC, &err), 0);
	assert_false(exists(d->link));
	/* Clearing a missing link is fine. */
	assert_int_equal(nextboot_clear(nb, "fit01", MAC, &err), 0);
	/* A bad mac is an error naming the node. */
	assert_int_equal(nextboot_set(nb, "fit02", "zz", &err), -1);
	assert_non_null(strstr(err, "fit02: malformed mac"));
	free(err);
	err = NULL;

	/* close clears what is left and removes the journal */
	assert_int_equal(nextboot_set(nb, "fit01", MAC, &err), 0);
	t = xstrdup(nextboot_journal(nb));
	assert_int_equal(nextboot_close(nb, &err), 0);
	assert_false(exists(d->link));
	assert_false(exists(t));
	free(t);
}

static void
test_dangling_and_regular(void **state)
{
	struct dirs *d = *state;
	struct nextboot *nb;
	char *err = NULL, *other;
	int fd;

	nb = nextboot_open(d->state, "run2", d->pxe, "pxefrisbee", &err);
	assert_non_null(nb);
	/* Dangling (pxefrisbee does not exist in the dir): still removed. */
	assert_int_equal(symlink("no-such-image", d->link), 0);
	assert_int_equal(nextboot_clear(nb, "fit01", MAC, &err), 0);
	assert_false(exists(d->link));

	/* A regular file put there by hand: never removed nor replaced. */
	fd = open(d->link, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "default local\n", 14), 14);
	close(fd);
	assert_int_equal(nextboot_clear(nb, "fit01", MAC, &err), -1);
	assert_non_null(strstr(err, "not a link; left alone"));
	assert_non_null(strstr(err, "fit01: "));
	assert_null(strchr(err, '\n'));
	free(err);
	err = NULL;
	assert_int_equal(nextboot_set(nb, "fit01", MAC, &err), -1);
	assert_non_null(strstr(err, "left alone"));
	free(err);
	err = NULL;
	other = slurp(d->link);
	assert_string_equal(other, "default local\n");
	free(other);
	assert_int_equal(unlink(d->link), 0);
	assert_int_equal(nextboot_close(nb, &err), 0);
}

/*
 * Replace the link many times while a child lstat()s it in a loop: the
 * child must never find it missing.
 */
static void
test_atomic_replace(void **state)
{
	struct dirs *d = *state;
	struct nextboot *nb;
	char *err = NULL;
	int i, status;
	pid_t pid;

	nb = nextboot_open(d->state, "run3", d->pxe, "pxefrisbee", &err);
	assert_non_null(nb);
	assert_int_equal(symlink("other-image", d->link), 0);
	if ((pid = fork()) == 0) {
		struct stat sb;
		unsigned long misses = 0;

		for (;;) {
			if (lstat(d->link, &sb) != 0)
				misses++;
			if (getppid() == 1 || access(d->top, F_OK) != 0)
				_exit(3);
			if (misses > 0)
				_exit(1);
		}
	}
	assert_true(pid > 0);
	usleep(20000); /* let the child start looking */
	for (i = 0; i < 300; i++)
		assert_int_equal(nextboot_set(nb, "fit01", MAC, &err), 0);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* Killed while still looping: it never saw the link missing. */
	assert_true(WIFSIGNALED(status));
	assert_int_equal(nextboot_close(nb, &err), 0);
}

/* The journal has the line before the link exists (here: never can). */
static void
test_journal_first(void **state)
{
	struct dirs *d = *state;
	struct nextboot *nb;
	char *err = NULL, *missing, *j, *text;

	xasprintf(&missing, "%s/no-such-dir", d->top);
	nb = nextboot_open(d->state, "run4", missing, "pxefrisbee", &err);
	assert_non_null(nb);
	assert_int_equal(nextboot_set(nb, "fit07", MAC, &err), -1);
	assert_non_null(strstr(err, "fit07: "));
	free(err);
	err = NULL;
	text = slurp(nextboot_journal(nb));
	assert_non_null(text);
	assert_non_null(strstr(text, "#rhubarb-nextboot\trun4\t"));
	assert_non_null(strstr(text, "run4\t"));
	assert_non_null(strstr(text, "\tfit07\t"));
	assert_non_null(strstr(text, "/no-such-dir/" LINK "\tpxefrisbee\n"));
	free(text);
	j = xstrdup(nextboot_journal(nb));
	assert_int_equal(nextboot_close(nb, &err), 0);
	assert_false(exists(j));
	free(j);
	free(missing);
}

/* Count the lines of text holding needle. */
static int
count(const char *text, const char *needle)
{
	const char *p;
	int n = 0;

	for (p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return (n);
}

/*
 * Reserved links: journaled at once, each once; set makes the link
 * without journaling it again; close removes only the links set.
 */
static void
test_reserve(void **state)
{
	static const char *const nodes[] = {"fit01", "fit02", "fit03"};
	static const char *const macs[] = {"02:00:00:00:00:01",
	    "02:00:00:00:00:02", MAC};
	struct dirs *d = *state;
	struct nextboot *nb;
	char *err = NULL, *text, *other, *j;

	nb = nextboot_open(d->state, "run9", d->pxe, "pxefrisbee", &err);
	assert_non_null(nb);
	assert_int_equal(nextboot_reserve(nb, nodes, macs, 3, &err), 0);
	/* Again: nothing more. */
	assert_int_equal(nextboot_reserve(nb, nodes, macs, 3, &err), 0);
	text = slurp(nextboot_journal(nb));
	assert_int_equal(count(text, "run9\t"), 4); /* header + 3 */
	free(text);
	assert_false(exists(d->link));

	assert_int_equal(nextboot_set(nb, "fit03", MAC, &err), 0);
	text = slurp(nextboot_journal(nb));
	assert_int_equal(count(text, "\tfit03\t"), 1);
	free(text);
	assert_true(exists(d->link));
	/* A node outside the reservation is journaled as it is set. */
	assert_int_equal(nextboot_set(nb, "fit04", "02:00:00:00:00:04", &err),
	    0);
	text = slurp(nextboot_journal(nb));
	assert_int_equal(count(text, "\tfit04\t"), 1);
	free(text);

	/* Someone else's link for a reserved node is not ours to remove. */
	xasprintf(&other, "%s/01-02-00-00-00-00-01", d->pxe);
	assert_int_equal(symlink("local", other), 0);
	j = xstrdup(nextboot_journal(nb));
	assert_int_equal(nextboot_close(nb, &err), 0);
	assert_false(exists(d->link));
	assert_true(exists(other));
	assert_false(exists(j));
	free(j);
	free(other);

	/* A bad MAC refuses the whole reservation. */
	nb = nextboot_open(d->state, "run10", d->pxe, "pxefrisbee", &err);
	assert_non_null(nb);
	assert_int_equal(
	    nextboot_reserve(nb, nodes,
		(const char *const[]){"02:00:00:00:00:01", "zz", MAC}, 3, &err),
	    -1);
	assert_non_null(strstr(err, "fit02: "));
	free(err);
	err = NULL;
	assert_int_equal(nextboot_close(nb, &err), 0);
}

/* Write a journal by hand, as a run with that pid would have. */
static char *
write_journal(struct dirs *d, const char *run, long pid,
    unsigned long long start, const char *target)
{
	char *dir, *path;
	FILE *f;

	xasprintf(&dir, "%s/nextboot", d->state);
	(void)mkdir(dir, 0700);
	xasprintf(&path, "%s/%ld-%s.journal", dir, pid, run);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#rhubarb-nextboot\t%s\t%ld\t%llu\n", run, pid, start);
	fprintf(f, "%s\t%ld\tfit01\t%s\t%s\n", run, pid, d->link, target);
	assert_int_equal(fclose(f), 0);
	free(dir);
	return (path);
}

static long
dead_pid(void)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0)
		_exit(0);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return (pid);
}

static void
test_recover_dead(void **state)
{
	struct dirs *d = *state;
	struct nextboot_recovered *list;
	char *err = NULL, *j;
	long pid = dead_pid();
	size_t n;

	j = write_journal(d, "dead1", pid, 12345, "pxefrisbee");
	assert_int_equal(symlink("pxefrisbee", d->link), 0);
	assert_int_equal(nextboot_recover(d->state, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].run_id, "dead1");
	assert_int_equal(list[0].pid, pid);
	assert_int_equal(list[0].removed, 1);
	assert_int_equal(list[0].kept, 0);
	assert_null(list[0].error);
	nextboot_recovered_free(list, n);
	assert_false(exists(d->link));
	assert_false(exists(j));
	/* Nothing left to do the second time. */
	assert_int_equal(nextboot_recover(d->state, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(list);
	free(j);
}

/* A process in a group of its own that waits to be killed. */
static pid_t
group_leader(void)
{
	pid_t pid;

	if ((pid = fork()) == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	assert_true(pid > 0);
	setpgid(pid, pid); /* either of us may get there first */
	return (pid);
}

/*
 * The processes a dead run journaled are stopped (SIGTERM to their
 * group), but only if they are still the processes it started.
 */
static void
test_recover_process(void **state)
{
	struct dirs *d = *state;
	struct nextboot_recovered *list;
	char *err = NULL, *j;
	pid_t live = group_leader(), other = group_leader();
	long pid = dead_pid();
	size_t n;
	FILE *f;
	int status;

	j = write_journal(d, "dead3", pid, 12345, "pxefrisbee");
	f = fopen(j, "a");
	assert_non_null(f);
	fprintf(f, "#process\t%ld\t%llu\tfrisbeed\n", (long)live,
	    nextboot_proc_start(live));
	/* Same pid, another start time: someone else's now. */
	fprintf(f, "#process\t%ld\t%llu\tfrisbeed\n", (long)other,
	    nextboot_proc_start(other) + 1);
	assert_int_equal(fclose(f), 0);

	assert_int_equal(nextboot_recover(d->state, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].stopped, 1);
	nextboot_recovered_free(list, n);
	assert_int_equal(waitpid(live, &status, 0), live);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	/* The other one is still there. */
	assert_int_equal(waitpid(other, &status, WNOHANG), 0);
	kill(other, SIGKILL);
	assert_int_equal(waitpid(other, &status, 0), other);
	assert_false(exists(j));
	free(j);
}

/* Our own pid but another start time: a reused pid, so dead. */
static void
test_recover_reused_pid(void **state)
{
	struct dirs *d = *state;
	struct nextboot_recovered *list;
	char *err = NULL, *j;
	size_t n;

	j = write_journal(d, "reused", getpid(),
	    nextboot_proc_start(getpid()) + 1, "pxefrisbee");
	assert_int_equal(symlink("pxefrisbee", d->link), 0);
	assert_int_equal(nextboot_recover(d->state, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].removed, 1);
	nextboot_recovered_free(list, n);
	assert_false(exists(d->link));
	assert_false(exists(j));
	free(j);
}

static void
test_recover_live(void **state)
{
	struct dirs *d = *state;
	struct nextboot_recovered *list;
	struct nextboot *nb;
	char *err = NULL, *j;
	size_t n;

	/* A hand-written journal of a live process (us): left alone. */
	assert_true(nextboot_proc_start(getpid()) != 0);
	j = write_journal(d, "live", getpid(), nextboot_proc_start(getpid()),
	    "pxefrisbee");
	assert_int_equal(symlink("pxefrisbee", d->link), 0);
	assert_int_equal(nextboot_recover(d->state, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_true(exists(d->link));
	assert_true(exists(j));
	assert_int_equal(unlink(j), 0);
	free(j);

	/* An open run: its journal is locked, whatever its content says. */
	nb = nextboot_open(d->state, "open", d->pxe, "pxefrisbee", &err);
	assert_non_null(nb);
	assert_int_equal(nextboot_set(nb, "fit01", MAC, &err), 0);
	assert_int_equal(nextboot_recover(d->state, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_true(exists(d->link));
	assert_true(exists(nextboot_journal(nb)));
	assert_int_equal(nextboot_close(nb, &err), 0);
	assert_false(exists(d->link));
}

static void
test_recover_repointed(void **state)
{
	struct dirs *d = *state;
	struct nextboot_recovered *list;
	char *err = NULL, *j, *t;
	size_t n;

	j = write_journal(d, "dead2", dead_pid(), 1, "pxefrisbee");
	assert_int_equal(symlink("someone-else", d->link), 0);
	assert_int_equal(nextboot_recover(d->state, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].removed, 0);
	assert_int_equal(list[0].kept, 1);
	nextboot_recovered_free(list, n);
	t = read_link(d->link);
	assert_non_null(t);
	assert_string_equal(t, "someone-else");
	free(t);
	assert_false(exists(j));
	free(j);
}

static void
test_recover_garbage(void **state)
{
	struct dirs *d = *state;
	struct nextboot_recovered *list;
	char *err = NULL, *dir, *path;
	FILE *f;
	size_t n;

	/* No directory at all: nothing to do, no error. */
	assert_int_equal(nextboot_recover(d->state, &list, &n, &err), 0);
	assert_int_equal(n, 0);

	xasprintf(&dir, "%s/nextboot", d->state);
	assert_int_equal(mkdir(dir, 0700), 0);
	xasprintf(&path, "%s/1-x.journal", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("hello\n", f);
	fclose(f);
	assert_int_equal(nextboot_recover(d->state, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_non_null(list[0].error);
	assert_non_null(strstr(list[0].error, "not a nextboot journal"));
	nextboot_recovered_free(list, n);
	assert_true(exists(path));
	free(path);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_link_path),
	    cmocka_unit_test_setup_teardown(test_bad_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_clear, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dangling_and_regular, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_atomic_replace, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_journal_first, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_reserve, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recover_dead, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recover_process, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_recover_reused_pid, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_recover_live, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recover_repointed, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_recover_garbage, setup,
		teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
