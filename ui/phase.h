/*
 * Phases: where a node is in a run, in the few words a person watching
 * a thousand nodes wants (booting, imaging, waiting for ssh), rather than
 * the name of every step. The one table that maps step names to phases
 * lives in phase.c, shared by the plain renderer's status line and the
 * curses monitor, so both count nodes the same way.
 *
 * A tally follows a run from its bus events (ui/tally.h); this file only
 * names phases and classifies steps.
 */
#ifndef UI_PHASE_H
#define UI_PHASE_H

/* X(ID, name), in the order a status line lists them. */
#define PHASES(X)                                                              \
	X(QUEUED, "queued")     /* not started: waiting for a fan-out slot */  \
	X(RUNNING, "running")   /* in a step of no particular phase (exec) */  \
	X(BOOTING, "booting")   /* nextboot, power, telnet wait, delay */      \
	X(IMAGING, "imaging")   /* frisbee or imagezip */                      \
	X(SSH, "ssh")           /* waiting for ssh */                          \
	X(STOPPING, "stopping") /* cancelled, its step cleaning up */          \
	X(DONE, "done")         /* ended ok */                                 \
	X(FAILED, "failed")     /* ended otherwise */

#define PHASE_ENUM(id, name) PHASE_##id,
enum phase { PHASES(PHASE_ENUM) PHASE__COUNT };
#undef PHASE_ENUM

/* The phase a node is in while it runs step (NULL: PHASE_RUNNING). */
enum phase phase_lookup(const char *step);
const char *phase_name(enum phase);

#endif
