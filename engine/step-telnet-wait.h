/*
 * The telnet-wait step of load and save: after the reset, probe the
 * node's telnet port until its imaging system answers (a connection and
 * the server's first bytes, drivers/tcp-probe.h), each try bounded by
 * connect_ms, with a jittered backoff between tries (backoff x [0.5, 1.5),
 * as rhubarbe, so that a fleet reset together does not probe in step).
 * Its deadline is the step's timeout ([nodes] boot_timeout): then the
 * node ends "telnet-timeout" with the last try's result in its why.
 */
#ifndef ENGINE_STEP_TELNET_WAIT_H
#define ENGINE_STEP_TELNET_WAIT_H

#include <stdint.h>

#include "engine/step.h"

struct step_telnet_wait_conf {
	int port;            /* 0: the node's telnet port, else 23 */
	unsigned connect_ms; /* one try, > 0 */
	uint64_t backoff_ms; /* mean wait between tries */
};

extern const struct step_def step_telnet_wait_def;

#endif
