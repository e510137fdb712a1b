/* The units registry (SPEC §1): a UTF-8 CSV `id,name,type,parent` loaded into
 * an immutable tree with a hash index. Internal to aggregator/ (the public
 * face is agg.h). Immutable after load, hence safe to read from any thread. */
#ifndef EDU_REGISTRY_H
#define EDU_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"

#define EDU_REGISTRY_FILE_MAX (16u * 1024 * 1024)
#define EDU_REGISTRY_UNITS_MAX 100000
#define EDU_REGISTRY_NAME_MAX 300   /* bytes of a unit name */
#define EDU_REGISTRY_DEPTH_MAX 16

typedef enum edu_unit_type {
	EDU_UT_SO = 0,
	EDU_UT_PHONG,
	EDU_UT_XA,
	EDU_UT_THPT,
	EDU_UT_GDTX,
	EDU_UT_THCS,
	EDU_UT_TH,
	EDU_UT_MN,
	EDU_UT_COUNT
} edu_unit_type;

typedef struct edu_reg_unit {
	const char *id;
	const char *name;
	edu_unit_type type;
	int parent;        /* index, -1 at the root */
	int first_child;   /* index, -1 when none; children in file order */
	int next_sibling;
	int depth;         /* root: 0 */
	int line;          /* line in the file */
} edu_reg_unit;

typedef struct edu_registry edu_registry;

/* Parses data[0..len); `source` names it in errors ("file:line: reason"). */
edu_err edu_registry_parse(edu_registry **out, const char *source, const char *data, size_t len,
    char *why, size_t whylen);
edu_err edu_registry_load(edu_registry **out, const char *path, char *why, size_t whylen);
void edu_registry_free(edu_registry *r); /* accepts NULL */

size_t edu_registry_count(const edu_registry *r);
const edu_reg_unit *edu_registry_unit(const edu_registry *r, int idx);
int edu_registry_find(const edu_registry *r, const char *id); /* -1 when absent */
int edu_registry_root(const edu_registry *r);
/* True when idx is anc or lies below it. O(depth). */
bool edu_registry_is_under(const edu_registry *r, int idx, int anc);
/* Indices of the subtree rooted at idx (idx first, then preorder). Caller frees *out. */
edu_err edu_registry_subtree(const edu_registry *r, int idx, int **out, size_t *n);

const char *edu_unit_type_name(edu_unit_type t);
int edu_unit_type_parse(const char *s); /* -1 when unknown */
bool edu_unit_type_aggregates(edu_unit_type t); /* so, phong, xa */

#endif
