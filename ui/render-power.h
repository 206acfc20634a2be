/*
 * The output of the power commands, from their results (one row per node,
 * in inventory order), printed once at the end:
 *
 * - folded (default), as powerman prints: nodes with the same result and
 *   reason on one line, "on: fit[01-04]", "off: fit05", "unknown: fit06
 *   (connection timeout)"; for actions "ok: fit[01-04]", "failed: fit06
 *   (password invalid)"; info prints "fit01: TEXT" per node;
 * - lines: "fit01: on", "fit06: unknown (connection timeout)" per node;
 * - rhubarbe: rhubarbe's "reboot01:on" per node (the CMC name, or the
 *   node's when it has no CMC), "reboot06:status N/A" when it failed;
 * - json: one document {"action", "ok", "duration", "nodes": [...],
 *   "summary": [{"result", "reason", "nodes", "count"}...]}.
 *
 * Pure: it reads only the rows, so tests compare bytes.
 */
#ifndef UI_RENDER_POWER_H
#define UI_RENDER_POWER_H

#include <stddef.h>
#include <stdio.h>

enum render_power_format {
	RENDER_POWER_FOLD,
	RENDER_POWER_LINES,
	RENDER_POWER_RHUBARBE,
	RENDER_POWER_JSON,
};

struct render_power_row {
	const char *node;       /* fit01 */
	const char *cmc;        /* reboot01, or NULL */
	const char *backend;    /* cmc, ipmi, pdu */
	const char *controller; /* reboot01, bmc01, pdu1 */
	int ok;                 /* reached the state asked (status: answered) */
	const char *result;     /* on/off/unknown (status), ok/failed */
	const char *reason;     /* why it failed, a note, or NULL */
	const char *info;       /* info text, or NULL */
	const char *outcome;    /* the node's outcome name */
	const char *state;      /* the last state read: on, off, unknown */
	double duration;        /* seconds */
	unsigned ops;           /* controller operations */
};

/* action is "status", "on", ...; duration the whole run's, seconds. */
void render_power(FILE *, enum render_power_format, const char *action,
    const struct render_power_row *, size_t n, double duration);

#endif
