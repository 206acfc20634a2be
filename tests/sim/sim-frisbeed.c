/*
 * frisbeed: the Emulab multicast disk-image server, as the simulated
 * testbed provides it (see DESIGN.md, "frisbee and frisbeed"). rhubarb runs
 * it on the host side, inside "rhubarb-sim run", with the real one's
 * command line:
 *
 *	frisbeed -i 127.0.0.1 -W 524288000 IMAGE -K 3 -m 234.5.6.1 -p 10001
 *
 * It behaves like the real server where a client can see it. It binds UDP
 * MCAST:PORT without SO_REUSEADDR, so a second server on a busy group and
 * port fails at once ("Could not bind to port N!", exit EADDRINUSE, the
 * value the real one documents for wrapper scripts that try another port).
 * It then serves IMAGE to the node-side frisbee stand-ins over a Unix
 * socket, $RHUBARB_SIM_DIR/sim/frisbeed/MCAST:PORT.sock, in 1 MiB chunks,
 * at most -W bits per second in total (the real server's unit), and it
 * shares that rate as multicast does: clients at the same point of the
 * image get each chunk from one send, a client that joins late starts from
 * the beginning and costs its own sends until it catches up. SIGTERM stops
 * it (exit 0, socket removed); so does -T seconds without any client.
 *
 * Its log lines are the real server's kind. The real one sends them to
 * syslog (to stderr with -d); here they go to DIR/sim/log/frisbeed-MCAST:
 * PORT.log, the start-up and exit lines also to stderr, and with -d all of
 * them: rhubarbe pipes the server's output and never reads it, so a chatty
 * stderr could fill the pipe and stall the server.
 *
 * Socket protocol (ours, both ends in this directory): the client sends
 * "join ID IP\n", the server answers "file BYTES\n" and the image's bytes;
 * the client then sends "leave ID SECONDS\n" and closes.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/compat.h"
#include "common/log.h"
#include "common/xmalloc.h"

/*
 * Exit codes: EADDRINUSE when the group and port are taken, as the real
 * server; 1 for every other error (usage, unreadable image).
 */
enum frisbeed_exit {
	FRISBEED_EXIT_OK = 0,
	FRISBEED_EXIT_FAIL = 1,
	FRISBEED_EXIT_BUSY = EADDRINUSE,
};

#define FRISBEED_CHUNK        (1024 * 1024)
#define FRISBEED_BLOCK        1024
#define FRISBEED_JOIN_TIMEOUT 10   /* seconds for a client's JOIN */
#define FRISBEED_IDLE_TIMEOUT 1800 /* seconds without clients (-T) */
#define FRISBEED_MAX_LINE     256

enum client_state {
	CLIENT_JOINING,   /* waiting for "join" */
	CLIENT_STREAMING, /* being sent the image */
	CLIENT_SENT,      /* all queued; waiting for "leave" or EOF */
};

struct client {
	struct server *srv;
	struct bufferevent *bev;
	enum client_state state;
	uint32_t id;
	char ip[INET_ADDRSTRLEN];
	uint64_t off; /* next byte to send */
	TAILQ_ENTRY(client) entry;
};
TAILQ_HEAD(clients, client);

/* One chunk of the image, shared by every output buffer it was sent to. */
struct chunk {
	uint64_t index;
	size_t len;
	int refs;
	char data[];
};

struct server {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *pump; /* sends chunks; also the rate timer */
	struct event *idle;
	struct event *sigterm, *sigint, *sighup;
	int udp;
	int fd; /* the image */
	const char *image;
	char *sockpath;
	uint64_t size;
	double rate; /* bytes per second, 0: unlimited */
	double tokens;
	struct timespec refilled;
	uint64_t last_index; /* chunk sent last, for round robin */
	int sent_any;
	struct chunk *cache;
	struct clients clients;
	int nclients;
	int idle_timeout;
	int debug;
	int status;
};

static void usage(void);
static void say(struct server *, int, const char *, ...) printflike(3, 4);
static const char *now_string(char *, size_t);
static struct chunk *chunk_get(struct server *, uint64_t);
static void chunk_unref(const void *, size_t, void *);
static void client_free(struct client *);
static void client_read_cb(struct bufferevent *, void *);
static void client_write_cb(struct bufferevent *, void *);
static void client_event_cb(struct bufferevent *, short, void *);
static int client_line(struct client *, char *);
static void accept_cb(struct evconnlistener *, evutil_socket_t,
    struct sockaddr *, int, void *);
static void pump_schedule(struct server *);
static void pump_cb(evutil_socket_t, short, void *);
static void idle_arm(struct server *);
static void idle_cb(evutil_socket_t, short, void *);
static void signal_cb(evutil_socket_t, short, void *);
static int udp_bind(struct server *, struct in_addr, int);
static int unix_listen(struct server *, const char *, struct in_addr, int);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: frisbeed [-d] <-p #> <-m mcastaddr> <filename>\n"
	    " -d              Turn on debugging. Multiple -d options increase output.\n"
	    " -p portnum      Specify a port number to listen on.\n"
	    " -m mcastaddr    Specify a multicast address in dotted notation.\n"
	    " -i mcastif      Specify a multicast interface in dotted notation.\n"
	    " -W bandwidth    Maximum send bandwidth, in bits per second.\n"
	    " -T seconds      Exit after that long without clients.\n"
	    "\n");
}

/*
 * A log line: into the log file always, onto stderr when loud (start-up,
 * exit, errors) or with -d.
 */
static void
say(struct server *srv, int loud, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	log_info("%s", msg);
	if (loud || (srv != NULL && srv->debug)) {
		fprintf(stderr, "%s\n", msg);
		fflush(stderr);
	}
	free(msg);
}

/* The real server's time stamp in join and leave lines (ctime's). */
static const char *
now_string(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%a %b %e %H:%M:%S %Y", &tm);
	return (buf);
}

/* Chunk index of the image, read once and cached while it is being sent. */
static struct chunk *
chunk_get(struct server *srv, uint64_t index)
{
	struct chunk *c;
	uint64_t off = index * FRISBEED_CHUNK;
	size_t len, got = 0;
	ssize_t n;

	if (srv->cache != NULL && srv->cache->index == index)
		return (srv->cache);
	len = srv->size - off < FRISBEED_CHUNK ? (size_t)(srv->size - off)
					       : FRISBEED_CHUNK;
	c = xmalloc(sizeof *c + len);
	c->index = index;
	c->len = len;
	c->refs = 1; /* the cache's */
	while (got < len) {
		n = pread(srv->fd, c->data + got, len - got,
		    (off_t)(off + got));
		if (n <= 0) {
			say(srv, 1, "read error on %s: %s", srv->image,
			    n == 0 ? "EOF on file" : strerror(errno));
			free(c);
			return (NULL);
		}
		got += (size_t)n;
	}
	if (srv->cache != NULL)
		chunk_unref(NULL, 0, srv->cache);
	srv->cache = c;
	return (c);
}

/* evbuffer cleanup: an output buffer is done with the chunk. */
static void
chunk_unref(const void *data, size_t len, void *arg)
{
	struct chunk *c = arg;

	if (--c->refs == 0)
		free(c);
}

static void
client_free(struct client *cl)
{
	struct server *srv = cl->srv;

	TAILQ_REMOVE(&srv->clients, cl, entry);
	srv->nclients--;
	bufferevent_free(cl->bev);
	free(cl);
	idle_arm(srv);
}

/*
 * One line from a client: its JOIN, or its LEAVE once it has it all.
 * Returns -1 when the client is gone (freed), 0 otherwise.
 */
static int
client_line(struct client *cl, char *line)
{
	struct server *srv = cl->srv;
	char stamp[64], ip[INET_ADDRSTRLEN];
	unsigned long id, secs;
	struct in_addr in;
	int nactive = 0;
	struct client *o;

	if (cl->state == CLIENT_JOINING) {
		if (sscanf(line, "join %lu %15s", &id, ip) != 2 ||
		    inet_pton(AF_INET, ip, &in) != 1) {
			say(srv, 0, "WARNING: bad JOIN from a client; ignored");
			client_free(cl);
			return (-1);
		}
		cl->id = (uint32_t)id;
		strlcpy(cl->ip, ip, sizeof cl->ip);
		cl->state = srv->size > 0 ? CLIENT_STREAMING : CLIENT_SENT;
		bufferevent_set_timeouts(cl->bev, NULL, NULL);
		evbuffer_add_printf(bufferevent_get_output(cl->bev),
		    "file %" PRIu64 "\n", srv->size);
		TAILQ_FOREACH(o, &srv->clients, entry) {
			if (o->state != CLIENT_JOINING)
				nactive++;
		}
		say(srv, 0,
		    "%s (id %" PRIu32 ", image %s) joins (v1) at %s!  "
		    "%d active clients.",
		    cl->ip, cl->id, srv->image, now_string(stamp, sizeof stamp),
		    nactive);
		pump_schedule(srv);
		return (0);
	}
	if (sscanf(line, "leave %lu %lu", &id, &secs) == 2) {
		TAILQ_FOREACH(o, &srv->clients, entry) {
			if (o != cl && o->state != CLIENT_JOINING)
				nactive++;
		}
		say(srv, 0,
		    "%s (id %" PRIu32 ", image %s): leaves at %s, ran "
		    "for %lu seconds.  %d active clients",
		    cl->ip, cl->id, srv->image, now_string(stamp, sizeof stamp),
		    secs, nactive);
		client_free(cl);
		return (-1);
	}
	return (0);
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	int gone;

	while ((line = evbuffer_readln(in, NULL, EVBUFFER_EOL_LF)) != NULL) {
		gone = client_line(cl, line);
		free(line);
		if (gone)
			return;
	}
	if (evbuffer_get_length(in) > FRISBEED_MAX_LINE) {
		say(cl->srv, 0, "WARNING: client line too long; dropped");
		client_free(cl);
	}
}

/* Output drained: the client can take another chunk. */
static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;

	if (cl->state == CLIENT_STREAMING)
		pump_schedule(cl->srv);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *cl = arg;

	if (what & BEV_EVENT_TIMEOUT)
		say(cl->srv, 0,
		    "WARNING: no JOIN from a client after %d "
		    "seconds; dropped",
		    FRISBEED_JOIN_TIMEOUT);
	else if (cl->state == CLIENT_STREAMING)
		say(cl->srv, 0,
		    "%s (id %" PRIu32 "): went away after %" PRIu64
		    " of %" PRIu64 " bytes",
		    cl->ip, cl->id, cl->off, cl->srv->size);
	client_free(cl);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct server *srv = arg;
	struct client *cl;
	struct timeval tv = {FRISBEED_JOIN_TIMEOUT, 0};

	cl = xcalloc(1, sizeof *cl);
	cl->srv = srv;
	cl->state = CLIENT_JOINING;
	cl->bev = bufferevent_socket_new(srv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (cl->bev == NULL) {
		close(fd);
		free(cl);
		return;
	}
	bufferevent_setcb(cl->bev, client_read_cb, client_write_cb,
	    client_event_cb, cl);
	bufferevent_set_timeouts(cl->bev, &tv, NULL);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&srv->clients, cl, entry);
	srv->nclients++;
	idle_arm(srv);
}

/* Run the pump on the next loop turn (coalesces many write callbacks). */
static void
pump_schedule(struct server *srv)
{
	if (!event_pending(srv->pump, EV_TIMEOUT, NULL))
		event_active(srv->pump, EV_TIMEOUT, 1);
}

/*
 * Send chunks while the rate allows. A chunk goes, in one "multicast", to
 * every client that is at that chunk and has drained its previous one;
 * positions are served in turn so that a late client is not starved by an
 * early group, nor the group by it.
 */
static void
pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct client *cl;
	struct chunk *c;
	struct timespec now;
	struct timeval tv;
	uint64_t index, best_after, best_any;
	double dt, wait;
	int found_after, found_any;

	if (srv->rate > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		dt = (double)(now.tv_sec - srv->refilled.tv_sec) +
		    (double)(now.tv_nsec - srv->refilled.tv_nsec) / 1e9;
		srv->refilled = now;
		srv->tokens += dt * srv->rate;
		/* Burst at most two chunks, as a full socket buffer would. */
		if (srv->tokens > 2.0 * FRISBEED_CHUNK)
			srv->tokens = 2.0 * FRISBEED_CHUNK;
	}
	for (;;) {
		found_after = found_any = 0;
		best_after = best_any = 0;
		TAILQ_FOREACH(cl, &srv->clients, entry) {
			if (cl->state != CLIENT_STREAMING ||
			    evbuffer_get_length(
				bufferevent_get_output(cl->bev)) != 0)
				continue;
			index = cl->off / FRISBEED_CHUNK;
			if (!found_any || index < best_any)
				best_any = index;
			found_any = 1;
			if (srv->sent_any && index > srv->last_index &&
			    (!found_after || index < best_after)) {
				best_after = index;
				found_after = 1;
			}
		}
		if (!found_any)
			return;
		index = found_after ? best_after : best_any;
		if ((c = chunk_get(srv, index)) == NULL) {
			srv->status = FRISBEED_EXIT_FAIL;
			event_base_loopexit(srv->base, NULL);
			return;
		}
		if (srv->rate > 0 && srv->tokens < (double)c->len) {
			wait = ((double)c->len - srv->tokens) / srv->rate;
			tv.tv_sec = (time_t)wait;
			tv.tv_usec =
			    (suseconds_t)((wait - (double)tv.tv_sec) * 1e6) + 1;
			evtimer_add(srv->pump, &tv);
			return;
		}
		srv->tokens -= (double)c->len;
		srv->last_index = index;
		srv->sent_any = 1;
		TAILQ_FOREACH(cl, &srv->clients, entry) {
			if (cl->state != CLIENT_STREAMING ||
			    cl->off / FRISBEED_CHUNK != index ||
			    evbuffer_get_length(
				bufferevent_get_output(cl->bev)) != 0)
				continue;
			c->refs++;
			evbuffer_add_reference(bufferevent_get_output(cl->bev),
			    c->data, c->len, chunk_unref, c);
			cl->off += c->len;
			if (cl->off >= srv->size)
				cl->state = CLIENT_SENT;
		}
	}
}

/* (Re)start the countdown to exit while no client is connected. */
static void
idle_arm(struct server *srv)
{
	struct timeval tv = {srv->idle_timeout, 0};

	if (srv->idle == NULL)
		return;
	if (srv->nclients > 0)
		evtimer_del(srv->idle);
	else
		evtimer_add(srv->idle, &tv);
}

static void
idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	say(srv, 1, "No requests for %d seconds!", srv->idle_timeout);
	event_base_loopexit(srv->base, NULL);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	/* SIGTERM and SIGINT are a wanted stop; SIGHUP (reinit) is not. */
	if (sig == SIGHUP) {
		say(srv, 1, "Caught signal %d. Exiting ...", (int)sig);
		srv->status = FRISBEED_EXIT_FAIL;
	}
	event_base_loopexit(srv->base, NULL);
}

/* Bind the group and port, as the real server claims them. */
static int
udp_bind(struct server *srv, struct in_addr group, int port)
{
	struct sockaddr_in sin;

	if ((srv->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		say(srv, 1, "Could not allocate a socket: %s", strerror(errno));
		return (FRISBEED_EXIT_FAIL);
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr = group;
	if (bind(srv->udp, (struct sockaddr *)&sin, sizeof sin) == -1) {
		if (errno == EADDRINUSE) {
			say(srv, 1, "Could not bind to port %d!", port);
			return (FRISBEED_EXIT_BUSY);
		}
		say(srv, 1, "Could not bind to %s:%d: %s", inet_ntoa(group),
		    port, strerror(errno));
		return (FRISBEED_EXIT_FAIL);
	}
	say(srv, 1, "Bound to port %d", port);
	say(srv, 1, "Using Multicast %s", inet_ntoa(group));
	return (FRISBEED_EXIT_OK);
}

/* Listen on DIR/sim/frisbeed/GROUP:PORT.sock for the node-side clients. */
static int
unix_listen(struct server *srv, const char *dir, struct in_addr group, int port)
{
	struct sockaddr_un sun;
	char *sockdir;

	xasprintf(&sockdir, "%s/sim/frisbeed", dir);
	if (mkdir(sockdir, 0755) == -1 && errno != EEXIST) {
		say(srv, 1, "%s: %s", sockdir, strerror(errno));
		free(sockdir);
		return (-1);
	}
	xasprintf(&srv->sockpath, "%s/%s:%d.sock", sockdir, inet_ntoa(group),
	    port);
	free(sockdir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, srv->sockpath, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		say(srv, 1, "%s: path too long", srv->sockpath);
		return (-1);
	}
	/*
	 * We hold the UDP port, so a socket left here is stale: a server
	 * killed with SIGKILL, as rhubarbe stops it, leaves its socket.
	 */
	unlink(srv->sockpath);
	srv->listener = evconnlistener_new_bind(srv->base, accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
	    (struct sockaddr *)&sun, sizeof sun);
	if (srv->listener == NULL) {
		say(srv, 1, "%s: %s", srv->sockpath, strerror(errno));
		return (-1);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	struct server srv;
	struct in_addr group = {0}, ifaddr;
	struct stat sb;
	struct client *cl;
	const char *dir;
	char *logpath = NULL, *end;
	unsigned long long bandwidth = 0;
	int ch, port = -1, r;

	memset(&srv, 0, sizeof srv);
	TAILQ_INIT(&srv.clients);
	srv.udp = srv.fd = -1;
	srv.idle_timeout = FRISBEED_IDLE_TIMEOUT;
	srv.status = FRISBEED_EXIT_OK;

	/*
	 * The real server's options; those about its multicast tuning are
	 * accepted and mean nothing here.
	 */
	while ((ch = getopt(argc, argv, "dhp:k:m:i:tbDT:R:B:G:L:W:K:A:E:H:")) !=
	    -1) {
		switch (ch) {
		case 'd':
			srv.debug++;
			break;
		case 'p':
			port = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || port <= 0 || port > 65535) {
				usage();
				return (FRISBEED_EXIT_FAIL);
			}
			break;
		case 'm':
			if (inet_aton(optarg, &group) == 0) {
				usage();
				return (FRISBEED_EXIT_FAIL);
			}
			break;
		case 'i':
			if (inet_aton(optarg, &ifaddr) == 0) {
				usage();
				return (FRISBEED_EXIT_FAIL);
			}
			break;
		case 'W':
			errno = 0;
			bandwidth = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0') {
				usage();
				return (FRISBEED_EXIT_FAIL);
			}
			break;
		case 'T':
			srv.idle_timeout = atoi(optarg);
			if (srv.idle_timeout <= 0)
				srv.idle_timeout = FRISBEED_IDLE_TIMEOUT;
			break;
		case 'E':
			fprintf(stderr, "Not compiled for Emulab events\n");
			return (FRISBEED_EXIT_FAIL);
		case 'h':
		case '?':
			usage();
			return (FRISBEED_EXIT_FAIL);
		default:
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || port < 0 || group.s_addr == 0) {
		usage();
		return (FRISBEED_EXIT_FAIL);
	}
	srv.image = argv[0];
	if ((dir = getenv("RHUBARB_SIM_DIR")) == NULL || *dir == '\0') {
		fprintf(stderr,
		    "frisbeed: RHUBARB_SIM_DIR is not set (run me "
		    "with rhubarb-sim run)\n");
		return (FRISBEED_EXIT_FAIL);
	}
	xasprintf(&logpath, "%s/sim/log/frisbeed-%s:%d.log", dir,
	    inet_ntoa(group), port);
	if (log_open(logpath, 0) != 0)
		fprintf(stderr, "frisbeed: %s: %s (not logging)\n", logpath,
		    strerror(errno));
	free(logpath);

	r = FRISBEED_EXIT_FAIL;
	if ((srv.fd = open(srv.image, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(srv.fd, &sb) == -1) {
		say(&srv, 1, "Cannot read %s: %s", srv.image, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		say(&srv, 1, "Cannot read %s: not a regular file", srv.image);
		goto out;
	}
	srv.size = (uint64_t)sb.st_size;
	say(&srv, 1, "Opened %s: %" PRIu64 " blocks (%" PRIu64 " bytes)",
	    srv.image, (srv.size + FRISBEED_BLOCK - 1) / FRISBEED_BLOCK,
	    srv.size);
	srv.rate = (double)bandwidth / 8.0;
	if (bandwidth == 0)
		say(&srv, 1, "Maximum send bandwidth unlimited");
	else
		say(&srv, 1,
		    "Maximum send bandwidth %.3f Mbits/sec (%llu "
		    "blocks/sec)",
		    (double)bandwidth / 1e6, bandwidth / 8 / FRISBEED_BLOCK);

	if ((r = udp_bind(&srv, group, port)) != FRISBEED_EXIT_OK)
		goto out;
	r = FRISBEED_EXIT_FAIL;
	if ((srv.base = event_base_new()) == NULL) {
		say(&srv, 1, "event_base_new failed");
		goto out;
	}
	if (unix_listen(&srv, dir, group, port) != 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	srv.pump = evtimer_new(srv.base, pump_cb, &srv);
	srv.idle = evtimer_new(srv.base, idle_cb, &srv);
	srv.sigterm = evsignal_new(srv.base, SIGTERM, signal_cb, &srv);
	srv.sigint = evsignal_new(srv.base, SIGINT, signal_cb, &srv);
	srv.sighup = evsignal_new(srv.base, SIGHUP, signal_cb, &srv);
	evsignal_add(srv.sigterm, NULL);
	evsignal_add(srv.sigint, NULL);
	evsignal_add(srv.sighup, NULL);
	clock_gettime(CLOCK_MONOTONIC, &srv.refilled);
	idle_arm(&srv);

	event_base_dispatch(srv.base);
	say(&srv, 1, "Exiting!");
	r = srv.status;
out:
	while ((cl = TAILQ_FIRST(&srv.clients)) != NULL)
		client_free(cl);
	if (srv.listener != NULL)
		evconnlistener_free(srv.listener);
	if (srv.sockpath != NULL && srv.listener != NULL)
		unlink(srv.sockpath);
	free(srv.sockpath);
	if (srv.cache != NULL)
		chunk_unref(NULL, 0, srv.cache);
	if (srv.pump != NULL)
		event_free(srv.pump);
	if (srv.idle != NULL)
		event_free(srv.idle);
	if (srv.sigterm != NULL)
		event_free(srv.sigterm);
	if (srv.sigint != NULL)
		event_free(srv.sigint);
	if (srv.sighup != NULL)
		event_free(srv.sighup);
	if (srv.base != NULL)
		event_base_free(srv.base);
	if (srv.udp != -1)
		close(srv.udp);
	if (srv.fd != -1)
		close(srv.fd);
	log_close();
	return (r);
}
