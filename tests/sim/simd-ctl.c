/*
 * The control socket, DIR/sim/simd.sock (DESIGN.md, "Control socket"): a
 * stream socket with one request per line and replies made of lines, the
 * first starting with "ok" or "error", the last a lone ".". Scripts, the
 * ipmi_sim chassis hook, the PDU's pass_persist helper and the node-side
 * tools all come here, many at a time, each for as many requests as it
 * likes.
 *
 * A client is a bufferevent. Requests are served in order; a reply waits
 * for nft when the request changed the gates, so "ok" means done. A line
 * longer than SIMD_CTL_LINE_MAX, a line with control bytes, an unknown
 * request: "error ..." and the connection goes on. A client that stops
 * reading its replies is not read either (bounded output), and one that
 * says nothing for 30 s is closed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/listener.h>

#include <bsd/stdlib.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "simd.h"

#define SIMD_CTL_LINE_MAX 1024
#define SIMD_CTL_MAXWORDS 8
#define SIMD_CTL_IDLE_SEC 30
#define SIMD_CTL_OUT_MAX  (256 * 1024)
#define SIMD_CTL_BACKLOG  256

struct simd_ctl_client {
	TAILQ_ENTRY(simd_ctl_client) entry;
	u_int id;
	struct bufferevent *bev;
	struct evbuffer *held; /* a reply waiting for nft */
	struct simd_nft_waiter waiter;
	int waiting;    /* held is waiting: serve nothing else */
	int discarding; /* dropping the rest of an over-long line */
	int blocked;    /* not reading: too much output unread */
	int eof;
	int quit;
};
TAILQ_HEAD(simd_ctl_clients, simd_ctl_client);

struct simd_ctl_cmd {
	const char *name;
	u_int args; /* words after the name */
	const char *usage;
	int (*exec)(struct simd_ctl_client *, char **, struct evbuffer *,
	    char **);
};

static int simd_ctl_power(struct simd_ctl_client *, char **, struct evbuffer *,
    char **);
static int simd_ctl_state(struct simd_ctl_client *, char **, struct evbuffer *,
    char **);
static int simd_ctl_outlet(struct simd_ctl_client *, char **, struct evbuffer *,
    char **);
static int simd_ctl_fault(struct simd_ctl_client *, char **, struct evbuffer *,
    char **);
static int simd_ctl_faults(struct simd_ctl_client *, char **, struct evbuffer *,
    char **);
static int simd_ctl_list(struct simd_ctl_client *, char **, struct evbuffer *,
    char **);
static int simd_ctl_quit(struct simd_ctl_client *, char **, struct evbuffer *,
    char **);
static void simd_ctl_accept(struct evconnlistener *, evutil_socket_t,
    struct sockaddr *, int, void *);
static void simd_ctl_read_cb(struct bufferevent *, void *);
static void simd_ctl_write_cb(struct bufferevent *, void *);
static void simd_ctl_event_cb(struct bufferevent *, short, void *);
static void simd_ctl_nft_cb(void *);
static void simd_ctl_serve(struct simd_ctl_client *);
static void simd_ctl_line(struct simd_ctl_client *, char *, size_t);
static void simd_ctl_release(struct simd_ctl_client *);
static void simd_ctl_maybe_free(struct simd_ctl_client *);
static void simd_ctl_free(struct simd_ctl_client *);

static const struct simd_ctl_cmd simd_ctl_cmds[] = {
    {"power", 2, "power NODE get|on|off|reset|cycle", simd_ctl_power},
    {"state", 1, "state NODE", simd_ctl_state},
    {"outlet", 3, "outlet PDU N get|on|off|reboot", simd_ctl_outlet},
    {"fault", 2, "fault NODE KIND|clear", simd_ctl_fault},
    {"faults", 1, "faults NODE", simd_ctl_faults},
    {"list", 0, "list", simd_ctl_list},
    {"quit", 0, "quit", simd_ctl_quit},
};

static struct evconnlistener *simd_ctl_listener;
static char *simd_ctl_path;
static struct simd_ctl_clients simd_ctl_clients =
    TAILQ_HEAD_INITIALIZER(simd_ctl_clients);
static u_int simd_ctl_next_id;

static struct simd_node *
simd_ctl_node(const char *word, char **errp)
{
	struct simd_node *n;

	if ((n = simd_node_find(word)) == NULL)
		xasprintf(errp, "unknown node %s", word);
	return (n);
}

static int
simd_ctl_power(struct simd_ctl_client *c, char **argv, struct evbuffer *out,
    char **errp)
{
	struct simd_node *n;

	if ((n = simd_ctl_node(argv[0], errp)) == NULL)
		return (-1);
	if (strcmp(argv[1], "get") == 0) {
		evbuffer_add_printf(out, "ok %s\n",
		    simd_power_is_on(n) ? "on" : "off");
		return (0);
	}
	if (strcmp(argv[1], "on") == 0)
		simd_power_chassis(n, 1, "ctl power on");
	else if (strcmp(argv[1], "off") == 0)
		simd_power_chassis(n, 0, "ctl power off");
	else if (strcmp(argv[1], "reset") == 0)
		simd_power_reset(n, "ctl power reset");
	else if (strcmp(argv[1], "cycle") == 0)
		simd_power_cycle(n, "ctl power cycle");
	else {
		xasprintf(errp, "unknown power action %s", argv[1]);
		return (-1);
	}
	evbuffer_add_printf(out, "ok\n");
	return (0);
}

static int
simd_ctl_state(struct simd_ctl_client *c, char **argv, struct evbuffer *out,
    char **errp)
{
	struct simd_node *n;

	if ((n = simd_ctl_node(argv[0], errp)) == NULL)
		return (-1);
	evbuffer_add_printf(out, "ok %s chassis=%s ac=%s\n",
	    simd_power_state_name(n->state), n->chassis ? "on" : "off",
	    n->ac ? "on" : "off");
	return (0);
}

static int
simd_ctl_outlet(struct simd_ctl_client *c, char **argv, struct evbuffer *out,
    char **errp)
{
	struct simd_pdu *p;
	struct simd_outlet *o;
	const char *errstr;
	long long i;

	if ((p = simd_pdu_find(argv[0])) == NULL) {
		xasprintf(errp, "unknown PDU %s", argv[0]);
		return (-1);
	}
	i = strtonum(argv[1], 1, p->noutlets, &errstr);
	if (errstr != NULL) {
		xasprintf(errp, "outlet %s is %s (%s has 1 to %u)", argv[1],
		    errstr, p->name, p->noutlets);
		return (-1);
	}
	o = &p->outlets[i - 1];
	if (strcmp(argv[2], "get") == 0) {
		evbuffer_add_printf(out, "ok %d\n", (int)o->status);
		return (0);
	}
	if (strcmp(argv[2], "on") == 0)
		simd_outlet_action(o, SIMD_OUTLET_ACT_ON, "ctl outlet on");
	else if (strcmp(argv[2], "off") == 0)
		simd_outlet_action(o, SIMD_OUTLET_ACT_OFF, "ctl outlet off");
	else if (strcmp(argv[2], "reboot") == 0)
		simd_outlet_action(o, SIMD_OUTLET_ACT_REBOOT,
		    "ctl outlet reboot");
	else {
		xasprintf(errp, "unknown outlet action %s", argv[2]);
		return (-1);
	}
	evbuffer_add_printf(out, "ok\n");
	return (0);
}

static int
simd_ctl_fault(struct simd_ctl_client *c, char **argv, struct evbuffer *out,
    char **errp)
{
	struct simd_node *n;
	int kind;

	if ((n = simd_ctl_node(argv[0], errp)) == NULL)
		return (-1);
	if ((kind = simd_fault_parse(argv[1])) == -1) {
		xasprintf(errp, "unknown fault %s", argv[1]);
		return (-1);
	}
	if (simd_fault_set(n, kind, errp) != 0)
		return (-1);
	evbuffer_add_printf(out, "ok\n");
	return (0);
}

static int
simd_ctl_faults(struct simd_ctl_client *c, char **argv, struct evbuffer *out,
    char **errp)
{
	struct simd_node *n;

	if ((n = simd_ctl_node(argv[0], errp)) == NULL)
		return (-1);
	evbuffer_add_printf(out, "ok");
	simd_fault_print(n, out);
	evbuffer_add_printf(out, "\n");
	return (0);
}

/* "ok N", then "NAME STATE CHASSIS AC FAULTS..." per node, in file order. */
static int
simd_ctl_list(struct simd_ctl_client *c, char **argv, struct evbuffer *out,
    char **errp)
{
	struct simd_node *n;
	u_int i;

	/* Pollers wait on "list": it answers once the nft table exists. */
	if (!simd.ready) {
		xasprintf(errp, "not ready");
		return (-1);
	}
	evbuffer_add_printf(out, "ok %u\n", simd.nnodes);
	for (i = 0; i < simd.nnodes; i++) {
		n = &simd.nodes[i];
		evbuffer_add_printf(out, "%s %s %s %s", n->name,
		    simd_power_state_name(n->state), n->chassis ? "on" : "off",
		    n->ac ? "on" : "off");
		simd_fault_print(n, out);
		evbuffer_add_printf(out, "\n");
	}
	return (0);
}

static int
simd_ctl_quit(struct simd_ctl_client *c, char **argv, struct evbuffer *out,
    char **errp)
{
	c->quit = 1;
	evbuffer_add_printf(out, "ok\n");
	return (0);
}

/* Serve one request line into c->held. */
static void
simd_ctl_line(struct simd_ctl_client *c, char *line, size_t len)
{
	const struct simd_ctl_cmd *cmd;
	char *argv[SIMD_CTL_MAXWORDS + 1], *p, *err = NULL;
	size_t i;
	u_int argc = 0;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	for (i = 0; i < len; i++) {
		if (((u_char)line[i] < 0x20 && line[i] != '\t') ||
		    (u_char)line[i] >= 0x7f) {
			xasprintf(&err, "bad character in request");
			goto out;
		}
	}
	p = line;
	while (
	    argc < nitems(argv) && (argv[argc] = strsep(&p, " \t")) != NULL) {
		if (*argv[argc] != '\0')
			argc++;
	}
	if (argc == 0) {
		xasprintf(&err, "empty request");
		goto out;
	}
	for (cmd = simd_ctl_cmds; cmd < simd_ctl_cmds + nitems(simd_ctl_cmds);
	     cmd++) {
		if (strcmp(argv[0], cmd->name) == 0)
			break;
	}
	if (cmd == simd_ctl_cmds + nitems(simd_ctl_cmds)) {
		xasprintf(&err, "unknown request %s", argv[0]);
		goto out;
	}
	if (argc != cmd->args + 1 || p != NULL) {
		xasprintf(&err, "usage: %s", cmd->usage);
		goto out;
	}
	log_debug("ctl %u: %s", c->id, line);
	cmd->exec(c, argv + 1, c->held, &err);
out:
	if (err != NULL) {
		log_debug("ctl %u: error %s", c->id, err);
		evbuffer_add_printf(c->held, "error %s\n", err);
		free(err);
	}
	evbuffer_add_printf(c->held, ".\n");
}

/* Move the held reply to the output; act on quit once it is out. */
static void
simd_ctl_release(struct simd_ctl_client *c)
{
	bufferevent_write_buffer(c->bev, c->held);
	if (c->quit) {
		c->quit = 0;
		simd_shutdown("quit request");
	}
}

/* Serve the complete lines waiting in the input, in order. */
static void
simd_ctl_serve(struct simd_ctl_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *line;
	size_t len;

	while (!c->waiting && !c->blocked) {
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (line == NULL && c->eof && evbuffer_get_length(in) > 0) {
			/* The last line, without its newline. */
			len = evbuffer_get_length(in);
			line = xmalloc(len + 1);
			evbuffer_remove(in, line, len);
			line[len] = '\0';
		}
		if (line == NULL) {
			if (evbuffer_get_length(in) <= SIMD_CTL_LINE_MAX)
				break;
			evbuffer_drain(in, evbuffer_get_length(in));
			if (c->discarding)
				break;
			c->discarding = 1;
			evbuffer_add_printf(c->held,
			    "error line too long (%d bytes at most)\n.\n",
			    SIMD_CTL_LINE_MAX);
		} else if (c->discarding) {
			/* The end of the line that was too long. */
			c->discarding = 0;
			free(line);
			continue;
		} else if (len > SIMD_CTL_LINE_MAX) {
			evbuffer_add_printf(c->held,
			    "error line too long (%d bytes at most)\n.\n",
			    SIMD_CTL_LINE_MAX);
			free(line);
		} else {
			simd_ctl_line(c, line, len);
			free(line);
		}
		if (simd_nft_wait(&c->waiter, simd_ctl_nft_cb, c)) {
			c->waiting = 1;
			break;
		}
		simd_ctl_release(c);
		if (evbuffer_get_length(out) > SIMD_CTL_OUT_MAX) {
			c->blocked = 1;
			bufferevent_disable(c->bev, EV_READ);
		}
	}
	simd_ctl_maybe_free(c);
}

/* Done with a client that hung up once it has all its replies. */
static void
simd_ctl_maybe_free(struct simd_ctl_client *c)
{
	if (c->eof && !c->waiting &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
		simd_ctl_free(c);
}

static void
simd_ctl_nft_cb(void *arg)
{
	struct simd_ctl_client *c = arg;

	c->waiting = 0;
	simd_ctl_release(c);
	simd_ctl_serve(c);
}

static void
simd_ctl_read_cb(struct bufferevent *bev, void *arg)
{
	simd_ctl_serve(arg);
}

/* Output drained: read again if we had stopped. */
static void
simd_ctl_write_cb(struct bufferevent *bev, void *arg)
{
	struct simd_ctl_client *c = arg;

	if (c->blocked) {
		c->blocked = 0;
		if (!c->eof)
			bufferevent_enable(bev, EV_READ);
		simd_ctl_serve(c);
		return;
	}
	simd_ctl_maybe_free(c);
}

static void
simd_ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct simd_ctl_client *c = arg;

	if (what & BEV_EVENT_EOF) {
		c->eof = 1;
		simd_ctl_serve(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("ctl %u: idle, closing", c->id);
	else
		log_debug("ctl %u: %s", c->id, strerror(errno));
	simd_ctl_free(c);
}

static void
simd_ctl_free(struct simd_ctl_client *c)
{
	log_debug("ctl %u: closed", c->id);
	TAILQ_REMOVE(&simd_ctl_clients, c, entry);
	simd_nft_unwait(&c->waiter);
	bufferevent_free(c->bev);
	evbuffer_free(c->held);
	free(c);
}

static void
simd_ctl_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct simd_ctl_client *c;
	struct timeval tv = {SIMD_CTL_IDLE_SEC, 0};

	c = xcalloc(1, sizeof *c);
	c->id = ++simd_ctl_next_id;
	c->held = evbuffer_new();
	c->bev = bufferevent_socket_new(simd.base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	bufferevent_setcb(c->bev, simd_ctl_read_cb, simd_ctl_write_cb,
	    simd_ctl_event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&simd_ctl_clients, c, entry);
	log_debug("ctl %u: connected", c->id);
}

/*
 * Listen on path. A socket file already there is stale unless something
 * answers on it: then another simd owns this directory.
 */
int
simd_ctl_start(const char *path, char **errp)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		xasprintf(errp, "%s: socket path too long", path);
		return (-1);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(errp, "socket: %s", strerror(errno));
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
		xasprintf(errp, "%s: another rhubarb-simd answers there", path);
		close(fd);
		return (-1);
	}
	close(fd);
	if (unlink(path) != 0 && errno != ENOENT) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		return (-1);
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(errp, "socket: %s", strerror(errno));
		return (-1);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    listen(fd, SIMD_CTL_BACKLOG) != 0) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	/* Node sessions and sshd's key command may not run as root. */
	chmod(path, 0666);
	simd_ctl_listener = evconnlistener_new(simd.base, simd_ctl_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (simd_ctl_listener == NULL) {
		xasprintf(errp, "%s: cannot listen", path);
		close(fd);
		unlink(path);
		return (-1);
	}
	simd_ctl_path = xstrdup(path);
	return (0);
}

/*
 * Close everything. Replies already queued (the "ok" to a quit) get one
 * last non-blocking write: they are short and the socket buffer is free.
 */
void
simd_ctl_stop(void)
{
	struct simd_ctl_client *c;
	struct evbuffer *out;
	size_t len;

	while ((c = TAILQ_FIRST(&simd_ctl_clients)) != NULL) {
		/* The bufferevent keeps its output frozen: copy, then write. */
		out = bufferevent_get_output(c->bev);
		if ((len = evbuffer_get_length(out)) > 0 &&
		    write(bufferevent_getfd(c->bev), evbuffer_pullup(out, -1),
			len) == -1)
			log_debug("ctl %u: last write: %s", c->id,
			    strerror(errno));
		simd_ctl_free(c);
	}
	if (simd_ctl_listener != NULL)
		evconnlistener_free(simd_ctl_listener);
	simd_ctl_listener = NULL;
	if (simd_ctl_path != NULL)
		unlink(simd_ctl_path);
	free(simd_ctl_path);
	simd_ctl_path = NULL;
}
