/*
 * The delay step: one evtimer in step_data, nothing else to undo.
 */
#include <stddef.h>

#include <event2/event.h>

#include "common/log.h"
#include "engine/loop.h"
#include "engine/step-delay.h"

static enum step_result step_delay_start(struct node *,
    const struct step_ctx *);
static enum step_result step_delay_cancel(struct node *);
static void step_delay_clear(struct node *);

const struct step_def step_delay_def = {
    .name = "delay",
    .start = step_delay_start,
    .cancel = step_delay_cancel,
    .clear = step_delay_clear,
};

static void
step_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	step_done(arg, NODE_OUT_OK, NULL);
}

static enum step_result
step_delay_start(struct node *n, const struct step_ctx *ctx)
{
	const struct step_delay_conf *conf = ctx->arg;
	struct event *ev;
	struct timeval tv;

	if (conf->ms == 0)
		return (STEP_DONE);
	if ((ev = evtimer_new(loop_base(), step_delay_cb, n)) == NULL) {
		node_set_outcome(n, NODE_OUT_FAILED, "out of resources");
		return (STEP_FAIL);
	}
	loop_ms_to_timeval(conf->ms, &tv);
	evtimer_add(ev, &tv);
	n->step_data = ev;
	log_debug("%s: %s: %llu ms", __func__, node_name(n),
	    (unsigned long long)conf->ms);
	return (STEP_WAIT);
}

static enum step_result
step_delay_cancel(struct node *n)
{
	evtimer_del(n->step_data);
	return (STEP_DONE);
}

static void
step_delay_clear(struct node *n)
{
	/* Possibly inside the timer's own callback: free it later. */
	loop_event_free(n->step_data);
	n->step_data = NULL;
}
