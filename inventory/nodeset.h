/*
 * Node sets: which inventory nodes a command works on.
 *
 * The grammar is rhubarbe's (prefix stripping, ',', '~', 'a-b',
 * 'a-b-step', applied left to right, '-a' from all_scope, $NODES when no
 * argument) plus the bracket hostlists of ClusterShell, pdsh and Slurm
 * ('fit[01-12,15]', 'fit[01-20/2]'), '@group', '!' or '~' exclusion and
 * '&' intersection. Every name must be in the inventory.
 *
 * A set is a bitmap over the inventory's node indices; the inventory must
 * outlive it.
 */
#ifndef INVENTORY_NODESET_H
#define INVENTORY_NODESET_H

#include <stddef.h>

struct inventory;
struct groups;

struct nodeset_env {
	const char *regularname;     /* "fit" */
	const char *rebootname;      /* "reboot" */
	const char *all_scope;       /* spec for -a; "" = all */
	const struct groups *groups; /* may be NULL */
};

struct nodeset;

struct nodeset *nodeset_new(const struct inventory *);
void nodeset_free(struct nodeset *);
struct nodeset *nodeset_copy(const struct nodeset *);

/*
 * Apply one argument to the set, left to right. Returns 0, or -1 with
 * *errp set to one line ("fit99: not in the inventory").
 */
int nodeset_apply(struct nodeset *, const struct nodeset_env *, const char *arg,
    char **errp);
/*
 * A command's whole selection: all_nodes (-a) first, then each argument;
 * with neither, the words of env_nodes ($NODES). An empty result is not an
 * error here; no spec at all is.
 */
int nodeset_select(struct nodeset *, const struct nodeset_env *, int all_nodes,
    int argc, char *const *argv, const char *env_nodes, char **errp);

void nodeset_add(struct nodeset *, size_t index);
void nodeset_del(struct nodeset *, size_t index);
int nodeset_has(const struct nodeset *, size_t index);
size_t nodeset_count(const struct nodeset *);
/* Next member at or after index, or (size_t)-1. */
size_t nodeset_next(const struct nodeset *, size_t index);

#define NODESET_FOREACH(i, set)                                                \
	for ((i) = nodeset_next((set), 0); (i) != (size_t)-1;                  \
	     (i) = nodeset_next((set), (i) + 1))

/* Names separated by sep, in inventory order (allocated). */
char *nodeset_join(const struct nodeset *, const char *sep);
/* Folded hostlist, e.g. "fit[01-12,15],data07" (allocated). */
char *nodeset_fold(const struct nodeset *);
/* Fold any list of names (used for results that are not node sets). */
char *nodeset_fold_names(const char *const *names, size_t n);

#endif
