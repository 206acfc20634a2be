/*
 * The image collector of a save: a TCP listener on the loop that takes
 * exactly one connection (the node's "imagezip ... | nc IP PORT") and
 * writes what it receives into PATH.partial, replacing rhubarbe's
 * "nc -l > image", which left truncated images under their final name.
 *
 * The end of the stream does not prove the image is whole: imagezip may
 * have died and nc closed cleanly. So EOF ends in COLLECTOR_RECEIVED with
 * the data fsync'd in PATH.partial, and only collector_commit (called
 * once the node's pipeline reported success) renames it to PATH, never
 * over an existing file. Any other end, and collector_free before a
 * commit, unlinks PATH.partial: no partial file is ever left behind.
 */
#ifndef DRIVERS_COLLECTOR_H
#define DRIVERS_COLLECTOR_H

#include <stdint.h>

struct event_base;
struct collector;

enum collector_status {
	COLLECTOR_RECEIVED,     /* EOF: PATH.partial complete, commit it */
	COLLECTOR_ERROR,        /* read/write error, connection reset */
	COLLECTOR_IDLE_TIMEOUT, /* connected, nothing for idle_timeout */
	COLLECTOR_TIMEOUT,      /* total_timeout since the start */
};

struct collector_result {
	enum collector_status status;
	uint64_t bytes;
	double seconds;    /* from the connection to the end */
	const char *error; /* one line, for every status but RECEIVED */
};

struct collector_params {
	const char *bind_ip;  /* dotted quad, "0.0.0.0" for any */
	int port_min;         /* first port tried; 0: an ephemeral port */
	int port_max;         /* last port tried (>= port_min) */
	const char *peer_ip;  /* accept only this client, or NULL */
	const char *path;     /* final image path; PATH.partial meanwhile */
	double idle_timeout;  /* seconds without data once connected; 0: none */
	double total_timeout; /* seconds from the start; 0: none */
	double progress_interval; /* seconds between progress calls; 0: 1 */
	/* Bytes so far and the mean rate (bytes/s) since the connection. */
	void (*progress)(void *, uint64_t, double);
	/* Once, at the end; the collector may be committed or freed in it. */
	void (*done)(void *, const struct collector_result *);
	void *arg;
};

/*
 * Create PATH.partial (O_EXCL, 0644), bind the first free port of the
 * range and listen. NULL and a one-line error if PATH exists, the partial
 * file exists, or no port is free.
 */
struct collector *collector_start(struct event_base *,
    const struct collector_params *, char **errp);
/* The port listened on. */
int collector_port(const struct collector *);
/*
 * After COLLECTOR_RECEIVED: rename PATH.partial to PATH, never replacing
 * an existing PATH (the partial is then removed). 0, or -1 and a one-line
 * error.
 */
int collector_commit(struct collector *, char **errp);
/* Stop (cancel if still running) and unlink PATH.partial unless committed. */
void collector_free(struct collector *);

#endif
