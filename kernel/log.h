/*
 * log.h - kernel logging with levels and a per-subsystem filter.
 * The filter comes from the platform at boot, e.g. K23_LOG="mm=debug,info":
 * a bare level sets the default, name=level one subsystem.
 */
#ifndef K23_LOG_H
#define K23_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

/* Subsystems, each with its own level. */
#define LOG_SUBSYSTEMS(X) X(boot) X(mm) X(vm) X(trap) X(sched) X(jit) X(wasi)
enum log_subsys {
#define LOG_ENUM(name) LOG_##name,
	LOG_SUBSYSTEMS(LOG_ENUM)
#undef LOG_ENUM
	LOG_NSUBSYS
};

/* Parse a filter; returns 0, or -K_EINVAL naming nothing (the caller reports). */
int log_set_filter(const char *filter);
int log_enabled(enum log_subsys sub, enum log_level lvl);
void log_printf(enum log_subsys sub, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define klog(sub, lvl, ...) do {					\
	if (log_enabled(LOG_##sub, LOG_##lvl))				\
		log_printf(LOG_##sub, LOG_##lvl, __VA_ARGS__);		\
} while (0)

/* Unfiltered console output (banner, self-check results). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* K23_LOG_H */
