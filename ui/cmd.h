/*
 * Commands: one file per command (ui/cmd-*.c) exporting a cmd_entry, listed
 * in the table of ui/cmd.c. A command parses its own options with
 * getopt_long, loads only what it needs through the helpers below, prints
 * one-line errors prefixed by the name it was called by, and returns an
 * exit code: 0 all selected nodes ok, 1 some failed, 2 bad usage or input
 * (nothing touched).
 */
#ifndef UI_CMD_H
#define UI_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "common/compat.h"

#define EXIT_OK     0
#define EXIT_FAILED 1
#define EXIT_USAGE  2

struct config;
struct inventory;
struct groups;
struct nodeset;
struct output_opts;
struct run;

struct cmd_ctx {
	const char *prog; /* "rnodes", "rhubarb config" */
	const struct cmd_entry *entry;
	struct config *config;       /* after cmd_load_config */
	struct inventory *inventory; /* after cmd_load_inventory */
	struct groups *groups;       /* after cmd_load_inventory */
	char **options;              /* -o section.key=value */
	size_t noptions;
};

struct cmd_entry {
	const char *name;    /* "nodes": rhubarb nodes, rnodes */
	const char *usage;   /* synopsis after the name */
	const char *summary; /* one line for "rhubarb help" */
	const char *help;    /* options, one per line */
	int (*exec)(struct cmd_ctx *, int, char **);
};

extern const struct cmd_entry *cmd_table[];

const struct cmd_entry *cmd_find(const char *name);

/* "prog: message" on stderr. */
void cmd_error(struct cmd_ctx *, const char *, ...) printflike(2, 3);
void cmd_warn(struct cmd_ctx *, const char *, ...) printflike(2, 3);
/* Print the error and a usage line; returns EXIT_USAGE. */
int cmd_usage_error(struct cmd_ctx *, const char *, ...) printflike(2, 3);
/*
 * getopt_long reported an unknown option or a missing value ('?' or
 * ':'): one usage error naming it. shortopts is getopt's option string.
 */
int cmd_bad_option(struct cmd_ctx *, char **argv, const char *shortopts);
/*
 * Option values: a whole integer in [min, max]; seconds, decimals
 * allowed, in [min_s, max_s], to milliseconds. 0, or -1 (the caller
 * says what was expected).
 */
int cmd_parse_int(const char *, long long min, long long max, long long *);
int cmd_parse_seconds(const char *, double min_s, double max_s, uint64_t *ms);
/* The -c/-j/-q/-v combination (ui/output.h) is possible: 0 or EXIT_USAGE. */
int cmd_check_output(struct cmd_ctx *, const struct output_opts *);
/*
 * The event loop of a run command; the log stops copying itself to
 * stderr when it has no file (the command's output shows the run, and
 * would be repeated). 0, or EXIT_FAILED after a one-line error.
 */
int cmd_loop_init(struct cmd_ctx *);
/*
 * Start run, dispatch until it has ended (a second signal breaks the loop:
 * what is left is abandoned), and return its exit code.
 */
int cmd_run_to_end(struct run *);
/* Flush stdout: r, or EXIT_FAILED with a message if writing failed. */
int cmd_flush_stdout(struct cmd_ctx *, int r);
/* Full help on stdout; returns EXIT_OK. */
int cmd_help(struct cmd_ctx *);
/* Remember one -o option (applied by cmd_load_config). */
void cmd_add_option(struct cmd_ctx *, const char *);

/*
 * Load the layered configuration with the -o options, print warnings, open
 * the log. 0, or EXIT_USAGE after printing the error.
 */
int cmd_load_config(struct cmd_ctx *);
/* Load config (if not yet), inventory and groups. 0 or EXIT_USAGE. */
int cmd_load_inventory(struct cmd_ctx *);
/*
 * Load what is needed and build the selection from -a, the arguments and
 * $NODES. An empty selection is an error unless allow_empty. 0 or
 * EXIT_USAGE.
 */
int cmd_select(struct cmd_ctx *, int all_nodes, int argc, char **argv,
    int allow_empty, struct nodeset **setp);
/* The state directory (created if needed), or NULL if none is usable. */
const char *cmd_state_dir(struct cmd_ctx *);
/*
 * Into the log file, if the command opened one: its exit code and what
 * it cost, its own CPU time and peak memory (children not included).
 */
void cmd_log_resources(struct cmd_ctx *, int exit_code);
void cmd_ctx_free(struct cmd_ctx *);

#endif
