/*
 * rhubarb-simd's entry point: options, start-up and shut-down, and the
 * tables of nodes and PDUs read from DIR/sim/nodes.conf with their lookups
 * by name and by address.
 *
 * Start-up order: nodes.conf, faults.initial, the control socket (refusing
 * to run if another simd answers on it), the CMC listener on :80, then the
 * nft table. Only once the table exists is simd "ready": it writes its pid
 * file and, without -f, only then lets the parent process return, so that
 * whoever started it can talk to it as soon as the command is done. With
 * -f it stays in the foreground; the caller polls the socket.
 *
 * SIGTERM, SIGINT or a "quit" request: stop serving, delete the nft table,
 * remove the socket and the pid file, and exit 0.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/stdlib.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "simd.h"

#define SIMD_EXIT_OK    0
#define SIMD_EXIT_ERROR 1
#define SIMD_EXIT_USAGE 64

/* How long the parent of a daemonizing simd waits for it to be ready. */
#define SIMD_READY_TIMEOUT_MS 30000
#define SIMD_MAX_OUTLETS      64
#define SIMD_NAME_MAX         63

struct simd simd;

/* Every address of every node, sorted, for the lookups. */
struct simd_addr {
	uint32_t addr; /* host order */
	enum simd_addr_kind kind;
	struct simd_node *node;
};

static struct simd_addr *simd_addrs;
static u_int simd_naddrs;
static struct simd_node **simd_by_name;
static struct event *simd_signals[3];
static int simd_stopping;
static int simd_nft_gone; /* the table is deleted (or was never made) */
static int simd_exit = SIMD_EXIT_OK;
static int simd_ready_fd = -1;
static char *simd_pid_path;

static void simd_usage(FILE *);
static int simd_daemonize(void);
static int simd_run(void);
static void simd_teardown(void);
static void simd_ready_cb(int);
static void simd_stopped_cb(void);
static void simd_signal_cb(evutil_socket_t, short, void *);
static void simd_event_log(int, const char *);
static int simd_write_pid(char **);
static char *simd_exe_dir(void);
static int simd_config_load(const char *, char **);
static int simd_config_node(char **, u_int, char **, char **);
static int simd_config_pdu(char **, u_int, char **);
static int simd_config_plugs(struct simd_node *, const char *, char **);
static int simd_config_index(char **);
static void simd_config_free(void);
static int simd_addr_cmp(const void *, const void *);
static int simd_name_cmp(const void *, const void *);

static void
simd_usage(FILE *f)
{
	fprintf(f,
	    "usage: rhubarb-simd -d DIR [-f] [-v]\n"
	    "  -d DIR  the testbed directory (reads DIR/sim/nodes.conf)\n"
	    "  -f      stay in the foreground\n"
	    "  -v      log debug messages\n"
	    "exit: 0 done, 1 error, 64 usage\n");
}

int
main(int argc, char **argv)
{
	const char *dir = NULL;
	int ch, foreground = 0, r;

	while ((ch = getopt(argc, argv, "d:fhv")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			simd_usage(stdout);
			return (SIMD_EXIT_OK);
		default:
			simd_usage(stderr);
			return (SIMD_EXIT_USAGE);
		}
	}
	if (dir == NULL || optind != argc) {
		simd_usage(stderr);
		return (SIMD_EXIT_USAGE);
	}
	if ((simd.dir = realpath(dir, NULL)) == NULL) {
		fprintf(stderr, "rhubarb-simd: %s: %s\n", dir, strerror(errno));
		return (SIMD_EXIT_ERROR);
	}
	if (!foreground && (r = simd_daemonize()) != -1) {
		free(simd.dir);
		return (r);
	}
	r = simd_run();
	simd_teardown();
	return (r);
}

/*
 * Fork. The parent waits until the child says it is ready (one byte on a
 * pipe) and returns 0, or returns the child's exit status if it dies
 * first. The child returns -1 and goes on, in its own session.
 */
static int
simd_daemonize(void)
{
	struct pollfd pfd;
	char c;
	pid_t pid;
	int p[2], status, n;

	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		fprintf(stderr, "rhubarb-simd: cannot fork: %s\n",
		    strerror(errno));
		return (SIMD_EXIT_ERROR);
	}
	if (pid == 0) {
		close(p[0]);
		simd_ready_fd = p[1];
		setsid();
		if (chdir("/") != 0)
			return (SIMD_EXIT_ERROR);
		return (-1);
	}

	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (
	    (n = poll(&pfd, 1, SIMD_READY_TIMEOUT_MS)) == -1 && errno == EINTR)
		;
	if (n == 0) {
		fprintf(stderr, "rhubarb-simd: not ready after %d s\n",
		    SIMD_READY_TIMEOUT_MS / 1000);
		kill(pid, SIGTERM);
		close(p[0]);
		return (SIMD_EXIT_ERROR);
	}
	n = read(p[0], &c, 1);
	close(p[0]);
	if (n == 1)
		return (SIMD_EXIT_OK);
	/* It said why on stderr; pass its exit status on. */
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) != 0)
		return (WEXITSTATUS(status));
	return (SIMD_EXIT_ERROR);
}

/* Start everything, and run until asked to stop. */
static int
simd_run(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	char *path = NULL, *err = NULL;
	u_int i;

	xasprintf(&path, "%s/sim/log/simd.log", simd.dir);
	if (log_open(path, 1) != 0) {
		fprintf(stderr, "rhubarb-simd: %s: %s\n", path,
		    strerror(errno));
		free(path);
		return (SIMD_EXIT_ERROR);
	}
	free(path);
	event_set_log_callback(simd_event_log);
	if ((simd.bin = simd_exe_dir()) == NULL) {
		err = xstrdup("cannot find my own executable");
		goto fail;
	}

	xasprintf(&path, "%s/sim/nodes.conf", simd.dir);
	if (simd_config_load(path, &err) != 0)
		goto fail;
	free(path);
	path = NULL;

	simd.base = event_base_new();
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < nitems(sigs); i++) {
		simd_signals[i] =
		    evsignal_new(simd.base, sigs[i], simd_signal_cb, NULL);
		evsignal_add(simd_signals[i], NULL);
	}
	simd_job_init();
	simd_power_init();

	xasprintf(&path, "%s/sim/faults.initial", simd.dir);
	if (simd_fault_load(path, &err) != 0)
		goto fail;
	free(path);
	xasprintf(&path, "%s/sim/simd.sock", simd.dir);
	if (simd_ctl_start(path, &err) != 0)
		goto fail;
	free(path);
	path = NULL;
	if (simd_cmc_start(&err) != 0)
		goto fail;

	log_info("starting: %u nodes, %u PDUs, boot delay %.3f s", simd.nnodes,
	    simd.npdus, simd.boot_delay);
	simd_nft_start(simd_ready_cb);
	if (!simd_stopping)
		event_base_dispatch(simd.base);
	return (simd_exit);

fail:
	fprintf(stderr, "rhubarb-simd: %s\n", err);
	log_error("%s", err);
	free(err);
	free(path);
	return (SIMD_EXIT_ERROR);
}

/*
 * Undo simd_run(), whatever point it reached: stop serving, then delete the
 * nft table (running the loop until nft is done, bounded by its timeout),
 * then free everything.
 */
static void
simd_teardown(void)
{
	u_int i;

	simd_stopping = 1;
	simd_cmc_stop();
	simd_ctl_stop();
	if (simd.base != NULL) {
		simd_power_free();
		simd_nft_stop(simd_stopped_cb);
		/* A loopbreak before the loop runs is forgotten: test first. */
		if (!simd_nft_gone)
			event_base_dispatch(simd.base);
		simd_nft_free();
		simd_job_free();
		for (i = 0; i < nitems(simd_signals); i++) {
			if (simd_signals[i] != NULL)
				event_free(simd_signals[i]);
		}
		event_base_free(simd.base);
	}
	if (simd_pid_path != NULL)
		unlink(simd_pid_path);
	free(simd_pid_path);
	if (simd_ready_fd != -1)
		close(simd_ready_fd);
	log_info("stopped");
	log_close();
	simd_config_free();
	free(simd.bin);
	free(simd.dir);
}

static void
simd_stopped_cb(void)
{
	simd_nft_gone = 1;
	event_base_loopbreak(simd.base);
}

/* Stop the main loop; main() tears down. */
void
simd_shutdown(const char *why)
{
	if (simd_stopping)
		return;
	simd_stopping = 1;
	log_info("shutting down: %s", why);
	event_base_loopbreak(simd.base);
}

static void
simd_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	simd_shutdown(strsignal(sig));
}

static void
simd_event_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warn("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

/* The table exists: write the pid file and let the parent go. */
static void
simd_ready_cb(int ok)
{
	char *err = NULL;
	int fd;

	if (!ok) {
		fprintf(stderr,
		    "rhubarb-simd: cannot create nft table inet "
		    "%s\n",
		    SIMD_NFT_TABLE);
		log_error("cannot create nft table inet %s", SIMD_NFT_TABLE);
		simd_exit = SIMD_EXIT_ERROR;
		simd_shutdown("no nft table");
		return;
	}
	if (simd_write_pid(&err) != 0) {
		fprintf(stderr, "rhubarb-simd: %s\n", err);
		log_error("%s", err);
		free(err);
		simd_exit = SIMD_EXIT_ERROR;
		simd_shutdown("no pid file");
		return;
	}
	simd.ready = 1;
	log_info("ready, pid %ld", (long)getpid());
	if (simd_ready_fd != -1) {
		if (write(simd_ready_fd, "R", 1) != 1)
			log_warn("cannot tell my parent: %s", strerror(errno));
		close(simd_ready_fd);
		simd_ready_fd = -1;
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		log_set_stderr_ok(0);
	}
}

/* DIR/sim/pids/simd.pid, replaced atomically. */
static int
simd_write_pid(char **errp)
{
	char *tmp;
	FILE *f;
	int r = -1;

	xasprintf(&simd_pid_path, "%s/sim/pids/simd.pid", simd.dir);
	xasprintf(&tmp, "%s.tmp", simd_pid_path);
	if ((f = fopen(tmp, "w")) == NULL) {
		xasprintf(errp, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, simd_pid_path) != 0) {
		xasprintf(errp, "%s: %s", simd_pid_path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	r = 0;
out:
	if (r != 0) {
		free(simd_pid_path);
		simd_pid_path = NULL;
	}
	free(tmp);
	return (r);
}

/* SIM_BIN: the directory of this executable (bmc-ctl.sh lives there). */
static char *
simd_exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", buf, sizeof buf - 1)) <= 0)
		return (NULL);
	buf[n] = '\0';
	return (xstrdup(dirname(buf)));
}

/* Lookups. */

static int
simd_addr_cmp(const void *a, const void *b)
{
	const struct simd_addr *x = a, *y = b;

	return (x->addr < y->addr ? -1 : x->addr > y->addr);
}

static int
simd_name_cmp(const void *a, const void *b)
{
	const struct simd_node *const *x = a, *const *y = b;

	return (strcmp((*x)->name, (*y)->name));
}

/* The node owning address a as kind (SIMD_ADDR_ANY: as any kind). */
struct simd_node *
simd_node_by_addr(struct in_addr a, enum simd_addr_kind kind)
{
	struct simd_addr key, *found;

	key.addr = ntohl(a.s_addr);
	found = bsearch(&key, simd_addrs, simd_naddrs, sizeof *simd_addrs,
	    simd_addr_cmp);
	if (found == NULL || (kind != SIMD_ADDR_ANY && found->kind != kind))
		return (NULL);
	return (found->node);
}

/* A node by name or by any of its addresses. */
struct simd_node *
simd_node_find(const char *word)
{
	struct simd_node key, *keyp = &key, **found;
	struct in_addr a;

	if (inet_pton(AF_INET, word, &a) == 1)
		return (simd_node_by_addr(a, SIMD_ADDR_ANY));
	key.name = (char *)word;
	found = bsearch(&keyp, simd_by_name, simd.nnodes, sizeof *simd_by_name,
	    simd_name_cmp);
	return (found != NULL ? *found : NULL);
}

struct simd_pdu *
simd_pdu_find(const char *word)
{
	struct in_addr a;
	int isaddr;
	u_int i;

	isaddr = inet_pton(AF_INET, word, &a) == 1;
	for (i = 0; i < simd.npdus; i++) {
		if (isaddr ? simd.pdus[i].addr.s_addr == a.s_addr
			   : strcmp(simd.pdus[i].name, word) == 0)
			return (&simd.pdus[i]);
	}
	return (NULL);
}

/* nodes.conf. */

static int
simd_config_name(const char *s, char **errp)
{
	struct in_addr a;
	size_t len = strlen(s);

	if (len == 0 || len > SIMD_NAME_MAX ||
	    strspn(s,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789._-") != len ||
	    inet_pton(AF_INET, s, &a) == 1) {
		xasprintf(errp, "bad name %s", s);
		return (-1);
	}
	return (0);
}

static int
simd_config_ip(const char *s, struct in_addr *a, char **errp)
{
	if (inet_pton(AF_INET, s, a) != 1) {
		xasprintf(errp, "bad IPv4 address %s", s);
		return (-1);
	}
	return (0);
}

/* "02:00:01:00:00:06" -> "01-02-00-01-00-00-06", pxelinux's file name. */
static int
simd_config_mac(const char *s, char *pxe, size_t len, char **errp)
{
	u_int b[6];
	char end;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		&b[4], &b[5], &end) != 6) {
		xasprintf(errp, "bad MAC address %s", s);
		return (-1);
	}
	snprintf(pxe, len, "01-%02x-%02x-%02x-%02x-%02x-%02x", b[0], b[1], b[2],
	    b[3], b[4], b[5]);
	return (0);
}

/* node NAME I CONTROL_IP MAC CMC_IP BMC_IP|- OUTLETS|- */
static int
simd_config_node(char **w, u_int nw, char **plugs, char **errp)
{
	struct simd_node *n;
	const char *errstr;
	u_int k;

	if (nw != 8) {
		xasprintf(errp,
		    "expected \"node NAME I CONTROL_IP MAC CMC_IP "
		    "BMC_IP|- OUTLETS|-\"");
		return (-1);
	}
	if (simd_config_name(w[1], errp) != 0)
		return (-1);
	simd.nodes =
	    xreallocarray(simd.nodes, simd.nnodes + 1, sizeof *simd.nodes);
	n = &simd.nodes[simd.nnodes];
	memset(n, 0, sizeof *n);
	n->idx = strtonum(w[2], 1, 65535, &errstr);
	if (errstr != NULL) {
		xasprintf(errp, "node index %s is %s", w[2], errstr);
		return (-1);
	}
	if (simd_config_ip(w[3], &n->ctl, errp) != 0 ||
	    simd_config_mac(w[4], n->pxe, sizeof n->pxe, errp) != 0 ||
	    simd_config_ip(w[5], &n->cmc, errp) != 0)
		return (-1);
	if (strcmp(w[6], "-") != 0) {
		if (simd_config_ip(w[6], &n->bmc, errp) != 0)
			return (-1);
		n->has_bmc = 1;
	}
	/* The data address is not in the file: DESIGN.md's formula. */
	k = n->idx - 1;
	if (k / 250 <= 255)
		n->data.s_addr =
		    htonl(0x7f040000U | (k / 250) << 8 | (k % 250 + 1));
	n->name = xstrdup(w[1]);
	plugs[simd.nnodes] = strcmp(w[7], "-") != 0 ? xstrdup(w[7]) : NULL;
	simd.nnodes++;
	return (0);
}

/* pdu NAME IP NOUTLETS */
static int
simd_config_pdu(char **w, u_int nw, char **errp)
{
	struct simd_pdu *p;
	struct in_addr a;
	const char *errstr;
	u_int i, count;

	if (nw != 4) {
		xasprintf(errp, "expected \"pdu NAME IP NOUTLETS\"");
		return (-1);
	}
	if (simd_config_name(w[1], errp) != 0 ||
	    simd_config_ip(w[2], &a, errp) != 0)
		return (-1);
	count = strtonum(w[3], 1, SIMD_MAX_OUTLETS, &errstr);
	if (errstr != NULL) {
		xasprintf(errp, "outlet count %s is %s", w[3], errstr);
		return (-1);
	}
	if (simd_pdu_find(w[1]) != NULL || simd_pdu_find(w[2]) != NULL) {
		xasprintf(errp, "PDU %s or %s defined twice", w[1], w[2]);
		return (-1);
	}
	simd.pdus = xreallocarray(simd.pdus, simd.npdus + 1, sizeof *simd.pdus);
	p = &simd.pdus[simd.npdus++];
	p->name = xstrdup(w[1]);
	p->addr = a;
	p->noutlets = count;
	p->outlets = xcalloc(count, sizeof *p->outlets);
	for (i = 0; i < count; i++)
		p->outlets[i].n = i + 1;
	return (0);
}

/* "pdu1:3,pdu2:3": plug n into those outlets (PDUs may come later). */
static int
simd_config_plugs(struct simd_node *n, const char *spec, char **errp)
{
	struct simd_pdu *p;
	struct simd_outlet *o;
	char *copy, *s, *item, *colon;
	const char *errstr;
	u_int outlet;
	int r = -1;

	copy = s = xstrdup(spec);
	while ((item = strsep(&s, ",")) != NULL) {
		if ((colon = strchr(item, ':')) == NULL) {
			xasprintf(errp, "%s: bad outlet %s (PDU:N)", n->name,
			    item);
			goto out;
		}
		*colon = '\0';
		if ((p = simd_pdu_find(item)) == NULL) {
			xasprintf(errp, "%s: unknown PDU %s", n->name, item);
			goto out;
		}
		outlet = strtonum(colon + 1, 1, p->noutlets, &errstr);
		if (errstr != NULL) {
			xasprintf(errp, "%s: outlet %s of %s is %s", n->name,
			    colon + 1, p->name, errstr);
			goto out;
		}
		o = &p->outlets[outlet - 1];
		if (o->node != NULL) {
			xasprintf(errp, "%s: outlet %s:%u already feeds %s",
			    n->name, p->name, outlet, o->node->name);
			goto out;
		}
		if (n->nplugs == SIMD_MAXPLUGS) {
			xasprintf(errp, "%s: more than %d outlets", n->name,
			    SIMD_MAXPLUGS);
			goto out;
		}
		o->node = n;
		n->plugs[n->nplugs].pdu = p - simd.pdus;
		n->plugs[n->nplugs].outlet = outlet;
		n->nplugs++;
	}
	r = 0;
out:
	free(copy);
	return (r);
}

/* Sort names and addresses; refuse duplicates, which lookups would hide. */
static int
simd_config_index(char **errp)
{
	struct simd_node *n;
	struct in_addr a;
	char s[INET_ADDRSTRLEN];
	u_int i;

	simd_by_name = xreallocarray(NULL, simd.nnodes, sizeof *simd_by_name);
	simd_addrs = xreallocarray(NULL, simd.nnodes * 4, sizeof *simd_addrs);
	for (i = 0; i < simd.nnodes; i++) {
		n = &simd.nodes[i];
		simd_by_name[i] = n;
		simd_addrs[simd_naddrs++] =
		    (struct simd_addr){ntohl(n->ctl.s_addr), SIMD_ADDR_CTL, n};
		simd_addrs[simd_naddrs++] =
		    (struct simd_addr){ntohl(n->cmc.s_addr), SIMD_ADDR_CMC, n};
		if (n->has_bmc)
			simd_addrs[simd_naddrs++] = (struct simd_addr){
			    ntohl(n->bmc.s_addr), SIMD_ADDR_BMC, n};
		if (n->data.s_addr != 0)
			simd_addrs[simd_naddrs++] = (struct simd_addr){
			    ntohl(n->data.s_addr), SIMD_ADDR_DATA, n};
	}
	qsort(simd_by_name, simd.nnodes, sizeof *simd_by_name, simd_name_cmp);
	for (i = 1; i < simd.nnodes; i++) {
		if (strcmp(simd_by_name[i - 1]->name, simd_by_name[i]->name) ==
		    0) {
			xasprintf(errp, "node %s defined twice",
			    simd_by_name[i]->name);
			return (-1);
		}
	}
	qsort(simd_addrs, simd_naddrs, sizeof *simd_addrs, simd_addr_cmp);
	for (i = 1; i < simd_naddrs; i++) {
		if (simd_addrs[i - 1].addr == simd_addrs[i].addr) {
			a.s_addr = htonl(simd_addrs[i].addr);
			inet_ntop(AF_INET, &a, s, sizeof s);
			xasprintf(errp, "address %s used by %s and %s", s,
			    simd_addrs[i - 1].node->name,
			    simd_addrs[i].node->name);
			return (-1);
		}
	}
	return (0);
}

/* Read nodes.conf; errors are "PATH:LINE: what". */
static int
simd_config_load(const char *path, char **errp)
{
	FILE *f;
	char *line = NULL, *p, *w[10], **plugs = NULL, *err = NULL, *end = NULL;
	size_t size = 0, nplugs = 0;
	u_int lineno = 0, nw, i;
	int r = -1;
	double d = 0;

	simd.boot_delay = 1.0;
	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while (getline(&line, &size, f) != -1) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = line;
		nw = 0;
		while (
		    nw < nitems(w) && (w[nw] = strsep(&p, " \t\r\n")) != NULL) {
			if (*w[nw] != '\0')
				nw++;
		}
		if (nw == 0)
			continue;
		if (strcmp(w[0], "node") == 0) {
			plugs = xreallocarray(plugs, simd.nnodes + 1,
			    sizeof *plugs);
			nplugs = simd.nnodes + 1;
			plugs[simd.nnodes] = NULL;
			if (simd_config_node(w, nw, plugs, &err) != 0)
				goto bad;
		} else if (strcmp(w[0], "pdu") == 0) {
			if (simd_config_pdu(w, nw, &err) != 0)
				goto bad;
		} else if (strcmp(w[0], "boot_delay") == 0) {
			if (nw == 2) {
				errno = 0;
				d = strtod(w[1], &end);
			}
			if (nw != 2 || errno != 0 || end == w[1] ||
			    *end != '\0' || !(d >= 0 && d <= 3600)) {
				err = xstrdup("expected \"boot_delay SECONDS\" "
					      "(0 to 3600)");
				goto bad;
			}
			simd.boot_delay = d;
		} else {
			xasprintf(&err, "unknown keyword %s", w[0]);
			goto bad;
		}
	}
	if (ferror(f)) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (simd.nnodes == 0) {
		xasprintf(errp, "%s: no nodes", path);
		goto out;
	}
	for (i = 0; i < simd.nnodes; i++) {
		if (plugs[i] != NULL &&
		    simd_config_plugs(&simd.nodes[i], plugs[i], &err) != 0) {
			xasprintf(errp, "%s: %s", path, err);
			goto out;
		}
	}
	for (i = 0; i < simd.npdus; i++) {
		/* Outlets point back to their PDU; the array is final now. */
		for (nw = 0; nw < simd.pdus[i].noutlets; nw++)
			simd.pdus[i].outlets[nw].pdu = &simd.pdus[i];
	}
	if (simd_config_index(&err) != 0) {
		xasprintf(errp, "%s: %s", path, err);
		goto out;
	}
	r = 0;
	goto out;
bad:
	xasprintf(errp, "%s:%u: %s", path, lineno, err);
out:
	free(err);
	for (i = 0; i < nplugs; i++)
		free(plugs[i]);
	free(plugs);
	free(line);
	fclose(f);
	return (r);
}

static void
simd_config_free(void)
{
	u_int i;

	for (i = 0; i < simd.nnodes; i++)
		free(simd.nodes[i].name);
	free(simd.nodes);
	for (i = 0; i < simd.npdus; i++) {
		free(simd.pdus[i].name);
		free(simd.pdus[i].outlets);
	}
	free(simd.pdus);
	free(simd_by_name);
	free(simd_addrs);
	simd.nodes = NULL;
	simd.pdus = NULL;
	simd.nnodes = simd.npdus = 0;
}
