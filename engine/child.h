/*
 * Child processes: spawned with pipes on stdout and stderr (stdin is
 * /dev/null), each in its own process group so that a kill reaches what
 * it started and the terminal's ^C reaches only us. Output is split into
 * lines of at most CHILD_LINE_MAX bytes (longer lines arrive in pieces).
 *
 * A child is complete only when both its process has exited (SIGCHLD,
 * reaped by loop.c) and its pipes have reached end-of-file, in either
 * order (tmux job.c). Nothing waits forever: once the process has exited,
 * pipes a grandchild still holds are closed after CHILD_DRAIN_MS; a kill
 * is SIGTERM, SIGKILL after CHILD_KILL_GRACE_MS, and the pipes are closed
 * CHILD_KILL_FORCE_MS after that.
 */
#ifndef ENGINE_CHILD_H
#define ENGINE_CHILD_H

#include <sys/types.h>

#include <stddef.h>

#define CHILD_LINE_MAX      1024
#define CHILD_DRAIN_MS      1000
#define CHILD_KILL_GRACE_MS 2000
#define CHILD_KILL_FORCE_MS 1000

struct child;

/* One line (without its newline) from stdout, or stderr if is_stderr. */
typedef void (
    *child_line_cb)(struct child *, int is_stderr, const char *line, void *arg);
/* Complete; status as from waitpid. The last callback of a child. */
typedef void (*child_done_cb)(struct child *, int status, void *arg);

/*
 * Start argv[0] (searched in PATH) with argv, the environment plus env_add
 * ("NAME=value" strings, NULL-terminated, replacing same-named variables;
 * may be NULL). Returns NULL with *errp set if it cannot run. Callbacks
 * never happen before child_start returns.
 */
struct child *child_start(char *const *argv, char *const *env_add,
    child_line_cb, child_done_cb, void *arg, char **errp);
/* Ask the child to stop (see above); done_cb still comes. */
void child_kill(struct child *);
/*
 * No more callbacks; the memory goes on the next loop turn, so this is
 * safe inside the child's own callbacks. A child still running is killed
 * (SIGKILL) and reaped later.
 */
void child_free(struct child *);
pid_t child_pid(const struct child *);

/* "exit 3" or "killed by SIGTERM" (allocated). */
char *child_status_string(int status);

/* Children not yet reaped or with pipes still open (tests). */
size_t child_count(void);

/* For loop.c: a child process was reaped. */
void child_reaped(pid_t, int status);
/* For loop.c: kill and reap whatever is left, blocking (SIGKILL). */
void child_shutdown(void);

#endif
