/*
 * vfs.h - paths and waits over the platform's file device (kernel/hal.h).
 *
 * An app reaches files only below the directories it was granted (its
 * preopens).  The platform never resolves a path: it opens, stats and
 * links single names relative to a directory handle and never follows a
 * symlink.  This file walks a path one component at a time from such a
 * root, expanding symlinks itself, so that no spelling of a path (`..`,
 * an absolute path, a symlink the app made, a directory swapped for a
 * symlink while the walk runs) leads outside the root.
 */
#ifndef K23_VFS_H
#define K23_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hal.h"

#define VFS_PATH_MAX	4096	/* bytes of a path, also after symlink expansion */
#define VFS_NAME_MAX	255	/* bytes of one component */
#define VFS_DEPTH_MAX	128	/* directories below the root a walk may hold */
#define VFS_LINKS_MAX	40	/* symlinks expanded in one walk */

/*
 * Where a path leads: the directory holding its last component and that
 * component's name.  name is "." when the path names a directory itself
 * ("." or "a/.." or the root); dir is then that directory.
 */
struct vfs_path {
	hal_fd_t dir;		/* the root itself, or a handle the walk opened */
	bool own_dir;		/* dir must be closed (vfs_path_done) */
	bool slash;		/* the path ended in '/': it must name a directory */
	char name[VFS_NAME_MAX + 1];
};

/* vfs_resolve flags */
#define VFS_FOLLOW	1u	/* expand a symlink in the last component too */

/*
 * Walk path[0..len) from the directory root.  0 and *out (release with
 * vfs_path_done), or: -K_EPERM for an absolute path or a `..` or
 * symlink that leaves the root (the errno other WASI runtimes give); -K_ENOENT, -K_ENOTDIR for a missing or
 * non-directory intermediate component; -K_ELOOP past VFS_LINKS_MAX
 * symlinks; -K_ENAMETOOLONG; -K_EILSEQ for a NUL byte in the path;
 * -K_ENOENT for an empty path.  A path ending in '/' expands a symlink in
 * its last component whatever the flags, as POSIX says.
 */
int vfs_resolve(hal_fd_t root, const char *path, size_t len, unsigned flags,
		struct vfs_path *out);
void vfs_path_done(struct vfs_path *p);

/*
 * Block the calling task (not its hart) until one of fds is ready for
 * what it asks (hal_fd_poll) or the monotonic deadline (UINT64_MAX:
 * none) passes.  Returns how many are ready, 0 at the deadline.
 */
int vfs_wait(struct hal_pollfd *fds, size_t n, uint64_t deadline_ns);

#endif /* K23_VFS_H */
