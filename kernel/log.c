/* log.c - console output, levelled logging and panic. */
#include "hal.h"
#include "kerr.h"
#include "klib.h"
#include "log.h"

static const char *const subsys_names[LOG_NSUBSYS] = {
#define LOG_NAME(name) #name,
	LOG_SUBSYSTEMS(LOG_NAME)
#undef LOG_NAME
};
static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

/* Written at boot before other harts run; read without locks after. */
static unsigned char log_levels[LOG_NSUBSYS] = {
#define LOG_DEFAULT(name) LOG_WARN,
	LOG_SUBSYSTEMS(LOG_DEFAULT)
#undef LOG_DEFAULT
};

static int parse_level(const char *s, size_t n)
{
	for (unsigned i = 0; i < ARRAY_SIZE(level_names); i++)
		if (kstrlen(level_names[i]) == n && !kstrncmp(s, level_names[i], n))
			return (int)i;
	return -1;
}

/* "info", "mm=debug", "warn,mm=trace,sched=info": all or nothing. */
int log_set_filter(const char *filter)
{
	unsigned char levels[LOG_NSUBSYS];
	const char *p = filter;

	kmemcpy(levels, log_levels, sizeof(levels));
	while (*p) {
		const char *end = p, *eq = NULL;
		int lvl;

		while (*end && *end != ',') {
			if (*end == '=')
				eq = end;
			end++;
		}
		if (!eq) {
			if ((lvl = parse_level(p, (size_t)(end - p))) < 0)
				return -K_EINVAL;
			kmemset(levels, lvl, sizeof(levels));
		} else {
			unsigned sub;

			if ((lvl = parse_level(eq + 1, (size_t)(end - eq - 1))) < 0)
				return -K_EINVAL;
			for (sub = 0; sub < LOG_NSUBSYS; sub++)
				if (kstrlen(subsys_names[sub]) == (size_t)(eq - p) &&
				    !kstrncmp(p, subsys_names[sub], (size_t)(eq - p)))
					break;
			if (sub == LOG_NSUBSYS)
				return -K_EINVAL;
			levels[sub] = (unsigned char)lvl;
		}
		p = *end ? end + 1 : end;
	}
	kmemcpy(log_levels, levels, sizeof(levels));
	return 0;
}

int log_enabled(enum log_subsys sub, enum log_level lvl)
{
	return lvl <= log_levels[sub];
}

/* One console write per message, so lines from different harts don't mix. */
static void vemit(const char *prefix, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n = (size_t)ksnprintf(buf, sizeof(buf), "%s", prefix);

	if (n < sizeof(buf))
		n += (size_t)kvsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (n >= sizeof(buf) - 1) {
		n = sizeof(buf) - 2;
		buf[n - 3] = buf[n - 2] = buf[n - 1] = '.';
	}
	if (n == 0 || buf[n - 1] != '\n')
		buf[n++] = '\n';
	hal_console_write(buf, n);
}

void log_printf(enum log_subsys sub, enum log_level lvl, const char *fmt, ...)
{
	char prefix[48];
	va_list ap;

	ksnprintf(prefix, sizeof(prefix), "[%s] %s: hart %u: ", level_names[lvl],
		  subsys_names[sub], hal_hart_id());
	va_start(ap, fmt);
	vemit(prefix, fmt, ap);
	va_end(ap);
}

void kprintf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	hal_console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

_Noreturn void k23_panic(const char *fmt, ...)
{
	char prefix[48];
	va_list ap;

	hal_irq_save();
	ksnprintf(prefix, sizeof(prefix), "panic: hart %u: ", hal_hart_id());
	va_start(ap, fmt);
	vemit(prefix, fmt, ap);
	va_end(ap);
	hal_backtrace();
	hal_shutdown(125);
}
