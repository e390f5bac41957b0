/*
 * uctx.h - the architecture-specific part of a signal context: where pc,
 * sp, frame pointer and the two argument registers live, and what kind of
 * access faulted.  Implemented by hosted/uctx_$(ARCH).c.
 */
#ifndef K23_HOSTED_UCTX_H
#define K23_HOSTED_UCTX_H

#include <ucontext.h>
#include "../kernel/hal.h"

enum hosted_uctx_access { UCTX_READ, UCTX_WRITE, UCTX_EXEC };

enum hosted_uctx_access hosted_uctx_access(const ucontext_t *uc);
void hosted_uctx_to_frame(const ucontext_t *uc, struct trap_frame *tf);
void hosted_uctx_from_frame(ucontext_t *uc, const struct trap_frame *tf);

#endif /* K23_HOSTED_UCTX_H */
