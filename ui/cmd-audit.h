/*
 * The audit line of a run that changed nodes (power actions, load, save):
 * when it started, what, through which back ends, and per outcome the
 * nodes that had it, folded (engine/audit.h has the format). Commands
 * take the start with cmd_audit_start before their run and write with
 * cmd_audit_run once it is over; a line that cannot be written is a
 * warning, never silence.
 */
#ifndef UI_CMD_AUDIT_H
#define UI_CMD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct cmd_ctx;
struct nodeset;
struct run;

struct cmd_audit {
	uint64_t start_wall_ms; /* UTC epoch */
	uint64_t start_mono_ms;
};

struct audit_result;

void cmd_audit_start(struct cmd_audit *);
/* The line for these results ({outcome, folded nodes}). */
void cmd_audit_write(struct cmd_ctx *, const struct cmd_audit *,
    const char *action, const struct nodeset *, const struct audit_result *,
    size_t nresults, const char *const *backends, size_t nbackends);
/* The line for a finished run: per outcome the nodes that had it. */
void cmd_audit_run(struct cmd_ctx *, const struct cmd_audit *,
    const char *action, const struct run *, const struct nodeset *,
    const char *const *backends, size_t nbackends);

#endif
