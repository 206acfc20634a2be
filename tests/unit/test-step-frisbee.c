/*
 * The frisbee step in a run, against an in-process fake telnet server on
 * 127.0.0.1 (an evconnlistener in the same loop) that plays the node's
 * imaging shell: it reads the commands up to "exit", then prints what the
 * test asks (a frisbee client's lines and a status line) and closes, or
 * says nothing at all. Checked: the command line the node gets, progress
 * events up to 100 with bytes from the image size, the joined and wrote
 * messages, raw lines at debug level, and every outcome: ok, short write
 * with status 1, closed before the status line, refused, deadline passed,
 * the frisbee server lost, and a server that never served. Every loop run
 * is bounded by a guard timer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/bus.h"
#include "engine/frisbeed.h"
#include "engine/loop.h"
#include "engine/node.h"
#include "engine/run.h"
#include "engine/step-frisbee.h"
#include "engine/step.h"
#include "inventory/inventory.h"
#include "tests/unit/guard.h"
#include "tests/unit/loopback.h"

#define GUARD_MS   10000
#define NNODES     2
#define MAXMSG     64
#define IMAGE_SIZE 4000000

/* What the fake shell prints once it has the commands. */
static const char out_ok[] =
    "Bound to port 10001\r\n"
    "Joined the team after 0 sec. ID is 1. File is 4 chunks "
    "(4096 blocks)\r\n"
    "..   0      3\r\n"
    "..   0      2\r\n"
    "Progress: 75%\r\n"
    "Wrote 4194304 bytes (4194304 actual)\r\n"
    "_TELNET_STATUS=0\r\n";
static const char out_short[] =
    "Joined the team after 0 sec. ID is 1. File is 4 chunks "
    "(4096 blocks)\r\n"
    "..   0      2\r\n"
    "Short write! wrote 0 of 1048576 bytes\r\n"
    "_TELNET_STATUS=1\r\n";
static const char out_drop[] =
    "Joined the team after 0 sec. ID is 1. File is 4 chunks "
    "(4096 blocks)\r\n"
    "..   0      2\r\n";

struct conn {
	struct bufferevent *bev;
	char got[1024];
	size_t ngot;
	int answered;
};

struct msg {
	char node[16];
	enum log_level level;
	char text[256];
};

struct fixture {
	struct guard guard;
	struct bus *bus;
	struct inv_node inv[NNODES];
	char names[NNODES][16];
	char ip[16];

	struct evconnlistener *listener;
	int port;
	const char *output; /* NULL: silent */
	struct conn conns[NNODES];
	int nconns;

	struct msg msgs[MAXMSG];
	size_t nmsgs;
	int max_percent[NNODES];
	uint64_t bytes_at_100[NNODES];
	int nprogress[NNODES];
	int rate_known;

	struct step_frisbee_conf conf;
	struct event *lost_timer;
	size_t lost_count;
};

static struct fixture *F;

static int
node_index(const char *name)
{
	return (atoi(name + 3) - 1);
}

static void
rec_cb(const struct bus_event *ev, void *arg)
{
	struct msg *m;
	int i;

	if (ev->type == BUS_NODE_PROGRESS) {
		i = node_index(ev->node);
		F->nprogress[i]++;
		if (ev->node_progress.percent > F->max_percent[i])
			F->max_percent[i] = ev->node_progress.percent;
		if (ev->node_progress.percent == 100)
			F->bytes_at_100[i] = ev->node_progress.bytes;
		if (ev->node_progress.rate > 0)
			F->rate_known = 1;
		return;
	}
	if (ev->type != BUS_NODE_MESSAGE || F->nmsgs == MAXMSG)
		return;
	m = &F->msgs[F->nmsgs++];
	strlcpy(m->node, ev->node, sizeof m->node);
	m->level = ev->node_message.level;
	strlcpy(m->text, ev->node_message.text, sizeof m->text);
}

/* A message of node at level starting with prefix, or NULL. */
static const struct msg *
find_msg(const char *node, enum log_level level, const char *prefix)
{
	size_t i;

	for (i = 0; i < F->nmsgs; i++) {
		if (strcmp(F->msgs[i].node, node) == 0 &&
		    F->msgs[i].level == level &&
		    strncmp(F->msgs[i].text, prefix, strlen(prefix)) == 0)
			return (&F->msgs[i]);
	}
	return (NULL);
}

static void
srv_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	/* All written: the shell exits, the node closes. */
	if (c->answered && c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
}

static void
srv_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	char buf[256];
	size_t n, i;

	while ((n = bufferevent_read(bev, buf, sizeof buf)) > 0) {
		for (i = 0; i < n; i++) {
			/* "\r\n" is telnet's newline; keep "\n". */
			if (buf[i] == '\r' || buf[i] == '\0')
				continue;
			if (c->ngot + 1 < sizeof c->got)
				c->got[c->ngot++] = buf[i];
		}
	}
	c->got[c->ngot] = '\0';
	if (c->answered || strstr(c->got, "exit\n") == NULL ||
	    F->output == NULL)
		return;
	c->answered = 1;
	bufferevent_write(bev, F->output, strlen(F->output));
}

static void
srv_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	bufferevent_free(c->bev);
	c->bev = NULL;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct conn *c;

	if (F->nconns == NNODES) {
		close(fd);
		return;
	}
	c = &F->conns[F->nconns++];
	c->bev = bufferevent_socket_new(loop_base(), fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, srv_read_cb, srv_write_cb, srv_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static int
setup(void **state)
{
	struct sockaddr_in sin;
	char *err = NULL;
	int i;

	F = xcalloc(1, sizeof *F);
	assert_int_equal(loop_init(&err), 0);
	F->bus = bus_new();
	bus_subscribe(F->bus, rec_cb, NULL);
	guard_init(&F->guard, loop_base());
	guard_arm(&F->guard, GUARD_MS);
	strlcpy(F->ip, "127.0.0.1", sizeof F->ip);
	for (i = 0; i < NNODES; i++) {
		snprintf(F->names[i], sizeof F->names[i], "fit%02d", i + 1);
		F->inv[i].name = F->names[i];
		F->inv[i].number = i + 1;
		F->inv[i].control.hostname = F->names[i];
		F->inv[i].control.ip = F->ip;
		F->max_percent[i] = -1;
	}

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	F->listener = evconnlistener_new_bind(loop_base(), accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&sin, sizeof sin);
	assert_non_null(F->listener);
	F->port = loopback_bound_port(evconnlistener_get_fd(F->listener));

	F->conf.client = "frisbee";
	F->conf.hard_drive = "/dev/sda";
	F->conf.telnet_port = F->port;
	F->conf.group = "234.5.6.1";
	F->conf.port = 10001;
	F->conf.image_size = IMAGE_SIZE;
	*state = F;
	return (0);
}

static int
teardown(void **state)
{
	int i;

	for (i = 0; i < F->nconns; i++) {
		if (F->conns[i].bev != NULL)
			bufferevent_free(F->conns[i].bev);
	}
	evconnlistener_free(F->listener);
	if (F->lost_timer != NULL)
		event_free(F->lost_timer);
	guard_free(&F->guard);
	loop_free();
	bus_free(F->bus);
	free(F);
	F = NULL;
	return (0);
}

/* A run of n nodes, each with the one frisbee step; to its end. */
static struct run *
run_frisbee(int n, uint64_t step_timeout_ms)
{
	struct step_inst plan[] = {
	    {&step_frisbee_def, &F->conf, step_timeout_ms, 0}};
	struct run_params p;
	struct run *run;
	int i;

	memset(&p, 0, sizeof p);
	p.what = "load";
	p.fanout = NNODES;
	p.timeout_ms = 8000;
	run = run_new(F->bus, &p);
	for (i = 0; i < n; i++)
		run_add(run, &F->inv[i], plan, 1);
	run_start(run);
	if (!run_finished(run))
		loop_run();
	assert_false(F->guard.fired);
	assert_true(run_finished(run));
	return (run);
}

static void
test_registered(void **state)
{
	assert_ptr_equal(step_find("frisbee"), &step_frisbee_def);
	assert_int_equal(step_frisbee_def.timeout_outcome,
	    NODE_OUT_FRISBEE_TIMEOUT);
	(void)F;
}

static void
test_ok(void **state)
{
	struct run *run;
	const struct msg *m;

	F->output = out_ok;
	run = run_frisbee(1, 0);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_OK);
	assert_int_equal(run_exit_code(run), 0);

	/* rhubarbe's command lines, as the shell got them. */
	assert_int_equal(F->nconns, 1);
	assert_string_equal(F->conns[0].got,
	    "frisbee -i 127.0.0.1 -m 234.5.6.1 -p 10001 /dev/sda\n"
	    "echo _TELNET_STATUS=$?\n"
	    "exit\n");

	/* 0, 25, 50, 75, 100: up to 100, with all the image's bytes. */
	assert_int_equal(F->max_percent[0], 100);
	assert_int_equal(F->nprogress[0], 5);
	assert_int_equal(F->bytes_at_100[0], IMAGE_SIZE);
	assert_non_null(find_msg("fit01", LOG_LEVEL_INFO, "joined: 4 chunks"));
	m = find_msg("fit01", LOG_LEVEL_INFO, "wrote 4194304 bytes in ");
	assert_non_null(m);
	assert_non_null(strstr(m->text, " MiB/s"));
	/* Raw lines, at debug level only. */
	assert_non_null(find_msg("fit01", LOG_LEVEL_DEBUG, "Bound to port"));
	assert_null(find_msg("fit01", LOG_LEVEL_INFO, "Bound to port"));
	assert_non_null(find_msg("fit01", LOG_LEVEL_DEBUG, "_TELNET_STATUS=0"));
	run_free(run);
}

static void
test_short_write(void **state)
{
	struct run *run;

	F->output = out_short;
	run = run_frisbee(1, 0);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_FRISBEE_FAILED);
	assert_string_equal(run_node(run, 0)->why,
	    "frisbee exit 1: short write");
	assert_int_equal(F->max_percent[0], 50);
	assert_non_null(find_msg("fit01", LOG_LEVEL_WARN, "short write"));
	assert_int_equal(run_exit_code(run), 1);
	run_free(run);
}

static void
test_closed_before_status(void **state)
{
	struct run *run;

	F->output = out_drop;
	run = run_frisbee(1, 0);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_FRISBEE_FAILED);
	assert_string_equal(run_node(run, 0)->why,
	    "connection closed before the status line");
	run_free(run);
}

static void
test_refused(void **state)
{
	struct sockaddr_in sin;
	struct run *run;
	int fd;

	/* Bound, not listening: connections to it are refused. */
	fd = loopback_socket(&sin);
	F->conf.telnet_port = loopback_bound_port(fd);
	run = run_frisbee(1, 0);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_FRISBEE_FAILED);
	assert_string_equal(run_node(run, 0)->why,
	    "telnet: connection refused");
	run_free(run);
	close(fd);
}

/* The node never answers: the step's deadline, then frisbee-timeout. */
static void
test_timeout(void **state)
{
	struct run *run;

	F->output = NULL;
	run = run_frisbee(2, 600);
	assert_int_equal(F->nconns, 2);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_FRISBEE_TIMEOUT);
	assert_int_equal(run_node(run, 1)->outcome, NODE_OUT_FRISBEE_TIMEOUT);
	run_free(run);
}

static void
lost_cb(evutil_socket_t fd, short what, void *arg)
{
	F->lost_count = step_frisbee_server_lost(&F->conf, "exit 1");
}

/* The server dies while both nodes wait: both fail at once. */
static void
test_server_lost(void **state)
{
	struct timeval tv;
	struct run *run;

	F->output = NULL;
	F->lost_timer = evtimer_new(loop_base(), lost_cb, NULL);
	loop_ms_to_timeval(500, &tv);
	evtimer_add(F->lost_timer, &tv);
	run = run_frisbee(2, 0);
	assert_int_equal(F->lost_count, 2);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_FRISBEE_FAILED);
	assert_string_equal(run_node(run, 0)->why,
	    "frisbee server lost: exit 1");
	assert_int_equal(run_node(run, 1)->outcome, NODE_OUT_FRISBEE_FAILED);
	/* Nothing left to fail. */
	assert_int_equal(step_frisbee_server_lost(&F->conf, "again"), 0);
	run_free(run);
}

static void
server_cb(struct frisbeed *f, enum frisbeed_event ev, const char *why,
    void *arg)
{
	*(int *)arg = (int)ev + 1;
	loop_exit();
}

/* A server that could not start: the step fails at once, says why. */
static void
test_server_not_serving(void **state)
{
	struct frisbeed_params p;
	struct frisbeed *f;
	struct run *run;
	char *err;
	int got = 0;

	memset(&p, 0, sizeof p);
	p.server = "false";
	p.local_ip = "127.0.0.1";
	p.bandwidth = 1;
	p.image = "/nonexistent.ndz";
	p.pattern_multicast = "234.5.6.*";
	p.port_base = 30000 + (int)(getpid() % 1000) * 20;
	p.pattern_size = 20;
	f = frisbeed_start(&p, server_cb, NULL, &got, &err);
	assert_non_null(f);
	while (got == 0 && !F->guard.fired)
		loop_run();
	assert_int_equal(got, FRISBEED_FAILED + 1);
	F->conf.server = f;
	F->output = out_ok;
	run = run_frisbee(1, 0);
	assert_int_equal(run_node(run, 0)->outcome, NODE_OUT_FRISBEE_FAILED);
	assert_string_equal(run_node(run, 0)->why,
	    "frisbee server not serving");
	assert_int_equal(F->nconns, 0);
	run_free(run);
	frisbeed_free(f);
}

static void
test_commands(void **state)
{
	char *s;

	s = step_frisbee_commands(&F->conf, "192.168.3.1", "234.5.6.2", 10002);
	assert_string_equal(s,
	    "frisbee -i 192.168.3.1 -m 234.5.6.2 -p 10002 /dev/sda\n"
	    "echo _TELNET_STATUS=$?\n"
	    "exit\n");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_registered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_short_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_closed_before_status, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_lost, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_not_serving, setup,
		teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
