/*
 * Power plans (engine/plan-power.c, step-power.c, step-power-pdu.c) on
 * the real loop and run, with fake drivers: each fake controller (keyed
 * by address) holds a power state (or outlet states), answers after a set
 * delay (or times out), logs every command it executes with its time, and
 * checks that it never serves two operations at once. Checked here:
 *
 * - status on each back end; an unreachable controller is unknown, never
 *   off; the exit code;
 * - the phases of each action: cycle is off, read back, settle, on, read
 *   back; a node on two PDUs goes off on both before on on either;
 * - reset of a node that is off fails as unverified; read-back retries;
 * - a password file open to others is refused before any packet;
 * - a node queued past its deadline ends with a typed timeout;
 * - nodes on one PDU share one operation; a stuck outlet fails its node
 *   only;
 * - a BMC name that does not resolve is its node's typed outcome.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/bus.h"
#include "engine/loop.h"
#include "engine/node.h"
#include "engine/plan-power.h"
#include "engine/resolve.h"
#include "engine/run.h"
#include "engine/step-power.h"
#include "inventory/inventory.h"
#include "tests/unit/guard.h"

#define GUARD_MS 15000
#define MAXDEV   16
#define MAXLOG   256
#define MAXOUT   16

/* A fake controller. */
struct dev {
	char ip[32];
	int on;                 /* CMC, BMC */
	int outlet[MAXOUT + 1]; /* PDU: 1 on */
	int stuck[MAXOUT + 1];  /* PDU: ignores commands */
	uint64_t delay_ms;      /* answer after */
	int dead;               /* never answers: times out */
	unsigned dead_after;    /* dead from that many operations on */
	int lag_reads;          /* status reads that still show the old state */
	int old_on;
	unsigned busy;
	unsigned max_busy;
	unsigned ops;
};

/* One executed command. */
struct logent {
	char ip[32];
	char what[32];
	uint64_t at;
};

/* A fake operation in flight. */
struct fop {
	struct dev *d;
	int kind; /* 0 cmc, 1 ipmi, 2 pdu */
	char verb[16];
	enum ipmi_command icmd;
	enum pdu_command pcmd;
	int outlets[MAXOUT];
	size_t n;
	unsigned timeout_ms;
	struct event *timer;
	cmc_cb ccb;
	ipmi_cb icb;
	pdu_cb pcb;
	void *arg;
};

struct fixture {
	char dir[64];
	char pass[96];
	char badpass[96];
	char hosts[96];
	char *json;
	struct inventory *inv;
	struct dev devs[MAXDEV];
	int ndevs;
	struct logent log[MAXLOG];
	int nlog;
	unsigned inflight;
	unsigned max_inflight;
	struct guard guard;
	struct bus *bus;
	struct plan_power *pp;
	struct plan_power_conf conf;
	struct run *run;
	struct step_power_conf sconf;
};

static struct fixture *F;

static const char inv_fmt[] =
    "{\"pdus\": ["
    " {\"name\": \"pduA\", \"host\": \"127.5.0.1\","
    "  \"read_community\": \"public\", \"write_community\": \"private\"},"
    " {\"name\": \"pduB\", \"host\": \"127.5.0.2\","
    "  \"read_community\": \"public\", \"write_community\": \"private\"}"
    "], \"nodes\": ["
    " {\"control\": {\"hostname\": \"fit01\", \"ip\": \"127.1.0.1\","
    "   \"mac\": \"02:00:00:00:00:01\"},"
    "  \"cmc\": {\"hostname\": \"reboot01\", \"ip\": \"127.2.0.1\"}},"
    " {\"control\": {\"hostname\": \"fit02\", \"ip\": \"127.1.0.2\","
    "   \"mac\": \"02:00:00:00:00:02\"},"
    "  \"cmc\": {\"hostname\": \"reboot02\", \"ip\": \"127.2.0.2\"},"
    "  \"ipmi\": {\"host\": \"127.3.0.2\", \"user\": \"admin\","
    "   \"password_file\": \"%s\"}, \"power\": \"ipmi\"},"
    " {\"control\": {\"hostname\": \"fit03\", \"ip\": \"127.1.0.3\","
    "   \"mac\": \"02:00:00:00:00:03\"},"
    "  \"pdu\": [{\"pdu\": \"pduA\", \"outlet\": 1}]},"
    " {\"control\": {\"hostname\": \"fit04\", \"ip\": \"127.1.0.4\","
    "   \"mac\": \"02:00:00:00:00:04\"},"
    "  \"pdu\": [{\"pdu\": \"pduA\", \"outlet\": 2},"
    "   {\"pdu\": \"pduB\", \"outlet\": 10}]},"
    " {\"control\": {\"hostname\": \"fit05\", \"ip\": \"127.1.0.5\","
    "   \"mac\": \"02:00:00:00:00:05\"},"
    "  \"cmc\": {\"hostname\": \"reboot05\", \"ip\": \"127.2.0.5\"}},"
    " {\"control\": {\"hostname\": \"fit06\", \"ip\": \"127.1.0.6\","
    "   \"mac\": \"02:00:00:00:00:06\"},"
    "  \"ipmi\": {\"host\": \"127.3.0.6\", \"user\": \"admin\","
    "   \"password_file\": \"%s\"}},"
    " {\"control\": {\"hostname\": \"fit07\", \"ip\": \"127.1.0.7\","
    "   \"mac\": \"02:00:00:00:00:07\"},"
    "  \"ipmi\": {\"host\": \"nosuchbmc.invalid\", \"user\": \"admin\","
    "   \"password_file\": \"%s\"}},"
    " {\"control\": {\"hostname\": \"fit08\", \"ip\": \"127.1.0.8\","
    "   \"mac\": \"02:00:00:00:00:08\"},"
    "  \"pdu\": [{\"pdu\": \"pduA\", \"outlet\": 3}]},"
    " {\"control\": {\"hostname\": \"fit09\", \"ip\": \"127.1.0.9\","
    "   \"mac\": \"02:00:00:00:00:09\"},"
    "  \"ipmi\": {\"host\": \"127.3.0.9\", \"user\": \"admin\","
    "   \"password_file\": \"%s\"}}"
    "]}";

/* --- the fake controllers ---------------------------------------------- */

static struct dev *
dev(const char *ip)
{
	int i;

	for (i = 0; i < F->ndevs; i++) {
		if (strcmp(F->devs[i].ip, ip) == 0)
			return (&F->devs[i]);
	}
	assert_true(F->ndevs < MAXDEV);
	strlcpy(F->devs[F->ndevs].ip, ip, sizeof F->devs[0].ip);
	return (&F->devs[F->ndevs++]);
}

static void
logit(const struct dev *d, const char *what)
{
	assert_true(F->nlog < MAXLOG);
	strlcpy(F->log[F->nlog].ip, d->ip, sizeof F->log[0].ip);
	strlcpy(F->log[F->nlog].what, what, sizeof F->log[0].what);
	F->log[F->nlog].at = loop_now_ms();
	F->nlog++;
}

/* Index of the first log entry for ip and what at or after from, or -1. */
static int
found(const char *ip, const char *what, int from)
{
	int i;

	for (i = from; i < F->nlog; i++) {
		if (strcmp(F->log[i].ip, ip) == 0 &&
		    strcmp(F->log[i].what, what) == 0)
			return (i);
	}
	return (-1);
}

static int
count(const char *ip, const char *what)
{
	int i, n = 0;

	for (i = 0; i < F->nlog; i++) {
		if (strcmp(F->log[i].ip, ip) == 0 &&
		    (what == NULL || strcmp(F->log[i].what, what) == 0))
			n++;
	}
	return (n);
}

/* The state a status read shows (lagging reads show the old one). */
static int
read_on(struct dev *d)
{
	if (d->lag_reads > 0) {
		d->lag_reads--;
		return (d->old_on);
	}
	return (d->on);
}

static void
set_on(struct dev *d, int on)
{
	d->old_on = d->on;
	d->on = on;
}

static void
fop_end(struct fop *f)
{
	f->d->busy--;
	F->inflight--;
	loop_event_free(f->timer);
	free(f);
}

static void
fop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fop *f = arg;
	struct dev *d = f->d;
	struct power_reply r;
	struct pdu_outlet_reply outs[MAXOUT];
	size_t i;
	int o;

	memset(&r, 0, sizeof r);
	memset(outs, 0, sizeof outs);
	if (d->dead || d->delay_ms > f->timeout_ms) {
		r.error =
		    d->dead ? POWER_ERR_CONNECT_TIMEOUT : POWER_ERR_TIMEOUT;
		for (i = 0; i < f->n; i++) {
			outs[i].outlet = f->outlets[i];
			outs[i].reply.error = r.error;
			outs[i].status = -1;
		}
		goto answer;
	}
	switch (f->kind) {
	case 0:
	case 1:
		logit(d, f->verb);
		if (strcmp(f->verb, "on") == 0)
			set_on(d, 1);
		else if (strcmp(f->verb, "off") == 0)
			set_on(d, 0);
		else if (strcmp(f->verb, "reset") == 0)
			(void)0; /* nothing: on stays on, off stays off */
		if (strcmp(f->verb, "status") == 0)
			r.state = read_on(d) ? POWER_STATE_ON : POWER_STATE_OFF;
		else if (strcmp(f->verb, "info") == 0)
			snprintf(r.detail, sizeof r.detail, "fake %s",
			    d->on ? "on" : "off");
		break;
	case 2:
		logit(d, f->verb);
		for (i = 0; i < f->n; i++) {
			o = f->outlets[i];
			outs[i].outlet = o;
			if (!d->stuck[o] && f->pcmd == PDU_CMD_ON)
				d->outlet[o] = 1;
			else if (!d->stuck[o] && f->pcmd == PDU_CMD_OFF)
				d->outlet[o] = 0;
			outs[i].status = d->outlet[o];
			outs[i].reply.state =
			    d->outlet[o] ? POWER_STATE_ON : POWER_STATE_OFF;
			if (d->stuck[o] && f->pcmd != PDU_CMD_STATUS) {
				outs[i].reply.error = POWER_ERR_TIMEOUT;
				snprintf(outs[i].reply.detail,
				    sizeof outs[i].reply.detail,
				    "outlet %d stuck", o);
				r.error = POWER_ERR_TIMEOUT;
			}
		}
		break;
	}
answer:
	switch (f->kind) {
	case 0:
		f->ccb(&r, f->arg);
		break;
	case 1:
		f->icb(&r, f->arg);
		break;
	default:
		f->pcb(&r, outs, f->n, f->arg);
		break;
	}
	fop_end(f);
}

static struct fop *
fop_new(const char *ip, int kind, unsigned timeout_ms, void *arg)
{
	struct fop *f;
	struct timeval tv;
	uint64_t ms;

	f = xcalloc(1, sizeof *f);
	f->d = dev(ip);
	f->kind = kind;
	f->timeout_ms = timeout_ms;
	f->arg = arg;
	/* The driver rule the engine must keep: one at a time. */
	if (++f->d->busy > f->d->max_busy)
		f->d->max_busy = f->d->busy;
	if (++F->inflight > F->max_inflight)
		F->max_inflight = F->inflight;
	if (f->d->dead_after != 0 && f->d->ops >= f->d->dead_after)
		f->d->dead = 1;
	f->d->ops++;
	/* A timeout comes a little after the deadline, as from a driver. */
	ms = f->d->dead || f->d->delay_ms > timeout_ms ? timeout_ms + 50
						       : f->d->delay_ms;
	f->timer = evtimer_new(loop_base(), fop_cb, f);
	loop_ms_to_timeval(ms, &tv);
	evtimer_add(f->timer, &tv);
	return (f);
}

static struct cmc_request *
fake_cmc_start(struct event_base *base, const struct cmc_params *p,
    const char *verb, cmc_cb cb, void *arg)
{
	struct fop *f = fop_new(p->ip, 0, p->total_ms, arg);

	assert_non_null(p->host);
	strlcpy(f->verb, verb, sizeof f->verb);
	f->ccb = cb;
	return ((struct cmc_request *)f);
}

static void
fake_cmc_cancel(struct cmc_request *r)
{
	fop_end((struct fop *)r);
}

static struct ipmi_op *
fake_ipmi_start(struct event_base *base, const struct ipmi_params *p,
    enum ipmi_command cmd, ipmi_cb cb, void *arg)
{
	struct fop *f = fop_new(p->ip, 1, p->timeout_ms, arg);
	static const char *verbs[] = {
	    [IPMI_CMD_STATUS] = "status",
	    [IPMI_CMD_ON] = "on",
	    [IPMI_CMD_OFF] = "off",
	    [IPMI_CMD_CYCLE] = "cycle",
	    [IPMI_CMD_RESET] = "reset",
	    [IPMI_CMD_SOFT] = "soft",
	};

	assert_string_equal(p->password, "s3cret");
	strlcpy(f->verb, verbs[cmd], sizeof f->verb);
	f->icmd = cmd;
	f->icb = cb;
	return ((struct ipmi_op *)f);
}

static void
fake_ipmi_cancel(struct ipmi_op *op)
{
	fop_end((struct fop *)op);
}

static struct pdu_op *
fake_pdu_start(struct event_base *base, const struct pdu_params *p,
    const int *outlets, size_t n, enum pdu_command cmd, pdu_cb cb, void *arg)
{
	struct fop *f = fop_new(p->ip, 2, p->timeout_ms, arg);
	static const char *verbs[] = {
	    [PDU_CMD_STATUS] = "status",
	    [PDU_CMD_ON] = "on",
	    [PDU_CMD_OFF] = "off",
	    [PDU_CMD_REBOOT] = "reboot",
	};

	assert_string_equal(p->write_community, "private");
	assert_true(n <= MAXOUT);
	memcpy(f->outlets, outlets, n * sizeof *outlets);
	f->n = n;
	strlcpy(f->verb, verbs[cmd], sizeof f->verb);
	f->pcmd = cmd;
	f->pcb = cb;
	return ((struct pdu_op *)f);
}

static void
fake_pdu_cancel(struct pdu_op *op)
{
	fop_end((struct fop *)op);
}

static const struct plan_power_drivers fakes = {
    .cmc_start = fake_cmc_start,
    .cmc_cancel = fake_cmc_cancel,
    .ipmi_start = fake_ipmi_start,
    .ipmi_cancel = fake_ipmi_cancel,
    .pdu_start = fake_pdu_start,
    .pdu_cancel = fake_pdu_cancel,
};

/* --- fixture ------------------------------------------------------------ */

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int
setup(void **state)
{
	char *err = NULL;
	size_t k;

	F = xcalloc(1, sizeof *F);
	strlcpy(F->dir, "/tmp/test-power-plan.XXXXXX", sizeof F->dir);
	assert_non_null(mkdtemp(F->dir));
	snprintf(F->pass, sizeof F->pass, "%s/pass", F->dir);
	snprintf(F->badpass, sizeof F->badpass, "%s/badpass", F->dir);
	snprintf(F->hosts, sizeof F->hosts, "%s/hosts", F->dir);
	write_file(F->pass, "s3cret\n", 0600);
	write_file(F->badpass, "s3cret\n", 0644);
	write_file(F->hosts, "127.3.0.99 bmc99\n", 0644);
	xasprintf(&F->json, inv_fmt, F->pass, F->badpass, F->pass, F->pass);
	F->inv = inventory_parse(F->json, strlen(F->json), "t.json", &err);
	if (F->inv == NULL)
		fail_msg("%s", err);
	if (loop_init(&err) != 0)
		fail_msg("%s", err);
	log_set_stderr_ok(0);
	guard_init(&F->guard, loop_base());
	F->bus = bus_new();

	F->conf.fanout = 64;
	for (k = 0; k < CONTROLLER_KIND__COUNT; k++) {
		F->conf.op_timeout_ms[k] = 1000;
		F->conf.settle_ms[k] = 200;
	}
	F->conf.reset_verify_delay_ms = 100;
	F->conf.verify_interval_ms = 50;
	F->conf.verify_tries = 3;
	F->conf.cmc_connect_ms = 500;
	F->conf.ipmi_retransmit_ms = 100;
	F->conf.ipmi_control_retransmit_ms = 500;
	F->conf.pdu_request_ms = 100;
	F->conf.pdu_poll_ms = 50;
	F->conf.resolve_timeout_ms = 300;
	*state = F;
	return (0);
}

static int
teardown(void **state)
{
	char *cmd;

	if (F->run != NULL) {
		run_free(F->run);
		F->run = NULL;
	}
	plan_power_free(F->pp);
	guard_free(&F->guard);
	loop_free();
	bus_free(F->bus);
	inventory_free(F->inv);
	free(F->json);
	xasprintf(&cmd, "rm -rf '%s'", F->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(F);
	F = NULL;
	return (0);
}

/* Run action on the nodes named (NULL-terminated), via the preferred. */
static int
run_action(enum power_action action, uint64_t timeout_ms, ...)
{
	struct step_inst plan[1];
	struct run_params params;
	struct resolver *res;
	const struct inv_node *n;
	const char *name;
	char *err = NULL;
	va_list ap;
	unsigned nn = 0;

	res = resolver_new_custom(F->hosts, "127.0.0.1:9", 200, &err);
	if (res == NULL)
		fail_msg("%s", err);
	F->pp = plan_power_new(&F->conf, &fakes, F->inv, res, &err);
	assert_non_null(F->pp);
	memset(&F->sconf, 0, sizeof F->sconf);
	F->sconf.pp = F->pp;
	F->sconf.action = action;
	F->sconf.timeout_ms = timeout_ms;
	memset(plan, 0, sizeof plan);
	plan[0].def = &step_power_def;
	plan[0].arg = &F->sconf;
	memset(&params, 0, sizeof params);
	params.what = plan_power_action_name(action);
	params.fanout = 100;
	params.timeout_ms = 10000;
	F->run = run_new(F->bus, &params);
	va_start(ap, timeout_ms);
	while ((name = va_arg(ap, const char *)) != NULL) {
		n = inventory_find(F->inv, name);
		assert_non_null(n);
		run_add(F->run, n, plan, 1);
		nn++;
	}
	va_end(ap);
	run_start(F->run);
	guard_arm(&F->guard, GUARD_MS);
	if (!run_finished(F->run))
		loop_run();
	guard_disarm(&F->guard);
	assert_false(F->guard.fired);
	assert_true(run_finished(F->run));
	return (run_exit_code(F->run));
}

static const struct plan_power_result *
result(const char *name)
{
	return (plan_power_result(F->pp, inventory_find(F->inv, name)));
}

static const struct node *
node(const char *name)
{
	size_t i;

	for (i = 0; i < run_count(F->run); i++) {
		if (strcmp(run_node(F->run, i)->inv->name, name) == 0)
			return (run_node(F->run, i));
	}
	fail_msg("%s not in the run", name);
	return (NULL);
}

static void
assert_outcome(const char *name, enum node_outcome want)
{
	const struct node *n = node(name);

	if (n->outcome != want)
		fail_msg("%s: outcome %s (%s), want %s", name,
		    node_outcome_name(n->outcome), n->why != NULL ? n->why : "",
		    node_outcome_name(want));
}

static void
assert_reason(const char *name, const char *part)
{
	const struct plan_power_result *r = result(name);

	if (strstr(r->reason, part) == NULL)
		fail_msg("%s: reason '%s' lacks '%s'", name, r->reason, part);
}

/* --- tests -------------------------------------------------------------- */

/* Status through each back end; the read states. */
static void
test_status(void **state)
{
	dev("127.2.0.1")->on = 1;
	dev("127.3.0.2")->on = 0;
	dev("127.5.0.1")->outlet[1] = 1;
	dev("127.5.0.1")->outlet[2] = 0;
	dev("127.5.0.2")->outlet[10] = 1; /* fit04: one supply on */
	assert_int_equal(run_action(POWER_ACT_STATUS, 0, "fit01", "fit02",
			     "fit03", "fit04", NULL),
	    0);
	assert_int_equal(result("fit01")->state, POWER_STATE_ON);
	assert_int_equal(result("fit01")->backend, INV_POWER_CMC);
	assert_int_equal(result("fit02")->state, POWER_STATE_OFF);
	assert_int_equal(result("fit02")->backend, INV_POWER_IPMI);
	assert_int_equal(result("fit03")->state, POWER_STATE_ON);
	/* On if any outlet is on; the note names the one that is not. */
	assert_int_equal(result("fit04")->state, POWER_STATE_ON);
	assert_reason("fit04", "pduA outlet 2: off");
	assert_string_equal(result("fit02")->controller, "127.3.0.2");
	assert_int_equal(result("fit01")->ops, 1);
	/* Nothing was switched. */
	assert_int_equal(count("127.2.0.1", "on") + count("127.2.0.1", "off"),
	    0);
}

/* An unreachable controller is unknown with its reason, never off. */
static void
test_status_unreachable(void **state)
{
	dev("127.2.0.1")->dead = 1;
	dev("127.2.0.5")->on = 0;
	assert_int_equal(
	    run_action(POWER_ACT_STATUS, 0, "fit01", "fit05", NULL), 1);
	assert_int_equal(result("fit01")->state, POWER_STATE_UNKNOWN);
	assert_int_equal(result("fit01")->error, POWER_ERR_CONNECT_TIMEOUT);
	assert_string_equal(result("fit01")->reason, "connection timeout");
	assert_outcome("fit01", NODE_OUT_POWER_UNREACHABLE);
	assert_outcome("fit05", NODE_OUT_OK);
	assert_int_equal(result("fit05")->state, POWER_STATE_OFF);
	/* Bounded by the back end's timeout (1 s), not the run's. */
	assert_true(result("fit01")->duration_ms >= 1000);
	assert_true(result("fit01")->duration_ms < 3000);
}

/* Cycle on a CMC and a BMC: off, status, settle, on, status. */
static void
test_cycle_bmc(void **state)
{
	const char *ips[] = {"127.2.0.1", "127.3.0.2"};
	int i, a, b, c, d;

	dev("127.2.0.1")->on = 1;
	dev("127.3.0.2")->on = 1;
	assert_int_equal(run_action(POWER_ACT_CYCLE, 0, "fit01", "fit02", NULL),
	    0);
	for (i = 0; i < 2; i++) {
		a = found(ips[i], "off", 0);
		b = found(ips[i], "status", a);
		c = found(ips[i], "on", b);
		d = found(ips[i], "status", c);
		if (a < 0 || b < 0 || c < 0 || d < 0)
			fail_msg("%s: cycle sequence %d %d %d %d", ips[i], a, b,
			    c, d);
		/* The settle delay between the read-back off and the on. */
		assert_true(F->log[c].at - F->log[b].at >= 200);
		assert_int_equal(count(ips[i], NULL), 4);
		assert_int_equal(dev(ips[i])->max_busy, 1);
	}
	assert_int_equal(result("fit01")->state, POWER_STATE_ON);
	assert_int_equal(result("fit02")->ops, 4);
}

/* A node on two PDUs is one power domain. */
static void
test_cycle_dual_pdu(void **state)
{
	int offa, offb, ona, onb;

	dev("127.5.0.1")->outlet[2] = 1;
	dev("127.5.0.2")->outlet[10] = 1;
	assert_int_equal(run_action(POWER_ACT_CYCLE, 0, "fit04", NULL), 0);
	offa = found("127.5.0.1", "off", 0);
	offb = found("127.5.0.2", "off", 0);
	ona = found("127.5.0.1", "on", 0);
	onb = found("127.5.0.2", "on", 0);
	assert_true(offa >= 0 && offb >= 0 && ona >= 0 && onb >= 0);
	/* Both off before either on, the settle delay between. */
	assert_true(ona > offa && ona > offb && onb > offa && onb > offb);
	assert_true(F->log[ona].at - F->log[offb].at >= 200);
	assert_true(F->log[onb].at - F->log[offa].at >= 200);
	assert_int_equal(dev("127.5.0.1")->outlet[2], 1);
	assert_int_equal(dev("127.5.0.2")->outlet[10], 1);
	/* Never the outlet's own reboot. */
	assert_int_equal(count("127.5.0.1", "reboot"), 0);
	assert_int_equal(result("fit04")->state, POWER_STATE_ON);
}

/* Reset must read on afterwards: a node that was off fails. */
static void
test_reset_unverified(void **state)
{
	int a, b;

	dev("127.2.0.1")->on = 1;
	dev("127.2.0.5")->on = 0;
	assert_int_equal(run_action(POWER_ACT_RESET, 0, "fit01", "fit05", NULL),
	    1);
	assert_outcome("fit01", NODE_OUT_OK);
	/* Read back reset_verify_delay after the reset (rhubarbe's 1 s). */
	a = found("127.2.0.1", "reset", 0);
	b = found("127.2.0.1", "status", a);
	assert_true(a >= 0 && b > a);
	assert_true(F->log[b].at - F->log[a].at >= 100);
	assert_outcome("fit05", NODE_OUT_POWER_UNVERIFIED);
	assert_string_equal(result("fit05")->reason, "reads off after reset");
	/* verify_tries reads, then it gives up. */
	assert_int_equal(count("127.2.0.5", "status"), 3);
}

/* A BMC that reports the new state late: the read-back tries again. */
static void
test_verify_retry(void **state)
{
	struct dev *d = dev("127.3.0.2");

	d->on = 1;
	d->lag_reads = 2;
	assert_int_equal(run_action(POWER_ACT_OFF, 0, "fit02", NULL), 0);
	assert_int_equal(count("127.3.0.2", "status"), 3);
	assert_int_equal(result("fit02")->state, POWER_STATE_OFF);
}

/* A password file open to others is refused; no packet leaves. */
static void
test_password_mode(void **state)
{
	assert_int_equal(run_action(POWER_ACT_ON, 0, "fit06", "fit09", NULL),
	    1);
	assert_outcome("fit06", NODE_OUT_POWER_CREDENTIALS);
	assert_reason("fit06", F->badpass);
	assert_reason("fit06", "mode 0644");
	assert_int_equal(result("fit06")->error, POWER_ERR_CREDENTIALS);
	assert_int_equal(count("127.3.0.6", NULL), 0);
	assert_int_equal(dev("127.3.0.6")->ops, 0);
	/* Another node with a good file is not held up. */
	assert_outcome("fit09", NODE_OUT_OK);
}

/* A node still queued at its deadline ends with a typed timeout. */
static void
test_deadline_queued(void **state)
{
	F->conf.fanout = 1;
	dev("127.3.0.2")->delay_ms = 600;
	dev("127.3.0.9")->delay_ms = 10;
	assert_int_equal(
	    run_action(POWER_ACT_STATUS, 400, "fit02", "fit09", NULL), 1);
	/* fit02 went first and outlived its deadline in the driver. */
	assert_outcome("fit02", NODE_OUT_POWER_TIMEOUT);
	/* fit09 never got the one slot. */
	assert_outcome("fit09", NODE_OUT_POWER_TIMEOUT);
	assert_reason("fit09", "fan-out cap");
	assert_int_equal(dev("127.3.0.9")->ops, 0);
	assert_true(node("fit09")->ended_ms - node("fit09")->started_ms < 1000);
}

/* Nodes on one PDU share one operation. */
static void
test_pdu_batch(void **state)
{
	dev("127.5.0.1")->delay_ms = 100;
	assert_int_equal(
	    run_action(POWER_ACT_ON, 0, "fit03", "fit04", "fit08", NULL), 0);
	/* pduA: outlets 1, 2, 3 in one "on"; pduB: outlet 10. */
	assert_int_equal(count("127.5.0.1", "on"), 1);
	assert_int_equal(count("127.5.0.2", "on"), 1);
	assert_int_equal(dev("127.5.0.1")->outlet[1], 1);
	assert_int_equal(dev("127.5.0.1")->outlet[2], 1);
	assert_int_equal(dev("127.5.0.1")->outlet[3], 1);
	assert_int_equal(dev("127.5.0.2")->outlet[10], 1);
	assert_int_equal(dev("127.5.0.1")->max_busy, 1);
}

/* A stuck outlet fails its own node, not the others of its batch. */
static void
test_pdu_stuck(void **state)
{
	dev("127.5.0.1")->stuck[1] = 1;
	assert_int_equal(run_action(POWER_ACT_ON, 0, "fit03", "fit08", NULL),
	    1);
	assert_outcome("fit03", NODE_OUT_POWER_TIMEOUT);
	assert_reason("fit03", "outlet 1 stuck");
	assert_outcome("fit08", NODE_OUT_OK);
	assert_int_equal(dev("127.5.0.1")->outlet[3], 1);
}

/*
 * A cycle whose off fails on one PDU stops there; one whose on fails says
 * the node is left off.
 */
static void
test_cycle_left_off(void **state)
{
	dev("127.5.0.1")->outlet[2] = 1;
	dev("127.5.0.2")->outlet[10] = 1;
	dev("127.5.0.2")->delay_ms = 2000; /* beyond the 1 s timeout */
	assert_int_equal(run_action(POWER_ACT_CYCLE, 0, "fit04", NULL), 1);
	assert_outcome("fit04", NODE_OUT_POWER_TIMEOUT);
	assert_string_equal(result("fit04")->reason, "off: pduB: timeout");
	assert_int_equal(count("127.5.0.1", "on"), 0);

	plan_power_free(F->pp);
	F->pp = NULL;
	run_free(F->run);
	F->run = NULL;
	F->nlog = 0;
	dev("127.5.0.2")->delay_ms = 0;
	dev("127.5.0.2")->ops = 0;
	dev("127.5.0.2")->dead_after = 1; /* its off works, then silence */
	assert_int_equal(run_action(POWER_ACT_CYCLE, 0, "fit04", NULL), 1);
	assert_outcome("fit04", NODE_OUT_POWER_UNREACHABLE);
	assert_string_equal(result("fit04")->reason,
	    "on: pduB: connection timeout; left off");
	assert_int_equal(count("127.5.0.1", "on"), 1);
}

/* A BMC name that does not resolve: the node's own typed outcome. */
static void
test_resolve_failure(void **state)
{
	dev("127.3.0.9")->on = 1;
	assert_int_equal(
	    run_action(POWER_ACT_STATUS, 0, "fit07", "fit09", NULL), 1);
	assert_outcome("fit07", NODE_OUT_POWER_RESOLVE);
	assert_reason("fit07", "nosuchbmc.invalid");
	assert_outcome("fit09", NODE_OUT_OK);
}

/* The budgets: operations and delays; -t can not be below the delays. */
static void
test_budget(void **state)
{
	char *err = NULL;
	struct plan_power *pp;
	struct resolver *res;

	res = resolver_new_custom(F->hosts, NULL, 300, &err);
	assert_non_null(res);
	pp = plan_power_new(&F->conf, &fakes, F->inv, res, &err);
	assert_non_null(pp);
	/* status: one operation */
	assert_int_equal(plan_power_budget(pp, INV_POWER_CMC, POWER_ACT_STATUS),
	    1000);
	/* cycle on a BMC: 2 ops + 2 read-backs of 3 tries + 2 x 2 intervals
	 * + settle */
	assert_int_equal(plan_power_budget(pp, INV_POWER_IPMI, POWER_ACT_CYCLE),
	    2 * 1000 + 2 * 3 * 1000 + 2 * 2 * 50 + 200);
	assert_int_equal(
	    plan_power_min_budget(pp, INV_POWER_PDU, POWER_ACT_CYCLE), 200);
	assert_int_equal(
	    plan_power_min_budget(pp, INV_POWER_CMC, POWER_ACT_RESET), 100);
	assert_int_equal(
	    plan_power_min_budget(pp, INV_POWER_CMC, POWER_ACT_STATUS), 0);
	assert_int_equal(plan_power_action_lookup("cycle"), POWER_ACT_CYCLE);
	assert_int_equal(plan_power_action_lookup("bogus"), POWER_ACT__COUNT);
	plan_power_free(pp);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_status),
	    T(test_status_unreachable),
	    T(test_cycle_bmc),
	    T(test_cycle_dual_pdu),
	    T(test_reset_unverified),
	    T(test_verify_retry),
	    T(test_password_mode),
	    T(test_deadline_queued),
	    T(test_pdu_batch),
	    T(test_pdu_stuck),
	    T(test_cycle_left_off),
	    T(test_resolve_failure),
	    T(test_budget),
	};
#undef T

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
