/*
 * Jittered backoff, for the steps that retry until their deadline
 * (telnet-wait, ssh-wait): a wait of base x (0.5 + u), u uniform in
 * [0, 1), as rhubarbe does, so that a fleet reset together does not
 * knock on its nodes in step.
 */
#ifndef ENGINE_BACKOFF_H
#define ENGINE_BACKOFF_H

#include <stdint.h>

/* base x (0.5 + u) for a given u (outside [0, 1): 0.5), truncated. */
uint64_t backoff_spread_ms(uint64_t base_ms, double u);
/* The same with u drawn at random (seeded once per process). */
uint64_t backoff_next_ms(uint64_t base_ms);

#endif
