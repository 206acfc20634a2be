/*
 * The resolver: a cache of names (a red-black tree), each either pending
 * (one evdns_getaddrinfo in flight, with the requests waiting on it) or
 * done (an address or an error). Answers reach callers through an event
 * of their own, activated when the answer is there, so a caller never
 * gets its callback inside resolve_start even when evdns answers
 * synchronously (numeric names, the hosts file), and a cancelled request
 * simply frees its event.
 *
 * evdns delivers cancelled or shut-down queries through deferred
 * callbacks; resolver_free therefore cancels what is still pending and
 * turns the loop (without blocking) until those callbacks have come, so
 * that nothing evdns allocated is left behind.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/tree.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/loop.h"
#include "engine/resolve.h"

/* Loop turns resolver_free may take to collect cancelled queries. */
#define RESOLVE_DRAIN_TURNS 100

struct resolve_entry {
	struct resolver *res;
	char *name;
	int done;
	char ip[INET_ADDRSTRLEN];
	char *err; /* done and failed */
	struct evdns_getaddrinfo_request *query;
	int querying; /* evdns_getaddrinfo has not called back */
	TAILQ_HEAD(, resolve_req) waiters;
	RB_ENTRY(resolve_entry) tree_entry;
};

struct resolve_req {
	struct resolve_entry *e;
	resolve_cb cb;
	void *arg;
	struct event *ev;
	int waiting; /* in e->waiters */
	TAILQ_ENTRY(resolve_req) entry;
};

RB_HEAD(resolve_tree, resolve_entry);

struct resolver {
	struct evdns_base *dns;
	struct resolve_tree tree;
	unsigned querying; /* queries without their callback yet */
};

static int resolve_cmp(struct resolve_entry *, struct resolve_entry *);
static void resolve_query_cb(int, struct evutil_addrinfo *, void *);
static void resolve_deliver_cb(evutil_socket_t, short, void *);

RB_GENERATE_STATIC(resolve_tree, resolve_entry, tree_entry, resolve_cmp)

static int
resolve_cmp(struct resolve_entry *a, struct resolve_entry *b)
{
	return (strcmp(a->name, b->name));
}

static int
resolve_set_options(struct evdns_base *dns, unsigned timeout_ms, char **errp)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%.3f", timeout_ms / 1e3);
	if (evdns_base_set_option(dns, "timeout:", buf) != 0 ||
	    evdns_base_set_option(dns, "attempts:", "2") != 0) {
		xasprintf(errp, "resolver: cannot set options");
		return (-1);
	}
	return (0);
}

static struct resolver *
resolve_wrap(struct evdns_base *dns)
{
	struct resolver *res;

	res = xcalloc(1, sizeof *res);
	res->dns = dns;
	RB_INIT(&res->tree);
	return (res);
}

struct resolver *
resolver_new(unsigned timeout_ms, char **errp)
{
	struct evdns_base *dns;

	/*
	 * Name servers and the hosts file from the system; inactive, the
	 * base holds no event that would keep the loop running.
	 */
	dns = evdns_base_new(loop_base(),
	    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (dns == NULL) {
		/* /etc/resolv.conf unusable: the hosts file still works. */
		dns = evdns_base_new(loop_base(),
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (dns == NULL) {
			xasprintf(errp, "resolver: cannot start evdns");
			return (NULL);
		}
		evdns_base_load_hosts(dns, NULL);
	}
	if (resolve_set_options(dns, timeout_ms, errp) != 0) {
		evdns_base_free(dns, 0);
		return (NULL);
	}
	return (resolve_wrap(dns));
}

struct resolver *
resolver_new_custom(const char *hosts_path, const char *nameserver,
    unsigned timeout_ms, char **errp)
{
	struct evdns_base *dns;

	dns = evdns_base_new(loop_base(), EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (dns == NULL) {
		xasprintf(errp, "resolver: cannot start evdns");
		return (NULL);
	}
	if (evdns_base_load_hosts(dns, hosts_path) != 0) {
		xasprintf(errp, "resolver: cannot read %s", hosts_path);
		evdns_base_free(dns, 0);
		return (NULL);
	}
	if (nameserver != NULL &&
	    evdns_base_nameserver_ip_add(dns, nameserver) != 0) {
		xasprintf(errp, "resolver: bad name server %s", nameserver);
		evdns_base_free(dns, 0);
		return (NULL);
	}
	if (resolve_set_options(dns, timeout_ms, errp) != 0) {
		evdns_base_free(dns, 0);
		return (NULL);
	}
	return (resolve_wrap(dns));
}

void
resolver_free(struct resolver *res)
{
	struct resolve_entry *e, *e1;
	unsigned turns;

	if (res == NULL)
		return;
	RB_FOREACH(e, resolve_tree, &res->tree) {
		/* Callers cancelled their requests first: nobody waits. */
		if (e->querying && e->query != NULL)
			evdns_getaddrinfo_cancel(e->query);
	}
	for (turns = 0; res->querying > 0 && turns < RESOLVE_DRAIN_TURNS;
	     turns++)
		event_base_loop(loop_base(), EVLOOP_NONBLOCK);
	if (res->querying > 0)
		log_warn("resolver: %u queries still running at exit",
		    res->querying);
	evdns_base_free(res->dns, 0);
	RB_FOREACH_SAFE(e, resolve_tree, &res->tree, e1) {
		RB_REMOVE(resolve_tree, &res->tree, e);
		if (e->querying)
			continue; /* its callback never came: leave it */
		free(e->name);
		free(e->err);
		free(e);
	}
	free(res);
}

/* Hand the entry's answer to one request, on the next loop turn. */
static void
resolve_wake(struct resolve_req *req)
{
	event_active(req->ev, EV_TIMEOUT, 0);
}

static void
resolve_query_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct resolve_entry *e = arg;
	struct evutil_addrinfo *p;
	struct resolve_req *req;
	const struct sockaddr_in *sin;

	e->querying = 0;
	e->query = NULL;
	e->res->querying--;
	e->done = 1;
	if (result == 0) {
		for (p = ai; p != NULL; p = p->ai_next) {
			if (p->ai_family != AF_INET)
				continue;
			sin = (const struct sockaddr_in *)p->ai_addr;
			inet_ntop(AF_INET, &sin->sin_addr, e->ip, sizeof e->ip);
			break;
		}
		if (e->ip[0] == '\0')
			e->err = xstrdup("no IPv4 address");
	} else
		e->err = xstrdup(evutil_gai_strerror(result));
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
	log_debug("resolve: %s: %s", e->name, e->err != NULL ? e->err : e->ip);
	TAILQ_FOREACH(req, &e->waiters, entry) {
		resolve_wake(req);
	}
}

static void
resolve_deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolve_req *req = arg;
	struct resolve_entry *e = req->e;

	if (req->waiting) {
		TAILQ_REMOVE(&e->waiters, req, entry);
		req->waiting = 0;
	}
	if (e->err != NULL)
		req->cb(NULL, e->err, req->arg);
	else
		req->cb(e->ip, NULL, req->arg);
	loop_event_free(req->ev);
	free(req);
}

struct resolve_req *
resolve_start(struct resolver *res, const char *name, resolve_cb cb, void *arg)
{
	struct evutil_addrinfo hints;
	struct resolve_entry key, *e;
	struct resolve_req *req;
	struct in_addr in;

	req = xcalloc(1, sizeof *req);
	req->cb = cb;
	req->arg = arg;
	req->ev = event_new(loop_base(), -1, 0, resolve_deliver_cb, req);
	if (req->ev == NULL) {
		log_error("%s: event_new failed", __func__);
		abort();
	}

	memset(&key, 0, sizeof key);
	key.name = (char *)(uintptr_t)name;
	if ((e = RB_FIND(resolve_tree, &res->tree, &key)) == NULL) {
		e = xcalloc(1, sizeof *e);
		e->res = res;
		e->name = xstrdup(name);
		TAILQ_INIT(&e->waiters);
		RB_INSERT(resolve_tree, &res->tree, e);
		if (inet_pton(AF_INET, name, &in) == 1) {
			/* Already an address: no query. */
			e->done = 1;
			strlcpy(e->ip, name, sizeof e->ip);
		} else {
			memset(&hints, 0, sizeof hints);
			hints.ai_family = AF_INET;
			hints.ai_socktype = SOCK_DGRAM;
			e->querying = 1;
			res->querying++;
			/* Its callback may run before this returns. */
			e->query = evdns_getaddrinfo(res->dns, name, NULL,
			    &hints, resolve_query_cb, e);
			if (!e->querying)
				e->query = NULL;
		}
	}
	req->e = e;
	TAILQ_INSERT_TAIL(&e->waiters, req, entry);
	req->waiting = 1;
	if (e->done)
		resolve_wake(req);
	return (req);
}

void
resolve_cancel(struct resolve_req *req)
{
	if (req == NULL)
		return;
	if (req->waiting)
		TAILQ_REMOVE(&req->e->waiters, req, entry);
	loop_event_free(req->ev);
	free(req);
}
