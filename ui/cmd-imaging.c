/*
 * Taking nodes to the imaging system and back, shared by load and save.
 * rhubarbe's stage 1 (link, reset, idle) and its telnet loop become
 * steps, and its cleanup becomes finishing steps: the link is cleared
 * after a failure or a stop too (and the journal's close clears any left,
 * the recovery of the next command any a crash left), and the final
 * reset runs after a failure, and after a stop when [nodes]
 * reset_on_abort is yes, touching only nodes whose boot step started.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/nextboot.h"
#include "inventory/config.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"
#include "ui/cmd-imaging.h"
#include "ui/cmd-power-conf.h"
#include "ui/cmd.h"

#define CMD_IMAGING_MS(s) ((uint64_t)((s)*1000 + 0.5))

int
cmd_imaging_open(struct cmd_ctx *ctx, const struct nodeset *set, int reset,
    const char *what, struct cmd_imaging *im)
{
	struct plan_power_conf pconf;
	struct stat st;
	const char **names, **macs;
	size_t i, n = 0;
	const char *dir;
	char *err = NULL;
	uint64_t maxb = 0;
	int r;

	memset(im, 0, sizeof *im);
	im->reset = reset;
	if (!reset)
		return (0);
	dir = config_str(ctx->config, CK_PXELINUX_CONFIG_DIR);
	errno = 0;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return (cmd_usage_error(ctx, "[pxelinux] config_dir %s: %s",
		    dir, errno != 0 ? strerror(errno) : "not a directory"));
	if ((r = cmd_power_plan_conf(ctx, &pconf)) != 0)
		return (r);
	if ((im->pp = plan_power_new(&pconf, &plan_power_drivers_real,
		 ctx->inventory, NULL, &err)) == NULL) {
		cmd_error(ctx, "%s", err);
		free(err);
		return (EXIT_FAILED);
	}
	im->kinds = xcalloc(ctx->inventory->nnodes + 1, sizeof *im->kinds);
	if ((r = cmd_power_backends(ctx, set, im->pp, POWER_ACT_BOOT,
		 INV_POWER_NONE, 0, im->kinds, &maxb)) != 0)
		return (r);
	if ((dir = cmd_state_dir(ctx)) == NULL) {
		cmd_error(ctx,
		    "no usable state directory for the nextboot "
		    "journal");
		return (EXIT_FAILED);
	}
	if ((im->nb = nextboot_open(dir, what,
		 config_str(ctx->config, CK_PXELINUX_CONFIG_DIR),
		 config_str(ctx->config, CK_PXELINUX_FRISBEE_IMAGE), &err)) ==
	    NULL) {
		cmd_error(ctx, "%s", err);
		free(err);
		return (EXIT_FAILED);
	}
	/* Every link of the run journaled at once: one fsync, not one each. */
	names = xcalloc(nodeset_count(set) + 1, sizeof *names);
	macs = xcalloc(nodeset_count(set) + 1, sizeof *macs);
	NODESET_FOREACH(i, set) {
		names[n] = ctx->inventory->nodes[i].name;
		macs[n++] = ctx->inventory->nodes[i].control.mac;
	}
	r = nextboot_reserve(im->nb, names, macs, n, &err);
	free(names);
	free(macs);
	if (r != 0) {
		cmd_error(ctx, "%s", err);
		free(err);
		return (EXIT_FAILED);
	}
	return (0);
}

size_t
cmd_imaging_head(struct cmd_ctx *ctx, struct cmd_imaging *im,
    struct step_inst *plan)
{
	size_t n = 0;

	im->tw_conf.port = 0;
	im->tw_conf.connect_ms = (unsigned)CMD_IMAGING_MS(
	    config_double(ctx->config, CK_NETWORKING_TELNET_TIMEOUT));
	if (im->tw_conf.connect_ms == 0)
		im->tw_conf.connect_ms = 1;
	im->tw_conf.backoff_ms = CMD_IMAGING_MS(
	    config_double(ctx->config, CK_NETWORKING_TELNET_BACKOFF));

	if (im->reset) {
		im->nb_conf.nb = im->nb;
		im->boot_conf.pp = im->pp;
		im->boot_conf.action = POWER_ACT_BOOT;
		im->idle_conf.ms = (uint64_t)config_int(ctx->config,
				       CK_NODES_IDLE_AFTER_RESET) *
		    1000;
		memset(&plan[n], 0, sizeof plan[n]);
		plan[n].def = &step_nextboot_set_def;
		plan[n++].arg = &im->nb_conf;
		memset(&plan[n], 0, sizeof plan[n]);
		plan[n].def = &step_power_def;
		plan[n++].arg = &im->boot_conf;
		memset(&plan[n], 0, sizeof plan[n]);
		plan[n].def = &step_delay_def;
		plan[n++].arg = &im->idle_conf;
	}
	memset(&plan[n], 0, sizeof plan[n]);
	plan[n].def = &step_telnet_wait_def;
	plan[n].arg = &im->tw_conf;
	plan[n++].timeout_ms =
	    (uint64_t)config_int(ctx->config, CK_NODES_BOOT_TIMEOUT) * 1000;
	if (im->reset) {
		memset(&plan[n], 0, sizeof plan[n]);
		plan[n].def = &step_nextboot_clear_def;
		plan[n].arg = &im->nb_conf;
		plan[n++].when = STEP_AFTER_FAIL | STEP_AFTER_STOP;
	}
	return (n);
}

size_t
cmd_imaging_tail(struct cmd_ctx *ctx, struct cmd_imaging *im,
    struct step_inst *plan)
{
	if (!im->reset)
		return (0);
	im->final_conf.pp = im->pp;
	im->final_conf.action = POWER_ACT_RESET;
	im->final_conf.only_if_powered = 1;
	im->final_conf.timeout_ms =
	    (uint64_t)config_int(ctx->config, CK_NODES_FINAL_RESET_TIMEOUT) *
	    1000;
	memset(plan, 0, sizeof *plan);
	plan->def = &step_power_def;
	plan->arg = &im->final_conf;
	plan->timeout_ms = im->final_conf.timeout_ms + STEP_POWER_GRACE_MS;
	plan->when = STEP_AFTER_FAIL;
	if (strcmp(config_text(ctx->config, CK_NODES_RESET_ON_ABORT), "yes") ==
	    0)
		plan->when |= STEP_AFTER_STOP;
	return (1);
}

size_t
cmd_imaging_backends(const struct cmd_imaging *im, const struct nodeset *set,
    const char **names)
{
	int seen[INV_POWER_PDU + 1], k;
	size_t i, n = 0;

	if (!im->reset || im->kinds == NULL)
		return (0);
	memset(seen, 0, sizeof seen);
	NODESET_FOREACH(i, set) {
		if (im->kinds[i] <= INV_POWER_PDU)
			seen[im->kinds[i]] = 1;
	}
	for (k = INV_POWER_CMC; k <= INV_POWER_PDU; k++) {
		if (seen[k])
			names[n++] =
			    inv_power_kind_name((enum inv_power_kind)k);
	}
	return (n);
}

int
cmd_imaging_close(struct cmd_ctx *ctx, struct cmd_imaging *im)
{
	char *err = NULL;
	int r = 0;

	if (im->nb != NULL && nextboot_close(im->nb, &err) != 0) {
		cmd_error(ctx, "%s", err);
		free(err);
		r = -1;
	}
	im->nb = NULL;
	plan_power_free(im->pp);
	im->pp = NULL;
	free(im->kinds);
	im->kinds = NULL;
	return (r);
}
