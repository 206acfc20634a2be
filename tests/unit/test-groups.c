/*
 * Unit tests of the groups file parser: accepted forms, comments, errors
 * with FILE:LINE, and loading (optional missing file, unreadable paths).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "inventory/groups.h"

struct parse_case {
	const char *text;
	const char *err;       /* NULL if it parses */
	const char *expect[8]; /* "name=spec" in file order */
};

static const struct parse_case parse_cases[] = {
    {"", NULL, {NULL}},
    {"\n\n   \n# only comments\n  # indented\n", NULL, {NULL}},
    {"rack1: 1-6\n", NULL, {"rack1=1-6"}},
    {"rack1: 1-6", NULL, {"rack1=1-6"}},
    {"rack2 = 7-12 # trailing comment\n", NULL, {"rack2=7-12"}},
    {"  a.b-c_D9 :  @x,1 ~3  \r\n", NULL, {"a.b-c_D9=@x,1 ~3"}},
    {"spare:\n", NULL, {"spare="}},
    {"x: a=b\n", NULL, {"x=a=b"}},
    {"y = p:q\n", NULL, {"y=p:q"}},
    {"odd: 1-11-2\nsmall: @odd&1-5\n\nbig: fit[01-40]\n", NULL,
	{"odd=1-11-2", "small=@odd&1-5", "big=fit[01-40]"}},
    {"a: 1\na: 2\n", "t:2: group 'a' defined twice", {NULL}},
    {"a: 1\n\n# c\nb: 2\na: 3\n", "t:5: group 'a' defined twice", {NULL}},
    {"just words\n", "t:1: expected 'name: nodes'", {NULL}},
    {"ok: 1\nbad name: 1\n", "t:2: expected 'name: nodes'", {NULL}},
    {": 1\n", "t:1: expected 'name: nodes'", {NULL}},
    {"@g: 1\n", "t:1: expected 'name: nodes'", {NULL}},
    {"a/b: 1\n", "t:1: expected 'name: nodes'", {NULL}},
    {"# a: 1\n  fit01\n", "t:2: expected 'name: nodes'", {NULL}},
};

static void
test_parse(void **state)
{
	const struct parse_case *c;
	struct groups *g;
	char *err, *pair;
	size_t i, n;

	for (i = 0; i < nitems(parse_cases); i++) {
		c = &parse_cases[i];
		err = NULL;
		g = groups_parse(c->text, "t", &err);
		if (c->err != NULL) {
			if (g != NULL)
				fail_msg("case %zu: parsed", i);
			if (err == NULL || strcmp(err, c->err) != 0)
				fail_msg("case %zu: error '%s', want '%s'", i,
				    err, c->err);
			free(err);
			continue;
		}
		if (g == NULL)
			fail_msg("case %zu: %s", i, err);
		assert_null(err);
		for (n = 0; n < nitems(c->expect) && c->expect[n] != NULL; n++)
			;
		assert_int_equal(groups_count(g), n);
		for (n = 0; n < groups_count(g); n++) {
			xasprintf(&pair, "%s=%s", groups_name(g, n),
			    groups_find(g, groups_name(g, n)));
			if (strcmp(pair, c->expect[n]) != 0)
				fail_msg("case %zu: group %zu is '%s', want "
					 "'%s'",
				    i, n, pair, c->expect[n]);
			free(pair);
		}
		assert_null(groups_name(g, groups_count(g)));
		assert_null(groups_find(g, "nosuchgroup"));
		groups_free(g);
	}
}

static char *
data_path(const char *name)
{
	const char *dir = getenv("RHUBARB_TEST_DATA");
	char *path;

	if (dir == NULL)
		dir = "tests/data";
	xasprintf(&path, "%s/%s", dir, name);
	return (path);
}

static void
test_load(void **state)
{
	struct groups *g;
	char *path, *err = NULL, *want;

	path = data_path("groups");
	g = groups_load(path, 0, &err);
	if (g == NULL)
		fail_msg("%s", err);
	assert_int_equal(groups_count(g), 5);
	assert_string_equal(groups_find(g, "odd"), "1-12-2");
	assert_string_equal(groups_find(g, "front"), "fit[01-04]");
	assert_string_equal(groups_find(g, "gpu-front"), "@gpu&@front");
	assert_string_equal(groups_find(g, "rack1"), "12");
	assert_string_equal(groups_find(g, "spare"), "");
	assert_string_equal(groups_name(g, 0), "odd");
	groups_free(g);
	free(path);

	path = data_path("groups-bad");
	assert_null(groups_load(path, 1, &err));
	xasprintf(&want, "%s:4: group 'a' defined twice", path);
	assert_string_equal(err, want);
	free(want);
	free(err);
	free(path);

	/* Missing: empty when optional, an error otherwise. */
	g = groups_load("/nonexistent/rhubarb-groups", 1, &err);
	assert_non_null(g);
	assert_null(err);
	assert_int_equal(groups_count(g), 0);
	groups_free(g);
	assert_null(groups_load("/nonexistent/rhubarb-groups", 0, &err));
	assert_string_equal(err,
	    "/nonexistent/rhubarb-groups: No such file or directory");
	free(err);

	/* A directory is an error even when optional. */
	assert_null(groups_load("/", 1, &err));
	assert_string_equal(err, "/: Is a directory");
	free(err);

	g = groups_load("", 0, &err);
	assert_non_null(g);
	assert_int_equal(groups_count(g), 0);
	groups_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_load),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
