#include "registry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/unitid.h"
#include "text/text.h"

struct edu_registry {
	edu_reg_unit *units;
	size_t n, cap;
	int *slots;        /* hash index: unit index + 1, 0 = empty */
	size_t nslots;     /* power of two */
	int root;
};

static const char *const type_names[EDU_UT_COUNT] = {"so", "phong", "xa", "thpt", "gdtx", "thcs", "th", "mn"};

const char *edu_unit_type_name(edu_unit_type t)
{
	return (unsigned)t < EDU_UT_COUNT ? type_names[t] : "";
}

int edu_unit_type_parse(const char *s)
{
	int i;
	for (i = 0; i < EDU_UT_COUNT; i++)
		if (strcmp(s, type_names[i]) == 0)
			return i;
	return -1;
}

bool edu_unit_type_aggregates(edu_unit_type t)
{
	return t == EDU_UT_SO || t == EDU_UT_PHONG || t == EDU_UT_XA;
}

/* Quoted CSV fields are cut by bytes ("%.60s"): keep the reason valid UTF-8. */
#define why_set(why, whylen, ...)                                              \
	do {                                                                   \
		edu_whyf((why), (whylen), __VA_ARGS__);                        \
		if ((why) && (whylen))                                         \
			edu_text_scrub(why);                                   \
	} while (0)

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

int edu_registry_find(const edu_registry *r, const char *id)
{
	size_t mask, i;
	if (!r || !id || !r->nslots)
		return -1;
	mask = r->nslots - 1;
	for (i = hash_str(id) & mask;; i = (i + 1) & mask) {
		int v = r->slots[i];
		if (v == 0)
			return -1;
		if (strcmp(r->units[v - 1].id, id) == 0)
			return v - 1;
	}
}

/* Inserts index idx; returns the existing index on a duplicate, else -1. */
static int index_insert(edu_registry *r, int idx)
{
	size_t mask = r->nslots - 1, i;
	const char *id = r->units[idx].id;
	for (i = hash_str(id) & mask;; i = (i + 1) & mask) {
		int v = r->slots[i];
		if (v == 0) {
			r->slots[i] = idx + 1;
			return -1;
		}
		if (strcmp(r->units[v - 1].id, id) == 0)
			return v - 1;
	}
}

void edu_registry_free(edu_registry *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free((char *)r->units[i].id);
		free((char *)r->units[i].name);
	}
	free(r->units);
	free(r->slots);
	free(r);
}

/* ---- CSV ---------------------------------------------------------------- */

#define MAX_FIELDS 8

typedef struct csv {
	const char *p, *end;
	int line;
} csv;

/* Reads one record into fields (malloc'd, NUL-terminated). Returns 1 when a
 * record was read, 0 at end of input, -1 on error (why set). Fields may be
 * quoted ("a, b" and "" for a quote); a quoted field cannot span lines. */
static int csv_record(csv *c, const char *src, char **fields, int *nf, char *why, size_t whylen)
{
	*nf = 0;
	if (c->p >= c->end)
		return 0;
	for (;;) {
		char *f;
		size_t cap = 64, len = 0;
		int quoted = 0;
		if (*nf >= MAX_FIELDS) {
			why_set(why, whylen, "%s:%d: too many fields (expected id,name,type,parent)", src, c->line);
			return -1;
		}
		f = malloc(cap);
		if (!f) {
			why_set(why, whylen, "%s: out of memory", src);
			return -1;
		}
		fields[(*nf)++] = f;
		while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
			c->p++;
		if (c->p < c->end && *c->p == '"') {
			quoted = 1;
			c->p++;
		}
		for (;;) {
			char ch;
			if (c->p >= c->end) {
				if (quoted) {
					why_set(why, whylen, "%s:%d: unterminated quoted field", src, c->line);
					return -1;
				}
				break;
			}
			ch = *c->p;
			if (quoted) {
				if (ch == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						c->p += 2;
					} else {
						c->p++;
						while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
							c->p++;
						if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
							why_set(why, whylen, "%s:%d: text after a closing quote", src, c->line);
							return -1;
						}
						break;
					}
				} else if (ch == '\n' || ch == '\r') {
					why_set(why, whylen, "%s:%d: line break inside a quoted field", src, c->line);
					return -1;
				} else {
					c->p++;
				}
			} else {
				if (ch == ',' || ch == '\n' || ch == '\r')
					break;
				if (ch == '"') {
					why_set(why, whylen, "%s:%d: quote inside an unquoted field", src, c->line);
					return -1;
				}
				c->p++;
			}
			if (len + 2 > cap) {
				char *nf2;
				cap *= 2;
				if (!(nf2 = realloc(f, cap))) {
					why_set(why, whylen, "%s: out of memory", src);
					return -1;
				}
				f = nf2;
				fields[*nf - 1] = f;
			}
			f[len++] = ch;
		}
		f[len] = '\0';
		if (!quoted)
			while (len > 0 && (f[len - 1] == ' ' || f[len - 1] == '\t'))
				f[--len] = '\0';
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		/* end of line */
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n')
			c->p++;
		c->line++;
		return 1;
	}
}

static void fields_free(char **fields, int nf)
{
	int i;
	for (i = 0; i < nf; i++)
		free(fields[i]);
}

/* ---- load --------------------------------------------------------------- */

edu_err edu_registry_parse(edu_registry **out, const char *source, const char *data, size_t len,
    char *why, size_t whylen)
{
	edu_registry *r = NULL;
	char *fields[MAX_FIELDS];
	char **parents = NULL;
	int *last_child = NULL;
	int nf = 0, got, have_header = 0, rec_line;
	size_t i;
	edu_err rv = EDU_EINVAL;
	csv c;

	*out = NULL;
	if (len > EDU_REGISTRY_FILE_MAX) {
		why_set(why, whylen, "%s: %zu bytes (max %u)", source, len, EDU_REGISTRY_FILE_MAX);
		return EDU_ETOOBIG;
	}
	if (!edu_text_utf8_valid(data, len)) {
		why_set(why, whylen, "%s: not valid UTF-8", source);
		return EDU_EINVAL;
	}
	if (!(r = calloc(1, sizeof *r)))
		return EDU_ENOMEM;
	r->root = -1;
	c.p = data;
	c.end = data + len;
	c.line = 1;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		c.p += 3; /* UTF-8 BOM, as spreadsheet programs write it */

	for (;;) {
		edu_reg_unit *u;
		int t;
		rec_line = c.line;
		got = csv_record(&c, source, fields, &nf, why, whylen);
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		if (nf == 1 && fields[0][0] == '\0') { /* blank line */
			fields_free(fields, nf);
			nf = 0;
			continue;
		}
		if (!have_header) {
			if (nf != 4 || strcasecmp(fields[0], "id") || strcasecmp(fields[1], "name") ||
			    strcasecmp(fields[2], "type") || strcasecmp(fields[3], "parent")) {
				why_set(why, whylen, "%s:%d: header must be id,name,type,parent", source, rec_line);
				goto out;
			}
			have_header = 1;
			fields_free(fields, nf);
			nf = 0;
			continue;
		}
		if (nf != 4) {
			why_set(why, whylen, "%s:%d: %d fields (expected id,name,type,parent)", source, rec_line, nf);
			goto out;
		}
		if (!edu_unit_id_valid(fields[0])) {
			why_set(why, whylen, "%s:%d: bad id \"%.60s\" (2-40 of a-z 0-9 -)", source, rec_line, fields[0]);
			goto out;
		}
		if (fields[1][0] == '\0' || strlen(fields[1]) > EDU_REGISTRY_NAME_MAX || edu_text_has_ctl(fields[1], false)) {
			why_set(why, whylen, "%s:%d: unit %s: name empty, too long or with control characters", source,
			    rec_line, fields[0]);
			goto out;
		}
		if ((t = edu_unit_type_parse(fields[2])) < 0) {
			why_set(why, whylen, "%s:%d: unit %s: unknown type \"%.20s\" (so, phong, xa, thpt, gdtx, thcs, th, mn)",
			    source, rec_line, fields[0], fields[2]);
			goto out;
		}
		if (fields[3][0] && !edu_unit_id_valid(fields[3])) {
			why_set(why, whylen, "%s:%d: unit %s: bad parent id \"%.60s\"", source, rec_line, fields[0], fields[3]);
			goto out;
		}
		if (r->n >= EDU_REGISTRY_UNITS_MAX) {
			why_set(why, whylen, "%s:%d: more than %d units", source, rec_line, EDU_REGISTRY_UNITS_MAX);
			rv = EDU_ETOOBIG;
			goto out;
		}
		if (r->n == r->cap) {
			size_t nc = r->cap ? r->cap * 2 : 64;
			edu_reg_unit *nu = realloc(r->units, nc * sizeof *nu);
			char **np = realloc(parents, nc * sizeof *np);
			if (nu)
				r->units = nu;
			if (np)
				parents = np;
			if (!nu || !np) {
				rv = EDU_ENOMEM;
				goto out;
			}
			r->cap = nc;
		}
		u = &r->units[r->n];
		memset(u, 0, sizeof *u);
		u->id = fields[0];
		u->name = fields[1];
		u->type = (edu_unit_type)t;
		u->parent = u->first_child = u->next_sibling = -1;
		u->line = rec_line;
		parents[r->n] = fields[3][0] ? fields[3] : NULL;
		if (!parents[r->n])
			free(fields[3]);
		free(fields[2]);
		r->n++;
		nf = 0;
	}
	if (!have_header) {
		why_set(why, whylen, "%s: empty (header id,name,type,parent required)", source);
		goto out;
	}
	if (r->n == 0) {
		why_set(why, whylen, "%s: no units", source);
		goto out;
	}

	/* hash index; duplicates */
	for (r->nslots = 16; r->nslots < r->n * 2; r->nslots *= 2)
		;
	if (!(r->slots = calloc(r->nslots, sizeof *r->slots))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	for (i = 0; i < r->n; i++) {
		int dup = index_insert(r, (int)i);
		if (dup >= 0) {
			why_set(why, whylen, "%s:%d: duplicate id %s (first on line %d)", source, r->units[i].line,
			    r->units[i].id, r->units[dup].line);
			goto out;
		}
	}
	/* parents, in file order so children keep it */
	if (!(last_child = malloc(r->n * sizeof *last_child))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	for (i = 0; i < r->n; i++)
		last_child[i] = -1;
	for (i = 0; i < r->n; i++) {
		edu_reg_unit *u = &r->units[i];
		if (!parents[i]) {
			if (r->root >= 0) {
				why_set(why, whylen, "%s:%d: unit %s has no parent, but %s (line %d) is already the root",
				    source, u->line, u->id, r->units[r->root].id, r->units[r->root].line);
				goto out;
			}
			r->root = (int)i;
			continue;
		}
		u->parent = edu_registry_find(r, parents[i]);
		if (u->parent < 0) {
			why_set(why, whylen, "%s:%d: unit %s: unknown parent %s", source, u->line, u->id, parents[i]);
			goto out;
		}
		if (u->parent == (int)i) {
			why_set(why, whylen, "%s:%d: unit %s is its own parent", source, u->line, u->id);
			goto out;
		}
		if (last_child[u->parent] < 0)
			r->units[u->parent].first_child = (int)i;
		else
			r->units[last_child[u->parent]].next_sibling = (int)i;
		last_child[u->parent] = (int)i;
	}
	if (r->root < 0) {
		why_set(why, whylen, "%s: no root (the so unit must have an empty parent)", source);
		goto out;
	}
	/* depths; a unit that never reaches the root sits on a cycle */
	for (i = 0; i < r->n; i++) {
		int d = 0, j = (int)i;
		while (j != r->root) {
			j = r->units[j].parent;
			if (j < 0 || ++d > EDU_REGISTRY_DEPTH_MAX)
				break;
		}
		if (j != r->root) {
			why_set(why, whylen, "%s:%d: unit %s: its parent chain is a cycle or deeper than %d", source,
			    r->units[i].line, r->units[i].id, EDU_REGISTRY_DEPTH_MAX);
			goto out;
		}
		r->units[i].depth = d;
	}
	/* type rules (SPEC §1): the so is the root; phong and xa report to the
	 * so; schools report to any aggregating unit (the shape is data). */
	for (i = 0; i < r->n; i++) {
		const edu_reg_unit *u = &r->units[i];
		const edu_reg_unit *p = u->parent >= 0 ? &r->units[u->parent] : NULL;
		if (!p) {
			if (u->type != EDU_UT_SO) {
				why_set(why, whylen, "%s:%d: the root %s must have type so, not %s", source, u->line, u->id,
				    type_names[u->type]);
				goto out;
			}
			continue;
		}
		if (u->type == EDU_UT_SO) {
			why_set(why, whylen, "%s:%d: unit %s of type so must be the root (parent %s)", source, u->line,
			    u->id, p->id);
			goto out;
		}
		if ((u->type == EDU_UT_PHONG || u->type == EDU_UT_XA) && p->type != EDU_UT_SO) {
			why_set(why, whylen, "%s:%d: unit %s of type %s must report to the so, not %s (%s)", source,
			    u->line, u->id, type_names[u->type], p->id, type_names[p->type]);
			goto out;
		}
		if (!edu_unit_type_aggregates(p->type)) {
			why_set(why, whylen, "%s:%d: unit %s: parent %s is a %s, which has no children", source, u->line,
			    u->id, p->id, type_names[p->type]);
			goto out;
		}
	}
	rv = EDU_OK;
out:
	fields_free(fields, nf);
	if (parents) {
		for (i = 0; i < r->n; i++)
			free(parents[i]);
		free(parents);
	}
	free(last_child);
	if (rv != EDU_OK) {
		edu_registry_free(r);
		return rv;
	}
	*out = r;
	return EDU_OK;
}

edu_err edu_registry_load(edu_registry **out, const char *path, char *why, size_t whylen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	edu_err rv;

	*out = NULL;
	if (!(f = fopen(path, "rb"))) {
		int e = errno;
		why_set(why, whylen, "%s: %s", path, strerror(e));
		return e == ENOENT ? EDU_ENOENT : edu_err_from_errno(e);
	}
	for (;;) {
		if (len == cap) {
			char *nb;
			if (cap > EDU_REGISTRY_FILE_MAX) {
				why_set(why, whylen, "%s: larger than %u bytes", path, EDU_REGISTRY_FILE_MAX);
				rv = EDU_ETOOBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			if (!(nb = realloc(buf, cap))) {
				rv = EDU_ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				why_set(why, whylen, "%s: read error", path);
				rv = EDU_EIO;
				goto out;
			}
			break;
		}
	}
	rv = edu_registry_parse(out, path, buf ? buf : "", len, why, whylen);
out:
	free(buf);
	fclose(f);
	return rv;
}

size_t edu_registry_count(const edu_registry *r)
{
	return r ? r->n : 0;
}

const edu_reg_unit *edu_registry_unit(const edu_registry *r, int idx)
{
	if (!r || idx < 0 || (size_t)idx >= r->n)
		return NULL;
	return &r->units[idx];
}

int edu_registry_root(const edu_registry *r)
{
	return r ? r->root : -1;
}

bool edu_registry_is_under(const edu_registry *r, int idx, int anc)
{
	if (!r || idx < 0 || anc < 0 || (size_t)idx >= r->n || (size_t)anc >= r->n)
		return false;
	while (idx >= 0 && r->units[idx].depth >= r->units[anc].depth) {
		if (idx == anc)
			return true;
		idx = r->units[idx].parent;
	}
	return false;
}

edu_err edu_registry_subtree(const edu_registry *r, int idx, int **out, size_t *n)
{
	size_t cnt = 0, k = 0;
	int j, *v;
	*out = NULL;
	*n = 0;
	if (!r || idx < 0 || (size_t)idx >= r->n)
		return EDU_ENOENT;
	/* preorder walk without a stack: down to the first child, else across,
	 * else up until a sibling exists (never above idx) */
	for (j = idx; j >= 0;) {
		cnt++;
		if (r->units[j].first_child >= 0) {
			j = r->units[j].first_child;
			continue;
		}
		while (j != idx && r->units[j].next_sibling < 0)
			j = r->units[j].parent;
		j = j == idx ? -1 : r->units[j].next_sibling;
	}
	if (!(v = malloc(cnt * sizeof *v)))
		return EDU_ENOMEM;
	for (j = idx; j >= 0;) {
		v[k++] = j;
		if (r->units[j].first_child >= 0) {
			j = r->units[j].first_child;
			continue;
		}
		while (j != idx && r->units[j].next_sibling < 0)
			j = r->units[j].parent;
		j = j == idx ? -1 : r->units[j].next_sibling;
	}
	*out = v;
	*n = cnt;
	return EDU_OK;
}
