/*
 * frisbee: the Emulab multicast disk-image client, as it runs on a node of
 * the simulated testbed (see DESIGN.md, "frisbee and frisbeed"). Same
 * command line and the same output as the real one, which is what rhubarb
 * parses over telnet:
 *
 *	Bound to port 10001
 *	Using Multicast 234.5.6.1
 *	Joined the team after 0 sec. ID is 1804289383. File is 9 chunks (9216
 *blocks)
 *	.........                                                              0
 *0 Left the team after 1 seconds on the field! Wrote 9437184 bytes (9437184
 *actual)
 *
 * with one dot per 1 MiB chunk and, every 66 chunks, the elapsed seconds and
 * the chunks still to come ("%4ld %6d"). Instead of multicast it reads the
 * image from the frisbeed stand-in's Unix socket,
 * $RHUBARB_SIM_DIR/sim/frisbeed/MCAST:PORT.sock, retrying every second as
 * the real client resends its JOIN, and giving up after -T seconds (60 by
 * default; the real client waits for ever).
 *
 * The node's "disk" is its root partition, DIR/sim/nodes/NODE/root; an
 * image is a tar archive of one. The image is unpacked by tar(1) into a new
 * directory beside the root, which then replaces the root in one rename, so
 * that a failed transfer leaves the old disk as it was. With the
 * frisbee-fail fault (asked of simd) the transfer stops half way and what
 * was written stays, as after a real short write: the root is emptied,
 * half of the image unpacked into it, and frisbee says "Short write" and
 * exits 1.
 *
 * Socket protocol (ours, both ends in this directory): the client sends
 * "join ID IP\n", the server answers "file BYTES\n" and the image's bytes;
 * the client then sends "leave ID SECONDS\n" and closes.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tests/sim/sim-faults.h"

extern char **environ;

/*
 * Exit codes: as the real client, 0 when the image is on disk, 1 for
 * everything else (usage, no server, short write, bad image).
 */
enum frisbee_exit {
	FRISBEE_EXIT_OK = 0,
	FRISBEE_EXIT_FAIL = 1,
};

#define FRISBEE_CHUNK         (1024 * 1024)
#define FRISBEE_BLOCK         1024
#define FRISBEE_DOTS_PER_LINE 66
#define FRISBEE_TIMEOUT       60 /* seconds without a server */

struct frisbee {
	const char *dir;  /* RHUBARB_SIM_DIR */
	const char *node; /* RHUBARB_SIM_NODE */
	const char *device;
	struct in_addr mcast;
	struct in_addr mcastif;
	int port;
	int quiet;
	int timeout;
	int fail; /* frisbee-fail fault */
	uint32_t id;
	struct timespec start;

	int sock;
	char *tmp; /* the new root being unpacked */
	char *root;
	pid_t tar;
	int tarfd; /* tar's stdin */

	uint64_t size; /* image bytes */
	uint64_t got;
	int chunks;
	int chunks_done;
	int dotcol;
};

static volatile sig_atomic_t frisbee_signalled;

static void usage(void);
static void on_signal(int);
static long elapsed(struct frisbee *);
static int server_connect(struct frisbee *);
static int read_header(struct frisbee *, char *, size_t, size_t *);
static int tar_start(struct frisbee *, const char *, int);
static int tar_finish(struct frisbee *);
static int remove_cb(const char *, const struct stat *, int, struct FTW *);
static int remove_tree(const char *, int);
static int feed(struct frisbee *, const char *, size_t);
static void progress(struct frisbee *);
static void finish_dots(struct frisbee *);
static void cleanup(struct frisbee *);
static int swap_root(struct frisbee *);
static int receive(struct frisbee *);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: frisbee [-drzbnqN] [-s #] <-m ipaddr> <-p #> <output filename>\n"
	    "  or\n"
	    "usage: frisbee [-drzbnqN] [-s #] <-S server> <-F fileid> <output filename>\n"
	    "\n"
	    " -d              Turn on debugging. Multiple -d options increase output.\n"
	    " -q              Quiet mode (no dots)\n"
	    " -p portnum      Specify a port number.\n"
	    " -m mcastaddr    Specify a multicast address in dotted notation.\n"
	    " -i mcastif      Specify a multicast interface in dotted notation.\n"
	    " -T seconds      Server inactivity timeout (seconds, default is 60 here).\n"
	    "\n");
}

static void
on_signal(int sig)
{
	frisbee_signalled = sig;
}

/* Whole seconds since frisbee started. */
static long
elapsed(struct frisbee *f)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((long)(now.tv_sec - f->start.tv_sec -
	    (now.tv_nsec < f->start.tv_nsec ? 1 : 0)));
}

/*
 * Connect to the server of our group and port, once a second until the
 * timeout, as the real client resends its JOIN until a server answers.
 * Quiet meanwhile, like the real one.
 */
static int
server_connect(struct frisbee *f)
{
	struct sockaddr_un sun;
	struct timeval tv;
	char group[INET_ADDRSTRLEN];
	int fd;

	inet_ntop(AF_INET, &f->mcast, group, sizeof group);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path,
		"%s/sim/frisbeed/%s:%d.sock", f->dir, group,
		f->port) >= sizeof sun.sun_path) {
		fprintf(stderr, "frisbee: %s/sim/frisbeed: path too long\n",
		    f->dir);
		return (-1);
	}
	for (;;) {
		if (frisbee_signalled)
			return (-1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1) {
			fprintf(stderr, "Could not allocate a socket : %s\n",
			    strerror(errno));
			return (-1);
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
			break;
		close(fd);
		if (elapsed(f) >= f->timeout) {
			fprintf(stderr,
			    "\n*** No messages from server after "
			    "%d seconds, exiting\n",
			    f->timeout);
			return (-1);
		}
		sleep(1);
	}
	/* From now on a silent server is one that went away. */
	tv.tv_sec = f->timeout;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	f->sock = fd;
	return (0);
}

/*
 * Send our JOIN and read the server's "file BYTES" line; the bytes after it
 * in buf (*leftp of them) are the start of the image.
 */
static int
read_header(struct frisbee *f, char *buf, size_t len, size_t *leftp)
{
	char *join, ifaddr[INET_ADDRSTRLEN], *nl, *end;
	size_t have = 0;
	ssize_t n;

	inet_ntop(AF_INET, &f->mcastif, ifaddr, sizeof ifaddr);
	xasprintf(&join, "join %" PRIu32 " %s\n", f->id, ifaddr);
	n = write(f->sock, join, strlen(join));
	free(join);
	if (n <= 0) {
		fprintf(stderr, "frisbee: sending JOIN: %s\n",
		    n == 0 ? "short write" : strerror(errno));
		return (-1);
	}
	while ((nl = memchr(buf, '\n', have)) == NULL) {
		if (have == len || frisbee_signalled)
			goto bad;
		n = read(f->sock, buf + have, len - have);
		if (n == 0)
			goto bad;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				fprintf(stderr,
				    "\n*** No messages from server "
				    "after %d seconds, exiting\n",
				    f->timeout);
				return (-1);
			}
			if (errno == EINTR)
				continue;
			goto bad;
		}
		have += (size_t)n;
	}
	*nl = '\0';
	if (strncmp(buf, "file ", 5) != 0)
		goto bad;
	errno = 0;
	f->size = strtoull(buf + 5, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	*leftp = have - (size_t)(nl + 1 - buf);
	memmove(buf, nl + 1, *leftp);
	f->chunks = (int)((f->size + FRISBEE_CHUNK - 1) / FRISBEE_CHUNK);
	if (f->chunks == 0)
		f->chunks = 1;
	return (0);
bad:
	fprintf(stderr, "frisbee: no JOIN reply from the server\n");
	return (-1);
}

/* Start "tar -x" into dest, reading the image from a pipe. */
static int
tar_start(struct frisbee *f, const char *dest, int quiet_errors)
{
	posix_spawn_file_actions_t fa;
	char a0[] = "tar", a1[] = "-x", a2[] = "-f", a3[] = "-", a4[] = "-C";
	char *argv[] = {a0, a1, a2, a3, a4, NULL, NULL};
	int p[2], r;

	argv[5] = (char *)dest;

	if (pipe2(p, O_CLOEXEC) == -1) {
		fprintf(stderr, "frisbee: pipe: %s\n", strerror(errno));
		return (-1);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	/* A short write cuts the archive: tar's complaint is not ours. */
	if (quiet_errors)
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO,
		    "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&f->tar, "tar", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (r != 0) {
		close(p[1]);
		fprintf(stderr, "frisbee: tar: %s\n", strerror(r));
		return (-1);
	}
	f->tarfd = p[1];
	return (0);
}

/* Close tar's input and wait for it; 0 if it unpacked everything. */
static int
tar_finish(struct frisbee *f)
{
	int status;

	if (f->tarfd != -1)
		close(f->tarfd);
	f->tarfd = -1;
	if (f->tar == -1)
		return (-1);
	while (waitpid(f->tar, &status, 0) == -1) {
		if (errno != EINTR)
			return (-1);
	}
	f->tar = -1;
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1);
}

static int
remove_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	if (ftw->level == 0)
		return (0);
	if (remove(path) == -1 && errno != ENOENT)
		fprintf(stderr, "frisbee: %s: %s\n", path, strerror(errno));
	return (0);
}

/* Remove everything under path, and path itself unless keep_top. */
static int
remove_tree(const char *path, int keep_top)
{
	if (nftw(path, remove_cb, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
	    errno != ENOENT)
		return (-1);
	if (!keep_top && rmdir(path) == -1 && errno != ENOENT)
		return (-1);
	return (0);
}

/* Count a chunk as done: a dot, and a progress line every so often. */
static void
progress(struct frisbee *f)
{
	f->chunks_done++;
	if (f->quiet)
		return;
	fputc('.', stderr);
	if (++f->dotcol >= FRISBEE_DOTS_PER_LINE) {
		fprintf(stderr, "%4ld %6d\n", elapsed(f),
		    f->chunks - f->chunks_done);
		f->dotcol = 0;
	}
}

/* End a partial line of dots, padded as the real client does. */
static void
finish_dots(struct frisbee *f)
{
	if (f->quiet || f->dotcol == 0)
		return;
	fprintf(stderr, "%*s%4ld %6d\n", FRISBEE_DOTS_PER_LINE - f->dotcol, "",
	    elapsed(f), f->chunks - f->chunks_done);
	f->dotcol = 0;
}

/* Hand len bytes of image to tar, counting chunks as they complete. */
static int
feed(struct frisbee *f, const char *buf, size_t len)
{
	ssize_t n;
	size_t off = 0;
	uint64_t before;

	while (off < len) {
		n = write(f->tarfd, buf + off, len - off);
		if (n == -1 && errno == EINTR && !frisbee_signalled)
			continue;
		if (n <= 0) {
			fprintf(stderr, "\nfrisbee: writing the image: %s\n",
			    n == 0 ? "no progress" : strerror(errno));
			return (-1);
		}
		off += (size_t)n;
	}
	before = f->got;
	f->got += len;
	while (before / FRISBEE_CHUNK < f->got / FRISBEE_CHUNK) {
		progress(f);
		before += FRISBEE_CHUNK - before % FRISBEE_CHUNK;
	}
	/* The last chunk is usually short. */
	if (f->got == f->size && f->size % FRISBEE_CHUNK != 0)
		progress(f);
	return (0);
}

static void
cleanup(struct frisbee *f)
{
	if (f->tar != -1) {
		kill(f->tar, SIGTERM);
		tar_finish(f);
	}
	if (f->tmp != NULL)
		remove_tree(f->tmp, 0);
	free(f->tmp);
	f->tmp = NULL;
	free(f->root);
	f->root = NULL;
	if (f->sock != -1)
		close(f->sock);
	f->sock = -1;
}

/*
 * Put the new root (f->tmp) in place of the node's, leaving the old one at
 * f->tmp: in one step where the file system can exchange two names, so
 * that the node never has no root, else in two renames.
 */
static int
swap_root(struct frisbee *f)
{
	char *old;
	int r = -1;

	if (renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->root, RENAME_EXCHANGE) ==
	    0)
		return (0);
	if (errno == ENOENT) {
		/* No root yet: nothing to exchange with. */
		if (rename(f->tmp, f->root) == 0)
			return (0);
	} else if (errno == EINVAL || errno == ENOSYS) {
		xasprintf(&old, "%s.old", f->tmp);
		if (rename(f->root, old) == 0) {
			if (rename(f->tmp, f->root) == 0 &&
			    rename(old, f->tmp) == 0)
				r = 0;
		}
		free(old);
		if (r == 0)
			return (0);
	}
	fprintf(stderr, "frisbee: %s: %s\n", f->root, strerror(errno));
	return (-1);
}

/*
 * Receive the image into a new root beside the node's, then swap the two
 * (renameat2 RENAME_EXCHANGE: the node never has no root) and remove the
 * old one. With frisbee-fail, write half into the emptied root and stop.
 */
static int
receive(struct frisbee *f)
{
	char buf[64 * 1024], *leave;
	uint64_t limit;
	size_t left = 0, take;
	ssize_t n;

	if (read_header(f, buf, sizeof buf, &left) != 0)
		return (-1);
	fprintf(stderr,
	    "Joined the team after %ld sec. ID is %" PRIu32 ". "
	    "File is %d chunks (%" PRIu64 " blocks)\n",
	    elapsed(f), f->id, f->chunks,
	    (f->size + FRISBEE_BLOCK - 1) / FRISBEE_BLOCK);

	xasprintf(&f->root, "%s/sim/nodes/%s/root", f->dir, f->node);
	if (f->fail) {
		/* The disk is overwritten from its first block. */
		if (mkdir(f->root, 0755) == -1 && errno != EEXIST) {
			fprintf(stderr, "opening output file: %s\n",
			    strerror(errno));
			return (-1);
		}
		remove_tree(f->root, 1);
		if (tar_start(f, f->root, 1) != 0)
			return (-1);
		limit = f->chunks > 1
		    ? (uint64_t)(f->chunks / 2) * FRISBEE_CHUNK
		    : f->size / 2;
	} else {
		xasprintf(&f->tmp, "%s/sim/nodes/%s/.frisbee-XXXXXX", f->dir,
		    f->node);
		if (mkdtemp(f->tmp) == NULL) {
			fprintf(stderr, "opening output file: %s: %s\n", f->tmp,
			    strerror(errno));
			free(f->tmp);
			f->tmp = NULL;
			return (-1);
		}
		chmod(f->tmp, 0755);
		if (tar_start(f, f->tmp, 0) != 0)
			return (-1);
		limit = f->size;
	}

	for (;;) {
		take = left;
		if (take > limit - f->got)
			take = (size_t)(limit - f->got);
		if (take > 0 && feed(f, buf, take) != 0)
			return (-1);
		left = 0;
		if (f->got == limit)
			break;
		if (frisbee_signalled) {
			fprintf(stderr, "\nfrisbee: killed by signal %d\n",
			    (int)frisbee_signalled);
			return (-1);
		}
		n = read(f->sock, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			fprintf(stderr,
			    "\n*** No messages from server after "
			    "%d seconds, exiting\n",
			    f->timeout);
			return (-1);
		}
		if (n <= 0) {
			fprintf(stderr,
			    "\n*** Server went away after %" PRIu64
			    " of %" PRIu64 " bytes, exiting\n",
			    f->got, f->size);
			return (-1);
		}
		left = (size_t)n;
	}

	if (f->fail) {
		/* Keep what was written, as a real short write does. */
		tar_finish(f);
		finish_dots(f);
		fprintf(stderr,
		    "Short write: wrote %" PRIu64 " of %" PRIu64
		    " bytes: No space left on device\n",
		    f->got, f->size);
		fprintf(stderr,
		    "ImageUnzipChunk failed : Input/output "
		    "error\n");
		return (-1);
	}
	if (tar_finish(f) != 0) {
		finish_dots(f);
		fprintf(stderr,
		    "frisbee: bad image: tar could not unpack "
		    "it\n");
		return (-1);
	}
	if (swap_root(f) != 0)
		return (-1);
	/* f->tmp is now the old root (or gone). */
	remove_tree(f->tmp, 0);

	xasprintf(&leave, "leave %" PRIu32 " %ld\n", f->id, elapsed(f));
	if (write(f->sock, leave, strlen(leave)) < 0) {
		/* The server only logs it. */
	}
	free(leave);
	finish_dots(f);
	fprintf(stderr, "Left the team after %ld seconds on the field!\n",
	    elapsed(f));
	fprintf(stderr, "Wrote %" PRIu64 " bytes (%" PRIu64 " actual)\n",
	    f->size, f->got);
	fprintf(stderr, "%lu %lu %d\n", 0UL, 0UL, f->chunks);
	return (0);
}

int
main(int argc, char **argv)
{
	struct frisbee f;
	struct sigaction sa;
	char *faults = NULL, *err = NULL;
	int ch, keepalive = 0, r;

	memset(&f, 0, sizeof f);
	f.sock = f.tarfd = -1;
	f.tar = -1;
	f.timeout = FRISBEE_TIMEOUT;
	clock_gettime(CLOCK_MONOTONIC, &f.start);

	/*
	 * The real client's options; the ones that tune its protocol or
	 * memory use mean nothing here and are accepted as they are.
	 */
	while ((ch = getopt(argc, argv,
		    "dqhp:m:s:i:tbznU:r:E:D:C:W:S:T:M:R:"
		    "I:ONc:e:u:K:B:F:Q:P:X:fk:H:")) != -1) {
		switch (ch) {
		case 'q':
			f.quiet = 1;
			break;
		case 'p':
			f.port = atoi(optarg);
			break;
		case 'm':
			if (inet_aton(optarg, &f.mcast) == 0) {
				usage();
				return (FRISBEE_EXIT_FAIL);
			}
			break;
		case 'i':
			if (inet_aton(optarg, &f.mcastif) == 0) {
				usage();
				return (FRISBEE_EXIT_FAIL);
			}
			break;
		case 'T':
			f.timeout = atoi(optarg);
			break;
		case 'K':
			keepalive = atoi(optarg);
			break;
		case 'S':
		case 'F':
		case 'Q':
			/* The master server protocol: no such server here. */
			fprintf(stderr,
			    "frisbee: -%c: no master server in the "
			    "simulated testbed\n",
			    ch);
			return (FRISBEE_EXIT_FAIL);
		case 'h':
		case '?':
			usage();
			return (FRISBEE_EXIT_FAIL);
		default:
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || f.port <= 0 || f.port > 65535 || f.mcast.s_addr == 0) {
		usage();
		return (FRISBEE_EXIT_FAIL);
	}
	if (f.timeout <= 0)
		f.timeout = FRISBEE_TIMEOUT;
	f.device = argv[0];

	f.dir = getenv("RHUBARB_SIM_DIR");
	f.node = getenv("RHUBARB_SIM_NODE");
	if (f.dir == NULL || f.node == NULL || *f.dir == '\0' ||
	    *f.node == '\0') {
		fprintf(stderr,
		    "frisbee: not in a rhubarb-sim node session "
		    "(RHUBARB_SIM_DIR and RHUBARB_SIM_NODE unset)\n");
		return (FRISBEE_EXIT_FAIL);
	}
	/* The only disk a node has; anything else is not ours to write. */
	if (strncmp(f.device, "/dev/", 5) != 0 || f.device[5] == '\0') {
		fprintf(stderr,
		    "opening output file: %s: not a disk of this "
		    "node\n",
		    f.device);
		return (FRISBEE_EXIT_FAIL);
	}
	if (getrandom(&f.id, sizeof f.id, 0) != sizeof f.id)
		f.id = (uint32_t)getpid() ^ (uint32_t)time(NULL);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: reads return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (sim_faults_get(f.dir, f.node, &faults, &err) != 0) {
		fprintf(stderr,
		    "frisbee: cannot ask simd for %s's faults: "
		    "%s\n",
		    f.node, err);
		free(err);
	} else
		f.fail = sim_faults_has(faults, "frisbee-fail");
	free(faults);

	fprintf(stderr, "Bound to port %d\n", f.port);
	fprintf(stderr, "Using Multicast %s\n", inet_ntoa(f.mcast));
	if (f.timeout != FRISBEE_TIMEOUT)
		fprintf(stderr,
		    "Quit if no messages from server after %d "
		    "seconds\n",
		    f.timeout);
	if (keepalive > 0)
		fprintf(stderr, "Enabling MC keepalive at %d seconds\n",
		    keepalive);

	r = FRISBEE_EXIT_FAIL;
	if (server_connect(&f) == 0 && receive(&f) == 0)
		r = FRISBEE_EXIT_OK;
	cleanup(&f);
	return (r);
}
