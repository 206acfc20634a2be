/*
 * The shared side of power plans: the phases of each action on each back
 * end, budgets, the password files, the outcome each driver error stands
 * for, and the per-node results. The per-node work is step-power.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/controller.h"
#include "engine/plan-power.h"
#include "engine/resolve.h"
#include "engine/step-power-pdu.h"

/* IPMI 2.0 passwords are at most 20 bytes. */
#define PLAN_POWER_PASSWORD_MAX 20

static const char *const plan_power_action_names[] = {
#define POWER_ACTION_NAME(id, name) [POWER_ACT_##id] = name,
    POWER_ACTIONS(POWER_ACTION_NAME)
#undef POWER_ACTION_NAME
};
_Static_assert(nitems(plan_power_action_names) == POWER_ACT__COUNT,
    "one name per power action");

/* clang-format off */
#define PH(k, c, w, r) {PLAN_POWER_##k, PLAN_POWER_CMD_##c, POWER_STATE_##w, r}
#define OP(c)          PH(OP, c, UNKNOWN, 0)
#define OPW(c, w)      PH(OP, c, w, 0)
#define VERIFY(w)      PH(VERIFY, STATUS, w, 0)
#define VERIFY_R(w)    PH(VERIFY, STATUS, w, 1)
#define SETTLE         PH(SETTLE, STATUS, UNKNOWN, 0)
/* clang-format on */

/*
 * CMC cards and BMCs: every action reads the state back (a CMC's "ok" or
 * a BMC's completion code only says the order was taken). A reset is
 * read back a moment later, as rhubarbe does (1 s): it must be on. A
 * cycle is off, off read back, a settle delay, on, on read back, rather
 * than the controller's own cycle, which nobody can verify.
 */
static const struct plan_power_phase pp_bmc_status[] = {OP(STATUS)};
static const struct plan_power_phase pp_bmc_info[] = {OP(INFO)};
static const struct plan_power_phase pp_bmc_on[] = {OP(ON), VERIFY(ON)};
static const struct plan_power_phase pp_bmc_off[] = {OP(OFF), VERIFY(OFF)};
static const struct plan_power_phase pp_bmc_reset[] = {OP(RESET), VERIFY_R(ON)};
static const struct plan_power_phase pp_bmc_cycle[] = {OP(OFF), VERIFY(OFF),
    SETTLE, OP(ON), VERIFY(ON)};
/*
 * Boot, the reset that starts a load or a save, whatever state the node
 * is in: on (a no-op on a node already on), then reset; rhubarbe asked
 * the state first and sent one or the other, which needs a decision
 * where a table of phases has none.
 */
static const struct plan_power_phase pp_bmc_boot[] = {OP(ON), VERIFY(ON),
    OP(RESET), VERIFY_R(ON)};

/*
 * PDU outlets: the driver reads every outlet back until it settles, so an
 * operation is its own verification. Reset and cycle are the same, and
 * never the outlet's "reboot" action: all outlets of the node off (a
 * dual-PSU machine stays up if one is cycled), settle, all on.
 */
static const struct plan_power_phase pp_pdu_status[] = {OP(STATUS)};
static const struct plan_power_phase pp_pdu_info[] = {OP(INFO)};
static const struct plan_power_phase pp_pdu_on[] = {OPW(ON, ON)};
static const struct plan_power_phase pp_pdu_off[] = {OPW(OFF, OFF)};
static const struct plan_power_phase pp_pdu_cycle[] = {OPW(OFF, OFF), SETTLE,
    OPW(ON, ON)};

#undef OP
#undef OPW
#undef VERIFY
#undef VERIFY_R
#undef SETTLE
#undef PH

struct plan_power_table {
	const struct plan_power_phase *phases;
	size_t n;
};
#define PP_TABLE(a)                                                            \
	{                                                                      \
		a, nitems(a)                                                   \
	}

static const struct plan_power_table pp_bmc_plans[POWER_ACT__COUNT] = {
    [POWER_ACT_STATUS] = PP_TABLE(pp_bmc_status),
    [POWER_ACT_ON] = PP_TABLE(pp_bmc_on),
    [POWER_ACT_OFF] = PP_TABLE(pp_bmc_off),
    [POWER_ACT_RESET] = PP_TABLE(pp_bmc_reset),
    [POWER_ACT_CYCLE] = PP_TABLE(pp_bmc_cycle),
    [POWER_ACT_BOOT] = PP_TABLE(pp_bmc_boot),
    [POWER_ACT_INFO] = PP_TABLE(pp_bmc_info),
};
static const struct plan_power_table pp_pdu_plans[POWER_ACT__COUNT] = {
    [POWER_ACT_STATUS] = PP_TABLE(pp_pdu_status),
    [POWER_ACT_ON] = PP_TABLE(pp_pdu_on),
    [POWER_ACT_OFF] = PP_TABLE(pp_pdu_off),
    [POWER_ACT_RESET] = PP_TABLE(pp_pdu_cycle),
    [POWER_ACT_CYCLE] = PP_TABLE(pp_pdu_cycle),
    [POWER_ACT_BOOT] = PP_TABLE(pp_pdu_cycle),
    [POWER_ACT_INFO] = PP_TABLE(pp_pdu_info),
};
#undef PP_TABLE

const struct plan_power_phase *
plan_power_phases(enum inv_power_kind kind, enum power_action action,
    size_t *np)
{
	const struct plan_power_table *t;

	if ((unsigned)action >= POWER_ACT__COUNT) {
		*np = 0;
		return (NULL);
	}
	t = kind == INV_POWER_PDU ? &pp_pdu_plans[action]
				  : &pp_bmc_plans[action];
	*np = t->n;
	return (t->phases);
}

const char *
plan_power_cmd_name(enum plan_power_cmd cmd)
{
	switch (cmd) {
	case PLAN_POWER_CMD_STATUS:
		return ("status");
	case PLAN_POWER_CMD_ON:
		return ("on");
	case PLAN_POWER_CMD_OFF:
		return ("off");
	case PLAN_POWER_CMD_RESET:
		return ("reset");
	case PLAN_POWER_CMD_INFO:
		return ("info");
	}
	return ("?");
}

struct plan_power *
plan_power_new(const struct plan_power_conf *conf,
    const struct plan_power_drivers *drivers, const struct inventory *inv,
    struct resolver *resolver, char **errp)
{
	struct controller_params cp;
	struct plan_power *pp;
	size_t k;

	if (resolver == NULL &&
	    (resolver = resolver_new(conf->resolve_timeout_ms, errp)) == NULL)
		return (NULL);
	pp = xcalloc(1, sizeof *pp);
	pp->conf = *conf;
	if (pp->conf.verify_tries < 1)
		pp->conf.verify_tries = 1;
	pp->drivers = drivers;
	pp->inv = inv;
	pp->resolver = resolver;
	memset(&cp, 0, sizeof cp);
	cp.fanout = conf->fanout >= 1 ? conf->fanout : 1;
	for (k = 0; k < CONTROLLER_KIND__COUNT; k++)
		cp.min_interval_ms[k] = conf->min_interval_ms[k];
	pp->controllers = controller_registry_new(&cp);
	pp->results = xcalloc(inv->nnodes + 1, sizeof *pp->results);
	TAILQ_INIT(&pp->pdu_batches);
	return (pp);
}

void
plan_power_free(struct plan_power *pp)
{
	size_t i;

	if (pp == NULL)
		return;
	step_power_pdu_free_all(pp);
	controller_registry_free(pp->controllers);
	resolver_free(pp->resolver);
	for (i = 0; i < pp->nsecrets; i++) {
		free(pp->secrets[i].path);
		freezero_str(pp->secrets[i].password);
		free(pp->secrets[i].err);
	}
	free(pp->secrets);
	for (i = 0; i < pp->inv->nnodes; i++)
		free(pp->results[i].info);
	free(pp->results);
	free(pp);
}

int
plan_power_backend(const struct inv_node *n, enum inv_power_kind via,
    enum inv_power_kind *kindp, char **errp)
{
	enum inv_power_kind kind = via != INV_POWER_NONE ? via : n->power;
	int has;

	switch (kind) {
	case INV_POWER_CMC:
		has = n->cmc.hostname != NULL && n->cmc.ip != NULL;
		break;
	case INV_POWER_IPMI:
		has = n->ipmi != NULL;
		break;
	case INV_POWER_PDU:
		has = n->noutlets > 0;
		break;
	default:
		xasprintf(errp, "%s has no power controller", n->name);
		return (-1);
	}
	if (!has) {
		xasprintf(errp, "%s has no %s", n->name,
		    inv_power_kind_name(kind));
		return (-1);
	}
	*kindp = kind;
	return (0);
}

enum controller_kind
plan_power_controller_kind(enum inv_power_kind kind)
{
	switch (kind) {
	case INV_POWER_IPMI:
		return (CONTROLLER_IPMI);
	case INV_POWER_PDU:
		return (CONTROLLER_PDU);
	default:
		return (CONTROLLER_CMC);
	}
}

/* Sum over the plan; with ops, each operation counts its timeout. */
static uint64_t
plan_power_sum(const struct plan_power *pp, enum inv_power_kind kind,
    enum power_action action, int ops)
{
	const struct plan_power_conf *c = &pp->conf;
	const struct plan_power_phase *ph;
	enum controller_kind ck = plan_power_controller_kind(kind);
	uint64_t t = ops ? c->op_timeout_ms[ck] : 0, sum = 0;
	size_t i, n;

	ph = plan_power_phases(kind, action, &n);
	for (i = 0; i < n; i++) {
		switch (ph[i].kind) {
		case PLAN_POWER_OP:
			sum += t;
			break;
		case PLAN_POWER_VERIFY:
			if (ph[i].after_reset)
				sum += c->reset_verify_delay_ms;
			sum += c->verify_tries * t;
			if (ops)
				sum += (c->verify_tries - 1) *
				    c->verify_interval_ms;
			break;
		case PLAN_POWER_SETTLE:
			sum += c->settle_ms[ck];
			break;
		}
	}
	return (sum);
}

uint64_t
plan_power_budget(const struct plan_power *pp, enum inv_power_kind kind,
    enum power_action action)
{
	return (plan_power_sum(pp, kind, action, 1));
}

uint64_t
plan_power_min_budget(const struct plan_power *pp, enum inv_power_kind kind,
    enum power_action action)
{
	return (plan_power_sum(pp, kind, action, 0));
}

/* Read and check one password file into s. */
static void
plan_power_read_secret(struct plan_power_secret *s)
{
	struct stat st;
	char buf[256];
	ssize_t n;
	size_t len;
	int fd;

	/* Non-blocking: a FIFO must not hang the open. */
	fd = open(s->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		xasprintf(&s->err, "password file %s: %s", s->path,
		    strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0) {
		xasprintf(&s->err, "password file %s: %s", s->path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		xasprintf(&s->err, "password file %s: not a regular file",
		    s->path);
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		xasprintf(&s->err,
		    "password file %s: mode %04o lets group or others in "
		    "(chmod 600 it)",
		    s->path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	do {
		n = read(fd, buf, sizeof buf - 1);
	} while (n == -1 && errno == EINTR);
	if (n < 0) {
		xasprintf(&s->err, "password file %s: %s", s->path,
		    strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len > PLAN_POWER_PASSWORD_MAX) {
		xasprintf(&s->err,
		    "password file %s: first line longer than %d bytes",
		    s->path, PLAN_POWER_PASSWORD_MAX);
		goto out;
	}
	s->password = xstrdup(buf);
out:
	explicit_bzero(buf, sizeof buf);
	close(fd);
}

const char *
plan_power_password(struct plan_power *pp, const char *path, const char **errp)
{
	struct plan_power_secret *s = NULL;
	size_t i;

	for (i = 0; i < pp->nsecrets; i++) {
		if (strcmp(pp->secrets[i].path, path) == 0) {
			s = &pp->secrets[i];
			break;
		}
	}
	if (s == NULL) {
		pp->secrets = xreallocarray(pp->secrets, pp->nsecrets + 1,
		    sizeof *pp->secrets);
		s = &pp->secrets[pp->nsecrets++];
		memset(s, 0, sizeof *s);
		s->path = xstrdup(path);
		plan_power_read_secret(s);
		if (s->err != NULL)
			log_warn("%s", s->err);
	}
	*errp = s->err;
	return (s->password);
}

enum node_outcome
plan_power_outcome(enum power_error e)
{
	switch (e) {
	case POWER_ERR_OK:
		return (NODE_OUT_OK);
	case POWER_ERR_CONNECT_TIMEOUT:
	case POWER_ERR_CONNECT_REFUSED:
	case POWER_ERR_NETWORK:
		return (NODE_OUT_POWER_UNREACHABLE);
	case POWER_ERR_TIMEOUT:
	case POWER_ERR_SESSION_TIMEOUT:
		return (NODE_OUT_POWER_TIMEOUT);
	case POWER_ERR_USERNAME_INVALID:
	case POWER_ERR_PASSWORD_INVALID:
	case POWER_ERR_PRIVILEGE:
		return (NODE_OUT_POWER_AUTH);
	case POWER_ERR_CREDENTIALS:
		return (NODE_OUT_POWER_CREDENTIALS);
	case POWER_ERR_CANCELLED:
		return (NODE_OUT_CANCELLED);
	case POWER_ERR_BUSY:
	case POWER_ERR_CONTROLLER_ERROR:
	case POWER_ERR_BAD_REPLY:
	case POWER_ERR_OUTLET_ERROR:
	case POWER_ERR_NO_COMM:
	default:
		return (NODE_OUT_POWER_FAILED);
	}
}

struct plan_power_result *
plan_power_result(const struct plan_power *pp, const struct inv_node *n)
{
	return (&pp->results[inventory_index(pp->inv, n)]);
}

const char *
plan_power_action_name(enum power_action a)
{
	if ((unsigned)a >= POWER_ACT__COUNT)
		return ("?");
	return (plan_power_action_names[a]);
}

enum power_action
plan_power_action_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < POWER_ACT__COUNT; i++) {
		if (strcmp(plan_power_action_names[i], name) == 0)
			return ((enum power_action)i);
	}
	return (POWER_ACT__COUNT);
}
