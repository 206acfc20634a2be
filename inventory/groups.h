/*
 * Node groups: named node specs from a groups file ("name: spec" lines,
 * '#' comments), alongside the groups each inventory node declares. A
 * spec may name other groups; nodeset.c resolves them.
 */
#ifndef INVENTORY_GROUPS_H
#define INVENTORY_GROUPS_H

#include <stddef.h>

struct groups;

/* Load a groups file; a missing file is an empty set when optional. */
struct groups *groups_load(const char *path, int optional, char **errp);
struct groups *groups_parse(const char *text, const char *origin, char **errp);
struct groups *groups_new(void);
void groups_free(struct groups *);
/* The spec of a group, or NULL. */
const char *groups_find(const struct groups *, const char *name);
/* Group names: letters, digits, '_', '.' and '-', at least one. */
int groups_name_ok(const char *);
size_t groups_count(const struct groups *);
const char *groups_name(const struct groups *, size_t);

#endif
