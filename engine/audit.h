/*
 * The audit log: who changed the power of which nodes, when, through
 * what, and how it went. One JSON object per line in STATE_DIR/audit.jsonl,
 * written once per action at its end, appended with O_APPEND in a single
 * write and fsync'd, so that concurrent runs never interleave lines and a
 * crash just after the run loses nothing. Status and info (which change
 * nothing) are not audited.
 *
 * The line: {"time": ISO 8601 UTC of the start, "user": the real uid's
 * name, "uid", "sudo_user" (when SUDO_USER is set: who is behind sudo),
 * "host", "action", "backends": [...], "nodes": folded, "results":
 * {outcome: folded nodes}, "duration": seconds, "interrupted": bool}.
 */
#ifndef ENGINE_AUDIT_H
#define ENGINE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_FILE "audit.jsonl"

struct audit_result {
	const char *outcome; /* "ok", "power-unreachable" */
	const char *nodes;   /* folded */
};

struct audit_record {
	const char *action;
	const char *const *backends;
	size_t nbackends;
	const char *nodes; /* folded selection */
	const struct audit_result *results;
	size_t nresults;
	uint64_t start_wall_ms; /* UTC epoch */
	uint64_t duration_ms;
	int interrupted;
};

/* Who and where: filled from the process by audit_identity_self. */
struct audit_identity {
	char user[64];
	long uid;
	char sudo_user[64]; /* "" when not behind sudo */
	char host[256];
};

void audit_identity_self(struct audit_identity *);
/* The line, without its newline (allocated). */
char *audit_format(const struct audit_record *, const struct audit_identity *);
/*
 * Append the record to dir/audit.jsonl and fsync it. 0, or -1 with *errp
 * set to one line naming the file.
 */
int audit_write(const char *dir, const struct audit_record *, char **errp);

#endif
