/*
 * rhubarb nodes (rnodes): print the nodes a spec selects, as rhubarbe did
 * ("fit01 fit04"), folded ("fit[01,04]") or counted. It is the way to
 * check a spec before handing it to load or power, so it loads nothing
 * beyond configuration, inventory and groups.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "inventory/nodeset.h"
#include "ui/cmd.h"

enum {
	CMD_NODES_FOLD = 256,
	CMD_NODES_COUNT,
};

static const struct option cmd_nodes_options[] = {
    {"all-nodes", no_argument, NULL, 'a'},
    {"fold", no_argument, NULL, CMD_NODES_FOLD},
    {"count", no_argument, NULL, CMD_NODES_COUNT},
    {"option", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
cmd_nodes_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct nodeset *set;
	char *out;
	int ch, all = 0, fold = 0, count = 0, r;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "ao:h", cmd_nodes_options,
		    NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case CMD_NODES_FOLD:
			fold = 1;
			break;
		case CMD_NODES_COUNT:
			count = 1;
			break;
		case 'o':
			cmd_add_option(ctx, optarg);
			break;
		case 'h':
			return (cmd_help(ctx));
		default:
			return (cmd_bad_option(ctx, argv, "ao:h"));
		}
	}
	if (fold && count)
		return (cmd_usage_error(ctx,
		    "--fold and --count exclude "
		    "each other"));
	if ((r = cmd_select(ctx, all, argc - optind, argv + optind, 1, &set)) !=
	    0)
		return (r);
	if (count)
		printf("%zu\n", nodeset_count(set));
	else {
		out = fold ? nodeset_fold(set) : nodeset_join(set, " ");
		puts(out);
		free(out);
	}
	nodeset_free(set);
	return (cmd_flush_stdout(ctx, EXIT_OK));
}

const struct cmd_entry cmd_nodes_entry = {
    .name = "nodes",
    .usage = "[-a] [--fold | --count] [-o section.key=value]... "
	     "[NODES...]",
    .summary = "print the nodes a spec selects",
    .help = "  -a, --all-nodes   start from testbed.all_scope "
	    "(every node if empty)\n"
	    "  --fold            print a folded hostlist: fit[01-12,15]\n"
	    "  --count           print the number of nodes\n"
	    "  -o s.k=v          override a configuration key\n"
	    "  -h, --help        this help\n"
	    "\n"
	    "NODES, applied left to right (default: $NODES):\n"
	    "  1-12, fit4-reboot7, 1-33-2  rhubarbe's numbers and ranges\n"
	    "  fit[01-12,15], fit[01-20/2] bracket hostlists\n"
	    "  @rack1                      a group (inventory or groups "
	    "file)\n"
	    "  a,b  a~b  a!b  a&b          union, minus, minus, "
	    "intersection\n"
	    "  ~5 (alone)                  remove 5 from what came before\n",
    .exec = cmd_nodes_exec,
};
