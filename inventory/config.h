/*
 * Configuration: INI files layered key by key over compiled-in defaults,
 * typed and checked at load. A key "name.<short-hostname>" overrides
 * "name" on that host, wherever it was set (rhubarbe's rule). Every value
 * remembers where it came from ("file:line", "-o" or "default").
 *
 * Reads files; no other I/O. Warnings (unknown keys) are collected for the
 * caller to print; errors are returned as one allocated line.
 */
#ifndef INVENTORY_CONFIG_H
#define INVENTORY_CONFIG_H

#include <stddef.h>

#include "inventory/config-keys.h"

enum config_type {
	CONFIG_STRING,
	CONFIG_SECRET, /* a string never printed by "config" */
	CONFIG_PATH,
	CONFIG_INT,           /* integer within [min, max] */
	CONFIG_DOUBLE,        /* number within [min, max] */
	CONFIG_CHOICE,        /* one of the words listed in help */
	CONFIG_PORT_PATTERN,  /* "BASE + *", e.g. "10000 + *" */
	CONFIG_MCAST_PATTERN, /* "a.b.c.*", a multicast /24 */
};

#define CONFIG_KEY_ENUM(id, ...) CK_##id,
enum config_key { CONFIG_KEYS(CONFIG_KEY_ENUM) CK__COUNT };
#undef CONFIG_KEY_ENUM

struct config;

/* A new configuration holding the defaults; hostname is the short name. */
struct config *config_new(const char *short_hostname);
void config_free(struct config *);

/*
 * Layer one file over what is loaded. If optional and the file does not
 * exist, do nothing. Returns 0, or -1 with *errp set to one line naming the
 * file, the line and the key.
 */
int config_load_file(struct config *, const char *path, int optional,
    char **errp);
/* The same for text in memory; origin names it in messages. */
int config_load_string(struct config *, const char *origin, const char *text,
    char **errp);
/* Apply "section.key=value" (or "section.key.host=value") from -o. */
int config_set_option(struct config *, const char *assignment, char **errp);
/*
 * The standard layers: /etc/rhubarb/rhubarb.conf, $HOME/.rhubarb.conf,
 * ./rhubarb.conf, then the file named by env_file (RHUBARB_CONFIG) which
 * must exist. home or env_file may be NULL.
 */
int config_load_standard(struct config *, const char *home,
    const char *env_file, char **errp);
/* Files actually read, in order. */
size_t config_file_count(const struct config *);
const char *config_file(const struct config *, size_t);

/* Warnings gathered so far ("file:line: unknown key 'k' in section [s]"). */
size_t config_warning_count(const struct config *);
const char *config_warning(const struct config *, size_t);

/* Typed accessors; the key's type must match (asserted). */
const char *config_str(const struct config *, enum config_key);
long long config_int(const struct config *, enum config_key);
double config_double(const struct config *, enum config_key);
/* Port pattern "BASE + *": the base. Mcast "a.b.c.*": "a.b.c." prefix. */
int config_port_base(const struct config *, enum config_key);
/* The effective value as written, whatever the key's type. */
const char *config_text(const struct config *, enum config_key);
/* Where the effective value came from: "file:line", "-o" or "default". */
const char *config_origin(const struct config *, enum config_key);

/* The key table. */
const char *config_key_section(enum config_key);
const char *config_key_name(enum config_key);
enum config_type config_key_type(enum config_key);
const char *config_key_default(enum config_key);
const char *config_key_help(enum config_key);
/* CK__COUNT when section/key is not a known key. */
enum config_key config_key_lookup(const char *section, const char *name);

#endif
