/*
 * rhubarb-sim-ctl: the client of rhubarb-simd's control socket
 * (tests/sim/DESIGN.md, "Control socket"). It sends one request, its words
 * joined by spaces, and prints the reply's lines without the final ".".
 *
 * It is also the chassis_control hook of every ipmi_sim BMC:
 *     rhubarb-sim-ctl -d DIR chassis NODE get power [boot]
 *     rhubarb-sim-ctl -d DIR chassis NODE set PARM VALUE [PARM VALUE...]
 * "get power" prints power:0|1; set takes power 0|1, reset 1, shutdown 1
 * (power off), and accepts boot and identify without doing anything. With
 * the bmc-slow fault on NODE it answers after 3 s, as a slow BMC would:
 * ipmi_sim runs the hook synchronously, so the whole BMC stalls.
 *
 * Every wait is bounded: 2 s to connect, 10 s for each reply.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/xmalloc.h"

#define CTL_EXIT_OK      0
#define CTL_EXIT_ERROR   1 /* the reply was "error ..." */
#define CTL_EXIT_CONNECT 2 /* cannot connect */
#define CTL_EXIT_NOREPLY 3 /* no complete reply in time */
#define CTL_EXIT_USAGE   64

#define CTL_CONNECT_MS   2000
#define CTL_REPLY_MS     10000
#define CTL_BMC_SLOW_SEC 3
#define CTL_REPLY_MAX    (16 * 1024 * 1024)
#define CTL_REQUEST_MAX  1024

static void ctl_usage(FILE *);
static long long ctl_now_ms(void);
static int ctl_wait(int, short, long long, char **);
static int ctl_connect(const char *, char **);
static int ctl_request(int, const char *, char **, char **);
static int ctl_chassis(int, const char *, int, char **);
static int ctl_chassis_check(int, char **);
static void ctl_sleep(u_int);

static void
ctl_usage(FILE *f)
{
	fprintf(f,
	    "usage: rhubarb-sim-ctl [-s SOCK] [-d DIR] REQUEST...\n"
	    "       rhubarb-sim-ctl [-s SOCK] [-d DIR] chassis NODE get "
	    "PARM...\n"
	    "       rhubarb-sim-ctl [-s SOCK] [-d DIR] chassis NODE set PARM "
	    "VALUE...\n"
	    "  -s SOCK  the control socket (default DIR/sim/simd.sock)\n"
	    "  -d DIR   the testbed directory (default $RHUBARB_SIM_DIR)\n"
	    "requests: power NODE get|on|off|reset|cycle, state NODE,\n"
	    "  outlet PDU N get|on|off|reboot, fault NODE KIND|clear,\n"
	    "  faults NODE, list, quit\n"
	    "exit: 0 ok, 1 error reply, 2 cannot connect, 3 no reply, "
	    "64 usage\n");
}

static long long
ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Wait for events on fd until the deadline; 0 when ready, -1 if not. */
static int
ctl_wait(int fd, short events, long long deadline, char **errp)
{
	struct pollfd pfd;
	long long left;
	int n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		if ((left = deadline - ctl_now_ms()) <= 0) {
			xasprintf(errp, "timed out");
			return (-1);
		}
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return (0);
		if (n == -1 && errno != EINTR) {
			xasprintf(errp, "poll: %s", strerror(errno));
			return (-1);
		}
	}
}

/* Connect within CTL_CONNECT_MS; returns the (non-blocking) socket. */
static int
ctl_connect(const char *path, char **errp)
{
	struct sockaddr_un sun;
	long long deadline = ctl_now_ms() + CTL_CONNECT_MS;
	socklen_t len;
	int fd, error;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(errp, "socket path too long");
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (fd == -1) {
			xasprintf(errp, "socket: %s", strerror(errno));
			return (-1);
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
			return (fd);
		if (errno == EINPROGRESS)
			break;
		close(fd);
		if (errno != EAGAIN) {
			xasprintf(errp, "%s", strerror(errno));
			return (-1);
		}
		/* The backlog is full: simd is busy, try again shortly. */
		if (ctl_now_ms() + 10 >= deadline) {
			xasprintf(errp, "timed out");
			return (-1);
		}
		usleep(10000);
	}
	if (ctl_wait(fd, POLLOUT, deadline, errp) != 0) {
		close(fd);
		return (-1);
	}
	len = sizeof error;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 ||
	    error != 0) {
		xasprintf(errp, "%s", strerror(error));
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Send request and read its reply into *reply (its lines, without the
 * final "."). Returns CTL_EXIT_OK or CTL_EXIT_ERROR as the reply says, or
 * CTL_EXIT_NOREPLY with *errp set.
 */
static int
ctl_request(int fd, const char *request, char **reply, char **errp)
{
	long long deadline = ctl_now_ms() + CTL_REPLY_MS;
	char *line, *buf = NULL, *err = NULL;
	size_t len, off = 0, size = 0;
	ssize_t n;

	*reply = NULL;
	xasprintf(&line, "%s\n", request);
	len = strlen(line);
	while (off < len) {
		n = write(fd, line + off, len - off);
		if (n > 0) {
			off += n;
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			xasprintf(errp, "write: %s", strerror(errno));
			free(line);
			return (CTL_EXIT_NOREPLY);
		}
		if (ctl_wait(fd, POLLOUT, deadline, &err) != 0)
			goto fail;
	}
	free(line);

	off = 0;
	for (;;) {
		/* A reply ends with a line holding a lone dot. */
		if ((off == 2 && memcmp(buf, ".\n", 2) == 0) ||
		    (off > 2 && memcmp(buf + off - 3, "\n.\n", 3) == 0))
			break;
		if (off + 4096 + 1 > size) {
			if (size >= CTL_REPLY_MAX) {
				err = xstrdup("reply too long");
				goto fail;
			}
			size = size == 0 ? 8192 : size * 2;
			buf = xreallocarray(buf, 1, size);
		}
		n = read(fd, buf + off, size - off - 1);
		if (n > 0) {
			off += n;
			continue;
		}
		if (n == 0) {
			err = xstrdup("connection closed before the reply "
				      "ended");
			goto fail;
		}
		if (errno != EAGAIN && errno != EINTR) {
			xasprintf(&err, "read: %s", strerror(errno));
			goto fail;
		}
		if (ctl_wait(fd, POLLIN, deadline, &err) != 0)
			goto fail;
	}
	/* Cut the final "\n.\n" (or the lone ".\n" of an empty reply). */
	buf[off > 2 ? off - 3 : 0] = '\0';
	*reply = buf;
	return (strncmp(buf, "ok", 2) == 0 &&
		    (buf[2] == '\0' || buf[2] == ' ' || buf[2] == '\n')
		? CTL_EXIT_OK
		: CTL_EXIT_ERROR);

fail:
	xasprintf(errp, "%s: %s", request, err);
	free(err);
	free(buf);
	return (CTL_EXIT_NOREPLY);
}

static void
ctl_sleep(u_int sec)
{
	struct timespec ts = {sec, 0};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Check the chassis words before doing anything: the hook is all or none. */
static int
ctl_chassis_check(int argc, char **argv)
{
	const char *p, *v;
	int i;

	if (argc < 4)
		return (-1);
	if (strcmp(argv[2], "get") == 0) {
		for (i = 3; i < argc; i++) {
			if (strcmp(argv[i], "power") != 0 &&
			    strcmp(argv[i], "boot") != 0)
				return (-1);
		}
		return (0);
	}
	if (strcmp(argv[2], "set") != 0 || (argc - 3) % 2 != 0)
		return (-1);
	for (i = 3; i < argc; i += 2) {
		p = argv[i];
		v = argv[i + 1];
		if (strcmp(p, "power") == 0 || strcmp(p, "reset") == 0 ||
		    strcmp(p, "shutdown") == 0) {
			if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
				return (-1);
		} else if (strcmp(p, "boot") != 0 && strcmp(p, "identify") != 0)
			return (-1);
	}
	return (0);
}

/*
 * The ipmi_sim hook: argv is "chassis NODE get|set ...". Returns an exit
 * code; prints what ipmi_sim parses ("power:1").
 */
static int
ctl_chassis(int fd, const char *sock, int argc, char **argv)
{
	const char *node = argv[1], *p, *v, *what;
	char *req = NULL, *reply = NULL, *err = NULL;
	int i, r;

	if (ctl_chassis_check(argc, argv) != 0) {
		fprintf(stderr, "rhubarb-sim-ctl: chassis: bad arguments\n");
		return (CTL_EXIT_USAGE);
	}

	xasprintf(&req, "faults %s", node);
	r = ctl_request(fd, req, &reply, &err);
	free(req);
	if (r != CTL_EXIT_OK)
		goto out;
	if (strstr(reply, " bmc-slow") != NULL)
		ctl_sleep(CTL_BMC_SLOW_SEC);
	free(reply);
	reply = NULL;

	if (strcmp(argv[2], "get") == 0) {
		for (i = 3; i < argc; i++) {
			if (strcmp(argv[i], "boot") == 0) {
				/* No boot device override: we keep none. */
				printf("boot:none\n");
				continue;
			}
			xasprintf(&req, "power %s get", node);
			r = ctl_request(fd, req, &reply, &err);
			free(req);
			if (r != CTL_EXIT_OK)
				goto out;
			printf("power:%d\n", strcmp(reply, "ok on") == 0);
			free(reply);
			reply = NULL;
		}
		return (CTL_EXIT_OK);
	}

	for (i = 3; i < argc; i += 2) {
		p = argv[i];
		v = argv[i + 1];
		if (strcmp(p, "power") == 0)
			what = strcmp(v, "1") == 0 ? "on" : "off";
		else if (strcmp(p, "reset") == 0 && strcmp(v, "1") == 0)
			what = "reset";
		else if (strcmp(p, "shutdown") == 0 && strcmp(v, "1") == 0)
			what = "off";
		else
			continue; /* boot, identify, or a 0 */
		xasprintf(&req, "power %s %s", node, what);
		r = ctl_request(fd, req, &reply, &err);
		free(req);
		if (r != CTL_EXIT_OK)
			goto out;
		free(reply);
		reply = NULL;
	}
	return (CTL_EXIT_OK);

out:
	if (r == CTL_EXIT_ERROR)
		fprintf(stderr, "rhubarb-sim-ctl: %s\n", reply);
	else
		fprintf(stderr, "rhubarb-sim-ctl: %s: %s\n", sock, err);
	free(reply);
	free(err);
	return (r);
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *dir = NULL;
	char *path = NULL, *req = NULL, *reply = NULL, *err = NULL;
	size_t len = 0;
	int ch, i, fd = -1, r;
	const char *p;

	while ((ch = getopt(argc, argv, "+d:hs:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return (CTL_EXIT_OK);
		default:
			ctl_usage(stderr);
			return (CTL_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		ctl_usage(stderr);
		return (CTL_EXIT_USAGE);
	}
	if (sock == NULL) {
		if (dir == NULL && (dir = getenv("RHUBARB_SIM_DIR")) == NULL) {
			fprintf(stderr,
			    "rhubarb-sim-ctl: no socket: give -s "
			    "SOCK or -d DIR\n");
			return (CTL_EXIT_USAGE);
		}
		xasprintf(&path, "%s/sim/simd.sock", dir);
		sock = path;
	}
	for (i = 0; i < argc; i++) {
		for (p = argv[i]; *p != '\0'; p++) {
			if ((u_char)*p < 0x20 || (u_char)*p == 0x7f)
				break;
		}
		if (*p != '\0' || argv[i][0] == '\0') {
			fprintf(stderr,
			    "rhubarb-sim-ctl: bad word in "
			    "request\n");
			free(path);
			return (CTL_EXIT_USAGE);
		}
		len += strlen(argv[i]) + 1;
	}
	if (len > CTL_REQUEST_MAX) {
		fprintf(stderr, "rhubarb-sim-ctl: request too long\n");
		free(path);
		return (CTL_EXIT_USAGE);
	}

	if ((fd = ctl_connect(sock, &err)) == -1) {
		fprintf(stderr, "rhubarb-sim-ctl: cannot connect to %s: %s\n",
		    sock, err);
		free(err);
		free(path);
		return (CTL_EXIT_CONNECT);
	}

	if (strcmp(argv[0], "chassis") == 0) {
		r = ctl_chassis(fd, sock, argc, argv);
		goto out;
	}

	req = xcalloc(1, len + 1);
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strlcat(req, " ", len + 1);
		strlcat(req, argv[i], len + 1);
	}
	r = ctl_request(fd, req, &reply, &err);
	if (r == CTL_EXIT_NOREPLY)
		fprintf(stderr, "rhubarb-sim-ctl: %s: %s\n", sock, err);
	else
		printf("%s\n", reply);
out:
	if (fd != -1)
		close(fd);
	free(req);
	free(reply);
	free(err);
	free(path);
	return (r);
}
