/*
 * The nextboot steps of load and save: "nextboot-set" points the node's
 * PXE link at the imaging system before its reset, "nextboot-clear"
 * removes it as soon as the imaging system answers (so that the next
 * reset boots from disk), and again as a finishing step after a failure
 * or a stop. Both go through the run's crash-safe journal
 * (engine/nextboot.h), their argument is a step_nextboot_conf, and they
 * finish at once: a failure ends the node "nextboot-failed".
 */
#ifndef ENGINE_STEP_NEXTBOOT_H
#define ENGINE_STEP_NEXTBOOT_H

#include "engine/step.h"

struct nextboot;

struct step_nextboot_conf {
	struct nextboot *nb; /* the run's journal, borrowed */
};

extern const struct step_def step_nextboot_set_def;
extern const struct step_def step_nextboot_clear_def;

#endif
