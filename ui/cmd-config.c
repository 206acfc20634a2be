/*
 * rhubarb config: print the effective configuration, every key with its
 * value and where that value came from (file:line, -o or default), so
 * that a user can see which layer or which per-host key won. --files
 * lists the files read; --json prints both for programs. Secrets are
 * never printed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "inventory/config.h"
#include "ui/cmd.h"

#define CMD_CONFIG_MASK "********"
/* Longer values push their origin further right, not the others'. */
#define CMD_CONFIG_VALUE_WIDTH 40

static int cmd_config_section_known(const char *);
static int cmd_config_selected(enum config_key, int, char **);
static const char *cmd_config_value(const struct config *, enum config_key);
static const char *cmd_config_type(enum config_type);
static void cmd_config_print(const struct config *, int, char **);
static json_t *cmd_config_jstr(const char *);
static int cmd_config_json(struct cmd_ctx *, int, char **);
static int cmd_config_exec(struct cmd_ctx *, int, char **);

static int
cmd_config_section_known(const char *section)
{
	enum config_key k;

	for (k = 0; k < CK__COUNT; k++) {
		if (strcmp(config_key_section(k), section) == 0)
			return (1);
	}
	return (0);
}

/* Whether key is in one of the sections asked for (all if none). */
static int
cmd_config_selected(enum config_key key, int nsections, char **sections)
{
	int i;

	if (nsections == 0)
		return (1);
	for (i = 0; i < nsections; i++) {
		if (strcmp(config_key_section(key), sections[i]) == 0)
			return (1);
	}
	return (0);
}

/* The value to show: a set secret is masked, an empty one shown empty. */
static const char *
cmd_config_value(const struct config *cfg, enum config_key key)
{
	const char *text = config_text(cfg, key);

	if (config_key_type(key) == CONFIG_SECRET && *text != '\0')
		return (CMD_CONFIG_MASK);
	return (text);
}

static const char *
cmd_config_type(enum config_type type)
{
	switch (type) {
	case CONFIG_STRING:
		return ("string");
	case CONFIG_SECRET:
		return ("secret");
	case CONFIG_PATH:
		return ("path");
	case CONFIG_INT:
		return ("int");
	case CONFIG_DOUBLE:
		return ("double");
	case CONFIG_CHOICE:
		return ("choice");
	case CONFIG_PORT_PATTERN:
		return ("port-pattern");
	case CONFIG_MCAST_PATTERN:
		return ("mcast-pattern");
	}
	return ("unknown");
}

/*
 * "[section]", then "key = value  # origin" aligned within the section.
 * The key table is grouped by section, so one pass finds each group.
 */
static void
cmd_config_print(const struct config *cfg, int nsections, char **sections)
{
	enum config_key first, last, k;
	size_t keyw, valw, len;
	int printed = 0;

	for (first = 0; first < CK__COUNT; first = last) {
		for (last = first; last < CK__COUNT; last++) {
			if (strcmp(config_key_section(last),
				config_key_section(first)) != 0)
				break;
		}
		if (!cmd_config_selected(first, nsections, sections))
			continue;
		keyw = valw = 0;
		for (k = first; k < last; k++) {
			if ((len = strlen(config_key_name(k))) > keyw)
				keyw = len;
			len = strlen(cmd_config_value(cfg, k));
			if (len > valw && len <= CMD_CONFIG_VALUE_WIDTH)
				valw = len;
		}
		printf("%s[%s]\n", printed++ ? "\n" : "",
		    config_key_section(first));
		for (k = first; k < last; k++) {
			printf("%-*s = %-*s  # %s\n", (int)keyw,
			    config_key_name(k), (int)valw,
			    cmd_config_value(cfg, k), config_origin(cfg, k));
		}
	}
}

/* A JSON string; bytes that are not UTF-8 become '?'. */
static json_t *
cmd_config_jstr(const char *s)
{
	json_t *j;
	char *copy, *p;

	if ((j = json_string(s)) != NULL)
		return (j);
	copy = xstrdup(s);
	for (p = copy; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	}
	j = json_string(copy);
	free(copy);
	return (j);
}

static int
cmd_config_json(struct cmd_ctx *ctx, int nsections, char **sections)
{
	const struct config *cfg = ctx->config;
	json_t *root, *files, *keys;
	enum config_key k;
	size_t i;
	int r;

	files = json_array();
	for (i = 0; i < config_file_count(cfg); i++)
		json_array_append_new(files,
		    cmd_config_jstr(config_file(cfg, i)));
	keys = json_array();
	for (k = 0; k < CK__COUNT; k++) {
		if (!cmd_config_selected(k, nsections, sections))
			continue;
		json_array_append_new(keys,
		    json_pack("{s:s, s:s, s:o, s:o, s:s}", "section",
			config_key_section(k), "key", config_key_name(k),
			"value", cmd_config_jstr(cmd_config_value(cfg, k)),
			"origin", cmd_config_jstr(config_origin(cfg, k)),
			"type", cmd_config_type(config_key_type(k))));
	}
	root = json_pack("{s:o, s:o}", "files", files, "keys", keys);
	r = json_dumpf(root, stdout, JSON_INDENT(2));
	json_decref(root);
	if (r != 0 || putchar('\n') == EOF) {
		cmd_error(ctx, "cannot write the output");
		return (EXIT_FAILED);
	}
	return (EXIT_OK);
}

static int
cmd_config_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"files", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	size_t i;
	int c, json = 0, files = 0, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			files = 1;
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
			return (cmd_bad_option(ctx, argv, ":ho:"));
		}
	}
	argc -= optind;
	argv += optind;
	for (c = 0; c < argc; c++) {
		if (!cmd_config_section_known(argv[c]))
			return (cmd_usage_error(ctx, "unknown section '%s'",
			    argv[c]));
	}

	if ((r = cmd_load_config(ctx)) != 0)
		return (r);
	if (json)
		return (cmd_config_json(ctx, argc, argv));
	if (files) {
		for (i = 0; i < config_file_count(ctx->config); i++)
			printf("%s\n", config_file(ctx->config, i));
		return (EXIT_OK);
	}
	cmd_config_print(ctx->config, argc, argv);
	return (EXIT_OK);
}

const struct cmd_entry cmd_config_entry = {
    .name = "config",
    .usage = "[-o SECTION.KEY=VALUE]... [--json] [--files] [SECTION...]",
    .summary = "show the configuration and where each value comes from",
    .help = "  -o SECTION.KEY[.HOST]=VALUE\n"
	    "                 override a key for this run (repeatable)\n"
	    "  --files        list the configuration files read, in order\n"
	    "  --json         print the files and keys as one JSON object\n"
	    "  -h, --help     show this help\n"
	    "Sections (e.g. nodes, networking) limit the output to them.\n"
	    "Values come from the defaults, /etc/rhubarb/rhubarb.conf,\n"
	    "~/.rhubarb.conf, ./rhubarb.conf, $RHUBARB_CONFIG and -o, the\n"
	    "last one winning; secrets are shown as " CMD_CONFIG_MASK ".\n",
    .exec = cmd_config_exec,
};
