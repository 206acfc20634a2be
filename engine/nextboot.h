/*
 * PXE "nextboot" links, crash-safe. A node boots the imaging system when
 * CONFIG_DIR/01-<mac with dashes> is a symlink to the frisbee image
 * (relative, as rhubarbe: "pxefrisbee"), and from its disk otherwise.
 *
 * Links are made atomically (a symlink under a temporary name, renamed
 * over) and removed with lstat/unlink, so a dangling link goes too; a
 * regular file someone put there by hand is never touched.
 *
 * Every link a run makes is first appended, fsync'd, to the run's journal
 * STATE_DIR/nextboot/<pid>-<run id>.journal, which the run holds locked
 * (flock) for its whole life and removes once its links are cleared. After
 * a SIGKILL or a crash the journal stays unlocked; nextboot_recover, which
 * every command runs, removes the links it lists that still point where
 * the dead run pointed them, then the journal.
 *
 * The journal also lists the processes the run started that must not
 * outlive it (its frisbeed): recovery stops their process group
 * (SIGTERM), if the process is still the one the run started.
 */
#ifndef ENGINE_NEXTBOOT_H
#define ENGINE_NEXTBOOT_H

#include <stddef.h>

#define NEXTBOOT_SUBDIR "nextboot"

struct nextboot;

/*
 * CONFIG_DIR/01-aa-bb-cc-dd-ee-ff for a mac "aa:bb:cc:dd:ee:ff" (any
 * case), or NULL and a one-line error for a malformed mac.
 */
char *nextboot_link_path(const char *config_dir, const char *mac, char **errp);

/*
 * Start a run: create (locked, fsync'd) its journal in
 * STATE_DIR/nextboot. run_id is letters, digits, '.', '_', '-'; target is
 * what links point to. NULL and a one-line error on failure.
 */
struct nextboot *nextboot_open(const char *state_dir, const char *run_id,
    const char *config_dir, const char *target, char **errp);
/* The journal's path (for messages and tests). */
const char *nextboot_journal(const struct nextboot *);

/*
 * Point the node's link at the target: journal first, then the link.
 * Replacing an existing link leaves no moment without one. 0, or -1 and
 * a one-line error ("fit01: ...").
 */
int nextboot_set(struct nextboot *, const char *node, const char *mac,
    char **errp);
/*
 * Journal, in one write and one fsync, the links a run is about to set
 * (nodes[i] with macs[i]): a run of many nodes then pays one fsync, not
 * one per node, and nextboot_set only makes the links. 0, or -1 and a
 * one-line error (nothing journaled).
 */
int nextboot_reserve(struct nextboot *, const char *const *nodes,
    const char *const *macs, size_t n, char **errp);
/*
 * Remove the node's link whatever it points to (a missing link is fine);
 * a regular file or anything else that is not a link is left alone and is
 * an error. 0, or -1 and a one-line error.
 */
int nextboot_clear(struct nextboot *, const char *node, const char *mac,
    char **errp);
/*
 * End the run: clear every link it set that still points to its target,
 * then remove the journal (kept, with its lock released, if a link could
 * not be removed, so that the next command retries). Frees the run.
 * 0, or -1 and a one-line error.
 */
int nextboot_close(struct nextboot *, char **errp);

/*
 * Journal a process the run started, in a process group of its own
 * (engine/child.h): recovery after a crash stops that group. 0, or -1
 * and a one-line error.
 */
int nextboot_process(struct nextboot *, long pid, const char *what,
    char **errp);

/* What recovery did for one dead run. */
struct nextboot_recovered {
	char *run_id;
	long pid;
	size_t removed; /* links removed */
	size_t kept;    /* repointed by someone else, or not links: kept */
	size_t stopped; /* processes of the run still there: SIGTERM */
	char *error;    /* first error (journal kept), or NULL */
};

/*
 * Find the journals of runs that are gone (unlocked, and their pid dead
 * or reused by another process) and undo them. *outp gets one entry per
 * journal handled (NULL when none: the usual case, one readdir of an
 * empty directory). 0, or -1 and a one-line error if the directory cannot
 * be read.
 */
int nextboot_recover(const char *state_dir, struct nextboot_recovered **outp,
    size_t *np, char **errp);
void nextboot_recovered_free(struct nextboot_recovered *, size_t);

/* Start time of a process in clock ticks since boot (/proc), or 0. */
unsigned long long nextboot_proc_start(long pid);

#endif
