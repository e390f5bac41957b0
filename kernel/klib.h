/*
 * klib.h - the freestanding basics every kernel file uses: memory and
 * string helpers, alignment, assertions.  No libc: the compiler's builtins
 * (which become calls to memcpy/memset provided by the platform).
 */
#ifndef K23_KLIB_H
#define K23_KLIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define kmemcpy(d, s, n)	__builtin_memcpy((d), (s), (n))
#define kmemmove(d, s, n)	__builtin_memmove((d), (s), (n))
#define kmemset(d, c, n)	__builtin_memset((d), (c), (n))
#define kmemcmp(a, b, n)	__builtin_memcmp((a), (b), (n))

size_t kstrlen(const char *s);
int kstrcmp(const char *a, const char *b);
int kstrncmp(const char *a, const char *b, size_t n);

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)		(((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b)		((a) < (b) ? (a) : (b))
#define MAX(a, b)		((a) > (b) ? (a) : (b))
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

/* Spin-wait hint: lets the sibling hyperthread (or the host) run. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("nop" ::: "memory");	/* pause is Zihintpause, not rv64gc */
#endif
}

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* Format into buf (always NUL terminated); returns the untruncated length.
 * Supports %d %i %u %x %X %p %s %c %% with l/ll/z, width, *, 0, - and #. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The one function every panic passes through: break on it in a debugger
 * (`break k23_panic`).  Prints the message, the hart and a backtrace, then
 * stops the machine.
 */
_Noreturn void k23_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noinline, cold));

/* KASSERT(cond, fmt, ...): panic naming file, line, function and cond. */
#define KASSERT(cond, fmt, ...) do {					\
	if (unlikely(!(cond)))						\
		k23_panic("%s:%d: %s: assertion '%s' failed: " fmt,	\
		    __FILE__, __LINE__, __func__, #cond, ##__VA_ARGS__);	\
} while (0)

#endif /* K23_KLIB_H */
