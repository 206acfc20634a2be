/*
 * Allocation that never fails: running out of memory is fatal, so callers
 * carry no NULL checks for it (tmux xmalloc.c, OpenSSH).
 */
#ifndef COMMON_XMALLOC_H
#define COMMON_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "common/compat.h"

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) printflike(2, 3);
int xvasprintf(char **, const char *, va_list) printflike(2, 0);
/* Free a secret after wiping it; accepts NULL. */
void freezero_str(char *);

#endif
