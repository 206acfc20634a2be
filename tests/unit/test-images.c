/*
 * Unit tests of the image repository (inventory/images.c): radicals,
 * names users give, saving__ names, sizes, and the scan, clusters and
 * lookup on a temporary tree of files, aliases and mtimes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "inventory/images.h"

static const struct {
	const char *path, *radical;
} radical_cases[] = {
    {"saving__fit01__2026-01-02@03-04__ubuntu.ndz", "ubuntu"},
    {"/var/lib/x/saving__fit01__2026-01-02@03-04__ubuntu.ndz", "ubuntu"},
    {"saving__fit01__2026-01-02@03:04__u-22.04.ndz", "u-22.04"},
    {"saving__reboot12__2026-01-02@03-04__a__b.ndz", "a__b"},
    {"saving__fit01__2026-01-02@03-04__ubuntu", "ubuntu"},
    {"ubuntu.ndz", "ubuntu"},
    {"dir/ubuntu-latest.ndz", "ubuntu-latest"},
    {"ubuntu", "ubuntu"},
    {"saving__fit01__2026-01-02@03-04__.ndz",
	"saving__fit01__2026-01-02@03-04__"},
    {"saving__fit01__2026-1-02@03-04__x.ndz",
	"saving__fit01__2026-1-02@03-04__x"},
    {"saving____2026-01-02@03-04__x.ndz", "saving____2026-01-02@03-04__x"},
    {"saving__fit_01__2026-01-02@03-04__x.ndz",
	"saving__fit_01__2026-01-02@03-04__x"},
    {"saving__fit01_2026-01-02@03-04__x.ndz",
	"saving__fit01_2026-01-02@03-04__x"},
    {"saving__fit01__2026-01-02@03-0", "saving__fit01__2026-01-02@03-0"},
    {".ndz", ".ndz"},
    {"a.ndz.ndz", "a.ndz"},
};

static void
test_radical(void **state)
{
	char *r;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(radical_cases); i++) {
		r = images_radical(radical_cases[i].path);
		if (strcmp(r, radical_cases[i].radical) != 0)
			fail_msg("%s: radical %s, want %s",
			    radical_cases[i].path, r, radical_cases[i].radical);
		free(r);
	}
}

static const struct {
	const char *name, *err; /* err: NULL if valid, else a substring */
} name_cases[] = {
    {"ubuntu", NULL},
    {"u-22.04_lts", NULL},
    {"a b", NULL},
    {"", "empty image name"},
    {"a/b", "has a '/'"},
    {"/abs", "has a '/'"},
    {"a..b", "has '..'"},
    {"..", "has '..'"},
    {"-rf", "starts with '-'"},
    {".hidden", "starts with '.'"},
    {"tab\there", "control character (0x09)"},
    {"nl\n", "control character (0x0a)"},
    {"del\x7f", "control character (0x7f)"},
};

static void
test_name_valid(void **state)
{
	char long_name[IMAGES_NAME_MAX + 2], *err;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < nitems(name_cases); i++) {
		err = NULL;
		r = images_name_valid(name_cases[i].name, &err);
		if (name_cases[i].err == NULL) {
			if (r != 0)
				fail_msg("'%s' refused: %s", name_cases[i].name,
				    err);
			continue;
		}
		if (r == 0)
			fail_msg("case %zu accepted", i);
		if (strstr(err, name_cases[i].err) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
			    name_cases[i].err);
		assert_null(strchr(err, '\n'));
		free(err);
	}
	memset(long_name, 'x', sizeof long_name - 1);
	long_name[IMAGES_NAME_MAX] = '\0';
	assert_int_equal(images_name_valid(long_name, &err), 0);
	long_name[IMAGES_NAME_MAX] = 'x';
	long_name[IMAGES_NAME_MAX + 1] = '\0';
	assert_int_equal(images_name_valid(long_name, &err), -1);
	assert_non_null(strstr(err, "longer than"));
	free(err);
}

static void
test_saving_name(void **state)
{
	char *name, *r;
	struct tm tm = {0};
	time_t when;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	tm.tm_year = 2026 - 1900;
	tm.tm_mon = 0;
	tm.tm_mday = 2;
	tm.tm_hour = 3;
	tm.tm_min = 4;
	when = timegm(&tm);
	name = images_saving_name("fit01", when, "ubuntu");
	assert_string_equal(name,
	    "saving__fit01__2026-01-02@03-04__ubuntu.ndz");
	r = images_radical(name);
	assert_string_equal(r, "ubuntu");
	free(r);
	free(name);
	name = images_saving_name("reboot-7", when, "a__b");
	r = images_radical(name);
	assert_string_equal(r, "a__b");
	free(r);
	free(name);
}

static void
test_human_size(void **state)
{
	static const struct {
		off_t size;
		const char *want;
	} cases[] = {
	    {0, "0B"},
	    {1023, "1023B"},
	    {1024, "1.00K"},
	    {20 * 1024 * 1024, "20.00M"},
	    {(off_t)3 << 30, "3.00G"},
	    {1536, "1.50K"},
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		images_human_size(cases[i].size, buf, sizeof buf);
		assert_string_equal(buf, cases[i].want);
	}
}

/* The tree: ROOT/pub (public) and ROOT/cwd (the current directory). */
static char root[64];
static char pub[128];
static char cwd_dir[128];
static char old_cwd[4096];

static void
mkfile(const char *path, size_t size, time_t mtime)
{
	struct timespec ts[2];
	FILE *f;
	size_t i;

	if ((f = fopen(path, "w")) == NULL)
		fail_msg("fopen %s", path);
	for (i = 0; i < size; i++)
		fputc('x', f);
	fclose(f);
	ts[0].tv_sec = ts[1].tv_sec = mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (utimensat(AT_FDCWD, path, ts, 0) != 0)
		fail_msg("utimensat %s", path);
}

static int
tree_setup(void **state)
{
	char p[256];

	(void)state;
	snprintf(root, sizeof root, "/tmp/test-images.XXXXXX");
	if (mkdtemp(root) == NULL || getcwd(old_cwd, sizeof old_cwd) == NULL)
		return (-1);
	snprintf(pub, sizeof pub, "%s/pub", root);
	snprintf(cwd_dir, sizeof cwd_dir, "%s/cwd", root);
	if (mkdir(pub, 0755) != 0 || mkdir(cwd_dir, 0755) != 0)
		return (-1);
	/* Public: ubuntu (2 aliases), old debian, a dangling alias. */
	snprintf(p, sizeof p, "%s/ubuntu.ndz", pub);
	mkfile(p, 300, 1000);
	snprintf(p, sizeof p, "%s/ubuntu-latest.ndz", pub);
	if (symlink("ubuntu.ndz", p) != 0)
		return (-1);
	snprintf(p, sizeof p, "%s/u.ndz", pub);
	if (symlink("ubuntu.ndz", p) != 0)
		return (-1);
	snprintf(p, sizeof p, "%s/debian.ndz", pub);
	mkfile(p, 10, 500);
	snprintf(p, sizeof p, "%s/gone.ndz", pub);
	if (symlink("nowhere.ndz", p) != 0)
		return (-1);
	snprintf(p, sizeof p, "%s/notes.txt", pub);
	mkfile(p, 1, 1);
	snprintf(p, sizeof p, "%s/.hidden.ndz", pub);
	mkfile(p, 1, 9999);
	/* Current: newer debian saves, an older ubuntu save, a tie. */
	if (chdir(cwd_dir) != 0)
		return (-1);
	mkfile("saving__fit01__2026-01-02@03-04__debian.ndz", 20, 2000);
	mkfile("saving__fit02__2026-01-03@03-04__debian.ndz", 30, 3000);
	mkfile("saving__fit03__2026-01-03@03-04__ubuntu.ndz", 40, 900);
	mkfile("tie.ndz", 1, 700);
	snprintf(p, sizeof p, "%s/tie.ndz", pub);
	mkfile(p, 2, 700);
	snprintf(p, sizeof p, "%s/outside.ndz", root);
	mkfile(p, 5, 5000);
	return (0);
}

static int
tree_teardown(void **state)
{
	char *cmd;

	(void)state;
	if (chdir(old_cwd) != 0)
		return (-1);
	xasprintf(&cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0) {
		free(cmd);
		return (-1);
	}
	free(cmd);
	return (0);
}

static const struct image_cluster *
find_cluster(const struct images *im, const char *path)
{
	size_t i;

	for (i = 0; i < im->nclusters; i++) {
		if (strcmp(im->clusters[i].members[0]->path, path) == 0)
			return (&im->clusters[i]);
	}
	fail_msg("no cluster headed by %s", path);
	return (NULL);
}

static void
test_scan(void **state)
{
	const struct image_cluster *c;
	struct images *im;
	char p[256];

	(void)state;
	im = images_scan(pub, 0);
	/* 3 public files + 2 aliases, 4 current; gone.ndz a warning. */
	assert_int_equal(im->n, 9);
	assert_int_equal(im->nclusters, 7);
	assert_int_equal(im->nwarnings, 1);
	assert_non_null(strstr(im->warnings[0], "gone.ndz"));
	assert_null(strchr(im->warnings[0], '\n'));
	assert_int_equal(im->cwd_is_public, 0);

	snprintf(p, sizeof p, "%s/ubuntu.ndz", pub);
	c = find_cluster(im, p);
	assert_int_equal(c->nmembers, 3);
	assert_false(c->members[0]->is_link);
	assert_true(c->members[0]->is_public);
	assert_true(c->members[1]->is_link);
	assert_true(c->members[2]->is_link);
	snprintf(p, sizeof p, "%s/u.ndz", pub);
	assert_string_equal(c->members[1]->path, p);
	assert_string_equal(c->members[1]->radical, "u");
	assert_int_equal(c->members[2]->size, 300);
	assert_int_equal(c->members[2]->mtime, 1000);

	c = find_cluster(im, "saving__fit02__2026-01-03@03-04__debian.ndz");
	assert_int_equal(c->nmembers, 1);
	assert_false(c->members[0]->is_public);
	assert_string_equal(c->members[0]->radical, "debian");
	assert_int_equal(c->members[0]->mtime, 3000);
	images_free(im);

	/* Public only. */
	im = images_scan(pub, 1);
	assert_int_equal(im->n, 5);
	assert_int_equal(im->nclusters, 3);
	images_free(im);

	/* No public directory: the current one only. */
	im = images_scan(NULL, 0);
	assert_int_equal(im->n, 4);
	assert_int_equal(im->nwarnings, 0);
	images_free(im);

	/* A missing public directory is a warning, not a failure. */
	snprintf(p, sizeof p, "%s/missing", root);
	im = images_scan(p, 0);
	assert_int_equal(im->n, 4);
	assert_int_equal(im->nwarnings, 1);
	assert_non_null(strstr(im->warnings[0], "No such file"));
	images_free(im);

	/* In the public directory: listed once. */
	assert_int_equal(chdir(pub), 0);
	im = images_scan(pub, 0);
	assert_true(im->cwd_is_public);
	assert_int_equal(im->n, 5);
	images_free(im);
	assert_int_equal(chdir(cwd_dir), 0);
}

static const struct {
	const char *arg;
	const char *want; /* path; "@" = pub/..., "#" = root/...; NULL */
	int bad;
	const char *err;
} lookup_cases[] = {
    /* Newest mtime wins among radical matches of both dirs. */
    {"debian", "saving__fit02__2026-01-03@03-04__debian.ndz", 0, NULL},
    {"ubuntu", "@/ubuntu.ndz", 0, NULL},
    /* An alias is a candidate under its own name. */
    {"ubuntu-latest", "@/ubuntu-latest.ndz", 0, NULL},
    /* Exact paths, file names and stems. */
    {"@/debian.ndz", "@/debian.ndz", 0, NULL},
    {"debian.ndz", "@/debian.ndz", 0, NULL},
    {"saving__fit01__2026-01-02@03-04__debian.ndz",
	"saving__fit01__2026-01-02@03-04__debian.ndz", 0, NULL},
    {"saving__fit01__2026-01-02@03-04__debian",
	"saving__fit01__2026-01-02@03-04__debian.ndz", 0, NULL},
    /* Same mtime: the public one. */
    {"tie", "@/tie.ndz", 0, NULL},
    /* An existing file in the current dir, by name: that one. */
    {"tie.ndz", "tie.ndz", 0, NULL},
    {"./tie.ndz", "./tie.ndz", 0, NULL},
    /* A path outside the two directories. */
    {"#/outside.ndz", "#/outside.ndz", 0, NULL},
    {"../outside.ndz", "../outside.ndz", 0, NULL},
    {"outside", NULL, 0, "image outside not found in"},
    {"#/nothere.ndz", NULL, 0, "No such file or directory"},
    {"#", NULL, 0, "not a regular file"},
    {"gone", NULL, 0, "not found"},
    {"notes", NULL, 0, "not found"},
    {"hidden", NULL, 0, "not found"},
    {"", NULL, 1, "empty image name"},
    {"ubu\nntu", NULL, 1, "control character (0x0a)"},
    {"\x1b[31m", NULL, 1, "control character (0x1b)"},
};

static char *
expand(const char *s)
{
	char *out;

	if (s[0] == '@')
		xasprintf(&out, "%s%s", pub, s + 1);
	else if (s[0] == '#')
		xasprintf(&out, "%s%s", root, s + 1);
	else
		out = xstrdup(s);
	return (out);
}

static void
test_lookup(void **state)
{
	const struct image *img;
	struct images *im;
	char *arg, *want, *err;
	size_t i;
	int bad;

	(void)state;
	im = images_scan(pub, 0);
	for (i = 0; i < nitems(lookup_cases); i++) {
		arg = expand(lookup_cases[i].arg);
		err = NULL;
		bad = -1;
		img = images_lookup(im, arg, &bad, &err);
		if (lookup_cases[i].want != NULL) {
			want = expand(lookup_cases[i].want);
			if (img == NULL)
				fail_msg("%s: not found: %s", arg, err);
			if (strcmp(img->path, want) != 0)
				fail_msg("%s: %s, want %s", arg, img->path,
				    want);
			free(want);
		} else {
			if (img != NULL)
				fail_msg("%s: found %s", arg, img->path);
			assert_int_equal(bad, lookup_cases[i].bad);
			if (strstr(err, lookup_cases[i].err) == NULL)
				fail_msg("%s: '%s' lacks '%s'", arg, err,
				    lookup_cases[i].err);
			assert_null(strchr(err, '\n'));
			free(err);
		}
		free(arg);
	}
	images_free(im);
}

static void
test_candidates(void **state)
{
	const struct image **list;
	struct images *im;
	size_t n;

	(void)state;
	im = images_scan(pub, 0);
	n = images_candidates(im, "debian", &list);
	assert_int_equal(n, 3);
	assert_int_equal(list[0]->mtime, 3000);
	assert_int_equal(list[1]->mtime, 2000);
	assert_int_equal(list[2]->mtime, 500);
	free(list);
	n = images_candidates(im, "ubuntu", &list);
	assert_int_equal(n, 2);
	assert_true(list[0]->is_public);
	assert_int_equal(list[1]->mtime, 900);
	free(list);
	n = images_candidates(im, "nothing", &list);
	assert_int_equal(n, 0);
	assert_null(list);
	images_free(im);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_radical),
	    cmocka_unit_test(test_name_valid),
	    cmocka_unit_test(test_saving_name),
	    cmocka_unit_test(test_human_size),
	    cmocka_unit_test(test_scan),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_candidates),
	};

	return (cmocka_run_group_tests(tests, tree_setup, tree_teardown));
}
