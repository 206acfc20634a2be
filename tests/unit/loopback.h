/*
 * Loopback peers for the drivers' unit tests: a socket bound to an
 * ephemeral port of 127.0.0.1 (bound but not listening, it refuses
 * connections), and a listener whose accept queue is full, so that a
 * connect neither completes nor fails: the only reliable way to produce a
 * connect timeout on loopback.
 */
#ifndef TESTS_UNIT_LOOPBACK_H
#define TESTS_UNIT_LOOPBACK_H

#include <netinet/in.h>

struct loopback_full {
	int listen_fd;
	int filler_fd;
	int port;
};

/* A TCP socket bound to 127.0.0.1:0; sin gets the address. */
int loopback_socket(struct sockaddr_in *sin);
int loopback_bound_port(int fd);
void loopback_full_open(struct loopback_full *);
void loopback_full_close(struct loopback_full *);

#endif
