/*
 * The node inventory: rhubarbe's inventory-nodes.json list, read unchanged,
 * or rhubarb's extended object form that adds power back ends (CMC, IPMI,
 * PDU outlets), ports, groups and a list of PDUs. Everything is validated
 * at load; a loaded inventory is immutable and needs no further checks.
 *
 * Reads one file; no other I/O.
 */
#ifndef INVENTORY_INVENTORY_H
#define INVENTORY_INVENTORY_H

#include <stddef.h>

#define INV_DEFAULT_CMC_PORT    80
#define INV_DEFAULT_TELNET_PORT 23
#define INV_DEFAULT_SSH_PORT    22
#define INV_DEFAULT_IPMI_PORT   623
#define INV_DEFAULT_SNMP_PORT   161

/* One network interface: hostname and ip always, mac where known. */
struct inv_iface {
	char *hostname;
	char *ip;  /* dotted quad, checked */
	char *mac; /* "aa:bb:cc:dd:ee:ff" lower case, or NULL */
};

enum inv_power_kind {
	INV_POWER_NONE,
	INV_POWER_CMC,
	INV_POWER_IPMI,
	INV_POWER_PDU,
};

struct inv_ipmi {
	char *host;
	int port;
	char *user;
	char *password_file; /* a path; the secret is never in the JSON */
	int cipher;          /* cipher suite id, default 3 */
	char *privilege;     /* "user", "operator" or "admin" (default) */
};

struct inv_pdu {
	char *name;
	char *type; /* "sentry3" */
	char *host;
	int port;
	char *read_community;
	char *write_community;
};

struct inv_outlet {
	size_t pdu; /* index into inventory->pdus */
	int outlet; /* outlet number on that PDU, from 1 */
};

struct inv_node {
	char *name;  /* control hostname */
	long number; /* trailing digits of name, or -1 */
	struct inv_iface control;
	struct inv_iface cmc;  /* hostname NULL if none */
	struct inv_iface data; /* hostname NULL if none */
	int cmc_port;
	int telnet_port;
	int ssh_port;
	struct inv_ipmi *ipmi; /* NULL if none */
	struct inv_outlet *outlets;
	size_t noutlets;
	enum inv_power_kind power; /* preferred back end */
	char **groups;
	size_t ngroups;
};

struct inventory {
	char *path;             /* where it was read from */
	struct inv_node *nodes; /* sorted by number, then name */
	size_t nnodes;
	struct inv_pdu *pdus;
	size_t npdus;
};

/*
 * Load and validate. On error returns NULL with *errp set to one line
 * ("PATH: node 3 (fit03): malformed mac 'zz'"). origin names the text in
 * messages for inventory_parse.
 */
struct inventory *inventory_load(const char *path, char **errp);
struct inventory *inventory_parse(const char *text, size_t len,
    const char *origin, char **errp);
void inventory_free(struct inventory *);

/* Find a node by any of its hostnames (control, cmc, data); NULL if none. */
const struct inv_node *inventory_find(const struct inventory *,
    const char *hostname);
/* Index of a node in inventory->nodes. */
size_t inventory_index(const struct inventory *, const struct inv_node *);
const char *inv_power_kind_name(enum inv_power_kind);

#endif
