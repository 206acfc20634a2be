/*
 * The command table and what commands share: messages, help, and loading
 * configuration, inventory and node selections on demand, so that a
 * command such as "version" or any "--help" touches no file at all.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/loop.h"
#include "engine/nextboot.h"
#include "engine/run.h"
#include "inventory/config.h"
#include "inventory/groups.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd.h"
#include "ui/output.h"

extern const struct cmd_entry cmd_config_entry;
extern const struct cmd_entry cmd_cycle_entry;
extern const struct cmd_entry cmd_exec_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_images_entry;
extern const struct cmd_entry cmd_info_entry;
extern const struct cmd_entry cmd_inventory_entry;
extern const struct cmd_entry cmd_load_entry;
extern const struct cmd_entry cmd_nodes_entry;
extern const struct cmd_entry cmd_off_entry;
extern const struct cmd_entry cmd_on_entry;
extern const struct cmd_entry cmd_reset_entry;
extern const struct cmd_entry cmd_resolve_entry;
extern const struct cmd_entry cmd_save_entry;
extern const struct cmd_entry cmd_share_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_version_entry;
extern const struct cmd_entry cmd_wait_entry;

/* Sorted by name; CMakeLists.txt makes an r<name> link for each. */
const struct cmd_entry *cmd_table[] = {
    &cmd_config_entry,
    &cmd_cycle_entry,
    &cmd_exec_entry,
    &cmd_help_entry,
    &cmd_images_entry,
    &cmd_info_entry,
    &cmd_inventory_entry,
    &cmd_load_entry,
    &cmd_nodes_entry,
    &cmd_off_entry,
    &cmd_on_entry,
    &cmd_reset_entry,
    &cmd_resolve_entry,
    &cmd_save_entry,
    &cmd_share_entry,
    &cmd_status_entry,
    &cmd_version_entry,
    &cmd_wait_entry,
    NULL,
};

static char *cmd_state_path;
static int cmd_state_failed;

const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry **e;

	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp((*e)->name, name) == 0)
			return (*e);
	}
	return (NULL);
}

static void cmd_vmessage(struct cmd_ctx *, const char *, const char *, va_list)
    printflike(3, 0);

static void
cmd_vmessage(struct cmd_ctx *ctx, const char *kind, const char *fmt, va_list ap)
{
	char *msg;

	xvasprintf(&msg, fmt, ap);
	fprintf(stderr, "%s: %s%s\n", ctx->prog, kind, msg);
	/* Into the log file too, but never twice on stderr. */
	if (log_path() != NULL)
		log_write(*kind == 'w' ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR,
		    "%s: %s", ctx->prog, msg);
	free(msg);
}

void
cmd_error(struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vmessage(ctx, "", fmt, ap);
	va_end(ap);
}

void
cmd_warn(struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vmessage(ctx, "warning: ", fmt, ap);
	va_end(ap);
}

int
cmd_usage_error(struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vmessage(ctx, "", fmt, ap);
	va_end(ap);
	fprintf(stderr, "usage: %s %s\n", ctx->prog, ctx->entry->usage);
	return (EXIT_USAGE);
}

int
cmd_bad_option(struct cmd_ctx *ctx, char **argv, const char *shortopts)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	const char *p;

	if (strncmp(arg, "--", 2) == 0) {
		if (optopt == 0)
			return (
			    cmd_usage_error(ctx, "unknown option '%s'", arg));
		if ((p = strchr(arg, '=')) != NULL)
			return (
			    cmd_usage_error(ctx, "option '%.*s' takes no value",
				(int)(p - arg), arg));
		return (cmd_usage_error(ctx, "option '%s' needs a value", arg));
	}
	if (optopt > 0 && optopt < 128 && isprint(optopt)) {
		p = strchr(shortopts, optopt);
		if (p != NULL && optopt != ':' && p[1] == ':')
			return (cmd_usage_error(ctx, "option -%c needs a value",
			    optopt));
		return (cmd_usage_error(ctx, "unknown option '-%c'", optopt));
	}
	return (cmd_usage_error(ctx, "unknown option '%s'", arg));
}

int
cmd_flush_stdout(struct cmd_ctx *ctx, int r)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cmd_error(ctx, "stdout: %s", strerror(errno));
		return (EXIT_FAILED);
	}
	return (r);
}

int
cmd_help(struct cmd_ctx *ctx)
{
	const struct cmd_entry *e = ctx->entry;

	printf("usage: %s %s\n%s\n", ctx->prog, e->usage, e->summary);
	if (e->help != NULL && *e->help != '\0')
		printf("\n%s", e->help);
	return (EXIT_OK);
}

void
cmd_add_option(struct cmd_ctx *ctx, const char *opt)
{
	ctx->options = xreallocarray(ctx->options, ctx->noptions + 1,
	    sizeof *ctx->options);
	ctx->options[ctx->noptions++] = xstrdup(opt);
}

static char *
cmd_short_hostname(void)
{
	char name[256];

	if (gethostname(name, sizeof name) != 0)
		return (xstrdup(""));
	name[sizeof name - 1] = '\0';
	name[strcspn(name, ".")] = '\0';
	return (xstrdup(name));
}

/* mkdir -p for the state directory, mode 0700 for the leaves we make. */
static int
cmd_mkdirs(const char *path)
{
	char *copy, *p;
	int r = 0;

	copy = xstrdup(path);
	for (p = copy + 1; r == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST)
			r = -1;
		*p = c;
		if (c == '\0')
			break;
	}
	free(copy);
	return (r);
}

const char *
cmd_state_dir(struct cmd_ctx *ctx)
{
	const char *conf = "", *xdg, *home;
	char *path;

	if (cmd_state_path != NULL || cmd_state_failed)
		return (cmd_state_path);
	if (ctx->config != NULL)
		conf = config_str(ctx->config, CK_TESTBED_STATE_DIR);
	if (*conf != '\0')
		path = xstrdup(conf);
	else if (geteuid() == 0)
		path = xstrdup("/var/lib/rhubarb");
	else if ((xdg = getenv("XDG_STATE_HOME")) != NULL && *xdg == '/')
		xasprintf(&path, "%s/rhubarb", xdg);
	else if ((home = getenv("HOME")) != NULL && *home == '/')
		xasprintf(&path, "%s/.local/state/rhubarb", home);
	else {
		cmd_state_failed = 1;
		return (NULL);
	}
	if (cmd_mkdirs(path) != 0 || access(path, W_OK) != 0) {
		cmd_warn(ctx, "state directory %s: %s; logging to stderr", path,
		    strerror(errno));
		cmd_state_failed = 1;
		free(path);
		return (NULL);
	}
	cmd_state_path = path;
	return (path);
}

static enum log_level
cmd_log_level(const char *name)
{
	if (strcmp(name, "error") == 0)
		return (LOG_LEVEL_ERROR);
	if (strcmp(name, "warn") == 0)
		return (LOG_LEVEL_WARN);
	if (strcmp(name, "debug") == 0)
		return (LOG_LEVEL_DEBUG);
	return (LOG_LEVEL_INFO);
}

/* Open the log in the state directory; keep stderr if that fails. */
static void
cmd_open_log(struct cmd_ctx *ctx)
{
	const char *dir;
	char *path;

	log_set_level(cmd_log_level(config_str(ctx->config, CK_LOGGING_LEVEL)));
	if ((dir = cmd_state_dir(ctx)) == NULL)
		return;
	xasprintf(&path, "%s/rhubarb.log", dir);
	if (log_open(path, 1) != 0)
		cmd_warn(ctx, "%s: %s; logging to stderr", path,
		    strerror(errno));
	free(path);
}

/*
 * Undo the nextboot links of runs that died without clearing them (a
 * SIGKILL, a crash): every command that reads the configuration does it,
 * at the cost of one readdir of a usually empty directory.
 */
static void
cmd_recover_nextboot(struct cmd_ctx *ctx)
{
	struct nextboot_recovered *list;
	const char *dir;
	char *err = NULL;
	size_t i, n;

	if ((dir = cmd_state_dir(ctx)) == NULL)
		return;
	if (nextboot_recover(dir, &list, &n, &err) != 0) {
		cmd_warn(ctx, "%s", err);
		free(err);
		return;
	}
	for (i = 0; i < n; i++) {
		if (list[i].removed > 0)
			cmd_error(ctx,
			    "recovered %zu nextboot link%s left by run %s "
			    "(pid %ld)",
			    list[i].removed, list[i].removed == 1 ? "" : "s",
			    list[i].run_id, list[i].pid);
		if (list[i].stopped > 0)
			cmd_error(ctx,
			    "stopped %zu process%s left by run %s (pid %ld)",
			    list[i].stopped, list[i].stopped == 1 ? "" : "es",
			    list[i].run_id, list[i].pid);
		if (list[i].kept > 0)
			cmd_warn(ctx,
			    "run %s (pid %ld): %zu nextboot link%s changed "
			    "since; left alone",
			    list[i].run_id, list[i].pid, list[i].kept,
			    list[i].kept == 1 ? "" : "s");
		if (list[i].error != NULL)
			cmd_warn(ctx, "nextboot recovery: %s", list[i].error);
	}
	nextboot_recovered_free(list, n);
}

int
cmd_load_config(struct cmd_ctx *ctx)
{
	char *host, *err = NULL;
	size_t i;
	int r;

	if (ctx->config != NULL)
		return (0);
	host = cmd_short_hostname();
	ctx->config = config_new(host);
	free(host);
	r = config_load_standard(ctx->config, getenv("HOME"),
	    getenv("RHUBARB_CONFIG"), &err);
	for (i = 0; r == 0 && i < ctx->noptions; i++)
		r = config_set_option(ctx->config, ctx->options[i], &err);
	for (i = 0; i < config_warning_count(ctx->config); i++)
		cmd_warn(ctx, "%s", config_warning(ctx->config, i));
	if (r != 0) {
		cmd_error(ctx, "%s", err);
		free(err);
		return (EXIT_USAGE);
	}
	cmd_open_log(ctx);
	for (i = 0; i < config_file_count(ctx->config); i++)
		log_debug("config: read %s", config_file(ctx->config, i));
	cmd_recover_nextboot(ctx);
	return (0);
}

int
cmd_load_inventory(struct cmd_ctx *ctx)
{
	const char *path;
	char *err = NULL;
	int r;

	if ((r = cmd_load_config(ctx)) != 0)
		return (r);
	if (ctx->inventory != NULL)
		return (0);
	path = config_str(ctx->config, CK_TESTBED_INVENTORY_NODES_PATH);
	if ((ctx->inventory = inventory_load(path, &err)) == NULL) {
		cmd_error(ctx, "%s", err);
		free(err);
		return (EXIT_USAGE);
	}
	path = config_str(ctx->config, CK_TESTBED_GROUPS_PATH);
	if ((ctx->groups = groups_load(path, 1, &err)) == NULL) {
		cmd_error(ctx, "%s", err);
		free(err);
		return (EXIT_USAGE);
	}
	return (0);
}

int
cmd_select(struct cmd_ctx *ctx, int all_nodes, int argc, char **argv,
    int allow_empty, struct nodeset **setp)
{
	struct nodeset_env env;
	struct nodeset *set;
	char *err = NULL;
	int r;

	*setp = NULL;
	if ((r = cmd_load_inventory(ctx)) != 0)
		return (r);
	env.regularname = config_str(ctx->config, CK_TESTBED_REGULARNAME);
	env.rebootname = config_str(ctx->config, CK_TESTBED_REBOOTNAME);
	env.all_scope = config_str(ctx->config, CK_TESTBED_ALL_SCOPE);
	env.groups = ctx->groups;
	set = nodeset_new(ctx->inventory);
	if (nodeset_select(set, &env, all_nodes, argc, argv, getenv("NODES"),
		&err) != 0) {
		cmd_error(ctx, "%s", err);
		free(err);
		nodeset_free(set);
		return (EXIT_USAGE);
	}
	if (!allow_empty && nodeset_count(set) == 0) {
		cmd_error(ctx, "no node selected");
		nodeset_free(set);
		return (EXIT_USAGE);
	}
	*setp = set;
	return (0);
}

void
cmd_ctx_free(struct cmd_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->noptions; i++)
		free(ctx->options[i]);
	free(ctx->options);
	groups_free(ctx->groups);
	inventory_free(ctx->inventory);
	config_free(ctx->config);
	free(cmd_state_path);
	cmd_state_path = NULL;
	cmd_state_failed = 0;
	log_close();
}

int
cmd_parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return (-1);
	*out = v;
	return (0);
}

int
cmd_parse_seconds(const char *s, double min_s, double max_s, uint64_t *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < min_s || v > max_s)
		return (-1);
	*ms = (uint64_t)(v * 1000 + 0.5);
	return (0);
}

int
cmd_check_output(struct cmd_ctx *ctx, const struct output_opts *oo)
{
	char *err = NULL;
	int r;

	if (output_check(oo, &err) == 0)
		return (0);
	r = cmd_usage_error(ctx, "%s", err);
	free(err);
	return (r);
}

int
cmd_loop_init(struct cmd_ctx *ctx)
{
	char *err = NULL;

	if (loop_init(&err) != 0) {
		cmd_error(ctx, "%s", err);
		free(err);
		return (EXIT_FAILED);
	}
	if (log_path() == NULL)
		log_set_stderr_ok(0);
	return (0);
}

int
cmd_run_to_end(struct run *run)
{
	run_start(run);
	if (!run_finished(run))
		loop_run();
	/* Broken by a second signal: end what is left without waiting. */
	if (!run_finished(run))
		run_abort(run);
	return (run_exit_code(run));
}

void
cmd_log_resources(struct cmd_ctx *ctx, int exit_code)
{
	struct rusage ru;
	double user, sys;

	if (log_path() == NULL || getrusage(RUSAGE_SELF, &ru) != 0)
		return;
	user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	log_info("%s: exit %d, cpu %.3f s (user %.3f, sys %.3f), max rss %ld "
		 "KiB",
	    ctx->prog, exit_code, user + sys, user, sys, ru.ru_maxrss);
}
