/*
 * Inventory loader. Two forms are read:
 *
 *   - rhubarbe's list: [ {"cmc": IFACE, "control": IFACE, "data": IFACE}, ...]
 *     where IFACE is {"hostname", "ip", "mac"};
 *   - rhubarb's object: {"nodes": [NODE...], "pdus": [PDU...]} where a NODE
 *     may also carry "ipmi", "pdu" (outlets), "power" (preferred back end),
 *     "ports" and "groups".
 *
 * Everything is checked here, once, so that the rest of the program can
 * trust a loaded inventory: names, addresses and MACs are well formed and
 * unique, referenced PDUs exist, numbers are unambiguous. Unknown keys are
 * errors: a misspelt "impi" must not silently leave a node without power.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "inventory/groups.h"
#include "inventory/inventory.h"

/* Largest inventory accepted; well above any site, far below memory. */
#define INV_MAX_NODES 100000
/* Longest error message; the file's text beyond it is cut. */
#define INV_MAX_MESSAGE 400

struct inv_parse {
	const char *origin;
	char *err;
	const char *where; /* "node 3 (fit03)" context */
	char wherebuf[300];
};

/* Sorted (name, node) pairs for inventory_find. */
struct inv_name {
	const char *name;
	size_t node;
};

struct inv_private {
	struct inventory pub;
	struct inv_name *names;
	size_t nnames;
};

/*
 * Messages quote the file's own text (keys, names), which may hold any
 * byte: keep them on one line and of bounded length.
 */
static void
inv_sanitise(char *msg)
{
	char *p;

	for (p = msg; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	if (p - msg > INV_MAX_MESSAGE)
		strlcpy(msg + INV_MAX_MESSAGE - 3, "...", 4);
}

static int inv_fail(struct inv_parse *, const char *, ...) printflike(2, 3);

static int
inv_fail(struct inv_parse *p, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (p->err != NULL)
		return (-1);
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (p->where != NULL)
		xasprintf(&p->err, "%s: %s: %s", p->origin, p->where, msg);
	else
		xasprintf(&p->err, "%s: %s", p->origin, msg);
	free(msg);
	inv_sanitise(p->err);
	return (-1);
}

/* Only keys in allowed (NULL-terminated) may appear in obj. */
static int
inv_check_keys(struct inv_parse *p, json_t *obj, const char *what,
    const char *const *allowed)
{
	const char *key;
	const char *const *a;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		for (a = allowed; *a != NULL; a++) {
			if (strcmp(*a, key) == 0)
				break;
		}
		if (*a == NULL)
			return (inv_fail(p, "%s: unknown key '%s'", what, key));
	}
	return (0);
}

static int
inv_hostname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || *s == '-' || *s == '.')
		return (0);
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' &&
		    *s != '_')
			return (0);
	}
	return (1);
}

/* Normalise "AA-BB-cc:dd:ee:FF" to "aa:bb:cc:dd:ee:ff"; NULL if malformed. */
static char *
inv_mac_normalise(const char *s)
{
	char out[18];
	int i;

	if (strlen(s) != 17)
		return (NULL);
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':' && s[i] != '-')
				return (NULL);
			out[i] = ':';
		} else {
			if (!isxdigit((unsigned char)s[i]))
				return (NULL);
			out[i] = (char)tolower((unsigned char)s[i]);
		}
	}
	out[17] = '\0';
	return (xstrdup(out));
}

static const char *
inv_get_string(struct inv_parse *p, json_t *obj, const char *what,
    const char *key, int required)
{
	json_t *v;

	if ((v = json_object_get(obj, key)) == NULL) {
		if (required)
			inv_fail(p, "%s: missing '%s'", what, key);
		return (NULL);
	}
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		inv_fail(p, "%s: '%s' must be a non-empty string", what, key);
		return (NULL);
	}
	return (json_string_value(v));
}

/* An integer in [lo, hi], or dflt if absent. -1 on error. */
static int
inv_get_int(struct inv_parse *p, json_t *obj, const char *what, const char *key,
    long lo, long hi, long dflt, long *out)
{
	json_t *v;
	json_int_t n;

	if ((v = json_object_get(obj, key)) == NULL) {
		*out = dflt;
		return (0);
	}
	if (!json_is_integer(v))
		return (inv_fail(p, "%s: '%s' must be an integer", what, key));
	n = json_integer_value(v);
	if (n < lo || n > hi)
		return (inv_fail(p, "%s: '%s' %lld out of range %ld-%ld", what,
		    key, (long long)n, lo, hi));
	*out = (long)n;
	return (0);
}

/*
 * Read an interface. hostname and ip are required; mac is required when
 * need_mac, optional otherwise.
 */
static int
inv_iface_parse(struct inv_parse *p, json_t *obj, const char *what,
    int need_mac, struct inv_iface *ifc)
{
	static const char *const keys[] = {"hostname", "ip", "mac", NULL};
	const char *hostname, *ip, *mac;
	struct in_addr addr;

	if (!json_is_object(obj))
		return (inv_fail(p, "%s: must be an object", what));
	if (inv_check_keys(p, obj, what, keys) != 0)
		return (-1);
	if ((hostname = inv_get_string(p, obj, what, "hostname", 1)) == NULL ||
	    (ip = inv_get_string(p, obj, what, "ip", 1)) == NULL)
		return (-1);
	mac = inv_get_string(p, obj, what, "mac", need_mac);
	if (p->err != NULL)
		return (-1);
	if (!inv_hostname_ok(hostname))
		return (
		    inv_fail(p, "%s: malformed hostname '%s'", what, hostname));
	if (inet_pton(AF_INET, ip, &addr) != 1)
		return (inv_fail(p, "%s: malformed ip '%s'", what, ip));
	ifc->hostname = xstrdup(hostname);
	ifc->ip = xstrdup(ip);
	if (mac != NULL && (ifc->mac = inv_mac_normalise(mac)) == NULL)
		return (inv_fail(p, "%s: malformed mac '%s'", what, mac));
	return (0);
}

static int
inv_ipmi_parse(struct inv_parse *p, json_t *obj, struct inv_ipmi **out)
{
	static const char *const keys[] = {"host", "port", "user",
	    "password_file", "cipher", "privilege", NULL};
	struct inv_ipmi *ipmi;
	const char *s;
	long n;

	if (!json_is_object(obj))
		return (inv_fail(p, "ipmi: must be an object"));
	if (inv_check_keys(p, obj, "ipmi", keys) != 0)
		return (-1);
	ipmi = *out = xcalloc(1, sizeof *ipmi);
	if ((s = inv_get_string(p, obj, "ipmi", "host", 1)) == NULL)
		return (-1);
	if (!inv_hostname_ok(s))
		return (inv_fail(p, "ipmi: malformed host '%s'", s));
	ipmi->host = xstrdup(s);
	if (inv_get_int(p, obj, "ipmi", "port", 1, 65535, INV_DEFAULT_IPMI_PORT,
		&n) != 0)
		return (-1);
	ipmi->port = (int)n;
	/* The IPMI user may be empty (anonymous login). */
	if (json_object_get(obj, "user") != NULL) {
		if (!json_is_string(json_object_get(obj, "user")))
			return (inv_fail(p, "ipmi: 'user' must be a string"));
		ipmi->user =
		    xstrdup(json_string_value(json_object_get(obj, "user")));
	} else
		ipmi->user = xstrdup("");
	if ((s = inv_get_string(p, obj, "ipmi", "password_file", 0)) != NULL)
		ipmi->password_file = xstrdup(s);
	if (p->err != NULL)
		return (-1);
	/* Cipher suites 0..17 are defined by IPMI 2.0 and its errata. */
	if (inv_get_int(p, obj, "ipmi", "cipher", 0, 17, 3, &n) != 0)
		return (-1);
	ipmi->cipher = (int)n;
	s = inv_get_string(p, obj, "ipmi", "privilege", 0);
	if (p->err != NULL)
		return (-1);
	if (s == NULL)
		s = "admin";
	if (strcmp(s, "user") != 0 && strcmp(s, "operator") != 0 &&
	    strcmp(s, "admin") != 0)
		return (inv_fail(p,
		    "ipmi: privilege '%s' is not user, operator or admin", s));
	ipmi->privilege = xstrdup(s);
	return (0);
}

static int
inv_pdus_parse(struct inv_parse *p, json_t *arr, struct inventory *inv)
{
	static const char *const keys[] = {"name", "type", "host", "port",
	    "read_community", "write_community", NULL};
	struct inv_pdu *pdu;
	const char *s;
	json_t *obj;
	size_t i, j;
	long n;

	if (!json_is_array(arr))
		return (inv_fail(p, "'pdus' must be a list"));
	inv->pdus = xcalloc(json_array_size(arr), sizeof *inv->pdus);
	json_array_foreach(arr, i, obj)
	{
		snprintf(p->wherebuf, sizeof p->wherebuf, "pdu %zu", i + 1);
		p->where = p->wherebuf;
		if (!json_is_object(obj))
			return (inv_fail(p, "must be an object"));
		if (inv_check_keys(p, obj, "pdu", keys) != 0)
			return (-1);
		pdu = &inv->pdus[inv->npdus++];
		if ((s = inv_get_string(p, obj, "pdu", "name", 1)) == NULL)
			return (-1);
		pdu->name = xstrdup(s);
		snprintf(p->wherebuf, sizeof p->wherebuf, "pdu %zu (%s)", i + 1,
		    s);
		for (j = 0; j + 1 < inv->npdus; j++) {
			if (strcmp(inv->pdus[j].name, s) == 0)
				return (inv_fail(p, "duplicate pdu name"));
		}
		if ((s = inv_get_string(p, obj, "pdu", "type", 0)) == NULL &&
		    p->err != NULL)
			return (-1);
		if (s == NULL)
			s = "sentry3";
		if (strcmp(s, "sentry3") != 0)
			return (inv_fail(p,
			    "unknown pdu type '%s' (known: sentry3)", s));
		pdu->type = xstrdup(s);
		if ((s = inv_get_string(p, obj, "pdu", "host", 1)) == NULL)
			return (-1);
		if (!inv_hostname_ok(s))
			return (inv_fail(p, "malformed host '%s'", s));
		pdu->host = xstrdup(s);
		if (inv_get_int(p, obj, "pdu", "port", 1, 65535,
			INV_DEFAULT_SNMP_PORT, &n) != 0)
			return (-1);
		pdu->port = (int)n;
		s = inv_get_string(p, obj, "pdu", "read_community", 0);
		pdu->read_community = xstrdup(s != NULL ? s : "public");
		s = inv_get_string(p, obj, "pdu", "write_community", 0);
		pdu->write_community = xstrdup(s != NULL ? s : "private");
		if (p->err != NULL)
			return (-1);
	}
	p->where = NULL;
	return (0);
}

static int
inv_outlets_parse(struct inv_parse *p, json_t *arr, struct inventory *inv,
    struct inv_node *node)
{
	static const char *const keys[] = {"pdu", "outlet", NULL};
	const char *name;
	json_t *obj;
	size_t i, j;
	long n;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return (inv_fail(p,
		    "'pdu' must be a non-empty list of "
		    "{\"pdu\": NAME, \"outlet\": N}"));
	node->outlets = xcalloc(json_array_size(arr), sizeof *node->outlets);
	json_array_foreach(arr, i, obj)
	{
		if (!json_is_object(obj))
			return (inv_fail(p, "pdu outlet %zu: must be an object",
			    i + 1));
		if (inv_check_keys(p, obj, "pdu outlet", keys) != 0)
			return (-1);
		if ((name = inv_get_string(p, obj, "pdu outlet", "pdu", 1)) ==
		    NULL)
			return (-1);
		for (j = 0; j < inv->npdus; j++) {
			if (strcmp(inv->pdus[j].name, name) == 0)
				break;
		}
		if (j == inv->npdus)
			return (inv_fail(p, "unknown pdu '%s'", name));
		if (json_object_get(obj, "outlet") == NULL)
			return (inv_fail(p, "pdu outlet: missing 'outlet'"));
		if (inv_get_int(p, obj, "pdu outlet", "outlet", 1, 4096, 0,
			&n) != 0)
			return (-1);
		node->outlets[i].pdu = j;
		node->outlets[i].outlet = (int)n;
		for (j = 0; j < i; j++) {
			if (node->outlets[j].pdu == node->outlets[i].pdu &&
			    node->outlets[j].outlet == node->outlets[i].outlet)
				return (inv_fail(p,
				    "outlet %s:%ld listed twice", name, n));
		}
		node->noutlets++;
	}
	return (0);
}

static int
inv_node_parse(struct inv_parse *p, json_t *obj, int extended,
    struct inventory *inv, struct inv_node *node)
{
	static const char *const list_keys[] = {"cmc", "control", "data", NULL};
	static const char *const ext_keys[] = {"cmc", "control", "data", "ipmi",
	    "pdu", "power", "ports", "groups", NULL};
	static const char *const port_keys[] = {"cmc", "telnet", "ssh", NULL};
	json_t *v, *g;
	const char *s;
	size_t i;
	long n;

	if (!json_is_object(obj))
		return (inv_fail(p, "must be an object"));
	/* The name first, so that every later message carries it. */
	if ((v = json_object_get(obj, "control")) == NULL)
		return (inv_fail(p, "missing 'control'"));
	s = json_string_value(json_object_get(v, "hostname"));
	if (s != NULL && inv_hostname_ok(s)) {
		snprintf(p->wherebuf, sizeof p->wherebuf, "%s (%s)", p->where,
		    s);
		p->where = p->wherebuf;
	}
	if (inv_iface_parse(p, v, "control", 1, &node->control) != 0)
		return (-1);
	node->name = xstrdup(node->control.hostname);
	if (inv_check_keys(p, obj, "node", extended ? ext_keys : list_keys) !=
	    0)
		return (-1);

	/* rhubarbe's list form always has a CMC; ours may not. */
	if ((v = json_object_get(obj, "cmc")) != NULL) {
		if (inv_iface_parse(p, v, "cmc", 0, &node->cmc) != 0)
			return (-1);
	} else if (!extended)
		return (inv_fail(p, "missing 'cmc'"));
	if ((v = json_object_get(obj, "data")) != NULL &&
	    inv_iface_parse(p, v, "data", 0, &node->data) != 0)
		return (-1);

	node->cmc_port = INV_DEFAULT_CMC_PORT;
	node->telnet_port = INV_DEFAULT_TELNET_PORT;
	node->ssh_port = INV_DEFAULT_SSH_PORT;
	if ((v = json_object_get(obj, "ports")) != NULL) {
		if (!json_is_object(v))
			return (inv_fail(p, "'ports' must be an object"));
		if (inv_check_keys(p, v, "ports", port_keys) != 0)
			return (-1);
		if (inv_get_int(p, v, "ports", "cmc", 1, 65535,
			INV_DEFAULT_CMC_PORT, &n) != 0)
			return (-1);
		node->cmc_port = (int)n;
		if (inv_get_int(p, v, "ports", "telnet", 1, 65535,
			INV_DEFAULT_TELNET_PORT, &n) != 0)
			return (-1);
		node->telnet_port = (int)n;
		if (inv_get_int(p, v, "ports", "ssh", 1, 65535,
			INV_DEFAULT_SSH_PORT, &n) != 0)
			return (-1);
		node->ssh_port = (int)n;
	}

	if ((v = json_object_get(obj, "ipmi")) != NULL &&
	    inv_ipmi_parse(p, v, &node->ipmi) != 0)
		return (-1);
	if ((v = json_object_get(obj, "pdu")) != NULL &&
	    inv_outlets_parse(p, v, inv, node) != 0)
		return (-1);

	if (json_object_get(obj, "power") != NULL) {
		if ((s = inv_get_string(p, obj, "node", "power", 1)) == NULL)
			return (-1);
		if (strcmp(s, "cmc") == 0 && node->cmc.hostname != NULL)
			node->power = INV_POWER_CMC;
		else if (strcmp(s, "ipmi") == 0 && node->ipmi != NULL)
			node->power = INV_POWER_IPMI;
		else if (strcmp(s, "pdu") == 0 && node->noutlets > 0)
			node->power = INV_POWER_PDU;
		else if (strcmp(s, "cmc") == 0 || strcmp(s, "ipmi") == 0 ||
		    strcmp(s, "pdu") == 0)
			return (inv_fail(p,
			    "power '%s' chosen but no '%s' given", s, s));
		else
			return (inv_fail(p,
			    "power '%s' is not cmc, ipmi or pdu", s));
	} else if (node->cmc.hostname != NULL)
		node->power = INV_POWER_CMC;
	else if (node->ipmi != NULL)
		node->power = INV_POWER_IPMI;
	else if (node->noutlets > 0)
		node->power = INV_POWER_PDU;
	else
		node->power = INV_POWER_NONE;

	if ((v = json_object_get(obj, "groups")) != NULL) {
		if (!json_is_array(v))
			return (inv_fail(p, "'groups' must be a list"));
		node->groups =
		    xcalloc(json_array_size(v) + 1, sizeof *node->groups);
		json_array_foreach(v, i, g)
		{
			if (!json_is_string(g) ||
			    !groups_name_ok(json_string_value(g)))
				return (inv_fail(p,
				    "group %zu: malformed "
				    "name (letters, digits, _ . -)",
				    i + 1));
			node->groups[node->ngroups++] =
			    xstrdup(json_string_value(g));
		}
	}
	return (0);
}

/* Split a name into its stem and the value of its trailing digits. */
static long
inv_name_number(const char *name, size_t *stemlen)
{
	size_t n = strlen(name), i = n;
	long v = 0;

	while (i > 0 && isdigit((unsigned char)name[i - 1]))
		i--;
	*stemlen = i;
	if (i == n || n - i > 9)
		return (-1);
	for (; i < n; i++)
		v = v * 10 + (name[i] - '0');
	return (v);
}

/* Natural order: stem, then number, then the whole name. */
static int
inv_node_cmp(const void *a, const void *b)
{
	const struct inv_node *na = a, *nb = b;
	size_t la, lb;
	int c;

	inv_name_number(na->name, &la);
	inv_name_number(nb->name, &lb);
	if ((c = strncmp(na->name, nb->name, la < lb ? la : lb)) != 0)
		return (c);
	if (la != lb)
		return (la < lb ? -1 : 1);
	if (na->number != nb->number)
		return (na->number < nb->number ? -1 : 1);
	return (strcmp(na->name, nb->name));
}

static int
inv_name_cmp(const void *a, const void *b)
{
	const struct inv_name *na = a, *nb = b;

	return (strcmp(na->name, nb->name));
}

static int
inv_str_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * Check uniqueness of one kind of value across all nodes: collect, sort,
 * and report the first pair that is equal.
 */
static int
inv_check_unique(struct inv_parse *p, struct inventory *inv, const char *what,
    int kind)
{
	struct inv_name *all;
	size_t i, n = 0;
	int r = 0;

	all = xcalloc(inv->nnodes * 3, sizeof *all);
	for (i = 0; i < inv->nnodes; i++) {
		struct inv_iface *ifs[3] = {&inv->nodes[i].control,
		    &inv->nodes[i].cmc, &inv->nodes[i].data};
		for (int k = 0; k < 3; k++) {
			const char *s = kind == 0 ? ifs[k]->hostname
			    : kind == 1           ? ifs[k]->ip
						  : ifs[k]->mac;
			if (s == NULL)
				continue;
			all[n].name = s;
			all[n++].node = i;
		}
	}
	qsort(all, n, sizeof *all, inv_name_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(all[i - 1].name, all[i].name) != 0)
			continue;
		p->where = NULL;
		if (all[i - 1].node == all[i].node)
			r = inv_fail(p, "%s: %s '%s' used twice",
			    inv->nodes[all[i].node].name, what, all[i].name);
		else
			r = inv_fail(p, "duplicate %s '%s' (%s and %s)", what,
			    all[i].name, inv->nodes[all[i - 1].node].name,
			    inv->nodes[all[i].node].name);
		break;
	}
	free(all);
	return (r);
}

static int
inv_validate(struct inv_parse *p, struct inv_private *priv)
{
	struct inventory *inv = &priv->pub;
	size_t i, j, la, lb;

	if (inv_check_unique(p, inv, "hostname", 0) != 0 ||
	    inv_check_unique(p, inv, "ip", 1) != 0 ||
	    inv_check_unique(p, inv, "mac", 2) != 0)
		return (-1);
	for (i = 0; i < inv->nnodes; i++)
		inv->nodes[i].number = inv_name_number(inv->nodes[i].name, &la);
	qsort(inv->nodes, inv->nnodes, sizeof *inv->nodes, inv_node_cmp);
	/* fit1 and fit01 would both be node 1. */
	for (i = 1; i < inv->nnodes; i++) {
		struct inv_node *a = &inv->nodes[i - 1], *b = &inv->nodes[i];

		if (a->number < 0 || a->number != b->number)
			continue;
		inv_name_number(a->name, &la);
		inv_name_number(b->name, &lb);
		if (la == lb && strncmp(a->name, b->name, la) == 0)
			return (inv_fail(p, "%s and %s have the same number",
			    a->name, b->name));
	}
	priv->names = xcalloc(inv->nnodes * 3, sizeof *priv->names);
	for (i = 0; i < inv->nnodes; i++) {
		const char *names[3] = {inv->nodes[i].control.hostname,
		    inv->nodes[i].cmc.hostname, inv->nodes[i].data.hostname};
		for (j = 0; j < 3; j++) {
			if (names[j] == NULL)
				continue;
			priv->names[priv->nnames].name = names[j];
			priv->names[priv->nnames++].node = i;
		}
	}
	qsort(priv->names, priv->nnames, sizeof *priv->names, inv_name_cmp);
	for (i = 0; i < inv->nnodes; i++) {
		if (inv->nodes[i].ngroups > 1)
			qsort(inv->nodes[i].groups, inv->nodes[i].ngroups,
			    sizeof *inv->nodes[i].groups, inv_str_cmp);
	}
	return (0);
}

struct inventory *
inventory_parse(const char *text, size_t len, const char *origin, char **errp)
{
	struct inv_parse p;
	struct inv_private *priv;
	struct inventory *inv;
	json_error_t jerr;
	json_t *root, *nodes, *v;
	size_t i;
	int extended;

	memset(&p, 0, sizeof p);
	p.origin = origin;
	*errp = NULL;
	priv = xcalloc(1, sizeof *priv);
	inv = &priv->pub;
	inv->path = xstrdup(origin);

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (root == NULL) {
		xasprintf(&p.err, "%s:%d:%d: %s", origin, jerr.line,
		    jerr.column, jerr.text);
		inv_sanitise(p.err);
		goto fail;
	}
	if (json_is_array(root)) {
		extended = 0;
		nodes = root;
	} else if (json_is_object(root)) {
		static const char *const keys[] = {"nodes", "pdus", NULL};

		extended = 1;
		if (inv_check_keys(&p, root, "inventory", keys) != 0)
			goto fail;
		if ((nodes = json_object_get(root, "nodes")) == NULL ||
		    !json_is_array(nodes)) {
			inv_fail(&p, "'nodes' must be a list");
			goto fail;
		}
		if ((v = json_object_get(root, "pdus")) != NULL &&
		    inv_pdus_parse(&p, v, inv) != 0)
			goto fail;
	} else {
		inv_fail(&p,
		    "expected a list of nodes or an object with "
		    "\"nodes\"");
		goto fail;
	}
	if (json_array_size(nodes) > INV_MAX_NODES) {
		inv_fail(&p, "more than %d nodes", INV_MAX_NODES);
		goto fail;
	}
	inv->nodes = xcalloc(json_array_size(nodes), sizeof *inv->nodes);
	json_array_foreach(nodes, i, v)
	{
		char where[32];

		snprintf(where, sizeof where, "node %zu", i + 1);
		p.where = where;
		/* Counted first so that a half-built node is freed too. */
		inv->nnodes++;
		if (inv_node_parse(&p, v, extended, inv, &inv->nodes[i]) != 0)
			goto fail;
	}
	p.where = NULL;
	if (inv_validate(&p, priv) != 0)
		goto fail;
	json_decref(root);
	return (inv);

fail:
	json_decref(root);
	inventory_free(inv);
	*errp = p.err;
	return (NULL);
}

struct inventory *
inventory_load(const char *path, char **errp)
{
	struct inventory *inv;
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	*errp = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(errp, "%s: cannot read inventory: %s", path,
		    strerror(errno));
		return (NULL);
	}
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap * 2 + 65536;
			buf = xreallocarray(buf, 1, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		xasprintf(errp, "%s: cannot read inventory: %s", path,
		    strerror(errno));
		fclose(f);
		free(buf);
		return (NULL);
	}
	fclose(f);
	inv = inventory_parse(buf, len, path, errp);
	free(buf);
	return (inv);
}

static void
inv_iface_free(struct inv_iface *ifc)
{
	free(ifc->hostname);
	free(ifc->ip);
	free(ifc->mac);
}

void
inventory_free(struct inventory *inv)
{
	struct inv_private *priv = (struct inv_private *)inv;
	struct inv_node *node;
	size_t i, j;

	if (inv == NULL)
		return;
	for (i = 0; i < inv->nnodes; i++) {
		node = &inv->nodes[i];
		free(node->name);
		inv_iface_free(&node->control);
		inv_iface_free(&node->cmc);
		inv_iface_free(&node->data);
		if (node->ipmi != NULL) {
			free(node->ipmi->host);
			free(node->ipmi->user);
			free(node->ipmi->password_file);
			free(node->ipmi->privilege);
			free(node->ipmi);
		}
		free(node->outlets);
		for (j = 0; j < node->ngroups; j++)
			free(node->groups[j]);
		free(node->groups);
	}
	free(inv->nodes);
	for (i = 0; i < inv->npdus; i++) {
		free(inv->pdus[i].name);
		free(inv->pdus[i].type);
		free(inv->pdus[i].host);
		free(inv->pdus[i].read_community);
		free(inv->pdus[i].write_community);
	}
	free(inv->pdus);
	free(inv->path);
	free(priv->names);
	free(priv);
}

const struct inv_node *
inventory_find(const struct inventory *inv, const char *hostname)
{
	const struct inv_private *priv = (const struct inv_private *)inv;
	struct inv_name key, *found;

	if (priv->nnames == 0)
		return (NULL);
	key.name = hostname;
	found =
	    bsearch(&key, priv->names, priv->nnames, sizeof key, inv_name_cmp);
	return (found != NULL ? &inv->nodes[found->node] : NULL);
}

size_t
inventory_index(const struct inventory *inv, const struct inv_node *node)
{
	return ((size_t)(node - inv->nodes));
}

const char *
inv_power_kind_name(enum inv_power_kind kind)
{
	switch (kind) {
	case INV_POWER_CMC:
		return ("cmc");
	case INV_POWER_IPMI:
		return ("ipmi");
	case INV_POWER_PDU:
		return ("pdu");
	case INV_POWER_NONE:
		break;
	}
	return ("none");
}
