/*
 * Child processes. Spawned with posix_spawnp (vfork speed with thousands
 * of nodes); every descriptor we make is close-on-exec, and the child gets
 * only its three stdio descriptors. Pipes are read with plain events into a
 * fixed buffer, so a child printing without newlines cannot grow our memory.
 *
 * A child struct stays on child_list until its pid is reaped and its pipes
 * are closed; one freed by its owner before that is an orphan: killed,
 * silent, and freed when reaped.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/child.h"
#include "engine/loop.h"

extern char **environ;

struct child;

struct child_stream {
	struct child *c;
	int fd; /* -1 once closed */
	int is_stderr;
	struct event *ev;
	size_t len;
	char buf[CHILD_LINE_MAX + 1]; /* + NUL */
};

/* What the timer is waiting for. */
enum child_timer {
	CHILD_TIMER_NONE,
	CHILD_TIMER_DRAIN, /* exited; pipes still open */
	CHILD_TIMER_TERM,  /* SIGTERM sent; SIGKILL next */
	CHILD_TIMER_KILL,  /* SIGKILL sent; close pipes next */
};

struct child {
	pid_t pid;
	int exited; /* reaped */
	int status;
	int done; /* done_cb called */
	int dead; /* freed by its owner */
	int killing;
	int detached; /* outlived the loop */
	enum child_timer timer_for;
	struct event *timer;
	struct child_stream out;
	struct child_stream err;
	child_line_cb line_cb;
	child_done_cb done_cb;
	void *arg;
	TAILQ_ENTRY(child) entry;
};

static TAILQ_HEAD(, child) child_list = TAILQ_HEAD_INITIALIZER(child_list);

static void child_read_cb(evutil_socket_t, short, void *);
static void child_timer_cb(evutil_socket_t, short, void *);
static void child_check_complete(struct child *);
static void child_close_stream(struct child_stream *);
static void child_signal(struct child *, int);
static void child_destroy(void *);

/* Build environ plus env_add, with env_add winning. */
static char **
child_environ(char *const *env_add)
{
	char **envp;
	size_t n = 0, nadd = 0, i, j, k;
	int replaced;

	while (environ[n] != NULL)
		n++;
	while (env_add != NULL && env_add[nadd] != NULL)
		nadd++;
	envp = xcalloc(n + nadd + 1, sizeof *envp);
	k = 0;
	for (i = 0; i < n; i++) {
		replaced = 0;
		for (j = 0; j < nadd; j++) {
			size_t len = strcspn(env_add[j], "=");
			if (strncmp(environ[i], env_add[j], len + 1) == 0)
				replaced = 1;
		}
		if (!replaced)
			envp[k++] = environ[i];
	}
	for (j = 0; j < nadd; j++)
		envp[k++] = env_add[j];
	envp[k] = NULL;
	return (envp);
}

static int
child_stream_open(struct child *c, struct child_stream *s, int fd,
    int is_stderr)
{
	s->c = c;
	s->fd = fd;
	s->is_stderr = is_stderr;
	s->len = 0;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		return (-1);
	s->ev =
	    event_new(loop_base(), fd, EV_READ | EV_PERSIST, child_read_cb, s);
	if (s->ev == NULL || event_add(s->ev, NULL) != 0)
		return (-1);
	return (0);
}

struct child *
child_start(char *const *argv, char *const *env_add, child_line_cb line_cb,
    child_done_cb done_cb, void *arg, char **errp)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct child *c;
	sigset_t set;
	char **envp;
	int outpipe[2] = {-1, -1};
	int errpipe[2] = {-1, -1};
	int r;

	*errp = NULL;
	assert(argv != NULL && argv[0] != NULL);
	if (pipe2(outpipe, O_CLOEXEC) != 0 || pipe2(errpipe, O_CLOEXEC) != 0) {
		xasprintf(errp, "pipe: %s", strerror(errno));
		goto fail;
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outpipe[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errpipe[1], 2);
	/*
	 * Nothing else: not a descriptor someone opened without O_CLOEXEC
	 * (the log file), nor one we inherited (glibc >= 2.34).
	 */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	/*
	 * Own process group (so kill reaches grandchildren, and ^C on the
	 * terminal reaches only us); default dispositions, since the loop
	 * ignores SIGPIPE and ignored signals survive exec; empty mask.
	 */
	posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
		POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0);
	sigfillset(&set);
	posix_spawnattr_setsigdefault(&attr, &set);
	sigemptyset(&set);
	posix_spawnattr_setsigmask(&attr, &set);

	c = xcalloc(1, sizeof *c);
	c->out.fd = c->err.fd = -1;
	envp = child_environ(env_add);
	r = posix_spawnp(&c->pid, argv[0], &fa, &attr, argv, envp);
	free(envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0) {
		xasprintf(errp, "cannot run '%s': %s", argv[0], strerror(r));
		free(c);
		goto fail;
	}
	close(outpipe[1]);
	close(errpipe[1]);
	outpipe[1] = errpipe[1] = -1;

	c->line_cb = line_cb;
	c->done_cb = done_cb;
	c->arg = arg;
	TAILQ_INSERT_TAIL(&child_list, c, entry);
	c->timer = evtimer_new(loop_base(), child_timer_cb, c);
	if (c->timer == NULL ||
	    child_stream_open(c, &c->out, outpipe[0], 0) != 0 ||
	    child_stream_open(c, &c->err, errpipe[0], 1) != 0) {
		/* Only resource exhaustion gets here; the pid is reaped. */
		if (c->out.fd == -1)
			close(outpipe[0]);
		if (c->err.fd == -1)
			close(errpipe[0]);
		xasprintf(errp, "cannot watch '%s': out of resources", argv[0]);
		child_free(c);
		return (NULL);
	}
	log_debug("%s: pid %ld: %s", __func__, (long)c->pid, argv[0]);
	return (c);

fail:
	if (outpipe[0] != -1)
		close(outpipe[0]);
	if (outpipe[1] != -1)
		close(outpipe[1]);
	if (errpipe[0] != -1)
		close(errpipe[0]);
	if (errpipe[1] != -1)
		close(errpipe[1]);
	return (NULL);
}

pid_t
child_pid(const struct child *c)
{
	return (c->pid);
}

/* Send sig to the child's process group (or what is left of it). */
static void
child_signal(struct child *c, int sig)
{
	if (kill(-c->pid, sig) != 0 && !c->exited)
		kill(c->pid, sig);
}

static void
child_arm(struct child *c, enum child_timer what, uint64_t ms)
{
	struct timeval tv;

	c->timer_for = what;
	loop_ms_to_timeval(ms, &tv);
	evtimer_add(c->timer, &tv);
}

void
child_kill(struct child *c)
{
	if (c->done || c->dead || c->killing)
		return;
	log_debug("%s: pid %ld: SIGTERM", __func__, (long)c->pid);
	c->killing = 1;
	child_signal(c, SIGTERM);
	child_arm(c, CHILD_TIMER_TERM, CHILD_KILL_GRACE_MS);
}

/* The timer: drain after exit, or the next step of a kill. */
static void
child_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;

	switch (c->timer_for) {
	case CHILD_TIMER_TERM:
		log_debug("%s: pid %ld: still there, SIGKILL", __func__,
		    (long)c->pid);
		child_signal(c, SIGKILL);
		child_arm(c, CHILD_TIMER_KILL, CHILD_KILL_FORCE_MS);
		return;
	case CHILD_TIMER_DRAIN:
	case CHILD_TIMER_KILL:
		/*
		 * Something outside the group (or stuck) holds the pipes:
		 * stop reading; completion then only needs the exit.
		 */
		log_debug("%s: pid %ld: closing pipes still open", __func__,
		    (long)c->pid);
		c->timer_for = CHILD_TIMER_NONE;
		child_close_stream(&c->out);
		child_close_stream(&c->err);
		child_check_complete(c);
		return;
	case CHILD_TIMER_NONE:
		break;
	}
}

static void
child_close_stream(struct child_stream *s)
{
	if (s->fd == -1)
		return;
	loop_event_free(s->ev);
	s->ev = NULL;
	close(s->fd);
	s->fd = -1;
}

/* Deliver a complete line from s->buf[start..end) (NUL-terminated). */
static int
child_emit(struct child_stream *s, char *line, size_t len)
{
	struct child *c = s->c;

	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[len - 1] = '\0';
	c->line_cb(c, s->is_stderr, line, c->arg);
	return (c->dead ? -1 : 0);
}

/*
 * Pipe readable: read what fits, hand out every complete line, keep the
 * partial one. A full buffer with no newline is handed out as it is.
 */
static void
child_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child_stream *s = arg;
	struct child *c = s->c;
	char *start, *nl;
	ssize_t n;
	size_t left;

	n = read(s->fd, s->buf + s->len, CHILD_LINE_MAX - s->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n == -1)
			log_debug("%s: pid %ld: read: %s", __func__,
			    (long)c->pid, strerror(errno));
		if (s->len > 0 && child_emit(s, s->buf, s->len) != 0)
			return;
		s->len = 0;
		child_close_stream(s);
		child_check_complete(c);
		return;
	}
	s->len += (size_t)n;

	start = s->buf;
	left = s->len;
	while ((nl = memchr(start, '\n', left)) != NULL) {
		size_t len = (size_t)(nl - start);
		if (child_emit(s, start, len) != 0)
			return;
		start = nl + 1;
		left -= len + 1;
	}
	if (left == CHILD_LINE_MAX) {
		if (child_emit(s, start, left) != 0)
			return;
		left = 0;
	}
	memmove(s->buf, start, left);
	s->len = left;
}

/* Both the exit and the end of output seen: tell the owner, once. */
static void
child_check_complete(struct child *c)
{
	if (c->done || c->dead || !c->exited)
		return;
	if (c->out.fd != -1 || c->err.fd != -1) {
		if (c->timer_for == CHILD_TIMER_NONE)
			child_arm(c, CHILD_TIMER_DRAIN, CHILD_DRAIN_MS);
		return;
	}
	c->done = 1;
	evtimer_del(c->timer);
	c->timer_for = CHILD_TIMER_NONE;
	TAILQ_REMOVE(&child_list, c, entry);
	log_debug("%s: pid %ld: complete, status %d", __func__, (long)c->pid,
	    c->status);
	c->done_cb(c, c->status, c->arg);
	/* c may be freed (deferred) by now. */
}

void
child_reaped(pid_t pid, int status)
{
	struct child *c;

	TAILQ_FOREACH(c, &child_list, entry) {
		if (c->pid == pid && !c->exited)
			break;
	}
	if (c == NULL) {
		log_debug("%s: pid %ld: not ours", __func__, (long)pid);
		return;
	}
	c->exited = 1;
	c->status = status;
	if (c->dead) {
		/* An orphan: nobody listens, just let it go. */
		TAILQ_REMOVE(&child_list, c, entry);
		loop_defer(child_destroy, c);
		return;
	}
	child_check_complete(c);
}

static void
child_destroy(void *arg)
{
	struct child *c = arg;

	free(c);
}

void
child_free(struct child *c)
{
	if (c == NULL)
		return;
	assert(!c->dead);
	if (c->detached) {
		free(c);
		return;
	}
	c->dead = 1;
	child_close_stream(&c->out);
	child_close_stream(&c->err);
	loop_event_free(c->timer);
	c->timer = NULL;
	if (c->done)
		loop_defer(child_destroy, c);
	else if (c->exited) {
		TAILQ_REMOVE(&child_list, c, entry);
		loop_defer(child_destroy, c);
	} else {
		/* Stays listed until SIGCHLD reaps it. */
		child_signal(c, SIGKILL);
	}
}

size_t
child_count(void)
{
	struct child *c;
	size_t n = 0;

	TAILQ_FOREACH(c, &child_list, entry)
		n++;
	return (n);
}

void
child_shutdown(void)
{
	struct child *c;
	int status;

	while ((c = TAILQ_FIRST(&child_list)) != NULL) {
		TAILQ_REMOVE(&child_list, c, entry);
		if (!c->exited) {
			child_signal(c, SIGKILL);
			while (
			    waitpid(c->pid, &status, 0) == -1 && errno == EINTR)
				;
		}
		if (c->dead) {
			free(c);
			continue;
		}
		/*
		 * A programming error: the owner should have freed it before
		 * the loop went away. Make it inert; child_free frees it.
		 */
		log_error("%s: pid %ld: owner never freed it", __func__,
		    (long)c->pid);
		child_close_stream(&c->out);
		child_close_stream(&c->err);
		loop_event_free(c->timer);
		c->timer = NULL;
		c->exited = c->done = c->detached = 1;
	}
}

char *
child_status_string(int status)
{
	const char *name;
	char *s;

	if (WIFEXITED(status))
		xasprintf(&s, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status)) {
		if ((name = sigabbrev_np(WTERMSIG(status))) != NULL)
			xasprintf(&s, "killed by SIG%s", name);
		else
			xasprintf(&s, "killed by signal %d", WTERMSIG(status));
	} else
		xasprintf(&s, "status %d", status);
	return (s);
}
