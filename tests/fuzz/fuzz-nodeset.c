/*
 * libFuzzer harness for node specs: the input is a spec (whitespace
 * separated arguments) applied to a fixed 40-node inventory with
 * inventory groups and a groups file. Any error must be one line; any
 * selection must fold to a text that parses back to the same set.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "inventory/groups.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct inventory *fz_inv;
static struct groups *fz_groups;

static const char fz_groups_text[] = "odd: 1-31-2\n"
				     "front: fit[01-04]\n"
				     "both: @odd&@front\n"
				     "loopa: @loopb\n"
				     "loopb: @loopa\n"
				     "racks: @rack1,@rack2 ~fit1-[3]\n"
				     "empty:\n"
				     "all: 1-8\n";

/* fit01..fit32 in racks, a product-friendly r1n01..r1n04, and control
 * names that rhubarbe's numeric form would misread. */
static void
fz_init(void)
{
	static const char *const odd[] = {"r1n01", "r1n02", "r1n03", "r1n04",
	    "fit1-3", "reboot40", "7", "xfit4"};
	char *text, *next, *err = NULL, name[16];
	const char *groups;
	size_t i, n = 0;

	text = xstrdup("{\"nodes\":[");
	for (i = 0; i < 40; i++) {
		if (i < 32) {
			snprintf(name, sizeof name, "fit%02zu", i + 1);
			groups = i < 16
			    ? (i % 4 == 0 ? "\"rack1\",\"gpu\"" : "\"rack1\"")
			    : "\"rack2\"";
		} else {
			snprintf(name, sizeof name, "%s", odd[i - 32]);
			groups = "\"misc\"";
		}
		xasprintf(&next,
		    "%s%s{\"control\":{\"hostname\":\"%s\",\"ip\":\"10.0.0.%zu\","
		    "\"mac\":\"02:00:00:00:00:%02zx\"},\"groups\":[%s]}",
		    text, n++ > 0 ? "," : "", name, i + 1, i + 1, groups);
		free(text);
		text = next;
	}
	xasprintf(&next, "%s]}", text);
	free(text);
	if ((fz_inv = inventory_parse(next, strlen(next), "fuzz", &err)) ==
	    NULL) {
		fprintf(stderr, "fuzz inventory: %s\n", err);
		abort();
	}
	free(next);
	if ((fz_groups = groups_parse(fz_groups_text, "fuzz", &err)) == NULL) {
		fprintf(stderr, "fuzz groups: %s\n", err);
		abort();
	}
}

/* Split text into at most max words (in place). */
static int
fz_words(char *text, char **argv, int max)
{
	char *last, *w;
	int argc = 0;

	for (w = strtok_r(text, " \t\n", &last); w != NULL && argc < max;
	     w = strtok_r(NULL, " \t\n", &last))
		argv[argc++] = w;
	return (argc);
}

static struct nodeset *
fz_select(const struct nodeset_env *env, int all, char *text, char **errp)
{
	struct nodeset *set;
	char *argv[64];
	int argc;

	argc = fz_words(text, argv, 64);
	set = nodeset_new(fz_inv);
	if (nodeset_select(set, env, all, argc, argv, "1", errp) != 0) {
		if (*errp == NULL || strchr(*errp, '\n') != NULL) {
			fprintf(stderr, "bad error message\n");
			abort();
		}
		nodeset_free(set);
		return (NULL);
	}
	return (set);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nodeset_env env = {"fit", "reboot", "", NULL};
	struct nodeset *set, *back;
	char *text, *folded, *copy, *err = NULL, *joined;
	const char **names;
	size_t i, n;
	int all;

	if (fz_inv == NULL)
		fz_init();
	if (size == 0)
		return (0);
	/* The first byte picks -a, all_scope and the groups file. */
	all = data[0] & 1;
	env.all_scope = (data[0] & 2) ? "1-20 @misc" : "";
	env.groups = (data[0] & 4) ? fz_groups : NULL;
	text = xstrndup((const char *)data + 1, size - 1);
	if (strlen(text) != size - 1) { /* NUL inside: not a spec */
		free(text);
		return (0);
	}
	set = fz_select(&env, all, text, &err);
	free(text);
	if (set == NULL) {
		free(err);
		return (0);
	}

	folded = nodeset_fold(set);
	copy = xstrdup(folded);
	if (*folded == '\0')
		back = nodeset_new(fz_inv);
	else
		back = fz_select(&env, 0, copy, &err);
	if (back == NULL) {
		fprintf(stderr, "fold '%s' does not parse: %s\n", folded, err);
		abort();
	}
	for (i = 0; i < fz_inv->nnodes; i++) {
		if (nodeset_has(set, i) != nodeset_has(back, i)) {
			fprintf(stderr, "fold '%s' differs at %s\n", folded,
			    fz_inv->nodes[i].name);
			abort();
		}
	}

	/* fold_names on the same names must not crash and keeps them all. */
	n = nodeset_count(set);
	names = xcalloc(n + 1, sizeof *names);
	n = 0;
	for (i = nodeset_next(set, 0); i != (size_t)-1;
	     i = nodeset_next(set, i + 1))
		names[n++] = fz_inv->nodes[i].name;
	joined = nodeset_fold_names(names, n);
	if ((n == 0) != (*joined == '\0'))
		abort();
	free(joined);
	free(names);

	free(copy);
	free(folded);
	nodeset_free(back);
	nodeset_free(set);
	return (0);
}
