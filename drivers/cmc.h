/*
 * CMC cards: rhubarbe's HTTP verbs (GET http://HOST/VERB) over evhttp,
 * with a connect timeout and a total timeout of their own. The body is
 * parsed strictly: "on"/"off" for status, "ok" for on, off, reset,
 * usrpon, usrpoff; anything else is POWER_ERR_BAD_REPLY with the text in
 * detail. info and usrpstatus return the body (first line) in detail.
 */
#ifndef DRIVERS_CMC_H
#define DRIVERS_CMC_H

#include "drivers/power.h"

struct event_base;
struct cmc_request;

typedef void (*cmc_cb)(const struct power_reply *, void *arg);

struct cmc_params {
	const char *ip;      /* numeric; no name lookup here */
	const char *host;    /* sent as Host: (the CMC's hostname) */
	int port;            /* 80 */
	unsigned connect_ms; /* connect timeout */
	unsigned total_ms;   /* whole request */
};

/*
 * Start GET /verb. cb is called exactly once, from the loop, never from
 * inside this call; not at all after cmc_request_cancel.
 */
struct cmc_request *cmc_request_start(struct event_base *,
    const struct cmc_params *, const char *verb, cmc_cb, void *arg);
void cmc_request_cancel(struct cmc_request *);

#endif
