/*
 * Unit tests of inventory/config.c: defaults, layering, per-host keys, -o,
 * every type's good and bad values, warnings and errors with their
 * file:line, rhubarbe's own configuration, files on disk, and the shipped
 * etc/rhubarb.conf (which must hold exactly the compiled-in defaults).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "inventory/config.h"

#define HOST "myhost"

static void
check_contains(const char *s, const char *sub)
{
	if (s == NULL || strstr(s, sub) == NULL)
		fail_msg("'%s' does not contain '%s'", s ? s : "(null)", sub);
}

/* Load texts[] in order as origins "a", "b", "c"; NULL ends. */
static struct config *
load_all(const char *host, const char *const *texts, int expect_ok)
{
	static const char *origins[] = {"a", "b", "c", "d"};
	struct config *cfg;
	char *err = NULL;
	size_t i;
	int r;

	cfg = config_new(host);
	for (i = 0; i < 4 && texts[i] != NULL; i++) {
		r = config_load_string(cfg, origins[i], texts[i], &err);
		if (expect_ok && r != 0)
			fail_msg("load %s: %s", origins[i], err);
		free(err);
		err = NULL;
	}
	return (cfg);
}

/* Load one text, expecting an error containing want. */
static void
load_fails(const char *host, const char *text, const char *want)
{
	struct config *cfg;
	char *err = NULL;

	cfg = config_new(host);
	assert_int_equal(config_load_string(cfg, "t", text, &err), -1);
	check_contains(err, want);
	/* One line, no trailing newline. */
	assert_null(strchr(err, '\n'));
	free(err);
	config_free(cfg);
}

/* Defaults: every key readable with its accessor, equal to the table. */
static void
test_defaults(void **state)
{
	static const struct {
		enum config_key key;
		const char *text;
		double number;
	} some[] = {
	    {CK_NODES_LOAD_DEFAULT_TIMEOUT, "300", 300},
	    {CK_NODES_WAIT_DEFAULT_TIMEOUT, "60", 60},
	    {CK_NODES_IDLE_AFTER_RESET, "15", 15},
	    {CK_NETWORKING_PING_TIMEOUT, "0.5", 0.5},
	    {CK_NETWORKING_PATTERN_PORT, "10000 + *", 10000},
	    {CK_NETWORKING_PATTERN_MULTICAST, "234.5.6.*", 0},
	    {CK_NETWORKING_BANDWIDTH, "500", 500},
	    {CK_FRISBEE_NETCAT_STYLE, "fedora", 0},
	    {CK_TESTBED_ALL_SCOPE, "", 0},
	    {CK_MONITOR_STEP_LEASES, "0.05", 0.05},
	};
	struct config *cfg;
	enum config_key k;
	size_t i;
	char *end;

	cfg = config_new(HOST);
	assert_int_equal(config_warning_count(cfg), 0);
	assert_int_equal(config_file_count(cfg), 0);
	for (k = 0; k < CK__COUNT; k++) {
		const char *d = config_key_default(k);

		assert_string_equal(config_origin(cfg, k), "default");
		assert_string_equal(config_text(cfg, k), d);
		switch (config_key_type(k)) {
		case CONFIG_INT:
			assert_int_equal(config_int(cfg, k),
			    strtoll(d, &end, 10));
			assert_true(config_double(cfg, k) ==
			    (double)config_int(cfg, k));
			break;
		case CONFIG_DOUBLE:
			assert_true(config_double(cfg, k) == strtod(d, &end));
			break;
		case CONFIG_PORT_PATTERN:
			assert_int_equal(config_port_base(cfg, k),
			    strtol(d, &end, 10));
			assert_string_equal(config_str(cfg, k), d);
			break;
		default:
			assert_string_equal(config_str(cfg, k), d);
			break;
		}
	}
	for (i = 0; i < nitems(some); i++) {
		assert_string_equal(config_text(cfg, some[i].key),
		    some[i].text);
		switch (config_key_type(some[i].key)) {
		case CONFIG_INT:
		case CONFIG_DOUBLE:
			assert_true(
			    config_double(cfg, some[i].key) == some[i].number);
			break;
		case CONFIG_PORT_PATTERN:
			assert_int_equal(config_port_base(cfg, some[i].key),
			    (int)some[i].number);
			break;
		default:
			break;
		}
	}
	config_free(cfg);
}

/* Three layers, later wins key by key, each origin right. */
static void
test_layering(void **state)
{
	static const char *const texts[] = {
	    "[nodes]\nidle_after_reset = 1\ncmc_default_timeout = 2\n"
	    "fanout = 3\n[frisbee]\nserver = one\n",
	    "[nodes]\ncmc_default_timeout = 20\n",
	    "; third\n[nodes]\n\nfanout = 30\n[frisbee]\nserver = three\n",
	    NULL,
	};
	static const struct {
		enum config_key key;
		const char *text;
		const char *origin;
	} want[] = {
	    {CK_NODES_IDLE_AFTER_RESET, "1", "a:2"},
	    {CK_NODES_CMC_DEFAULT_TIMEOUT, "20", "b:2"},
	    {CK_NODES_FANOUT, "30", "c:4"},
	    {CK_FRISBEE_SERVER, "three", "c:6"},
	    {CK_NODES_LOAD_DEFAULT_TIMEOUT, "300", "default"},
	};
	struct config *cfg;
	size_t i;

	cfg = load_all(HOST, texts, 1);
	for (i = 0; i < nitems(want); i++) {
		assert_string_equal(config_text(cfg, want[i].key),
		    want[i].text);
		assert_string_equal(config_origin(cfg, want[i].key),
		    want[i].origin);
	}
	assert_int_equal(config_int(cfg, CK_NODES_FANOUT), 30);
	assert_int_equal(config_warning_count(cfg), 0);
	config_free(cfg);
}

/* key.<host>: both orders, empty values, other hosts, case. */
static void
test_host_override(void **state)
{
	static const struct {
		const char *host;
		const char *texts[4];
		enum config_key key;
		const char *text;
		const char *origin;
		size_t warnings;
	} cases[] = {
	    {HOST, {"[nodes]\nfanout = 5\n", "[nodes]\nfanout.myhost = 7\n"},
		CK_NODES_FANOUT, "7", "b:2", 0},
	    {HOST, {"[nodes]\nfanout.myhost = 7\n", "[nodes]\nfanout = 5\n"},
		CK_NODES_FANOUT, "7", "a:2", 0},
	    {HOST, {"[nodes]\nfanout.myhost = 7\nfanout = 5\n"},
		CK_NODES_FANOUT, "7", "a:2", 0},
	    {HOST, {"[nodes]\nfanout = 5\nfanout.myhost =\n"}, CK_NODES_FANOUT,
		"5", "a:2", 0},
	    {HOST,
		{"[nodes]\nfanout.myhost = 7\n", "[nodes]\nfanout.myhost =\n"},
		CK_NODES_FANOUT, "256", "default", 0},
	    {HOST, {"[nodes]\nfanout.other = 9\n"}, CK_NODES_FANOUT, "256",
		"default", 0},
	    {HOST, {"[nodes]\nfanout.other = 9\nfanout = 8\n"}, CK_NODES_FANOUT,
		"8", "a:3", 0},
	    {HOST, {"[nodes]\nFANOUT.MyHost = 6\n"}, CK_NODES_FANOUT, "6",
		"a:2", 0},
	    {"MyHost", {"[nodes]\nfanout.myhost = 6\n"}, CK_NODES_FANOUT, "6",
		"a:2", 0},
	    {HOST, {"[nodes]\nfanout.myhost.example.org = 6\n"},
		CK_NODES_FANOUT, "256", "default", 0},
	    {HOST,
		{"[nodes]\nfanout.x =\nfanout.myhost=\n[networking]\n"
		 "pattern_port.myhost =\n"},
		CK_NETWORKING_PATTERN_PORT, "10000 + *", "default", 0},
	    {"faraday", {"[testbed]\nall_scope.faraday = 1-37\n"},
		CK_TESTBED_ALL_SCOPE, "1-37", "a:2", 0},
	    {"etourdi", {"[testbed]\nall_scope.faraday = 1-37\n"},
		CK_TESTBED_ALL_SCOPE, "", "default", 0},
	    /* "key." names no host: an unknown key. */
	    {"", {"[nodes]\nfanout. = 3\nfanout.x = 4\n"}, CK_NODES_FANOUT,
		"256", "default", 1},
	};
	struct config *cfg;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		cfg = load_all(cases[i].host, cases[i].texts, 1);
		assert_string_equal(config_text(cfg, cases[i].key),
		    cases[i].text);
		assert_string_equal(config_origin(cfg, cases[i].key),
		    cases[i].origin);
		assert_int_equal(config_warning_count(cfg), cases[i].warnings);
		config_free(cfg);
	}
	cfg = load_all("", cases[nitems(cases) - 1].texts, 1);
	assert_string_equal(config_warning(cfg, 0),
	    "a:2: unknown key 'fanout.' in section [nodes]");
	config_free(cfg);

	/* A value for another host is still checked. */
	load_fails(HOST, "[nodes]\nfanout.other = abc\n",
	    "t:2: [nodes] fanout.other: 'abc' is not a number");
	load_fails(HOST, "[frisbee]\nnetcat_style.other = debian\n",
	    "t:2: [frisbee] netcat_style.other: 'debian' is not one of "
	    "fedora|ubuntu");
}

/* -o: good and malformed assignments. */
static void
test_options(void **state)
{
	static const struct {
		const char *assignment;
		int ok;
		enum config_key key;
		const char *text; /* or the error's substring */
	} cases[] = {
	    {"nodes.fanout=12", 1, CK_NODES_FANOUT, "12"},
	    {" nodes.fanout = 12 ", 1, CK_NODES_FANOUT, "12"},
	    {"nodes.FANOUT=13", 1, CK_NODES_FANOUT, "13"},
	    {"nodes.fanout.myhost=14", 1, CK_NODES_FANOUT, "14"},
	    {"nodes.fanout.other=14", 1, CK_NODES_FANOUT, "256"},
	    {"testbed.all_scope=", 1, CK_TESTBED_ALL_SCOPE, ""},
	    {"frisbee.server_options=-K 3 -x", 1, CK_FRISBEE_SERVER_OPTIONS,
		"-K 3 -x"},
	    {"testbed.all_scope=1-5=6", 1, CK_TESTBED_ALL_SCOPE, "1-5=6"},
	    {"nodes.x", 0, 0, "-o 'nodes.x': expected SECTION.KEY=VALUE"},
	    {"=", 0, 0, "-o '=': expected SECTION.KEY=VALUE"},
	    {"", 0, 0, "expected SECTION.KEY=VALUE"},
	    {"nodes=1", 0, 0, "expected SECTION.KEY=VALUE"},
	    {".fanout=1", 0, 0, "expected SECTION.KEY=VALUE"},
	    {"nodes.=1", 0, 0, "expected SECTION.KEY=VALUE"},
	    {"nodes.load_default_timeout=abc", 0, 0,
		"-o: [nodes] load_default_timeout: 'abc' is not a number"},
	    {"nodes.fanout.other=abc", 0, 0,
		"-o: [nodes] fanout.other: 'abc' is not a number"},
	    {"nodes.nosuch=1", 0, 0,
		"-o: unknown key 'nosuch' in section [nodes]"},
	    {"nosuch.key=1", 0, 0, "-o: unknown section [nosuch]"},
	    {"Nodes.fanout=1", 0, 0, "-o: unknown section [Nodes]"},
	    {"nodes.fanout=0", 0, 0, "0 is out of range (1..100000)"},
	};
	struct config *cfg;
	char *err;
	size_t i;
	int r;

	for (i = 0; i < nitems(cases); i++) {
		cfg = config_new(HOST);
		err = NULL;
		r = config_set_option(cfg, cases[i].assignment, &err);
		if (cases[i].ok) {
			if (r != 0)
				fail_msg("%s: %s", cases[i].assignment, err);
			assert_null(err);
			assert_string_equal(config_text(cfg, cases[i].key),
			    cases[i].text);
			assert_string_equal(config_origin(cfg, cases[i].key),
			    strcmp(cases[i].text, "256") == 0 ? "default"
							      : "-o");
		} else {
			assert_int_equal(r, -1);
			check_contains(err, cases[i].text);
			assert_null(strchr(err, '\n'));
			free(err);
		}
		config_free(cfg);
	}

	/* -o beats a file, even a host value from a file. */
	cfg = load_all(HOST,
	    (const char *const[]){
		"[nodes]\nfanout.myhost = 7\nidle_after_reset = 3\n", NULL},
	    1);
	assert_int_equal(config_set_option(cfg, "nodes.fanout=12", &err), 0);
	assert_int_equal(
	    config_set_option(cfg, "nodes.idle_after_reset=4", &err), 0);
	assert_int_equal(config_int(cfg, CK_NODES_FANOUT), 12);
	assert_string_equal(config_origin(cfg, CK_NODES_FANOUT), "-o");
	assert_int_equal(config_int(cfg, CK_NODES_IDLE_AFTER_RESET), 4);
	/* A later -o host value wins again. */
	assert_int_equal(config_set_option(cfg, "nodes.fanout.myhost=13", &err),
	    0);
	assert_int_equal(config_int(cfg, CK_NODES_FANOUT), 13);
	/* A failed -o changes nothing. */
	assert_int_equal(config_set_option(cfg, "nodes.fanout=x", &err), -1);
	free(err);
	assert_int_equal(config_int(cfg, CK_NODES_FANOUT), 13);
	config_free(cfg);
}

/* Every type's good and bad values, read from a file. */
static void
test_types(void **state)
{
	static const struct {
		const char *section;
		const char *key;
		const char *value;
		const char *error; /* NULL: good */
		double number;     /* int, double or port base when good */
	} cases[] = {
	    {"nodes", "idle_after_reset", "15", NULL, 15},
	    {"nodes", "idle_after_reset", "+15", NULL, 15},
	    {"nodes", "idle_after_reset", "0", NULL, 0},
	    {"nodes", "idle_after_reset", "007", NULL, 7},
	    {"nodes", "idle_after_reset", "3600", NULL, 3600},
	    {"nodes", "idle_after_reset", "3601",
		"3601 is out of range "
		"(0..3600)",
		0},
	    {"nodes", "idle_after_reset", "-1", "out of range", 0},
	    {"nodes", "idle_after_reset", "abc", "'abc' is not a number", 0},
	    {"nodes", "idle_after_reset", "1.5", "'1.5' is not an integer", 0},
	    {"nodes", "idle_after_reset", "", "'' is not a number", 0},
	    {"nodes", "idle_after_reset", "1 2", "'1 2' is not a number", 0},
	    {"nodes", "idle_after_reset", "0x10", "is not a number", 0},
	    {"nodes", "idle_after_reset", "99999999999999999999999",
		"out of range", 0},
	    {"nodes", "load_default_timeout", "0", "out of range (1..86400)",
		0},
	    {"networking", "ping_timeout", "0.5", NULL, 0.5},
	    {"networking", "ping_timeout", ".25", NULL, 0.25},
	    {"networking", "ping_timeout", "2.", NULL, 2},
	    {"networking", "ping_timeout", "1e1", NULL, 10},
	    {"networking", "ping_timeout", "3600", NULL, 3600},
	    {"networking", "ping_timeout", "3600.5", "out of range (0..3600)",
		0},
	    {"networking", "ping_timeout", "-0.1", "out of range", 0},
	    {"networking", "ping_timeout", "1e999", "out of range", 0},
	    {"networking", "ping_timeout", "nan", "'nan' is not a number", 0},
	    {"networking", "ping_timeout", "inf", "is not a number", 0},
	    {"networking", "ping_timeout", "0x1p3", "is not a number", 0},
	    {"networking", "ping_timeout", "1,5", "is not a number", 0},
	    {"networking", "ping_timeout", "1e", "is not a number", 0},
	    {"networking", "ping_timeout", ".", "is not a number", 0},
	    {"networking", "ping_timeout", "", "is not a number", 0},
	    {"frisbee", "netcat_style", "ubuntu", NULL, 0},
	    {"frisbee", "netcat_style", "fedora", NULL, 0},
	    {"frisbee", "netcat_style", "Fedora",
		"'Fedora' is not one of fedora|ubuntu", 0},
	    {"frisbee", "netcat_style", "fed", "is not one of", 0},
	    {"frisbee", "netcat_style", "netcat", "is not one of", 0},
	    {"frisbee", "netcat_style", "", "is not one of", 0},
	    {"frisbee", "netcat_style", "fedora|ubuntu", "is not one of", 0},
	    {"accounts", "access_policy", "closed", NULL, 0},
	    {"accounts", "access_policy", "open", NULL, 0},
	    {"accounts", "access_policy", "shut",
		"is not one of "
		"open|leased|closed",
		0},
	    {"logging", "level", "debug", NULL, 0},
	    {"logging", "level", "log",
		"is not one of "
		"error|warn|info|debug",
		0},
	    {"networking", "pattern_port", "10000 + *", NULL, 10000},
	    {"networking", "pattern_port", "20000+*", NULL, 20000},
	    {"networking", "pattern_port", "1 \t+   *", NULL, 1},
	    {"networking", "pattern_port", "65281 + *", NULL, 65281},
	    {"networking", "pattern_port", "65282 + *", "within 1..65281", 0},
	    {"networking", "pattern_port", "99999999999999 + *",
		"within 1..65281", 0},
	    {"networking", "pattern_port", "0 + *", "within 1..65281", 0},
	    {"networking", "pattern_port", "10000",
		"is not of the form BASE + *", 0},
	    {"networking", "pattern_port", "10000 + 1", "BASE + *", 0},
	    {"networking", "pattern_port", "* + 10000", "BASE + *", 0},
	    {"networking", "pattern_port", "10000 + **", "BASE + *", 0},
	    {"networking", "pattern_port", "10000 - *", "BASE + *", 0},
	    {"networking", "pattern_port", "__import__('os') + *", "BASE + *",
		0},
	    {"networking", "pattern_multicast", "224.0.0.*", NULL, 0},
	    {"networking", "pattern_multicast", "239.255.255.*", NULL, 0},
	    {"networking", "pattern_multicast", "223.1.1.*",
		"is not a multicast group (224..239)", 0},
	    {"networking", "pattern_multicast", "240.1.1.*",
		"not a multicast group", 0},
	    {"networking", "pattern_multicast", "234.5.6",
		"is not of the form a.b.c.*", 0},
	    {"networking", "pattern_multicast", "234.5.6.7", "a.b.c.*", 0},
	    {"networking", "pattern_multicast", "234.5.256.*", "a.b.c.*", 0},
	    {"networking", "pattern_multicast", "234.5.*", "a.b.c.*", 0},
	    {"networking", "pattern_multicast", "234.5.6.*.*", "a.b.c.*", 0},
	    {"networking", "pattern_multicast", "2340.5.6.*", "a.b.c.*", 0},
	    {"networking", "pattern_multicast", "", "a.b.c.*", 0},
	    {"frisbee", "server_options", "", NULL, 0},
	    {"frisbee", "server_options", "-K 3 -W 1", NULL, 0},
	    {"testbed", "inventory_nodes_path", "/tmp/x y.json", NULL, 0},
	    {"r2labapi", "admin_token", "s3cr=t", NULL, 0},
	};
	struct config *cfg;
	enum config_key k;
	char *text, *err, *want;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		k = config_key_lookup(cases[i].section, cases[i].key);
		assert_int_not_equal(k, CK__COUNT);
		xasprintf(&text, "[%s]\n%s = %s\n", cases[i].section,
		    cases[i].key, cases[i].value);
		cfg = config_new(HOST);
		err = NULL;
		if (cases[i].error == NULL) {
			if (config_load_string(cfg, "t", text, &err) != 0)
				fail_msg("%s: %s", text, err);
			assert_string_equal(config_text(cfg, k),
			    cases[i].value);
			assert_string_equal(config_origin(cfg, k), "t:2");
			switch (config_key_type(k)) {
			case CONFIG_INT:
			case CONFIG_DOUBLE:
				assert_true(
				    config_double(cfg, k) == cases[i].number);
				break;
			case CONFIG_PORT_PATTERN:
				assert_int_equal(config_port_base(cfg, k),
				    (int)cases[i].number);
				break;
			default:
				assert_string_equal(config_str(cfg, k),
				    cases[i].value);
				break;
			}
		} else {
			assert_int_equal(
			    config_load_string(cfg, "t", text, &err), -1);
			xasprintf(&want, "t:2: [%s] %s: ", cases[i].section,
			    cases[i].key);
			check_contains(err, want);
			check_contains(err, cases[i].error);
			assert_null(strchr(err, '\n'));
			/* Nothing applied. */
			assert_string_equal(config_origin(cfg, k), "default");
			free(want);
			free(err);
		}
		config_free(cfg);
		free(text);
	}
}

/* Unknown keys and sections are warnings naming file:line; load goes on. */
static void
test_warnings(void **state)
{
	static const char text[] = "top = 1\n"
				   "[nodes]\n"
				   "fanout = 4\n"
				   "fanuot = 5\n"
				   "[bogus]\n"
				   "a = 1\n"
				   "b = 2\n"
				   "[Nodes]\n"
				   "fanout = 6\n"
				   "[nodes]\n"
				   "idle_after_reset = 9\n"
				   "load_default_timeout.other.x = 10\n"
				   "nosuch.myhost = 1\n";
	static const char *const want[] = {
	    "w:1: key 'top' outside any section",
	    "w:4: unknown key 'fanuot' in section [nodes]",
	    "w:6: unknown section [bogus]",
	    "w:9: unknown section [Nodes]",
	    "w:13: unknown key 'nosuch.myhost' in section [nodes]",
	};
	struct config *cfg;
	char *err = NULL;
	size_t i;

	cfg = config_new(HOST);
	assert_int_equal(config_load_string(cfg, "w", text, &err), 0);
	assert_int_equal(config_warning_count(cfg), nitems(want));
	for (i = 0; i < nitems(want); i++)
		assert_string_equal(config_warning(cfg, i), want[i]);
	assert_int_equal(config_int(cfg, CK_NODES_FANOUT), 4);
	assert_int_equal(config_int(cfg, CK_NODES_IDLE_AFTER_RESET), 9);
	assert_string_equal(config_origin(cfg, CK_NODES_IDLE_AFTER_RESET),
	    "w:11");
	config_free(cfg);
}

/* Syntax: errors with their line, and what configparser accepts. */
static void
test_syntax(void **state)
{
	static const struct {
		const char *text;
		const char *error; /* NULL: loads, fanout = 4 */
	} cases[] = {
	    {"[nodes]\nfanout = 4\nthis is not ini\n", "t:3: syntax error"},
	    {"[nodes]\nfanout = 4\n= 5\n", "t:3: syntax error"},
	    {"[nodes\nfanout = 4\n", "t:1: syntax error"},
	    {"[nodes]\nfanout = 4\n   continued\n",
		"t:3: indented line (multi-line values are not supported)"},
	    {"[nodes]\n  fanout = 1\n    more = 2\n", "t:3: indented line"},
	    {"[nodes]\nbad line\nfanout = x\n", "t:2: syntax error"},
	    {"[nodes]\nfanout = x\nbad line\n",
		"t:2: [nodes] fanout: 'x' is not a number"},
	    {"[nodes]\nidle_after_reset = 1\n\n\nfanout = x\n", "t:5: "},
	    {"[nodes]\nfanout = 4\n", NULL},
	    {"[nodes]\n  idle_after_reset = 2\n  fanout = 4\n", NULL},
	    {"[nodes]\nfanout = 3\n[frisbee]\n  server = x\n[nodes]\n"
	     "  fanout = 4\n",
		NULL},
	    {"\xef\xbb\xbf[nodes]\nfanout=4\n", NULL},
	    {"[nodes]\r\nfanout = 4\r\n", NULL},
	    {"[nodes]\nfanout = 4 ; four\n", NULL},
	    {"[nodes]\nfanout: 4\n", NULL},
	    {"[nodes]\nFanOut = 4", NULL},
	    {"# comment\n; comment\n\n[nodes]\n# fanout = 5\nfanout = 4\n",
		NULL},
	    {"[nodes]\nfanout = 5\nfanout = 4\n", NULL},
	};
	struct config *cfg;
	char *err;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		if (cases[i].error != NULL) {
			load_fails(HOST, cases[i].text, cases[i].error);
			continue;
		}
		cfg = config_new(HOST);
		err = NULL;
		if (config_load_string(cfg, "t", cases[i].text, &err) != 0)
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(config_int(cfg, CK_NODES_FANOUT), 4);
		assert_int_equal(config_warning_count(cfg), 0);
		config_free(cfg);
	}
}

/* Lines longer than inih's buffer are an error, never cut in two. */
static void
test_long_line(void **state)
{
	struct config *cfg;
	char *text, *err = NULL;
	size_t n;

	for (n = 150; n <= 400; n += 50) {
		text = xmalloc(n + 64);
		strlcpy(text, "[frisbee]\nserver = ", n + 64);
		while (strlen(text) < n)
			strlcat(text, "x", n + 64);
		strlcat(text, "\n[nodes]\nfanout = 4\n", n + 64);
		cfg = config_new(HOST);
		if (n - strlen("[frisbee]\n") <= 198) {
			assert_int_equal(
			    config_load_string(cfg, "t", text, &err), 0);
			assert_int_equal(
			    strlen(config_str(cfg, CK_FRISBEE_SERVER)), n - 19);
			assert_int_equal(config_int(cfg, CK_NODES_FANOUT), 4);
		} else {
			assert_int_equal(
			    config_load_string(cfg, "t", text, &err), -1);
			check_contains(err, "t:2: line too long");
			free(err);
			err = NULL;
		}
		config_free(cfg);

		/* A comment may be as long as it likes. */
		memcpy(text + strlen("[frisbee]\n"), "# ", 2);
		cfg = config_new(HOST);
		if (config_load_string(cfg, "t", text, &err) != 0)
			fail_msg("%s", err);
		assert_string_equal(config_str(cfg, CK_FRISBEE_SERVER),
		    "frisbeed");
		assert_int_equal(config_int(cfg, CK_NODES_FANOUT), 4);
		config_free(cfg);
		free(text);
	}
}

/* rhubarbe's real configuration (notes §4.2, and 4.0.6's additions). */
static const char rhubarbe_conf[] =
    "# rhubarbe.conf as shipped by 9.0.3, plus 4.0.6's [plcapi]\n"
    "[r2labapi]\n"
    "url = https://r2labapi.inria.fr:443/\n"
    "resource_name = r2lab.inria.fr\n"
    "admin_token =\n"
    "\n"
    "[plcapi]\n"
    "url = https://r2labapi.inria.fr:443/PLCAPI/\n"
    "leases_hostname = faraday.inria.fr\n"
    "admin_email = root@r2lab.inria.fr\n"
    "admin_password = hush\n"
    "\n"
    "[testbed]\n"
    "regularname = fit\n"
    "rebootname = reboot\n"
    "inventory_nodes_path = /etc/rhubarbe/inventory-nodes.json\n"
    "inventory_phones_path = /etc/rhubarbe/inventory-phones.json\n"
    "inventory_pdus_path = /etc/rhubarbe/inventory-pdus.yaml\n"
    "inventory_relays_path = /etc/rhubarbe/inventory-relays.yaml\n"
    "relays_database_folder = /etc/rhubarbe/relays\n"
    "all_scope.faraday = 1-37\n"
    "\n"
    "[nodes]\n"
    "idle_after_reset = 15\n"
    "timeout_before_telnet = 80\n"
    "cmc_default_timeout = 3\n"
    "cmc_safe_timeout = 60\n"
    "load_default_timeout = 300\n"
    "load_default_timeout.etourdi = 900\n"
    "save_default_timeout = 300\n"
    "save_default_timeout.etourdi = 900\n"
    "load_nightly_timeout = 150\n"
    "wait_nightly_timeout = 40\n"
    "ssh_nightly_timeout = 5\n"
    "\n"
    "[pxelinux]\n"
    "config_dir = /tftpboot/pxelinux.cfg/\n"
    "frisbee_image = pxefrisbee\n"
    "\n"
    "[frisbee]\n"
    "images_dir = /var/lib/rhubarbe-images\n"
    "default_image = default.ndz\n"
    "server = frisbeed\n"
    "server_options = -K 3\n"
    "client = frisbee\n"
    "imagezip = imagezip\n"
    "netcat = nc\n"
    "netcat_style = fedora\n"
    "hard_drive = /dev/sda\n"
    "root_partition = /dev/sda1\n"
    "mount_point = /mnt\n"
    "\n"
    "[networking]\n"
    "telnet_port = 23\n"
    "telnet_backoff = 3\n"
    "ssh_backoff = 3\n"
    "ssh_timeout = 2\n"
    "ping_timeout = 0.5\n"
    "telnet_timeout = 0.5\n"
    "telnet_connect_minwait = 0.2\n"
    "telnet_connect_maxwait = 1\n"
    "pattern_multicast = 234.5.6.*\n"
    "pattern_port = 10000 + *\n"
    "pattern_size = 20\n"
    "bandwidth = 500\n"
    "bandwidth.faraday = 500\n"
    "bandwidth.etourdi = 90\n"
    "local_control_ip =\n"
    "\n"
    "[monitor]\n"
    "cycle_nodes = 2\n"
    "cycle_phones = 2\n"
    "cycle_pdus = 1\n"
    "cycle_leases = 60\n"
    "step_leases = 0.05\n"
    "log_period = 4\n"
    "\n"
    "[sidecar]\n"
    "url = wss://r2lab-sidecar.inria.fr:443/\n"
    "\n"
    "[accounts]\n"
    "access_policy = leased\n"
    "cycle = 60\n"
    "privileged = root,guest\n";

static void
test_rhubarbe_conf(void **state)
{
	static const struct {
		const char *host;
		enum config_key key;
		const char *text;
	} cases[] = {
	    {"faraday", CK_TESTBED_ALL_SCOPE, "1-37"},
	    {"faraday", CK_NETWORKING_BANDWIDTH, "500"},
	    {"faraday", CK_NODES_LOAD_DEFAULT_TIMEOUT, "300"},
	    {"etourdi", CK_TESTBED_ALL_SCOPE, ""},
	    {"etourdi", CK_NETWORKING_BANDWIDTH, "90"},
	    {"etourdi", CK_NODES_LOAD_DEFAULT_TIMEOUT, "900"},
	    {"etourdi", CK_NODES_SAVE_DEFAULT_TIMEOUT, "900"},
	    {"etourdi", CK_NODES_WAIT_DEFAULT_TIMEOUT, "60"},
	    {"etourdi", CK_PLCAPI_ADMIN_PASSWORD, "hush"},
	};
	struct config *cfg;
	char *err = NULL;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		cfg = config_new(cases[i].host);
		if (config_load_string(cfg, "rhubarbe.conf", rhubarbe_conf,
			&err) != 0)
			fail_msg("%s", err);
		assert_int_equal(config_warning_count(cfg), 0);
		assert_string_equal(config_text(cfg, cases[i].key),
		    cases[i].text);
		config_free(cfg);
	}
}

static void
write_bytes(const char *path, const char *text, size_t len)
{
	FILE *f;

	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
write_file(const char *path, const char *text)
{
	write_bytes(path, text, strlen(text));
}

/* Files: optional or not, unreadable, read order and origins. */
static void
test_files(void **state)
{
	struct config *cfg;
	char dir[] = "/tmp/test-config.XXXXXX", cwd[PATH_MAX];
	char *path, *home, *env, *local, *err = NULL;
	size_t n;

	assert_non_null(mkdtemp(dir));
	assert_non_null(getcwd(cwd, sizeof cwd));
	xasprintf(&path, "%s/missing.conf", dir);

	cfg = config_new(HOST);
	assert_int_equal(config_load_file(cfg, path, 1, &err), 0);
	assert_null(err);
	assert_int_equal(
	    config_load_file(cfg, "/nonexistent/dir/x.conf", 1, &err), 0);
	assert_int_equal(config_file_count(cfg), 0);
	assert_int_equal(config_load_file(cfg, path, 0, &err), -1);
	check_contains(err, "missing.conf: No such file or directory");
	free(err);
	/* A directory exists but cannot be read, optional or not. */
	assert_int_equal(config_load_file(cfg, dir, 1, &err), -1);
	check_contains(err, "Is a directory");
	free(err);
	config_free(cfg);

	/* A NUL byte: not a text file. */
	write_bytes(path, "[nodes]\nfanout = 4\n\0\n", 21);
	cfg = config_new(HOST);
	assert_int_equal(config_load_file(cfg, path, 1, &err), -1);
	check_contains(err, "missing.conf:3: NUL byte");
	free(err);
	config_free(cfg);
	unlink(path);
	free(path);

	/* The standard layers: home, ./, then RHUBARB_CONFIG. */
	xasprintf(&home, "%s/.rhubarb.conf", dir);
	xasprintf(&local, "%s/rhubarb.conf", dir);
	xasprintf(&env, "%s/env.conf", dir);
	write_file(home,
	    "[nodes]\nfanout = 1\nidle_after_reset = 1\n"
	    "cmc_default_timeout = 1\n");
	write_file(local, "[nodes]\n\nfanout = 2\nidle_after_reset = 2\n");
	write_file(env, "[nodes]\nfanout = 3\n");
	assert_int_equal(chdir(dir), 0);

	cfg = config_new(HOST);
	if (config_load_standard(cfg, dir, env, &err) != 0)
		fail_msg("%s", err);
	n = config_file_count(cfg);
	assert_true(n >= 3);
	assert_string_equal(config_file(cfg, n - 3), home);
	assert_string_equal(config_file(cfg, n - 2), "./rhubarb.conf");
	assert_string_equal(config_file(cfg, n - 1), env);
	assert_int_equal(config_int(cfg, CK_NODES_FANOUT), 3);
	xasprintf(&path, "%s:2", env);
	assert_string_equal(config_origin(cfg, CK_NODES_FANOUT), path);
	free(path);
	assert_string_equal(config_origin(cfg, CK_NODES_IDLE_AFTER_RESET),
	    "./rhubarb.conf:4");
	xasprintf(&path, "%s:4", home);
	assert_string_equal(config_origin(cfg, CK_NODES_CMC_DEFAULT_TIMEOUT),
	    path);
	free(path);
	config_free(cfg);

	/* No HOME, no RHUBARB_CONFIG: still fine. */
	cfg = config_new(HOST);
	assert_int_equal(config_load_standard(cfg, NULL, NULL, &err), 0);
	assert_int_equal(config_int(cfg, CK_NODES_FANOUT), 2);
	config_free(cfg);

	/* RHUBARB_CONFIG must exist. */
	unlink(env);
	cfg = config_new(HOST);
	assert_int_equal(config_load_standard(cfg, dir, env, &err), -1);
	check_contains(err, "env.conf: No such file or directory");
	free(err);
	config_free(cfg);

	/* A bad value in a layer stops the load, naming that file. */
	write_file(local, "[nodes]\nfanout = lots\n");
	cfg = config_new(HOST);
	assert_int_equal(config_load_standard(cfg, dir, NULL, &err), -1);
	assert_string_equal(err,
	    "./rhubarb.conf:2: [nodes] fanout: 'lots' is not a number");
	free(err);
	config_free(cfg);

	assert_int_equal(chdir(cwd), 0);
	unlink(home);
	unlink(local);
	assert_int_equal(rmdir(dir), 0);
	free(home);
	free(local);
	free(env);
}

static void
test_key_lookup(void **state)
{
	static const struct {
		const char *section;
		const char *name;
		enum config_key key;
	} cases[] = {
	    {"nodes", "fanout", CK_NODES_FANOUT},
	    {"nodes", "FANOUT", CK_NODES_FANOUT},
	    {"r2labapi", "url", CK_R2LABAPI_URL},
	    {"plcapi", "url", CK_PLCAPI_URL},
	    {"sidecar", "url", CK_SIDECAR_URL},
	    {"logging", "level", CK_LOGGING_LEVEL},
	    {"Nodes", "fanout", CK__COUNT},
	    {"nodes", "fanout.myhost", CK__COUNT},
	    {"nodes", "", CK__COUNT},
	    {"", "url", CK__COUNT},
	    {"frisbee", "url", CK__COUNT},
	};
	enum config_key k;
	size_t i;

	for (i = 0; i < nitems(cases); i++)
		assert_int_equal(
		    config_key_lookup(cases[i].section, cases[i].name),
		    cases[i].key);
	/* Every key finds itself: no two keys share a name. */
	for (k = 0; k < CK__COUNT; k++) {
		assert_int_equal(config_key_lookup(config_key_section(k),
				     config_key_name(k)),
		    k);
		assert_non_null(config_key_help(k));
	}
}

/* etc/rhubarb.conf holds every key, at exactly its compiled-in default. */
static void
test_shipped_conf(void **state)
{
	struct config *cfg;
	const char *data;
	enum config_key k;
	char *path, *prefix, *err = NULL;
	size_t i;

	if ((data = getenv("RHUBARB_TEST_DATA")) == NULL)
		fail_msg("RHUBARB_TEST_DATA is not set");
	xasprintf(&path, "%s/../../etc/rhubarb.conf", data);
	xasprintf(&prefix, "%s:", path);
	cfg = config_new(HOST);
	if (config_load_file(cfg, path, 0, &err) != 0)
		fail_msg("%s", err);
	for (i = 0; i < config_warning_count(cfg); i++)
		print_error("%s\n", config_warning(cfg, i));
	assert_int_equal(config_warning_count(cfg), 0);
	for (k = 0; k < CK__COUNT; k++) {
		if (strncmp(config_origin(cfg, k), prefix, strlen(prefix)) != 0)
			fail_msg("[%s] %s is not in %s", config_key_section(k),
			    config_key_name(k), path);
		if (strcmp(config_text(cfg, k), config_key_default(k)) != 0)
			fail_msg("[%s] %s: '%s' in %s, '%s' compiled in",
			    config_key_section(k), config_key_name(k),
			    config_text(cfg, k), config_origin(cfg, k),
			    config_key_default(k));
	}
	config_free(cfg);
	free(prefix);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_layering),
	    cmocka_unit_test(test_host_override),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_types),
	    cmocka_unit_test(test_warnings),
	    cmocka_unit_test(test_syntax),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_rhubarbe_conf),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_key_lookup),
	    cmocka_unit_test(test_shipped_conf),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
