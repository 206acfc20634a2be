/*
 * The ssh probe driver without an ssh server: every outcome that does not
 * need a real sshd (that handshake is checked on the simulated testbed).
 * Refused (a bound socket that does not listen), connect timeout (a
 * listener whose accept queue is full), timeout (a listener that accepts
 * and never speaks), protocol error (one that answers with an HTTP reply),
 * connection closed (one that hangs up at once), bad arguments; the
 * callback contract (never from inside start, exactly once, none after
 * cancel at each phase, cancel from inside the callback); no descriptor
 * left open; key loading, with its one-line errors, on keys made here
 * with libssh (plain, passphrase, public, garbage, missing, defaults).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <libssh/libssh.h>

#include "tests/unit/guard.h"
#include "tests/unit/loopback.h"
#include "common/xmalloc.h"
#include "drivers/ssh.h"

#define GUARD_MS 5000
#define MAX_HELD 64

/* What a test server does with a connection it accepts. */
enum srv_mode {
	SRV_SILENT,  /* hold it, say nothing */
	SRV_GARBAGE, /* an ssh version libssh refuses, hold it */
	SRV_JUNK,    /* a long line of junk, hold it */
	SRV_CLOSE,   /* close at once */
};

struct fixture {
	struct event_base *base;
	struct guard guard;

	struct evconnlistener *srv;
	int srv_port;
	enum srv_mode mode;
	int held[MAX_HELD];
	int nheld;
	int naccepted;

	int refused_fd;
	int refused_port;
	struct loopback_full full;

	struct ssh_probe_key *key;
	char tmpdir[64];

	struct ssh_probe *probe;
	int ncalls;
	struct ssh_probe_reply reply;
	int cancel_in_cb;
	uint64_t t0, t_done;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Open descriptors of this process. */
static int
count_fds(void)
{
	DIR *d;
	int n = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return (n);
}

static void
srv_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	static const char garbage[] = "SSH-1.5-ancient\r\n";
	struct fixture *f = arg;
	char junk[300];

	f->naccepted++;
	if (f->mode == SRV_CLOSE || f->nheld == MAX_HELD) {
		close(fd);
		return;
	}
	if (f->mode == SRV_GARBAGE)
		assert_int_equal(write(fd, garbage, sizeof garbage - 1),
		    (ssize_t)(sizeof garbage - 1));
	if (f->mode == SRV_JUNK) {
		/* Lines before the banner are allowed, but not this long. */
		memset(junk, 'x', sizeof junk);
		assert_int_equal(write(fd, junk, sizeof junk),
		    (ssize_t)sizeof junk);
	}
	f->held[f->nheld++] = fd;
}

static void
drop_held(struct fixture *f)
{
	while (f->nheld > 0)
		close(f->held[--f->nheld]);
}

/* Write a fresh ed25519 key to path (encrypted if passphrase is set). */
static void
write_key(const char *path, const char *passphrase, int public)
{
	ssh_key key = NULL, pub = NULL;

	assert_int_equal(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key),
	    SSH_OK);
	if (public) {
		assert_int_equal(ssh_pki_export_privkey_to_pubkey(key, &pub),
		    SSH_OK);
		assert_int_equal(ssh_pki_export_pubkey_file(pub, path), SSH_OK);
		ssh_key_free(pub);
	} else
		assert_int_equal(ssh_pki_export_privkey_file(key, passphrase,
				     NULL, NULL, path),
		    SSH_OK);
	ssh_key_free(key);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	struct sockaddr_in sin;
	char *path, *err;
	int fd;

	f->base = event_base_new();
	assert_non_null(f->base);
	guard_init(&f->guard, f->base);

	fd = loopback_socket(&sin);
	assert_int_equal(listen(fd, 64), 0);
	f->srv_port = loopback_bound_port(fd);
	evutil_make_socket_nonblocking(fd);
	f->srv = evconnlistener_new(f->base, srv_cb, f, LEV_OPT_CLOSE_ON_FREE,
	    -1, fd);
	assert_non_null(f->srv);

	/* Bound, not listening: a connect is refused. */
	f->refused_fd = loopback_socket(&sin);
	f->refused_port = loopback_bound_port(f->refused_fd);
	loopback_full_open(&f->full);

	strlcpy(f->tmpdir, "/tmp/test-ssh.XXXXXX", sizeof f->tmpdir);
	assert_non_null(mkdtemp(f->tmpdir));
	xasprintf(&path, "%s/key", f->tmpdir);
	write_key(path, NULL, 0);
	f->key = ssh_probe_key_load(path, &err);
	assert_null(err);
	assert_non_null(f->key);
	assert_string_equal(ssh_probe_key_path(f->key), path);
	free(path);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd;

	drop_held(f);
	evconnlistener_free(f->srv);
	close(f->refused_fd);
	loopback_full_close(&f->full);
	ssh_probe_key_free(f->key);
	guard_free(&f->guard);
	event_base_free(f->base);
	xasprintf(&cmd, "rm -rf '%s'", f->tmpdir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return (0);
}

static void
reply_cb(const struct ssh_probe_reply *reply, void *arg)
{
	struct fixture *f = arg;

	f->ncalls++;
	f->reply = *reply;
	f->t_done = now_ms();
	if (f->cancel_in_cb)
		ssh_probe_cancel(f->probe);
	f->probe = NULL;
	event_base_loopexit(f->base, NULL);
}

static struct ssh_probe *
start(struct fixture *f, const char *ip, int port, unsigned connect_ms,
    unsigned total_ms)
{
	struct ssh_probe_params p = {
	    .ip = ip,
	    .port = port,
	    .user = "root",
	    .key = f->key,
	    .hostkey_policy = SSH_PROBE_HOSTKEY_NO_CHECK,
	    .connect_timeout_ms = connect_ms,
	    .total_timeout_ms = total_ms,
	};

	return (ssh_probe_start(f->base, &p, reply_cb, f));
}

/*
 * Start a probe; the callback must not run inside start. Run until it
 * does (bounded), then a little more to see that it runs only once.
 */
static void
probe(struct fixture *f, const char *ip, int port, unsigned connect_ms,
    unsigned total_ms)
{
	f->ncalls = 0;
	memset(&f->reply, 0, sizeof f->reply);
	f->t0 = now_ms();
	f->probe = start(f, ip, port, connect_ms, total_ms);
	assert_non_null(f->probe);
	assert_int_equal(f->ncalls, 0);
	guard_run_for(&f->guard, GUARD_MS);
	assert_false(f->guard.fired);
	assert_int_equal(f->ncalls, 1);
	guard_run_for(&f->guard, 100);
	assert_int_equal(f->ncalls, 1);
}

static void
test_refused(void **state)
{
	struct fixture *f = *state;
	int fds = count_fds();

	probe(f, "127.0.0.1", f->refused_port, 1000, 2000);
	assert_int_equal(f->reply.result, SSH_PROBE_REFUSED);
	assert_string_equal(ssh_probe_result_text(f->reply.result),
	    "connection refused");
	assert_true(f->t_done - f->t0 < 500);
	assert_int_equal(count_fds(), fds);
}

/* No SYN-ACK: ends at connect_timeout_ms, well before the total. */
static void
test_connect_timeout(void **state)
{
	struct fixture *f = *state;
	uint64_t took;

	probe(f, "127.0.0.1", f->full.port, 300, 3000);
	took = f->t_done - f->t0;
	assert_int_equal(f->reply.result, SSH_PROBE_CONNECT_TIMEOUT);
	assert_string_equal(f->reply.detail, "no connection after 300 ms");
	assert_true(took >= 290 && took < 1500);

	/* A connect timeout above the total: the total bounds it. */
	probe(f, "127.0.0.1", f->full.port, 5000, 400);
	took = f->t_done - f->t0;
	assert_int_equal(f->reply.result, SSH_PROBE_CONNECT_TIMEOUT);
	assert_true(took >= 390 && took < 1500);
}

/* Accepted, never a banner: a timeout at the total, not a connect one. */
static void
test_timeout(void **state)
{
	struct fixture *f = *state;
	uint64_t took;
	int fds = count_fds();

	f->mode = SRV_SILENT;
	probe(f, "127.0.0.1", f->srv_port, 200, 700);
	took = f->t_done - f->t0;
	assert_int_equal(f->naccepted, 1);
	assert_int_equal(f->reply.result, SSH_PROBE_TIMEOUT);
	assert_string_equal(f->reply.detail, "no ssh handshake after 700 ms");
	assert_true(took >= 690 && took < 2000);
	assert_true(f->reply.elapsed_ms >= 690 && f->reply.elapsed_ms < 2000);
	drop_held(f);
	assert_int_equal(count_fds(), fds);
}

/*
 * Not an ssh server we can talk to: a protocol error, at once. (Text
 * lines before the banner are legal in ssh, so an HTTP reply would only
 * time out.)
 */
static void
test_protocol_error(void **state)
{
	static const enum srv_mode modes[] = {SRV_GARBAGE, SRV_JUNK};
	struct fixture *f = *state;
	int fds = count_fds();
	size_t i;

	for (i = 0; i < nitems(modes); i++) {
		f->mode = modes[i];
		probe(f, "127.0.0.1", f->srv_port, 1000, 3000);
		assert_int_equal(f->reply.result, SSH_PROBE_PROTOCOL);
		assert_non_null(strstr(f->reply.detail, "handshake: "));
		assert_null(strchr(f->reply.detail, '\n'));
		assert_true(f->t_done - f->t0 < 1000);
		drop_held(f);
	}
	/* libssh closed the socket we handed it. */
	assert_int_equal(count_fds(), fds);
}

/* The server hangs up before any banner. */
static void
test_closed(void **state)
{
	struct fixture *f = *state;
	int fds = count_fds();

	f->mode = SRV_CLOSE;
	probe(f, "127.0.0.1", f->srv_port, 1000, 3000);
	assert_int_equal(f->reply.result, SSH_PROBE_CLOSED);
	assert_true(f->t_done - f->t0 < 1000);
	assert_int_equal(count_fds(), fds);
}

/* Bad arguments are results, delivered from the loop like the others. */
static void
test_bad_arguments(void **state)
{
	static const struct {
		const char *ip;
		int port;
		int nokey;
		const char *detail;
	} cases[] = {
	    {"fit01", 22, 0, "not a numeric address: \"fit01\""},
	    {NULL, 22, 0, "not a numeric address: \"\""},
	    {"127.0.0.1", 70000, 0, "bad port 70000"},
	    {"127.0.0.1", -1, 0, "bad port -1"},
	    {"127.0.0.1", 22, 1, "no key"},
	};
	struct fixture *f = *state;
	struct ssh_probe_params p;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		memset(&p, 0, sizeof p);
		p.ip = cases[i].ip;
		p.port = cases[i].port;
		p.key = cases[i].nokey ? NULL : f->key;
		f->ncalls = 0;
		f->probe = ssh_probe_start(f->base, &p, reply_cb, f);
		assert_non_null(f->probe);
		assert_int_equal(f->ncalls, 0);
		guard_run_for(&f->guard, GUARD_MS);
		assert_int_equal(f->ncalls, 1);
		assert_int_equal(f->reply.result, SSH_PROBE_NETWORK);
		assert_string_equal(f->reply.detail, cases[i].detail);
	}
}

/* No callback after cancel, whatever the phase. */
static void
test_cancel(void **state)
{
	struct fixture *f = *state;
	struct ssh_probe *p;
	int i, fds = count_fds();

	f->ncalls = 0;
	/* Before the loop ever ran: connecting, or a result already due. */
	f->mode = SRV_SILENT;
	ssh_probe_cancel(start(f, "127.0.0.1", f->srv_port, 1000, 2000));
	ssh_probe_cancel(start(f, "127.0.0.1", f->full.port, 1000, 2000));
	ssh_probe_cancel(start(f, "127.0.0.1", f->refused_port, 1000, 2000));
	ssh_probe_cancel(start(f, "nowhere", 22, 1000, 2000));
	ssh_probe_cancel(NULL);
	guard_run_for(&f->guard, 300);
	assert_int_equal(f->ncalls, 0);

	/* Connected, waiting for the banner. */
	f->naccepted = 0;
	p = start(f, "127.0.0.1", f->srv_port, 1000, 2000);
	for (i = 0; i < 100 && f->naccepted == 0; i++)
		guard_run_for(&f->guard, 20);
	assert_int_equal(f->naccepted, 1);
	guard_run_for(&f->guard, 50);
	ssh_probe_cancel(p);
	guard_run_for(&f->guard, 300);
	assert_int_equal(f->ncalls, 0);

	/* While the SYN goes unanswered. */
	p = start(f, "127.0.0.1", f->full.port, 1000, 2000);
	guard_run_for(&f->guard, 100);
	ssh_probe_cancel(p);
	guard_run_for(&f->guard, 300);
	assert_int_equal(f->ncalls, 0);
	drop_held(f);
	assert_int_equal(count_fds(), fds);
}

static void
test_cancel_in_callback(void **state)
{
	struct fixture *f = *state;

	f->cancel_in_cb = 1;
	probe(f, "127.0.0.1", f->refused_port, 1000, 2000);
	f->cancel_in_cb = 0;
	assert_int_equal(f->reply.result, SSH_PROBE_REFUSED);
}

/* Many at once on one loop: each gets its own result, once. */
static int many_calls;

static void
many_cb(const struct ssh_probe_reply *reply, void *arg)
{
	int *result = arg;

	*result = (int)reply->result;
	many_calls++;
}

static void
test_many(void **state)
{
	struct fixture *f = *state;
	struct ssh_probe_params p = {.ip = "127.0.0.1",
	    .key = f->key,
	    .hostkey_policy = SSH_PROBE_HOSTKEY_NO_CHECK,
	    .connect_timeout_ms = 1000,
	    .total_timeout_ms = 3000};
	int result[40];
	size_t i;

	f->mode = SRV_GARBAGE;
	many_calls = 0;
	for (i = 0; i < nitems(result); i++) {
		result[i] = -1;
		p.port = i % 2 == 0 ? f->srv_port : f->refused_port;
		assert_non_null(
		    ssh_probe_start(f->base, &p, many_cb, &result[i]));
	}
	for (i = 0; i < 100 && many_calls < (int)nitems(result); i++)
		guard_run_for(&f->guard, 50);
	assert_int_equal(many_calls, nitems(result));
	for (i = 0; i < nitems(result); i++)
		assert_int_equal(result[i],
		    i % 2 == 0 ? SSH_PROBE_PROTOCOL : SSH_PROBE_REFUSED);
	drop_held(f);
}

static void
test_policy_parse(void **state)
{
	static const struct {
		const char *text;
		int rc;
		enum ssh_probe_hostkey_policy policy;
	} cases[] = {
	    {"accept-new", 0, SSH_PROBE_HOSTKEY_ACCEPT_NEW},
	    {"no-check", 0, SSH_PROBE_HOSTKEY_NO_CHECK},
	    {"strict", 0, SSH_PROBE_HOSTKEY_STRICT},
	    {"Strict", -1, SSH_PROBE_HOSTKEY_STRICT},
	    {"yes", -1, SSH_PROBE_HOSTKEY_STRICT},
	    {"", -1, SSH_PROBE_HOSTKEY_STRICT},
	    {NULL, -1, SSH_PROBE_HOSTKEY_STRICT},
	};
	enum ssh_probe_hostkey_policy policy;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		policy = SSH_PROBE_HOSTKEY_STRICT;
		assert_int_equal(
		    ssh_probe_hostkey_policy_parse(cases[i].text, &policy),
		    cases[i].rc);
		assert_int_equal(policy, cases[i].policy);
	}
	assert_string_equal(ssh_probe_result_text(SSH_PROBE_AUTH_DENIED),
	    "authentication denied");
	assert_string_equal(ssh_probe_result_text(SSH_PROBE__COUNT), "unknown");
}

/* Keys: what loads, and a one-line error for everything else. */
static void
test_key_load(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *file;  /* in tmpdir; NULL: the directory */
		const char *error; /* suffix after "ssh key PATH: " */
	} cases[] = {
	    {"missing", "No such file or directory"},
	    {NULL, "not a regular file"},
	    {"encrypted", "not a private key, or protected by a passphrase"},
	    {"public", "not a private key, or protected by a passphrase"},
	    {"garbage", "not a private key, or protected by a passphrase"},
	    {"empty", "not a private key, or protected by a passphrase"},
	};
	struct ssh_probe_key *k;
	char *path, *want, *err;
	size_t i;
	FILE *fp;

	xasprintf(&path, "%s/encrypted", f->tmpdir);
	write_key(path, "secret", 0);
	free(path);
	xasprintf(&path, "%s/public", f->tmpdir);
	write_key(path, NULL, 1);
	free(path);
	xasprintf(&path, "%s/garbage", f->tmpdir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n", fp);
	fclose(fp);
	free(path);
	xasprintf(&path, "%s/empty", f->tmpdir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	free(path);

	for (i = 0; i < nitems(cases); i++) {
		if (cases[i].file != NULL)
			xasprintf(&path, "%s/%s", f->tmpdir, cases[i].file);
		else
			path = xstrdup(f->tmpdir);
		k = ssh_probe_key_load(path, &err);
		assert_null(k);
		assert_non_null(err);
		xasprintf(&want, "ssh key %s: %s", path, cases[i].error);
		assert_string_equal(err, want);
		assert_null(strchr(err, '\n'));
		free(want);
		free(err);
		free(path);
	}
}

/* No path: ~/.ssh/id_ed25519, then ~/.ssh/id_rsa, from $HOME. */
static void
test_key_defaults(void **state)
{
	struct fixture *f = *state;
	struct ssh_probe_key *k;
	char *home, *dir, *path, *err, *want;
	const char *old = getenv("HOME");
	char *saved = old != NULL ? xstrdup(old) : NULL;

	xasprintf(&home, "%s/home", f->tmpdir);
	xasprintf(&dir, "%s/.ssh", home);
	assert_int_equal(mkdir(home, 0700), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	setenv("HOME", home, 1);

	/* Neither. */
	k = ssh_probe_key_load(NULL, &err);
	assert_null(k);
	assert_string_equal(err,
	    "ssh key: neither ~/.ssh/id_ed25519 nor ~/.ssh/id_rsa exists");
	free(err);

	/* id_rsa only (any key type will do under that name). */
	xasprintf(&path, "%s/id_rsa", dir);
	write_key(path, NULL, 0);
	k = ssh_probe_key_load("", &err);
	assert_null(err);
	assert_non_null(k);
	assert_string_equal(ssh_probe_key_path(k), path);
	ssh_probe_key_free(k);
	free(path);

	/* id_ed25519 first; a broken one is an error, not a fallback. */
	xasprintf(&path, "%s/id_ed25519", dir);
	write_key(path, "secret", 0);
	k = ssh_probe_key_load(NULL, &err);
	assert_null(k);
	xasprintf(&want,
	    "ssh key %s: not a private key, or protected by a passphrase",
	    path);
	assert_string_equal(err, want);
	free(want);
	free(err);
	unlink(path);
	write_key(path, NULL, 0);
	k = ssh_probe_key_load(NULL, &err);
	assert_non_null(k);
	assert_string_equal(ssh_probe_key_path(k), path);
	ssh_probe_key_free(k);
	free(path);

	if (saved != NULL) {
		setenv("HOME", saved, 1);
		free(saved);
	} else
		unsetenv("HOME");
	free(dir);
	free(home);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_timeout, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_protocol_error, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_arguments, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_in_callback, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_defaults, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
