/* kerr.h - kernel error codes (from errors.def) and their names. */
#ifndef K23_KERR_H
#define K23_KERR_H

enum kerr {
	K_OK = 0,
#define K23_ERR(name, wasi, msg) K_##name,
#include "errors.def"
#undef K23_ERR
	K_NERR
};

/* "out of memory" for -K_ENOMEM or K_ENOMEM; "unknown error" otherwise. */
const char *kerr_str(int err);

#endif /* K23_KERR_H */
