/* Fuzzes the units registry CSV parser (aggregator/registry.c). Invariants
 * of a parsed registry: one root, every parent index in range and at depth
 * one less, depth within EDU_REGISTRY_DEPTH_MAX, ids valid and found by
 * edu_registry_find at their own index, children lists consistent with
 * parents, and the root's subtree covers every unit exactly once. */
#include <stdbool.h>
#include <string.h>
#include "fuzz.h"
#include "registry.h"
#include "item/item.h"
#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	edu_registry *r = NULL;
	char why[512];
	edu_err e = edu_registry_parse(&r, "units.csv", (const char *)data, size, why, sizeof why);
	if (e != EDU_OK) {
		FUZZ_CHECK(r == NULL, "failed parse left a registry");
		FUZZ_CHECK(memchr(why, '\0', sizeof why) && why[0], "failed parse without a reason");
		/* The reason reaches logs and JSON: it must be valid UTF-8 even
		 * when a quoted field was cut mid-character. */
		FUZZ_CHECK(edu_text_utf8_valid(why, strlen(why)), "reason is not valid UTF-8: %s", why);
		return 0;
	}
	size_t n = edu_registry_count(r);
	FUZZ_CHECK(n > 0 && n <= EDU_REGISTRY_UNITS_MAX, "%zu units", n);
	int root = edu_registry_root(r);
	FUZZ_CHECK(root >= 0 && (size_t)root < n, "root %d", root);
	for (size_t i = 0; i < n; i++) {
		const edu_reg_unit *u = edu_registry_unit(r, (int)i);
		FUZZ_CHECK(u && u->id && u->name, "unit %zu", i);
		FUZZ_CHECK(edu_unit_id_valid(u->id), "bad id '%s' accepted", u->id);
		FUZZ_CHECK(strlen(u->name) <= EDU_REGISTRY_NAME_MAX && edu_text_utf8_valid(u->name, strlen(u->name)),
		    "bad name of %s accepted", u->id);
		FUZZ_CHECK(u->type >= 0 && u->type < EDU_UT_COUNT, "type %d", (int)u->type);
		FUZZ_CHECK(edu_registry_find(r, u->id) == (int)i, "find(%s) != %zu", u->id, i);
		FUZZ_CHECK(u->depth >= 0 && u->depth <= EDU_REGISTRY_DEPTH_MAX, "depth %d", u->depth);
		if ((int)i == root) {
			FUZZ_CHECK(u->parent == -1 && u->depth == 0, "root with a parent");
		} else {
			FUZZ_CHECK(u->parent >= 0 && (size_t)u->parent < n, "%s: parent %d", u->id, u->parent);
			const edu_reg_unit *p = edu_registry_unit(r, u->parent);
			FUZZ_CHECK(p->depth == u->depth - 1, "%s: depth %d under %d", u->id, u->depth, p->depth);
			FUZZ_CHECK(edu_unit_type_aggregates(p->type), "%s under non-aggregating %s", u->id, p->id);
			bool listed = false;
			for (int c = p->first_child, guard = 0; c >= 0 && guard <= (int)n; c = edu_registry_unit(r, c)->next_sibling, guard++)
				if (c == (int)i)
					listed = true;
			FUZZ_CHECK(listed, "%s missing from its parent's children", u->id);
		}
		FUZZ_CHECK(edu_registry_is_under(r, (int)i, root), "%s not under the root", u->id);
	}
	int *sub = NULL;
	size_t ns = 0;
	FUZZ_CHECK(edu_registry_subtree(r, root, &sub, &ns) == EDU_OK, "subtree of the root");
	FUZZ_CHECK(ns == n && sub[0] == root, "root subtree has %zu of %zu units", ns, n);
	bool *seen = calloc(n, 1);
	for (size_t i = 0; i < ns; i++) {
		FUZZ_CHECK(sub[i] >= 0 && (size_t)sub[i] < n && !seen[sub[i]], "subtree entry %d", sub[i]);
		seen[sub[i]] = true;
	}
	free(seen);
	free(sub);
	edu_registry_free(r);
	return 0;
}
