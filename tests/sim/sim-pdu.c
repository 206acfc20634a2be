/*
 * rhubarb-sim-pdu: the snmpd pass_persist handler of one simulated PDU
 * (tests/sim/DESIGN.md). pdu-up.sh configures each PDU's snmpd with
 *
 *	pass_persist .1.3.6.1.4.1.1718.3 rhubarb-sim-pdu DIR PDU
 *
 * and snmpd talks to it on stdin/stdout (snmpd.conf(5)): PING -> PONG;
 * get/getnext OID -> OID, TYPE, VALUE or NONE; set OID, "TYPE VALUE" ->
 * DONE or an error word. It serves the ServerTech Sentry3 subtree
 * systemVersion, systemTowerCount and the outletTable rows of tower 1,
 * infeed 1, outlets 1..NOUTLETS, ordered by OID so that getnext (snmpwalk)
 * visits every row once. Outlet state is not kept here: simd owns it, so
 * each status read and each control action is one request on simd's
 * control socket ("outlet PDU N get|on|off|reboot"); when simd cannot be
 * reached the outlet reads noComm. Outlet names come from nodes.conf.
 *
 * Plain stdio, one request at a time: snmpd serializes them anyway.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"

enum pdu_exit {
	PDU_EXIT_OK = 0,     /* snmpd closed our stdin */
	PDU_EXIT_CONFIG = 1, /* nodes.conf unreadable or without this PDU */
	PDU_EXIT_USAGE = 2,
};

#define PDU_LINE_MAX     512 /* longest protocol or nodes.conf line */
#define PDU_OID_MAX      128 /* sub-identifiers, as net-snmp's MAX_OID_LEN */
#define PDU_OUTLETS_MAX  64
#define PDU_NAME_MAX     32
#define PDU_SIMD_TIMEOUT 3 /* seconds for one control socket exchange */

/* Sentry3 (serverTech 1718, product 3) and the pieces of it we serve. */
static const uint32_t pdu_sentry3[] = {1, 3, 6, 1, 4, 1, 1718, 3};
#define PDU_SENTRY3_LEN nitems(pdu_sentry3)

enum pdu_column {
	PDU_COL_ID = 2,        /* outletID, "AA<n>" */
	PDU_COL_NAME = 3,      /* outletName */
	PDU_COL_CAPS = 4,      /* outletCapabilities (BITS) */
	PDU_COL_STATUS = 5,    /* outletStatus */
	PDU_COL_CTLSTATE = 10, /* outletControlState */
	PDU_COL_ACTION = 11,   /* outletControlAction: none0 on1 off2 reboot3 */
};
/* In OID order: a walk goes column by column, then outlet by outlet. */
static const uint32_t pdu_columns[] = {PDU_COL_ID, PDU_COL_NAME, PDU_COL_CAPS,
    PDU_COL_STATUS, PDU_COL_CTLSTATE, PDU_COL_ACTION};

/* outletStatus values we produce (Sentry3-MIB). */
enum pdu_status {
	PDU_ST_OFF = 0,
	PDU_ST_ON = 1,
	PDU_ST_OFFWAIT = 2,
	PDU_ST_ONWAIT = 3,
	PDU_ST_NOCOMM = 6,
};
#define PDU_ST_MAX 9 /* onFuse, the last value the MIB defines */

/* outletCapabilities: onSense(0) and powerControl(2), as a BITS octet. */
#define PDU_CAPS_HEX "A0"

#define PDU_VERSION "Sentry Switched CDU Version 6.0 (rhubarb-sim)"

struct pdu_oid {
	uint32_t v[PDU_OID_MAX];
	size_t n;
};

struct pdu {
	const char *name;
	char *sock; /* simd's control socket */
	u_int noutlets;
	char *outlet[PDU_OUTLETS_MAX + 1]; /* node names, 1-based; NULL spare */
};

static int pdu_read_line(char *, size_t);
static int pdu_oid_parse(const char *, struct pdu_oid *);
static int pdu_oid_cmp(const struct pdu_oid *, const struct pdu_oid *);
static void pdu_oid_print(const struct pdu_oid *);
static size_t pdu_nrows(const struct pdu *);
static void pdu_row_oid(const struct pdu *, size_t, struct pdu_oid *);
static int pdu_row_find(const struct pdu *, const struct pdu_oid *);
static int pdu_outlet_of(const struct pdu *, const struct pdu_oid *, uint32_t *,
    u_int *);
static int pdu_simd(const struct pdu *, const char *, char *, size_t);
static int pdu_outlet_status(const struct pdu *, u_int);
static void pdu_answer_row(const struct pdu *, size_t);
static void pdu_do_get(const struct pdu *, int);
static void pdu_do_set(const struct pdu *);
static int pdu_load(struct pdu *, const char *, char **);
static int pdu_valid_name(const char *);

/*
 * Read one line into buf without its newline. 1 when read, 0 at end of
 * input, -1 when the line was longer than buf (the rest of it is
 * discarded, so the protocol stays in step).
 */
static int
pdu_read_line(char *buf, size_t len)
{
	size_t n;
	int c;

	if (fgets(buf, (int)len, stdin) == NULL)
		return (0);
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n') {
		buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '\r')
			buf[--n] = '\0';
		return (1);
	}
	if (feof(stdin))
		return (1);
	while ((c = getchar()) != EOF && c != '\n')
		;
	return (-1);
}

/* Parse ".1.3.6..." (leading dot optional). 0, or -1 if malformed. */
static int
pdu_oid_parse(const char *s, struct pdu_oid *o)
{
	unsigned long long v;
	char *end;

	o->n = 0;
	if (*s == '.')
		s++;
	if (*s == '\0')
		return (0);
	for (;;) {
		if (*s < '0' || *s > '9' || o->n == PDU_OID_MAX)
			return (-1);
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno != 0 || v > UINT32_MAX)
			return (-1);
		o->v[o->n++] = (uint32_t)v;
		if (*end == '\0')
			return (0);
		if (*end != '.')
			return (-1);
		s = end + 1;
	}
}

/* Lexicographic order of sub-identifiers, a prefix first: SNMP's order. */
static int
pdu_oid_cmp(const struct pdu_oid *a, const struct pdu_oid *b)
{
	size_t i;

	for (i = 0; i < a->n && i < b->n; i++) {
		if (a->v[i] != b->v[i])
			return (a->v[i] < b->v[i] ? -1 : 1);
	}
	if (a->n == b->n)
		return (0);
	return (a->n < b->n ? -1 : 1);
}

static void
pdu_oid_print(const struct pdu_oid *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		printf(".%u", o->v[i]);
	putchar('\n');
}

/* Rows: systemVersion, systemTowerCount, then every column x outlet. */
static size_t
pdu_nrows(const struct pdu *p)
{
	return (2 + nitems(pdu_columns) * p->noutlets);
}

/* The OID of row r, in increasing OID order. */
static void
pdu_row_oid(const struct pdu *p, size_t r, struct pdu_oid *o)
{
	memcpy(o->v, pdu_sentry3, sizeof pdu_sentry3);
	o->n = PDU_SENTRY3_LEN;
	if (r < 2) {
		/* systemGroup .1: systemVersion .1.0, systemTowerCount .4.0 */
		o->v[o->n++] = 1;
		o->v[o->n++] = r == 0 ? 1 : 4;
		o->v[o->n++] = 0;
		return;
	}
	r -= 2;
	/* outletEntry .2.3.1, then column, tower 1, infeed 1, outlet */
	o->v[o->n++] = 2;
	o->v[o->n++] = 3;
	o->v[o->n++] = 1;
	o->v[o->n++] = pdu_columns[r / p->noutlets];
	o->v[o->n++] = 1;
	o->v[o->n++] = 1;
	o->v[o->n++] = (uint32_t)(r % p->noutlets + 1);
}

/*
 * The row of o: its index if o is a row, else -(index of the first row
 * after o) - 1 (-(nrows) - 1 when none follows).
 */
static int
pdu_row_find(const struct pdu *p, const struct pdu_oid *o)
{
	struct pdu_oid row;
	size_t r;
	int c;

	for (r = 0; r < pdu_nrows(p); r++) {
		pdu_row_oid(p, r, &row);
		if ((c = pdu_oid_cmp(o, &row)) == 0)
			return ((int)r);
		if (c < 0)
			return (-(int)r - 1);
	}
	return (-(int)pdu_nrows(p) - 1);
}

/*
 * If o names an outletTable cell of an outlet that exists, its column and
 * outlet. 0, or -1.
 */
static int
pdu_outlet_of(const struct pdu *p, const struct pdu_oid *o, uint32_t *col,
    u_int *outlet)
{
	static const uint32_t entry[] = {2, 3, 1};
	const size_t k = PDU_SENTRY3_LEN;

	if (o->n != k + 7 ||
	    memcmp(o->v, pdu_sentry3, sizeof pdu_sentry3) != 0 ||
	    memcmp(o->v + k, entry, sizeof entry) != 0)
		return (-1);
	if (o->v[k + 4] != 1 || o->v[k + 5] != 1 || o->v[k + 6] < 1 ||
	    o->v[k + 6] > p->noutlets)
		return (-1);
	*col = o->v[k + 3];
	*outlet = o->v[k + 6];
	return (0);
}

/*
 * One request to simd on its control socket. On "ok", the rest of the
 * first response line goes into val. Returns 0 on ok, -1 on an error
 * answer, -2 when simd cannot be reached or does not answer in time.
 */
static int
pdu_simd(const struct pdu *p, const char *req, char *val, size_t vlen)
{
	struct sockaddr_un sun;
	struct timeval tv = {PDU_SIMD_TIMEOUT, 0};
	struct timespec start, now;
	char buf[1024], *line, *eol;
	size_t have = 0, len;
	ssize_t n;
	int fd, r = -2;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, p->sock, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		log_error("%s: socket path too long: %s", __func__, p->sock);
		return (-2);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_error("%s: socket: %s", __func__, strerror(errno));
		return (-2);
	}
	/* Bounds connect (a full backlog), send and each recv. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		log_warn("%s: connect %s: %s", __func__, p->sock,
		    strerror(errno));
		goto out;
	}
	len = strlen(req);
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		log_warn("%s: send: %s", __func__, strerror(errno));
		goto out;
	}

	/* Read up to the lone "." line, within one overall deadline. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		buf[have] = '\0';
		if (strncmp(buf, ".\n", 2) == 0 || strstr(buf, "\n.\n") != NULL)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (have == sizeof buf - 1 ||
		    now.tv_sec - start.tv_sec > PDU_SIMD_TIMEOUT) {
			log_warn("%s: %s: no complete answer", __func__, req);
			goto out;
		}
		n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
		if (n <= 0) {
			log_warn("%s: %s: %s", __func__, req,
			    n == 0 ? "connection closed" : strerror(errno));
			goto out;
		}
		have += (size_t)n;
	}

	line = buf;
	if ((eol = strchr(line, '\n')) != NULL)
		*eol = '\0';
	if (strcmp(line, "ok") == 0 || strncmp(line, "ok ", 3) == 0) {
		strlcpy(val, line[2] == ' ' ? line + 3 : "", vlen);
		r = 0;
	} else {
		log_warn("%s: %s: %s", __func__, req, line);
		r = -1;
	}
out:
	close(fd);
	return (r);
}

/* outletStatus of an outlet as simd sees it; noComm without simd. */
static int
pdu_outlet_status(const struct pdu *p, u_int outlet)
{
	char req[128], val[64], *end;
	long st;

	snprintf(req, sizeof req, "outlet %s %u get", p->name, outlet);
	if (pdu_simd(p, req, val, sizeof val) != 0)
		return (PDU_ST_NOCOMM);
	errno = 0;
	st = strtol(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || st < 0 ||
	    st > PDU_ST_MAX) {
		log_warn("%s: %s: unexpected answer '%s'", __func__, req, val);
		return (PDU_ST_NOCOMM);
	}
	return ((int)st);
}

/* Write row r: its OID, type and value, for snmpd. */
static void
pdu_answer_row(const struct pdu *p, size_t r)
{
	struct pdu_oid o;
	u_int outlet = 0;
	uint32_t col = 0;
	int cs;

	pdu_row_oid(p, r, &o);
	pdu_oid_print(&o);
	if (r == 0) {
		printf("string\n%s\n", PDU_VERSION);
		return;
	}
	if (r == 1) {
		printf("integer\n1\n");
		return;
	}
	pdu_outlet_of(p, &o, &col, &outlet);
	switch (col) {
	case PDU_COL_ID:
		printf("string\nAA%u\n", outlet);
		break;
	case PDU_COL_NAME:
		if (p->outlet[outlet] != NULL)
			printf("string\n%s\n", p->outlet[outlet]);
		else
			printf("string\nspare%u\n", outlet);
		break;
	case PDU_COL_CAPS:
		printf("octet\n%s\n", PDU_CAPS_HEX);
		break;
	case PDU_COL_STATUS:
		printf("integer\n%d\n", pdu_outlet_status(p, outlet));
		break;
	case PDU_COL_CTLSTATE:
		/* idleOff0 idleOn1, pendOn10 pendOff11 while in transition */
		switch (pdu_outlet_status(p, outlet)) {
		case PDU_ST_ON:
			cs = 1;
			break;
		case PDU_ST_OFFWAIT:
			cs = 11;
			break;
		case PDU_ST_ONWAIT:
			cs = 10;
			break;
		default:
			cs = 0;
			break;
		}
		printf("integer\n%d\n", cs);
		break;
	default: /* PDU_COL_ACTION: write-only in effect, reads none */
		printf("integer\n0\n");
		break;
	}
}

/* get or getnext: the OID line follows the command. */
static void
pdu_do_get(const struct pdu *p, int next)
{
	char line[PDU_LINE_MAX];
	struct pdu_oid o;
	int r;

	if (pdu_read_line(line, sizeof line) != 1 ||
	    pdu_oid_parse(line, &o) != 0) {
		log_warn("%s: bad OID line", __func__);
		printf("NONE\n");
		return;
	}
	r = pdu_row_find(p, &o);
	if (next)
		r = r >= 0 ? r + 1 : -r - 1; /* first row after o */
	if (r < 0 || (size_t)r >= pdu_nrows(p)) {
		printf("NONE\n");
		return;
	}
	log_debug("%s %s -> row %d", next ? "getnext" : "get", line, r);
	pdu_answer_row(p, (size_t)r);
}

/*
 * set: OID line, then "TYPE VALUE". Only outletControlAction of an
 * existing outlet is writable; it takes an integer 1 (on), 2 (off) or 3
 * (reboot), which goes to simd. snmpd sends one more, empty, line after
 * the value; the main loop skips it.
 */
static void
pdu_do_set(const struct pdu *p)
{
	static const char *actions[] = {NULL, "on", "off", "reboot"};
	char oidline[PDU_LINE_MAX], valline[PDU_LINE_MAX], req[128], val[64];
	char *end;
	struct pdu_oid o;
	uint32_t col;
	u_int outlet;
	long v;
	int oid_ok, val_ok;

	oid_ok = pdu_read_line(oidline, sizeof oidline) == 1 &&
	    pdu_oid_parse(oidline, &o) == 0;
	val_ok = pdu_read_line(valline, sizeof valline) == 1;
	if (!oid_ok || pdu_outlet_of(p, &o, &col, &outlet) != 0 ||
	    col != PDU_COL_ACTION) {
		printf("not-writable\n");
		return;
	}
	if (!val_ok || strncmp(valline, "integer ", 8) != 0) {
		printf("wrong-type\n");
		return;
	}
	errno = 0;
	v = strtol(valline + 8, &end, 10);
	if (errno != 0 || end == valline + 8 || *end != '\0' || v < 1 ||
	    v > 3) {
		printf("wrong-value\n");
		return;
	}
	snprintf(req, sizeof req, "outlet %s %u %s", p->name, outlet,
	    actions[v]);
	log_info("set outlet %u (%s): %s", outlet,
	    p->outlet[outlet] != NULL ? p->outlet[outlet] : "spare",
	    actions[v]);
	if (pdu_simd(p, req, val, sizeof val) != 0) {
		printf("commit-failed\n");
		return;
	}
	printf("DONE\n");
}

/* Names we put into requests and answers: [A-Za-z0-9_.-], not empty. */
static int
pdu_valid_name(const char *s)
{
	size_t n = strspn(s,
	    "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	return (n > 0 && n <= PDU_NAME_MAX && s[n] == '\0');
}

/*
 * Read this PDU's outlet count ("pdu NAME IP NOUTLETS") and the nodes
 * plugged into it ("node NAME I CTL MAC CMC BMC OUTLETS", OUTLETS a
 * comma-separated list of PDU:N or "-") from nodes.conf. 0, or -1 with a
 * one-line reason in *errp.
 */
static int
pdu_load(struct pdu *p, const char *path, char **errp)
{
	char line[PDU_LINE_MAX], *f[8], *s, *item, *colon, *end;
	FILE *fp;
	u_long n;
	u_int lineno, nf;
	int pass, rr, r = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		return (-1);
	}
	/* Pass 0 finds the PDU (its size bounds the outlets); 1 the nodes. */
	for (pass = 0; pass < 2; pass++) {
		rewind(fp);
		lineno = 0;
		while (fgets(line, sizeof line, fp) != NULL) {
			lineno++;
			if (strchr(line, '\n') == NULL && !feof(fp)) {
				xasprintf(errp, "%s:%u: line too long", path,
				    lineno);
				goto out;
			}
			nf = 0;
			s = line;
			while (nf < nitems(f) &&
			    (f[nf] = strsep(&s, " \t\r\n")) != NULL) {
				if (*f[nf] != '\0')
					nf++;
			}
			if (nf == 0 || f[0][0] == '#')
				continue;
			if (pass == 0 && nf == 4 && strcmp(f[0], "pdu") == 0 &&
			    strcmp(f[1], p->name) == 0) {
				errno = 0;
				n = strtoul(f[3], &end, 10);
				if (errno != 0 || *end != '\0' || n < 1 ||
				    n > PDU_OUTLETS_MAX) {
					xasprintf(errp,
					    "%s:%u: bad outlet count %s", path,
					    lineno, f[3]);
					goto out;
				}
				p->noutlets = (u_int)n;
			}
			if (pass == 0 || nf != 8 || strcmp(f[0], "node") != 0 ||
			    strcmp(f[7], "-") == 0)
				continue;
			s = f[7];
			while ((item = strsep(&s, ",")) != NULL) {
				if ((colon = strchr(item, ':')) == NULL)
					continue;
				*colon = '\0';
				if (strcmp(item, p->name) != 0)
					continue;
				n = strtoul(colon + 1, &end, 10);
				if (*end != '\0' || n < 1 || n > p->noutlets ||
				    !pdu_valid_name(f[1])) {
					xasprintf(errp,
					    "%s:%u: bad outlet %s:%s", path,
					    lineno, item, colon + 1);
					goto out;
				}
				free(p->outlet[n]);
				p->outlet[n] = xstrdup(f[1]);
			}
		}
		if (pass == 0 && p->noutlets == 0) {
			xasprintf(errp, "%s: no pdu %s", path, p->name);
			goto out;
		}
	}
	r = 0;
out:
	rr = ferror(fp);
	fclose(fp);
	if (rr && r == 0) {
		xasprintf(errp, "%s: read error", path);
		r = -1;
	}
	return (r);
}

int
main(int argc, char **argv)
{
	struct pdu p;
	char line[PDU_LINE_MAX], *path, *err = NULL;
	u_int i;
	int rl, ret = PDU_EXIT_OK;

	if (argc != 3 || !pdu_valid_name(argv[2])) {
		fprintf(stderr, "usage: rhubarb-sim-pdu DIR PDU\n");
		return (PDU_EXIT_USAGE);
	}
	memset(&p, 0, sizeof p);
	p.name = argv[2];
	xasprintf(&p.sock, "%s/sim/simd.sock", argv[1]);

	/*
	 * Our log beside the others. Without it, messages are dropped: our
	 * stderr is snmpd's log, which gets the fatal ones below anyway.
	 */
	xasprintf(&path, "%s/sim/log/sim-pdu-%s.log", argv[1], p.name);
	log_open(path, 0);
	free(path);
	xasprintf(&path, "%s/sim/nodes.conf", argv[1]);
	if (pdu_load(&p, path, &err) != 0) {
		log_error("%s", err);
		fprintf(stderr, "rhubarb-sim-pdu: %s\n", err);
		free(err);
		ret = PDU_EXIT_CONFIG;
		goto out;
	}
	log_info("pdu %s: %u outlets, serving", p.name, p.noutlets);

	while ((rl = pdu_read_line(line, sizeof line)) != 0) {
		if (rl == 1 && line[0] == '\0')
			continue; /* the blank line snmpd adds after a set */
		if (rl == 1 && strcmp(line, "PING") == 0)
			printf("PONG\n");
		else if (rl == 1 && strcmp(line, "get") == 0)
			pdu_do_get(&p, 0);
		else if (rl == 1 && strcmp(line, "getnext") == 0)
			pdu_do_get(&p, 1);
		else if (rl == 1 && strcmp(line, "set") == 0)
			pdu_do_set(&p);
		else {
			log_warn("unknown command '%s'", rl == 1 ? line : "?");
			printf("NONE\n");
		}
		if (fflush(stdout) != 0)
			break;
	}
	log_info("pdu %s: end of input", p.name);
out:
	free(path);
	for (i = 0; i < nitems(p.outlet); i++)
		free(p.outlet[i]);
	free(p.sock);
	log_close();
	return (ret);
}
