/*
 * The imagezip step of a save: over telnet to the node's imaging shell,
 * stamp the root partition's /etc/rhubarbe-image, then run "imagezip |
 * netcat" towards the run's image collector (drivers/collector.h), which
 * the command starts before the run and hands over in a
 * step_imagezip_collect. The step ends ok only when the shell reported
 * the pipeline's status 0 AND the collector received the whole stream;
 * then the image is committed (PATH.partial renamed to PATH). Any other
 * end is save-failed with why ("imagezip pipeline exit 1", "transfer:
 * connection reset") and the collector freed, which removes the partial
 * file.
 *
 * The command lines are built by step_imagezip_commands, a pure function;
 * the stamp is a user's text (the comment) and is always written as one
 * single-quoted shell word, after step_imagezip_stamp_valid refused
 * control characters, so that no part of it can run on the node.
 */
#ifndef ENGINE_STEP_IMAGEZIP_H
#define ENGINE_STEP_IMAGEZIP_H

#include <stdint.h>
#include <time.h>

#include "drivers/collector.h"
#include "engine/step.h"

/* After the shell's status 0: how long the collector may take to see EOF. */
#define STEP_IMAGEZIP_GRACE_MS 10000
/* The longest stamp (and so comment) sent to a node. */
#define STEP_IMAGEZIP_STAMP_MAX 1024

/*
 * The collector and what it said, shared by the command (which starts it
 * with step_imagezip_collect_progress and _done as its callbacks and this
 * struct as their argument, and reads the result after the run) and the
 * step (which takes over the collector: commits or frees it).
 */
struct step_imagezip_collect {
	struct collector *collector; /* NULL once freed by the step */
	const char *path;            /* the image's, for messages */
	struct node *node;           /* the step's node while it runs */
	int ended;                   /* the collector's done came */
	struct collector_result result;
	char *error; /* result.error, copied */
	int committed;
};

void step_imagezip_collect_progress(void *, uint64_t bytes, double rate);
void step_imagezip_collect_done(void *, const struct collector_result *);
/* Free the collector (if the step did not) and the copied error. */
void step_imagezip_collect_clear(struct step_imagezip_collect *);

/* The node's telnet port is the inventory's. */
struct step_imagezip_conf {
	const char *commands; /* from step_imagezip_commands */
	struct step_imagezip_collect *collect;
	unsigned connect_ms; /* 0: the step's deadline only */
};

/* What the node runs (config values are used as they are written). */
struct step_imagezip_cmd {
	const char *stamp;          /* any text without control characters */
	const char *root_partition; /* "none": no stamp */
	const char *mount_point;
	const char *imagezip;
	const char *hard_drive;
	const char *netcat;
	const char *local_ip;
	int port;
};

extern const struct step_def step_imagezip_def;

/* s as one POSIX shell word: 'text', each ' written as '\'' (allocated). */
char *step_imagezip_shell_quote(const char *s);
/*
 * "YYYY-MM-DD@HH:MM - node fitNN  - image RADICAL - by LOGIN[ - COMMENT]"
 * in local time (allocated), rhubarbe's stamp line.
 */
char *step_imagezip_stamp(time_t, const char *node, const char *radical,
    const char *login, const char *comment);
/*
 * 0 if text may go into a stamp: no control character (newline, tab,
 * escape, DEL), at most STEP_IMAGEZIP_STAMP_MAX bytes; else -1 and a
 * one-line *errp naming what (allocated).
 */
int step_imagezip_stamp_valid(const char *text, char **errp);
/* The command lines, ending with "exit\n" (allocated). */
char *step_imagezip_commands(const struct step_imagezip_cmd *);

#endif
