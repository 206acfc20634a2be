/*
 * What power drivers report, whatever the protocol: a typed error (never
 * a string to parse) and, when the controller told it, the power state.
 * A controller that cannot be reached is never reported as "off".
 */
#ifndef DRIVERS_POWER_H
#define DRIVERS_POWER_H

/* X(ID, text): text is what users read ("unknown: fit06 (connection timeout)").
 */
#define POWER_ERRORS(X)                                                        \
	X(OK, "ok")                                                            \
	X(CONNECT_TIMEOUT, "connection timeout") /* no answer at all */        \
	X(CONNECT_REFUSED, "connection refused")                               \
	X(TIMEOUT, "timeout")                 /* answered, then stalled */     \
	X(SESSION_TIMEOUT, "session timeout") /* IPMI: mid-session */          \
	X(USERNAME_INVALID, "username invalid")                                \
	X(PASSWORD_INVALID, "password invalid")                                \
	X(PRIVILEGE, "privilege refused")                                      \
	X(BUSY, "controller busy")                                             \
	X(CONTROLLER_ERROR, "controller error") /* it said no */               \
	X(BAD_REPLY, "bad reply")               /* it said garbage */          \
	X(OUTLET_ERROR, "outlet error")         /* Sentry3 offError/onError */ \
	X(NO_COMM, "no communication")          /* Sentry3 noComm */           \
	X(CREDENTIALS, "credentials unusable")  /* password file */            \
	X(NETWORK, "network error")             /* socket errors */            \
	X(CANCELLED, "cancelled")

#define POWER_ERROR_ENUM(id, text) POWER_ERR_##id,
enum power_error { POWER_ERRORS(POWER_ERROR_ENUM) POWER_ERR__COUNT };
#undef POWER_ERROR_ENUM

enum power_state {
	POWER_STATE_UNKNOWN,
	POWER_STATE_OFF,
	POWER_STATE_ON,
};

/* What an operation ended with. detail is for humans (a body, a code). */
struct power_reply {
	enum power_error error;
	enum power_state state; /* UNKNOWN unless the controller said */
	char detail[160];
};

const char *power_error_text(enum power_error);
const char *power_state_name(enum power_state);

#endif
