/*
 * Jittered backoff (see backoff.h). random() is enough: this spreads
 * retries, it keeps no secret.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "engine/backoff.h"

uint64_t
backoff_spread_ms(uint64_t base_ms, double u)
{
	if (u < 0 || !(u < 1))
		u = 0.5;
	/* Truncated: the wait stays below 1.5 x base. */
	return ((uint64_t)((double)base_ms * (0.5 + u)));
}

uint64_t
backoff_next_ms(uint64_t base_ms)
{
	static int seeded;
	struct timespec ts;

	if (!seeded) {
		clock_gettime(CLOCK_REALTIME, &ts);
		srandom((unsigned)(ts.tv_nsec ^ ts.tv_sec ^ getpid()));
		seeded = 1;
	}
	return (backoff_spread_ms(base_ms, random() / ((double)RAND_MAX + 1)));
}
