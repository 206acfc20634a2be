/*
 * The ssh-wait step: wait until a node answers ssh, as rwait does and as
 * a load does after its final reset. Repeated probes (drivers/ssh.h) to
 * the node's control IP and ssh port; after a failed probe the node waits
 * backoff * (0.5 + random()) and tries again, until the step's deadline.
 * Handshakes in flight across the whole run are capped by the limiter
 * shared through the conf (nodes waiting for a slot queue in FIFO order).
 *
 * Outcomes: ok once a probe authenticated. At the step's own deadline
 * (give the step instance a timeout), ssh-auth if the last probe was
 * refused by authentication or the host key, else ssh-timeout, with the
 * last failure in the why ("connection refused"). Without a timeout of
 * its own the step is bounded by the run's, whose expiry says "timeout".
 *
 * The conf is self-contained: the key (loaded once), the limiter, user,
 * host-key policy and backoff. Make it with step_ssh_wait_conf_new, share
 * it between every node of a run, free it after the run.
 */
#ifndef ENGINE_STEP_SSH_WAIT_H
#define ENGINE_STEP_SSH_WAIT_H

#include <stdint.h>

#include "drivers/ssh.h"
#include "engine/step.h"

struct config;
struct limiter;

struct step_ssh_wait_params {
	const char *key_path; /* "" or NULL: ~/.ssh/id_ed25519, id_rsa */
	const char *user;     /* "" or NULL: root */
	enum ssh_probe_hostkey_policy hostkey_policy;
	const char *known_hosts;     /* "" or NULL: ~/.ssh/known_hosts */
	uint64_t backoff_ms;         /* base wait between two probes */
	unsigned max_handshakes;     /* >= 1 */
	unsigned connect_timeout_ms; /* per probe; 0: the driver's */
};

struct step_ssh_wait_conf {
	struct ssh_probe_key *key;
	char *user;
	enum ssh_probe_hostkey_policy hostkey_policy;
	char *known_hosts;
	uint64_t backoff_ms;
	unsigned connect_timeout_ms;
	struct limiter *limiter; /* shared by every node of the run */
};

extern const struct step_def step_ssh_wait_def;

/*
 * Params from [networking] ssh_key, ssh_user, ssh_host_key_policy,
 * ssh_known_hosts, ssh_backoff, ssh_max_handshakes and ssh_timeout (the
 * TCP connect timeout of one probe). The strings are borrowed from the
 * config.
 */
void step_ssh_wait_params_from_config(struct step_ssh_wait_params *,
    const struct config *);
/*
 * Load the key and make the shared parts. NULL with *errp set (one line
 * naming the key file) if the key cannot be loaded.
 */
struct step_ssh_wait_conf *step_ssh_wait_conf_new(
    const struct step_ssh_wait_params *, char **errp);
void step_ssh_wait_conf_free(struct step_ssh_wait_conf *);

#endif
