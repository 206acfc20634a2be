/*
 * The imagezip step: one telnet session and the run's collector, two
 * independent ends that must both say yes. step_data is a struct
 * step_imagezip; the collector's callbacks reach it through the shared
 * step_imagezip_collect (its node, set while the step runs).
 * Whichever end comes last decides; a failure of either ends the step at
 * once (the other is cancelled), and a pipeline that reported success
 * gives the collector STEP_IMAGEZIP_GRACE_MS to see its end of stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "drivers/telnet.h"
#include "engine/loop.h"
#include "engine/step-imagezip.h"
#include "inventory/inventory.h"

struct step_imagezip {
	struct node *n;
	const struct step_imagezip_conf *conf;
	struct step_imagezip_collect *collect;
	struct telnet_session *ts; /* NULL once ended or cancelled */
	int telnet_ended;
	enum telnet_result tresult;
	int tstatus;
	int thave_status;
	char *tdetail;
	struct event *grace;
	int finished; /* step_done called, or cancelled */
};

static enum step_result step_imagezip_start(struct node *,
    const struct step_ctx *);
static enum step_result step_imagezip_cancel(struct node *);
static void step_imagezip_clear(struct node *);
static void step_imagezip_check(struct step_imagezip *);

const struct step_def step_imagezip_def = {
    .name = "imagezip",
    .start = step_imagezip_start,
    .cancel = step_imagezip_cancel,
    .clear = step_imagezip_clear,
    .timeout_outcome = NODE_OUT_SAVE_TIMEOUT,
};

char *
step_imagezip_shell_quote(const char *s)
{
	const char *p;
	char *out, *q;
	size_t len = 3;

	for (p = s; *p != '\0'; p++)
		len += *p == '\'' ? 4 : 1;
	out = q = xmalloc(len);
	*q++ = '\'';
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			/* Close, an escaped quote, reopen. */
			memcpy(q, "'\\''", 4);
			q += 4;
		} else
			*q++ = *p;
	}
	*q++ = '\'';
	*q = '\0';
	return (out);
}

char *
step_imagezip_stamp(time_t when, const char *node, const char *radical,
    const char *login, const char *comment)
{
	struct tm tm;
	char date[32], *out;

	localtime_r(&when, &tm);
	strftime(date, sizeof date, "%Y-%m-%d@%H:%M", &tm);
	/* Two blanks after the node: rhubarbe's line, which monitors parse. */
	xasprintf(&out, "%s - node %s  - image %s - by %s%s%s", date, node,
	    radical, login, comment != NULL ? " - " : "",
	    comment != NULL ? comment : "");
	return (out);
}

int
step_imagezip_stamp_valid(const char *text, char **errp)
{
	const unsigned char *p;
	size_t len = strlen(text);

	if (len > STEP_IMAGEZIP_STAMP_MAX) {
		xasprintf(errp, "too long (%zu bytes, at most %d)", len,
		    STEP_IMAGEZIP_STAMP_MAX);
		return (-1);
	}
	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		/* A terminal acts on these (a newline ends the command). */
		if (*p < 0x20 || *p == 0x7f) {
			xasprintf(errp, "control character 0x%02x at byte %zu",
			    *p, (size_t)(p - (const unsigned char *)text) + 1);
			return (-1);
		}
	}
	return (0);
}

char *
step_imagezip_commands(const struct step_imagezip_cmd *c)
{
	char *stamp = NULL, *out;

	if (strcmp(c->root_partition, "none") != 0) {
		char *q = step_imagezip_shell_quote(c->stamp);

		/* printf, not echo: some shells' echo reads backslashes. */
		xasprintf(&stamp,
		    "[ -d %s ] || mkdir %s; mount %s %s && "
		    "{ printf '%%s\\n' %s >> %s/etc/rhubarbe-image ; "
		    "umount %s; } ;\n",
		    c->mount_point, c->mount_point, c->root_partition,
		    c->mount_point, q, c->mount_point, c->mount_point);
		free(q);
	}
	xasprintf(&out,
	    "%sset -o pipefail\n"
	    "%s -o -z1 %s - | %s %s %d\n"
	    "echo _TELNET_STATUS=$?\n"
	    "exit\n",
	    stamp != NULL ? stamp : "", c->imagezip, c->hard_drive, c->netcat,
	    c->local_ip, c->port);
	free(stamp);
	return (out);
}

void
step_imagezip_collect_progress(void *arg, uint64_t bytes, double rate)
{
	struct step_imagezip_collect *collect = arg;

	if (collect->node != NULL)
		node_progress(collect->node, -1, bytes, rate);
}

void
step_imagezip_collect_done(void *arg, const struct collector_result *res)
{
	struct step_imagezip_collect *collect = arg;
	struct step_imagezip *si;

	collect->ended = 1;
	collect->result = *res;
	free(collect->error);
	collect->error = res->error != NULL ? xstrdup(res->error) : NULL;
	collect->result.error = collect->error;
	if (collect->node == NULL)
		return;
	si = collect->node->step_data;
	step_imagezip_check(si);
}

void
step_imagezip_collect_clear(struct step_imagezip_collect *collect)
{
	collector_free(collect->collector);
	collect->collector = NULL;
	free(collect->error);
	collect->error = NULL;
}

/* End the step: stop what still runs; a failure removes the partial. */
static void
step_imagezip_finish(struct step_imagezip *si, enum node_outcome outcome,
    const char *why)
{
	struct step_imagezip_collect *collect = si->collect;

	si->finished = 1;
	if (si->ts != NULL) {
		telnet_session_cancel(si->ts);
		si->ts = NULL;
	}
	evtimer_del(si->grace);
	collect->node = NULL;
	if (outcome != NODE_OUT_OK) {
		/* Allowed from inside the collector's own done callback. */
		collector_free(collect->collector);
		collect->collector = NULL;
	}
	step_done(si->n, outcome, "%s", why);
}

static void
step_imagezip_commit(struct step_imagezip *si)
{
	struct step_imagezip_collect *collect = si->collect;
	char *err = NULL, *why;

	if (collector_commit(collect->collector, &err) != 0) {
		xasprintf(&why, "commit: %s", err);
		free(err);
		step_imagezip_finish(si, NODE_OUT_SAVE_FAILED, why);
		free(why);
		return;
	}
	collect->committed = 1;
	node_message(si->n, LOG_LEVEL_INFO,
	    "saved %s: %llu bytes in %.1fs, %.1f MiB/s",
	    collect->path != NULL ? collect->path : "the image",
	    (unsigned long long)collect->result.bytes, collect->result.seconds,
	    collect->result.seconds > 0 ? (double)collect->result.bytes /
		    collect->result.seconds / 1048576
					: 0.0);
	si->finished = 1;
	evtimer_del(si->grace);
	collect->node = NULL;
	step_done(si->n, NODE_OUT_OK, NULL);
}

/* Decide if both ends are known, or one failed. */
static void
step_imagezip_check(struct step_imagezip *si)
{
	struct step_imagezip_collect *collect = si->collect;
	struct timeval tv;
	char *why;

	if (si->finished)
		return;
	if (collect->ended && collect->result.status != COLLECTOR_RECEIVED) {
		xasprintf(&why, "transfer: %s",
		    collect->error != NULL ? collect->error : "failed");
		step_imagezip_finish(si, NODE_OUT_SAVE_FAILED, why);
		free(why);
		return;
	}
	if (!si->telnet_ended)
		return;
	if (si->tresult != TELNET_CLOSED || !si->thave_status) {
		xasprintf(&why, "telnet: %s",
		    si->tdetail != NULL ? si->tdetail
					: telnet_result_name(si->tresult));
		step_imagezip_finish(si, NODE_OUT_SAVE_FAILED, why);
		free(why);
		return;
	}
	if (si->tstatus != 0) {
		xasprintf(&why, "imagezip pipeline exit %d", si->tstatus);
		step_imagezip_finish(si, NODE_OUT_SAVE_FAILED, why);
		free(why);
		return;
	}
	if (collect->ended) {
		step_imagezip_commit(si);
		return;
	}
	if (!evtimer_pending(si->grace, NULL)) {
		loop_ms_to_timeval(STEP_IMAGEZIP_GRACE_MS, &tv);
		evtimer_add(si->grace, &tv);
	}
}

static void
step_imagezip_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct step_imagezip *si = arg;
	char *why;

	xasprintf(&why,
	    "transfer: pipeline exit 0 but the stream did not end within %ds",
	    STEP_IMAGEZIP_GRACE_MS / 1000);
	step_imagezip_finish(si, NODE_OUT_SAVE_FAILED, why);
	free(why);
}

static void
step_imagezip_output_cb(const struct frisbee_event *ev, void *arg)
{
	struct step_imagezip *si = arg;

	if (ev->type == FRISBEE_EV_LINE && ev->len > 0)
		node_raw(si->n, ev->line, ev->truncated);
}

static void
step_imagezip_end_cb(const struct telnet_end *end, void *arg)
{
	struct step_imagezip *si = arg;

	si->ts = NULL; /* gone after this callback */
	si->telnet_ended = 1;
	si->tresult = end->result;
	si->tstatus = end->status;
	si->thave_status = end->have_status;
	if (end->detail != NULL)
		si->tdetail = xstrdup(end->detail);
	step_imagezip_check(si);
}

static enum step_result
step_imagezip_start(struct node *n, const struct step_ctx *ctx)
{
	const struct step_imagezip_conf *conf = ctx->arg;
	struct step_imagezip_collect *collect = conf->collect;
	struct telnet_params tp;
	struct step_imagezip *si;

	if (collect->collector == NULL) {
		node_set_outcome(n, NODE_OUT_SAVE_FAILED, "no collector");
		return (STEP_FAIL);
	}
	if (collect->ended && collect->result.status != COLLECTOR_RECEIVED) {
		node_set_outcome(n, NODE_OUT_SAVE_FAILED, "transfer: %s",
		    collect->error != NULL ? collect->error : "failed");
		collector_free(collect->collector);
		collect->collector = NULL;
		return (STEP_FAIL);
	}
	if (n->inv->control.ip == NULL) {
		node_set_outcome(n, NODE_OUT_SAVE_FAILED, "no control IP");
		return (STEP_FAIL);
	}
	si = xcalloc(1, sizeof *si);
	si->n = n;
	si->conf = conf;
	si->collect = collect;
	if ((si->grace = evtimer_new(loop_base(), step_imagezip_grace_cb,
		 si)) == NULL) {
		free(si);
		node_set_outcome(n, NODE_OUT_SAVE_FAILED, "out of resources");
		return (STEP_FAIL);
	}

	memset(&tp, 0, sizeof tp);
	tp.ip = n->inv->control.ip;
	tp.port = n->inv->telnet_port;
	tp.connect_ms = conf->connect_ms;
	tp.commands = conf->commands;
	si->ts = telnet_session_start(loop_base(), &tp, step_imagezip_output_cb,
	    step_imagezip_end_cb, si);
	n->step_data = si;
	collect->node = n;
	node_message(n, LOG_LEVEL_INFO, "imagezip to port %d",
	    collector_port(collect->collector));
	return (STEP_WAIT);
}

/* Stop both ends; freeing the collector removes the partial image. */
static enum step_result
step_imagezip_cancel(struct node *n)
{
	struct step_imagezip *si = n->step_data;
	struct step_imagezip_collect *collect = si->collect;

	si->finished = 1;
	if (si->ts != NULL) {
		telnet_session_cancel(si->ts);
		si->ts = NULL;
	}
	evtimer_del(si->grace);
	collect->node = NULL;
	collector_free(collect->collector);
	collect->collector = NULL;
	return (STEP_DONE);
}

static void
step_imagezip_clear(struct node *n)
{
	struct step_imagezip *si = n->step_data;

	if (si == NULL)
		return;
	if (si->ts != NULL)
		telnet_session_cancel(si->ts);
	if (si->collect->node == n)
		si->collect->node = NULL;
	/* Possibly inside the grace timer's own callback: free it later. */
	loop_event_free(si->grace);
	free(si->tdetail);
	free(si);
	n->step_data = NULL;
}
