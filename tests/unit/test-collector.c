/*
 * The image collector against in-process clients on the same loop: a
 * whole stream is committed under its name; a client reset half way, a
 * stream cut short and not committed, timeouts and refused clients leave
 * neither the final file nor the partial one; a second connection is
 * refused; an existing target is never overwritten.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>

#include "common/xmalloc.h"
#include "drivers/collector.h"

#define BIG (3 * 1024 * 1024 + 17)

struct client {
	int sock;
	const unsigned char *data;
	size_t len; /* what it sends before stopping */
	size_t off;
	int reset;  /* stop with a RST (a killed client) */
	int linger; /* keep the connection open once sent */
	struct event *ev;
};

struct fixture {
	char top[64];
	char *path;
	char *partial;
	struct event_base *base;
	struct collector *c;
	unsigned char *data;
	int ended;
	struct collector_result res;
	char error[256];
	int progress_calls;
	uint64_t progress_bytes;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	size_t i;

	strlcpy(f->top, "/tmp/test-collector.XXXXXX", sizeof f->top);
	assert_non_null(mkdtemp(f->top));
	xasprintf(&f->path, "%s/saving__fit01__x.ndz", f->top);
	xasprintf(&f->partial, "%s.partial", f->path);
	f->base = event_base_new();
	f->data = xmalloc(BIG);
	for (i = 0; i < BIG; i++)
		f->data[i] = (unsigned char)(i * 31 + i / 251);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd;

	collector_free(f->c);
	event_base_free(f->base);
	xasprintf(&cmd, "rm -rf '%s'", f->top);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->path);
	free(f->partial);
	free(f->data);
	free(f);
	return (0);
}

static int
exists(const char *path)
{
	struct stat sb;

	return (lstat(path, &sb) == 0);
}

static void
on_done(void *arg, const struct collector_result *res)
{
	struct fixture *f = arg;

	f->ended++;
	f->res = *res;
	f->res.error = NULL;
	if (res->error != NULL)
		strlcpy(f->error, res->error, sizeof f->error);
	event_base_loopbreak(f->base);
}

static void
on_progress(void *arg, uint64_t bytes, double rate)
{
	struct fixture *f = arg;

	f->progress_calls++;
	f->progress_bytes = bytes;
	assert_true(rate >= 0);
}

static void
params(struct fixture *f, struct collector_params *p)
{
	memset(p, 0, sizeof *p);
	p->bind_ip = "127.0.0.1";
	p->path = f->path;
	p->idle_timeout = 5;
	p->total_timeout = 10;
	p->progress_interval = 0.02;
	p->progress = on_progress;
	p->done = on_done;
	p->arg = f;
}

static void
start(struct fixture *f, struct collector_params *p)
{
	char *err = NULL;

	f->c = collector_start(f->base, p, &err);
	if (f->c == NULL)
		fail_msg("collector_start: %s", err);
	assert_true(collector_port(f->c) > 0);
	assert_true(exists(f->partial));
}

static int
connect_to(int port)
{
	struct sockaddr_in sin;
	int s;

	s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Completes from the backlog, before the loop accepts it. */
	assert_int_equal(connect(s, (struct sockaddr *)&sin, sizeof sin), 0);
	return (s);
}

static void
client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;
	struct linger lg = {1, 0};
	ssize_t n;

	while (cl->off < cl->len) {
		n = write(fd, cl->data + cl->off, cl->len - cl->off);
		if (n == -1 && errno == EAGAIN)
			return;
		assert_true(n > 0);
		cl->off += (size_t)n;
	}
	event_del(cl->ev);
	if (cl->linger)
		return;
	if (cl->reset)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
	cl->sock = -1;
}

static void
client_start(struct fixture *f, struct client *cl, size_t len, int reset)
{
	memset(cl, 0, sizeof *cl);
	cl->sock = connect_to(collector_port(f->c));
	evutil_make_socket_nonblocking(cl->sock);
	cl->data = f->data;
	cl->len = len;
	cl->reset = reset;
	cl->ev = event_new(f->base, cl->sock, EV_WRITE | EV_PERSIST,
	    client_write_cb, cl);
	event_add(cl->ev, NULL);
}

static void
client_free(struct client *cl)
{
	event_free(cl->ev);
	if (cl->sock != -1)
		close(cl->sock);
}

/* Run until the collector ends (bounded: the test fails on a hang). */
static void
run(struct fixture *f)
{
	struct timeval tv = {20, 0};

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	assert_int_equal(f->ended, 1);
}

static void
test_complete(void **state)
{
	struct fixture *f = *state;
	struct collector_params p;
	struct client cl;
	char *err = NULL;
	unsigned char *back;
	struct stat sb;
	mode_t mask;
	int fd;

	params(f, &p);
	start(f, &p);
	assert_false(exists(f->path));
	client_start(f, &cl, BIG, 0);
	run(f);
	assert_int_equal(f->res.status, COLLECTOR_RECEIVED);
	assert_int_equal(f->res.bytes, BIG);
	/* Not under its name until committed. */
	assert_false(exists(f->path));
	assert_true(exists(f->partial));
	assert_int_equal(collector_commit(f->c, &err), 0);
	assert_false(exists(f->partial));
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_size, BIG);
	mask = umask(0);
	umask(mask);
	assert_int_equal(sb.st_mode & 0777, 0644 & ~mask);
	back = xmalloc(BIG);
	fd = open(f->path, O_RDONLY);
	assert_int_equal(read(fd, back, BIG), BIG);
	close(fd);
	assert_memory_equal(back, f->data, BIG);
	free(back);
	/* A second commit is refused. */
	assert_int_equal(collector_commit(f->c, &err), -1);
	free(err);
	collector_free(f->c);
	f->c = NULL;
	assert_true(exists(f->path)); /* free keeps a committed image */
	client_free(&cl);
}

static void
test_client_killed(void **state)
{
	struct fixture *f = *state;
	struct collector_params p;
	struct client cl;

	params(f, &p);
	start(f, &p);
	client_start(f, &cl, BIG / 2, 1);
	run(f);
	assert_int_equal(f->res.status, COLLECTOR_ERROR);
	assert_non_null(strstr(f->error, "reset"));
	assert_false(exists(f->partial));
	assert_false(exists(f->path));
	client_free(&cl);
}

static void
test_cut_short_not_committed(void **state)
{
	struct fixture *f = *state;
	struct collector_params p;
	struct client cl;

	params(f, &p);
	start(f, &p);
	client_start(f, &cl, 1000, 0);
	run(f);
	assert_int_equal(f->res.status, COLLECTOR_RECEIVED);
	assert_int_equal(f->res.bytes, 1000);
	/* The pipeline failed: the caller frees without committing. */
	collector_free(f->c);
	f->c = NULL;
	assert_false(exists(f->partial));
	assert_false(exists(f->path));
	client_free(&cl);
}

static void
test_second_refused(void **state)
{
	struct fixture *f = *state;
	struct collector_params p;
	struct timeval tv = {0, 200000};
	struct client cl;
	char *err = NULL, c;
	int s2;

	params(f, &p);
	start(f, &p);
	client_start(f, &cl, 5000, 0);
	cl.linger = 1; /* stays connected after sending */
	s2 = connect_to(collector_port(f->c));
	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	assert_int_equal(f->ended, 0);
	/* The second one was closed by the collector: EOF (or a reset). */
	assert_true(read(s2, &c, 1) <= 0);
	close(s2);
	/* The first still completes. */
	close(cl.sock);
	cl.sock = -1;
	run(f);
	assert_int_equal(f->res.status, COLLECTOR_RECEIVED);
	assert_int_equal(f->res.bytes, 5000);
	assert_int_equal(collector_commit(f->c, &err), 0);
	client_free(&cl);
}

static void
test_total_timeout(void **state)
{
	struct fixture *f = *state;
	struct collector_params p;

	params(f, &p);
	p.total_timeout = 0.2;
	start(f, &p);
	run(f);
	assert_int_equal(f->res.status, COLLECTOR_TIMEOUT);
	assert_non_null(strstr(f->error, "no connection within"));
	assert_null(strchr(f->error, '\n'));
	assert_false(exists(f->partial));
	assert_false(exists(f->path));
}

static void
test_idle_timeout(void **state)
{
	struct fixture *f = *state;
	struct collector_params p;
	struct client cl;

	params(f, &p);
	p.idle_timeout = 0.3;
	start(f, &p);
	client_start(f, &cl, 10, 0);
	cl.linger = 1;
	run(f);
	assert_int_equal(f->res.status, COLLECTOR_IDLE_TIMEOUT);
	assert_int_equal(f->res.bytes, 10);
	assert_non_null(strstr(f->error, "nothing received for"));
	/* Progress was reported while it waited. */
	assert_true(f->progress_calls >= 2);
	assert_int_equal(f->progress_bytes, 10);
	assert_false(exists(f->partial));
	assert_false(exists(f->path));
	client_free(&cl);
}

static void
test_wrong_peer(void **state)
{
	struct fixture *f = *state;
	struct collector_params p;
	struct client cl;

	params(f, &p);
	p.peer_ip = "10.9.9.9";
	p.total_timeout = 0.3;
	start(f, &p);
	client_start(f, &cl, 100, 0);
	run(f);
	assert_int_equal(f->res.status, COLLECTOR_TIMEOUT);
	assert_int_equal(f->res.bytes, 0);
	assert_false(exists(f->partial));
	client_free(&cl);
}

static void
test_existing_target(void **state)
{
	struct fixture *f = *state;
	struct collector_params p;
	struct client cl;
	char *err = NULL, buf[8] = "";
	int fd;

	/* At the start. */
	fd = open(f->path, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(write(fd, "mine", 4), 4);
	close(fd);
	params(f, &p);
	assert_null(collector_start(f->base, &p, &err));
	assert_non_null(strstr(err, "already exists; not overwritten"));
	free(err);
	err = NULL;
	assert_false(exists(f->partial));
	assert_int_equal(unlink(f->path), 0);

	/* A partial file left by someone else: refused too. */
	fd = open(f->partial, O_WRONLY | O_CREAT, 0644);
	close(fd);
	assert_null(collector_start(f->base, &p, &err));
	assert_non_null(strstr(err, ".partial: File exists"));
	free(err);
	err = NULL;
	assert_true(exists(f->partial)); /* not ours: kept */
	assert_int_equal(unlink(f->partial), 0);

	/* Made while the image came in: commit refuses, nothing replaced. */
	start(f, &p);
	client_start(f, &cl, 2000, 0);
	run(f);
	assert_int_equal(f->res.status, COLLECTOR_RECEIVED);
	fd = open(f->path, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(write(fd, "mine", 4), 4);
	close(fd);
	assert_int_equal(collector_commit(f->c, &err), -1);
	assert_non_null(strstr(err, "already exists; not overwritten"));
	free(err);
	assert_false(exists(f->partial));
	fd = open(f->path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof buf), 4);
	close(fd);
	assert_string_equal(buf, "mine");
	client_free(&cl);
}

static void
test_bad_params(void **state)
{
	struct fixture *f = *state;
	struct collector_params p;
	struct collector *busy;
	char *err = NULL;
	int port;

	static const struct {
		const char *ip;
		int min, max;
		const char *want;
	} cases[] = {
	    {"127.0.0.1", 2000, 1999, "bad port range"},
	    {"127.0.0.1", -1, 10, "bad port range"},
	    {"127.0.0.1", 65535, 65536, "bad port range"},
	    {"localhost", 0, 0, "bad bind address"},
	    {"1.2.3", 0, 0, "bad bind address"},
	};
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		params(f, &p);
		p.bind_ip = cases[i].ip;
		p.port_min = cases[i].min;
		p.port_max = cases[i].max;
		assert_null(collector_start(f->base, &p, &err));
		assert_non_null(strstr(err, cases[i].want));
		free(err);
		err = NULL;
	}
	params(f, &p);
	p.path = "";
	assert_null(collector_start(f->base, &p, &err));
	free(err);
	err = NULL;

	/* A taken port: the range is tried, the error names it. */
	params(f, &p);
	busy = collector_start(f->base, &p, &err);
	assert_non_null(busy);
	port = collector_port(busy);
	free(f->path);
	xasprintf(&f->path, "%s/other.ndz", f->top);
	p.path = f->path;
	p.port_min = p.port_max = port;
	assert_null(collector_start(f->base, &p, &err));
	assert_non_null(strstr(err, "Address already in use"));
	free(err);
	collector_free(busy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_complete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_killed, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_cut_short_not_committed, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_second_refused, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_total_timeout, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_peer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_existing_target, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
