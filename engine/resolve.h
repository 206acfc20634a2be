/*
 * Name resolution for controllers, on the event loop: drivers take numeric
 * addresses, while the inventory names BMCs and PDUs by hostname. Names go
 * through evdns with the hosts file loaded (so /etc/hosts answers at once,
 * as the simulated testbed needs), numeric addresses are taken as they
 * are, and every answer is cached for the life of the resolver: a PDU
 * that feeds 40 nodes is looked up once.
 *
 * IPv4 only, since the drivers and the inventory are.
 */
#ifndef ENGINE_RESOLVE_H
#define ENGINE_RESOLVE_H

struct resolver;
struct resolve_req;

/* ip is the dotted quad, or NULL with err set ("no such host"). */
typedef void (*resolve_cb)(const char *ip, const char *err, void *arg);

/*
 * A resolver using the system's configuration (/etc/resolv.conf,
 * /etc/hosts). For tests: hosts_path replaces /etc/hosts and nameserver
 * ("127.0.0.1:5353", or NULL for none) the configured name servers.
 * timeout_ms bounds one DNS query (attempts: 2).
 */
struct resolver *resolver_new(unsigned timeout_ms, char **errp);
struct resolver *resolver_new_custom(const char *hosts_path,
    const char *nameserver, unsigned timeout_ms, char **errp);
/*
 * Queries still running are cancelled (after their callers' requests were
 * cancelled: no callback comes from here).
 */
void resolver_free(struct resolver *);

/*
 * Look name up; cb is called once, from the loop, never from inside this
 * call, and not at all after resolve_cancel.
 */
struct resolve_req *resolve_start(struct resolver *, const char *name,
    resolve_cb, void *arg);
void resolve_cancel(struct resolve_req *);

#endif
