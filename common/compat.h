/*
 * Portability and attribute helpers shared by every layer: BSD queue macros
 * (glibc's <sys/queue.h> lacks the _SAFE iterators), and the attribute
 * spellings tmux and OpenSSH use.
 */
#ifndef COMMON_COMPAT_H
#define COMMON_COMPAT_H

#include <bsd/sys/queue.h>
#include <bsd/string.h>

#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
#define printflike(a, b) __attribute__((__format__(__printf__, a, b)))
#define __dead           __attribute__((__noreturn__))

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#endif
