/*
 * The step table, and step_done(), the one way a waiting step hands its
 * node back to the run.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/run.h"
#include "engine/step-delay.h"
#include "engine/step-exec.h"
#include "engine/step-frisbee.h"
#include "engine/step-imagezip.h"
#include "engine/step-nextboot.h"
#include "engine/step-power.h"
#include "engine/step-ssh-wait.h"
#include "engine/step-telnet-wait.h"
#include "engine/step.h"

const struct step_def *const step_table[] = {
    &step_delay_def,
    &step_exec_def,
    &step_imagezip_def,
    &step_nextboot_set_def,
    &step_nextboot_clear_def,
    &step_frisbee_def,
    &step_power_def,
    &step_telnet_wait_def,
    &step_ssh_wait_def,
    NULL,
};

const struct step_def *
step_find(const char *name)
{
	const struct step_def *const *d;

	for (d = step_table; *d != NULL; d++) {
		if (strcmp((*d)->name, name) == 0)
			return (*d);
	}
	return (NULL);
}

void
step_done(struct node *n, enum node_outcome outcome, const char *fmt, ...)
{
	va_list ap;
	char *why = NULL;

	if (fmt != NULL) {
		va_start(ap, fmt);
		xvasprintf(&why, fmt, ap);
		va_end(ap);
	}
	run_step_done(n, outcome, why);
	free(why);
}
