/*
 * A TCP probe: is a service up at ip:port? Connect, and, if asked, wait
 * for the first byte the server sends (a telnetd opens with its option
 * negotiation), which proves a process answered and not only a kernel or
 * an inetd-style listener in front of a dead one. Then close. One typed
 * result, every wait bounded by the probe's timeout.
 */
#ifndef DRIVERS_TCP_PROBE_H
#define DRIVERS_TCP_PROBE_H

struct event_base;
struct tcp_probe;

enum tcp_probe_result {
	TCP_PROBE_OK,
	TCP_PROBE_REFUSED,   /* RST: nothing listens, or gated */
	TCP_PROBE_TIMEOUT,   /* no connection, or no byte, in time */
	TCP_PROBE_CLOSED,    /* connected, closed before a byte */
	TCP_PROBE_NET_ERROR, /* any other error: see the detail */
};

struct tcp_probe_params {
	const char *ip; /* numeric IPv4 or IPv6 */
	int port;
	unsigned timeout_ms; /* the whole probe, > 0 */
	int want_byte;       /* OK only once the server sent something */
};

/* detail: one line for the log ("connection refused"). */
typedef void (
    *tcp_probe_cb)(enum tcp_probe_result, const char *detail, void *arg);

/*
 * Start a probe. cb comes once, from the loop, never from inside this
 * call, and not after tcp_probe_cancel; the probe is freed after cb.
 * NULL only for an address that does not parse (*errp set).
 */
struct tcp_probe *tcp_probe_start(struct event_base *,
    const struct tcp_probe_params *, tcp_probe_cb, void *arg, char **errp);
void tcp_probe_cancel(struct tcp_probe *);

const char *tcp_probe_result_name(enum tcp_probe_result);

#endif
