/*
 * Power controllers as shared resources: a registry keyed by what a
 * controller is (a CMC card, a BMC ip:port, a PDU ip:port), so that every
 * operation on one controller goes through its queue, whichever node asks.
 *
 * Rules, all enforced here and nowhere else:
 * - one operation at a time per controller (a BMC serves one session
 *   well, a PDU serialises SNMP sets anyway);
 * - a minimum interval between the end of one operation and the start of
 *   the next on the same controller, per kind (Ironic's
 *   min_command_interval: weak BMCs crash when hammered);
 * - a global fan-out cap on operations in flight over all controllers;
 * - FIFO: per controller, requests are granted in the order they came;
 *   across controllers, in the order the controllers became ready;
 * - every wait is bounded: a request still queued at its deadline leaves
 *   the queue and its expire callback says why (controller busy, fan-out
 *   cap, minimum interval).
 *
 * Grants and expiries are delivered from the loop, never from inside
 * controller_request or controller_release.
 */
#ifndef ENGINE_CONTROLLER_H
#define ENGINE_CONTROLLER_H

#include <stddef.h>
#include <stdint.h>

enum controller_kind {
	CONTROLLER_CMC,
	CONTROLLER_IPMI,
	CONTROLLER_PDU,
	CONTROLLER_KIND__COUNT,
};

struct controller_params {
	unsigned fanout; /* operations in flight, all controllers, >= 1 */
	uint64_t min_interval_ms[CONTROLLER_KIND__COUNT];
};

struct controller_registry;
struct controller;
struct controller_wait;

/* The operation may start now; call controller_release when it is over. */
typedef void (*controller_grant_cb)(struct controller_wait *, void *arg);
/*
 * The deadline passed while queued: w has left the queue and is freed
 * when this returns (do not release it). why says what it waited for.
 */
typedef void (*controller_expire_cb)(struct controller_wait *, const char *why,
    void *arg);

struct controller_registry *controller_registry_new(
    const struct controller_params *);
/* Frees every controller; waits still queued are dropped silently. */
void controller_registry_free(struct controller_registry *);

/*
 * The controller of that kind and identity ("127.3.0.2:623"), created on
 * first use. name is for messages ("bmc02"); the first one given stays.
 */
struct controller *controller_get(struct controller_registry *,
    enum controller_kind, const char *id, const char *name);
const char *controller_name(const struct controller *);
const char *controller_kind_name(enum controller_kind);

/*
 * Queue an operation on c. Exactly one of grant (the operation may start)
 * or expire (deadline_ms, monotonic as loop_now_ms, passed first) is
 * called later, and neither after a release.
 */
struct controller_wait *controller_request(struct controller *,
    uint64_t deadline_ms, controller_grant_cb, controller_expire_cb, void *arg);
/* Move a queued request's deadline (later or earlier). */
void controller_extend(struct controller_wait *, uint64_t deadline_ms);
/* What a queued request waits for ("queued 1.2s for pdu1 behind ..."). */
void controller_wait_describe(const struct controller_wait *, char *, size_t);

/*
 * After a grant: the operation is over (the minimum interval starts now).
 * Before: the request is withdrawn. Frees w either way.
 */
void controller_release(struct controller_wait *);

/* Counters, for tests and benchmarks. */
struct controller_stats {
	unsigned inflight;     /* granted, not released */
	unsigned max_inflight; /* the most ever at once */
	size_t queued;         /* waiting for a grant */
	uint64_t granted;      /* grants so far */
	uint64_t expired;      /* requests that reached their deadline */
	size_t controllers;    /* known controllers */
};
void controller_registry_stats(const struct controller_registry *,
    struct controller_stats *);
/* Grants so far on one controller. */
uint64_t controller_granted(const struct controller *);

#endif
