/*
 * rhubarb inventory [NODES...]: list nodes with their addresses and power
 * back ends, as a table or as JSON. With no NODES, the whole inventory.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd.h"

/* One line per back end, e.g. "pdu pdu1:6+pdu2:6". Allocated. */
static char *
cmd_inventory_backends(const struct inventory *inv, const struct inv_node *n)
{
	char *s = xstrdup(""), *t;
	size_t i;

	if (n->cmc.hostname != NULL) {
		xasprintf(&t, "%scmc %s:%d", s, n->cmc.hostname, n->cmc_port);
		free(s);
		s = t;
	}
	if (n->ipmi != NULL) {
		xasprintf(&t, "%s%sipmi %s:%d", s, *s != '\0' ? ", " : "",
		    n->ipmi->host, n->ipmi->port);
		free(s);
		s = t;
	}
	for (i = 0; i < n->noutlets; i++) {
		xasprintf(&t, "%s%s%s:%d", s,
		    i == 0 ? (*s != '\0' ? ", pdu " : "pdu ") : "+",
		    inv->pdus[n->outlets[i].pdu].name, n->outlets[i].outlet);
		free(s);
		s = t;
	}
	return (s);
}

static void
cmd_inventory_table(const struct inventory *inv, const struct nodeset *set)
{
	const struct inv_node *n;
	size_t i, w = 4, j;
	char *be;

	NODESET_FOREACH(i, set) {
		if (strlen(inv->nodes[i].name) > w)
			w = strlen(inv->nodes[i].name);
	}
	printf("%-*s  %-15s  %-17s  %-5s  %s\n", (int)w, "NAME", "CONTROL IP",
	    "CONTROL MAC", "POWER", "BACK ENDS  [GROUPS]");
	NODESET_FOREACH(i, set) {
		n = &inv->nodes[i];
		be = cmd_inventory_backends(inv, n);
		printf("%-*s  %-15s  %-17s  %-5s  %s", (int)w, n->name,
		    n->control.ip, n->control.mac,
		    inv_power_kind_name(n->power), *be != '\0' ? be : "-");
		if (n->ngroups > 0) {
			printf("  [");
			for (j = 0; j < n->ngroups; j++)
				printf("%s%s", j > 0 ? "," : "", n->groups[j]);
			printf("]");
		}
		printf("\n");
		free(be);
	}
}

static json_t *
cmd_inventory_iface(const struct inv_iface *ifc)
{
	json_t *o;

	o = json_pack("{s:s, s:s}", "hostname", ifc->hostname, "ip", ifc->ip);
	if (ifc->mac != NULL)
		json_object_set_new(o, "mac", json_string(ifc->mac));
	return (o);
}

static json_t *
cmd_inventory_node_json(const struct inventory *inv, const struct inv_node *n)
{
	json_t *o, *a;
	size_t i;

	o = json_pack("{s:s, s:s, s:o, s:{s:i, s:i, s:i}}", "name", n->name,
	    "power", inv_power_kind_name(n->power), "control",
	    cmd_inventory_iface(&n->control), "ports", "cmc", n->cmc_port,
	    "telnet", n->telnet_port, "ssh", n->ssh_port);
	if (n->number >= 0)
		json_object_set_new(o, "number", json_integer(n->number));
	if (n->cmc.hostname != NULL)
		json_object_set_new(o, "cmc", cmd_inventory_iface(&n->cmc));
	if (n->data.hostname != NULL)
		json_object_set_new(o, "data", cmd_inventory_iface(&n->data));
	if (n->ipmi != NULL) {
		json_object_set_new(o, "ipmi",
		    json_pack("{s:s, s:i, s:s, s:i, s:s}", "host",
			n->ipmi->host, "port", n->ipmi->port, "user",
			n->ipmi->user, "cipher", n->ipmi->cipher, "privilege",
			n->ipmi->privilege));
		if (n->ipmi->password_file != NULL)
			json_object_set_new(json_object_get(o, "ipmi"),
			    "password_file",
			    json_string(n->ipmi->password_file));
	}
	if (n->noutlets > 0) {
		a = json_array();
		for (i = 0; i < n->noutlets; i++)
			json_array_append_new(a,
			    json_pack("{s:s, s:i}", "pdu",
				inv->pdus[n->outlets[i].pdu].name, "outlet",
				n->outlets[i].outlet));
		json_object_set_new(o, "pdu", a);
	}
	a = json_array();
	for (i = 0; i < n->ngroups; i++)
		json_array_append_new(a, json_string(n->groups[i]));
	json_object_set_new(o, "groups", a);
	return (o);
}

static int
cmd_inventory_json(const struct inventory *inv, const struct nodeset *set)
{
	json_t *root, *nodes;
	size_t i;
	int r;

	nodes = json_array();
	NODESET_FOREACH(i, set)
		json_array_append_new(nodes,
		    cmd_inventory_node_json(inv, &inv->nodes[i]));
	root = json_pack("{s:s, s:o}", "path", inv->path, "nodes", nodes);
	r = json_dumpf(root, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(root);
	return (r == 0 ? EXIT_OK : EXIT_FAILED);
}

static int
cmd_inventory_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"option", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	struct nodeset *set;
	size_t i;
	int ch, all = 0, json = 0, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "aho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'h':
			return (cmd_help(ctx));
		case 'j':
			json = 1;
			break;
		case 'o':
			cmd_add_option(ctx, optarg);
			break;
		default:
			return (cmd_bad_option(ctx, argv, "aho:"));
		}
	}
	argc -= optind;
	argv += optind;

	if (argc == 0 && !all) {
		if ((r = cmd_load_inventory(ctx)) != 0)
			return (r);
		set = nodeset_new(ctx->inventory);
		for (i = 0; i < ctx->inventory->nnodes; i++)
			nodeset_add(set, i);
	} else if ((r = cmd_select(ctx, all, argc, argv, 1, &set)) != 0)
		return (r);

	if (json)
		r = cmd_inventory_json(ctx->inventory, set);
	else {
		cmd_inventory_table(ctx->inventory, set);
		r = EXIT_OK;
	}
	nodeset_free(set);
	return (r);
}

const struct cmd_entry cmd_inventory_entry = {
    .name = "inventory",
    .usage = "[-o SECTION.KEY=VALUE]... [--json] [NODES...]",
    .summary = "list nodes with their addresses and power back ends",
    .help = "  -o, --option S.K=V  override a configuration key\n"
	    "      --json          print JSON\n"
	    "  NODES               node specs (default: the whole "
	    "inventory)\n",
    .exec = cmd_inventory_exec,
};
