/*
 * The node-side tools' question to simd: which faults does my node have?
 * One request on DIR/sim/simd.sock ("faults NODE", DESIGN.md), answered
 * "ok KIND..." then lines up to a lone dot.
 */
#ifndef SIM_FAULTS_H
#define SIM_FAULTS_H

/* Seconds to wait for simd's answer. */
#define SIM_FAULTS_TIMEOUT 5

/*
 * On success *faultsp is the space-separated list after "ok" (maybe
 * empty, allocated). On failure -1 and *errp one allocated line.
 */
int sim_faults_get(const char *dir, const char *node, char **faultsp,
    char **errp);
/* Whether the space-separated list holds kind. */
int sim_faults_has(const char *list, const char *kind);

#endif
