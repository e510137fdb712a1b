/* Unit ids (SPEC §1): lowercase ASCII [a-z0-9-], 2–40 characters. The one
 * definition every module checks against (config, registry, PKI, wire, items). */
#ifndef EDU_UNITID_H
#define EDU_UNITID_H

#include <stdbool.h>

#define EDU_UNIT_ID_MIN 2
#define EDU_UNIT_ID_MAX 40

bool edu_unit_id_valid(const char *id); /* false for NULL */

#endif
