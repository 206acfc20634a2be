/*
 * The frisbee step: one node writes the image on its disk. A telnet
 * session (drivers/telnet.h) to the node's control IP, where the imaging
 * system gives a root shell, sends
 *
 *	CLIENT -i NODE_CONTROL_IP -m GROUP -p PORT HARD_DRIVE
 *	echo _TELNET_STATUS=$?
 *	exit
 *
 * and reads the client's output until the node closes.
 *
 * Every raw line is a node-message at LOG_LEVEL_DEBUG. "Joined the team"
 * gives an info message "joined: N chunks" and node-progress 0; every
 * progress line a node-progress (percent, bytes = percent of image_size,
 * rate = bytes per second since the join); "Wrote N bytes" an info
 * message "wrote N bytes in S s, R MiB/s" and node-progress 100.
 *
 * The node's outcome:
 *	ok               status 0 and no short write
 *	frisbee-failed   "frisbee exit 1", "frisbee exit 1: short write",
 *			 "frisbee exit 0 but short write", "connection closed
 *			 before the status line", "telnet: connection
 *			 refused", "telnet: connect timeout", "telnet: no
 *			 output for N s", "telnet: <error>", "frisbee server
 *			 lost: <why>", "frisbee server not serving"
 *	frisbee-timeout  the step's deadline passed (timeout_outcome)
 *
 * The step's deadline (step_inst timeout_ms, default
 * STEP_FRISBEE_TIMEOUT_MS, rhubarb's [nodes] imaging_timeout) bounds the
 * whole session; a cancel ends the session at once (no cleanup to wait
 * for).
 */
#ifndef ENGINE_STEP_FRISBEE_H
#define ENGINE_STEP_FRISBEE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/step.h"

struct frisbeed;

#define STEP_FRISBEE_TIMEOUT_MS   (1200 * 1000) /* [nodes] imaging_timeout */
#define STEP_FRISBEE_CONNECT_MS   5000
#define STEP_FRISBEE_DEFAULT_PORT 23

/*
 * Shared by every node of a run (one instance, borrowed by the plans; it
 * must outlive the run). The group and port come from server when it is
 * set (it must be serving when a step starts, or the step fails), from
 * group and port otherwise.
 */
struct step_frisbee_conf {
	const char *client;      /* [frisbee] client: "frisbee" */
	const char *hard_drive;  /* [frisbee] hard_drive: "/dev/sda" */
	int telnet_port;         /* 0: 23 */
	struct frisbeed *server; /* or NULL: group and port below */
	const char *group;       /* "234.5.6.1" */
	int port;                /* 10001 */
	uint64_t image_size;     /* bytes, for progress; 0: unknown */
	unsigned connect_ms;     /* 0: STEP_FRISBEE_CONNECT_MS */
	unsigned idle_ms;        /* no output that long fails; 0: no bound */
};

extern const struct step_def step_frisbee_def;

/*
 * The frisbee server of conf is gone (the owner got FRISBEED_LOST): every
 * frisbee step of conf that is waiting now ends "frisbee-failed" with
 * "frisbee server lost: why", its telnet session dropped. Steps of conf
 * that start later fail at once if conf->server is not serving (with
 * server NULL they cannot be told, so call this only with a server).
 * Returns how many steps it ended. Not from inside a step's own callback.
 */
size_t step_frisbee_server_lost(const struct step_frisbee_conf *,
    const char *why);

/* The command line sent to the node's shell (allocated). */
char *step_frisbee_commands(const struct step_frisbee_conf *,
    const char *node_ip, const char *group, int port);

#endif
