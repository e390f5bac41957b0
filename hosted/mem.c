/*
 * mem.c - RAM is one memfd, mapped whole as the kernel's direct map; the
 * MMU calls go to vm_sim; code memory is anonymous host memory flipped
 * between writable and executable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../kernel/kerr.h"
#include "../vm_sim/vmsim.h"
#include "hart.h"

/* Where RAM starts in the physical address space, as on QEMU's virt board. */
#define HOSTED_PHYS_BASE 0x80000000ull

static int ram_fd = -1;
static uint8_t *ram_map;
static struct hal_mem_region ram_region;

int hosted_mem_init(uint64_t size)
{
	int err;

	ram_fd = memfd_create("k23-ram", MFD_CLOEXEC);
	if (ram_fd < 0 || ftruncate(ram_fd, (off_t)size) < 0) {
		fprintf(stderr, "k23sim: cannot create %llu MiB of RAM: %s\n",
			(unsigned long long)(size >> 20), strerror(errno));
		goto fail;
	}
	ram_map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       ram_fd, 0);
	if (ram_map == MAP_FAILED) {
		fprintf(stderr, "k23sim: cannot map RAM: %s\n", strerror(errno));
		ram_map = NULL;
		goto fail;
	}
	ram_region.base = HOSTED_PHYS_BASE;
	ram_region.size = size;
	ram_region.zeroed = true;	/* a new memfd reads as zeros */
	if ((err = vmsim_init(ram_fd, HOSTED_PHYS_BASE, size, ram_map)) < 0) {
		fprintf(stderr, "k23sim: vm_sim: %s\n", kerr_str(err));
		goto fail;
	}
	return 0;
fail:
	hosted_mem_fini();
	return -K_ENOMEM;
}

void hosted_mem_fini(void)
{
	vmsim_fini();
	if (ram_map)
		munmap(ram_map, ram_region.size);
	if (ram_fd >= 0)
		close(ram_fd);
	ram_map = NULL;
	ram_fd = -1;
	ram_region.size = 0;
}

size_t hal_mem_regions(const struct hal_mem_region **regions)
{
	*regions = &ram_region;
	return ram_region.size ? 1 : 0;
}

void *hal_phys_to_virt(paddr_t pa)
{
	return ram_map + (pa - ram_region.base);
}

paddr_t hal_virt_to_phys(const void *va)
{
	return ram_region.base + (paddr_t)((const uint8_t *)va - ram_map);
}

/* -- MMU: vm_sim ---------------------------------------------------------- */

int hal_mmu_attach(uint16_t asid, paddr_t root, unsigned mode, uintptr_t *window)
{
	return vmsim_attach(asid, root, mode, window);
}

void hal_mmu_detach(uint16_t asid)
{
	vmsim_detach(asid);
}

vaddr_t hal_mmu_window_limit(unsigned mode)
{
	(void)mode;
	return vmsim_window_size();
}

/* Every window is present in the host at all times, so activation is only
 * bookkeeping for the kernel; translation never depends on it here. */
void hal_mmu_activate(uint16_t asid)
{
	(void)asid;
}

void hal_mmu_flush(uint16_t asid, vaddr_t va, uint64_t len)
{
	vmsim_flush(asid, va, len);
}

/* -- Code memory ---------------------------------------------------------- */

void *hal_code_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (len >= (2u << 20))
		madvise(p, len, MADV_HUGEPAGE);
	return p;
}

int hal_code_seal(void *code, size_t len)
{
	if (mprotect(code, len, PROT_READ | PROT_EXEC) < 0)
		return -K_EINVAL;
	__builtin___clear_cache((char *)code, (char *)code + len);
	return 0;
}

int hal_code_unseal(void *code, size_t len)
{
	return mprotect(code, len, PROT_READ | PROT_WRITE) < 0 ? -K_EINVAL : 0;
}

void hal_code_free(void *code, size_t len)
{
	munmap(code, len);
}

/*
 * perf's map of code without an ELF image: one line "START SIZE NAME" per
 * function in /tmp/perf-PID.map, which perf reads when it reports (so the
 * file stays after exit).  Lines are written whole with O_APPEND, so harts
 * naming code at once do not mix them.
 */
static int perf_map_fd = -1;

int hosted_perf_map_open(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	perf_map_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (perf_map_fd < 0) {
		fprintf(stderr, "k23sim: cannot write %s: %s\n", path, strerror(errno));
		return -K_EIO;
	}
	return 0;
}

void hosted_perf_map_close(void)
{
	if (perf_map_fd >= 0)
		close(perf_map_fd);
	perf_map_fd = -1;
}

bool hal_code_symbols_wanted(void)
{
	return perf_map_fd >= 0;
}

void hal_code_symbol(const void *code, size_t len, const char *name)
{
	char line[256];
	int n;

	if (perf_map_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%lx %zx %s\n", (unsigned long)(uintptr_t)code, len, name);
	if (n >= (int)sizeof(line)) {	/* a long name: cut, keep the line */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(perf_map_fd, line, (size_t)n) != n)
		hosted_perf_map_close();	/* full disk: stop naming */
}
