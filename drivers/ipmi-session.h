/*
 * The IPMI 2.0 (RMCP+) protocol of one power operation as a pure state
 * machine: fed with the datagrams the BMC sent and the time, it says which
 * datagram to send and when it wants to be woken up. No sockets, no
 * libevent, no clock of its own: drivers/ipmi.c runs it on the event loop,
 * and the unit tests run it against a fake BMC with a fake clock.
 *
 * Times are milliseconds on any monotonic clock the caller chooses.
 * Internal to the IPMI driver; not a public driver interface.
 */
#ifndef DRIVERS_IPMI_SESSION_H
#define DRIVERS_IPMI_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/ipmi.h"

struct ipmi_session;

/* Large enough for every datagram the session sends. */
#define IPMI_SESSION_DATAGRAM_MAX 256

/* Defaults for the zero (or -1) values of struct ipmi_params. */
#define IPMI_DEFAULT_PORT                  623
#define IPMI_DEFAULT_CIPHER                3
#define IPMI_DEFAULT_TIMEOUT_MS            20000
#define IPMI_DEFAULT_RETRANSMIT_MS         1000
#define IPMI_DEFAULT_CONTROL_RETRANSMIT_MS 5000
/* How long the reply to Close Session is awaited, at most. */
#define IPMI_CLOSE_WAIT_MS 500

/*
 * Start an operation at now: the first datagram is ready at once. Never
 * NULL; bad parameters give a session that is already done, with the
 * error (POWER_ERR_CREDENTIALS) in its reply. params->ip and port are not
 * looked at. The password is copied and the copy wiped by _free.
 */
struct ipmi_session *ipmi_session_new(const struct ipmi_params *,
    enum ipmi_command, uint64_t now);
void ipmi_session_free(struct ipmi_session *);

/* A datagram from the BMC, received at now. Anything is accepted. */
void ipmi_session_input(struct ipmi_session *, const void *, size_t,
    uint64_t now);
/* The socket reported an error (ECONNREFUSED after an ICMP message...). */
void ipmi_session_socket_error(struct ipmi_session *, int errnum);
/* Time passes: retransmissions, the close wait, the whole deadline. */
void ipmi_session_timer(struct ipmi_session *, uint64_t now);

/*
 * The datagram to send now, copied into buf (size bytes, at least
 * IPMI_SESSION_DATAGRAM_MAX); its length, or 0 when there is none. Each
 * datagram is returned once.
 */
size_t ipmi_session_output(struct ipmi_session *, void *buf, size_t size);
/* When ipmi_session_timer wants to be called; UINT64_MAX once done. */
uint64_t ipmi_session_next(const struct ipmi_session *);
/* 1 once the operation is over, with its result in *reply (if not NULL). */
int ipmi_session_done(const struct ipmi_session *, struct power_reply *reply);

/* For tests and debugging: what the session waits for ("rakp2"...). */
const char *ipmi_session_waiting(const struct ipmi_session *);
/* Datagrams sent so far, and of them the Chassis Control requests. */
unsigned ipmi_session_sent(const struct ipmi_session *);
unsigned ipmi_session_control_sent(const struct ipmi_session *);

#endif
