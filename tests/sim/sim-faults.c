/*
 * Ask simd which faults a node has: the one request the node-side tools
 * (frisbee, imagezip, the ssh key check) make, on a plain blocking socket
 * with timeouts, since they are short-lived programs without a loop.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tests/sim/sim-faults.h"

/*
 * Ask simd for node's faults: one request on DIR/sim/simd.sock, the answer
 * "ok KIND..." followed by lines up to a lone dot (DESIGN.md, "Control
 * socket"). On success *faultsp is the list after "ok" (maybe empty).
 */
int
sim_faults_get(const char *dir, const char *node, char **faultsp, char **errp)
{
	struct sockaddr_un sun;
	struct timeval tv = {SIM_FAULTS_TIMEOUT, 0};
	char *req = NULL, buf[4096], *nl;
	size_t have = 0;
	ssize_t n;
	int fd = -1, r = -1;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path,
		"%s/sim/simd.sock", dir) >= sizeof sun.sun_path) {
		xasprintf(errp, "%s/sim/simd.sock: path too long", dir);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		xasprintf(errp, "%s: %s", sun.sun_path, strerror(errno));
		goto out;
	}
	xasprintf(&req, "faults %s\n", node);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		xasprintf(errp, "%s: write failed", sun.sun_path);
		goto out;
	}
	while ((nl = memchr(buf, '\n', have)) == NULL) {
		if (have == sizeof buf - 1) {
			xasprintf(errp, "simd: answer too long");
			goto out;
		}
		n = read(fd, buf + have, sizeof buf - 1 - have);
		if (n <= 0) {
			xasprintf(errp, "simd: %s",
			    n == 0 ? "no answer" : strerror(errno));
			goto out;
		}
		have += (size_t)n;
	}
	*nl = '\0';
	if (strncmp(buf, "ok", 2) != 0 || (buf[2] != '\0' && buf[2] != ' ')) {
		xasprintf(errp, "simd: %s", buf);
		goto out;
	}
	*faultsp = xstrdup(buf[2] == ' ' ? buf + 3 : "");
	r = 0;
out:
	free(req);
	if (fd != -1)
		close(fd);
	return (r);
}

/* Whether the space-separated list holds word. */
int
sim_faults_has(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ' '))
			return (1);
		p += len;
	}
	return (0);
}
