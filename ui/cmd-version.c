/*
 * rhubarb version: print the version.
 */
#include <stdio.h>
#include <string.h>

#include "common/version.h"
#include "ui/cmd.h"

static int
cmd_version_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (argc == 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return (cmd_help(ctx));
	if (argc > 1)
		return (
		    cmd_usage_error(ctx, "unexpected argument '%s'", argv[1]));
	printf("rhubarb %s\n", RHUBARB_VERSION);
	return (EXIT_OK);
}

const struct cmd_entry cmd_version_entry = {
    .name = "version",
    .usage = "",
    .summary = "print the version",
    .help = "",
    .exec = cmd_version_exec,
};
