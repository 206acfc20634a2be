/*
 * The image collector: see collector.h. One evconnlistener, kept open
 * after the first connection so that later ones are accepted and closed
 * at once (refused) instead of waiting in the backlog; one read event on
 * the accepted socket, whose data goes straight to the file with write(2)
 * (the page cache absorbs it; the stream is at most a node's disk rate);
 * three timers: total (from the start), idle (re-armed by every read,
 * armed at the connection) and progress.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "drivers/collector.h"

#define COLLECTOR_CHUNK 65536

enum collector_state {
	COLLECTOR_LISTENING,
	COLLECTOR_CONNECTED,
	COLLECTOR_ENDED,
	COLLECTOR_COMMITTED,
};

struct collector {
	struct event_base *base;
	struct collector_params p;
	char *bind_ip;
	char *peer_ip;
	char *path;
	char *partial;
	int port;
	int fd;               /* PATH.partial, -1 once closed */
	int partial_exists;   /* we made it and it is still there */
	evutil_socket_t sock; /* the client, or -1 */
	struct evconnlistener *listener;
	struct event *read_ev;
	struct event *total_ev;
	struct event *idle_ev;
	struct event *progress_ev;
	enum collector_state state;
	uint64_t bytes;
	struct timeval t_connect;
	char *error;
	char buf[COLLECTOR_CHUNK];
};

static void collector_accept_cb(struct evconnlistener *, evutil_socket_t,
    struct sockaddr *, int, void *);
static void collector_read_cb(evutil_socket_t, short, void *);
static void collector_total_cb(evutil_socket_t, short, void *);
static void collector_idle_cb(evutil_socket_t, short, void *);
static void collector_progress_cb(evutil_socket_t, short, void *);
static void collector_end(struct collector *, enum collector_status,
    const char *, ...) printflike(3, 4);

static void
collector_tv(double s, struct timeval *tv)
{
	tv->tv_sec = (time_t)s;
	tv->tv_usec = (suseconds_t)((s - (double)tv->tv_sec) * 1e6);
}

static double
collector_elapsed(const struct collector *c)
{
	struct timeval now, d;

	if (c->state == COLLECTOR_LISTENING)
		return (0);
	event_base_gettimeofday_cached(c->base, &now);
	timersub(&now, &c->t_connect, &d);
	return ((double)d.tv_sec + (double)d.tv_usec / 1e6);
}

/* Stop the network side and drop the partial file unless it is kept. */
static void
collector_stop(struct collector *c, int keep_partial)
{
	if (c->listener != NULL) {
		evconnlistener_free(c->listener);
		c->listener = NULL;
	}
	if (c->read_ev != NULL)
		event_del(c->read_ev);
	if (c->total_ev != NULL)
		evtimer_del(c->total_ev);
	if (c->idle_ev != NULL)
		evtimer_del(c->idle_ev);
	if (c->progress_ev != NULL)
		event_del(c->progress_ev);
	if (c->sock != -1) {
		evutil_closesocket(c->sock);
		c->sock = -1;
	}
	if (c->fd != -1 && !keep_partial) {
		close(c->fd);
		c->fd = -1;
	}
	if (!keep_partial && c->partial_exists) {
		(void)unlink(c->partial);
		c->partial_exists = 0;
	}
}

static void
collector_end(struct collector *c, enum collector_status status,
    const char *fmt, ...)
{
	struct collector_result res;
	va_list ap;

	if (c->state == COLLECTOR_ENDED || c->state == COLLECTOR_COMMITTED)
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		free(c->error);
		xvasprintf(&c->error, fmt, ap);
		va_end(ap);
	}
	if (status == COLLECTOR_RECEIVED) {
		/* The data on disk before anyone may rename it. */
		if (fsync(c->fd) != 0 || close(c->fd) != 0) {
			free(c->error);
			xasprintf(&c->error, "%s: %s", c->partial,
			    strerror(errno));
			status = COLLECTOR_ERROR;
		}
		c->fd = -1;
	}
	collector_stop(c, status == COLLECTOR_RECEIVED);
	res.status = status;
	res.bytes = c->bytes;
	res.seconds = collector_elapsed(c);
	res.error = status == COLLECTOR_RECEIVED ? NULL : c->error;
	c->state = COLLECTOR_ENDED;
	log_info("collector %s: %s, %llu bytes in %.1f s%s%s", c->path,
	    status == COLLECTOR_RECEIVED ? "received" : "failed",
	    (unsigned long long)res.bytes, res.seconds,
	    res.error != NULL ? ": " : "", res.error != NULL ? res.error : "");
	/* Last: the callback may free the collector. */
	if (c->p.done != NULL)
		c->p.done(c->p.arg, &res);
}

static struct evconnlistener *
collector_bind(struct collector *c, const struct in_addr *ip, int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr = *ip;
	sin.sin_port = htons((uint16_t)port);
	return (evconnlistener_new_bind(c->base, collector_accept_cb, c,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
	    8, (struct sockaddr *)&sin, sizeof sin));
}

struct collector *
collector_start(struct event_base *base, const struct collector_params *p,
    char **errp)
{
	struct collector *c;
	struct in_addr ip, peer;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct timeval tv;
	struct stat sb;
	int port, first, last;

	if (p->bind_ip == NULL || inet_pton(AF_INET, p->bind_ip, &ip) != 1) {
		xasprintf(errp, "collector: bad bind address '%s'",
		    p->bind_ip == NULL ? "" : p->bind_ip);
		return (NULL);
	}
	if (p->peer_ip != NULL && inet_pton(AF_INET, p->peer_ip, &peer) != 1) {
		xasprintf(errp, "collector: bad peer address '%s'", p->peer_ip);
		return (NULL);
	}
	first = p->port_min;
	last = p->port_min == 0 ? 0 : p->port_max;
	if (first < 0 || first > 65535 || last < first || last > 65535) {
		xasprintf(errp, "collector: bad port range %d-%d", p->port_min,
		    p->port_max);
		return (NULL);
	}
	if (p->path == NULL || *p->path == '\0') {
		xasprintf(errp, "collector: no image path");
		return (NULL);
	}
	if (p->idle_timeout < 0 || p->total_timeout < 0 ||
	    p->progress_interval < 0) {
		xasprintf(errp, "collector: negative timeout");
		return (NULL);
	}
	if (lstat(p->path, &sb) == 0) {
		xasprintf(errp, "%s: already exists; not overwritten", p->path);
		return (NULL);
	}

	c = xcalloc(1, sizeof *c);
	c->base = base;
	c->p = *p;
	c->bind_ip = xstrdup(p->bind_ip);
	c->peer_ip = p->peer_ip != NULL ? xstrdup(p->peer_ip) : NULL;
	c->p.bind_ip = c->bind_ip;
	c->p.peer_ip = c->peer_ip;
	c->path = xstrdup(p->path);
	c->p.path = c->path;
	xasprintf(&c->partial, "%s.partial", p->path);
	c->sock = -1;
	c->fd = open(c->partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (c->fd == -1) {
		xasprintf(errp, "%s: %s", c->partial, strerror(errno));
		goto fail;
	}
	c->partial_exists = 1;

	for (port = first; port <= last; port++) {
		if ((c->listener = collector_bind(c, &ip, port)) != NULL)
			break;
		if (errno != EADDRINUSE && errno != EACCES)
			break;
	}
	if (c->listener == NULL) {
		if (first == last)
			xasprintf(errp, "collector: bind %s port %d: %s",
			    p->bind_ip, first, strerror(errno));
		else
			xasprintf(errp, "collector: bind %s ports %d-%d: %s",
			    p->bind_ip, first, last, strerror(errno));
		goto fail;
	}
	if (getsockname(evconnlistener_get_fd(c->listener),
		(struct sockaddr *)&sin, &len) != 0) {
		xasprintf(errp, "collector: getsockname: %s", strerror(errno));
		goto fail;
	}
	c->port = ntohs(sin.sin_port);

	c->total_ev = evtimer_new(base, collector_total_cb, c);
	c->idle_ev = evtimer_new(base, collector_idle_cb, c);
	c->progress_ev =
	    event_new(base, -1, EV_PERSIST, collector_progress_cb, c);
	if (p->total_timeout > 0) {
		collector_tv(p->total_timeout, &tv);
		evtimer_add(c->total_ev, &tv);
	}
	log_info("collector %s: listening on %s:%d", c->path, p->bind_ip,
	    c->port);
	return (c);

fail:
	collector_free(c);
	return (NULL);
}

int
collector_port(const struct collector *c)
{
	return (c->port);
}

static void
collector_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct collector *c = arg;
	char who[INET_ADDRSTRLEN] = "?";
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	struct timeval tv;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, who, sizeof who);
	if (c->state != COLLECTOR_LISTENING) {
		log_warn("collector %s: refused a second connection from %s",
		    c->path, who);
		evutil_closesocket(fd);
		return;
	}
	if (c->peer_ip != NULL && strcmp(who, c->peer_ip) != 0) {
		log_warn("collector %s: refused a connection from %s "
			 "(expecting %s)",
		    c->path, who, c->peer_ip);
		evutil_closesocket(fd);
		return;
	}
	c->sock = fd;
	c->state = COLLECTOR_CONNECTED;
	event_base_gettimeofday_cached(c->base, &c->t_connect);
	log_info("collector %s: connection from %s", c->path, who);
	c->read_ev =
	    event_new(c->base, fd, EV_READ | EV_PERSIST, collector_read_cb, c);
	event_add(c->read_ev, NULL);
	if (c->p.idle_timeout > 0) {
		collector_tv(c->p.idle_timeout, &tv);
		evtimer_add(c->idle_ev, &tv);
	}
	collector_tv(c->p.progress_interval > 0 ? c->p.progress_interval : 1,
	    &tv);
	event_add(c->progress_ev, &tv);
}

static void
collector_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct collector *c = arg;
	struct timeval tv;
	ssize_t n, w, off;

	n = read(fd, c->buf, sizeof c->buf);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		collector_end(c, COLLECTOR_ERROR, "%s: after %llu bytes: %s",
		    c->path, (unsigned long long)c->bytes, strerror(errno));
		return;
	}
	if (n == 0) {
		collector_end(c, COLLECTOR_RECEIVED, NULL);
		return;
	}
	for (off = 0; off < n; off += w) {
		if ((w = write(c->fd, c->buf + off, n - off)) <= 0) {
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			collector_end(c, COLLECTOR_ERROR, "%s: %s", c->partial,
			    w == 0 ? "short write" : strerror(errno));
			return;
		}
	}
	c->bytes += (uint64_t)n;
	if (c->p.idle_timeout > 0) {
		collector_tv(c->p.idle_timeout, &tv);
		evtimer_add(c->idle_ev, &tv);
	}
}

static void
collector_total_cb(evutil_socket_t fd, short what, void *arg)
{
	struct collector *c = arg;

	if (c->state == COLLECTOR_LISTENING)
		collector_end(c, COLLECTOR_TIMEOUT,
		    "%s: no connection within %g s", c->path,
		    c->p.total_timeout);
	else
		collector_end(c, COLLECTOR_TIMEOUT,
		    "%s: not complete within %g s (%llu bytes)", c->path,
		    c->p.total_timeout, (unsigned long long)c->bytes);
}

static void
collector_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct collector *c = arg;

	collector_end(c, COLLECTOR_IDLE_TIMEOUT,
	    "%s: nothing received for %g s (%llu bytes)", c->path,
	    c->p.idle_timeout, (unsigned long long)c->bytes);
}

static void
collector_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	struct collector *c = arg;
	double s = collector_elapsed(c);

	if (c->p.progress != NULL)
		c->p.progress(c->p.arg, c->bytes, s > 0 ? c->bytes / s : 0);
}

int
collector_commit(struct collector *c, char **errp)
{
	char *copy;
	int r;

	if (c->state != COLLECTOR_ENDED || !c->partial_exists) {
		xasprintf(errp, "%s: nothing received to commit", c->path);
		return (-1);
	}
	/* Never over an existing file, even one made since the start. */
	r = renameat2(AT_FDCWD, c->partial, AT_FDCWD, c->path,
	    RENAME_NOREPLACE);
	if (r != 0 && errno == EINVAL) {
		/* A filesystem without RENAME_NOREPLACE: link fails too. */
		if ((r = link(c->partial, c->path)) == 0)
			(void)unlink(c->partial);
	}
	if (r != 0) {
		if (errno == EEXIST)
			xasprintf(errp, "%s: already exists; not overwritten",
			    c->path);
		else
			xasprintf(errp, "%s: %s", c->path, strerror(errno));
		(void)unlink(c->partial);
		c->partial_exists = 0;
		return (-1);
	}
	c->partial_exists = 0;
	c->state = COLLECTOR_COMMITTED;
	copy = xstrdup(c->path);
	if ((r = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		(void)fsync(r);
		close(r);
	}
	free(copy);
	log_info("collector %s: saved, %llu bytes", c->path,
	    (unsigned long long)c->bytes);
	return (0);
}

void
collector_free(struct collector *c)
{
	if (c == NULL)
		return;
	collector_stop(c, 0);
	if (c->read_ev != NULL)
		event_free(c->read_ev);
	if (c->total_ev != NULL)
		event_free(c->total_ev);
	if (c->idle_ev != NULL)
		event_free(c->idle_ev);
	if (c->progress_ev != NULL)
		event_free(c->progress_ev);
	free(c->bind_ip);
	free(c->peer_ip);
	free(c->path);
	free(c->partial);
	free(c->error);
	free(c);
}
