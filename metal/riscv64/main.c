/*
 * main.c - the program of k23.elf: boot, print the banner and run the
 * self-check, as ./k23sim does with no app; the exit status (0 when every
 * check passed) reaches QEMU's exit code through the test device.
 */
#include "metal.h"

void metal_program_setup(struct hal_boot_info *info, const char *bootargs)
{
	(void)info;
	(void)bootargs;
}
