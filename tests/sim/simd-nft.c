/*
 * nftables gating: what makes the one real sshd, telnetd, ipmi_sim and CMC
 * listener behave per node. Table "inet rhubarb_sim" holds one set of IPv4
 * addresses per gate (ssh_down, telnet_down: reject with a TCP reset, so a
 * connect is refused; dead, cmc_dead, bmc_dead: drop, so it times out) and
 * one input chain matching them.
 *
 * The model says what each node's gates should be (simd_power_gates());
 * this file makes nft agree. Changes made during a loop turn are coalesced
 * into one "nft -f -" batch run as a child with the batch on a pipe; while
 * one batch runs, further changes wait for the next. nft 1.0.6 fails a whole
 * transaction that deletes an absent element, so we track what each set
 * holds and only add what is missing and delete what is there. If a batch
 * fails anyway, the next one rebuilds the table from scratch (atomically:
 * one transaction), which cannot fail for that reason.
 *
 * Replies that report a change (a CMC "/off", a control "power NODE off")
 * are held until the batch carrying it has run, through waiters: whoever
 * gets "ok" can rely on the ports already being open or closed.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "simd.h"

/* Elements per "add element" line: keeps every line of a batch short. */
#define SIMD_NFT_CHUNK 256
/* A batch that takes longer than this is killed (and the table rebuilt). */
#define SIMD_NFT_TIMEOUT 5

static const struct simd_nft_set {
	const char *name;
	u_char gate;
	enum simd_addr_kind kind;
} simd_nft_sets[] = {
    {"ssh_down", SIMD_GATE_SSH_DOWN, SIMD_ADDR_CTL},
    {"telnet_down", SIMD_GATE_TELNET_DOWN, SIMD_ADDR_CTL},
    {"dead", SIMD_GATE_DEAD, SIMD_ADDR_CTL},
    {"cmc_dead", SIMD_GATE_CMC_DEAD, SIMD_ADDR_CMC},
    {"bmc_dead", SIMD_GATE_BMC_DEAD, SIMD_ADDR_BMC},
};

/*
 * The chain. Drops come first so that a dead address times out whatever
 * the port; rejects answer a SYN with a reset (connection refused).
 */
static const char simd_nft_chain[] =
    "\tchain input {\n"
    "\t\ttype filter hook input priority filter; policy accept;\n"
    "\t\tip daddr @dead drop\n"
    "\t\ttcp dport 80 ip daddr @cmc_dead drop\n"
    "\t\tudp dport 623 ip daddr @bmc_dead drop\n"
    "\t\ttcp dport 22 ip daddr @ssh_down reject with tcp reset\n"
    "\t\ttcp dport 23 ip daddr @telnet_down reject with tcp reset\n"
    "\t}\n";

TAILQ_HEAD(simd_nft_waiters, simd_nft_waiter);

static struct {
	int started;  /* simd_nft_start() called: changes are tracked */
	int running;  /* a batch is in flight */
	int rebuild;  /* the next batch recreates the whole table */
	int stopping; /* simd_nft_stop() called */
	int deleting; /* the batch in flight deletes the table */
	uint64_t gen_wanted;
	uint64_t gen_inflight;
	uint64_t gen_applied;
	u_int *dirty; /* node indexes, each at most once */
	u_int ndirty;
	struct event *flush;
	struct simd_nft_waiters waiters;
	void (*start_cb)(int);
	void (*stop_cb)(void);
} nft = {.waiters = TAILQ_HEAD_INITIALIZER(nft.waiters)};

static void simd_nft_flush_cb(evutil_socket_t, short, void *);
static void simd_nft_done(int, void *);
static void simd_nft_schedule(void);
static int simd_nft_run(struct evbuffer *);
static void simd_nft_build_all(struct evbuffer *);
static int simd_nft_build_diff(struct evbuffer *);
static void simd_nft_emit(struct evbuffer *, const char *, const char *,
    const struct in_addr *, u_int);
static struct in_addr simd_nft_addr(const struct simd_node *,
    enum simd_addr_kind);
static void simd_nft_release(void);
static void simd_nft_delete(void);

static struct in_addr
simd_nft_addr(const struct simd_node *n, enum simd_addr_kind kind)
{
	switch (kind) {
	case SIMD_ADDR_CMC:
		return (n->cmc);
	case SIMD_ADDR_BMC:
		return (n->bmc);
	case SIMD_ADDR_DATA:
		return (n->data);
	default:
		return (n->ctl);
	}
}

/* Write "OP element inet TABLE SET { a, b, ... }" lines for addrs. */
static void
simd_nft_emit(struct evbuffer *out, const char *op, const char *set,
    const struct in_addr *addrs, u_int n)
{
	char a[INET_ADDRSTRLEN];
	u_int i;

	for (i = 0; i < n; i++) {
		if (i % SIMD_NFT_CHUNK == 0)
			evbuffer_add_printf(out, "%s element inet %s %s { ", op,
			    SIMD_NFT_TABLE, set);
		inet_ntop(AF_INET, &addrs[i], a, sizeof a);
		evbuffer_add_printf(out, "%s%s", a,
		    i + 1 == n || (i + 1) % SIMD_NFT_CHUNK == 0 ? " }\n"
								: ", ");
	}
}

/*
 * The whole table, sets filled with what every node wants. "add table"
 * then "delete table" makes the delete safe when no table exists, and the
 * transaction replaces a table left by an earlier run in one step.
 */
static void
simd_nft_build_all(struct evbuffer *out)
{
	const struct simd_nft_set *s;
	struct simd_node *n;
	struct in_addr *addrs;
	u_int i, count;

	evbuffer_add_printf(out, "add table inet %s\ndelete table inet %s\n",
	    SIMD_NFT_TABLE, SIMD_NFT_TABLE);
	evbuffer_add_printf(out, "table inet %s {\n", SIMD_NFT_TABLE);
	for (s = simd_nft_sets; s < simd_nft_sets + nitems(simd_nft_sets); s++)
		evbuffer_add_printf(out, "\tset %s { type ipv4_addr; }\n",
		    s->name);
	evbuffer_add(out, simd_nft_chain, strlen(simd_nft_chain));
	evbuffer_add_printf(out, "}\n");

	addrs = xreallocarray(NULL, simd.nnodes + 1, sizeof *addrs);
	for (s = simd_nft_sets; s < simd_nft_sets + nitems(simd_nft_sets);
	     s++) {
		count = 0;
		for (i = 0; i < simd.nnodes; i++) {
			n = &simd.nodes[i];
			if (n->gates_want & s->gate)
				addrs[count++] = simd_nft_addr(n, s->kind);
		}
		simd_nft_emit(out, "add", s->name, addrs, count);
	}
	free(addrs);

	for (i = 0; i < simd.nnodes; i++) {
		simd.nodes[i].gates_have = simd.nodes[i].gates_want;
		simd.nodes[i].gates_dirty = 0;
	}
	nft.ndirty = 0;
}

/*
 * Only what changed on the dirty nodes since the last batch. Returns the
 * number of elements in the batch (0: nothing to run).
 */
static int
simd_nft_build_diff(struct evbuffer *out)
{
	const struct simd_nft_set *s;
	struct simd_node *n;
	struct in_addr *add, *del;
	u_int i, nadd, ndel;
	u_char change;
	int total = 0;

	add = xreallocarray(NULL, nft.ndirty + 1, sizeof *add);
	del = xreallocarray(NULL, nft.ndirty + 1, sizeof *del);
	for (s = simd_nft_sets; s < simd_nft_sets + nitems(simd_nft_sets);
	     s++) {
		nadd = ndel = 0;
		for (i = 0; i < nft.ndirty; i++) {
			n = &simd.nodes[nft.dirty[i]];
			change = (n->gates_want ^ n->gates_have) & s->gate;
			if (change == 0)
				continue;
			if (n->gates_want & s->gate)
				add[nadd++] = simd_nft_addr(n, s->kind);
			else
				del[ndel++] = simd_nft_addr(n, s->kind);
		}
		simd_nft_emit(out, "add", s->name, add, nadd);
		simd_nft_emit(out, "delete", s->name, del, ndel);
		total += nadd + ndel;
	}
	free(add);
	free(del);

	for (i = 0; i < nft.ndirty; i++) {
		n = &simd.nodes[nft.dirty[i]];
		n->gates_have = n->gates_want;
		n->gates_dirty = 0;
	}
	nft.ndirty = 0;
	return (total);
}

/* Run one batch; its completion is simd_nft_done(). */
static int
simd_nft_run(struct evbuffer *batch)
{
	static const char *const argv[] = {"nft", "-f", "-", NULL};
	size_t len = evbuffer_get_length(batch);
	int r;

	log_debug("nft batch, %zu bytes", len);
	r = simd_job_start(argv, (const char *)evbuffer_pullup(batch, -1), len,
	    SIMD_NFT_TIMEOUT, simd_nft_done, NULL);
	if (r == 0) {
		nft.running = 1;
		nft.gen_inflight = nft.gen_wanted;
	}
	return (r);
}

/* Create the table; cb(1) once it exists, cb(0) if nft failed. */
void
simd_nft_start(void (*cb)(int))
{
	struct evbuffer *batch;
	struct simd_node *n;
	u_int i;

	nft.dirty = xreallocarray(NULL, simd.nnodes + 1, sizeof *nft.dirty);
	nft.flush = event_new(simd.base, -1, 0, simd_nft_flush_cb, NULL);
	for (i = 0; i < simd.nnodes; i++) {
		n = &simd.nodes[i];
		n->gates_want = simd_power_gates(n);
	}
	nft.started = 1;
	nft.start_cb = cb;
	batch = evbuffer_new();
	simd_nft_build_all(batch);
	if (simd_nft_run(batch) != 0) {
		nft.start_cb = NULL;
		cb(0);
	}
	evbuffer_free(batch);
}

/* The model changed something on n: bring its gates up to date. */
void
simd_nft_update(struct simd_node *n)
{
	u_char want;

	want = simd_power_gates(n);
	if (!nft.started) {
		n->gates_want = want;
		return;
	}
	if (want == n->gates_want)
		return;
	n->gates_want = want;
	nft.gen_wanted++;
	if (!n->gates_dirty) {
		n->gates_dirty = 1;
		nft.dirty[nft.ndirty++] = n - simd.nodes;
	}
	simd_nft_schedule();
}

/* Flush at the end of this loop turn, unless a batch is in flight. */
static void
simd_nft_schedule(void)
{
	if (nft.running || nft.stopping || nft.start_cb != NULL)
		return;
	if (!event_pending(nft.flush, EV_TIMEOUT, NULL))
		event_active(nft.flush, EV_TIMEOUT, 0);
}

static void
simd_nft_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct evbuffer *batch;
	int count;

	if (nft.running || nft.stopping)
		return;
	batch = evbuffer_new();
	if (nft.rebuild) {
		log_info("nft: rebuilding table %s", SIMD_NFT_TABLE);
		nft.rebuild = 0;
		simd_nft_build_all(batch);
		count = 1;
	} else
		count = simd_nft_build_diff(batch);
	if (count == 0) {
		nft.gen_applied = nft.gen_wanted;
		simd_nft_release();
	} else if (simd_nft_run(batch) != 0) {
		/* Could not even fork: try again on the next change. */
		nft.rebuild = 1;
		nft.gen_applied = nft.gen_wanted;
		simd_nft_release();
	}
	evbuffer_free(batch);
}

/* Start deleting the table; stop_cb() once done. */
static void
simd_nft_delete(void)
{
	static const char *const argv[] = {"nft", "-f", "-", NULL};
	char batch[128];
	void (*cb)(void);
	int len;

	len = snprintf(batch, sizeof batch,
	    "add table inet %s\ndelete table inet %s\n", SIMD_NFT_TABLE,
	    SIMD_NFT_TABLE);
	nft.deleting = 1;
	if (simd_job_start(argv, batch, len, SIMD_NFT_TIMEOUT, simd_nft_done,
		NULL) == 0) {
		nft.running = 1;
		return;
	}
	cb = nft.stop_cb;
	nft.stop_cb = NULL;
	if (cb != NULL)
		cb();
}

static void
simd_nft_done(int status, void *arg)
{
	void (*start_cb)(int);
	void (*stop_cb)(void);
	int ok;

	ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	nft.running = 0;

	if (nft.deleting) {
		if (!ok)
			log_error("nft: cannot delete table %s",
			    SIMD_NFT_TABLE);
		stop_cb = nft.stop_cb;
		nft.stop_cb = NULL;
		if (stop_cb != NULL)
			stop_cb();
		return;
	}

	if (!ok) {
		if (status == -1)
			log_error("nft: batch timed out; rebuilding the table");
		else
			log_error("nft: batch failed (status %#x); rebuilding "
				  "the table",
			    status);
		nft.rebuild = 1;
	}
	/* Failed or not, the replies it held must go: nothing better comes. */
	nft.gen_applied = nft.gen_inflight;

	if (nft.stopping)
		nft.start_cb = NULL;
	if ((start_cb = nft.start_cb) != NULL) {
		nft.start_cb = NULL;
		start_cb(ok);
		if (!ok)
			return;
	}
	simd_nft_release();

	if (nft.stopping)
		simd_nft_delete();
	else if (nft.ndirty > 0 || nft.rebuild)
		simd_nft_schedule();
}

/* Call the waiters whose changes are in nft by now, oldest first. */
static void
simd_nft_release(void)
{
	struct simd_nft_waiter *w;

	while ((w = TAILQ_FIRST(&nft.waiters)) != NULL &&
	    w->gen <= nft.gen_applied) {
		TAILQ_REMOVE(&nft.waiters, w, entry);
		w->queued = 0;
		w->cb(w->arg);
	}
}

/*
 * If changes made so far are not in nft yet, queue w to call cb(arg) once
 * they are, and return 1; return 0 if there is nothing to wait for.
 */
int
simd_nft_wait(struct simd_nft_waiter *w, void (*cb)(void *), void *arg)
{
	if (!nft.started || nft.gen_applied >= nft.gen_wanted)
		return (0);
	w->gen = nft.gen_wanted;
	w->cb = cb;
	w->arg = arg;
	w->queued = 1;
	TAILQ_INSERT_TAIL(&nft.waiters, w, entry);
	return (1);
}

void
simd_nft_unwait(struct simd_nft_waiter *w)
{
	if (w->queued)
		TAILQ_REMOVE(&nft.waiters, w, entry);
	w->queued = 0;
}

/*
 * Delete the table, after the batch in flight if any; cb() when done
 * (bounded by the batch timeout).
 */
void
simd_nft_stop(void (*cb)(void))
{
	if (!nft.started || nft.stopping) {
		cb();
		return;
	}
	nft.stopping = 1;
	nft.stop_cb = cb;
	if (!nft.running)
		simd_nft_delete();
}

void
simd_nft_free(void)
{
	struct simd_nft_waiter *w;

	while ((w = TAILQ_FIRST(&nft.waiters)) != NULL)
		simd_nft_unwait(w);
	if (nft.flush != NULL)
		event_free(nft.flush);
	nft.flush = NULL;
	free(nft.dirty);
	nft.dirty = NULL;
}
