/* boot.h - what the rest of the kernel may ask of boot. */
#ifndef K23_BOOT_H
#define K23_BOOT_H

/* The paging mode chosen at boot (PT_SV39/48/57). */
unsigned kernel_paging_mode(void);

/*
 * Exercise the machine end to end: frames, an address space with a lazily
 * allocated page touched through its window, an IPI to and a timer
 * interrupt on every hart.  Prints one line per check; returns 0 when all
 * passed, else the number that failed.  Hart 0, after boot.
 */
int kernel_selfcheck(void);

#endif /* K23_BOOT_H */
