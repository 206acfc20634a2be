/*
 * A telnet session with a node's imaging shell: connect, negotiate
 * (libtelnet on a bufferevent), send a few command lines once, read the
 * output until the node closes, and end with one typed result. The output
 * goes through the frisbee output parser (drivers/frisbee-parse.h): the
 * caller gets every raw line and every typed event, and the session uses
 * the parser's STATUS events (the shell's "_TELNET_STATUS=N" line, which
 * the commands must echo) to tell a finished shell from a dropped one.
 *
 * The commands are sent once, when the server's option negotiation has
 * been quiet for a moment or at most a second after the connection is up,
 * with "\n" sent as telnet's "\r\n"; they should end with "exit\n" so that
 * the node closes the connection.
 */
#ifndef DRIVERS_TELNET_H
#define DRIVERS_TELNET_H

#include "drivers/frisbee-parse.h"

struct event_base;
struct telnet_session;

enum telnet_result {
	TELNET_CLOSED,           /* closed after a status line: status */
	TELNET_CLOSED_NO_STATUS, /* closed, no status line seen */
	TELNET_CONNECT_TIMEOUT,  /* not connected within connect_ms */
	TELNET_REFUSED,          /* connection refused */
	TELNET_IDLE_TIMEOUT,     /* connected, then nothing for idle_ms */
	TELNET_TOTAL_TIMEOUT,    /* not over within total_ms */
	TELNET_NET_ERROR,        /* any other failure: see error, detail */
};

struct telnet_end {
	enum telnet_result result;
	int status;         /* the last status line's N, when have_status */
	int have_status;    /* a status line came (always, if CLOSED) */
	int error;          /* an errno value when there is one, else 0 */
	const char *detail; /* one line, for messages and the log */
	int connected;      /* the TCP connection was made */
	uint64_t bytes_in;  /* bytes received, telnet commands included */
};

struct telnet_params {
	const char *ip;       /* numeric IPv4 or IPv6: no name lookup here */
	int port;             /* 23 */
	unsigned connect_ms;  /* 0: no bound of its own (total_ms applies) */
	unsigned idle_ms;     /* once connected; 0: none */
	unsigned total_ms;    /* from start; 0: none */
	const char *commands; /* sent once, as they are ("...; exit\n") */
};

/* Every parser event: each raw line, then the typed events it gave. */
typedef void (*telnet_output_cb)(const struct frisbee_event *, void *arg);
typedef void (*telnet_end_cb)(const struct telnet_end *, void *arg);

/*
 * Start a session. Callbacks come from the loop, never from inside this
 * call: output callbacks while it runs, then end_cb exactly once, after
 * which the session is gone. None at all after telnet_session_cancel,
 * which may be called from an output callback (not from end_cb).
 */
struct telnet_session *telnet_session_start(struct event_base *,
    const struct telnet_params *, telnet_output_cb, telnet_end_cb, void *arg);
void telnet_session_cancel(struct telnet_session *);

/* "closed", "connect timeout", ...: a short name for each result. */
const char *telnet_result_name(enum telnet_result);

#endif
