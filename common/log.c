/*
 * Log file writer. Each line is "YYYY-MM-DDTHH:MM:SS.mmm pid LEVEL text",
 * with control characters escaped so that a peer's garbage cannot forge
 * lines or move a terminal's cursor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"

static FILE *log_file;
static char *log_file_path;
static int log_stderr_ok = 1;
static enum log_level log_level = LOG_LEVEL_INFO;

static const char *log_level_names[] = {"error", "warn", "info", "debug"};

int
log_open(const char *path, int stderr_fallback)
{
	FILE *f;

	log_close();
	log_stderr_ok = stderr_fallback;
	if ((f = fopen(path, "a")) == NULL)
		return (-1);
	setvbuf(f, NULL, _IOLBF, 0);
	log_file = f;
	log_file_path = xstrdup(path);
	return (0);
}

void
log_close(void)
{
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	free(log_file_path);
	log_file_path = NULL;
}

void
log_set_stderr_ok(int ok)
{
	log_stderr_ok = ok;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return (log_level);
}

const char *
log_path(void)
{
	return (log_file_path);
}

/* Write s to f, escaping anything that is not printable. */
static void
log_put_escaped(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p >= 0x20 && *p != 0x7f)
			fputc(*p, f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\r')
			fputs("\\r", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else
			fprintf(f, "\\x%02x", *p);
	}
}

void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	FILE *f;
	char *msg, stamp[32];
	int saved_errno = errno;

	if (level > log_level)
		return;
	if ((f = log_file) == NULL) {
		if (!log_stderr_ok)
			return;
		f = stderr;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	xvasprintf(&msg, fmt, ap);
	fprintf(f, "%s.%03ld %ld %s ", stamp, ts.tv_nsec / 1000000L,
	    (long)getpid(), log_level_names[level]);
	log_put_escaped(f, msg);
	fputc('\n', f);
	free(msg);
	errno = saved_errno;
}

void
log_write(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}
