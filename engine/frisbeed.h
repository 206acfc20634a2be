/*
 * The frisbeed multicast server of a load run: one local process that
 * sends one image to every node's frisbee client. A shared resource of the
 * run, owned by the load command, not by a node.
 *
 * Group and port: for i in 1..pattern_size, group PREFIX.i and port
 * port_base + i (rhubarbe's "234.5.6.*" and "10000 + *"). Each pair is
 * first probed with a UDP socket bound to group:port without SO_REUSEADDR:
 * EADDRINUSE means another run's server holds it, and the next pair is
 * tried. The server is then started (engine/child.h) as rhubarbe does:
 *
 *	SERVER -i LOCAL_IP -W BANDWIDTH*2^20 IMAGE OPTIONS... -m GROUP -p PORT
 *
 * where OPTIONS are server_options split on blanks (no shell). The probe
 * and the server's own bind may race with another run: a server that
 * exits with EADDRINUSE (the real frisbeed's "Could not bind to port N!")
 * before it has settled counts as "taken" too, and the next pair is tried;
 * at most pattern_size pairs in all. Any other early exit is a failure.
 *
 * Every output line of the server goes to the log as
 * "frisbeed GROUP:PORT: line" (info), and to the owner's line callback if
 * it gave one.
 *
 * Events, through the owner's callback, never from inside frisbeed_start
 * or frisbeed_stop, at most one of READY, FAILED per start and then at
 * most one of LOST, STOPPED:
 *
 *	FRISBEED_READY    the server has run FRISBEED_SETTLE_MS (or
 *			  settle_ms) without exiting: clients may now be sent
 *			  to frisbeed_group():frisbeed_port().
 *	FRISBEED_FAILED   it could not start (every pair taken, or it
 *			  exited at once); why is one line. Nothing runs.
 *	FRISBEED_LOST     it died while serving (after READY), not asked
 *			  to; why is one line ("frisbeed 234.5.6.1:10001
 *			  died: exit 1: ..."). Nothing runs. The owner
 *			  should fail the nodes' frisbee steps
 *			  (step_frisbee_server_lost).
 *	FRISBEED_STOPPED  after frisbeed_stop: the process is gone (why is
 *			  NULL), or did not go within FRISBEED_STOP_MS even
 *			  after SIGKILL (why says so; it is left to be reaped
 *			  when it can).
 *
 * The callback may call frisbeed_stop or frisbeed_free. Memory is freed on
 * the next loop turn, so freeing from a callback is safe.
 */
#ifndef ENGINE_FRISBEED_H
#define ENGINE_FRISBEED_H

#include "engine/child.h"

/* How long a new server must stay up to count as started. */
#define FRISBEED_SETTLE_MS 500
/* Bound on a stop: SIGTERM, SIGKILL after the grace, then the reap. */
#define FRISBEED_STOP_MS (CHILD_KILL_GRACE_MS + CHILD_KILL_FORCE_MS + 1000)

struct frisbeed;

enum frisbeed_event {
	FRISBEED_READY,
	FRISBEED_FAILED,
	FRISBEED_LOST,
	FRISBEED_STOPPED,
};

struct frisbeed_params {
	const char *server;         /* [frisbee] server, searched in PATH */
	const char *server_options; /* [frisbee] server_options; NULL: none */
	const char *local_ip; /* [networking] local_control_ip; required */
	long long bandwidth;  /* [networking] bandwidth, Mibps, > 0 */
	const char *image;    /* the image's path */
	/*
	 * [networking] pattern_multicast: "a.b.c.*" (config_str), or its
	 * prefix "a.b.c." (config_port_base); i replaces the "*".
	 */
	const char *pattern_multicast;
	int port_base;      /* config_port_base(pattern_port): port = +i */
	int pattern_size;   /* [networking] pattern_size, 1..254 tries */
	unsigned settle_ms; /* 0: FRISBEED_SETTLE_MS */
};

typedef void (*frisbeed_cb)(struct frisbeed *, enum frisbeed_event,
    const char *why, void *arg);
/* One output line of the server (stderr if is_stderr); may be NULL. */
typedef void (*frisbeed_line_cb)(struct frisbeed *, int is_stderr,
    const char *line, void *arg);

/*
 * Probe, pick the first free pair and start the server there. Returns
 * NULL with *errp set (one line, allocated) when nothing was started: bad
 * parameters ("frisbeed: no local IP (set [networking] local_control_ip)"),
 * every pair taken ("frisbeed: every group and port is taken
 * (234.5.6.1:10001 to 234.5.6.20:10020)"), or the program cannot run
 * ("frisbeed: cannot run 'frisbeed': No such file or directory"). Otherwise
 * the server is starting: READY or FAILED follows. The parameters are
 * copied.
 */
struct frisbeed *frisbeed_start(const struct frisbeed_params *, frisbeed_cb,
    frisbeed_line_cb, void *arg, char **errp);
/*
 * Stop the server: SIGTERM to its process group, SIGKILL after
 * CHILD_KILL_GRACE_MS. Returns 1 if a STOPPED event follows (within
 * FRISBEED_STOP_MS), 0 if nothing was running (after FAILED, LOST, STOPPED
 * or an earlier stop: no event follows). Safe to call more than once.
 */
int frisbeed_stop(struct frisbeed *);
/*
 * No more callbacks. A server still running is killed (SIGKILL) and
 * reaped by the loop later; memory goes on the next loop turn. NULL is
 * ignored.
 */
void frisbeed_free(struct frisbeed *);

/*
 * The group ("234.5.6.1") and port in use: final once READY; before that,
 * the pair being tried.
 */
const char *frisbeed_group(const struct frisbeed *);
int frisbeed_port(const struct frisbeed *);
/* READY and not since lost or stopped: clients may use it. */
int frisbeed_serving(const struct frisbeed *);
/*
 * The server's pid, leader of its own process group (for the run's
 * journal, engine/nextboot.h), or -1 when none runs.
 */
long frisbeed_pid(const struct frisbeed *);
/* "frisbeed@234.5.6.1:10001 on default.ndz at 500 Mibps" (rhubarbe's). */
const char *frisbeed_describe(const struct frisbeed *);

#endif
