/*
 * Names of the power drivers' typed results.
 */
#include "drivers/power.h"

static const char *const power_error_texts[] = {
#define POWER_ERROR_TEXT(id, text) text,
    POWER_ERRORS(POWER_ERROR_TEXT)
#undef POWER_ERROR_TEXT
};

const char *
power_error_text(enum power_error e)
{
	if ((unsigned)e >= POWER_ERR__COUNT)
		return ("?");
	return (power_error_texts[e]);
}

const char *
power_state_name(enum power_state s)
{
	switch (s) {
	case POWER_STATE_ON:
		return ("on");
	case POWER_STATE_OFF:
		return ("off");
	case POWER_STATE_UNKNOWN:
		break;
	}
	return ("unknown");
}
