#include "unitid.h"

#include <stddef.h>

bool edu_unit_id_valid(const char *id)
{
	if (id == NULL)
		return false;
	size_t n = 0;
	for (; id[n]; n++) {
		char c = id[n];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (n >= EDU_UNIT_ID_MAX)
			return false;
	}
	return n >= EDU_UNIT_ID_MIN;
}
