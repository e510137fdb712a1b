/* edunetctl: the operator CLI (SPEC §3). A thin main over node/ctl. */
#include <stdio.h>
#include "ctl.h"

#ifndef EDU_VERSION
#define EDU_VERSION "0.0.0"
#endif

int main(int argc, char **argv)
{
	ctl_args a;
	ctl c;
	char why[256];
	int rv = ctl_parse(&a, argc, argv, why, sizeof why);
	if (rv != CTL_EXIT_OK) {
		fprintf(stderr, "edunetctl: %s\n", why);
		ctl_usage(stderr, a.cmd);
		return rv;
	}
	if (a.version) {
		printf("edunetctl %s\n", EDU_VERSION);
		return CTL_EXIT_OK;
	}
	if (a.help) {
		ctl_usage(stdout, a.cmd);
		return CTL_EXIT_OK;
	}
	if ((rv = ctl_init(&c, &a, stdout, stderr)) == CTL_EXIT_OK)
		rv = a.cmd->run(&c, &a);
	ctl_fini(&c);
	if (fflush(stdout) != 0 && rv == CTL_EXIT_OK)
		rv = CTL_EXIT_FAIL;
	return rv;
}
