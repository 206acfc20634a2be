/*
 * Loopback peers for the drivers' unit tests (see loopback.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/loopback.h"

int
loopback_bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return (ntohs(sin.sin_port));
}

int
loopback_socket(struct sockaddr_in *sin)
{
	int fd;

	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof *sin), 0);
	return (fd);
}

/*
 * listen(fd, 0) holds one connection, made here and never accepted; the
 * kernel then drops further SYNs.
 */
void
loopback_full_open(struct loopback_full *full)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t len = sizeof err;

	full->listen_fd = loopback_socket(&sin);
	assert_int_equal(listen(full->listen_fd, 0), 0);
	full->port = loopback_bound_port(full->listen_fd);
	sin.sin_port = htons((uint16_t)full->port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0)
		assert_int_equal(errno, EINPROGRESS);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, 0);
	full->filler_fd = fd;
}

void
loopback_full_close(struct loopback_full *full)
{
	close(full->filler_fd);
	close(full->listen_fd);
}
