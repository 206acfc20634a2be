/*
 * rhubarb-sim-node: a node's shell session in the simulated testbed (see
 * DESIGN.md, "Node sessions"). One busybox telnetd (under socat) and one
 * sshd serve every node, so a session learns its node from the local
 * address the client connected to: SOCAT_SOCKADDR for telnet, the third
 * field of SSH_CONNECTION for ssh. It then enters its own mount and UTS
 * namespaces so that the shell sees that node: its name as hostname, the
 * stamp of its root partition over /etc/rhubarbe-image, the node-side
 * tools (frisbee, imagezip, mount, umount, nc) first on PATH.
 *
 *	rhubarb-sim-node -d DIR telnet		busybox telnetd's login program
 *	rhubarb-sim-node -d DIR ssh		sshd's ForceCommand
 *	rhubarb-sim-node -d DIR authkeys	sshd's AuthorizedKeysCommand
 *
 * "authkeys" prints the key the nodes accept unless the node has the
 * ssh-auth-fail fault. sshd (9.2) gives that command no token for the
 * server address, so it is read from the connection socket its parent, the
 * privileged sshd monitor, holds.
 */
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tests/sim/sim-faults.h"

/* Exit codes: the session could not be set up, or bad usage. */
enum sim_node_exit {
	SIM_NODE_EXIT_OK = 0,
	SIM_NODE_EXIT_FAIL = 1,
	SIM_NODE_EXIT_USAGE = 2,
};

enum sim_node_mode {
	SIM_NODE_TELNET,
	SIM_NODE_SSH,
	SIM_NODE_AUTHKEYS,
};

/* How long to wait for simd's answer about faults. */

/*
 * The imaging system's shell. It must know "set -o pipefail" (dash does
 * not), which rhubarbe's save command line uses so that a failed imagezip
 * is seen through nc; busybox sh would do, but Debian's runs its own
 * applets before PATH, bypassing the mount and umount stand-ins. It must
 * also print each command's output from the start of a line, since the
 * client reads "_TELNET_STATUS=N" there although it types all its commands
 * at once: a line editor does that (it redraws prompt and command, then a
 * newline; without one, the prompt starts the output's first line), so
 * bash with readline, whose bracketed-paste escapes DIR/sim/inputrc turns
 * off (node-up.sh writes it).
 */
#define SIM_NODE_IMAGING_SHELL "/bin/bash"
/* The installed system's shell: root's (/bin/sh in the testbed's /etc). */
#define SIM_NODE_INSTALLED_SHELL "/bin/sh"

static void usage(void);
static char *node_lookup(const char *, const char *, char **);
static int local_addr_from_parent(char *, size_t, char **);
static int authkeys(const char *);
static int session(const char *, enum sim_node_mode);
static int session_mounts(const char *, const char *, char **);
static char **session_env(const char *, const char *, const char *,
    enum sim_node_mode);
static int ensure_stamp(const char *, char **);

static const char *progname = "rhubarb-sim-node";

static void
usage(void)
{
	fprintf(stderr, "usage: %s -d DIR telnet|ssh|authkeys\n", progname);
}

/*
 * Find the node whose control address is addr in DIR/sim/nodes.conf.
 * Returns its name, or NULL with *errp set.
 */
static char *
node_lookup(const char *dir, const char *addr, char **errp)
{
	struct in_addr want, have;
	char *path, *line = NULL, *name = NULL;
	char word[16], nname[64], ip[64];
	size_t linesz = 0;
	FILE *f;
	int idx;

	if (inet_pton(AF_INET, addr, &want) != 1) {
		xasprintf(errp, "'%s' is not an IPv4 address", addr);
		return (NULL);
	}
	xasprintf(&path, "%s/sim/nodes.conf", dir);
	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		free(path);
		return (NULL);
	}
	while (getline(&line, &linesz, f) != -1) {
		if (sscanf(line, "%15s %63s %d %63s", word, nname, &idx, ip) !=
			4 ||
		    strcmp(word, "node") != 0)
			continue;
		if (inet_pton(AF_INET, ip, &have) == 1 &&
		    have.s_addr == want.s_addr) {
			name = xstrdup(nname);
			break;
		}
	}
	free(line);
	fclose(f);
	if (name == NULL)
		xasprintf(errp, "%s: no node has address %s", path, addr);
	free(path);
	return (name);
}

/*
 * The local address of the TCP connection our parent holds. sshd runs the
 * AuthorizedKeysCommand from its privileged monitor, which keeps the
 * client's socket open: find that socket's inode among the parent's file
 * descriptors, then its local address in /proc/net/tcp (this network
 * namespace's table).
 */
static int
local_addr_from_parent(char *buf, size_t len, char **errp)
{
	char path[64], target[64], *line = NULL;
	unsigned long inodes[32], inode;
	unsigned int laddr, lport, st;
	size_t ninodes = 0, linesz = 0, i;
	struct in_addr in;
	struct dirent *de;
	DIR *d;
	FILE *f;
	ssize_t n;
	int found = 0;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)getppid());
	if ((d = opendir(path)) == NULL) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL && ninodes < nitems(inodes)) {
		n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%lu]", &inode) == 1)
			inodes[ninodes++] = inode;
	}
	closedir(d);

	if ((f = fopen("/proc/net/tcp", "r")) == NULL) {
		xasprintf(errp, "/proc/net/tcp: %s", strerror(errno));
		return (-1);
	}
	while (!found && getline(&line, &linesz, f) != -1) {
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line,
			" %*u: %x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x "
			"%*u %*u %lu",
			&laddr, &lport, &st, &inode) != 4)
			continue;
		for (i = 0; i < ninodes; i++) {
			if (inodes[i] != inode)
				continue;
			/* The kernel prints the address in host order. */
			in.s_addr = laddr;
			if (inet_ntop(AF_INET, &in, buf, len) != NULL)
				found = 1;
			break;
		}
	}
	free(line);
	fclose(f);
	if (!found) {
		xasprintf(errp, "no TCP connection among the fds of pid %ld",
		    (long)getppid());
		return (-1);
	}
	return (0);
}

/*
 * AuthorizedKeysCommand: print the accepted key unless the node refuses it.
 * When simd cannot be asked the key is accepted (and sshd logs why), so
 * that a simd problem shows as itself, not as an authentication fault.
 */
static int
authkeys(const char *dir)
{
	char addr[INET_ADDRSTRLEN], *path = NULL, *node = NULL, *err = NULL;
	char *faults = NULL, *line = NULL;
	size_t linesz = 0;
	FILE *f = NULL;
	int r = SIM_NODE_EXIT_FAIL;

	if (local_addr_from_parent(addr, sizeof addr, &err) != 0 ||
	    (node = node_lookup(dir, addr, &err)) == NULL)
		goto out;
	if (sim_faults_get(dir, node, &faults, &err) != 0) {
		fprintf(stderr, "%s: %s: %s (accepting the key)\n", progname,
		    node, err);
		free(err);
		err = NULL;
	} else if (sim_faults_has(faults, "ssh-auth-fail")) {
		r = SIM_NODE_EXIT_OK; /* no key: "Permission denied" */
		goto out;
	}
	xasprintf(&path, "%s/ssh/id_ed25519.pub", dir);
	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(&err, "%s: %s", path, strerror(errno));
		goto out;
	}
	while (getline(&line, &linesz, f) != -1)
		fputs(line, stdout);
	r = SIM_NODE_EXIT_OK;
out:
	if (err != NULL)
		fprintf(stderr, "%s: %s\n", progname, err);
	if (f != NULL)
		fclose(f);
	free(line);
	free(faults);
	free(path);
	free(node);
	free(err);
	return (r);
}

/* Make sure the node's root partition has the stamp file we bind-mount. */
static int
ensure_stamp(const char *stamp, char **errp)
{
	char *etc, *slash;
	int fd;

	etc = xstrdup(stamp);
	if ((slash = strrchr(etc, '/')) != NULL)
		*slash = '\0';
	if (mkdir(etc, 0755) == -1 && errno != EEXIST) {
		xasprintf(errp, "%s: %s", etc, strerror(errno));
		free(etc);
		return (-1);
	}
	free(etc);
	if ((fd = open(stamp, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		xasprintf(errp, "%s: %s", stamp, strerror(errno));
		return (-1);
	}
	close(fd);
	return (0);
}

/*
 * The session's own view: private mounts (nothing leaks back to the
 * testbed's namespace or to other sessions), the node's hostname, and its
 * stamp over /etc/rhubarbe-image.
 */
static int
session_mounts(const char *dir, const char *node, char **errp)
{
	char *stamp;
	int r = -1;

	xasprintf(&stamp, "%s/sim/nodes/%s/root/etc/rhubarbe-image", dir, node);
	if (unshare(CLONE_NEWNS | CLONE_NEWUTS) == -1) {
		xasprintf(errp, "unshare: %s", strerror(errno));
		goto out;
	}
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		xasprintf(errp, "making mounts private: %s", strerror(errno));
		goto out;
	}
	if (sethostname(node, strlen(node)) == -1) {
		xasprintf(errp, "sethostname: %s", strerror(errno));
		goto out;
	}
	if (ensure_stamp(stamp, errp) != 0)
		goto out;
	if (mount(stamp, "/etc/rhubarbe-image", NULL, MS_BIND, NULL) == -1) {
		xasprintf(errp, "bind %s on /etc/rhubarbe-image: %s", stamp,
		    strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(stamp);
	return (r);
}

/*
 * A fresh environment: what a login on that node would have, plus the
 * connection variables the daemons set and our own two. Nothing else of
 * the daemons' environment leaks into the node's shell.
 */
static char **
session_env(const char *dir, const char *node, const char *home,
    enum sim_node_mode mode)
{
	static const char *keep[] = {"TERM", "LANG", "LC_ALL", "SSH_CLIENT",
	    "SSH_CONNECTION", "SSH_TTY", "SSH_ORIGINAL_COMMAND",
	    "SOCAT_SOCKADDR", "SOCAT_SOCKPORT", "SOCAT_PEERADDR",
	    "SOCAT_PEERPORT"};
	char **env;
	const char *v;
	size_t n = 0, i;

	env = xcalloc(nitems(keep) + 16, sizeof *env);
	xasprintf(&env[n++],
	    "PATH=%s/sim/node-bin:/usr/local/sbin:"
	    "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	    dir);
	xasprintf(&env[n++], "HOME=%s", home);
	env[n++] = xstrdup("USER=root");
	env[n++] = xstrdup("LOGNAME=root");
	xasprintf(&env[n++], "SHELL=%s",
	    mode == SIM_NODE_TELNET ? SIM_NODE_IMAGING_SHELL
				    : SIM_NODE_INSTALLED_SHELL);
	xasprintf(&env[n++], "PS1=%s# ", node);
	xasprintf(&env[n++], "RHUBARB_SIM_NODE=%s", node);
	xasprintf(&env[n++], "RHUBARB_SIM_DIR=%s", dir);
	for (i = 0; i < nitems(keep); i++) {
		if ((v = getenv(keep[i])) != NULL)
			xasprintf(&env[n++], "%s=%s", keep[i], v);
	}
	if (mode == SIM_NODE_TELNET)
		xasprintf(&env[n++], "INPUTRC=%s/sim/inputrc", dir);
	if (getenv("TERM") == NULL)
		env[n++] = xstrdup("TERM=dumb");
	env[n] = NULL;
	return (env);
}

/* Set up a telnet or ssh session and exec the node's shell. */
static int
session(const char *dir, enum sim_node_mode mode)
{
	char *addr = NULL, *node = NULL, *err = NULL, *home = NULL, *p;
	const char *v, *cmd;
	char **env = NULL, **e;
	struct stat sb;

	if (mode == SIM_NODE_TELNET) {
		if ((v = getenv("SOCAT_SOCKADDR")) == NULL) {
			err = xstrdup("SOCAT_SOCKADDR is not set (not run by "
				      "socat?)");
			goto fail;
		}
		addr = xstrdup(v);
	} else {
		/* "client_ip client_port server_ip server_port" */
		if ((v = getenv("SSH_CONNECTION")) == NULL) {
			err = xstrdup("SSH_CONNECTION is not set (not run by "
				      "sshd?)");
			goto fail;
		}
		addr = xstrdup(v);
		if ((p = strchr(addr, ' ')) == NULL ||
		    (p = strchr(p + 1, ' ')) == NULL) {
			xasprintf(&err, "SSH_CONNECTION: bad value '%s'", v);
			goto fail;
		}
		memmove(addr, p + 1, strlen(p + 1) + 1);
		if ((p = strchr(addr, ' ')) != NULL)
			*p = '\0';
	}
	if ((node = node_lookup(dir, addr, &err)) == NULL)
		goto fail;
	if (session_mounts(dir, node, &err) != 0)
		goto fail;

	/*
	 * sshd starts in the user's home: root's, on the node's disk. The
	 * imaging system runs from memory and has none.
	 */
	if (mode == SIM_NODE_SSH) {
		xasprintf(&home, "%s/sim/nodes/%s/root/root", dir, node);
		if (stat(home, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
			free(home);
			home = xstrdup("/tmp");
		}
	} else
		home = xstrdup("/tmp");
	if (chdir(home) == -1) {
		xasprintf(&err, "%s: %s", home, strerror(errno));
		goto fail;
	}
	env = session_env(dir, node, home, mode);

	if (mode == SIM_NODE_TELNET) {
		execle(SIM_NODE_IMAGING_SHELL, "bash", "--noprofile", "--norc",
		    "-i", (char *)NULL, env);
		xasprintf(&err, "%s: %s", SIM_NODE_IMAGING_SHELL,
		    strerror(errno));
	} else {
		cmd = getenv("SSH_ORIGINAL_COMMAND");
		if (cmd != NULL && *cmd != '\0')
			execle(SIM_NODE_INSTALLED_SHELL, "sh", "-c", cmd,
			    (char *)NULL, env);
		else /* not a login shell: /etc/profile resets PATH */
			execle(SIM_NODE_INSTALLED_SHELL, "sh", "-i",
			    (char *)NULL, env);
		xasprintf(&err, "%s: %s", SIM_NODE_INSTALLED_SHELL,
		    strerror(errno));
	}
fail:
	for (e = env; e != NULL && *e != NULL; e++)
		free(*e);
	free(env);
	fprintf(stderr, "%s: %s%s%s\n", progname, node != NULL ? node : "",
	    node != NULL ? ": " : "", err);
	free(err);
	free(home);
	free(node);
	free(addr);
	return (SIM_NODE_EXIT_FAIL);
}

int
main(int argc, char **argv)
{
	const char *dir = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "d:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		default:
			usage();
			return (SIM_NODE_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (dir == NULL || argc != 1) {
		usage();
		return (SIM_NODE_EXIT_USAGE);
	}
	if (strcmp(argv[0], "telnet") == 0)
		return (session(dir, SIM_NODE_TELNET));
	if (strcmp(argv[0], "ssh") == 0)
		return (session(dir, SIM_NODE_SSH));
	if (strcmp(argv[0], "authkeys") == 0)
		return (authkeys(dir));
	fprintf(stderr, "%s: unknown mode '%s'\n", progname, argv[0]);
	usage();
	return (SIM_NODE_EXIT_USAGE);
}
