/*
 * Audit lines: built with jansson (so every string is escaped), written
 * with one write(2) on an O_APPEND descriptor and made durable with
 * fsync(2) before the command reports success.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "engine/audit.h"

void
audit_identity_self(struct audit_identity *id)
{
	struct passwd *pw;
	const char *sudo;
	uid_t uid = getuid();

	memset(id, 0, sizeof *id);
	id->uid = (long)uid;
	/* The real uid: who ran it, even through a setuid wrapper. */
	if ((pw = getpwuid(uid)) != NULL)
		strlcpy(id->user, pw->pw_name, sizeof id->user);
	else
		snprintf(id->user, sizeof id->user, "%ld", id->uid);
	if ((sudo = getenv("SUDO_USER")) != NULL)
		strlcpy(id->sudo_user, sudo, sizeof id->sudo_user);
	if (gethostname(id->host, sizeof id->host) != 0)
		strlcpy(id->host, "?", sizeof id->host);
	id->host[sizeof id->host - 1] = '\0';
}

/* jansson refuses invalid UTF-8; a name from the environment may be. */
static json_t *
audit_string(const char *s)
{
	json_t *j;
	char *copy, *p;

	if ((j = json_string(s)) != NULL)
		return (j);
	copy = xstrdup(s);
	for (p = copy; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	}
	j = json_string(copy);
	free(copy);
	return (j != NULL ? j : json_null());
}

char *
audit_format(const struct audit_record *rec, const struct audit_identity *id)
{
	json_t *o, *a, *r;
	struct tm tm;
	time_t t = (time_t)(rec->start_wall_ms / 1000);
	char iso[40], *line, *out;
	size_t i;

	gmtime_r(&t, &tm);
	strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(iso + strlen(iso), sizeof iso - strlen(iso), ".%03uZ",
	    (unsigned)(rec->start_wall_ms % 1000));

	o = json_object();
	json_object_set_new(o, "time", json_string(iso));
	json_object_set_new(o, "user", audit_string(id->user));
	json_object_set_new(o, "uid", json_integer(id->uid));
	if (id->sudo_user[0] != '\0')
		json_object_set_new(o, "sudo_user",
		    audit_string(id->sudo_user));
	json_object_set_new(o, "host", audit_string(id->host));
	json_object_set_new(o, "action", audit_string(rec->action));
	a = json_array();
	for (i = 0; i < rec->nbackends; i++)
		json_array_append_new(a, audit_string(rec->backends[i]));
	json_object_set_new(o, "backends", a);
	json_object_set_new(o, "nodes", audit_string(rec->nodes));
	r = json_object();
	for (i = 0; i < rec->nresults; i++)
		json_object_set_new(r, rec->results[i].outcome,
		    audit_string(rec->results[i].nodes));
	json_object_set_new(o, "results", r);
	json_object_set_new(o, "duration",
	    json_real((double)rec->duration_ms / 1000));
	json_object_set_new(o, "interrupted", json_boolean(rec->interrupted));

	line = json_dumps(o,
	    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (line == NULL)
		return (xstrdup("{}"));
	out = xstrdup(line);
	free(line);
	return (out);
}

int
audit_write(const char *dir, const struct audit_record *rec, char **errp)
{
	struct audit_identity id;
	char *path, *line, *buf;
	size_t len, off = 0;
	ssize_t n;
	int fd, r = -1;

	audit_identity_self(&id);
	line = audit_format(rec, &id);
	xasprintf(&buf, "%s\n", line);
	free(line);
	len = strlen(buf);
	xasprintf(&path, "%s/%s", dir, AUDIT_FILE);

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* One write: O_APPEND keeps concurrent lines whole. */
	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			xasprintf(errp, "%s: write: %s", path,
			    n == 0 ? "short write" : strerror(errno));
			close(fd);
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		xasprintf(errp, "%s: fsync: %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) != 0) {
		xasprintf(errp, "%s: close: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(path);
	free(buf);
	return (r);
}
