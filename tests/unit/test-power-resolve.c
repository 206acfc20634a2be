/*
 * Name resolution for controllers (engine/resolve.c) on the real loop:
 * numeric addresses and hosts-file names answer on the next loop turn,
 * never inside resolve_start; several requests for one pending name all
 * get its answer; a name no server answers for fails with a reason within
 * the query timeout (the name server is a UDP socket of ours on loopback
 * that never replies); a cancelled request gets no callback; and freeing
 * the resolver with a query still pending leaves nothing behind (ASan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/loop.h"
#include "engine/resolve.h"
#include "tests/unit/guard.h"

#define GUARD_MS 10000
#define MAXREQ   8

struct answer {
	int called;
	char ip[64];
	char err[128];
	uint64_t at;
};

struct fixture {
	char dir[64];
	char hosts[96];
	char ns[32]; /* "127.0.0.1:PORT" of the silent name server */
	int nsfd;
	struct resolver *res;
	struct answer ans[MAXREQ];
	int left;
	int in_start;
	int inside;
	struct guard guard;
};

static struct fixture *F;

static void
answer_cb(const char *ip, const char *err, void *arg)
{
	struct answer *a = arg;

	if (F->in_start)
		F->inside = 1;
	a->called++;
	a->at = loop_now_ms();
	if (ip != NULL)
		strlcpy(a->ip, ip, sizeof a->ip);
	if (err != NULL)
		strlcpy(a->err, err, sizeof a->err);
	if (--F->left == 0)
		loop_exit();
}

static struct resolve_req *
start(const char *name, int i)
{
	struct resolve_req *r;

	F->in_start = 1;
	r = resolve_start(F->res, name, answer_cb, &F->ans[i]);
	F->in_start = 0;
	F->left++;
	return (r);
}

static void
run_loop(void)
{
	guard_arm(&F->guard, GUARD_MS);
	if (F->left > 0)
		loop_run();
	guard_disarm(&F->guard);
	assert_false(F->guard.fired);
	assert_false(F->inside);
}

static int
setup(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	char *err = NULL;
	FILE *f;

	F = xcalloc(1, sizeof *F);
	strlcpy(F->dir, "/tmp/test-power-resolve.XXXXXX", sizeof F->dir);
	assert_non_null(mkdtemp(F->dir));
	snprintf(F->hosts, sizeof F->hosts, "%s/hosts", F->dir);
	f = fopen(F->hosts, "w");
	assert_non_null(f);
	fprintf(f, "127.3.0.2 bmc02\n127.5.0.1 pdu1 pdu1.example\n");
	fclose(f);
	/* A name server that never answers. */
	F->nsfd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(F->nsfd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(F->nsfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(F->nsfd, (struct sockaddr *)&sin, &len),
	    0);
	snprintf(F->ns, sizeof F->ns, "127.0.0.1:%u", ntohs(sin.sin_port));
	if (loop_init(&err) != 0)
		fail_msg("%s", err);
	log_set_stderr_ok(0);
	guard_init(&F->guard, loop_base());
	F->res = resolver_new_custom(F->hosts, F->ns, 200, &err);
	if (F->res == NULL)
		fail_msg("%s", err);
	*state = F;
	return (0);
}

static int
teardown(void **state)
{
	char *cmd;

	resolver_free(F->res);
	guard_free(&F->guard);
	loop_free();
	close(F->nsfd);
	xasprintf(&cmd, "rm -rf '%s'", F->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(F);
	F = NULL;
	return (0);
}

/* Addresses as they are; names from the hosts file; all on a later turn. */
static void
test_hosts_and_numeric(void **state)
{
	start("10.1.2.3", 0);
	start("bmc02", 1);
	start("pdu1.example", 2);
	start("bmc02", 3); /* the same name, answered the same */
	assert_int_equal(F->ans[0].called + F->ans[1].called, 0);
	run_loop();
	assert_string_equal(F->ans[0].ip, "10.1.2.3");
	assert_string_equal(F->ans[1].ip, "127.3.0.2");
	assert_string_equal(F->ans[2].ip, "127.5.0.1");
	assert_string_equal(F->ans[3].ip, "127.3.0.2");
	assert_int_equal(F->ans[3].called, 1);
	/* Cached: asked again later, answered again. */
	start("bmc02", 4);
	run_loop();
	assert_string_equal(F->ans[4].ip, "127.3.0.2");
}

/* Nobody answers: an error with a reason, within the query timeouts. */
static void
test_no_answer(void **state)
{
	uint64_t t0 = loop_now_ms();

	start("nosuch.invalid", 0);
	start("nosuch.invalid", 1);
	run_loop();
	assert_int_equal(F->ans[0].called, 1);
	assert_int_equal(F->ans[1].called, 1);
	assert_string_equal(F->ans[0].ip, "");
	assert_true(F->ans[0].err[0] != '\0');
	assert_string_equal(F->ans[0].err, F->ans[1].err);
	/* 2 attempts of 200 ms: it waited for them, and not much more. */
	assert_true(F->ans[0].at - t0 >= 300);
	assert_true(F->ans[0].at - t0 < 3000);
}

/* Cancelled: no callback, even when its answer was already there. */
static void
test_cancel(void **state)
{
	struct resolve_req *a, *b;

	a = start("bmc02", 0);
	b = start("10.0.0.1", 1);
	resolve_cancel(a);
	resolve_cancel(b);
	F->left -= 2;
	start("pdu1", 2);
	run_loop();
	assert_int_equal(F->ans[0].called, 0);
	assert_int_equal(F->ans[1].called, 0);
	assert_int_equal(F->ans[2].called, 1);
}

/* Freed with a query pending (its request cancelled): nothing leaks. */
static void
test_free_pending(void **state)
{
	struct resolve_req *a;

	a = start("slow.invalid", 0);
	start("bmc02", 1);
	F->left--; /* wait for bmc02 only */
	run_loop();
	assert_int_equal(F->ans[1].called, 1);
	resolve_cancel(a);
	resolver_free(F->res);
	F->res = NULL;
	assert_int_equal(F->ans[0].called, 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_hosts_and_numeric),
	    T(test_no_answer),
	    T(test_cancel),
	    T(test_free_pending),
	};
#undef T

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
