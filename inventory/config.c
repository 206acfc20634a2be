/*
 * Configuration: rhubarbe's INI files, layered key by key over the
 * compiled-in defaults of config-keys.h, typed and checked when they are
 * read so that no command ever meets a bad value later.
 *
 * inih does the INI syntax. We feed it one line at a time through our own
 * reader, which gives us what inih 55 (built without INI_HANDLER_LINENO)
 * does not: the line number of every key, a clear error for lines longer
 * than inih's buffer (inih would silently cut them in two), and
 * configparser's rule for indented lines (same indent: a new key; deeper:
 * a continuation, which rhubarb does not support and reports).
 *
 * A file is applied only when all of it is valid: its keys are staged and
 * committed at the end, so a bad value leaves the configuration as it was
 * before that file (warnings found on the way are kept).
 *
 * Every key has two slots: the plain value and the value of "key.<host>"
 * for this host. rhubarbe merges all its files and then prefers the host
 * value when it is present and non-empty, so a host value read from any
 * layer beats a plain value from any other layer. A plain -o is the
 * exception: the user typed it for this run, so it clears the host slot.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "common/xmalloc.h"
#include "inventory/config.h"

/* Larger configuration files are certainly not configuration files. */
#define CONFIG_MAX_FILE (1024 * 1024)
/* Longest value quoted in a message before it is cut. */
#define CONFIG_MAX_QUOTE 60
/* Highest port base: pattern_size may add up to 254 to it. */
#define CONFIG_MAX_PORT_BASE (65535 - 254)

struct config_def {
	const char *section;
	const char *name;
	enum config_type type;
	const char *dflt;
	long long min;
	long long max;
	const char *help;
};

#define CONFIG_KEY_DEF(id, section, name, type, dflt, min, max, help)          \
	{section, name, type, dflt, min, max, help},
static const struct config_def config_defs[CK__COUNT] = {
    CONFIG_KEYS(CONFIG_KEY_DEF)};
#undef CONFIG_KEY_DEF

/* One value with its typed form; text NULL means "not set". */
struct config_slot {
	char *text;
	char *origin; /* "file:line" or "-o"; NULL for the default */
	long long ival;
	double dval;
};

struct config_entry {
	struct config_slot base; /* "key" */
	struct config_slot host; /* "key.<this host>" */
};

struct config {
	char *host;
	struct config_entry entries[CK__COUNT];
	char **files;
	size_t nfiles;
	char **warnings;
	size_t nwarnings;
};

/* A key read from a file, applied only if the whole file is good. */
struct config_pending {
	enum config_key key;
	int host;
	struct config_slot slot;
};

/* The state of one file's parse, shared by our reader and handler. */
struct config_parse {
	struct config *cfg;
	const char *origin; /* file name, for messages */
	const char *p;      /* next line to give inih */
	const char *end;
	int lineno;
	int in_key;        /* a key line was seen in this section */
	size_t key_indent; /* indentation of that key line */
	int err_line;      /* first error found by us, 0 if none */
	char *err;
	char *warned_section; /* last unknown section warned about */
	struct config_pending *pending;
	size_t npending;
};

static void config_slot_clear(struct config_slot *, int);
static char *config_quote(const char *);
static int config_section_known(const char *);
static int config_check_int(const struct config_def *, const char *,
    struct config_slot *, char **);
static int config_check_double(const struct config_def *, const char *,
    struct config_slot *, char **);
static int config_check_choice(const struct config_def *, const char *,
    char **);
static int config_check_port(const char *, struct config_slot *, char **);
static int config_check_mcast(const char *, char **);
static int config_check(enum config_key, const char *, int,
    struct config_slot *, char **);
static int config_resolve(struct config *, const char *, const char *,
    enum config_key *, int *, int *);
static void config_warn(struct config *, const char *, ...) printflike(2, 3);
static void config_parse_error(struct config_parse *, const char *, ...)
    printflike(2, 3);
static char *config_reader(char *, int, void *);
static int config_handler(void *, const char *, const char *, const char *);
static void config_commit(struct config *, enum config_key, int,
    struct config_slot *);
static int config_parse_text(struct config *, const char *, const char *,
    size_t, char **);
static const struct config_slot *config_effective(const struct config *,
    enum config_key);

static void
config_slot_clear(struct config_slot *slot, int secret)
{
	if (secret)
		freezero_str(slot->text);
	else
		free(slot->text);
	free(slot->origin);
	memset(slot, 0, sizeof *slot);
}

/*
 * A value as it may appear in a one-line message: control characters
 * become '?' and long values are cut.
 */
static char *
config_quote(const char *s)
{
	size_t len, i;
	char *q;

	len = strlen(s);
	if (len > CONFIG_MAX_QUOTE)
		len = CONFIG_MAX_QUOTE;
	q = xmalloc(len + 4);
	for (i = 0; i < len; i++) {
		if (iscntrl((unsigned char)s[i]))
			q[i] = '?';
		else
			q[i] = s[i];
	}
	q[len] = '\0';
	if (s[len] != '\0')
		strlcat(q, "...", len + 4);
	return (q);
}

static int
config_check_int(const struct config_def *def, const char *text,
    struct config_slot *slot, char **why)
{
	const char *s = text;
	long long v;
	char *end, *q;

	if (*s == '+' || *s == '-')
		s++;
	if (!isdigit((unsigned char)*s)) {
		q = config_quote(text);
		xasprintf(why, "'%s' is not a number", q);
		free(q);
		return (-1);
	}
	errno = 0;
	v = strtoll(text, &end, 10);
	if (*end != '\0') {
		q = config_quote(text);
		if (*end == '.' || *end == 'e' || *end == 'E')
			xasprintf(why, "'%s' is not an integer", q);
		else
			xasprintf(why, "'%s' is not a number", q);
		free(q);
		return (-1);
	}
	if (errno == ERANGE || v < def->min || v > def->max) {
		q = config_quote(text);
		xasprintf(why, "%s is out of range (%lld..%lld)", q, def->min,
		    def->max);
		free(q);
		return (-1);
	}
	slot->ival = v;
	slot->dval = (double)v;
	return (0);
}

/*
 * Plain decimal numbers only: strtod alone would also take "nan", "inf"
 * and hexadecimal, and would follow LC_NUMERIC if the UI ever set it.
 */
static int
config_check_double(const struct config_def *def, const char *text,
    struct config_slot *slot, char **why)
{
	const char *s = text;
	locale_t c_locale;
	size_t digits = 0;
	double v;
	char *end, *q;

	if (*s == '+' || *s == '-')
		s++;
	for (; isdigit((unsigned char)*s); s++)
		digits++;
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++)
			digits++;
	}
	if (digits > 0 && (*s == 'e' || *s == 'E')) {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			digits = 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (digits == 0 || *s != '\0') {
		q = config_quote(text);
		xasprintf(why, "'%s' is not a number", q);
		free(q);
		return (-1);
	}
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0) {
		xasprintf(why, "cannot read numbers: %s", strerror(errno));
		return (-1);
	}
	v = strtod_l(text, &end, c_locale);
	freelocale(c_locale);
	if (!isfinite(v) || v < (double)def->min || v > (double)def->max) {
		q = config_quote(text);
		xasprintf(why, "%s is out of range (%lld..%lld)", q, def->min,
		    def->max);
		free(q);
		return (-1);
	}
	slot->dval = v;
	return (0);
}

/* The choices are the '|'-separated words before the first space. */
static int
config_check_choice(const struct config_def *def, const char *text, char **why)
{
	const char *c = def->help, *end;
	size_t len = strlen(text), n;
	char *q;

	n = strcspn(c, " ");
	for (end = c + n; c < end; c += n + 1) {
		n = strcspn(c, "| ");
		if (n == len && strncmp(c, text, n) == 0)
			return (0);
	}
	q = config_quote(text);
	xasprintf(why, "'%s' is not one of %.*s", q,
	    (int)strcspn(def->help, " "), def->help);
	free(q);
	return (-1);
}

/* "BASE + *", spaces optional; never evaluated, only read. */
static int
config_check_port(const char *text, struct config_slot *slot, char **why)
{
	const char *s = text;
	long long base = 0;
	int digits = 0;
	char *q;

	while (isdigit((unsigned char)*s)) {
		if (base <= CONFIG_MAX_PORT_BASE)
			base = base * 10 + (*s - '0');
		digits++;
		s++;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (digits == 0 || *s++ != '+')
		goto bad;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s++ != '*' || *s != '\0')
		goto bad;
	if (base < 1 || base > CONFIG_MAX_PORT_BASE) {
		q = config_quote(text);
		xasprintf(why, "'%s': the base port must be within 1..%d", q,
		    CONFIG_MAX_PORT_BASE);
		free(q);
		return (-1);
	}
	slot->ival = base;
	return (0);
bad:
	q = config_quote(text);
	xasprintf(why, "'%s' is not of the form BASE + *", q);
	free(q);
	return (-1);
}

/* "a.b.c.*" with a.b.c. the prefix of a multicast /24. */
static int
config_check_mcast(const char *text, char **why)
{
	const char *s = text;
	int i, n, v[3];
	char *q;

	for (i = 0; i < 3; i++) {
		v[i] = 0;
		for (n = 0; n < 3 && isdigit((unsigned char)*s); n++, s++)
			v[i] = v[i] * 10 + (*s - '0');
		if (n == 0 || *s++ != '.' || v[i] > 255)
			goto bad;
	}
	if (*s++ != '*' || *s != '\0')
		goto bad;
	if (v[0] < 224 || v[0] > 239) {
		q = config_quote(text);
		xasprintf(why, "'%s' is not a multicast group (224..239)", q);
		free(q);
		return (-1);
	}
	return (0);
bad:
	q = config_quote(text);
	xasprintf(why, "'%s' is not of the form a.b.c.*", q);
	free(q);
	return (-1);
}

/*
 * Check text for key and fill slot's typed fields. An empty host value is
 * allowed for every type: it means "no override here".
 */
static int
config_check(enum config_key key, const char *text, int host,
    struct config_slot *slot, char **why)
{
	const struct config_def *def = &config_defs[key];

	if (*text == '\0' && host)
		return (0);
	switch (def->type) {
	case CONFIG_STRING:
	case CONFIG_SECRET:
	case CONFIG_PATH:
		return (0);
	case CONFIG_INT:
		return (config_check_int(def, text, slot, why));
	case CONFIG_DOUBLE:
		return (config_check_double(def, text, slot, why));
	case CONFIG_CHOICE:
		return (config_check_choice(def, text, why));
	case CONFIG_PORT_PATTERN:
		return (config_check_port(text, slot, why));
	case CONFIG_MCAST_PATTERN:
		return (config_check_mcast(text, why));
	}
	abort();
}

/*
 * The key that name (already lower-cased) stands for in section: 0 with
 * *keyp set, *hostp = 1 for "key.<host>", and *otherp = 1 when that
 * host is not ours; -1 when the key is unknown.
 */
static int
config_resolve(struct config *cfg, const char *section, const char *name,
    enum config_key *keyp, int *hostp, int *otherp)
{
	const char *dot;
	char *base;

	*hostp = *otherp = 0;
	if ((*keyp = config_key_lookup(section, name)) != CK__COUNT)
		return (0);
	if ((dot = strchr(name, '.')) == NULL || dot[1] == '\0')
		return (-1);
	base = xstrndup(name, dot - name);
	*keyp = config_key_lookup(section, base);
	free(base);
	if (*keyp == CK__COUNT)
		return (-1);
	*hostp = 1;
	*otherp = strcmp(dot + 1, cfg->host) != 0;
	return (0);
}

static void
config_warn(struct config *cfg, const char *fmt, ...)
{
	va_list ap;

	cfg->warnings = xreallocarray(cfg->warnings, cfg->nwarnings + 1,
	    sizeof *cfg->warnings);
	va_start(ap, fmt);
	xvasprintf(&cfg->warnings[cfg->nwarnings++], fmt, ap);
	va_end(ap);
}

/* Keep the first error of the file, at the current line. */
static void
config_parse_error(struct config_parse *cp, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (cp->err != NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(&cp->err, "%s:%d: %s", cp->origin, cp->lineno, msg);
	free(msg);
	cp->err_line = cp->lineno;
}

/*
 * inih's ini_reader: give it the next line, without its indentation (so
 * that inih never joins lines itself), and count lines.
 */
static char *
config_reader(char *buf, int size, void *arg)
{
	struct config_parse *cp = arg;
	const char *line, *nl, *s;
	size_t len, indent;

	if (cp->p >= cp->end)
		return (NULL);
	line = cp->p;
	if ((nl = memchr(line, '\n', cp->end - line)) == NULL)
		nl = cp->end;
	cp->p = nl < cp->end ? nl + 1 : nl;
	cp->lineno++;

	/* A UTF-8 byte order mark, as inih and configparser allow. */
	if (cp->lineno == 1 && nl - line >= 3 &&
	    memcmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	for (s = line; s < nl && isspace((unsigned char)*s); s++)
		;
	indent = s - line;
	len = nl - s;

	/* Blank or comment, however long: nothing for inih. */
	buf[0] = '\0';
	if (s == nl || *s == ';' || *s == '#')
		return (buf);
	if (*s == '[') {
		cp->in_key = 0;
	} else if (cp->in_key && indent > cp->key_indent) {
		config_parse_error(cp,
		    "indented line (multi-line values are not supported)");
		return (buf);
	} else {
		cp->in_key = 1;
		cp->key_indent = indent;
	}
	if (size < 2 || len > (size_t)size - 2) {
		config_parse_error(cp,
		    "line too long (more than %d "
		    "characters)",
		    size - 2);
		return (buf);
	}
	memcpy(buf, s, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return (buf);
}

/* inih's handler: resolve, check and stage one key. */
static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct config_parse *cp = arg;
	struct config_pending *pd;
	struct config_slot slot;
	enum config_key key;
	char *lname, *why = NULL, *q, *p;
	int host, other;

	if (cp->err != NULL)
		return (1);
	if (value == NULL) {
		/* Only if someone turned on inih's ini_allow_no_value. */
		config_parse_error(cp, "key without a value");
		return (1);
	}
	if (*name == '\0') {
		/* "= value": configparser rejects it, so do we. */
		config_parse_error(cp, "syntax error");
		return (1);
	}
	lname = xstrdup(name);
	for (p = lname; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	if (*section == '\0') {
		q = config_quote(lname);
		config_warn(cp->cfg, "%s:%d: key '%s' outside any section",
		    cp->origin, cp->lineno, q);
		free(q);
		goto out;
	}
	if (!config_section_known(section)) {
		if (cp->warned_section == NULL ||
		    strcmp(cp->warned_section, section) != 0) {
			free(cp->warned_section);
			cp->warned_section = xstrdup(section);
			q = config_quote(section);
			config_warn(cp->cfg, "%s:%d: unknown section [%s]",
			    cp->origin, cp->lineno, q);
			free(q);
		}
		goto out;
	}
	if (config_resolve(cp->cfg, section, lname, &key, &host, &other) != 0) {
		q = config_quote(lname);
		config_warn(cp->cfg, "%s:%d: unknown key '%s' in section [%s]",
		    cp->origin, cp->lineno, q, section);
		free(q);
		goto out;
	}
	memset(&slot, 0, sizeof slot);
	if (config_check(key, value, host, &slot, &why) != 0) {
		q = config_quote(lname);
		config_parse_error(cp, "[%s] %s: %s", section, q, why);
		free(q);
		free(why);
		goto out;
	}
	if (other)
		goto out;
	cp->pending =
	    xreallocarray(cp->pending, cp->npending + 1, sizeof *cp->pending);
	pd = &cp->pending[cp->npending++];
	pd->key = key;
	pd->host = host;
	pd->slot = slot;
	pd->slot.text = xstrdup(value);
	xasprintf(&pd->slot.origin, "%s:%d", cp->origin, cp->lineno);
out:
	free(lname);
	return (1);
}

/* Put a checked value into its slot; the slot takes text and origin. */
static void
config_commit(struct config *cfg, enum config_key key, int host,
    struct config_slot *slot)
{
	struct config_entry *e = &cfg->entries[key];
	int secret = config_defs[key].type == CONFIG_SECRET;

	if (host) {
		config_slot_clear(&e->host, secret);
		e->host = *slot;
	} else {
		config_slot_clear(&e->base, secret);
		e->base = *slot;
	}
}

static int
config_parse_text(struct config *cfg, const char *origin, const char *text,
    size_t len, char **errp)
{
	struct config_parse cp;
	size_t i;
	int r, secret;

	memset(&cp, 0, sizeof cp);
	cp.cfg = cfg;
	cp.origin = origin;
	cp.p = text;
	cp.end = text + len;
	r = ini_parse_stream(config_reader, &cp, config_handler, &cp);
	/* inih returns the first line it could not parse, if any. */
	if (r > 0 && (cp.err == NULL || r < cp.err_line)) {
		free(cp.err);
		xasprintf(&cp.err, "%s:%d: syntax error", origin, r);
	} else if (r < 0 && cp.err == NULL)
		xasprintf(&cp.err, "%s: cannot parse (error %d)", origin, r);

	for (i = 0; i < cp.npending; i++) {
		if (cp.err == NULL) {
			config_commit(cfg, cp.pending[i].key,
			    cp.pending[i].host, &cp.pending[i].slot);
		} else {
			secret = config_defs[cp.pending[i].key].type ==
			    CONFIG_SECRET;
			config_slot_clear(&cp.pending[i].slot, secret);
		}
	}
	free(cp.pending);
	free(cp.warned_section);
	if (cp.err != NULL) {
		*errp = cp.err;
		return (-1);
	}
	return (0);
}

struct config *
config_new(const char *short_hostname)
{
	struct config *cfg;
	struct config_slot *slot;
	enum config_key k;
	char *why = NULL, *p;

	cfg = xcalloc(1, sizeof *cfg);
	cfg->host = xstrdup(short_hostname != NULL ? short_hostname : "");
	for (p = cfg->host; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	for (k = 0; k < CK__COUNT; k++) {
		slot = &cfg->entries[k].base;
		slot->text = xstrdup(config_defs[k].dflt);
		/* A default that does not pass its own check is a bug. */
		if (config_check(k, slot->text, 0, slot, &why) != 0) {
			fprintf(stderr, "config: default of %s.%s: %s\n",
			    config_defs[k].section, config_defs[k].name, why);
			abort();
		}
	}
	return (cfg);
}

void
config_free(struct config *cfg)
{
	enum config_key k;
	size_t i;
	int secret;

	if (cfg == NULL)
		return;
	for (k = 0; k < CK__COUNT; k++) {
		secret = config_defs[k].type == CONFIG_SECRET;
		config_slot_clear(&cfg->entries[k].base, secret);
		config_slot_clear(&cfg->entries[k].host, secret);
	}
	for (i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	for (i = 0; i < cfg->nwarnings; i++)
		free(cfg->warnings[i]);
	free(cfg->warnings);
	free(cfg->host);
	free(cfg);
}

int
config_load_file(struct config *cfg, const char *path, int optional,
    char **errp)
{
	FILE *f;
	char *buf = NULL, *nul;
	size_t len = 0, n, line;
	int r = -1;

	*errp = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		if (optional && (errno == ENOENT || errno == ENOTDIR))
			return (0);
		xasprintf(errp, "%s: %s", path, strerror(errno));
		return (-1);
	}
	buf = xmalloc(CONFIG_MAX_FILE + 1);
	while ((n = fread(buf + len, 1, CONFIG_MAX_FILE + 1 - len, f)) > 0) {
		len += n;
		if (len > CONFIG_MAX_FILE)
			break;
	}
	if (ferror(f)) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (len > CONFIG_MAX_FILE) {
		xasprintf(errp, "%s: larger than %d bytes", path,
		    CONFIG_MAX_FILE);
		goto out;
	}
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		for (line = 1, n = 0; buf + n < nul; n++)
			line += buf[n] == '\n';
		xasprintf(errp, "%s:%zu: NUL byte (not a text file)", path,
		    line);
		goto out;
	}
	buf[len] = '\0';
	if ((r = config_parse_text(cfg, path, buf, len, errp)) == 0) {
		cfg->files = xreallocarray(cfg->files, cfg->nfiles + 1,
		    sizeof *cfg->files);
		cfg->files[cfg->nfiles++] = xstrdup(path);
	}
out:
	/* The file may hold secrets. */
	explicit_bzero(buf, len);
	free(buf);
	fclose(f);
	return (r);
}

int
config_load_string(struct config *cfg, const char *origin, const char *text,
    char **errp)
{
	*errp = NULL;
	return (config_parse_text(cfg, origin, text, strlen(text), errp));
}

int
config_set_option(struct config *cfg, const char *assignment, char **errp)
{
	struct config_slot slot;
	enum config_key key;
	const char *eq;
	char *section = NULL, *name, *value, *why = NULL, *q, *p;
	int host, other, r = -1;
	size_t n;

	*errp = NULL;
	if ((eq = strchr(assignment, '=')) == NULL)
		goto usage;
	/* The left side, trimmed: "section.key" or "section.key.host". */
	while (isspace((unsigned char)*assignment))
		assignment++;
	for (n = eq - assignment; n > 0; n--) {
		if (!isspace((unsigned char)assignment[n - 1]))
			break;
	}
	section = xstrndup(assignment, n);
	if ((name = strchr(section, '.')) == NULL || name == section ||
	    name[1] == '\0')
		goto usage;
	*name++ = '\0';
	for (p = name; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	/* The value, trimmed as inih trims values in files. */
	for (eq++; isspace((unsigned char)*eq); eq++)
		;
	for (n = strlen(eq); n > 0; n--) {
		if (!isspace((unsigned char)eq[n - 1]))
			break;
	}
	value = xstrndup(eq, n);

	if (!config_section_known(section)) {
		q = config_quote(section);
		xasprintf(errp, "-o: unknown section [%s]", q);
		free(q);
	} else if (config_resolve(cfg, section, name, &key, &host, &other) !=
	    0) {
		q = config_quote(name);
		xasprintf(errp, "-o: unknown key '%s' in section [%s]", q,
		    section);
		free(q);
	} else {
		memset(&slot, 0, sizeof slot);
		if (config_check(key, value, host, &slot, &why) != 0) {
			q = config_quote(name);
			xasprintf(errp, "-o: [%s] %s: %s", section, q, why);
			free(q);
			free(why);
		} else {
			r = 0;
			if (!other) {
				slot.text = value;
				value = NULL;
				slot.origin = xstrdup("-o");
				config_commit(cfg, key, host, &slot);
				/* See the top of the file. */
				if (!host) {
					config_slot_clear(
					    &cfg->entries[key].host,
					    config_defs[key].type ==
						CONFIG_SECRET);
				}
			}
		}
	}
	if (value != NULL)
		freezero_str(value);
	free(section);
	return (r);

usage:
	free(section);
	q = config_quote(assignment);
	xasprintf(errp, "-o '%s': expected SECTION.KEY=VALUE", q);
	free(q);
	return (-1);
}

int
config_load_standard(struct config *cfg, const char *home, const char *env_file,
    char **errp)
{
	char *path;
	int r;

	if (config_load_file(cfg, "/etc/rhubarb/rhubarb.conf", 1, errp) != 0)
		return (-1);
	if (home != NULL && *home != '\0') {
		xasprintf(&path, "%s/.rhubarb.conf", home);
		r = config_load_file(cfg, path, 1, errp);
		free(path);
		if (r != 0)
			return (-1);
	}
	if (config_load_file(cfg, "./rhubarb.conf", 1, errp) != 0)
		return (-1);
	if (env_file != NULL && *env_file != '\0')
		return (config_load_file(cfg, env_file, 0, errp));
	return (0);
}

size_t
config_file_count(const struct config *cfg)
{
	return (cfg->nfiles);
}

const char *
config_file(const struct config *cfg, size_t i)
{
	assert(i < cfg->nfiles);
	return (cfg->files[i]);
}

size_t
config_warning_count(const struct config *cfg)
{
	return (cfg->nwarnings);
}

const char *
config_warning(const struct config *cfg, size_t i)
{
	assert(i < cfg->nwarnings);
	return (cfg->warnings[i]);
}

/* rhubarbe's rule: the host value if present and non-empty. */
static const struct config_slot *
config_effective(const struct config *cfg, enum config_key key)
{
	const struct config_entry *e;

	assert(key < CK__COUNT);
	e = &cfg->entries[key];
	if (e->host.text != NULL && *e->host.text != '\0')
		return (&e->host);
	return (&e->base);
}

const char *
config_str(const struct config *cfg, enum config_key key)
{
	assert(key < CK__COUNT);
	assert(config_defs[key].type != CONFIG_INT &&
	    config_defs[key].type != CONFIG_DOUBLE);
	return (config_effective(cfg, key)->text);
}

const char *
config_text(const struct config *cfg, enum config_key key)
{
	return (config_effective(cfg, key)->text);
}

long long
config_int(const struct config *cfg, enum config_key key)
{
	assert(key < CK__COUNT);
	assert(config_defs[key].type == CONFIG_INT);
	return (config_effective(cfg, key)->ival);
}

double
config_double(const struct config *cfg, enum config_key key)
{
	assert(key < CK__COUNT);
	assert(config_defs[key].type == CONFIG_DOUBLE ||
	    config_defs[key].type == CONFIG_INT);
	return (config_effective(cfg, key)->dval);
}

int
config_port_base(const struct config *cfg, enum config_key key)
{
	assert(key < CK__COUNT);
	assert(config_defs[key].type == CONFIG_PORT_PATTERN);
	return ((int)config_effective(cfg, key)->ival);
}

const char *
config_origin(const struct config *cfg, enum config_key key)
{
	const struct config_slot *slot = config_effective(cfg, key);

	return (slot->origin != NULL ? slot->origin : "default");
}

const char *
config_key_section(enum config_key key)
{
	assert(key < CK__COUNT);
	return (config_defs[key].section);
}

const char *
config_key_name(enum config_key key)
{
	assert(key < CK__COUNT);
	return (config_defs[key].name);
}

enum config_type
config_key_type(enum config_key key)
{
	assert(key < CK__COUNT);
	return (config_defs[key].type);
}

const char *
config_key_default(enum config_key key)
{
	assert(key < CK__COUNT);
	return (config_defs[key].dflt);
}

const char *
config_key_help(enum config_key key)
{
	assert(key < CK__COUNT);
	return (config_defs[key].help);
}

/* Sections are case-sensitive, keys are not (configparser lower-cases). */
enum config_key
config_key_lookup(const char *section, const char *name)
{
	enum config_key k;

	for (k = 0; k < CK__COUNT; k++) {
		if (strcmp(config_defs[k].section, section) == 0 &&
		    strcasecmp(config_defs[k].name, name) == 0)
			return (k);
	}
	return (CK__COUNT);
}

static int
config_section_known(const char *section)
{
	enum config_key k;

	for (k = 0; k < CK__COUNT; k++) {
		if (strcmp(config_defs[k].section, section) == 0)
			return (1);
	}
	return (0);
}
