/*
 * The step-to-phase table. Step names come from the step table
 * (engine/step.c); a name ending in '*' matches every step starting with
 * what precedes it. A step not listed is PHASE_RUNNING, so a new step is
 * shown, just not grouped, until a line is added here.
 *
 *	step			phase
 *	nextboot-*		booting
 *	power, power-*		booting
 *	telnet-wait		booting  (also spelled wait-telnet)
 *	delay			booting
 *	frisbee, frisbee-*	imaging
 *	imagezip, imagezip-*	imaging
 *	ssh-wait		ssh      (also spelled wait-ssh)
 *	anything else		running  (exec, ...)
 */
#include <string.h>

#include "common/compat.h"
#include "ui/phase.h"

static const struct {
	const char *step;
	enum phase phase;
} phase_steps[] = {
    {"nextboot-*", PHASE_BOOTING},
    {"power", PHASE_BOOTING},
    {"power-*", PHASE_BOOTING},
    {"telnet-wait", PHASE_BOOTING},
    {"wait-telnet", PHASE_BOOTING},
    {"delay", PHASE_BOOTING},
    {"frisbee", PHASE_IMAGING},
    {"frisbee-*", PHASE_IMAGING},
    {"imagezip", PHASE_IMAGING},
    {"imagezip-*", PHASE_IMAGING},
    {"ssh-wait", PHASE_SSH},
    {"wait-ssh", PHASE_SSH},
};

#define PHASE_NAME(id, name) name,
static const char *const phase_names[] = {PHASES(PHASE_NAME)};
#undef PHASE_NAME

enum phase
phase_lookup(const char *step)
{
	const char *pat;
	size_t i, len;

	if (step == NULL)
		return (PHASE_RUNNING);
	for (i = 0; i < nitems(phase_steps); i++) {
		pat = phase_steps[i].step;
		len = strlen(pat);
		if (len > 0 && pat[len - 1] == '*') {
			if (strncmp(step, pat, len - 1) == 0)
				return (phase_steps[i].phase);
		} else if (strcmp(step, pat) == 0)
			return (phase_steps[i].phase);
	}
	return (PHASE_RUNNING);
}

const char *
phase_name(enum phase p)
{
	if ((unsigned)p >= PHASE__COUNT)
		return ("?");
	return (phase_names[p]);
}
