/*
 * The groups file: one "name: spec" (or "name = spec") line per group,
 * '#' comments and blank lines. A spec is kept as text; nodeset.c parses
 * it when a command names the group, so a group may use any node-spec
 * syntax, other groups included, and a file that names a node missing
 * from today's inventory still loads.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "inventory/groups.h"

/* Far above any real groups file; stops a wrong path from eating memory. */
#define GROUPS_MAX_SIZE (16 * 1024 * 1024)

struct groups {
	char **names;
	char **specs;
	size_t n;
};

struct groups *
groups_new(void)
{
	return (xcalloc(1, sizeof(struct groups)));
}

void
groups_free(struct groups *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++) {
		free(g->names[i]);
		free(g->specs[i]);
	}
	free(g->names);
	free(g->specs);
	free(g);
}

const char *
groups_find(const struct groups *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		if (strcmp(g->names[i], name) == 0)
			return (g->specs[i]);
	}
	return (NULL);
}

size_t
groups_count(const struct groups *g)
{
	return (g->n);
}

const char *
groups_name(const struct groups *g, size_t i)
{
	return (i < g->n ? g->names[i] : NULL);
}

/* Trim spaces at both ends, in place. */
static char *
groups_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return (s);
}

int
groups_name_ok(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' &&
		    *s != '-')
			return (0);
	}
	return (1);
}

/* Parse one line; 0, or -1 with *errp set. */
static int
groups_line(struct groups *g, char *line, const char *origin, size_t lineno,
    char **errp)
{
	char *name, *spec, *sep;

	line[strcspn(line, "#")] = '\0';
	line = groups_trim(line);
	if (*line == '\0')
		return (0);
	if ((sep = strpbrk(line, ":=")) == NULL) {
		xasprintf(errp, "%s:%zu: expected 'name: nodes'", origin,
		    lineno);
		return (-1);
	}
	*sep = '\0';
	name = groups_trim(line);
	spec = groups_trim(sep + 1);
	if (!groups_name_ok(name)) {
		xasprintf(errp, "%s:%zu: expected 'name: nodes'", origin,
		    lineno);
		return (-1);
	}
	if (groups_find(g, name) != NULL) {
		xasprintf(errp, "%s:%zu: group '%s' defined twice", origin,
		    lineno, name);
		return (-1);
	}
	g->names = xreallocarray(g->names, g->n + 1, sizeof *g->names);
	g->specs = xreallocarray(g->specs, g->n + 1, sizeof *g->specs);
	g->names[g->n] = xstrdup(name);
	g->specs[g->n++] = xstrdup(spec);
	return (0);
}

struct groups *
groups_parse(const char *text, const char *origin, char **errp)
{
	struct groups *g;
	const char *p = text, *nl;
	char *line;
	size_t lineno = 0;
	int r = 0;

	*errp = NULL;
	g = groups_new();
	while (r == 0 && *p != '\0') {
		lineno++;
		nl = strchr(p, '\n');
		line = xstrndup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
		r = groups_line(g, line, origin, lineno, errp);
		free(line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (r != 0) {
		groups_free(g);
		return (NULL);
	}
	return (g);
}

struct groups *
groups_load(const char *path, int optional, char **errp)
{
	struct groups *g;
	FILE *f;
	char *buf;
	size_t len, cap, n;

	*errp = NULL;
	if (path == NULL || *path == '\0')
		return (groups_new());
	if ((f = fopen(path, "r")) == NULL) {
		if (optional && errno == ENOENT)
			return (groups_new());
		xasprintf(errp, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	buf = NULL;
	len = cap = 0;
	do {
		if (len == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			buf = xreallocarray(buf, 1, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0 && len <= GROUPS_MAX_SIZE);
	if (ferror(f)) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		g = NULL;
	} else if (len > GROUPS_MAX_SIZE) {
		xasprintf(errp, "%s: larger than %d bytes", path,
		    GROUPS_MAX_SIZE);
		g = NULL;
	} else if (memchr(buf, '\0', len) != NULL) {
		xasprintf(errp, "%s: not a text file (NUL byte)", path);
		g = NULL;
	} else {
		buf[len] = '\0';
		g = groups_parse(buf, path, errp);
	}
	fclose(f);
	free(buf);
	return (g);
}
