/*
 * PXE nextboot links and their journal: see nextboot.h for the rules. The
 * journal is a text file, one tab-separated line per link made:
 *
 *	#rhubarb-nextboot RUNID PID START          (header, START from /proc)
 *	RUNID PID NODE PATH TARGET                 (one per nextboot_set)
 *
 * Fields never hold a tab or a newline (checked). A run's journal is
 * locked with flock for the run's life: that lock, not the pid alone,
 * says the run is alive, because pids are reused; the pid and its start
 * time are a second check for hand-written journals and filesystems
 * where flock means nothing.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "engine/nextboot.h"

#define NEXTBOOT_HEADER      "#rhubarb-nextboot"
#define NEXTBOOT_PROCESS     "#process"
#define NEXTBOOT_MAX_JOURNAL (1024 * 1024)
#define NEXTBOOT_MAX_RUN_ID  64

struct nextboot_link {
	char *node;
	char *path;
	int cleared;   /* not set now (never set, or cleared) */
	int journaled; /* in the journal already (nextboot_reserve) */
};

struct nextboot {
	char *dir;     /* STATE_DIR/nextboot */
	char *journal; /* DIR/<pid>-<run id>.journal */
	char *run_id;
	char *config_dir;
	char *target;
	int fd; /* the journal, locked */
	struct nextboot_link *links;
	size_t nlinks;
};

static int nextboot_fsync_dir(const char *);
static int nextboot_clean_field(const char *);
static int nextboot_append(struct nextboot *, const char *, char **);
static int nextboot_pid_alive(long, unsigned long long);
static void nextboot_recover_one(const char *, const char *,
    struct nextboot_recovered **, size_t *);

char *
nextboot_link_path(const char *config_dir, const char *mac, char **errp)
{
	char name[3 + 17 + 1];
	size_t i;

	if (mac == NULL || strlen(mac) != 17)
		goto bad;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (mac[i] != ':' && mac[i] != '-')
				goto bad;
			name[3 + i] = '-';
		} else {
			if (!isxdigit((unsigned char)mac[i]))
				goto bad;
			name[3 + i] = tolower((unsigned char)mac[i]);
		}
	}
	memcpy(name, "01-", 3);
	name[sizeof name - 1] = '\0';
	char *path;
	size_t len = strlen(config_dir);
	if (len > 0 && config_dir[len - 1] == '/')
		xasprintf(&path, "%s%s", config_dir, name);
	else
		xasprintf(&path, "%s/%s", config_dir, name);
	return (path);
bad:
	xasprintf(errp, "malformed mac '%s'", mac == NULL ? "" : mac);
	return (NULL);
}

static int
nextboot_clean_field(const char *s)
{
	return (*s != '\0' && strpbrk(s, "\t\n\r") == NULL);
}

static int
nextboot_fsync_dir(const char *dir)
{
	int fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	r = fsync(fd);
	close(fd);
	return (r);
}

unsigned long long
nextboot_proc_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	/* The command name may hold spaces and ')': skip to the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return (0);
	/* Field 3 (state) follows; starttime is field 22. */
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		start = strtoull(p + 1, NULL, 10);
	return (start);
}

struct nextboot *
nextboot_open(const char *state_dir, const char *run_id, const char *config_dir,
    const char *target, char **errp)
{
	struct nextboot *nb;
	char *tmp = NULL, *line = NULL;
	const char *p;
	ssize_t len;

	if (*run_id == '\0' || strlen(run_id) > NEXTBOOT_MAX_RUN_ID)
		goto bad_id;
	for (p = run_id; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("._-", *p) == NULL)
			goto bad_id;
	}
	if (!nextboot_clean_field(config_dir) ||
	    !nextboot_clean_field(target)) {
		xasprintf(errp,
		    "nextboot: empty pxelinux directory or target, "
		    "or one with a tab or newline");
		return (NULL);
	}

	nb = xcalloc(1, sizeof *nb);
	nb->fd = -1;
	nb->run_id = xstrdup(run_id);
	nb->config_dir = xstrdup(config_dir);
	nb->target = xstrdup(target);
	xasprintf(&nb->dir, "%s/%s", state_dir, NEXTBOOT_SUBDIR);
	xasprintf(&nb->journal, "%s/%ld-%s.journal", nb->dir, (long)getpid(),
	    run_id);
	if (mkdir(nb->dir, 0700) != 0 && errno != EEXIST) {
		xasprintf(errp, "%s: %s", nb->dir, strerror(errno));
		goto fail;
	}
	if (access(nb->journal, F_OK) == 0) {
		xasprintf(errp, "%s: already exists", nb->journal);
		goto fail;
	}
	/*
	 * Written and locked under a name recovery ignores, then renamed:
	 * a journal recovery can see is always locked while its run lives.
	 */
	xasprintf(&tmp, "%s/.%ld-%s.tmp", nb->dir, (long)getpid(), run_id);
	(void)unlink(tmp);
	nb->fd =
	    open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (nb->fd == -1) {
		xasprintf(errp, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (flock(nb->fd, LOCK_EX | LOCK_NB) != 0) {
		xasprintf(errp, "%s: lock: %s", tmp, strerror(errno));
		goto fail_unlink;
	}
	len = xasprintf(&line, "%s\t%s\t%ld\t%llu\n", NEXTBOOT_HEADER, run_id,
	    (long)getpid(), nextboot_proc_start(getpid()));
	if (write(nb->fd, line, len) != len || fsync(nb->fd) != 0) {
		xasprintf(errp, "%s: %s", tmp, strerror(errno));
		goto fail_unlink;
	}
	if (rename(tmp, nb->journal) != 0) {
		xasprintf(errp, "%s: %s", nb->journal, strerror(errno));
		goto fail_unlink;
	}
	if (nextboot_fsync_dir(nb->dir) != 0) {
		xasprintf(errp, "%s: %s", nb->dir, strerror(errno));
		(void)unlink(nb->journal);
		goto fail;
	}
	free(line);
	free(tmp);
	return (nb);

fail_unlink:
	(void)unlink(tmp);
fail:
	free(line);
	free(tmp);
	if (nb->fd != -1)
		close(nb->fd);
	free(nb->dir);
	free(nb->journal);
	free(nb->run_id);
	free(nb->config_dir);
	free(nb->target);
	free(nb);
	return (NULL);
bad_id:
	xasprintf(errp, "nextboot: bad run id '%s'", run_id);
	return (NULL);
}

const char *
nextboot_journal(const struct nextboot *nb)
{
	return (nb->journal);
}

/* One line, then fsync: the link may only exist once this returned 0. */
static int
nextboot_append(struct nextboot *nb, const char *line, char **errp)
{
	ssize_t len = strlen(line);

	if (write(nb->fd, line, len) != len || fsync(nb->fd) != 0) {
		xasprintf(errp, "%s: %s", nb->journal,
		    errno != 0 ? strerror(errno) : "short write");
		return (-1);
	}
	return (0);
}

/* The run's entry for path, or NULL. */
static struct nextboot_link *
nextboot_find(struct nextboot *nb, const char *path)
{
	size_t i;

	for (i = 0; i < nb->nlinks; i++) {
		if (strcmp(nb->links[i].path, path) == 0)
			return (&nb->links[i]);
	}
	return (NULL);
}

/* A new entry, not set yet; path is taken. */
static struct nextboot_link *
nextboot_add(struct nextboot *nb, const char *node, char *path)
{
	struct nextboot_link *l;

	nb->links = xreallocarray(nb->links, nb->nlinks + 1, sizeof *nb->links);
	l = &nb->links[nb->nlinks++];
	l->node = xstrdup(node);
	l->path = path;
	l->cleared = 1;
	l->journaled = 0;
	return (l);
}

int
nextboot_reserve(struct nextboot *nb, const char *const *nodes,
    const char *const *macs, size_t n, char **errp)
{
	struct nextboot_link *l;
	char *path, *err = NULL, *buf = NULL, *line;
	size_t i, len = 0, size = 0, k;
	size_t first = nb->nlinks;
	int r;

	for (i = 0; i < n; i++) {
		if ((path = nextboot_link_path(nb->config_dir, macs[i],
			 &err)) == NULL) {
			xasprintf(errp, "%s: %s", nodes[i], err);
			free(err);
			free(buf);
			return (-1);
		}
		if (!nextboot_clean_field(nodes[i])) {
			xasprintf(errp, "nextboot: bad node name");
			free(path);
			free(buf);
			return (-1);
		}
		if (nextboot_find(nb, path) != NULL) {
			free(path);
			continue;
		}
		xasprintf(&line, "%s\t%ld\t%s\t%s\t%s\n", nb->run_id,
		    (long)getpid(), nodes[i], path, nb->target);
		k = strlen(line);
		if (len + k + 1 > size) {
			size = (len + k + 1) * 2;
			buf = xreallocarray(buf, size, 1);
		}
		memcpy(buf + len, line, k + 1);
		len += k;
		free(line);
		nextboot_add(nb, nodes[i], path);
	}
	if (len == 0)
		return (0);
	r = nextboot_append(nb, buf, errp);
	free(buf);
	for (i = first; i < nb->nlinks; i++) {
		l = &nb->links[i];
		l->journaled = r == 0;
	}
	return (r);
}

int
nextboot_set(struct nextboot *nb, const char *node, const char *mac,
    char **errp)
{
	struct nextboot_link *l;
	struct stat sb;
	char *path, *err = NULL, *line, *tmp;

	if ((path = nextboot_link_path(nb->config_dir, mac, &err)) == NULL) {
		xasprintf(errp, "%s: %s", node, err);
		free(err);
		return (-1);
	}
	if (!nextboot_clean_field(node)) {
		xasprintf(errp, "nextboot: bad node name");
		free(path);
		return (-1);
	}
	if (lstat(path, &sb) == 0 && !S_ISLNK(sb.st_mode)) {
		xasprintf(errp, "%s: %s exists and is not a link; left alone",
		    node, path);
		free(path);
		return (-1);
	}
	if ((l = nextboot_find(nb, path)) == NULL)
		l = nextboot_add(nb, node, xstrdup(path));
	if (!l->journaled) {
		xasprintf(&line, "%s\t%ld\t%s\t%s\t%s\n", nb->run_id,
		    (long)getpid(), node, path, nb->target);
		if (nextboot_append(nb, line, errp) != 0) {
			free(line);
			free(path);
			return (-1);
		}
		free(line);
		l->journaled = 1;
	}

	/*
	 * symlink then rename: rename replaces an old link atomically, so
	 * pxelinux never sees the node without one.
	 */
	xasprintf(&tmp, "%s.rhubarb-%ld.tmp", path, (long)getpid());
	(void)unlink(tmp);
	if (symlink(nb->target, tmp) != 0) {
		xasprintf(errp, "%s: %s: %s", node, tmp, strerror(errno));
		free(tmp);
		free(path);
		return (-1);
	}
	if (rename(tmp, path) != 0) {
		xasprintf(errp, "%s: %s: %s", node, path, strerror(errno));
		(void)unlink(tmp);
		free(tmp);
		free(path);
		return (-1);
	}
	free(tmp);
	free(path);
	l->cleared = 0;
	return (0);
}

/* lstat, not stat: a dangling link must go too (rhubarbe's bug). */
static int
nextboot_remove(const char *node, const char *path, char **errp)
{
	struct stat sb;

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return (0);
		xasprintf(errp, "%s: %s: %s", node, path, strerror(errno));
		return (-1);
	}
	if (!S_ISLNK(sb.st_mode)) {
		xasprintf(errp, "%s: %s is not a link; left alone", node, path);
		return (-1);
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		xasprintf(errp, "%s: %s: %s", node, path, strerror(errno));
		return (-1);
	}
	return (0);
}

int
nextboot_process(struct nextboot *nb, long pid, const char *what, char **errp)
{
	char *line;
	int r;

	if (!nextboot_clean_field(what)) {
		xasprintf(errp, "nextboot: bad process name");
		return (-1);
	}
	xasprintf(&line, "%s\t%ld\t%llu\t%s\n", NEXTBOOT_PROCESS, pid,
	    nextboot_proc_start(pid), what);
	r = nextboot_append(nb, line, errp);
	free(line);
	return (r);
}

int
nextboot_clear(struct nextboot *nb, const char *node, const char *mac,
    char **errp)
{
	char *path, *err = NULL;
	size_t i;
	int r;

	if ((path = nextboot_link_path(nb->config_dir, mac, &err)) == NULL) {
		xasprintf(errp, "%s: %s", node, err);
		free(err);
		return (-1);
	}
	r = nextboot_remove(node, path, errp);
	for (i = 0; r == 0 && i < nb->nlinks; i++) {
		if (strcmp(nb->links[i].path, path) == 0)
			nb->links[i].cleared = 1;
	}
	free(path);
	return (r);
}

/* The link points to target (compared as text, as it was written). */
static int
nextboot_points_to(const char *path, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n;

	if ((n = readlink(path, buf, sizeof buf - 1)) == -1)
		return (0);
	buf[n] = '\0';
	return (strcmp(buf, target) == 0);
}

int
nextboot_close(struct nextboot *nb, char **errp)
{
	struct nextboot_link *l;
	char *err = NULL;
	size_t i;
	int r = 0;

	for (i = 0; i < nb->nlinks; i++) {
		l = &nb->links[i];
		if (l->cleared || !nextboot_points_to(l->path, nb->target))
			continue;
		if (nextboot_remove(l->node, l->path, &err) != 0) {
			if (r == 0)
				*errp = err;
			else
				free(err);
			err = NULL;
			r = -1;
		}
	}
	if (r == 0 && unlink(nb->journal) != 0) {
		xasprintf(errp, "%s: %s", nb->journal, strerror(errno));
		r = -1;
	}
	close(nb->fd); /* releases the lock */
	for (i = 0; i < nb->nlinks; i++) {
		free(nb->links[i].node);
		free(nb->links[i].path);
	}
	free(nb->links);
	free(nb->dir);
	free(nb->journal);
	free(nb->run_id);
	free(nb->config_dir);
	free(nb->target);
	free(nb);
	return (r);
}

/*
 * Alive: the pid exists and, when the journal knows its start time, it
 * is the same process (not a later one given the same pid).
 */
static int
nextboot_pid_alive(long pid, unsigned long long start)
{
	if (pid <= 0)
		return (0);
	if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
		return (0);
	if (start == 0)
		return (1);
	return (nextboot_proc_start(pid) == start);
}

/* Split a line on tabs into at most n fields; returns the count. */
static size_t
nextboot_split(char *line, char **fields, size_t n)
{
	size_t i = 0;
	char *p;

	while (i < n && (p = strsep(&line, "\t")) != NULL)
		fields[i++] = p;
	return (line == NULL ? i : n + 1);
}

static void
nextboot_recover_one(const char *dir, const char *name,
    struct nextboot_recovered **outp, size_t *np)
{
	struct nextboot_recovered rec;
	char *path, *buf = NULL, *line, *next, *f[6], *base, *err = NULL;
	unsigned long long start;
	struct stat sb;
	ssize_t n;
	size_t nlines = 0;
	long pid;
	int fd;

	memset(&rec, 0, sizeof rec);
	xasprintf(&path, "%s/%s", dir, name);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		goto out; /* another command recovered it just now */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		goto out; /* its run is alive */
	if (fstat(fd, &sb) != 0 || sb.st_size > NEXTBOOT_MAX_JOURNAL) {
		xasprintf(&err, "%s: unreadable or too big; left alone", path);
		goto report;
	}
	if (sb.st_nlink == 0)
		goto out; /* removed between open and lock */
	buf = xmalloc(sb.st_size + 1);
	if ((n = read(fd, buf, sb.st_size)) != sb.st_size) {
		xasprintf(&err, "%s: short read; left alone", path);
		goto report;
	}
	buf[n] = '\0';

	next = buf;
	line = strsep(&next, "\n");
	if (nextboot_split(line, f, 4) != 4 ||
	    strcmp(f[0], NEXTBOOT_HEADER) != 0) {
		xasprintf(&err, "%s: not a nextboot journal; left alone", path);
		goto report;
	}
	rec.run_id = xstrdup(f[1]);
	rec.pid = strtol(f[2], NULL, 10);
	start = strtoull(f[3], NULL, 10);
	if (nextboot_pid_alive(rec.pid, start))
		goto out; /* unlocked but alive: never undo a live run */

	while ((line = strsep(&next, "\n")) != NULL) {
		if (*line == '\0')
			continue; /* the end, or a line cut by the crash */
		if (strncmp(line, NEXTBOOT_PROCESS "\t",
			sizeof NEXTBOOT_PROCESS) == 0) {
			/* Only the very process the run started (start time).
			 */
			if (nextboot_split(line, f, 4) == 4 &&
			    (pid = strtol(f[1], NULL, 10)) > 1 &&
			    (start = strtoull(f[2], NULL, 10)) != 0 &&
			    nextboot_pid_alive(pid, start) &&
			    kill((pid_t)-pid, SIGTERM) == 0)
				rec.stopped++;
			continue;
		}
		if (nextboot_split(line, f, 5) != 5)
			continue;
		nlines++;
		base = strrchr(f[3], '/');
		base = base == NULL ? f[3] : base + 1;
		/*
		 * Only a link named like a nextboot link that still points
		 * where the dead run pointed it: anything else was changed
		 * since by someone who knows better.
		 */
		if (lstat(f[3], &sb) != 0)
			continue; /* cleared already */
		if (strncmp(base, "01-", 3) != 0 || !S_ISLNK(sb.st_mode) ||
		    !nextboot_points_to(f[3], f[4])) {
			rec.kept++;
			continue;
		}
		if (unlink(f[3]) == 0)
			rec.removed++;
		else if (errno != ENOENT && err == NULL)
			xasprintf(&err, "%s: %s", f[3], strerror(errno));
	}
	if (err == NULL && unlink(path) != 0 && errno != ENOENT)
		xasprintf(&err, "%s: %s", path, strerror(errno));
	if (err == NULL && nlines == 0 && rec.stopped == 0)
		goto out; /* a run that left nothing: nothing to say */

report:
	rec.error = err;
	err = NULL;
	if (rec.run_id == NULL)
		rec.run_id = xstrdup("?");
	*outp = xreallocarray(*outp, *np + 1, sizeof **outp);
	(*outp)[(*np)++] = rec;
	memset(&rec, 0, sizeof rec);
out:
	free(rec.run_id);
	free(err);
	free(buf);
	free(path);
	if (fd != -1)
		close(fd);
}

int
nextboot_recover(const char *state_dir, struct nextboot_recovered **outp,
    size_t *np, char **errp)
{
	struct dirent *de;
	char *dir;
	size_t len;
	DIR *d;

	*outp = NULL;
	*np = 0;
	xasprintf(&dir, "%s/%s", state_dir, NEXTBOOT_SUBDIR);
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT) {
			free(dir);
			return (0);
		}
		xasprintf(errp, "%s: %s", dir, strerror(errno));
		free(dir);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 9 ||
		    strcmp(de->d_name + len - 8, ".journal") != 0)
			continue;
		nextboot_recover_one(dir, de->d_name, outp, np);
	}
	closedir(d);
	free(dir);
	return (0);
}

void
nextboot_recovered_free(struct nextboot_recovered *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(list[i].run_id);
		free(list[i].error);
	}
	free(list);
}
