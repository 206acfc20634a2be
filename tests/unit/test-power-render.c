/*
 * What the power commands print (ui/render-power.c), byte for byte, in
 * each form: folded by result and reason (powerman's), one line per
 * node, rhubarbe's "rebootNN:body", and the JSON document; and the audit
 * log (engine/audit.c): the line's fields, its escaping, appending with
 * mode 0600, and a clear error when the file cannot be written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "engine/audit.h"
#include "ui/render-power.h"

/* clang-format off */
#define ROW(n, c, ok, res, why) \
	{n, c, "cmc", c, ok, res, why, NULL, \
	    ok ? "ok" : "power-failed", res, 0.5, 1}
/* clang-format on */

static char *
render(enum render_power_format fmt, const char *action,
    const struct render_power_row *rows, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	render_power(f, fmt, action, rows, n, 1.25);
	fclose(f);
	return (buf);
}

static const struct render_power_row status_rows[] = {
    ROW("fit01", "reboot01", 1, "on", NULL),
    ROW("fit02", "reboot02", 1, "on", NULL),
    ROW("fit03", "reboot03", 1, "off", NULL),
    ROW("fit04", "reboot04", 1, "on", NULL),
    ROW("fit05", "reboot05", 0, "unknown", "connection timeout"),
    ROW("fit06", "reboot06", 0, "unknown", "password invalid"),
    ROW("fit07", "reboot07", 0, "unknown", "connection timeout"),
    ROW("fit08", NULL, 1, "on", "pdu2 outlet 10: off"),
};

/* Folded: fixed result order, same result and reason on one line. */
static void
test_fold_status(void **state)
{
	char *s = render(RENDER_POWER_FOLD, "status", status_rows,
	    nitems(status_rows));

	assert_string_equal(s,
	    "on: fit[01-02,04]\n"
	    "on: fit08 (pdu2 outlet 10: off)\n"
	    "off: fit03\n"
	    "unknown: fit[05,07] (connection timeout)\n"
	    "unknown: fit06 (password invalid)\n");
	free(s);
}

static void
test_fold_action(void **state)
{
	static const struct render_power_row rows[] = {
	    ROW("fit02", "reboot02", 0, "failed", "password invalid"),
	    ROW("fit01", "reboot01", 1, "ok", NULL),
	    ROW("fit03", "reboot03", 1, "ok", NULL),
	    ROW("fit04", "reboot04", 0, "failed", "reads off after reset"),
	};
	char *s = render(RENDER_POWER_FOLD, "reset", rows, nitems(rows));

	assert_string_equal(s,
	    "ok: fit[01,03]\n"
	    "failed: fit02 (password invalid)\n"
	    "failed: fit04 (reads off after reset)\n");
	free(s);
}

static void
test_lines(void **state)
{
	char *s = render(RENDER_POWER_LINES, "status", status_rows, 3);

	assert_string_equal(s, "fit01: on\nfit02: on\nfit03: off\n");
	free(s);
	s = render(RENDER_POWER_LINES, "status", status_rows + 4, 1);
	assert_string_equal(s, "fit05: unknown (connection timeout)\n");
	free(s);
}

/* rhubarbe's form: the CMC name, "status N/A" on failure. */
static void
test_rhubarbe(void **state)
{
	static const struct render_power_row rows[] = {
	    ROW("fit01", "reboot01", 1, "ok", NULL),
	    ROW("fit02", "reboot02", 0, "failed", "connection timeout"),
	    ROW("fit08", NULL, 1, "ok", NULL),
	};
	char *s = render(RENDER_POWER_RHUBARBE, "status", status_rows + 2, 4);

	assert_string_equal(s,
	    "reboot03:off\nreboot04:on\n"
	    "reboot05:status N/A\nreboot06:status N/A\n");
	free(s);
	s = render(RENDER_POWER_RHUBARBE, "on", rows, nitems(rows));
	assert_string_equal(s, "reboot01:ok\nreboot02:on N/A\nfit08:ok\n");
	free(s);
}

/* Info: per node, its text; control characters cannot forge lines. */
static void
test_info(void **state)
{
	struct render_power_row rows[] = {
	    ROW("fit01", "reboot01", 1, "ok", NULL),
	    ROW("fit02", "reboot02", 0, "failed", "connection timeout"),
	};
	char *s;

	rows[0].info = "fit01 chassis=on\nfit09: fake";
	s = render(RENDER_POWER_FOLD, "info", rows, nitems(rows));
	assert_string_equal(s,
	    "fit01: fit01 chassis=on?fit09: fake\n"
	    "fit02: failed (connection timeout)\n");
	free(s);
	s = render(RENDER_POWER_RHUBARBE, "info", rows, nitems(rows));
	assert_string_equal(s,
	    "reboot01:fit01 chassis=on?fit09: fake\n"
	    "reboot02:info N/A\n");
	free(s);
}

static void
test_json(void **state)
{
	json_error_t jerr;
	json_t *o, *n, *sum;
	char *s = render(RENDER_POWER_JSON, "status", status_rows,
	    nitems(status_rows));

	o = json_loads(s, 0, &jerr);
	if (o == NULL)
		fail_msg("%s: %s", jerr.text, s);
	assert_string_equal(json_string_value(json_object_get(o, "action")),
	    "status");
	assert_true(json_is_false(json_object_get(o, "ok")));
	n = json_object_get(o, "nodes");
	assert_int_equal(json_array_size(n), nitems(status_rows));
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(n, 4), "reason")),
	    "connection timeout");
	assert_true(
	    json_is_null(json_object_get(json_array_get(n, 0), "reason")));
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(n, 0), "controller")),
	    "reboot01");
	sum = json_object_get(o, "summary");
	assert_int_equal(json_array_size(sum), 5);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(sum, 0), "nodes")),
	    "fit[01-02,04]");
	assert_int_equal(json_integer_value(
			     json_object_get(json_array_get(sum, 0), "count")),
	    3);
	json_decref(o);
	free(s);
}

static const struct audit_result audit_results[] = {
    {"ok", "fit[01-03]"},
    {"power-auth", "fit04"},
};
static const char *const audit_backends[] = {"cmc", "ipmi"};

static void
audit_rec(struct audit_record *rec)
{
	memset(rec, 0, sizeof *rec);
	rec->action = "cycle";
	rec->backends = audit_backends;
	rec->nbackends = nitems(audit_backends);
	rec->nodes = "fit[01-04]";
	rec->results = audit_results;
	rec->nresults = nitems(audit_results);
	rec->start_wall_ms = 1709640000123ULL; /* 2024-03-05T12:00:00.123Z */
	rec->duration_ms = 2500;
}

static void
test_audit_format(void **state)
{
	struct audit_record rec;
	struct audit_identity id;
	char *line;

	audit_rec(&rec);
	memset(&id, 0, sizeof id);
	strlcpy(id.user, "alice", sizeof id.user);
	id.uid = 1000;
	strlcpy(id.host, "faraday", sizeof id.host);
	line = audit_format(&rec, &id);
	assert_string_equal(line,
	    "{\"time\":\"2024-03-05T12:00:00.123Z\",\"user\":\"alice\","
	    "\"uid\":1000,\"host\":\"faraday\",\"action\":\"cycle\","
	    "\"backends\":[\"cmc\",\"ipmi\"],\"nodes\":\"fit[01-04]\","
	    "\"results\":{\"ok\":\"fit[01-03]\",\"power-auth\":\"fit04\"},"
	    "\"duration\":2.5,\"interrupted\":false}");
	free(line);
	/* Behind sudo: who ran sudo; odd bytes cannot break the line. */
	strlcpy(id.user, "root", sizeof id.user);
	id.uid = 0;
	strlcpy(id.sudo_user, "bob\"\n\xff", sizeof id.sudo_user);
	line = audit_format(&rec, &id);
	assert_non_null(strstr(line, "\"sudo_user\":\"bob\\\"\\n?\""));
	assert_null(strchr(line, '\n'));
	free(line);
}

static void
test_audit_write(void **state)
{
	struct audit_record rec;
	struct stat st;
	char dir[] = "/tmp/test-power-audit.XXXXXX", *path, *err = NULL;
	char buf[2048];
	json_t *j;
	FILE *f;
	int n = 0;

	assert_non_null(mkdtemp(dir));
	audit_rec(&rec);
	assert_int_equal(audit_write(dir, &rec, &err), 0);
	rec.action = "off";
	assert_int_equal(audit_write(dir, &rec, &err), 0);
	xasprintf(&path, "%s/%s", dir, AUDIT_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof buf, f) != NULL) {
		n++;
		j = json_loads(buf, 0, NULL);
		assert_non_null(j);
		json_decref(j);
		assert_non_null(strstr(buf,
		    n == 1 ? "\"action\":\"cycle\"" : "\"action\":\"off\""));
	}
	fclose(f);
	assert_int_equal(n, 2);
	unlink(path);
	free(path);
	rmdir(dir);
	/* A directory that is not there: an error naming the file. */
	assert_int_equal(audit_write(dir, &rec, &err), -1);
	assert_non_null(strstr(err, AUDIT_FILE));
	assert_null(strchr(err, '\n'));
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold_status),
	    cmocka_unit_test(test_fold_action),
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_rhubarbe),
	    cmocka_unit_test(test_info),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_audit_format),
	    cmocka_unit_test(test_audit_write),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
