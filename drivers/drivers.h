/*
 * Facts about the protocol adapters as a whole.
 */
#ifndef DRIVERS_DRIVERS_H
#define DRIVERS_DRIVERS_H

/* Call cb(library, version, arg) for each protocol library linked in. */
void drivers_versions(void (*)(const char *, const char *, void *), void *);

#endif
