/*
 * Faults injected into nodes: set from DIR/sim/faults.initial at start or
 * with the control socket's "fault NODE KIND", healed all at once with
 * "clear". simd keeps every kind, so that the node-side tools and hooks can
 * ask ("faults NODE"); it acts itself on those that concern it: the nft
 * gates (cmc-dead, ssh-refused, telnet-refused, bmc-unreachable), the CMC
 * (cmc-slow), the boot (no-boot, slow-boot), the outlets (outlet-stuck),
 * and the BMC's password (bmc-badpass), which it changes by running
 * "sh $SIM_BIN/bmc-ctl.sh DIR NODE badpass|clear" in the background.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "simd.h"

/* bmc-ctl.sh restarts an ipmi_sim: give it time, but not for ever. */
#define SIMD_BMC_CTL_TIMEOUT 30

static const char *const simd_fault_names[] = {
#define SIMD_FAULT_NAME(e, s) [SIMD_FAULT_##e] = s,
    SIMD_FAULT_LIST(SIMD_FAULT_NAME)
#undef SIMD_FAULT_NAME
};
_Static_assert(nitems(simd_fault_names) == SIMD_NFAULTS, "fault names");

static void simd_fault_bmc_ctl(struct simd_node *, const char *);
static void simd_fault_badpass_done(int, void *);
static void simd_fault_clear_done(int, void *);

/* A kind by name, SIMD_FAULT_CLEAR for "clear", or -1. */
int
simd_fault_parse(const char *s)
{
	u_int i;

	if (strcmp(s, "clear") == 0)
		return (SIMD_FAULT_CLEAR);
	for (i = 0; i < SIMD_NFAULTS; i++) {
		if (strcmp(s, simd_fault_names[i]) == 0)
			return (i);
	}
	return (-1);
}

const char *
simd_fault_name(enum simd_fault f)
{
	return (simd_fault_names[f]);
}

int
simd_fault_has(const struct simd_node *n, enum simd_fault f)
{
	return ((n->faults & SIMD_FAULT_BIT(f)) != 0);
}

/* Append " kind" for each fault of n. */
void
simd_fault_print(const struct simd_node *n, struct evbuffer *out)
{
	u_int i;

	for (i = 0; i < SIMD_NFAULTS; i++) {
		if (n->faults & SIMD_FAULT_BIT(i))
			evbuffer_add_printf(out, " %s", simd_fault_names[i]);
	}
}

static void
simd_fault_log_status(struct simd_node *n, const char *what, int status)
{
	if (status == 0)
		log_info("%s: bmc-ctl.sh %s: done", n->name, what);
	else if (status == -1)
		log_error("%s: bmc-ctl.sh %s: timed out", n->name, what);
	else
		log_error("%s: bmc-ctl.sh %s: failed (status %#x)", n->name,
		    what, status);
}

static void
simd_fault_badpass_done(int status, void *arg)
{
	simd_fault_log_status(arg, "badpass", status);
}

static void
simd_fault_clear_done(int status, void *arg)
{
	simd_fault_log_status(arg, "clear", status);
}

/*
 * Have the BMC's ipmi_sim take another password, or its own back. Only at
 * run time: at start-up the BMCs are not up yet, and bmc-up.sh asks
 * "faults NODE" to start each with the right one.
 */
static void
simd_fault_bmc_ctl(struct simd_node *n, const char *what)
{
	const char *argv[7];
	char *script;

	if (!simd.ready)
		return;
	xasprintf(&script, "%s/bmc-ctl.sh", simd.bin);
	argv[0] = "sh";
	argv[1] = script;
	argv[2] = simd.dir;
	argv[3] = n->name;
	argv[4] = what;
	argv[5] = NULL;
	log_info("%s: running bmc-ctl.sh %s", n->name, what);
	if (simd_job_start(argv, NULL, 0, SIMD_BMC_CTL_TIMEOUT,
		strcmp(what, "clear") == 0 ? simd_fault_clear_done
					   : simd_fault_badpass_done,
		n) != 0)
		log_error("%s: cannot run %s", n->name, script);
	free(script);
}

/*
 * Set fault kind on n, or heal it (SIMD_FAULT_CLEAR). A fault that cannot
 * apply (a BMC fault on a node without BMC) is an error: a test relying on
 * it would silently test nothing.
 */
int
simd_fault_set(struct simd_node *n, int kind, char **errp)
{
	u_int old = n->faults;

	if (kind == SIMD_FAULT_CLEAR) {
		n->faults = 0;
		if (old != 0)
			log_info("%s: faults cleared", n->name);
		simd_nft_update(n);
		if (old & SIMD_FAULT_BIT(SIMD_FAULT_BMC_BADPASS))
			simd_fault_bmc_ctl(n, "clear");
		return (0);
	}
	assert(kind >= 0 && kind < SIMD_NFAULTS);
	switch (kind) {
	case SIMD_FAULT_BMC_UNREACHABLE:
	case SIMD_FAULT_BMC_BADPASS:
	case SIMD_FAULT_BMC_SLOW:
		if (!n->has_bmc) {
			xasprintf(errp, "%s has no BMC", n->name);
			return (-1);
		}
		break;
	case SIMD_FAULT_OUTLET_STUCK:
		if (n->nplugs == 0) {
			xasprintf(errp, "%s has no PDU outlet", n->name);
			return (-1);
		}
		break;
	}
	if (old & SIMD_FAULT_BIT(kind))
		return (0);
	n->faults |= SIMD_FAULT_BIT(kind);
	log_info("%s: fault %s", n->name, simd_fault_names[kind]);
	simd_nft_update(n);
	if (kind == SIMD_FAULT_BMC_BADPASS)
		simd_fault_bmc_ctl(n, "badpass");
	return (0);
}

/* Read "NODE KIND" lines (# comments); a missing file is no fault. */
int
simd_fault_load(const char *path, char **errp)
{
	FILE *f;
	char *line = NULL, *p, *word[3], *err = NULL;
	size_t size = 0;
	u_int lineno = 0, nw;
	struct simd_node *n;
	int kind, r = -1;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return (0);
		xasprintf(errp, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while (getline(&line, &size, f) != -1) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = line;
		nw = 0;
		while (nw < nitems(word) &&
		    (word[nw] = strsep(&p, " \t\r\n")) != NULL) {
			if (*word[nw] != '\0')
				nw++;
		}
		if (nw == 0)
			continue;
		if (nw != 2) {
			xasprintf(errp, "%s:%u: expected \"NODE KIND\"", path,
			    lineno);
			goto out;
		}
		if ((n = simd_node_find(word[0])) == NULL) {
			xasprintf(errp, "%s:%u: unknown node %s", path, lineno,
			    word[0]);
			goto out;
		}
		if ((kind = simd_fault_parse(word[1])) == -1) {
			xasprintf(errp, "%s:%u: unknown fault %s", path, lineno,
			    word[1]);
			goto out;
		}
		if (simd_fault_set(n, kind, &err) != 0) {
			xasprintf(errp, "%s:%u: %s", path, lineno, err);
			free(err);
			goto out;
		}
	}
	if (ferror(f)) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(line);
	fclose(f);
	return (r);
}
