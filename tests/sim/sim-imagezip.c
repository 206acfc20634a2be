/*
 * imagezip: the Emulab disk-image maker, as it runs on a node of the
 * simulated testbed (see DESIGN.md, "Node sessions"). rhubarbe's save runs
 *
 *	imagezip -o -z1 /dev/sda - | nc SERVER PORT
 *
 * on the node's imaging system. The node's "disk" is its root partition,
 * DIR/sim/nodes/NODE/root, and an image is a tar archive of it, so this
 * writes what tar(1) makes of that directory to the output ("-": stdout),
 * with the real tool's command line, its dots for -o (one per 1 MiB) and
 * its closing "Finished in N.NNN seconds" on stderr. With the
 * imagezip-fail fault (asked of simd) it stops half way through the image,
 * reports a read error as the real one would, and exits 1.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tests/sim/sim-faults.h"

extern char **environ;

/* Exit codes: as the real tool, 0 for an image, 1 for anything else. */
enum imagezip_exit {
	IMAGEZIP_EXIT_OK = 0,
	IMAGEZIP_EXIT_FAIL = 1,
};

#define IMAGEZIP_CHUNK         (1024 * 1024)
#define IMAGEZIP_SECTOR        512
#define IMAGEZIP_DOTS_PER_LINE 66

struct imagezip {
	const char *dir;
	const char *node;
	char *root;
	int dots;
	int out;
	struct timespec start;
	uint64_t written;
	int dotcol;
};

static void usage(void);
static pid_t tar_start(const char *, int *);
static int tar_wait(pid_t);
static int image_size(struct imagezip *, uint64_t *);
static int copy(struct imagezip *, uint64_t);
static void finished(struct imagezip *);

static void
usage(void)
{
	fprintf(stderr,
	    "Usage: imagezip [-vihor] [-s #] [-c #] [-z #] <image | device> [outputfilename]\n"
	    " -v             Print version info and exit\n"
	    " -i             Info mode only.  Do not write an output file\n"
	    " -o             Print progress indicating dots\n"
	    " -r             Generate a `raw' (uninterpreted) image\n"
	    " -s slice       Compress a particular slice (DOS numbering 1-4)\n"
	    " -z #           Compression level (0-9)\n"
	    " image | device The input image or a device special file (ie: /dev/sda)\n"
	    " outputfilename The output file ('-' for stdout)\n");
}

/* Start "tar -c" of root; *fdp reads the archive. */
static pid_t
tar_start(const char *root, int *fdp)
{
	posix_spawn_file_actions_t fa;
	char a0[] = "tar", a1[] = "-c", a2[] = "-f", a3[] = "-", a4[] = "-C";
	char a6[] = ".";
	char *argv[] = {a0, a1, a2, a3, a4, NULL, a6, NULL};
	pid_t pid;
	int p[2], r;

	argv[5] = (char *)root;
	if (pipe2(p, O_CLOEXEC) == -1) {
		fprintf(stderr, "imagezip: pipe: %s\n", strerror(errno));
		return (-1);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	r = posix_spawnp(&pid, "tar", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		fprintf(stderr, "imagezip: tar: %s\n", strerror(r));
		return (-1);
	}
	*fdp = p[0];
	return (pid);
}

/* Wait for tar; 0 if it made the whole archive. */
static int
tar_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return (-1);
	}
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1);
}

/*
 * The size of the image, for a fault that must stop half way: an image is
 * a stream, so make it once and count.
 */
static int
image_size(struct imagezip *iz, uint64_t *sizep)
{
	char buf[64 * 1024];
	ssize_t n;
	pid_t pid;
	int fd;

	*sizep = 0;
	if ((pid = tar_start(iz->root, &fd)) == -1)
		return (-1);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		*sizep += (uint64_t)n;
	}
	close(fd);
	return (tar_wait(pid));
}

/* Copy the archive to the output, at most limit bytes (UINT64_MAX: all). */
static int
copy(struct imagezip *iz, uint64_t limit)
{
	char buf[64 * 1024];
	size_t take, off;
	ssize_t n, w;
	pid_t pid;
	int fd, r = -1;

	if ((pid = tar_start(iz->root, &fd)) == -1)
		return (-1);
	while (iz->written < limit) {
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "imagezip: reading %s: %s\n", iz->root,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		take = (size_t)n;
		if (take > limit - iz->written)
			take = (size_t)(limit - iz->written);
		for (off = 0; off < take; off += (size_t)w) {
			w = write(iz->out, buf + off, take - off);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				fprintf(stderr, "write error: %s\n",
				    w == 0 ? "no progress" : strerror(errno));
				goto out;
			}
		}
		/* A dot per chunk of output, as -o asks. */
		if (iz->dots &&
		    (iz->written + take) / IMAGEZIP_CHUNK >
			iz->written / IMAGEZIP_CHUNK) {
			fputc('.', stderr);
			if (++iz->dotcol >= IMAGEZIP_DOTS_PER_LINE) {
				fprintf(stderr, " %" PRIu64 "\n",
				    (iz->written + take) / IMAGEZIP_CHUNK);
				iz->dotcol = 0;
			}
		}
		iz->written += take;
	}
	r = 0;
out:
	close(fd);
	if (iz->written >= limit && limit != UINT64_MAX) {
		/* Stopped on purpose: tar may be blocked on the pipe. */
		kill(pid, SIGTERM);
		tar_wait(pid);
		return (r);
	}
	if (tar_wait(pid) != 0 && r == 0) {
		fprintf(stderr, "imagezip: tar could not read all of %s\n",
		    iz->root);
		r = -1;
	}
	return (r);
}

static void
finished(struct imagezip *iz)
{
	struct timespec now;
	long ms;

	if (iz->dots && iz->dotcol > 0)
		fputc('\n', stderr);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(now.tv_sec - iz->start.tv_sec) * 1000 +
	    (now.tv_nsec - iz->start.tv_nsec) / 1000000;
	fprintf(stderr, "Finished in %ld.%03ld seconds\n", ms / 1000,
	    ms % 1000);
}

int
main(int argc, char **argv)
{
	struct imagezip iz;
	char *faults = NULL, *err = NULL;
	const char *in, *outname;
	uint64_t size;
	int ch, level, fail = 0, r = IMAGEZIP_EXIT_FAIL;

	memset(&iz, 0, sizeof iz);
	iz.out = -1;
	clock_gettime(CLOCK_MONOTONIC, &iz.start);

	/*
	 * The real tool's options; those about file systems, slices,
	 * compression and crypto change nothing in a tar of a directory.
	 */
	while ((ch = getopt(argc, argv,
		    "vlbnNdihrs:c:z:ofI:13F:DR:S:XxH:U:P:Me:k:u:a:ZLA:B:")) !=
	    -1) {
		switch (ch) {
		case 'o':
			iz.dots = 1;
			break;
		case 'z':
			level = atoi(optarg);
			if (level < 0 || level > 9) {
				usage();
				return (IMAGEZIP_EXIT_FAIL);
			}
			break;
		case 'v':
			fprintf(stderr,
			    "imagezip (rhubarb-sim stand-in: tar "
			    "of the node's root partition)\n");
			return (IMAGEZIP_EXIT_OK);
		case 'h':
		case '?':
			usage();
			return (IMAGEZIP_EXIT_FAIL);
		default:
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2) {
		usage();
		return (IMAGEZIP_EXIT_FAIL);
	}
	if (argc != 2) {
		fprintf(stderr, "Must specify an output filename!\n\n");
		usage();
		return (IMAGEZIP_EXIT_FAIL);
	}
	in = argv[0];
	outname = argv[1];

	iz.dir = getenv("RHUBARB_SIM_DIR");
	iz.node = getenv("RHUBARB_SIM_NODE");
	if (iz.dir == NULL || iz.node == NULL || *iz.dir == '\0' ||
	    *iz.node == '\0') {
		fprintf(stderr,
		    "imagezip: not in a rhubarb-sim node session "
		    "(RHUBARB_SIM_DIR and RHUBARB_SIM_NODE unset)\n");
		return (IMAGEZIP_EXIT_FAIL);
	}
	/* The node's disk, whatever it is called, is its root partition. */
	if (strncmp(in, "/dev/", 5) != 0 || in[5] == '\0') {
		fprintf(stderr, "%s: No such file or directory\n", in);
		return (IMAGEZIP_EXIT_FAIL);
	}
	xasprintf(&iz.root, "%s/sim/nodes/%s/root", iz.dir, iz.node);
	if (access(iz.root, R_OK | X_OK) == -1) {
		fprintf(stderr, "%s: %s\n", in, strerror(errno));
		goto out;
	}

	if (sim_faults_get(iz.dir, iz.node, &faults, &err) != 0) {
		fprintf(stderr,
		    "imagezip: cannot ask simd for %s's faults: "
		    "%s\n",
		    iz.node, err);
		free(err);
	} else
		fail = sim_faults_has(faults, "imagezip-fail");
	free(faults);

	if (strcmp(outname, "-") == 0)
		iz.out = STDOUT_FILENO;
	else if ((iz.out = open(outname,
		      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) == -1) {
		perror("opening output file");
		goto out;
	}

	if (fail) {
		if (image_size(&iz, &size) != 0) {
			fprintf(stderr, "* * * Aborting * * *\n");
			goto out;
		}
		if (copy(&iz, size / 2) == 0) {
			if (iz.dots && iz.dotcol > 0)
				fputc('\n', stderr);
			fprintf(stderr,
			    "devread: read failed on sector %" PRIu64
			    ": Input/output error\n",
			    iz.written / IMAGEZIP_SECTOR);
		}
		fprintf(stderr, "* * * Aborting * * *\n");
		goto out;
	}
	if (copy(&iz, UINT64_MAX) != 0) {
		fprintf(stderr, "* * * Aborting * * *\n");
		goto out;
	}
	finished(&iz);
	r = IMAGEZIP_EXIT_OK;
out:
	if (iz.out != -1 && iz.out != STDOUT_FILENO)
		close(iz.out);
	free(iz.root);
	return (r);
}
