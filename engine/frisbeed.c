/*
 * The run's frisbeed server: pick a free multicast group and port by
 * binding to it (not by waiting a second to see whether the server dies,
 * as rhubarbe does), start the server there through child.c, tell the
 * owner when it serves, when it could not start and when it died, and stop
 * it with a bound.
 *
 * One timer serves two waits, never at once: the settle time while
 * starting, the stop bound while stopping.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/frisbeed.h"
#include "engine/loop.h"

enum frisbeed_state {
	FRISBEED_STARTING, /* spawned, settle timer armed */
	FRISBEED_SERVING,  /* READY told */
	FRISBEED_STOPPING, /* killed, stop bound armed */
	FRISBEED_OVER,     /* FAILED, LOST or STOPPED told */
};

struct frisbeed {
	char *server;
	char **options; /* NULL-terminated */
	char *local_ip;
	char *bps; /* -W, bits per second */
	long long mibps;
	char *image;
	char *prefix; /* "234.5.6." */
	int port_base;
	int size;
	unsigned settle_ms;

	enum frisbeed_state state;
	int try; /* current i, 1..size */
	char group[INET_ADDRSTRLEN];
	int port;
	char *describe;
	struct child *child;
	struct event *timer;
	char last[256];  /* last output line, for messages */
	int bind_failed; /* it said "Could not bind" */
	int dead;        /* freed by its owner */

	frisbeed_cb cb;
	frisbeed_line_cb line_cb;
	void *arg;
};

static int frisbeed_probe(const char *, int, char **);
static int frisbeed_spawn_from(struct frisbeed *, int, char **);
static void frisbeed_line(struct child *, int, const char *, void *);
static void frisbeed_done(struct child *, int, void *);
static void frisbeed_timer(evutil_socket_t, short, void *);
static void frisbeed_destroy(void *);
static void frisbeed_tell(struct frisbeed *, enum frisbeed_event, const char *);

/* Split on blanks into a NULL-terminated array (no quoting, no shell). */
static char **
frisbeed_split(const char *s)
{
	char **out, *copy, *p, *word;
	size_t n = 0;

	copy = xstrdup(s == NULL ? "" : s);
	out = xcalloc(strlen(copy) / 2 + 2, sizeof *out);
	p = copy;
	while ((word = strsep(&p, " \t")) != NULL) {
		if (*word != '\0')
			out[n++] = xstrdup(word);
	}
	out[n] = NULL;
	free(copy);
	return (out);
}

static void
frisbeed_strings_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Check the group pattern; the prefix ("a.b.c.", allocated) or NULL. */
static char *
frisbeed_prefix(const char *pattern, int size, char **errp)
{
	struct in_addr in;
	char *prefix, addr[32];
	size_t len;

	if (pattern == NULL || *pattern == '\0') {
		xasprintf(errp, "frisbeed: no multicast pattern");
		return (NULL);
	}
	prefix = xstrdup(pattern);
	len = strlen(prefix);
	if (prefix[len - 1] == '*')
		prefix[--len] = '\0';
	if (len == 0 || prefix[len - 1] != '.' || strchr(prefix, '*') != NULL ||
	    snprintf(addr, sizeof addr, "%s%d", prefix, size) >=
		(int)sizeof addr ||
	    inet_pton(AF_INET, addr, &in) != 1) {
		xasprintf(errp,
		    "frisbeed: bad multicast pattern '%s' (want a.b.c.*)",
		    pattern);
		free(prefix);
		return (NULL);
	}
	return (prefix);
}

struct frisbeed *
frisbeed_start(const struct frisbeed_params *p, frisbeed_cb cb,
    frisbeed_line_cb line_cb, void *arg, char **errp)
{
	struct frisbeed *f;
	struct in_addr in;
	char *prefix;

	*errp = NULL;
	if (p->server == NULL || *p->server == '\0') {
		xasprintf(errp,
		    "frisbeed: no server program "
		    "(set [frisbee] server)");
		return (NULL);
	}
	if (p->local_ip == NULL || *p->local_ip == '\0') {
		xasprintf(errp,
		    "frisbeed: no local IP "
		    "(set [networking] local_control_ip)");
		return (NULL);
	}
	if (inet_pton(AF_INET, p->local_ip, &in) != 1) {
		xasprintf(errp, "frisbeed: bad local IP '%s'", p->local_ip);
		return (NULL);
	}
	if (p->bandwidth <= 0 || p->bandwidth > (1LL << 40)) {
		xasprintf(errp, "frisbeed: bad bandwidth %lld Mibps",
		    p->bandwidth);
		return (NULL);
	}
	if (p->image == NULL || *p->image == '\0') {
		xasprintf(errp, "frisbeed: no image");
		return (NULL);
	}
	if (p->pattern_size < 1 || p->pattern_size > 254 || p->port_base < 0 ||
	    p->port_base + p->pattern_size > 65535) {
		xasprintf(errp, "frisbeed: bad port range %d + 1..%d",
		    p->port_base, p->pattern_size);
		return (NULL);
	}
	if ((prefix = frisbeed_prefix(p->pattern_multicast, p->pattern_size,
		 errp)) == NULL)
		return (NULL);

	f = xcalloc(1, sizeof *f);
	f->server = xstrdup(p->server);
	f->options = frisbeed_split(p->server_options);
	f->local_ip = xstrdup(p->local_ip);
	f->mibps = p->bandwidth;
	xasprintf(&f->bps, "%lld", p->bandwidth * (1LL << 20));
	f->image = xstrdup(p->image);
	f->prefix = prefix;
	f->port_base = p->port_base;
	f->size = p->pattern_size;
	f->settle_ms = p->settle_ms != 0 ? p->settle_ms : FRISBEED_SETTLE_MS;
	f->cb = cb;
	f->line_cb = line_cb;
	f->arg = arg;
	f->timer = evtimer_new(loop_base(), frisbeed_timer, f);
	if (frisbeed_spawn_from(f, 1, errp) != 0) {
		f->state = FRISBEED_OVER;
		frisbeed_free(f);
		return (NULL);
	}
	return (f);
}

/* 0 if group:port is free, 1 if taken, -1 (*errp set) if it cannot tell. */
static int
frisbeed_probe(const char *group, int port, char **errp)
{
	struct sockaddr_in sin;
	int fd, r = 0;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, group, &sin.sin_addr) != 1) {
		xasprintf(errp, "frisbeed: bad group %s", group);
		return (-1);
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(errp, "frisbeed: socket: %s", strerror(errno));
		return (-1);
	}
	/* No SO_REUSEADDR: a server holding the pair makes this fail. */
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		if (errno == EADDRINUSE)
			r = 1;
		else {
			xasprintf(errp, "frisbeed: cannot bind %s:%d: %s",
			    group, port, strerror(errno));
			r = -1;
		}
	}
	close(fd);
	return (r);
}

/*
 * Start the server on the first free pair from try i on. 0, or -1 with
 * *errp set when every pair left is taken or the program cannot run.
 */
static int
frisbeed_spawn_from(struct frisbeed *f, int i, char **errp)
{
	struct timeval tv;
	static char opt_i[] = "-i", opt_W[] = "-W", opt_m[] = "-m",
		    opt_p[] = "-p";
	const char *base;
	char **argv, portstr[16];
	size_t nopt = 0, k, j;
	int r;

	for (; i <= f->size; i++) {
		snprintf(f->group, sizeof f->group, "%s%d", f->prefix, i);
		f->port = f->port_base + i;
		if ((r = frisbeed_probe(f->group, f->port, errp)) == -1)
			return (-1);
		if (r == 0)
			break;
		log_debug("%s: %s:%d is taken", __func__, f->group, f->port);
	}
	if (i > f->size) {
		xasprintf(errp,
		    "frisbeed: every group and port is taken (%s1:%d to "
		    "%s%d:%d)",
		    f->prefix, f->port_base + 1, f->prefix, f->size,
		    f->port_base + f->size);
		return (-1);
	}
	f->try = i;

	while (f->options[nopt] != NULL)
		nopt++;
	argv = xcalloc(nopt + 12, sizeof *argv);
	k = 0;
	argv[k++] = f->server;
	argv[k++] = opt_i;
	argv[k++] = f->local_ip;
	argv[k++] = opt_W;
	argv[k++] = f->bps;
	argv[k++] = f->image;
	for (j = 0; j < nopt; j++)
		argv[k++] = f->options[j];
	snprintf(portstr, sizeof portstr, "%d", f->port);
	argv[k++] = opt_m;
	argv[k++] = f->group;
	argv[k++] = opt_p;
	argv[k++] = portstr;
	argv[k] = NULL;

	f->last[0] = '\0';
	f->bind_failed = 0;
	f->child =
	    child_start(argv, NULL, frisbeed_line, frisbeed_done, f, errp);
	free(argv);
	if (f->child == NULL) {
		/* child.c says "cannot run 'x': why". */
		char *why = *errp;

		xasprintf(errp, "frisbeed: %s", why);
		free(why);
		return (-1);
	}
	free(f->describe);
	base = strrchr(f->image, '/');
	xasprintf(&f->describe, "frisbeed@%s:%d on %s at %lld Mibps", f->group,
	    f->port, base != NULL ? base + 1 : f->image, f->mibps);
	log_info("frisbeed: pid %ld: %s", (long)child_pid(f->child),
	    f->describe);
	f->state = FRISBEED_STARTING;
	loop_ms_to_timeval(f->settle_ms, &tv);
	evtimer_add(f->timer, &tv);
	return (0);
}

static void
frisbeed_line(struct child *c, int is_stderr, const char *line, void *arg)
{
	struct frisbeed *f = arg;

	log_info("frisbeed %s:%d: %s", f->group, f->port, line);
	if (*line != '\0')
		strlcpy(f->last, line, sizeof f->last);
	if (strstr(line, "Could not bind") != NULL)
		f->bind_failed = 1;
	if (f->line_cb != NULL)
		f->line_cb(f, is_stderr, line, f->arg);
}

/* The owner's callback; f may be freed (deferred) when it returns. */
static void
frisbeed_tell(struct frisbeed *f, enum frisbeed_event ev, const char *why)
{
	if (f->dead)
		return;
	if (f->cb != NULL)
		f->cb(f, ev, why, f->arg);
}

static void
frisbeed_done(struct child *c, int status, void *arg)
{
	struct frisbeed *f = arg;
	char *st, *why = NULL;
	enum frisbeed_state was = f->state;

	child_free(f->child);
	f->child = NULL;
	evtimer_del(f->timer);
	st = child_status_string(status);
	f->state = FRISBEED_OVER;

	switch (was) {
	case FRISBEED_STARTING:
		if ((WIFEXITED(status) && WEXITSTATUS(status) == EADDRINUSE) ||
		    f->bind_failed) {
			/* Another run took it between our probe and its bind.
			 */
			log_warn("frisbeed %s:%d: taken (%s), trying the next",
			    f->group, f->port, st);
			if (frisbeed_spawn_from(f, f->try + 1, &why) == 0)
				break;
		} else
			xasprintf(&why,
			    "frisbeed %s:%d exited at once (%s)%s%s", f->group,
			    f->port, st, f->last[0] != '\0' ? ": " : "",
			    f->last);
		log_warn("%s", why);
		frisbeed_tell(f, FRISBEED_FAILED, why);
		break;
	case FRISBEED_SERVING:
		xasprintf(&why, "frisbeed %s:%d died (%s)%s%s", f->group,
		    f->port, st, f->last[0] != '\0' ? ": " : "", f->last);
		log_warn("%s", why);
		frisbeed_tell(f, FRISBEED_LOST, why);
		break;
	case FRISBEED_STOPPING:
		log_info("frisbeed %s:%d: stopped (%s)", f->group, f->port, st);
		frisbeed_tell(f, FRISBEED_STOPPED, NULL);
		break;
	case FRISBEED_OVER:
		break;
	}
	free(why);
	free(st);
}

static void
frisbeed_timer(evutil_socket_t fd, short what, void *arg)
{
	struct frisbeed *f = arg;
	char *why;

	switch (f->state) {
	case FRISBEED_STARTING:
		f->state = FRISBEED_SERVING;
		log_info("frisbeed: started %s", f->describe);
		frisbeed_tell(f, FRISBEED_READY, NULL);
		break;
	case FRISBEED_STOPPING:
		/* Not even SIGKILL was enough (a process stuck in D state). */
		xasprintf(&why, "frisbeed %s:%d: pid %ld did not exit",
		    f->group, f->port, (long)child_pid(f->child));
		log_warn("%s", why);
		child_free(f->child);
		f->child = NULL;
		f->state = FRISBEED_OVER;
		frisbeed_tell(f, FRISBEED_STOPPED, why);
		free(why);
		break;
	case FRISBEED_SERVING:
	case FRISBEED_OVER:
		break;
	}
}

int
frisbeed_stop(struct frisbeed *f)
{
	struct timeval tv;

	if (f->state != FRISBEED_STARTING && f->state != FRISBEED_SERVING)
		return (0);
	log_info("frisbeed %s:%d: stopping", f->group, f->port);
	f->state = FRISBEED_STOPPING;
	child_kill(f->child);
	loop_ms_to_timeval(FRISBEED_STOP_MS, &tv);
	evtimer_add(f->timer, &tv);
	return (1);
}

void
frisbeed_free(struct frisbeed *f)
{
	if (f == NULL)
		return;
	f->dead = 1;
	if (f->child != NULL)
		child_free(f->child);
	f->child = NULL;
	loop_event_free(f->timer);
	f->timer = NULL;
	loop_defer(frisbeed_destroy, f);
}

static void
frisbeed_destroy(void *arg)
{
	struct frisbeed *f = arg;

	free(f->server);
	frisbeed_strings_free(f->options);
	free(f->local_ip);
	free(f->bps);
	free(f->image);
	free(f->prefix);
	free(f->describe);
	free(f);
}

const char *
frisbeed_group(const struct frisbeed *f)
{
	return (f->group);
}

int
frisbeed_port(const struct frisbeed *f)
{
	return (f->port);
}

int
frisbeed_serving(const struct frisbeed *f)
{
	return (f->state == FRISBEED_SERVING);
}

long
frisbeed_pid(const struct frisbeed *f)
{
	return (f->child != NULL ? (long)child_pid(f->child) : -1);
}

const char *
frisbeed_describe(const struct frisbeed *f)
{
	return (f->describe != NULL ? f->describe : "frisbeed");
}
