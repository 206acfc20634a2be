/*
 * libFuzzer harness for the imaging shell's output parser: the input is
 * fed whole, then again in pieces whose sizes come from the input itself;
 * both runs must give the same events (a digest of them), every line must
 * be NUL-terminated at its length and bounded, every percent in 0..100.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/frisbee-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct digest {
	uint64_t h;
	size_t events;
};

static void
mix(struct digest *d, uint64_t v)
{
	d->h = (d->h ^ v) * 1099511628211ULL;
}

static void
on_event(const struct frisbee_event *ev, void *arg)
{
	struct digest *d = arg;
	size_t i;

	d->events++;
	mix(d, (uint64_t)ev->type);
	switch (ev->type) {
	case FRISBEE_EV_LINE:
		if (ev->len > FRISBEE_LINE_MAX || ev->line[ev->len] != '\0' ||
		    memchr(ev->line, '\n', ev->len) != NULL ||
		    memchr(ev->line, '\0', ev->len) != NULL)
			abort();
		for (i = 0; i < ev->len; i++)
			mix(d, (unsigned char)ev->line[i]);
		mix(d, (uint64_t)ev->truncated);
		break;
	case FRISBEE_EV_PROGRESS:
		if (ev->percent < 0 || ev->percent > 100)
			abort();
		mix(d, (uint64_t)ev->percent);
		break;
	case FRISBEE_EV_JOINED:
		mix(d, ev->chunks);
		break;
	case FRISBEE_EV_WROTE:
		mix(d, ev->total);
		mix(d, ev->actual);
		break;
	case FRISBEE_EV_STATUS:
		if (ev->status < 0)
			abort();
		mix(d, (uint64_t)ev->status);
		break;
	case FRISBEE_EV_SHORT_WRITE:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frisbee_parser *fp;
	struct digest whole = {14695981039346656037ULL, 0};
	struct digest cut = {14695981039346656037ULL, 0};
	size_t at = 0, step;
	unsigned seed;

	fp = frisbee_parse_new(on_event, &whole);
	frisbee_parse_feed(fp, data, size);
	frisbee_parse_finish(fp);
	frisbee_parse_free(fp);

	/* Piece sizes from the first byte: 1..16, cycling. */
	seed = size > 0 ? data[0] : 0;
	fp = frisbee_parse_new(on_event, &cut);
	while (at < size) {
		step = 1 + (seed++ % 16);
		if (step > size - at)
			step = size - at;
		frisbee_parse_feed(fp, data + at, step);
		at += step;
	}
	frisbee_parse_finish(fp);
	frisbee_parse_free(fp);

	if (whole.h != cut.h || whole.events != cut.events)
		abort();
	return (0);
}
