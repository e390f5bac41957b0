#!/bin/sh
# ksyms.sh [NM ELF] - the assembly of metal_ksyms, the table of function
# addresses and names that backtrace.c searches: from ELF's symbols, or
# empty without arguments (the first link).
echo '	.section .ksyms, "a"'
echo '	.p2align 3'
echo '	.globl metal_ksyms, metal_ksyms_count'
if [ $# -eq 2 ]; then
	"$1" -n --defined-only "$2" | awk '
		$2 ~ /^[tT]$/ && $3 !~ /^\.L/ && $3 !~ /^\$/ { addr[n] = $1; name[n] = $3; n++ }
		END {
			print "metal_ksyms:"
			for (i = 0; i < n; i++) printf "\t.quad 0x%s, .Lname%d\n", addr[i], i
			print "metal_ksyms_count:"
			printf "\t.quad %d\n", n
			for (i = 0; i < n; i++) printf ".Lname%d:\t.asciz \"%s\"\n", i, name[i]
		}'
else
	echo 'metal_ksyms:'
	echo 'metal_ksyms_count:'
	echo '	.quad 0'
fi
