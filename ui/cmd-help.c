/*
 * rhubarb help [COMMAND]: list the commands, or show one command's help.
 */
#include <stdio.h>
#include <string.h>

#include "ui/cmd.h"

static int
cmd_help_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry **e, *entry;
	struct cmd_ctx sub;

	if (argc == 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return (cmd_help(ctx));
	if (argc > 2)
		return (cmd_usage_error(ctx, "too many arguments"));
	if (argc == 2) {
		if ((entry = cmd_find(argv[1])) == NULL)
			return (cmd_usage_error(ctx, "unknown command '%s'",
			    argv[1]));
		memset(&sub, 0, sizeof sub);
		sub.prog = "rhubarb";
		sub.entry = entry;
		printf("usage: rhubarb %s %s\n%s\n", entry->name, entry->usage,
		    entry->summary);
		if (entry->help != NULL && *entry->help != '\0')
			printf("\n%s", entry->help);
		return (EXIT_OK);
	}
	printf("commands (rhubarb COMMAND, rCOMMAND or rhubarb-COMMAND):\n");
	for (e = cmd_table; *e != NULL; e++)
		printf("  %-10s %s\n", (*e)->name, (*e)->summary);
	return (EXIT_OK);
}

const struct cmd_entry cmd_help_entry = {
    .name = "help",
    .usage = "[COMMAND]",
    .summary = "list the commands or show one command's help",
    .help = "",
    .exec = cmd_help_exec,
};
