/*
 * internal.h - what the files of wasi/ share: the app's state, the
 * descriptor table, checked access to linear memory, and the numbers
 * of the preview1 ABI (errno values, rights, flags, struct layouts).
 */
#ifndef K23_WASI_INTERNAL_H
#define K23_WASI_INTERNAL_H

#include "wasi.h"
#include "kernel/kerr.h"
#include "kernel/klib.h"
#include "kernel/vfs.h"

/* -- The preview1 ABI ------------------------------------------------------ */

#define WASI_ERRNOS(X)							\
	X(SUCCESS) X(2BIG) X(ACCES) X(ADDRINUSE) X(ADDRNOTAVAIL)		\
	X(AFNOSUPPORT) X(AGAIN) X(ALREADY) X(BADF) X(BADMSG) X(BUSY)	\
	X(CANCELED) X(CHILD) X(CONNABORTED) X(CONNREFUSED) X(CONNRESET)	\
	X(DEADLK) X(DESTADDRREQ) X(DOM) X(DQUOT) X(EXIST) X(FAULT)	\
	X(FBIG) X(HOSTUNREACH) X(IDRM) X(ILSEQ) X(INPROGRESS) X(INTR)	\
	X(INVAL) X(IO) X(ISCONN) X(ISDIR) X(LOOP) X(MFILE) X(MLINK)	\
	X(MSGSIZE) X(MULTIHOP) X(NAMETOOLONG) X(NETDOWN) X(NETRESET)	\
	X(NETUNREACH) X(NFILE) X(NOBUFS) X(NODEV) X(NOENT) X(NOEXEC)	\
	X(NOLCK) X(NOLINK) X(NOMEM) X(NOMSG) X(NOPROTOOPT) X(NOSPC)	\
	X(NOSYS) X(NOTCONN) X(NOTDIR) X(NOTEMPTY) X(NOTRECOVERABLE)	\
	X(NOTSOCK) X(NOTSUP) X(NOTTY) X(NXIO) X(OVERFLOW) X(OWNERDEAD)	\
	X(PERM) X(PIPE) X(PROTO) X(PROTONOSUPPORT) X(PROTOTYPE) X(RANGE)	\
	X(ROFS) X(SPIPE) X(SRCH) X(STALE) X(TIMEDOUT) X(TXTBSY) X(XDEV)	\
	X(NOTCAPABLE)

enum wasi_errno {
#define X(name) WASI_E##name,
	WASI_ERRNOS(X)
#undef X
	WASI_NERRNO
};

/* A kernel error (0 or -K_*) as a WASI errno. */
unsigned wasi_errno(int kerr);

/* Rights: bit numbers of the ABI. */
#define R(n)			(1ull << (n))
#define RIGHT_FD_DATASYNC	R(0)
#define RIGHT_FD_READ		R(1)
#define RIGHT_FD_SEEK		R(2)
#define RIGHT_FD_FDSTAT_SET_FLAGS R(3)
#define RIGHT_FD_SYNC		R(4)
#define RIGHT_FD_TELL		R(5)
#define RIGHT_FD_WRITE		R(6)
#define RIGHT_FD_ADVISE		R(7)
#define RIGHT_FD_ALLOCATE	R(8)
#define RIGHT_PATH_CREATE_DIRECTORY R(9)
#define RIGHT_PATH_CREATE_FILE	R(10)
#define RIGHT_PATH_LINK_SOURCE	R(11)
#define RIGHT_PATH_LINK_TARGET	R(12)
#define RIGHT_PATH_OPEN		R(13)
#define RIGHT_FD_READDIR	R(14)
#define RIGHT_PATH_READLINK	R(15)
#define RIGHT_PATH_RENAME_SOURCE R(16)
#define RIGHT_PATH_RENAME_TARGET R(17)
#define RIGHT_PATH_FILESTAT_GET	R(18)
#define RIGHT_PATH_FILESTAT_SET_SIZE R(19)
#define RIGHT_PATH_FILESTAT_SET_TIMES R(20)
#define RIGHT_FD_FILESTAT_GET	R(21)
#define RIGHT_FD_FILESTAT_SET_SIZE R(22)
#define RIGHT_FD_FILESTAT_SET_TIMES R(23)
#define RIGHT_PATH_SYMLINK	R(24)
#define RIGHT_PATH_REMOVE_DIRECTORY R(25)
#define RIGHT_PATH_UNLINK_FILE	R(26)
#define RIGHT_POLL_FD_READWRITE	R(27)
#define RIGHT_SOCK_SHUTDOWN	R(28)
#define RIGHT_SOCK_ACCEPT	R(29)
#define RIGHTS_ALL		(R(30) - 1)

/* What each kind of descriptor can ever do. */
#define RIGHTS_FILE (RIGHT_FD_DATASYNC | RIGHT_FD_READ | RIGHT_FD_SEEK |	\
	RIGHT_FD_FDSTAT_SET_FLAGS | RIGHT_FD_SYNC | RIGHT_FD_TELL |		\
	RIGHT_FD_WRITE | RIGHT_FD_ADVISE | RIGHT_FD_ALLOCATE |			\
	RIGHT_FD_FILESTAT_GET | RIGHT_FD_FILESTAT_SET_SIZE |			\
	RIGHT_FD_FILESTAT_SET_TIMES | RIGHT_POLL_FD_READWRITE)
#define RIGHTS_DIR (RIGHT_FD_DATASYNC | RIGHT_FD_FDSTAT_SET_FLAGS |		\
	RIGHT_FD_SYNC | RIGHT_PATH_CREATE_DIRECTORY | RIGHT_PATH_CREATE_FILE |	\
	RIGHT_PATH_LINK_SOURCE | RIGHT_PATH_LINK_TARGET | RIGHT_PATH_OPEN |	\
	RIGHT_FD_READDIR | RIGHT_PATH_READLINK | RIGHT_PATH_RENAME_SOURCE |	\
	RIGHT_PATH_RENAME_TARGET | RIGHT_PATH_FILESTAT_GET |			\
	RIGHT_PATH_FILESTAT_SET_SIZE | RIGHT_PATH_FILESTAT_SET_TIMES |		\
	RIGHT_FD_FILESTAT_GET | RIGHT_FD_FILESTAT_SET_TIMES |			\
	RIGHT_PATH_SYMLINK | RIGHT_PATH_REMOVE_DIRECTORY |			\
	RIGHT_PATH_UNLINK_FILE | RIGHT_POLL_FD_READWRITE)
#define RIGHTS_STREAM (RIGHT_FD_READ | RIGHT_FD_WRITE |			\
	RIGHT_FD_FDSTAT_SET_FLAGS | RIGHT_FD_FILESTAT_GET |			\
	RIGHT_POLL_FD_READWRITE)
#define RIGHTS_SOCKET (RIGHTS_STREAM | RIGHT_SOCK_SHUTDOWN | RIGHT_SOCK_ACCEPT)

/* fdflags */
#define FDFLAG_APPEND	1u
#define FDFLAG_DSYNC	2u
#define FDFLAG_NONBLOCK	4u
#define FDFLAG_RSYNC	8u
#define FDFLAG_SYNC	16u

/* oflags, lookupflags, fstflags */
#define OFLAG_CREAT	1u
#define OFLAG_DIRECTORY	2u
#define OFLAG_EXCL	4u
#define OFLAG_TRUNC	8u
#define LOOKUP_SYMLINK_FOLLOW 1u
#define FST_ATIM	1u
#define FST_ATIM_NOW	2u
#define FST_MTIM	4u
#define FST_MTIM_NOW	8u

/* -- The app --------------------------------------------------------------- */

#define WASI_FD_MAX	1024	/* descriptors an app may hold */

struct wasi_fd {
	bool used;
	hal_fd_t fd;
	uint8_t type;		/* enum hal_ftype */
	uint16_t flags;		/* FDFLAG_NONBLOCK; the rest live in the handle */
	uint64_t base, inheriting;	/* rights */
	char *preopen;		/* a preopened directory's guest path */
};

struct wasi {
	char *args, *env;	/* NUL-terminated strings back to back */
	uint32_t argc, envc, args_len, env_len;
	hal_fd_t trace_fd;
	uint32_t nfds;		/* fds[0..nfds) exist */
	struct wasi_fd *fds;
};

/* One call: the app, and its memory as it is during the call. */
struct wasi_call {
	struct wasi *w;
	struct jit_instance *caller;
	uint8_t *mem;
	uint64_t size;
};

/* Checked access to the app's memory: NULL when [off, off+len) is not
 * inside it. */
static inline void *wasi_ptr(const struct wasi_call *c, uint64_t off, uint64_t len)
{
	if (!c->mem || off > c->size || len > c->size - off)
		return NULL;
	return c->mem + off;
}

/*
 * Fault in [p, p+len) of the app's memory before the platform reads or
 * (write) fills it: the memory's pages are mapped on first touch, and a
 * host system call meeting a page not mapped yet fails with EFAULT
 * instead of faulting it in.  Writing back the byte read leaves the
 * contents as they were (an app's memory is not shared with other tasks).
 */
static inline void wasi_touch(void *p, uint64_t len, bool write)
{
	volatile uint8_t *b = p;

	for (uint64_t off = 0; off < len; off += HAL_PAGE_SIZE - ((uintptr_t)(b + off) & (HAL_PAGE_SIZE - 1))) {
		uint8_t v = b[off];

		if (write)
			b[off] = v;
	}
	if (len) {
		uint8_t v = b[len - 1];

		if (write)
			b[len - 1] = v;
	}
}

static inline void put_u16(void *p, uint16_t v) { kmemcpy(p, &v, 2); }
static inline void put_u32(void *p, uint32_t v) { kmemcpy(p, &v, 4); }
static inline void put_u64(void *p, uint64_t v) { kmemcpy(p, &v, 8); }
static inline uint32_t get_u32(const void *p) { uint32_t v; kmemcpy(&v, p, 4); return v; }
static inline uint64_t get_u64(const void *p) { uint64_t v; kmemcpy(&v, p, 8); return v; }

/* Store a u32/u64 result at off: 0 or WASI_EFAULT. */
unsigned wasi_put_u32(const struct wasi_call *c, uint32_t off, uint32_t v);
unsigned wasi_put_u64(const struct wasi_call *c, uint32_t off, uint64_t v);

/* A filestat (64 bytes) at off: 0 or WASI_EFAULT. */
unsigned wasi_put_filestat(const struct wasi_call *c, uint32_t off, const struct hal_stat *st);
/* fstflags and their times as hal_fd_set_times wants them: 0 or INVAL. */
unsigned wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, uint64_t *at, uint64_t *mt);

/*
 * The descriptor fd if it exists and has every right in need: NULL with
 * *err set to BADF or NOTCAPABLE otherwise.
 */
struct wasi_fd *wasi_fd_get(struct wasi *w, uint32_t fd, uint64_t need, unsigned *err);
/* A free descriptor number (lowest first), or -1 when the table is full. */
int64_t wasi_fd_alloc(struct wasi *w);
void wasi_fd_release(struct wasi_fd *f);

/* The default rights of a handle of type t. */
uint64_t wasi_rights_of(uint8_t type);

/* Each call's implementation, a[] being its parameters in order. */
#define WASI(name, n, types) unsigned wasi_##name(struct wasi_call *c, const uint64_t *a);
#include "calls.def"
#undef WASI

#endif /* K23_WASI_INTERNAL_H */
