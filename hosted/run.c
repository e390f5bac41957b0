/* run.c - hosted_run(): platform up, kernel boot on this thread, teardown. */
#include <stdio.h>
#include <unistd.h>
#include "../kernel/kerr.h"
#include "../kernel/klib.h"
#include "../kernel/pt.h"
#include "hart.h"
#include "hosted.h"

/*
 * Simulated RAM unless told: the host's, at most 8G (a whole 4 GiB wasm
 * memory with room beside it, as other engines allow) and at least 256M.
 * The memfd holds only the pages the kernel touches, and booting 8G costs
 * a few MiB of frame bookkeeping.
 */
static uint64_t default_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	uint64_t host = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;

	return ALIGN_DOWN(MIN(MAX(host, 256ull << 20), 8ull << 30), 2ull << 20);
}

void hosted_config_default(struct hosted_config *cfg)
{
	*cfg = (struct hosted_config){
		.harts = 2,
		.memory = default_memory(),
		.paging = PT_SV39,
		.log_filter = NULL,
		.selfcheck = false,
		.quiet = true,
	};
}

static const char *config_error(const struct hosted_config *cfg)
{
	if (cfg->harts < 1 || cfg->harts > HAL_MAX_HARTS)
		return "harts must be 1 to 64";
	if (cfg->memory < HOSTED_MIN_MEMORY || cfg->memory > HOSTED_MAX_MEMORY)
		return "memory must be 8M to 64G";
	if (cfg->memory % (2u << 20))
		return "memory must be a multiple of 2M";
	if (!pt_mode_valid(cfg->paging))
		return "paging must be sv39, sv48 or sv57";
	return NULL;
}

int hosted_run(const struct hosted_config *cfg, int (*init)(void *), void *arg)
{
	static bool ran;
	const char *why = config_error(cfg);
	struct hal_boot_info info = {
		.paging_mode = cfg->paging,
		.log_filter = cfg->log_filter,
		.selfcheck = cfg->selfcheck,
		.quiet = cfg->quiet,
		.init = init,
		.init_arg = arg,
	};
	int err, status;

	if (why) {
		fprintf(stderr, "k23sim: %s\n", why);
		return -K_EINVAL;
	}
	if (ran) {
		fprintf(stderr, "k23sim: hosted_run: the machine boots once per process\n");
		return -K_EBUSY;
	}
	ran = true;
	if (cfg->perf_map && (err = hosted_perf_map_open()) < 0)
		return err;
	if ((err = hosted_mem_init(cfg->memory)) < 0) {
		hosted_perf_map_close();
		return err;
	}
	if ((err = hosted_traps_init()) < 0 || (err = hosted_harts_init(cfg->harts)) < 0) {
		fprintf(stderr, "k23sim: cannot set up harts: %s\n", kerr_str(err));
		hosted_mem_fini();
		hosted_perf_map_close();
		return err;
	}
	status = kernel_boot(&info);
	hosted_harts_stop();
	hosted_mem_fini();
	hosted_perf_map_close();
	return status;
}
