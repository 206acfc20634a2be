/*
 * The delay step: wait a fixed time (settle delays between power and
 * telnet, and a way to test plans). Its argument is a step_delay_conf.
 */
#ifndef ENGINE_STEP_DELAY_H
#define ENGINE_STEP_DELAY_H

#include <stdint.h>

#include "engine/step.h"

struct step_delay_conf {
	uint64_t ms;
};

extern const struct step_def step_delay_def;

#endif
