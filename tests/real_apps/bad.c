/* bad.c - a C file clang must reject (tests/real_apps.sh): an undeclared
 * identifier on line 7. */
#include <stdio.h>

int main(void)
{
	printf("%d\n", undeclared_count + 1);
	return 0;
}
