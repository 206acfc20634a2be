/*
 * The power and boot model of every node, and the PDU outlets feeding them
 * (tests/sim/DESIGN.md, "Power and boot model").
 *
 * A node is powered when its chassis is on and it has AC; AC is always
 * there for a node without outlets, and for a PDU node it is there while
 * any of its outlets is on. Like a BMC-equipped server set to "always on",
 * the chassis goes off when the last outlet goes off and on again when an
 * outlet comes back. Becoming powered, or a reset while powered, starts a
 * boot: "booting" for the boot delay (with +-25% jitter, x10 for
 * slow-boot, for ever for no-boot), then the node looks at its pxelinux
 * entry and comes up "imaging" (the entry exists) or "installed". Every
 * state change goes through simd_power_set_state(), which logs it and asks
 * simd-nft.c to follow; nothing else writes a node's state.
 */
#include <sys/stat.h>

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "simd.h"

/* How long a rebooted outlet stays off (the Sentry3's default delay). */
#define SIMD_OUTLET_REBOOT_SEC 2
/* How long a power cycle keeps the chassis off. */
#define SIMD_CYCLE_SEC 1
/* slow-boot multiplies the boot delay by this. */
#define SIMD_SLOW_BOOT_FACTOR 10

static const char *const simd_power_state_names[] = {
    [SIMD_OFF] = "off",
    [SIMD_BOOTING] = "booting",
    [SIMD_IMAGING] = "imaging",
    [SIMD_INSTALLED] = "installed",
};
_Static_assert(nitems(simd_power_state_names) == SIMD_INSTALLED + 1,
    "state names");

static void simd_power_timer_cb(evutil_socket_t, short, void *);
static void simd_power_arm(struct simd_node *, enum simd_timer, double);
static void simd_power_disarm(struct simd_node *);
static void simd_power_set_state(struct simd_node *, enum simd_state,
    const char *);
static void simd_power_update(struct simd_node *, const char *);
static void simd_power_boot(struct simd_node *, const char *);
static void simd_power_boot_end(struct simd_node *);
static void simd_power_ac(struct simd_node *, const char *);
static void simd_outlet_timer_cb(evutil_socket_t, short, void *);

/* Every node off, every outlet off: a PDU node has no AC until one is on. */
void
simd_power_init(void)
{
	struct simd_node *n;
	struct simd_pdu *p;
	struct simd_outlet *o;
	u_int i, j;

	for (i = 0; i < simd.nnodes; i++) {
		n = &simd.nodes[i];
		n->state = SIMD_OFF;
		n->chassis = 0;
		n->ac = n->nplugs == 0;
		n->timer = evtimer_new(simd.base, simd_power_timer_cb, n);
		n->timer_what = SIMD_TIMER_NONE;
	}
	for (i = 0; i < simd.npdus; i++) {
		p = &simd.pdus[i];
		for (j = 0; j < p->noutlets; j++) {
			o = &p->outlets[j];
			o->status = SIMD_OUTLET_OFF;
			o->timer =
			    evtimer_new(simd.base, simd_outlet_timer_cb, o);
		}
	}
}

void
simd_power_free(void)
{
	struct simd_pdu *p;
	u_int i, j;

	for (i = 0; i < simd.nnodes; i++) {
		if (simd.nodes[i].timer != NULL)
			event_free(simd.nodes[i].timer);
		simd.nodes[i].timer = NULL;
	}
	for (i = 0; i < simd.npdus; i++) {
		p = &simd.pdus[i];
		for (j = 0; j < p->noutlets; j++) {
			if (p->outlets[j].timer != NULL)
				event_free(p->outlets[j].timer);
			p->outlets[j].timer = NULL;
		}
	}
}

const char *
simd_power_state_name(enum simd_state s)
{
	assert(SIMD_STATE_VALID(s));
	return (simd_power_state_names[s]);
}

int
simd_power_is_on(const struct simd_node *n)
{
	return (n->chassis && n->ac);
}

/* What nft must let through for n, given its state and faults. */
u_char
simd_power_gates(const struct simd_node *n)
{
	u_char g = 0;

	if (n->state != SIMD_INSTALLED ||
	    simd_fault_has(n, SIMD_FAULT_SSH_REFUSED))
		g |= SIMD_GATE_SSH_DOWN;
	if (n->state != SIMD_IMAGING ||
	    simd_fault_has(n, SIMD_FAULT_TELNET_REFUSED))
		g |= SIMD_GATE_TELNET_DOWN;
	if (simd_fault_has(n, SIMD_FAULT_CMC_DEAD))
		g |= SIMD_GATE_CMC_DEAD;
	if (n->has_bmc && simd_fault_has(n, SIMD_FAULT_BMC_UNREACHABLE))
		g |= SIMD_GATE_BMC_DEAD;
	return (g);
}

static void
simd_power_arm(struct simd_node *n, enum simd_timer what, double sec)
{
	struct timeval tv;

	tv.tv_sec = (time_t)sec;
	tv.tv_usec = (suseconds_t)((sec - (double)tv.tv_sec) * 1e6);
	n->timer_what = what;
	evtimer_add(n->timer, &tv);
}

static void
simd_power_disarm(struct simd_node *n)
{
	evtimer_del(n->timer);
	n->timer_what = SIMD_TIMER_NONE;
}

/* The only writer of n->state. */
static void
simd_power_set_state(struct simd_node *n, enum simd_state s, const char *why)
{
	assert(SIMD_STATE_VALID(s));
	if (n->state == s)
		return;
	log_info("%s: %s -> %s (%s)", n->name, simd_power_state_name(n->state),
	    simd_power_state_name(s), why);
	n->state = s;
	simd_nft_update(n);
}

/* Follow a change of chassis or AC: boot when power comes, stop when not. */
static void
simd_power_update(struct simd_node *n, const char *why)
{
	if (simd_power_is_on(n)) {
		if (n->state == SIMD_OFF)
			simd_power_boot(n, why);
	} else if (n->state != SIMD_OFF) {
		if (n->timer_what == SIMD_TIMER_BOOT)
			simd_power_disarm(n);
		simd_power_set_state(n, SIMD_OFF, why);
	}
}

/* (Re)start the boot sequence; faults are read now and at its end. */
static void
simd_power_boot(struct simd_node *n, const char *why)
{
	double delay;

	simd_power_disarm(n);
	if (n->state == SIMD_BOOTING)
		log_info("%s: booting again (%s)", n->name, why);
	simd_power_set_state(n, SIMD_BOOTING, why);
	if (simd_fault_has(n, SIMD_FAULT_NO_BOOT)) {
		log_info("%s: no-boot: stays booting", n->name);
		return;
	}
	delay =
	    simd.boot_delay * (0.75 + 0.5 * arc4random_uniform(1001) / 1000);
	if (simd_fault_has(n, SIMD_FAULT_SLOW_BOOT))
		delay *= SIMD_SLOW_BOOT_FACTOR;
	log_debug("%s: boot delay %.3f s", n->name, delay);
	simd_power_arm(n, SIMD_TIMER_BOOT, delay);
}

/*
 * The boot delay is over: what the pxelinux directory says now decides.
 * lstat, so that a dangling link counts, as pxelinux would try it.
 */
static void
simd_power_boot_end(struct simd_node *n)
{
	struct stat sb;
	char *path;

	if (simd_fault_has(n, SIMD_FAULT_NO_BOOT)) {
		log_info("%s: no-boot: stays booting", n->name);
		return;
	}
	xasprintf(&path, "%s/pxelinux.cfg/%s", simd.dir, n->pxe);
	if (lstat(path, &sb) == 0)
		simd_power_set_state(n, SIMD_IMAGING, "nextboot link");
	else
		simd_power_set_state(n, SIMD_INSTALLED, "no nextboot link");
	free(path);
}

static void
simd_power_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct simd_node *n = arg;
	enum simd_timer t = n->timer_what;

	n->timer_what = SIMD_TIMER_NONE;
	switch (t) {
	case SIMD_TIMER_BOOT:
		assert(n->state == SIMD_BOOTING);
		simd_power_boot_end(n);
		break;
	case SIMD_TIMER_CYCLE:
		n->chassis = 1;
		log_info("%s: chassis on (cycle)", n->name);
		simd_power_update(n, "cycle");
		break;
	case SIMD_TIMER_NONE:
		break;
	}
}

/* Chassis on or off (CMC /on, /off; IPMI set power). */
void
simd_power_chassis(struct simd_node *n, int on, const char *why)
{
	if (n->timer_what == SIMD_TIMER_CYCLE)
		simd_power_disarm(n);
	if (n->chassis == on)
		return;
	n->chassis = on;
	log_info("%s: chassis %s (%s)%s", n->name, on ? "on" : "off", why,
	    on && !n->ac ? ", but no AC" : "");
	simd_power_update(n, why);
}

/* Reset: reboot a powered node; nothing on a node that is off. */
void
simd_power_reset(struct simd_node *n, const char *why)
{
	if (n->timer_what == SIMD_TIMER_CYCLE)
		simd_power_disarm(n);
	if (!simd_power_is_on(n)) {
		log_info("%s: reset ignored: off (%s)", n->name, why);
		return;
	}
	simd_power_boot(n, why);
}

/* Power cycle: chassis off now, on again a second later, as ipmi_sim. */
void
simd_power_cycle(struct simd_node *n, const char *why)
{
	simd_power_disarm(n);
	if (n->chassis) {
		n->chassis = 0;
		log_info("%s: chassis off (%s)", n->name, why);
		simd_power_update(n, why);
	}
	simd_power_arm(n, SIMD_TIMER_CYCLE, SIMD_CYCLE_SEC);
}

void
simd_power_usrp(struct simd_node *n, int on)
{
	if (n->usrp != on)
		log_info("%s: usrp %s", n->name, on ? "on" : "off");
	n->usrp = on;
}

/* An outlet of n changed: recompute AC, and the chassis follows it. */
static void
simd_power_ac(struct simd_node *n, const char *why)
{
	struct simd_outlet *o;
	u_int i;
	int ac = 0;

	for (i = 0; i < n->nplugs; i++) {
		o = &simd.pdus[n->plugs[i].pdu].outlets[n->plugs[i].outlet - 1];
		if (o->status == SIMD_OUTLET_ON)
			ac = 1;
	}
	if (ac == n->ac)
		return;
	n->ac = ac;
	if (n->timer_what == SIMD_TIMER_CYCLE)
		simd_power_disarm(n);
	n->chassis = ac;
	log_info("%s: AC %s, chassis %s (%s)", n->name, ac ? "on" : "off",
	    ac ? "on" : "off", why);
	simd_power_update(n, why);
}

static void
simd_outlet_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct simd_outlet *o = arg;

	o->status = SIMD_OUTLET_ON;
	log_info("%s:%u: on (reboot)", o->pdu->name, o->n);
	if (o->node != NULL)
		simd_power_ac(o->node, "outlet reboot");
}

/*
 * An outlet command. outlet-stuck on the node plugged in: accepted, and
 * nothing happens. Reboot: off now (status onWait), on after 2 s.
 */
void
simd_outlet_action(struct simd_outlet *o, enum simd_outlet_action act,
    const char *why)
{
	static const char *const names[] = {
	    [SIMD_OUTLET_ACT_ON] = "on",
	    [SIMD_OUTLET_ACT_OFF] = "off",
	    [SIMD_OUTLET_ACT_REBOOT] = "reboot",
	};
	struct timeval tv = {SIMD_OUTLET_REBOOT_SEC, 0};

	if (o->node != NULL &&
	    simd_fault_has(o->node, SIMD_FAULT_OUTLET_STUCK)) {
		log_info("%s:%u: %s ignored (outlet-stuck)", o->pdu->name, o->n,
		    names[act]);
		return;
	}
	log_info("%s:%u: %s (%s)", o->pdu->name, o->n, names[act], why);
	evtimer_del(o->timer);
	switch (act) {
	case SIMD_OUTLET_ACT_ON:
		o->status = SIMD_OUTLET_ON;
		break;
	case SIMD_OUTLET_ACT_OFF:
		o->status = SIMD_OUTLET_OFF;
		break;
	case SIMD_OUTLET_ACT_REBOOT:
		o->status = SIMD_OUTLET_ONWAIT;
		evtimer_add(o->timer, &tv);
		break;
	}
	if (o->node != NULL)
		simd_power_ac(o->node, why);
}
