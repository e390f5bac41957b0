/* klib.c - freestanding string helpers and error names. */
#include "klib.h"
#include "kerr.h"

size_t kstrlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int kstrcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int kstrncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}

static const char *const kerr_names[K_NERR] = {
	[K_OK] = "success",
#define K23_ERR(name, wasi, msg) [K_##name] = msg,
#include "errors.def"
#undef K23_ERR
};

const char *kerr_str(int err)
{
	if (err < 0)
		err = -err;
	if (err >= K_NERR)
		return "unknown error";
	return kerr_names[err];
}
