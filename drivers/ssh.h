/*
 * ssh probes, for rwait: connect to a node's sshd and authenticate with a
 * key, on the event loop (libssh in non-blocking mode), and say how it
 * went with a typed result. Nothing is run on the node: a probe that
 * authenticated is "ssh OK" and the session is closed.
 *
 * The private key is loaded once per run (ssh_probe_key_load) and shared
 * by every probe. (libssh already owns the names ssh_key_load/ssh_key_free,
 * hence the ssh_probe_ prefix on everything here.)
 */
#ifndef DRIVERS_SSH_H
#define DRIVERS_SSH_H

struct event_base;
struct ssh_probe;
struct ssh_probe_key;

/* X(ID, text): text is what users read ("fit06: ssh auth denied"). */
#define SSH_PROBE_RESULTS(X)                                                   \
	X(OK, "ok")                                                            \
	X(CONNECT_TIMEOUT, "connection timeout") /* no TCP connection */       \
	X(REFUSED, "connection refused")         /* RST: no sshd, or off */    \
	X(AUTH_DENIED, "authentication denied")                                \
	X(HOSTKEY_MISMATCH, "host key mismatch") /* known_hosts differs */     \
	X(HOSTKEY_UNKNOWN, "host key unknown")   /* strict, not known */       \
	X(TIMEOUT, "timeout")          /* connected, then too slow */          \
	X(CLOSED, "connection closed") /* the peer hung up mid-handshake */    \
	X(PROTOCOL, "protocol error")  /* not ssh, or the handshake failed */  \
	X(NETWORK, "network error")    /* other socket errors, bad address */

#define SSH_PROBE_RESULT_ENUM(id, text) SSH_PROBE_##id,
enum ssh_probe_result {
	SSH_PROBE_RESULTS(SSH_PROBE_RESULT_ENUM) SSH_PROBE__COUNT
};
#undef SSH_PROBE_RESULT_ENUM

/* What to do with the server's host key ([networking] ssh_host_key_policy). */
enum ssh_probe_hostkey_policy {
	SSH_PROBE_HOSTKEY_ACCEPT_NEW, /* unknown: add it; changed: refuse */
	SSH_PROBE_HOSTKEY_NO_CHECK,   /* never look */
	SSH_PROBE_HOSTKEY_STRICT,     /* unknown or changed: refuse */
};

struct ssh_probe_reply {
	enum ssh_probe_result result;
	char detail[160]; /* one line for humans (libssh's words) */
	unsigned elapsed_ms;
};

typedef void (*ssh_probe_cb)(const struct ssh_probe_reply *, void *arg);

struct ssh_probe_params {
	const char *ip;                  /* numeric; no name lookup here */
	int port;                        /* 22 when 0 */
	const char *user;                /* "root" when NULL or empty */
	const struct ssh_probe_key *key; /* borrowed: outlives the probe */
	enum ssh_probe_hostkey_policy hostkey_policy;
	/* accept-new and strict: NULL or empty is ~/.ssh/known_hosts. */
	const char *known_hosts;
	unsigned connect_timeout_ms; /* TCP connect; 5000 when 0 */
	unsigned total_timeout_ms;   /* the whole probe; 10000 when 0 */
};

/*
 * Load a private key without a passphrase. path NULL or empty: the
 * user's ~/.ssh/id_ed25519, then ~/.ssh/id_rsa. On failure, NULL and a
 * one-line message in *errp (the caller frees it).
 */
struct ssh_probe_key *ssh_probe_key_load(const char *path, char **errp);
void ssh_probe_key_free(struct ssh_probe_key *);
const char *ssh_probe_key_path(const struct ssh_probe_key *);

/* "accept-new", "no-check", "strict": 0, or -1 for anything else. */
int ssh_probe_hostkey_policy_parse(const char *,
    enum ssh_probe_hostkey_policy *);
const char *ssh_probe_result_text(enum ssh_probe_result);

/*
 * Start a probe. cb is called exactly once, from the loop, never from
 * inside this call; not at all after ssh_probe_cancel. The probe frees
 * itself after cb returns; cancelling it from inside cb is allowed.
 */
struct ssh_probe *ssh_probe_start(struct event_base *,
    const struct ssh_probe_params *, ssh_probe_cb, void *arg);
void ssh_probe_cancel(struct ssh_probe *);

#endif
