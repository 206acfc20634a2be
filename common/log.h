/*
 * The log: one file in the state directory, a line per message with time,
 * pid and level. It never writes on a terminal the UI draws on: when the
 * file cannot be opened it falls back to stderr only if the caller allows
 * it, otherwise messages are dropped.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>

#include "common/compat.h"

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/*
 * Open (append) the log file at path. If it cannot be opened and
 * stderr_fallback is set, log to stderr instead. Returns 0 when the file
 * was opened, -1 otherwise (errno set).
 */
int log_open(const char *path, int stderr_fallback);
/* Switch to stderr (or to nothing) and close the file. */
void log_close(void);
/* Whether falling back to stderr is allowed (off while curses draws). */
void log_set_stderr_ok(int);
void log_set_level(enum log_level);
enum log_level log_get_level(void);
const char *log_path(void);

void log_vwrite(enum log_level, const char *, va_list) printflike(2, 0);
void log_write(enum log_level, const char *, ...) printflike(2, 3);

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
