/* edunetctl: the operator CLI (SPEC §3). A thin main over node/ctl. */
#include <stdio.h>
#include <string.h>
#include "ctl.h"
#include "pki/pki.h"

#ifndef EDU_VERSION
#define EDU_VERSION "0.0.0"
#endif

int main(int argc, char **argv)
{
	ctl_args a;
	ctl c;
	char why[256];
	/* `ca` works on local files (the province CA), not on a node: hand the
	 * rest of the line to the PKI module, passing a global --json along. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "ca") == 0) {
			char *sub[64];
			int n = 0;
			for (int j = i + 1; j < argc && n < 62; j++)
				sub[n++] = argv[j];
			for (int j = 1; j < i; j++)
				if (strcmp(argv[j], "--json") == 0)
					sub[n++] = argv[j];
			sub[n] = NULL;
			return edu_pki_cli(n, sub);
		}
		if (argv[i][0] != '-')
			break;
		if (strcmp(argv[i], "--node") == 0 || strcmp(argv[i], "--token-file") == 0)
			i++; /* skip the option's value */
	}
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
