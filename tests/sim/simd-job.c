/*
 * Child processes of rhubarb-simd: nft batches and the BMC control script.
 * A job is a program run with optional input written to its stdin through
 * a pipe, without ever blocking the loop: the input drains as the pipe
 * accepts it, SIGCHLD (through libevent) reaps the child, and a timer kills
 * it if it overstays. Once simd is ready, the child's stdout and stderr go
 * to simd's log file; before that, to simd's stderr, so that a failure at
 * start-up is seen by whoever started simd.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "simd.h"

struct simd_job {
	TAILQ_ENTRY(simd_job) entry;
	pid_t pid;
	char *name; /* argv[0] and [1], for the log */
	struct evbuffer *input;
	int infd;
	struct event *inev;
	struct event *timer;
	int timed_out;
	simd_job_cb cb;
	void *arg;
};
TAILQ_HEAD(simd_jobs, simd_job);

static void simd_job_input_cb(evutil_socket_t, short, void *);
static void simd_job_timer_cb(evutil_socket_t, short, void *);
static void simd_job_sigchld_cb(evutil_socket_t, short, void *);
static void simd_job_close_input(struct simd_job *);
static void simd_job_child(const char *const *, int, const char *);

static struct simd_jobs simd_jobs = TAILQ_HEAD_INITIALIZER(simd_jobs);
static struct event *simd_job_sigchld;

void
simd_job_init(void)
{
	simd_job_sigchld =
	    evsignal_new(simd.base, SIGCHLD, simd_job_sigchld_cb, NULL);
	evsignal_add(simd_job_sigchld, NULL);
}

/*
 * Forget every job. Children still running are left alone: they are short
 * (bounded by their own timeout) and die with the pid namespace anyway.
 */
void
simd_job_free(void)
{
	struct simd_job *job, *job1;

	TAILQ_FOREACH_SAFE(job, &simd_jobs, entry, job1) {
		TAILQ_REMOVE(&simd_jobs, job, entry);
		simd_job_close_input(job);
		event_free(job->timer);
		free(job->name);
		free(job);
	}
	if (simd_job_sigchld != NULL)
		event_free(simd_job_sigchld);
	simd_job_sigchld = NULL;
}

/* In the child: wire stdin/stdout/stderr and exec; never returns. */
static void
simd_job_child(const char *const *argv, int infd, const char *logpath)
{
	int fd;

	signal(SIGPIPE, SIG_DFL);
	if (infd == -1)
		infd = open("/dev/null", O_RDONLY);
	if (infd == -1 || dup2(infd, STDIN_FILENO) == -1)
		_exit(126);
	if (logpath != NULL) {
		fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT, 0644);
		if (fd == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(126);
	} else if (dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
		_exit(126);
	close_range(3, ~0U, 0);
	execvp(argv[0], (char *const *)argv);
	dprintf(STDERR_FILENO, "rhubarb-simd: %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

/*
 * Run argv (argv[0] looked up on PATH) with input on its stdin, for at most
 * timeout seconds. cb gets the wait status, or -1 when the job could not run
 * to its end (killed on timeout). Returns -1 if it could not be started.
 */
int
simd_job_start(const char *const *argv, const char *input, size_t inlen,
    int timeout, simd_job_cb cb, void *arg)
{
	struct simd_job *job;
	struct timeval tv = {timeout, 0};
	char *logpath = NULL;
	int p[2] = {-1, -1};
	pid_t pid;

	if (inlen > 0 && pipe2(p, O_CLOEXEC) == -1) {
		log_error("%s: pipe: %s", argv[0], strerror(errno));
		return (-1);
	}
	if (simd.ready)
		xasprintf(&logpath, "%s/sim/log/simd.log", simd.dir);
	if ((pid = fork()) == -1) {
		log_error("%s: fork: %s", argv[0], strerror(errno));
		if (p[0] != -1) {
			close(p[0]);
			close(p[1]);
		}
		free(logpath);
		return (-1);
	}
	if (pid == 0)
		simd_job_child(argv, p[0], logpath);
	free(logpath);

	job = xcalloc(1, sizeof *job);
	job->pid = pid;
	xasprintf(&job->name, "%s%s%s", argv[0], argv[1] != NULL ? " " : "",
	    argv[1] != NULL ? argv[1] : "");
	job->cb = cb;
	job->arg = arg;
	job->infd = -1;
	if (inlen > 0) {
		close(p[0]);
		job->infd = p[1];
		evutil_make_socket_nonblocking(job->infd);
		job->input = evbuffer_new();
		evbuffer_add(job->input, input, inlen);
		job->inev = event_new(simd.base, job->infd,
		    EV_WRITE | EV_PERSIST, simd_job_input_cb, job);
		event_add(job->inev, NULL);
	}
	job->timer = evtimer_new(simd.base, simd_job_timer_cb, job);
	evtimer_add(job->timer, &tv);
	TAILQ_INSERT_TAIL(&simd_jobs, job, entry);
	log_debug("job %ld: %s started", (long)pid, job->name);
	return (0);
}

static void
simd_job_close_input(struct simd_job *job)
{
	if (job->inev != NULL)
		event_free(job->inev);
	job->inev = NULL;
	if (job->input != NULL)
		evbuffer_free(job->input);
	job->input = NULL;
	if (job->infd != -1)
		close(job->infd);
	job->infd = -1;
}

/* The pipe accepts more: write what it takes; close it once all is in. */
static void
simd_job_input_cb(evutil_socket_t fd, short what, void *arg)
{
	struct simd_job *job = arg;

	if (evbuffer_write(job->input, fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		/* The child closed its stdin (EPIPE): it is exiting. */
		log_warn("job %ld: %s: stdin: %s", (long)job->pid, job->name,
		    strerror(errno));
		simd_job_close_input(job);
		return;
	}
	if (evbuffer_get_length(job->input) == 0)
		simd_job_close_input(job);
}

static void
simd_job_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct simd_job *job = arg;

	log_error("job %ld: %s: timed out, killing it", (long)job->pid,
	    job->name);
	job->timed_out = 1;
	kill(job->pid, SIGKILL);
}

/* Reap every exited child and finish its job. */
static void
simd_job_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct simd_job *job;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(job, &simd_jobs, entry) {
			if (job->pid == pid)
				break;
		}
		if (job == NULL)
			continue;
		TAILQ_REMOVE(&simd_jobs, job, entry);
		if (WIFEXITED(status))
			log_debug("job %ld: %s: exit %d", (long)pid, job->name,
			    WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			log_warn("job %ld: %s: killed by signal %d", (long)pid,
			    job->name, WTERMSIG(status));
		simd_job_close_input(job);
		event_free(job->timer);
		if (job->cb != NULL)
			job->cb(job->timed_out ? -1 : status, job->arg);
		free(job->name);
		free(job);
	}
}
