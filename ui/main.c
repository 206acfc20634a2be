/*
 * rhubarb's entry point: a multi-call binary. "rhubarb CMD ...", or a link
 * named "rhubarb-CMD" or "rCMD" (rload, rnodes, ...) runs CMD. Nothing is
 * read or opened here; each command loads what it needs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "common/version.h"
#include "ui/cmd.h"

static void
main_usage(FILE *f)
{
	const struct cmd_entry **e;

	fprintf(f,
	    "usage: rhubarb COMMAND [ARGS...]\n"
	    "       rhubarb COMMAND --help | rhubarb --version\n\n"
	    "commands (also as rCOMMAND or rhubarb-COMMAND):\n");
	for (e = cmd_table; *e != NULL; e++)
		fprintf(f, "  %-10s %s\n", (*e)->name, (*e)->summary);
}

/* The command a program name stands for, or NULL for plain "rhubarb". */
static const struct cmd_entry *
main_from_progname(const char *base)
{
	if (strncmp(base, "rhubarb-", 8) == 0)
		return (cmd_find(base + 8));
	if (base[0] == 'r' && strcmp(base, "rhubarb") != 0)
		return (cmd_find(base + 1));
	return (NULL);
}

int
main(int argc, char **argv)
{
	const struct cmd_entry *entry;
	struct cmd_ctx ctx;
	const char *base;
	char *prog = NULL;
	int r;

	base = argc > 0 && argv[0] != NULL ? argv[0] : "rhubarb";
	if (strrchr(base, '/') != NULL)
		base = strrchr(base, '/') + 1;

	if ((entry = main_from_progname(base)) != NULL) {
		prog = xstrdup(base);
	} else {
		if (argc < 2) {
			main_usage(stderr);
			return (EXIT_USAGE);
		}
		if (strcmp(argv[1], "--version") == 0 ||
		    strcmp(argv[1], "-V") == 0) {
			printf("rhubarb %s\n", RHUBARB_VERSION);
			return (EXIT_OK);
		}
		if (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0) {
			main_usage(stdout);
			return (EXIT_OK);
		}
		if ((entry = cmd_find(argv[1])) == NULL) {
			fprintf(stderr,
			    "rhubarb: unknown command '%s' "
			    "(rhubarb --help lists them)\n",
			    argv[1]);
			return (EXIT_USAGE);
		}
		xasprintf(&prog, "rhubarb %s", entry->name);
		argc--;
		argv++;
	}

	/* Commands report bad options themselves (cmd_bad_option). */
	opterr = 0;
	memset(&ctx, 0, sizeof ctx);
	ctx.prog = prog;
	ctx.entry = entry;
	r = entry->exec(&ctx, argc, argv);
	cmd_log_resources(&ctx, r);
	cmd_ctx_free(&ctx);
	free(prog);
	return (r);
}
