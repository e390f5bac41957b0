/*
 * dtb_tool.c - a host tool for the device-tree tests of tests/metal/run.sh.
 *
 *   dtb_tool corrupt KIND IN OUT   write IN with one structural lie:
 *       truncate    size_dt_struct ends inside the last node
 *       badlen      the last property claims 2 GiB of value
 *       unbalanced  the root node's FDT_END_NODE becomes FDT_NOP
 *   dtb_tool fuzz IN N             parse IN, the three corruptions and N
 *       random mutations of it with the metal reader (metal/riscv64/fdt.c,
 *       built here with ASan and UBSan): IN and nothing else must parse,
 *       no mutation may crash it, and a failed parse must say why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../metal/riscv64/fdt.h"

#define MAX_BLOB (2u << 20)

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Offsets of the last FDT_PROP and the last FDT_END_NODE in the structure block. */
static int scan(const uint8_t *b, size_t len, uint32_t *last_prop, uint32_t *last_end,
		uint32_t *last_node)
{
	uint32_t off = get32(b + 8), end = off + get32(b + 36);

	if (len < 40 || end > len)
		return -1;
	while (off + 4 <= end) {
		uint32_t tok = get32(b + off);

		switch (tok) {
		case 1:
			*last_node = off;
			off += 4;
			while (off < end && b[off])
				off++;
			off = (off + 4) & ~3u;
			break;
		case 2:
			*last_end = off;
			off += 4;
			break;
		case 3:
			*last_prop = off;
			off = (off + 12 + get32(b + off + 4) + 3) & ~3u;
			break;
		case 4:
			off += 4;
			break;
		case 9:
			return 0;
		default:
			return -1;
		}
	}
	return -1;
}

static int corrupt(const char *kind, uint8_t *b, size_t len)
{
	uint32_t prop = 0, end = 0, node = 0;

	if (scan(b, len, &prop, &end, &node) < 0 || !prop || !end || !node)
		return -1;
	if (!strcmp(kind, "truncate"))
		put32(b + 36, node + 8 - get32(b + 8));	/* cut inside the last node's name */
	else if (!strcmp(kind, "badlen"))
		put32(b + prop + 4, 0x80000000u);
	else if (!strcmp(kind, "unbalanced"))
		put32(b + end, 4);
	else
		return -1;
	return 0;
}

static size_t load(const char *path, uint8_t *b)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		exit(2);
	}
	n = fread(b, 1, MAX_BLOB, f);
	fclose(f);
	return n;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	static uint8_t orig[MAX_BLOB], b[MAX_BLOB];
	static struct fdt_info info;
	static const char *const kinds[] = { "truncate", "badlen", "unbalanced" };
	unsigned passed = 0, failed = 0;
	size_t len;

	if (argc == 5 && !strcmp(argv[1], "corrupt")) {
		FILE *f;

		len = load(argv[3], b);
		if (corrupt(argv[2], b, len) < 0) {
			fprintf(stderr, "dtb_tool: cannot apply '%s' to %s\n", argv[2], argv[3]);
			return 2;
		}
		if (!(f = fopen(argv[4], "wb")) || fwrite(b, 1, len, f) != len || fclose(f)) {
			perror(argv[4]);
			return 2;
		}
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "fuzz")) {
		fprintf(stderr, "usage: dtb_tool corrupt KIND IN OUT | dtb_tool fuzz IN N\n");
		return 2;
	}
	len = load(argv[2], orig);
	if (fdt_parse(orig, len, &info) == 0 && info.nharts && info.nram && info.uart_base) {
		passed++;
	} else {
		printf("fuzz: %s does not parse: %s at %#x\n", argv[2], info.error, info.error_offset);
		failed++;
	}
	for (unsigned k = 0; k < 3; k++) {
		memcpy(b, orig, len);
		if (corrupt(kinds[k], b, len) == 0 && fdt_parse(b, len, &info) < 0 && info.error) {
			passed++;
		} else {
			printf("fuzz: the '%s' corruption parsed\n", kinds[k]);
			failed++;
		}
	}
	for (long i = 0, n = atol(argv[3]); i < n; i++) {
		size_t blen = len;
		unsigned edits = 1 + (unsigned)(rnd() % 4);
		int r;

		memcpy(b, orig, len);
		for (unsigned e = 0; e < edits; e++) {
			size_t at = rnd() % len;

			switch (rnd() % 4) {
			case 0:	/* a header field or an early token: small lies */
				at = rnd() % 64 & ~3u;
				put32(b + at, get32(b + at) + (uint32_t)(rnd() % 9) - 4);
				break;
			case 1:	/* an aligned word anywhere: a boundary value */
				at &= ~(size_t)3;
				if (at + 4 <= len)
					put32(b + at, (uint32_t[]){ 0, 1, 2, 3, 4, 9, 0x7fffffff,
								   0xffffffff, 0xfffffffc }[rnd() % 9]);
				break;
			case 2:
				b[at] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			default:	/* the blob handed over is shorter than it says */
				blen = rnd() % len;
				break;
			}
		}
		r = fdt_parse(b, blen, &info);
		if ((r == 0 && !info.error) || (r < 0 && info.error)) {
			passed++;
		} else {
			printf("fuzz: mutation %ld: returned %d, error %s\n", i, r,
			       info.error ? info.error : "(none)");
			failed++;
		}
	}
	printf("fuzz: %u passed, %u failed\n", passed, failed);
	return failed != 0;
}
