/*
 * platform.c - boot, harts, interrupts, timer, shutdown and clocks of the
 * riscv64 platform (kernel/hal.h) on QEMU's virt machine under OpenSBI.
 */
#include <stdatomic.h>
#include "../../kernel/frame.h"
#include "../../kernel/kerr.h"
#include "../../kernel/klib.h"
#include "metal.h"
#include "riscv.h"

struct metal_hart metal_harts[HAL_MAX_HARTS];
unsigned metal_nharts;
struct fdt_info metal_fdt;

/* The boot stacks entry.S switches to (hart 0's, then one per other hart). */
uint8_t metal_boot_stack[METAL_BOOT_STACK] __attribute__((aligned(16)));
uintptr_t metal_stack_tops[HAL_MAX_HARTS];
static uint8_t trap_stack0[METAL_TRAP_STACK] __attribute__((aligned(METAL_TRAP_STACK)));
extern uint64_t metal_release[HAL_MAX_HARTS];	/* entry.S */

/* ns <-> timebase ticks: x * mult >> 32 (timebases below 4 GHz). */
static uint64_t time_base, ns_mult, tick_mult;
static bool have_hsm, have_srst;

/* -- Harts ------------------------------------------------------------------ */

unsigned hal_hart_count(void) { return metal_nharts; }
unsigned hal_hart_id(void) { return metal_self()->id; }
void *hal_hart_local(void) { return metal_self()->local; }
void hal_hart_set_local(void *p) { metal_self()->local = p; }

int hal_hart_start(unsigned id, uintptr_t opaque)
{
	struct metal_hart *h = &metal_harts[id];
	unsigned expect = 0;
	struct sbiret r;
	paddr_t stack, trap_stack;

	(void)opaque;	/* kernel_hart_entry() gets 0, as hosted */
	if (id == 0 || id >= metal_nharts ||
	    !atomic_compare_exchange_strong(&h->started, &expect, 1))
		return -K_EINVAL;
	if (frame_alloc(METAL_HART_STACK_ORDER, &stack) < 0) {
		atomic_store(&h->started, 0);
		return -K_ENOMEM;
	}
	if (frame_alloc(METAL_TRAP_STACK_ORDER, &trap_stack) < 0) {
		frame_free(stack, METAL_HART_STACK_ORDER);
		atomic_store(&h->started, 0);
		return -K_ENOMEM;
	}
	/* Blocks are aligned to their size, as entry.S needs. */
	h->trap_top = (uintptr_t)hal_phys_to_virt(trap_stack) + METAL_TRAP_STACK;
	/* Published by the release store or the SBI call below. */
	metal_stack_tops[id] = (uintptr_t)hal_phys_to_virt(stack) +
			       (FRAME_SIZE << METAL_HART_STACK_ORDER);
	/*
	 * Release the hart both ways: it may arrive at the boot entry rather
	 * than the secondary one, or already wait there after losing the boot
	 * lottery (entry.S), where metal_release lets it go on; the release
	 * comes first so that it is there whenever the hart arrives.  A hart
	 * already waiting may be one the SBI counts as started
	 * (SBI_ERR_ALREADY_AVAILABLE).
	 */
	if (h->hartid < HAL_MAX_HARTS)
		__atomic_store_n(&metal_release[h->hartid], id + 1, __ATOMIC_RELEASE);
	if (!have_hsm)
		return h->hartid < HAL_MAX_HARTS ? 0 : -K_EINVAL;
	r = sbi_call(SBI_EXT_HSM, SBI_HSM_HART_START, h->hartid,
		     (uintptr_t)metal_secondary_entry - METAL_KOFF, id, 0, 0);
	return r.error == 0 || r.error == SBI_ERR_ALREADY_AVAILABLE ? 0 : -K_EINVAL;
}

void hal_ipi_send(unsigned id)
{
	uint64_t hartid = metal_harts[id].hartid;

	/* hart_mask relative to hart_mask_base: one bit. */
	sbi_call(SBI_EXT_IPI, 0, 1, hartid, 0, 0, 0);
}

/*
 * wfi wakes on a pending enabled interrupt even with sstatus.SIE clear
 * (privileged spec, "Wait for Interrupt"), so the interrupt cannot be
 * missed between the caller's check and the wfi; opening SIE for a moment
 * afterwards takes it through kernel_trap().
 */
void hal_idle(void)
{
	wfi();
	csr_set(sstatus, SSTATUS_SIE);
	csr_clear(sstatus, SSTATUS_SIE);
}

/* -- Interrupts ------------------------------------------------------------- */

hal_irqstate_t hal_irq_save(void)
{
	return csr_read_clear(sstatus, SSTATUS_SIE) & SSTATUS_SIE;
}

void hal_irq_restore(hal_irqstate_t s)
{
	if (s)
		csr_set(sstatus, SSTATUS_SIE);
}

void hal_irq_enable(void)
{
	csr_set(sstatus, SSTATUS_SIE);
}

bool hal_irq_enabled(void)
{
	return csr_read(sstatus) & SSTATUS_SIE;
}

/* SBI TIME: one comparator per hart; setting it clears the pending bit. */
void hal_timer_set(uint64_t deadline_ns)
{
	uint64_t when = UINT64_MAX;

	if (deadline_ns != HAL_TIMER_OFF) {
		uint64_t now = hal_time_mono_ns();

		when = rdtime();
		if (deadline_ns > now)
			when += (uint64_t)(((unsigned __int128)(deadline_ns - now) * tick_mult) >> 32);
	}
	sbi_call(SBI_EXT_TIME, 0, when, 0, 0, 0, 0);
}

/* -- Traps ------------------------------------------------------------------ */

void metal_trap(struct metal_regs *r);

void metal_trap(struct metal_regs *r)
{
	struct trap_frame tf = {
		.cause = r->scause,
		.tval = r->stval,
		.asid = HAL_ASID_NONE,
		.pc = r->sepc,
		.sp = r->x[2],
		.fp = r->x[8],
		.arg0 = r->x[10],
		.arg1 = r->x[11],
		.platform = r,
	};

	switch (tf.cause) {
	case TRAP_IRQ_TIMER:
		/* One-shot, as hal.h promises: the comparator goes to "never"
		 * until the kernel arms it again (which clears STIP). */
		sbi_call(SBI_EXT_TIME, 0, UINT64_MAX, 0, 0, 0, 0);
		break;
	case TRAP_IRQ_SOFT:
		csr_clear(sip, SIE_SSIE);
		break;
	case TRAP_LOAD_PAGE_FAULT:
	case TRAP_STORE_PAGE_FAULT:
	case TRAP_INSN_PAGE_FAULT:
		tf.asid = metal_fault_translate(&tf.tval);
		break;
	default:
		break;
	}
	kernel_trap(&tf);
	r->sepc = tf.pc;
	r->x[2] = tf.sp;
	r->x[10] = tf.arg0;
	r->x[11] = tf.arg1;
}

/* -- Shutdown --------------------------------------------------------------- */

/*
 * QEMU's test device ("sifive,test0") ends QEMU with an exit status:
 * 0x5555 passes (status 0), (code << 16) | 0x3333 fails with code.  SBI
 * SRST is the fallback; OpenSBI reports every shutdown to QEMU as a pass,
 * so only the test device carries a failure out.
 */
_Noreturn void hal_shutdown(int status)
{
	csr_clear(sstatus, SSTATUS_SIE);
	if (metal_fdt.test_base) {
		volatile uint32_t *test = (volatile uint32_t *)(METAL_KOFF + metal_fdt.test_base);

		*test = status == 0 ? 0x5555u : ((uint32_t)(status & 0xffff) << 16) | 0x3333u;
	}
	if (have_srst)
		sbi_call(SBI_EXT_SRST, 0, SBI_SRST_SHUTDOWN,
			 status ? SBI_SRST_FAILURE : SBI_SRST_NO_REASON, 0, 0, 0);
	for (;;)
		wfi();
}

/* -- Clocks and entropy ----------------------------------------------------- */

uint64_t hal_time_mono_ns(void)
{
	return (uint64_t)(((unsigned __int128)(rdtime() - time_base) * ns_mult) >> 32);
}

/* The wall clock at boot, less the monotonic clock then. */
static uint64_t wall_base;

/*
 * The virt machine's Goldfish RTC counts ns since the epoch; reading
 * TIME_LOW latches TIME_HIGH.  Read once at boot: afterwards wall time
 * follows the time CSR.  Without an RTC it counts from the epoch at boot.
 */
static void wall_init(void)
{
	volatile uint32_t *rtc = (volatile uint32_t *)(uintptr_t)(METAL_KOFF + metal_fdt.rtc_base);
	uint64_t lo, hi;

	if (!metal_fdt.rtc_base)
		return;
	lo = rtc[0];
	hi = rtc[1];
	wall_base = (hi << 32 | lo) - hal_time_mono_ns();
}

uint64_t hal_time_wall_ns(void)
{
	return wall_base + hal_time_mono_ns();
}

/*
 * NOT cryptographic: a splitmix64 stream seeded and re-mixed with the
 * time CSR, whose low bits vary with emulation and interrupt timing.  Good
 * for hash seeds and address jitter; keys need a real source (virtio-rng).
 */
void hal_entropy(void *buf, size_t len)
{
	static _Atomic uint64_t state;
	uint8_t *p = buf;

	while (len) {
		uint64_t z = atomic_fetch_add(&state, 0x9e3779b97f4a7c15ull ^ rdtime()) +
			     0x9e3779b97f4a7c15ull;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (unsigned i = 0; i < 8 && len; i++, len--, z >>= 8)
			*p++ = (uint8_t)z;
	}
}

uint64_t hal_cpu_features(void)
{
	return 0;	/* no riscv64 extension bits are defined for the JIT yet */
}

/* -- Boot ------------------------------------------------------------------- */

static bool sbi_has(unsigned long ext)
{
	struct sbiret r = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXT, ext, 0, 0, 0, 0);

	return !r.error && r.value;
}

/* The CSR state every hart runs the kernel with. */
static void hart_setup(unsigned id, uint64_t hartid)
{
	struct metal_hart *h = &metal_harts[id];

	h->id = id;
	h->hartid = hartid;
	if (id == 0)
		h->trap_top = (uintptr_t)trap_stack0 + sizeof(trap_stack0);
	__asm__ volatile("mv tp, %0" :: "r"(h));
	csr_write(stvec, (uintptr_t)metal_trap_vector);
	/* FP on (the kernel is built for rv64gc), S-mode may reach U pages
	 * (the kernel touches guest memory of the active space, whose leaves
	 * carry U), interrupts off until the kernel enables them. */
	csr_clear(sstatus, SSTATUS_SIE | SSTATUS_FS);
	csr_set(sstatus, SSTATUS_FS_INIT | SSTATUS_SUM);
	csr_write(sie, SIE_SSIE | SIE_STIE);
}

/* The value of "key=" in the boot arguments, copied into buf ("" if absent). */
static void bootarg(const char *args, const char *key, char *buf, size_t size)
{
	size_t klen = kstrlen(key);

	buf[0] = 0;
	for (const char *p = args; *p;) {
		while (*p == ' ')
			p++;
		if (!kstrncmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;

			for (p += klen + 1; *p && *p != ' ' && n + 1 < size; p++)
				buf[n++] = *p;
			buf[n] = 0;
			return;
		}
		while (*p && *p != ' ')
			p++;
	}
}

static unsigned paging_from(const char *args)
{
	char want[8];

	bootarg(args, "paging", want, sizeof(want));
	if (!want[0] || !kstrcmp(want, "sv39"))
		return 8;
	if (!kstrcmp(want, "sv48"))
		return 9;
	if (!kstrcmp(want, "sv57"))
		return 10;
	k23_panic("metal_start: bad paging=%s (sv39, sv48 or sv57)", want);
}

static unsigned boot_mode;
static char log_filter[64];

static _Noreturn void boot_hart0(uint64_t hartid, uint64_t fdt_pa)
{
	static struct hal_boot_info info;
	uint64_t ram_end = 0;
	unsigned best;
	int status;

	metal_nharts = 1;	/* until the device tree says more */
	have_hsm = sbi_has(SBI_EXT_HSM);
	have_srst = sbi_has(SBI_EXT_SRST);
	metal_console_init();
	/* The boot page table maps the first 4 GiB; the blob must lie there. */
	if (fdt_pa >= (4ull << 30) - 64)
		k23_panic("metal_start: device tree at %#llx is beyond the boot map",
			  (unsigned long long)fdt_pa);
	if (fdt_parse((const void *)(METAL_KOFF + fdt_pa),
		      MIN((size_t)(2u << 20), (size_t)((4ull << 30) - fdt_pa)), &metal_fdt) < 0) {
		metal_console_init();	/* a UART seen before the error */
		k23_panic("metal_start: malformed device tree at %#llx: %s at offset %#x",
			  (unsigned long long)fdt_pa, metal_fdt.error, metal_fdt.error_offset);
	}
	metal_console_init();
	if (metal_fdt.timebase_hz == 0 || metal_fdt.timebase_hz >= (4ull << 30))
		k23_panic("metal_start: timebase-frequency %llu Hz unsupported",
			  (unsigned long long)metal_fdt.timebase_hz);
	time_base = rdtime();
	ns_mult = (1000000000ull << 32) / metal_fdt.timebase_hz;
	tick_mult = (metal_fdt.timebase_hz << 32) / 1000000000ull;
	wall_init();

	/* Kernel hart 0 is the boot hart; the others follow in tree order. */
	for (unsigned i = 0; i < metal_fdt.nharts; i++) {
		if (metal_fdt.hartids[i] == hartid)
			continue;
		if (metal_nharts == HAL_MAX_HARTS)
			break;
		metal_harts[metal_nharts++].hartid = metal_fdt.hartids[i];
	}
	for (unsigned i = 0; i < metal_fdt.nram; i++)
		ram_end = MAX(ram_end, metal_fdt.ram[i].base + metal_fdt.ram[i].size);
	metal_mmu_init(ram_end);

	boot_mode = paging_from(metal_fdt.bootargs);
	best = metal_mmu_probe();
	if (boot_mode > best)
		k23_panic("metal_start: paging %s requested, the hart supports up to %s",
			  boot_mode == 9 ? "sv48" : "sv57", best == 8 ? "sv39" : "sv48");
	metal_mmu_enable(boot_mode);

	bootarg(metal_fdt.bootargs, "log", log_filter, sizeof(log_filter));
	info.paging_mode = boot_mode;
	info.log_filter = log_filter[0] ? log_filter : NULL;
	info.selfcheck = true;
	info.quiet = false;
	metal_program_setup(&info, metal_fdt.bootargs);
	status = kernel_boot(&info);
	hal_shutdown(status < 0 ? 1 : status);
}

_Noreturn void metal_start(uint64_t hartid, uint64_t fdt_pa, unsigned id)
{
	hart_setup(id, hartid);
	if (id == 0)
		boot_hart0(hartid, fdt_pa);
	metal_mmu_enable(boot_mode);
	kernel_hart_entry(id, 0);
}
