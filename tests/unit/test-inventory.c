/*
 * Inventory loading: both forms read, every validation error reported on
 * one line with its place, MACs normalised, nodes sorted naturally.
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
#include "inventory/inventory.h"

/* n is two digits: the name suffix, the MAC's last byte, 100 + n the ip. */
#define CMC(n)                                                                 \
	"\"cmc\":{\"hostname\":\"reboot" n "\",\"ip\":\"192.168.1.1" n         \
	"\",\"mac\":\"02:00:00:00:00:" n "\"}"
#define CTL(n)                                                                 \
	"\"control\":{\"hostname\":\"fit" n "\",\"ip\":\"192.168.3.1" n        \
	"\",\"mac\":\"00:03:1D:0E:03:" n "\"}"
#define NODE(n) "{" CMC(n) "," CTL(n) "}"

struct bad_case {
	const char *json;
	const char *error; /* expected substring */
};

static const struct bad_case bad_cases[] = {
    {"", "t.json:1:0:"},
    {"{\"nodes\": 3}", "'nodes' must be a list"},
    {"42", "expected a list of nodes"},
    {"[3]", "node 1: must be an object"},
    {"[{\"cmc\":{\"hostname\":\"r1\",\"ip\":\"1.2.3.4\"}}]",
	"node 1: missing 'control'"},
    {"[{" CTL("01") "}]", "node 1 (fit01): missing 'cmc'"},
    {"[{" CMC("01") ",\"control\":{\"hostname\":\"fit01\","
		    "\"ip\":\"192.168.3.1\"}}]",
	"control: missing 'mac'"},
    {"[{" CMC("01") ",\"control\":{\"hostname\":\"fit01\","
		    "\"ip\":\"192.168.3.300\",\"mac\":\"00:00:00:00:00:01\"}}]",
	"control: malformed ip '192.168.3.300'"},
    {"[{" CMC("01") ",\"control\":{\"hostname\":\"fit01\","
		    "\"ip\":\"192.168.3.1\",\"mac\":\"00:00:00:00:00:zz\"}}]",
	"malformed mac '00:00:00:00:00:zz'"},
    {"[{" CMC("01") ",\"control\":{\"hostname\":\"fit 01\","
		    "\"ip\":\"192.168.3.1\",\"mac\":\"00:00:00:00:00:01\"}}]",
	"malformed hostname 'fit 01'"},
    {"[{" CMC("01") ",\"control\":{\"hostname\":\"\","
		    "\"ip\":\"192.168.3.1\",\"mac\":\"00:00:00:00:00:01\"}}]",
	"'hostname' must be a non-empty string"},
    {"[" NODE("01") "," NODE("01") "]",
	"duplicate hostname 'fit01' (fit01 and fit01)"},
    {"[{" CMC("01") "," CTL("01") "},{" CMC(
	 "02") ",\"control\":{"
	       "\"hostname\":\"fit02\",\"ip\":\"192.168.3.101\","
	       "\"mac\":\"00:00:00:00:00:02\"}}]",
	"duplicate ip '192.168.3.101' (fit01 and fit02)"},
    {"[{" CMC("01") "," CTL("01") "},{" CMC(
	 "02") ",\"control\":{"
	       "\"hostname\":\"fit02\",\"ip\":\"192.168.3.2\","
	       "\"mac\":\"00-03-1d-0e-03-01\"}}]",
	"duplicate mac '00:03:1d:0e:03:01' (fit01 and fit02)"},
    {"[{" CMC("01") "," CTL("01") "},{" CMC(
	 "02") ",\"control\":{"
	       "\"hostname\":\"fit1\",\"ip\":\"192.168.3.2\","
	       "\"mac\":\"00:00:00:00:00:02\"}}]",
	"fit01 and fit1 have the same number"},
    {"[{" CMC("01") "," CTL("01") ",\"ipmi\":{}}]",
	"node 1 (fit01): node: unknown key 'ipmi'"},
    {"{\"nodes\":[{" CTL("01") ",\"impi\":{}}]}", "node: unknown key 'impi'"},
    {"{\"nodes\":[{" CTL("01") ",\"pdu\":[{\"pdu\":\"p9\","
			       "\"outlet\":1}]}]}",
	"unknown pdu 'p9'"},
    {"{\"pdus\":[{\"name\":\"p\",\"host\":\"p\"}],\"nodes\":[{" CTL(
	 "01") ",\"pdu\":[{\"pdu\":\"p\",\"outlet\":0}]}]}",
	"'outlet' 0 out of range"},
    {"{\"pdus\":[{\"name\":\"p\",\"host\":\"p\"}],\"nodes\":[{" CTL(
	 "01") ",\"pdu\":[{\"pdu\":\"p\",\"outlet\":2},{\"pdu\":\"p\","
	       "\"outlet\":2}]}]}",
	"outlet p:2 listed twice"},
    {"{\"pdus\":[{\"name\":\"p\",\"host\":\"p\"},{\"name\":\"p\","
     "\"host\":\"q\"}],\"nodes\":[]}",
	"pdu 2 (p): duplicate pdu name"},
    {"{\"pdus\":[{\"name\":\"p\",\"host\":\"p\",\"type\":\"apc\"}],"
     "\"nodes\":[]}",
	"unknown pdu type 'apc'"},
    {"{\"nodes\":[{" CTL("01") ",\"ipmi\":{\"host\":\"bmc1\","
			       "\"privilege\":\"root\"}}]}",
	"privilege 'root' is not"},
    {"{\"nodes\":[{" CTL("01") ",\"ipmi\":{\"host\":\"bmc1\","
			       "\"cipher\":18}}]}",
	"'cipher' 18 out of range 0-17"},
    {"{\"nodes\":[{" CTL("01") ",\"ipmi\":{\"user\":\"a\"}}]}",
	"ipmi: missing 'host'"},
    {"{\"nodes\":[{" CTL("01") ",\"power\":\"ipmi\"}]}",
	"power 'ipmi' chosen but no 'ipmi' given"},
    {"{\"nodes\":[{" CTL("01") ",\"power\":\"ups\"}]}",
	"power 'ups' is not cmc, ipmi or pdu"},
    {"{\"nodes\":[{" CTL("01") ",\"ports\":{\"ssh\":70000}}]}",
	"'ssh' 70000 out of range"},
    {"{\"nodes\":[{" CTL("01") ",\"ports\":{\"http\":1}}]}",
	"ports: unknown key 'http'"},
    {"{\"nodes\":[{" CTL("01") ",\"groups\":[\"a b\"]}]}",
	"group 1: malformed name"},
    {"{\"nodes\":[],\"nodes\":[]}", "duplicate object key"},
    {"{\"nodes\":[],\"extra\":1}", "inventory: unknown key 'extra'"},
    /* The file's own text is quoted on one line, whatever it holds. */
    {"{\"nodes\":[],\"a\\nb\\u001b[2J\":1}",
	"inventory: unknown key 'a?b?[2J'"},
    {"{\"nodes\":[], \"x\": \"\\q\n\"}", "invalid escape"},
};

static void
test_bad(void **state)
{
	const struct bad_case *c;
	struct inventory *inv;
	char *err;
	size_t i;

	for (i = 0; i < nitems(bad_cases); i++) {
		c = &bad_cases[i];
		inv = inventory_parse(c->json, strlen(c->json), "t.json", &err);
		if (inv != NULL || err == NULL ||
		    strstr(err, c->error) == NULL ||
		    strchr(err, '\n') != NULL ||
		    strncmp(err, "t.json", 6) != 0) {
			print_error("case %zu: %s\n  got: %s\n  want: %s\n", i,
			    c->json, err != NULL ? err : "(success)", c->error);
			fail();
		}
		free(err);
	}
}

static void
test_rhubarbe_form(void **state)
{
	const char *json = "[" NODE("03") "," NODE("01") ",{" CMC("02") "," CTL(
	    "02") ",\"data\":{\"hostname\":\"data02\",\"ip\":"
		  "\"192.168.2.2\",\"mac\":\"AA:BB:CC:DD:EE:FF\"}}]";
	struct inventory *inv;
	const struct inv_node *n;
	char *err;

	inv = inventory_parse(json, strlen(json), "t.json", &err);
	if (inv == NULL)
		print_error("%s\n", err);
	assert_non_null(inv);
	assert_int_equal(inv->nnodes, 3);
	assert_string_equal(inv->nodes[0].name, "fit01");
	assert_string_equal(inv->nodes[1].name, "fit02");
	assert_string_equal(inv->nodes[2].name, "fit03");
	assert_int_equal(inv->nodes[2].number, 3);
	assert_string_equal(inv->nodes[0].control.mac, "00:03:1d:0e:03:01");
	assert_string_equal(inv->nodes[1].data.mac, "aa:bb:cc:dd:ee:ff");
	assert_int_equal(inv->nodes[0].power, INV_POWER_CMC);
	assert_int_equal(inv->nodes[0].cmc_port, 80);
	assert_int_equal(inv->nodes[0].telnet_port, 23);
	assert_int_equal(inv->nodes[0].ssh_port, 22);
	assert_null(inv->nodes[0].data.hostname);

	n = inventory_find(inv, "reboot02");
	assert_non_null(n);
	assert_string_equal(n->name, "fit02");
	assert_int_equal(inventory_index(inv, n), 1);
	assert_ptr_equal(inventory_find(inv, "data02"), n);
	assert_ptr_equal(inventory_find(inv, "fit03"), &inv->nodes[2]);
	assert_null(inventory_find(inv, "fit04"));
	inventory_free(inv);
}

static void
test_natural_order(void **state)
{
	const char *json =
	    "{\"nodes\":["
	    "{\"control\":{\"hostname\":\"n10\",\"ip\":\"1.0.0.1\","
	    "\"mac\":\"00:00:00:00:00:01\"}},"
	    "{\"control\":{\"hostname\":\"gpu2\",\"ip\":\"1.0.0.2\","
	    "\"mac\":\"00:00:00:00:00:02\"}},"
	    "{\"control\":{\"hostname\":\"n9\",\"ip\":\"1.0.0.3\","
	    "\"mac\":\"00:00:00:00:00:03\"}},"
	    "{\"control\":{\"hostname\":\"gpu1\",\"ip\":\"1.0.0.4\","
	    "\"mac\":\"00:00:00:00:00:04\"}},"
	    "{\"control\":{\"hostname\":\"head\",\"ip\":\"1.0.0.5\","
	    "\"mac\":\"00:00:00:00:00:05\"}}]}";
	static const char *const want[] = {"gpu1", "gpu2", "head", "n9", "n10"};
	struct inventory *inv;
	char *err;
	size_t i;

	inv = inventory_parse(json, strlen(json), "t.json", &err);
	if (inv == NULL)
		print_error("%s\n", err);
	assert_non_null(inv);
	for (i = 0; i < nitems(want); i++)
		assert_string_equal(inv->nodes[i].name, want[i]);
	assert_int_equal(inv->nodes[2].number, -1);
	assert_int_equal(inv->nodes[2].power, INV_POWER_NONE);
	inventory_free(inv);
}

static void
test_extended_file(void **state)
{
	const struct inv_node *n;
	struct inventory *inv;
	char *path, *err;

	xasprintf(&path, "%s/inventory-extended.json",
	    getenv("RHUBARB_TEST_DATA"));
	inv = inventory_load(path, &err);
	if (inv == NULL)
		print_error("%s\n", err);
	assert_non_null(inv);
	assert_int_equal(inv->nnodes, 12);
	assert_int_equal(inv->npdus, 2);
	assert_string_equal(inv->pdus[0].read_community, "public");
	assert_int_equal(inv->pdus[1].port, 1161);
	assert_string_equal(inv->pdus[1].write_community, "private");

	n = inventory_find(inv, "fit01");
	assert_int_equal(n->power, INV_POWER_CMC);
	assert_null(n->cmc.mac);

	n = inventory_find(inv, "fit02");
	assert_int_equal(n->power, INV_POWER_IPMI);
	assert_string_equal(n->ipmi->host, "bmc02");
	assert_int_equal(n->ipmi->port, 623);
	assert_int_equal(n->ipmi->cipher, 3);
	assert_string_equal(n->ipmi->privilege, "admin");
	assert_string_equal(n->ipmi->password_file, "/etc/rhubarb/bmc.pass");

	n = inventory_find(inv, "fit06");
	assert_int_equal(n->power, INV_POWER_PDU);
	assert_int_equal(n->noutlets, 2);
	assert_string_equal(inv->pdus[n->outlets[1].pdu].name, "pdu2");
	assert_int_equal(n->outlets[1].outlet, 6);

	n = inventory_find(inv, "fit12");
	assert_int_equal(n->ssh_port, 2222);
	assert_int_equal(n->telnet_port, 2323);
	assert_int_equal(n->cmc_port, 80);
	assert_int_equal(n->ngroups, 2);
	assert_string_equal(n->groups[0], "gpu");
	assert_string_equal(n->groups[1], "rack3");
	inventory_free(inv);
	free(path);

	inv = inventory_load("/nonexistent/inv.json", &err);
	assert_null(inv);
	assert_string_equal(err,
	    "/nonexistent/inv.json: cannot read inventory: No such file or "
	    "directory");
	free(err);
}

static void
test_r2lab_file(void **state)
{
	struct inventory *inv;
	char *path, *err;

	xasprintf(&path, "%s/inventory-r2lab.json",
	    getenv("RHUBARB_TEST_DATA"));
	inv = inventory_load(path, &err);
	assert_non_null(inv);
	assert_int_equal(inv->nnodes, 37);
	assert_string_equal(inv->nodes[36].name, "fit37");
	assert_string_equal(inv->nodes[36].cmc.hostname, "reboot37");
	inventory_free(inv);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_rhubarbe_form),
	    cmocka_unit_test(test_natural_order),
	    cmocka_unit_test(test_extended_file),
	    cmocka_unit_test(test_r2lab_file),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
