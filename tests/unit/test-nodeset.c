/*
 * Unit tests of node sets: rhubarbe's grammar (notes §5), bracket
 * hostlists, groups, operators, errors, folding and its round trip, and
 * the cost of a large range.
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
#include "inventory/inventory.h"
#include "inventory/nodeset.h"

enum test_inv {
	INV_R2LAB,  /* fit01..fit37, list form, cmc and data names */
	INV_RACKS,  /* fit01..fit12 in groups, r1n01..r2n03, gateway */
	INV_TRICKY, /* control names that rhubarbe's numbers misread */
	INV_COUNT,
};

static struct inventory *invs[INV_COUNT];

/* rhubarbe's list form: n nodes fit01.. with reboot and data names. */
static char *
make_r2lab(int n)
{
	char *text;
	size_t len;
	FILE *f;
	int i;

	f = open_memstream(&text, &len);
	fputc('[', f);
	for (i = 1; i <= n; i++) {
		fprintf(f,
		    "%s{\"cmc\":{\"hostname\":\"reboot%02d\","
		    "\"ip\":\"192.168.1.%d\",\"mac\":\"02:00:00:00:00:%02x\"},"
		    "\"control\":{\"hostname\":\"fit%02d\","
		    "\"ip\":\"192.168.3.%d\",\"mac\":\"00:03:1d:0e:03:%02x\"},"
		    "\"data\":{\"hostname\":\"data%02d\","
		    "\"ip\":\"192.168.2.%d\",\"mac\":\"00:03:1d:0e:02:%02x\"}}",
		    i > 1 ? "," : "", i, i, i, i, i, i, i, i, i);
	}
	fputc(']', f);
	fclose(f);
	return (text);
}

/* rhubarb's object form: names and their groups (comma separated). */
static char *
make_extended(const char *const *names, const char *const *groups, int n)
{
	char *text, *copy, *w, *last;
	size_t len;
	FILE *f;
	int i;

	f = open_memstream(&text, &len);
	fputs("{\"nodes\":[", f);
	for (i = 0; i < n; i++) {
		fprintf(f,
		    "%s{\"control\":{\"hostname\":\"%s\","
		    "\"ip\":\"10.0.%d.%d\",\"mac\":\"02:00:00:00:%02x:%02x\"},"
		    "\"groups\":[",
		    i > 0 ? "," : "", names[i], i / 256, i % 256, i / 256,
		    i % 256);
		copy = xstrdup(
		    groups != NULL && groups[i] != NULL ? groups[i] : "");
		for (w = strtok_r(copy, ",", &last); w != NULL;
		     w = strtok_r(NULL, ",", &last))
			fprintf(f, "%s\"%s\"", w == copy ? "" : ",", w);
		free(copy);
		fputs("]}", f);
	}
	fputs("]}", f);
	fclose(f);
	return (text);
}

static struct inventory *
parse_inv(const char *text)
{
	struct inventory *inv;
	char *err = NULL;

	inv = inventory_parse(text, strlen(text), "test", &err);
	if (inv == NULL)
		fail_msg("inventory: %s", err);
	return (inv);
}

static const char *const racks_names[] = {"fit01", "fit02", "fit03", "fit04",
    "fit05", "fit06", "fit07", "fit08", "fit09", "fit10", "fit11", "fit12",
    "r1n01", "r1n02", "r1n03", "r2n01", "r2n02", "r2n03", "gateway"};
static const char *const racks_groups[] = {"rack1", "rack1", "rack1",
    "rack1,gpu", "rack1,gpu", "rack1", "rack2", "rack2,gpu", "rack2", "rack2",
    "rack2,gpu", "rack2", "cluster", "cluster", "cluster", "cluster", "cluster",
    "cluster", NULL};

static const char *const tricky_names[] = {"fit01", "fit02", "fit03", "fit1-3",
    "reboot09", "7", "node5", "xfit4", "fit3fit"};

static int
setup(void **state)
{
	char *text;

	text = make_r2lab(37);
	invs[INV_R2LAB] = parse_inv(text);
	free(text);
	text =
	    make_extended(racks_names, racks_groups, (int)nitems(racks_names));
	invs[INV_RACKS] = parse_inv(text);
	free(text);
	text = make_extended(tricky_names, NULL, (int)nitems(tricky_names));
	invs[INV_TRICKY] = parse_inv(text);
	free(text);
	return (0);
}

static int
teardown(void **state)
{
	int i;

	for (i = 0; i < INV_COUNT; i++)
		inventory_free(invs[i]);
	return (0);
}

/* A groups file for the racks inventory. */
static const char racks_groups_file[] =
    "# test groups\n"
    "odd: 1-11-2\n"
    "small: @odd&1-5\n"
    "rack1: 12\n"
    "loopa: @loopb\n"
    "loopb: @loopa\n"
    "self: fit01,@self\n"
    "bad: 1,99\n"
    "twowords: 1-3 ~2\n"
    "empty:\n"
    "nodes = r[1-2]n02\n"
    "all: 1-2\n"
    "g0: @g1\ng1: @g2\ng2: @g3\ng3: @g4\ng4: @g5\ng5: @g6\ng6: @g7\n"
    "g7: @g8\ng8: @g9\ng9: @g10\ng10: @g11\ng11: @g12\ng12: @g13\n"
    "g13: @g14\ng14: @g15\ng15: 3\n"
    "h0: @h1\nh1: @g0\n";

struct select_case {
	int inv;
	int all;
	const char *all_scope;
	const char *env_nodes;
	int groups;         /* use racks_groups_file */
	const char *expect; /* names joined by ' ', or NULL for an error */
	const char *err;
	const char *args[6];
};

#define R2 INV_R2LAB
#define RK INV_RACKS
/* Selects expect / fails with err, on inventory i, no -a, no $NODES. */
#define OK(i, expect, ...)                                                     \
	{                                                                      \
		i, 0, NULL, NULL, 0, expect, NULL,                             \
		{                                                              \
			__VA_ARGS__                                            \
		}                                                              \
	}
#define BAD(i, err, ...)                                                       \
	{                                                                      \
		i, 0, NULL, NULL, 0, NULL, err,                                \
		{                                                              \
			__VA_ARGS__                                            \
		}                                                              \
	}
/* The same with the groups file, on the racks inventory. */
#define GOK(expect, ...)                                                       \
	{                                                                      \
		RK, 0, NULL, NULL, 1, expect, NULL,                            \
		{                                                              \
			__VA_ARGS__                                            \
		}                                                              \
	}
#define GBAD(err, ...)                                                         \
	{                                                                      \
		RK, 0, NULL, NULL, 1, NULL, err,                               \
		{                                                              \
			__VA_ARGS__                                            \
		}                                                              \
	}

static const struct select_case select_cases[] = {
    /* rhubarbe's examples (notes §5). */
    OK(R2, "fit01 fit04 fit06 fit07 fit11 fit16 fit33", "fit4-reboot7", "~5",
	"1-20-5,33"),
    OK(R2, "fit01 fit02 fit03 fit04 fit05", "~3", "1-5"),
    OK(R2, "fit01 fit02 fit04 fit05", "1-5", "~3"),
    OK(R2,
	"fit01 fit03 fit05 fit07 fit09 fit11 fit13 fit15 fit17 fit19 "
	"fit21 fit23 fit25 fit27 fit29 fit31 fit33",
	"1-33-2"),
    OK(R2, "fit04 fit08 fit12 fit16", "4-16-4"),
    OK(R2, "fit04", "004"),
    OK(R2, "fit01", "reboot01"),
    OK(R2, "fit01", "fit01"),
    OK(R2, "fit01", "fit1"),
    OK(R2, "fit04 fit05 fit06 fit07 fit08 fit09 fit10 fit11 fit12",
	"fit4-reboot12"),
    OK(R2, "fit05", "data05"),
    OK(R2, "", "5-3"),
    OK(R2, "fit01", "1-3-5"),
    OK(R2, "fit01 fit02 fit03 fit04 fit06 fit07 fit08 fit09 fit10", "1-10,~5"),
    OK(R2, "fit01 fit02 fit03", "3,1,2,1"),
    /* -a with all_scope, and $NODES. */
    {R2, 1, "1-37", NULL, 0,
	"fit01 fit02 fit03 fit04 fit05 fit06 fit07 fit08 fit09 fit21 fit22 "
	"fit23 fit24 fit25 fit26 fit27 fit28 fit29 fit30 fit31 fit32 fit33 "
	"fit34 fit35 fit36 fit37",
	NULL, {"~10-20"}},
    {R2, 1, "1-3", NULL, 0, "fit01 fit02 fit03", NULL, {NULL}},
    {R2, 1, "", NULL, 0, "fit01", NULL, {"~2-37"}},
    {R2, 1, NULL, NULL, 0, "fit01", NULL, {"~2-37"}},
    {R2, 1, " 1 2 ", NULL, 0, "fit01 fit02 fit07", NULL, {"7"}},
    {R2, 0, NULL, "1-3 ~2", 0, "fit01 fit03", NULL, {NULL}},
    {R2, 0, NULL, "\t5\n", 0, "fit05", NULL, {NULL}},
    {R2, 0, NULL, "1", 0, "fit02", NULL, {"2"}},
    {R2, 1, "1", "2", 0, "fit01", NULL, {NULL}},
    /* Bracket hostlists. */
    OK(R2,
	"fit01 fit02 fit03 fit04 fit05 fit06 fit07 fit08 fit09 fit10 fit11 "
	"fit12 fit15",
	"fit[01-12,15]"),
    OK(R2, "fit01 fit03 fit05 fit07 fit09 fit11 fit13 fit15 fit17 fit19",
	"fit[01-20/2]"),
    OK(R2, "fit01 fit02 fit03", "fit[1-3]"),
    OK(R2, "fit01", "fit[0001]"),
    OK(R2, "fit01 fit02", "reboot[1-2]"),
    OK(R2, "fit01 fit02 fit37", "data[01-02,37]"),
    OK(R2, "fit01 fit03", "fit[01-03]~fit02"),
    OK(R2, "fit01 fit35 fit36 fit37", "fit[35-37],fit[1]"),
    OK(RK, "r1n01 r1n02 r1n03 r2n01 r2n02 r2n03", "r[1-2]n[01-03]"),
    OK(RK, "r1n02 r2n02", "r[1-2]n[02]"),
    OK(RK, "r2n01 r2n03", "r[2]n[01-03/2]"),
    BAD(RK, "r2n1: not in the inventory", "r[2]n[1-3/2]"),
    OK(RK, "fit12 gateway", "gateway,fit12"),
    /* Operators. */
    OK(R2, "fit05 fit06 fit07 fit08 fit09 fit10", "1-10&5-20"),
    OK(R2, "fit01 fit03", "1-3!2"),
    OK(R2, "fit02 fit03", "1-5", "&fit[2-3]"),
    OK(R2, "fit01 fit03 fit04 fit05", "1-5", "!2,4"),
    OK(R2, "fit01 fit03 fit05", "1-5!2,~4"),
    OK(R2, "fit02 fit03", "1-5,&2-3"),
    OK(R2, "", "~5"),
    /* Groups, from the inventory and from a groups file. */
    OK(RK, "fit01 fit02 fit03 fit04 fit05 fit06", "@rack1"),
    OK(RK, "fit04 fit05", "@rack1&@gpu"),
    OK(RK, "fit07 fit09 fit10 fit12", "@rack2!@gpu"),
    OK(RK,
	"fit01 fit02 fit04 fit05 fit06 fit07 fit08 fit09 fit10 fit11 fit12 "
	"gateway r1n01 r1n02 r1n03 r2n01 r2n02 r2n03",
	"@all!fit03"),
    OK(RK, "r2n01 r2n02 r2n03", "@cluster&r2n[01-03]"),
    GOK("fit01 fit03 fit05 fit07 fit09 fit11", "@odd"),
    GOK("fit01 fit03 fit05", "@small"),
    GOK("fit01 fit02 fit03 fit04 fit05 fit06 fit12", "@rack1"),
    GOK("fit01 fit03", "@twowords"),
    GOK("fit04", "@empty,4"),
    GOK("r1n02 r2n02", "@nodes"),
    GOK("fit01 fit02", "@all"),
    GOK("fit03", "@g0"),
    GOK("fit11", "@odd&@gpu", "~@rack1"),
    {RK, 1, "@g0", NULL, 1, "fit03", NULL, {NULL}},
    /* Errors: one line each. */
    BAD(R2, "fit99: not in the inventory", "99"),
    BAD(R2, "fit38: not in the inventory", "38"),
    BAD(R2, "fit00: not in the inventory", "0"),
    BAD(R2, "fit38: not in the inventory", "1-40"),
    BAD(R2, "fit40: not in the inventory", "1-40-3"),
    BAD(R2, "fit40: not in the inventory", "fit[40]"),
    BAD(R2, "fit01x: not in the inventory", "fit[01-03]x"),
    BAD(R2, "foo: not in the inventory", "foo"),
    BAD(R2, "fit: not in the inventory", "fit"),
    BAD(R2, "1-x: not in the inventory", "1-x"),
    BAD(R2, "misformed node range '1-2-3-4'", "1-2-3-4"),
    BAD(R2, "misformed node range '1-5-0' (step 0)", "1-5-0"),
    BAD(R2, "misformed node range '-3'", "-3"),
    BAD(R2, "misformed node range '1--3'", "1--3"),
    BAD(R2, "misformed node range '1234567890123456789'",
	"1234567890123456789"),
    BAD(R2, "misformed hostlist 'fit['", "fit["),
    BAD(R2, "misformed hostlist 'fit[3-'", "fit[3-"),
    BAD(R2, "misformed hostlist 'fit[3-5'", "fit[3-5"),
    BAD(R2, "misformed hostlist 'fit]'", "fit]"),
    BAD(R2, "misformed hostlist 'fit[]'", "fit[]"),
    BAD(R2, "misformed hostlist 'fit[5-3]'", "fit[5-3]"),
    BAD(R2, "misformed hostlist 'fit[1-5/0]' (step 0)", "fit[1-5/0]"),
    BAD(R2, "misformed hostlist 'fit[a]'", "fit[a]"),
    BAD(R2, "misformed hostlist 'fit[[1]]'", "fit[[1]]"),
    BAD(R2, "'n[1-100000]x[1-2]': more than 100000 names", "n[1-100000]x[1-2]"),
    BAD(R2, "'n[1-999999999999]': more than 100000 names", "n[1-999999999999]"),
    BAD(R2, "empty node spec", ""),
    BAD(R2, "misformed node spec '1,,2'", "1,,2"),
    BAD(R2, "misformed node spec '1,'", "1,"),
    BAD(R2, "misformed node spec ','", ","),
    BAD(R2, "misformed node spec '~'", "~"),
    BAD(R2, "misformed node spec '1~~2'", "1~~2"),
    BAD(R2, "fit99: not in the inventory", "1", "2", "99"),
    BAD(R2, "no nodes given: name some, use -a, or set NODES", NULL),
    {R2, 0, NULL, " \t", 0, NULL,
	"no nodes given: name some, use -a, or set NODES", {NULL}},
    {R2, 0, NULL, "1 99", 0, NULL, "NODES: fit99: not in the inventory",
	{NULL}},
    {R2, 1, "1-40", NULL, 0, NULL,
	"testbed.all_scope: fit38: not in the inventory", {NULL}},
    BAD(RK, "@nope: no such group", "@nope"),
    BAD(RK, "misformed group name '@'", "@"),
    BAD(RK, "misformed group name '@a b'", "@a b"),
    BAD(RK, "@odd: no such group", "@odd"),
    GBAD("@loopa: group loop", "@loopa"),
    GBAD("@self: group loop", "@self"),
    GBAD("@bad: fit99: not in the inventory", "@bad"),
    GBAD("@g14: group loop", "@h0"),
};

static struct groups *
racks_groups_parse(void)
{
	struct groups *g;
	char *err = NULL;

	g = groups_parse(racks_groups_file, "groups", &err);
	if (g == NULL)
		fail_msg("groups: %s", err);
	return (g);
}

static void
env_init(struct nodeset_env *env, const char *all_scope, const struct groups *g)
{
	env->regularname = "fit";
	env->rebootname = "reboot";
	env->all_scope = all_scope;
	env->groups = g;
}

/* Parse text (whitespace-separated arguments) from scratch. */
static struct nodeset *
parse_spec(const struct inventory *inv, const struct nodeset_env *env,
    const char *text, char **errp)
{
	struct nodeset *set;
	char *copy, *argv[64], *last;
	int argc = 0;

	copy = xstrdup(text);
	for (argv[argc] = strtok_r(copy, " ", &last); argv[argc] != NULL;
	     argv[argc] = strtok_r(NULL, " ", &last))
		argc++;
	set = nodeset_new(inv);
	if (nodeset_select(set, env, 0, argc, argv, NULL, errp) != 0) {
		nodeset_free(set);
		set = NULL;
	}
	free(copy);
	return (set);
}

static int
nodeset_equal(const struct nodeset *a, const struct nodeset *b, size_t nnodes)
{
	size_t i;

	for (i = 0; i < nnodes; i++) {
		if (nodeset_has(a, i) != nodeset_has(b, i))
			return (0);
	}
	return (nodeset_count(a) == nodeset_count(b));
}

/* The folded text of set parses back to set. */
static void
assert_round_trip(const struct inventory *inv, const struct nodeset_env *env,
    const struct nodeset *set)
{
	struct nodeset *back;
	char *folded, *err = NULL;

	folded = nodeset_fold(set);
	if (*folded == '\0') {
		assert_int_equal(nodeset_count(set), 0);
		free(folded);
		return;
	}
	back = parse_spec(inv, env, folded, &err);
	if (back == NULL)
		fail_msg("fold '%s' does not parse: %s", folded, err);
	if (!nodeset_equal(set, back, inv->nnodes))
		fail_msg("fold '%s' parses to another set", folded);
	nodeset_free(back);
	free(folded);
}

static void
test_select(void **state)
{
	const struct select_case *c;
	struct nodeset_env env;
	struct nodeset *set;
	struct groups *g;
	char *err, *names;
	size_t i;
	int argc, r;

	g = racks_groups_parse();
	for (i = 0; i < nitems(select_cases); i++) {
		c = &select_cases[i];
		for (argc = 0; c->args[argc] != NULL; argc++)
			;
		env_init(&env, c->all_scope, c->groups ? g : NULL);
		set = nodeset_new(invs[c->inv]);
		err = NULL;
		r = nodeset_select(set, &env, c->all, argc,
		    (char *const *)c->args, c->env_nodes, &err);
		if (c->expect == NULL) {
			if (r == 0)
				fail_msg("case %zu (%s): no error", i,
				    c->args[0]);
			assert_non_null(err);
			if (strcmp(err, c->err) != 0)
				fail_msg("case %zu: error '%s', want '%s'", i,
				    err, c->err);
			assert_null(strchr(err, '\n'));
			free(err);
		} else {
			if (r != 0)
				fail_msg("case %zu (%s): %s", i, c->args[0],
				    err);
			assert_null(err);
			names = nodeset_join(set, " ");
			if (strcmp(names, c->expect) != 0)
				fail_msg("case %zu (%s): '%s', want '%s'", i,
				    c->args[0], names, c->expect);
			free(names);
			assert_round_trip(invs[c->inv], &env, set);
		}
		nodeset_free(set);
	}
	groups_free(g);
}

static void
test_all_scope_empty(void **state)
{
	struct nodeset_env env;
	struct nodeset *set;
	char *err = NULL;

	env_init(&env, "", NULL);
	set = nodeset_new(invs[INV_R2LAB]);
	assert_int_equal(nodeset_select(set, &env, 1, 0, NULL, NULL, &err), 0);
	assert_int_equal(nodeset_count(set), 37);
	assert_int_equal(nodeset_next(set, 0), 0);
	assert_int_equal(nodeset_next(set, 36), 36);
	assert_int_equal(nodeset_next(set, 37), (size_t)-1);
	nodeset_free(set);
}

/* A failed argument leaves the set as it was. */
static void
test_apply_atomic(void **state)
{
	struct nodeset_env env;
	struct nodeset *set, *copy;
	char *err = NULL, *names;

	env_init(&env, "", NULL);
	set = nodeset_new(invs[INV_R2LAB]);
	assert_int_equal(nodeset_apply(set, &env, "1-3", &err), 0);
	assert_int_equal(nodeset_apply(set, &env, "~1,4,99", &err), -1);
	assert_string_equal(err, "fit99: not in the inventory");
	free(err);
	names = nodeset_join(set, ",");
	assert_string_equal(names, "fit01,fit02,fit03");
	free(names);
	copy = nodeset_copy(set);
	nodeset_del(copy, 0);
	nodeset_add(copy, 36);
	nodeset_add(copy, 37); /* out of range: ignored */
	assert_int_equal(nodeset_has(copy, 0), 0);
	assert_int_equal(nodeset_has(copy, 36), 1);
	assert_int_equal(nodeset_has(copy, 37), 0);
	assert_int_equal(nodeset_has(set, 0), 1);
	names = nodeset_join(copy, " ");
	assert_string_equal(names, "fit02 fit03 fit37");
	free(names);
	nodeset_free(copy);
	nodeset_free(set);
}

struct fold_case {
	int inv;
	const char *spec;
	const char *folded;
};

static const struct fold_case fold_cases[] = {
    {R2, "1-12,15", "fit[01-12,15]"},
    {R2, "7", "fit07"},
    {R2, "1-2", "fit[01-02]"},
    {R2, "1,3,5", "fit[01,03,05]"},
    {R2, "1-37", "fit[01-37]"},
    {R2, "1-37-2",
	"fit[01,03,05,07,09,11,13,15,17,19,21,23,25,27,29,31,"
	"33,35,37]"},
    {R2, "36,2,3,10", "fit[02-03,10,36]"},
    {RK, "r[1-2]n[01-03],fit01", "fit01,r1n[01-03],r2n[01-03]"},
    {RK, "gateway,r2n02,5", "fit05,gateway,r2n02"},
    {RK, "gateway", "gateway"},
    /* Names that rhubarbe's numbers would misread keep brackets. */
    {INV_TRICKY, "fit1-[3]", "fit1-[3]"},
    {INV_TRICKY, "[7]", "[7]"},
    {INV_TRICKY, "reboot[09]", "reboot[09]"},
    {INV_TRICKY, "fit[3]fit", "fit[3]fit"},
    {INV_TRICKY, "xfit4", "xfit4"},
    {INV_TRICKY, "node5", "node5"},
    {INV_TRICKY, "fit02", "fit02"},
    {INV_TRICKY, "1-3", "fit[01-03]"},
};

static void
test_fold(void **state)
{
	const struct fold_case *c;
	struct nodeset_env env;
	struct nodeset *set;
	char *err = NULL, *folded;
	size_t i;

	env_init(&env, "", NULL);
	for (i = 0; i < nitems(fold_cases); i++) {
		c = &fold_cases[i];
		set = parse_spec(invs[c->inv], &env, c->spec, &err);
		if (set == NULL)
			fail_msg("case %zu: %s", i, err);
		folded = nodeset_fold(set);
		if (strcmp(folded, c->folded) != 0)
			fail_msg("case %zu: fold '%s', want '%s'", i, folded,
			    c->folded);
		free(folded);
		assert_round_trip(invs[c->inv], &env, set);
		nodeset_free(set);
	}
	set = nodeset_new(invs[INV_R2LAB]);
	folded = nodeset_fold(set);
	assert_string_equal(folded, "");
	free(folded);
	folded = nodeset_join(set, " ");
	assert_string_equal(folded, "");
	free(folded);
	nodeset_free(set);
}

struct fold_names_case {
	const char *names[8];
	const char *folded;
};

static const struct fold_names_case fold_names_cases[] = {
    {{"fit01", "fit02", "fit03", "fit05"}, "fit[01-03,05]"},
    {{"fit1", "fit2", "fit10"}, "fit[1-2,10]"},
    {{"fit08", "fit09", "fit10", "fit100"}, "fit[08-10,100]"},
    {{"b2", "a1", "b1"}, "b[1-2],a1"},
    {{"x", "x", "fit1", "fit1"}, "x,fit1"},
    {{"rack1-node3"}, "rack1-node3"},
    {{"rack1-node3", "rack1-node4", "rack2-node3"},
	"rack1-node[3-4],rack2-node3"},
    {{"n1a", "n2a", "n3b"}, "n[1-2]a,n3b"},
    {{"fit007", "fit07", "fit7"}, "fit007,fit07,fit7"},
    {{"fit5", "fit05", "fit10"}, "fit5,fit[05,10]"},
    {{"a0", "a1", "a2"}, "a[0-2]"},
    {{"n0000000000000000001", "n0000000000000000002"},
	"n0000000000000000001,n0000000000000000002"},
    {{"node.example.org"}, "node.example.org"},
    {{NULL}, ""},
};

static void
test_fold_names(void **state)
{
	const struct fold_names_case *c;
	char *folded;
	size_t i, n;

	for (i = 0; i < nitems(fold_names_cases); i++) {
		c = &fold_names_cases[i];
		for (n = 0; n < nitems(c->names) && c->names[n] != NULL; n++)
			;
		folded = nodeset_fold_names(c->names, n);
		if (strcmp(folded, c->folded) != 0)
			fail_msg("case %zu: '%s', want '%s'", i, folded,
			    c->folded);
		free(folded);
	}
}

/* Random subsets fold and parse back to themselves. */
static void
test_fold_random(void **state)
{
	struct nodeset_env env;
	struct nodeset *set;
	uint32_t seed = 12345;
	size_t i, round;
	int k;

	env_init(&env, "", NULL);
	for (k = 0; k < INV_COUNT; k++) {
		for (round = 0; round < 300; round++) {
			set = nodeset_new(invs[k]);
			for (i = 0; i < invs[k]->nnodes; i++) {
				seed = seed * 1103515245 + 12345;
				if ((seed >> 16) % (round % 5 + 2) == 0)
					nodeset_add(set, i);
			}
			assert_round_trip(invs[k], &env, set);
			nodeset_free(set);
		}
	}
}

/*
 * A 10000-node inventory: ranges, brackets and folding at that size. How
 * fast is measured by tests/bench/startup.sh, not here.
 */
static void
test_large(void **state)
{
	struct inventory *inv;
	struct nodeset_env env;
	struct nodeset *set;
	char **names, *text, *err = NULL, *folded;
	int i, n = 10000;

	names = xcalloc((size_t)n, sizeof *names);
	for (i = 0; i < n; i++)
		xasprintf(&names[i], "fit%05d", i + 1);
	text = make_extended((const char *const *)names, NULL, n);
	inv = parse_inv(text);
	free(text);
	env_init(&env, "", NULL);

	set = nodeset_new(inv);
	assert_int_equal(nodeset_apply(set, &env, "1-10000", &err), 0);
	assert_int_equal(nodeset_count(set), 10000);
	folded = nodeset_fold(set);
	assert_string_equal(folded, "fit[00001-10000]");
	free(folded);
	nodeset_free(set);

	set = nodeset_new(inv);
	assert_int_equal(nodeset_apply(set, &env, "fit[1-10000/3]", &err), 0);
	assert_int_equal(nodeset_count(set), 3334);
	assert_int_equal(nodeset_apply(set, &env, "1-10001", &err), -1);
	assert_string_equal(err, "fit10001: not in the inventory");
	free(err);
	nodeset_free(set);

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	inventory_free(inv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_select),
	    cmocka_unit_test(test_all_scope_empty),
	    cmocka_unit_test(test_apply_atomic),
	    cmocka_unit_test(test_fold),
	    cmocka_unit_test(test_fold_names),
	    cmocka_unit_test(test_fold_random),
	    cmocka_unit_test(test_large),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
