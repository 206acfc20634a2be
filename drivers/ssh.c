/*
 * ssh probes (see ssh.h): TCP connect, then libssh 0.10 in non-blocking
 * mode for the handshake and public-key authentication, all driven by
 * the event loop.
 *
 * The TCP connection is ours: a non-blocking connect() watched for
 * writability, then handed to libssh with SSH_OPTIONS_FD. That way a
 * refused port, an unreachable host and a connect timeout are told apart
 * from errno, not from libssh's error strings, and connect_timeout_ms
 * bounds the connect alone.
 *
 * Then the pattern measured on the testbed (testbed.md 2.1): call
 * ssh_connect() until it stops saying SSH_AGAIN, check the host key,
 * call ssh_userauth_publickey() until it stops saying SSH_AUTH_AGAIN.
 * Each call lets libssh poll the socket itself with a zero timeout and
 * handle what is there; we call again whenever the socket is readable,
 * or writable while libssh says a write is pending (ssh_get_poll_flags).
 * libssh never blocks and never sleeps here.
 *
 * libssh is told not to read ~/.ssh/config (SSH_OPTIONS_PROCESS_CONFIG),
 * and its logging goes to our log at debug level, never to stderr.
 *
 * Completion is deferred to an event of its own: the user's callback and
 * ssh_free() run from there, never from inside ssh_probe_start() nor from
 * inside a libssh call.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "drivers/ssh.h"

#define SSH_PROBE_PORT_DEFAULT       22
#define SSH_PROBE_USER_DEFAULT       "root"
#define SSH_PROBE_CONNECT_MS_DEFAULT 5000 /* asyncssh's, in rhubarbe */
#define SSH_PROBE_TOTAL_MS_DEFAULT   10000

struct ssh_probe_key {
	ssh_key key;
	char *path;
};

enum ssh_probe_phase {
	SSH_PHASE_TCP,       /* our connect() in progress */
	SSH_PHASE_HANDSHAKE, /* ssh_connect() */
	SSH_PHASE_AUTH,      /* ssh_userauth_publickey() */
	SSH_PHASE_DONE,
};

struct ssh_probe {
	struct event_base *base;
	char *ip;
	int port;
	char *user;
	const struct ssh_probe_key *key;
	enum ssh_probe_hostkey_policy policy;
	char *known_hosts;
	unsigned connect_ms;
	unsigned total_ms;
	struct timespec started;

	enum ssh_probe_phase phase;
	int fd;        /* ours until handed to libssh, then -1 */
	int libssh_fd; /* the same socket, owned by the session */
	ssh_session session;
	int authenticated;

	struct event *read_ev;  /* persistent, once libssh has the fd */
	struct event *write_ev; /* connect, or a pending write */
	struct event *connect_ev;
	struct event *total_ev;
	struct event *done_ev; /* deferred completion */

	int finished;
	int in_callback;
	struct ssh_probe_reply reply;
	ssh_probe_cb cb;
	void *arg;
};

static const char *ssh_probe_texts[] = {
#define SSH_PROBE_RESULT_TEXT(id, text) text,
    SSH_PROBE_RESULTS(SSH_PROBE_RESULT_TEXT)
#undef SSH_PROBE_RESULT_TEXT
};

static void ssh_probe_log_cb(int, const char *, const char *, void *);
static void ssh_probe_log_init(void);
static char *ssh_probe_home_path(const char *);
static void ssh_probe_finish(struct ssh_probe *, enum ssh_probe_result,
    const char *, ...) printflike(3, 4);
static void ssh_probe_libssh_error(struct ssh_probe *, const char *);
static void ssh_probe_connected(struct ssh_probe *);
static int ssh_probe_check_hostkey(struct ssh_probe *);
static void ssh_probe_step(struct ssh_probe *);
static void ssh_probe_arm(struct ssh_probe *);
static void ssh_probe_io_cb(evutil_socket_t, short, void *);
static void ssh_probe_connect_timer_cb(evutil_socket_t, short, void *);
static void ssh_probe_total_timer_cb(evutil_socket_t, short, void *);
static void ssh_probe_done_cb(evutil_socket_t, short, void *);
static void ssh_probe_release(struct ssh_probe *);
static void ssh_probe_free(struct ssh_probe *);
static void ssh_probe_ms_to_tv(unsigned, struct timeval *);

const char *
ssh_probe_result_text(enum ssh_probe_result r)
{
	if ((unsigned)r >= nitems(ssh_probe_texts))
		return ("unknown");
	return (ssh_probe_texts[r]);
}

int
ssh_probe_hostkey_policy_parse(const char *s,
    enum ssh_probe_hostkey_policy *policy)
{
	if (s == NULL)
		return (-1);
	if (strcmp(s, "accept-new") == 0)
		*policy = SSH_PROBE_HOSTKEY_ACCEPT_NEW;
	else if (strcmp(s, "no-check") == 0)
		*policy = SSH_PROBE_HOSTKEY_NO_CHECK;
	else if (strcmp(s, "strict") == 0)
		*policy = SSH_PROBE_HOSTKEY_STRICT;
	else
		return (-1);
	return (0);
}

/* libssh's messages, one line each, into our log. */
static void
ssh_probe_log_cb(int priority, const char *function, const char *buffer,
    void *userdata)
{
	log_debug("libssh: %s", buffer != NULL ? buffer : "");
}

/*
 * Route libssh's logging to ours (it would write to stderr otherwise).
 * The callback is per thread in libssh 0.10; rhubarb has one thread.
 */
static void
ssh_probe_log_init(void)
{
	ssh_set_log_callback(ssh_probe_log_cb);
	ssh_set_log_level(log_get_level() >= LOG_LEVEL_DEBUG ? SSH_LOG_WARNING
							     : SSH_LOG_NOLOG);
}

/* $HOME/rest, or the password database's home when HOME is unset. */
static char *
ssh_probe_home_path(const char *rest)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	char *path;

	if (home == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL || pw->pw_dir == NULL)
			return (NULL);
		home = pw->pw_dir;
	}
	xasprintf(&path, "%s/%s", home, rest);
	return (path);
}

struct ssh_probe_key *
ssh_probe_key_load(const char *path, char **errp)
{
	static const char *defaults[] = {".ssh/id_ed25519", ".ssh/id_rsa"};
	struct ssh_probe_key *k;
	struct stat st;
	ssh_key key = NULL;
	char *file = NULL;
	size_t i;
	int rc;

	*errp = NULL;
	ssh_probe_log_init();
	if (path == NULL || *path == '\0') {
		for (i = 0; i < nitems(defaults); i++) {
			free(file);
			if ((file = ssh_probe_home_path(defaults[i])) == NULL) {
				xasprintf(errp, "ssh key: no home directory");
				return (NULL);
			}
			if (access(file, F_OK) == 0)
				break;
		}
		if (i == nitems(defaults)) {
			free(file);
			xasprintf(errp, "ssh key: neither ~/%s nor ~/%s exists",
			    defaults[0], defaults[1]);
			return (NULL);
		}
	} else
		file = xstrdup(path);

	/* Our own checks first: libssh only says "error". */
	if (stat(file, &st) != 0) {
		xasprintf(errp, "ssh key %s: %s", file, strerror(errno));
		free(file);
		return (NULL);
	}
	if (!S_ISREG(st.st_mode)) {
		xasprintf(errp, "ssh key %s: not a regular file", file);
		free(file);
		return (NULL);
	}
	if (access(file, R_OK) != 0) {
		xasprintf(errp, "ssh key %s: %s", file, strerror(errno));
		free(file);
		return (NULL);
	}
	/* No passphrase callback: an encrypted key fails here. */
	rc = ssh_pki_import_privkey_file(file, NULL, NULL, NULL, &key);
	if (rc != SSH_OK || key == NULL) {
		xasprintf(errp,
		    "ssh key %s: not a private key, or protected by a "
		    "passphrase",
		    file);
		free(file);
		return (NULL);
	}
	if (!ssh_key_is_private(key)) {
		ssh_key_free(key);
		xasprintf(errp, "ssh key %s: not a private key", file);
		free(file);
		return (NULL);
	}
	k = xcalloc(1, sizeof *k);
	k->key = key;
	k->path = file;
	log_debug("ssh key %s: %s", file,
	    ssh_key_type_to_char(ssh_key_type(key)));
	return (k);
}

void
ssh_probe_key_free(struct ssh_probe_key *k)
{
	if (k == NULL)
		return;
	ssh_key_free(k->key);
	free(k->path);
	free(k);
}

const char *
ssh_probe_key_path(const struct ssh_probe_key *k)
{
	return (k->path);
}

/*
 * End the probe with a result: stop every event and let the loop call
 * the user on its next turn. Only the first result counts.
 */
static void
ssh_probe_finish(struct ssh_probe *p, enum ssh_probe_result result,
    const char *fmt, ...)
{
	struct timespec now;
	va_list ap;
	long ms;

	if (p->finished)
		return;
	p->finished = 1;
	p->phase = SSH_PHASE_DONE;
	p->reply.result = result;
	va_start(ap, fmt);
	vsnprintf(p->reply.detail, sizeof p->reply.detail, fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - p->started.tv_sec) * 1000 +
	    (now.tv_nsec - p->started.tv_nsec) / 1000000;
	p->reply.elapsed_ms = ms > 0 ? (unsigned)ms : 0;
	if (p->read_ev != NULL)
		event_del(p->read_ev);
	if (p->write_ev != NULL)
		event_del(p->write_ev);
	evtimer_del(p->connect_ev);
	evtimer_del(p->total_ev);
	event_active(p->done_ev, EV_TIMEOUT, 1);
	log_debug("ssh %s@%s:%d: %s%s%s (%u ms)", p->user, p->ip, p->port,
	    ssh_probe_result_text(result),
	    p->reply.detail[0] != '\0' ? ": " : "", p->reply.detail,
	    p->reply.elapsed_ms);
}

/*
 * libssh said SSH_ERROR: a socket error once the connection was up is
 * the peer going away (sshd dropping us, MaxStartups, a reboot); anything
 * else is the protocol failing (not an ssh server, no common algorithm).
 */
static void
ssh_probe_libssh_error(struct ssh_probe *p, const char *what)
{
	const char *msg = ssh_get_error(p->session);
	char line[128];
	size_t i;

	if (msg == NULL || *msg == '\0')
		msg = "failed";
	strlcpy(line, msg, sizeof line);
	for (i = 0; line[i] != '\0'; i++) {
		if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t')
			line[i] = ' ';
	}
	if (strncmp(msg, "Socket error", 12) == 0)
		ssh_probe_finish(p, SSH_PROBE_CLOSED, "%s: %s", what, line);
	else
		ssh_probe_finish(p, SSH_PROBE_PROTOCOL, "%s: %s", what, line);
}

/* Our connect() went through: hand the socket to libssh. */
static void
ssh_probe_connected(struct ssh_probe *p)
{
	socket_t fd = p->fd;

	evtimer_del(p->connect_ev);
	if (ssh_options_set(p->session, SSH_OPTIONS_FD, &fd) != SSH_OK) {
		ssh_probe_finish(p, SSH_PROBE_NETWORK, "cannot set up libssh");
		return;
	}
	p->libssh_fd = p->fd;
	p->fd = -1;
	event_free(p->write_ev);
	p->read_ev = event_new(p->base, p->libssh_fd, EV_READ | EV_PERSIST,
	    ssh_probe_io_cb, p);
	p->write_ev =
	    event_new(p->base, p->libssh_fd, EV_WRITE, ssh_probe_io_cb, p);
	if (p->read_ev == NULL || p->write_ev == NULL)
		abort();
	event_add(p->read_ev, NULL);
	p->phase = SSH_PHASE_HANDSHAKE;
	ssh_probe_step(p);
}

/*
 * The server's key against known_hosts, by policy. 0 to go on, -1 when
 * the probe is finished.
 */
static int
ssh_probe_check_hostkey(struct ssh_probe *p)
{
	enum ssh_known_hosts_e known;

	if (p->policy == SSH_PROBE_HOSTKEY_NO_CHECK)
		return (0);
	known = ssh_session_is_known_server(p->session);
	switch (known) {
	case SSH_KNOWN_HOSTS_OK:
		return (0);
	case SSH_KNOWN_HOSTS_CHANGED:
		ssh_probe_finish(p, SSH_PROBE_HOSTKEY_MISMATCH,
		    "the host key differs from the one in %s", p->known_hosts);
		return (-1);
	case SSH_KNOWN_HOSTS_OTHER:
		ssh_probe_finish(p, SSH_PROBE_HOSTKEY_MISMATCH,
		    "%s has a key of another type for this host",
		    p->known_hosts);
		return (-1);
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		if (p->policy == SSH_PROBE_HOSTKEY_STRICT) {
			ssh_probe_finish(p, SSH_PROBE_HOSTKEY_UNKNOWN,
			    "not in %s", p->known_hosts);
			return (-1);
		}
		/* accept-new, as OpenSSH: a failure to record is a warning. */
		if (ssh_session_update_known_hosts(p->session) != SSH_OK)
			log_warn("ssh %s: cannot add the host key to %s: %s",
			    p->ip, p->known_hosts, ssh_get_error(p->session));
		return (0);
	case SSH_KNOWN_HOSTS_ERROR:
		break;
	}
	ssh_probe_finish(p, SSH_PROBE_HOSTKEY_UNKNOWN, "cannot check %s: %s",
	    p->known_hosts, ssh_get_error(p->session));
	return (-1);
}

/* Move libssh on as far as it goes without blocking. */
static void
ssh_probe_step(struct ssh_probe *p)
{
	int rc;

	if (p->phase == SSH_PHASE_HANDSHAKE) {
		rc = ssh_connect(p->session);
		if (rc == SSH_AGAIN) {
			ssh_probe_arm(p);
			return;
		}
		if (rc != SSH_OK) {
			ssh_probe_libssh_error(p, "handshake");
			return;
		}
		if (ssh_probe_check_hostkey(p) != 0)
			return;
		p->phase = SSH_PHASE_AUTH;
	}
	if (p->phase == SSH_PHASE_AUTH) {
		rc = ssh_userauth_publickey(p->session, NULL, p->key->key);
		switch (rc) {
		case SSH_AUTH_AGAIN:
			ssh_probe_arm(p);
			return;
		case SSH_AUTH_SUCCESS:
			p->authenticated = 1;
			ssh_probe_finish(p, SSH_PROBE_OK, "%s", "");
			return;
		case SSH_AUTH_DENIED:
		case SSH_AUTH_PARTIAL:
			ssh_probe_finish(p, SSH_PROBE_AUTH_DENIED,
			    "key %s refused for %s", p->key->path, p->user);
			return;
		default:
			ssh_probe_libssh_error(p, "authentication");
			return;
		}
	}
}

/* Watch for writability too when libssh has output waiting. */
static void
ssh_probe_arm(struct ssh_probe *p)
{
	if (ssh_get_poll_flags(p->session) & SSH_WRITE_PENDING)
		event_add(p->write_ev, NULL);
}

static void
ssh_probe_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_probe *p = arg;
	socklen_t len;
	int error;

	if (p->finished)
		return;
	if (p->phase != SSH_PHASE_TCP) {
		ssh_probe_step(p);
		return;
	}
	len = sizeof error;
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
		error = errno;
	switch (error) {
	case 0:
		ssh_probe_connected(p);
		return;
	case ECONNREFUSED:
		ssh_probe_finish(p, SSH_PROBE_REFUSED, "port %d", p->port);
		return;
	case ETIMEDOUT:
		ssh_probe_finish(p, SSH_PROBE_CONNECT_TIMEOUT, "connect: %s",
		    strerror(error));
		return;
	default:
		ssh_probe_finish(p, SSH_PROBE_NETWORK, "connect: %s",
		    strerror(error));
		return;
	}
}

static void
ssh_probe_connect_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_probe *p = arg;

	if (p->phase == SSH_PHASE_TCP)
		ssh_probe_finish(p, SSH_PROBE_CONNECT_TIMEOUT,
		    "no connection after %u ms", p->connect_ms);
}

static void
ssh_probe_total_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_probe *p = arg;

	switch (p->phase) {
	case SSH_PHASE_TCP:
		ssh_probe_finish(p, SSH_PROBE_CONNECT_TIMEOUT,
		    "no connection after %u ms", p->total_ms);
		break;
	case SSH_PHASE_HANDSHAKE:
		ssh_probe_finish(p, SSH_PROBE_TIMEOUT,
		    "no ssh handshake after %u ms", p->total_ms);
		break;
	default:
		ssh_probe_finish(p, SSH_PROBE_TIMEOUT,
		    "not authenticated after %u ms", p->total_ms);
		break;
	}
}

/* Deferred completion: close the session, call the user, free. */
static void
ssh_probe_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_probe *p = arg;

	ssh_probe_release(p);
	if (p->cb != NULL) {
		p->in_callback = 1;
		p->cb(&p->reply, p->arg);
		p->in_callback = 0;
	}
	ssh_probe_free(p);
}

/* Drop the connection: events first, then the session (and its socket). */
static void
ssh_probe_release(struct ssh_probe *p)
{
	if (p->read_ev != NULL) {
		event_free(p->read_ev);
		p->read_ev = NULL;
	}
	if (p->write_ev != NULL) {
		event_free(p->write_ev);
		p->write_ev = NULL;
	}
	if (p->session != NULL) {
		/* Say goodbye to a server that let us in; ssh_free closes. */
		if (p->authenticated)
			ssh_disconnect(p->session);
		ssh_free(p->session);
		p->session = NULL;
		p->libssh_fd = -1;
	}
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
	}
}

static void
ssh_probe_free(struct ssh_probe *p)
{
	ssh_probe_release(p);
	if (p->connect_ev != NULL)
		event_free(p->connect_ev);
	if (p->total_ev != NULL)
		event_free(p->total_ev);
	if (p->done_ev != NULL)
		event_free(p->done_ev);
	free(p->ip);
	free(p->user);
	free(p->known_hosts);
	free(p);
}

static void
ssh_probe_ms_to_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

struct ssh_probe *
ssh_probe_start(struct event_base *base, const struct ssh_probe_params *params,
    ssh_probe_cb cb, void *arg)
{
	struct ssh_probe *p;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sslen;
	struct timeval tv;
	unsigned int port;
	bool no = false;
	int blocking = 0;

	p = xcalloc(1, sizeof *p);
	p->base = base;
	p->cb = cb;
	p->arg = arg;
	p->fd = -1;
	p->libssh_fd = -1;
	p->phase = SSH_PHASE_TCP;
	clock_gettime(CLOCK_MONOTONIC, &p->started);
	p->ip = xstrdup(params->ip != NULL ? params->ip : "");
	p->port = params->port != 0 ? params->port : SSH_PROBE_PORT_DEFAULT;
	p->user = xstrdup(params->user != NULL && *params->user != '\0'
		? params->user
		: SSH_PROBE_USER_DEFAULT);
	p->key = params->key;
	p->policy = params->hostkey_policy;
	if (p->policy == SSH_PROBE_HOSTKEY_NO_CHECK)
		p->known_hosts = xstrdup("/dev/null");
	else if (params->known_hosts != NULL && *params->known_hosts != '\0')
		p->known_hosts = xstrdup(params->known_hosts);
	else if ((p->known_hosts = ssh_probe_home_path(".ssh/known_hosts")) ==
	    NULL)
		p->known_hosts = xstrdup("/dev/null");
	p->connect_ms = params->connect_timeout_ms != 0
	    ? params->connect_timeout_ms
	    : SSH_PROBE_CONNECT_MS_DEFAULT;
	p->total_ms = params->total_timeout_ms != 0
	    ? params->total_timeout_ms
	    : SSH_PROBE_TOTAL_MS_DEFAULT;
	if (p->connect_ms > p->total_ms)
		p->connect_ms = p->total_ms;
	p->reply.result = SSH_PROBE_OK;

	/* libevent fails these only when out of memory: fatal, as xmalloc. */
	p->connect_ev = evtimer_new(base, ssh_probe_connect_timer_cb, p);
	p->total_ev = evtimer_new(base, ssh_probe_total_timer_cb, p);
	p->done_ev = event_new(base, -1, 0, ssh_probe_done_cb, p);
	if (p->connect_ev == NULL || p->total_ev == NULL || p->done_ev == NULL)
		abort();

	/* Bad arguments are results too, delivered like any other. */
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, p->ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p->port);
		sslen = sizeof *sin;
	} else if (inet_pton(AF_INET6, p->ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p->port);
		sslen = sizeof *sin6;
	} else {
		ssh_probe_finish(p, SSH_PROBE_NETWORK,
		    "not a numeric address: \"%.64s\"", p->ip);
		return (p);
	}
	if (p->port < 1 || p->port > 65535) {
		ssh_probe_finish(p, SSH_PROBE_NETWORK, "bad port %d", p->port);
		return (p);
	}
	if (p->key == NULL) {
		ssh_probe_finish(p, SSH_PROBE_NETWORK, "no key");
		return (p);
	}

	ssh_probe_log_init();
	if ((p->session = ssh_new()) == NULL)
		abort();
	port = (unsigned int)p->port;
	if (ssh_options_set(p->session, SSH_OPTIONS_PROCESS_CONFIG, &no) !=
		SSH_OK ||
	    ssh_options_set(p->session, SSH_OPTIONS_HOST, p->ip) != SSH_OK ||
	    ssh_options_set(p->session, SSH_OPTIONS_PORT, &port) != SSH_OK ||
	    ssh_options_set(p->session, SSH_OPTIONS_USER, p->user) != SSH_OK ||
	    ssh_options_set(p->session, SSH_OPTIONS_KNOWNHOSTS,
		p->known_hosts) != SSH_OK ||
	    (p->policy == SSH_PROBE_HOSTKEY_NO_CHECK &&
		ssh_options_set(p->session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
		    "/dev/null") != SSH_OK)) {
		ssh_probe_finish(p, SSH_PROBE_NETWORK, "libssh options: %s",
		    ssh_get_error(p->session));
		return (p);
	}
	ssh_set_blocking(p->session, blocking);

	p->fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd == -1) {
		ssh_probe_finish(p, SSH_PROBE_NETWORK, "socket: %s",
		    strerror(errno));
		return (p);
	}
	if (connect(p->fd, (struct sockaddr *)&ss, sslen) != 0 &&
	    errno != EINPROGRESS) {
		if (errno == ECONNREFUSED)
			ssh_probe_finish(p, SSH_PROBE_REFUSED, "port %d",
			    p->port);
		else
			ssh_probe_finish(p, SSH_PROBE_NETWORK, "connect: %s",
			    strerror(errno));
		return (p);
	}
	/* Even when connected at once: the first step runs from the loop. */
	p->write_ev = event_new(base, p->fd, EV_WRITE, ssh_probe_io_cb, p);
	if (p->write_ev == NULL)
		abort();
	event_add(p->write_ev, NULL);
	ssh_probe_ms_to_tv(p->connect_ms, &tv);
	evtimer_add(p->connect_ev, &tv);
	ssh_probe_ms_to_tv(p->total_ms, &tv);
	evtimer_add(p->total_ev, &tv);
	log_debug("ssh %s@%s:%d: started", p->user, p->ip, p->port);
	return (p);
}

void
ssh_probe_cancel(struct ssh_probe *p)
{
	if (p == NULL)
		return;
	p->cb = NULL;
	/* From inside its own callback: ssh_probe_done_cb frees it after. */
	if (!p->in_callback)
		ssh_probe_free(p);
}
