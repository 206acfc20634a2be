/*
 * rhubarb-simd, the simulator's power and boot daemon (tests/sim/DESIGN.md).
 * One process holds the power state of every simulated node and PDU outlet,
 * runs each node's boot sequence, answers as every node's CMC card over
 * HTTP, gates the real sshd and telnetd per node with nftables sets, keeps
 * the injected faults, and serves the control socket that scripts, hooks
 * and the node-side tools ask.
 *
 * Files: simd.c (main, nodes.conf, lookups), simd-power.c (power and boot
 * model, outlets), simd-fault.c (faults), simd-nft.c (nftables gating),
 * simd-cmc.c (CMC HTTP), simd-ctl.c (control socket), simd-job.c (child
 * processes). Nodes and PDUs live for the whole run, so pointers to them
 * are stable; everything is driven by one libevent loop.
 */
#ifndef SIMD_H
#define SIMD_H

#include <sys/types.h>

#include <stdint.h>

#include <netinet/in.h>

#include <event2/event.h>
#include <event2/buffer.h>

#include "common/compat.h"

#define SIMD_NFT_TABLE "rhubarb_sim"
#define SIMD_MAXPLUGS  4

/* Node states, in boot order. */
enum simd_state {
	SIMD_OFF,
	SIMD_BOOTING,
	SIMD_IMAGING,
	SIMD_INSTALLED,
};
#define SIMD_STATE_VALID(s) ((s) >= SIMD_OFF && (s) <= SIMD_INSTALLED)

/* Faults, as named by the issue; one bit each in simd_node.faults. */
#define SIMD_FAULT_LIST(X)                                                     \
	X(CMC_DEAD, "cmc-dead")                                                \
	X(CMC_SLOW, "cmc-slow")                                                \
	X(NO_BOOT, "no-boot")                                                  \
	X(SLOW_BOOT, "slow-boot")                                              \
	X(TELNET_REFUSED, "telnet-refused")                                    \
	X(FRISBEE_FAIL, "frisbee-fail")                                        \
	X(IMAGEZIP_FAIL, "imagezip-fail")                                      \
	X(SSH_REFUSED, "ssh-refused")                                          \
	X(SSH_AUTH_FAIL, "ssh-auth-fail")                                      \
	X(BMC_UNREACHABLE, "bmc-unreachable")                                  \
	X(BMC_BADPASS, "bmc-badpass")                                          \
	X(BMC_SLOW, "bmc-slow")                                                \
	X(OUTLET_STUCK, "outlet-stuck")

enum simd_fault {
#define SIMD_FAULT_ENUM(e, s) SIMD_FAULT_##e,
	SIMD_FAULT_LIST(SIMD_FAULT_ENUM)
#undef SIMD_FAULT_ENUM
	    SIMD_NFAULTS,
	SIMD_FAULT_CLEAR = SIMD_NFAULTS, /* pseudo-kind "clear" */
};
#define SIMD_FAULT_BIT(f) (1U << (f))

/* What a node's timer is armed for. */
enum simd_timer {
	SIMD_TIMER_NONE,
	SIMD_TIMER_BOOT,  /* end of the boot delay */
	SIMD_TIMER_CYCLE, /* power back on, 1 s after a cycle's off */
};

/* nftables gates, bits of simd_node.gates_*: one per set. */
#define SIMD_GATE_SSH_DOWN    0x01
#define SIMD_GATE_TELNET_DOWN 0x02
#define SIMD_GATE_CMC_DEAD    0x04
#define SIMD_GATE_BMC_DEAD    0x08
#define SIMD_GATE_DEAD        0x10

/* Which of a node's addresses an address is. */
enum simd_addr_kind {
	SIMD_ADDR_CTL,
	SIMD_ADDR_CMC,
	SIMD_ADDR_BMC,
	SIMD_ADDR_DATA,
	SIMD_ADDR_ANY,
};

/* Sentry3 outletStatus values. */
enum simd_outlet_status {
	SIMD_OUTLET_OFF = 0,
	SIMD_OUTLET_ON = 1,
	SIMD_OUTLET_OFFWAIT = 2,
	SIMD_OUTLET_ONWAIT = 3,
};

enum simd_outlet_action {
	SIMD_OUTLET_ACT_ON,
	SIMD_OUTLET_ACT_OFF,
	SIMD_OUTLET_ACT_REBOOT,
};

struct simd_plug {
	u_int pdu;    /* index in simd.pdus */
	u_int outlet; /* 1-based */
};

struct simd_node {
	char *name;
	u_int idx; /* I in nodes.conf */
	struct in_addr ctl;
	struct in_addr cmc;
	struct in_addr bmc; /* valid if has_bmc */
	struct in_addr data;
	int has_bmc;
	char pxe[24]; /* "01-" and the MAC with dashes */
	struct simd_plug plugs[SIMD_MAXPLUGS];
	u_int nplugs;

	/* Model; only simd-power.c writes these. */
	enum simd_state state;
	int chassis;
	int ac;
	int usrp;
	struct event *timer;
	enum simd_timer timer_what;

	/* Faults; only simd-fault.c writes. */
	u_int faults;

	/* Gating; only simd-nft.c writes. */
	u_char gates_want;
	u_char gates_have;
	int gates_dirty;
};

struct simd_pdu;

struct simd_outlet {
	struct simd_pdu *pdu;
	u_int n;
	struct simd_node *node; /* NULL when nothing is plugged in */
	enum simd_outlet_status status;
	struct event *timer; /* reboot: back on after the off time */
};

struct simd_pdu {
	char *name;
	struct in_addr addr;
	u_int noutlets;
	struct simd_outlet *outlets; /* [0] is outlet 1 */
};

struct simd {
	struct event_base *base;
	char *dir; /* absolute */
	char *bin; /* directory of our executable (SIM_BIN) */
	int ready; /* the table exists and every listener is up */
	double boot_delay;
	struct simd_node *nodes;
	u_int nnodes;
	struct simd_pdu *pdus;
	u_int npdus;
};
extern struct simd simd;

/* simd.c */
struct simd_node *simd_node_find(const char *);
struct simd_node *simd_node_by_addr(struct in_addr, enum simd_addr_kind);
struct simd_pdu *simd_pdu_find(const char *);
void simd_shutdown(const char *);

/* simd-power.c */
void simd_power_init(void);
void simd_power_free(void);
const char *simd_power_state_name(enum simd_state);
int simd_power_is_on(const struct simd_node *);
void simd_power_chassis(struct simd_node *, int, const char *);
void simd_power_reset(struct simd_node *, const char *);
void simd_power_cycle(struct simd_node *, const char *);
void simd_power_usrp(struct simd_node *, int);
u_char simd_power_gates(const struct simd_node *);
void simd_outlet_action(struct simd_outlet *, enum simd_outlet_action,
    const char *);

/* simd-fault.c */
int simd_fault_parse(const char *);
const char *simd_fault_name(enum simd_fault);
int simd_fault_has(const struct simd_node *, enum simd_fault);
int simd_fault_set(struct simd_node *, int, char **);
void simd_fault_print(const struct simd_node *, struct evbuffer *);
int simd_fault_load(const char *, char **);

/* simd-nft.c */
struct simd_nft_waiter {
	TAILQ_ENTRY(simd_nft_waiter) entry;
	uint64_t gen;
	int queued;
	void (*cb)(void *);
	void *arg;
};
void simd_nft_start(void (*)(int));
void simd_nft_update(struct simd_node *);
int simd_nft_wait(struct simd_nft_waiter *, void (*)(void *), void *);
void simd_nft_unwait(struct simd_nft_waiter *);
void simd_nft_stop(void (*)(void));
void simd_nft_free(void);

/* simd-cmc.c */
int simd_cmc_start(char **);
void simd_cmc_stop(void);

/* simd-ctl.c */
int simd_ctl_start(const char *, char **);
void simd_ctl_stop(void);

/* simd-job.c */
typedef void (*simd_job_cb)(int, void *);
void simd_job_init(void);
void simd_job_free(void);
int simd_job_start(const char *const *, const char *, size_t, int, simd_job_cb,
    void *);

#endif
