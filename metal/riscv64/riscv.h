/*
 * riscv.h - the CSRs, instructions and SBI calls the metal platform uses
 * (RISC-V privileged spec, "Supervisor-Level ISA"; RISC-V SBI spec).
 * Only metal/riscv64/ includes this.
 */
#ifndef K23_METAL_RISCV_H
#define K23_METAL_RISCV_H

#include <stdint.h>

#define csr_read(csr) ({						\
	unsigned long __v;						\
	__asm__ volatile("csrr %0, " #csr : "=r"(__v) :: "memory");	\
	__v;								\
})
#define csr_write(csr, v) \
	__asm__ volatile("csrw " #csr ", %0" :: "rK"((unsigned long)(v)) : "memory")
#define csr_set(csr, bits) \
	__asm__ volatile("csrs " #csr ", %0" :: "rK"((unsigned long)(bits)) : "memory")
#define csr_clear(csr, bits) \
	__asm__ volatile("csrc " #csr ", %0" :: "rK"((unsigned long)(bits)) : "memory")
#define csr_read_clear(csr, bits) ({					\
	unsigned long __v;						\
	__asm__ volatile("csrrc %0, " #csr ", %1"			\
			 : "=r"(__v) : "rK"((unsigned long)(bits)) : "memory"); \
	__v;								\
})

/* sstatus */
#define SSTATUS_SIE	(1ul << 1)
#define SSTATUS_SPIE	(1ul << 5)
#define SSTATUS_SPP	(1ul << 8)
#define SSTATUS_FS_INIT	(1ul << 13)	/* FS = Initial: FP usable */
#define SSTATUS_FS	(3ul << 13)
#define SSTATUS_SUM	(1ul << 18)	/* S-mode may touch U pages */

/* sie / sip */
#define SIE_SSIE	(1ul << 1)
#define SIE_STIE	(1ul << 5)
#define SIE_SEIE	(1ul << 9)

/* satp: MODE 63:60, ASID 59:44, PPN 43:0 */
#define SATP_MODE_SHIFT	60
#define SATP_ASID_SHIFT	44
#define SATP_ASID_MASK	0xffffull
#define SATP_PPN_MASK	((1ull << 44) - 1)

static inline uint64_t rdtime(void)
{
	uint64_t t;

	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

static inline void sfence_vma_all(void)
{
	__asm__ volatile("sfence.vma zero, zero" ::: "memory");
}

static inline void sfence_vma_asid(unsigned long asid)
{
	__asm__ volatile("sfence.vma zero, %0" :: "r"(asid) : "memory");
}

static inline void sfence_vma_page(unsigned long va, unsigned long asid)
{
	__asm__ volatile("sfence.vma %0, %1" :: "r"(va), "r"(asid) : "memory");
}

/* Every ASID, global mappings included (rs2 = x0). */
static inline void sfence_vma_page_all(unsigned long va)
{
	__asm__ volatile("sfence.vma %0, zero" :: "r"(va) : "memory");
}

static inline void fence_i(void)
{
	__asm__ volatile("fence.i" ::: "memory");
}

static inline void wfi(void)
{
	__asm__ volatile("wfi" ::: "memory");
}

/* -- SBI ------------------------------------------------------------------ */

#define SBI_EXT_LEGACY_PUTCHAR	0x01
#define SBI_EXT_BASE		0x10
#define SBI_EXT_TIME		0x54494d45	/* "TIME" */
#define SBI_EXT_IPI		0x735049	/* "sPI" */
#define SBI_EXT_RFENCE		0x52464e43	/* "RFNC" */
#define SBI_EXT_HSM		0x48534d	/* "HSM" */
#define SBI_EXT_SRST		0x53525354	/* "SRST" */
#define SBI_EXT_DBCN		0x4442434e	/* "DBCN" */

#define SBI_BASE_PROBE_EXT	3
#define SBI_RFENCE_FENCE_I	0
#define SBI_RFENCE_SFENCE_VMA	1
#define SBI_RFENCE_SFENCE_VMA_ASID 2
#define SBI_HSM_HART_START	0
#define SBI_ERR_ALREADY_AVAILABLE (-6)
#define SBI_SRST_SHUTDOWN	0
#define SBI_SRST_NO_REASON	0
#define SBI_SRST_FAILURE	1
#define SBI_DBCN_WRITE_BYTE	2

struct sbiret {
	long error;
	long value;
};

static inline struct sbiret sbi_call(unsigned long ext, unsigned long fid,
				     unsigned long a0, unsigned long a1,
				     unsigned long a2, unsigned long a3,
				     unsigned long a4)
{
	register unsigned long r0 __asm__("a0") = a0;
	register unsigned long r1 __asm__("a1") = a1;
	register unsigned long r2 __asm__("a2") = a2;
	register unsigned long r3 __asm__("a3") = a3;
	register unsigned long r4 __asm__("a4") = a4;
	register unsigned long r6 __asm__("a6") = fid;
	register unsigned long r7 __asm__("a7") = ext;

	__asm__ volatile("ecall"
			 : "+r"(r0), "+r"(r1)
			 : "r"(r2), "r"(r3), "r"(r4), "r"(r6), "r"(r7)
			 : "memory");
	return (struct sbiret){ (long)r0, (long)r1 };
}

#endif /* K23_METAL_RISCV_H */
