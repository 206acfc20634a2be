/*
 * IPMI 2.0 power control of one BMC on the event loop (drivers/ipmi.h):
 * the I/O around the protocol state machine of ipmi-session.c. One UDP
 * socket per operation, connect()ed to the BMC (so the kernel drops
 * datagrams from anyone else and reports ICMP errors to us), non-blocking
 * and close-on-exec; a read event; one timer at the session's next wake-up
 * (the earlier of its retransmission and its whole deadline); and a done
 * event, so that the callback always runs from the loop, never from inside
 * ipmi_op_start, and so that nothing is freed inside its own callback.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/xmalloc.h"
#include "drivers/ipmi-session.h"
#include "drivers/ipmi.h"

/* Datagrams read per read event, so one chatty peer cannot hog the loop. */
#define IPMI_READ_BURST 16

struct ipmi_op {
	struct event_base *base;
	int fd;
	struct event *read_ev;
	struct event *timer_ev;
	struct event *done_ev;
	struct ipmi_session *s;
	ipmi_cb cb;
	void *arg;
	struct power_reply reply;
};

static void ipmi_read_cb(evutil_socket_t, short, void *);
static void ipmi_timer_cb(evutil_socket_t, short, void *);
static void ipmi_done_cb(evutil_socket_t, short, void *);
static void ipmi_op_fail(struct ipmi_op *, enum power_error, const char *, ...)
    printflike(3, 4);

const char *
ipmi_command_name(enum ipmi_command cmd)
{
	switch (cmd) {
	case IPMI_CMD_STATUS:
		return ("status");
	case IPMI_CMD_ON:
		return ("on");
	case IPMI_CMD_OFF:
		return ("off");
	case IPMI_CMD_CYCLE:
		return ("cycle");
	case IPMI_CMD_RESET:
		return ("reset");
	case IPMI_CMD_SOFT:
		return ("soft");
	}
	return ("?");
}

static uint64_t
ipmi_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static struct event *
ipmi_event_new(struct event_base *base, int fd, short what,
    event_callback_fn fn, void *arg)
{
	struct event *ev;

	/* Only allocation can fail: as fatal as in xmalloc. */
	if ((ev = event_new(base, fd, what, fn, arg)) == NULL)
		abort();
	return (ev);
}

/* Fail before anything was sent; the callback comes from the loop. */
static void
ipmi_op_fail(struct ipmi_op *op, enum power_error error, const char *fmt, ...)
{
	va_list ap;

	op->reply.error = error;
	op->reply.state = POWER_STATE_UNKNOWN;
	va_start(ap, fmt);
	vsnprintf(op->reply.detail, sizeof op->reply.detail, fmt, ap);
	va_end(ap);
}

/* The socket, connected to the BMC. 0, or -1 with the op failed. */
static int
ipmi_op_open(struct ipmi_op *op, const struct ipmi_params *p)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sslen;
	int port = p->port != 0 ? p->port : IPMI_DEFAULT_PORT;
	const char *ip = p->ip != NULL ? p->ip : "";

	if (port < 1 || port > 65535) {
		ipmi_op_fail(op, POWER_ERR_NETWORK, "bad port %d", port);
		return (-1);
	}
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sslen = sizeof *sin;
	} else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sslen = sizeof *sin6;
	} else {
		ipmi_op_fail(op, POWER_ERR_NETWORK,
		    "\"%.64s\" is not a numeric address", ip);
		return (-1);
	}
	op->fd =
	    socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (op->fd == -1) {
		ipmi_op_fail(op, POWER_ERR_NETWORK, "socket: %s",
		    strerror(errno));
		return (-1);
	}
	if (connect(op->fd, (struct sockaddr *)&ss, sslen) == -1) {
		ipmi_op_fail(op, POWER_ERR_NETWORK, "connect %s: %s", ip,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* Send what the session has to send. */
static void
ipmi_op_flush(struct ipmi_op *op)
{
	uint8_t buf[IPMI_SESSION_DATAGRAM_MAX];
	size_t len;

	while ((len = ipmi_session_output(op->s, buf, sizeof buf)) > 0) {
		if (send(op->fd, buf, len, 0) == -1) {
			/*
			 * A datagram lost here is one lost on the network:
			 * the retransmission covers it. An error (a pending
			 * ICMP error, no route) is noted for the outcome.
			 */
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ENOBUFS)
				ipmi_session_socket_error(op->s, errno);
		}
	}
}

/* After each step: finish, or sleep until the session's next time. */
static void
ipmi_op_update(struct ipmi_op *op, uint64_t now)
{
	struct timeval tv;
	uint64_t next, ms;

	ipmi_op_flush(op);
	if (ipmi_session_done(op->s, &op->reply)) {
		event_del(op->read_ev);
		event_del(op->timer_ev);
		event_active(op->done_ev, EV_TIMEOUT, 0);
		return;
	}
	next = ipmi_session_next(op->s);
	ms = next > now ? next - now : 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(op->timer_ev, &tv);
}

struct ipmi_op *
ipmi_op_start(struct event_base *base, const struct ipmi_params *p,
    enum ipmi_command cmd, ipmi_cb cb, void *arg)
{
	struct ipmi_op *op;
	uint64_t now;

	op = xcalloc(1, sizeof *op);
	op->base = base;
	op->fd = -1;
	op->cb = cb;
	op->arg = arg;
	op->done_ev = ipmi_event_new(base, -1, 0, ipmi_done_cb, op);

	now = ipmi_now_ms();
	op->s = ipmi_session_new(p, cmd, now);
	if (ipmi_session_done(op->s, &op->reply) || ipmi_op_open(op, p) != 0) {
		event_active(op->done_ev, EV_TIMEOUT, 0);
		return (op);
	}
	op->read_ev = ipmi_event_new(base, op->fd, EV_READ | EV_PERSIST,
	    ipmi_read_cb, op);
	op->timer_ev = ipmi_event_new(base, -1, 0, ipmi_timer_cb, op);
	event_add(op->read_ev, NULL);
	ipmi_op_update(op, now);
	return (op);
}

static void
ipmi_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipmi_op *op = arg;
	uint8_t buf[1024];
	ssize_t n;
	int i;

	for (i = 0; i < IPMI_READ_BURST; i++) {
		n = recv(fd, buf, sizeof buf, MSG_TRUNC);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno != EINTR)
				ipmi_session_socket_error(op->s, errno);
			continue;
		}
		/* Too long for an answer of ours: counted as garbage. */
		if ((size_t)n > sizeof buf)
			n = 0;
		ipmi_session_input(op->s, buf, (size_t)n, ipmi_now_ms());
		ipmi_op_flush(op);
		if (ipmi_session_done(op->s, NULL))
			break;
	}
	ipmi_op_update(op, ipmi_now_ms());
}

static void
ipmi_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipmi_op *op = arg;
	uint64_t now = ipmi_now_ms();

	ipmi_session_timer(op->s, now);
	ipmi_op_update(op, now);
}

/* Everything but the op itself; the events are not running. */
static void
ipmi_op_release(struct ipmi_op *op)
{
	if (op->read_ev != NULL)
		event_free(op->read_ev);
	if (op->timer_ev != NULL)
		event_free(op->timer_ev);
	if (op->fd != -1)
		close(op->fd);
	ipmi_session_free(op->s);
}

static void
ipmi_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipmi_op *op = arg;
	struct power_reply reply = op->reply;
	ipmi_cb cb = op->cb;
	void *cbarg = op->arg;

	/* Free first: the callback may start new operations or exit. */
	ipmi_op_release(op);
	event_free(op->done_ev);
	explicit_bzero(op, sizeof *op);
	free(op);
	cb(&reply, cbarg);
}

void
ipmi_op_cancel(struct ipmi_op *op)
{
	if (op == NULL)
		return;
	ipmi_op_release(op);
	event_free(op->done_ev);
	explicit_bzero(op, sizeof *op);
	free(op);
}
