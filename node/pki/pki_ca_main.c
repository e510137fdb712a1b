/* edunet-ca: `edunet-ca init|issue|revoke|list …`, the same as `edunetctl ca …`. */
#include "pki/pki.h"

int main(int argc, char **argv)
{
	return edu_pki_cli(argc - 1, argv + 1);
}
