/*
 * Who may act: the reservation gate (engine/gate.h) as one synchronous
 * call for commands. Call it after the selection and every check, before
 * anything is touched, with the loop initialised (loop_init):
 *
 *	if ((r = cmd_gate(ctx, "on", set, 1)) != 0)
 *		goto out;	(r is the exit code; the refusal is printed)
 *
 * enforce 1 (on, off, reset, cycle, load, save): a refusal prints one
 * line, "PROG: access denied: REASON", is written to the audit log
 * (outcome "denied" for every selected node), and cmd_gate returns
 * EXIT_FAILED. enforce 0 (status, info): the refusal is printed as a
 * warning and cmd_gate returns 0. Granted: 0, silently.
 *
 * Why 1 and not 2: 2 means the command line or its input is wrong and
 * retrying it as is cannot work. A refusal is about the nodes at this
 * moment (no lease yet, the gate down): every selected node failed with
 * outcome "denied", which is what 1 says, the same command may work
 * later, and rhubarbe exits 1 as well. Nothing is touched either way.
 *
 * The login is that of the real uid (getpwuid(getuid())), never
 * getlogin(): sudo and su do not change who is checked.
 */
#ifndef UI_CMD_GATE_H
#define UI_CMD_GATE_H

struct cmd_ctx;
struct nodeset;

int cmd_gate(struct cmd_ctx *, const char *action, const struct nodeset *,
    int enforce);

#endif
