#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

bool edu_text_utf8_valid(const char *s, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;
	while (i < len) {
		utf8proc_int32_t cp;
		/* utf8proc_iterate rejects overlongs, surrogates and > U+10FFFF. */
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0 || cp == 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

static edu_err check_input(const char *s, size_t len)
{
	if (s == NULL && len > 0)
		return EDU_EINVAL;
	if (len > EDU_TEXT_INPUT_MAX)
		return EDU_ETOOBIG;
	if (!edu_text_utf8_valid(s, len))
		return EDU_EINVAL;
	return EDU_OK;
}

static edu_err map_utf8(const char *s, size_t len, utf8proc_option_t opt,
    utf8proc_custom_func fn, char **out)
{
	*out = NULL;
	edu_err rv = check_input(s, len);
	if (rv != EDU_OK)
		return rv;
	if (len == 0) {
		*out = strdup("");
		return *out ? EDU_OK : EDU_ENOMEM;
	}
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t n = utf8proc_map_custom((const utf8proc_uint8_t *)s,
	    (utf8proc_ssize_t)len, &dst, opt, fn, NULL);
	if (n < 0)
		return n == UTF8PROC_ERROR_NOMEM ? EDU_ENOMEM : EDU_EINVAL;
	*out = (char *)dst;
	return EDU_OK;
}

/* True when cp is kept as is by NFC whatever surrounds it: combining class 0,
 * NFC_Quick_Check=Yes and never the second element of a composition. This is
 * the quick check of UAX #15 §9, made stricter (any non-zero combining class
 * sends the string to the full algorithm) so that a string of such code
 * points is already NFC. text_test.c checks it against utf8proc_NFC. */
static bool nfc_stable(utf8proc_int32_t cp)
{
	if (cp < 0x300)
		return true; /* Latin-1 and Latin Extended-A/B: no marks, singletons or second elements */
	/* Hangul vowel and trailing jamo compose algorithmically, outside the property tables. */
	if ((cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11A8 && cp <= 0x11C2))
		return false;
	/* Non-starter decompositions whose own class is 0 (0344 has class 230):
	 * utf8proc's comp_exclusion does not mark them. */
	if (cp == 0x0F73 || cp == 0x0F75 || cp == 0x0F81)
		return false;
	const utf8proc_property_t *p = utf8proc_get_property(cp);
	if (p->combining_class != 0 || p->comp_exclusion)
		return false;
	/* comb_index >= 0x8000 marks a code point that composes with a preceding starter. */
	if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000)
		return false;
	/* A canonical singleton (U+212B → U+00C5) is replaced; utf8proc keeps the
	 * sequence length minus one in the top two bits of decomp_seqindex. */
	if (p->decomp_type == 0 && p->decomp_seqindex != UINT16_MAX && (p->decomp_seqindex >> 14) == 0)
		return false;
	return true;
}

/* One pass: validity (as edu_text_utf8_valid) and the quick check. */
static bool valid_and_nfc(const char *s, size_t len, bool *valid)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;
	bool nfc = true;
	*valid = true;
	while (i < len) {
		if (p[i] < 0x80) {
			if (p[i] == 0) {
				*valid = false;
				return false;
			}
			i++;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0) {
			*valid = false;
			return false;
		}
		if (nfc && !nfc_stable(cp))
			nfc = false;
		i += (size_t)n;
	}
	return nfc;
}

bool edu_text_is_nfc_quick(const char *s, size_t len)
{
	bool valid;
	return s && valid_and_nfc(s, len, &valid);
}

edu_err edu_text_nfc(const char *s, size_t len, char **out)
{
	*out = NULL;
	if (s && len <= EDU_TEXT_INPUT_MAX) {
		bool valid;
		bool nfc = valid_and_nfc(s, len, &valid);
		if (!valid)
			return EDU_EINVAL;
		if (nfc) { /* the usual case: already NFC, so a copy is the answer */
			char *c = malloc(len + 1);
			if (!c)
				return EDU_ENOMEM;
			memcpy(c, s, len);
			c[len] = '\0';
			*out = c;
			return EDU_OK;
		}
	}
	return map_utf8(s, len, UTF8PROC_STABLE | UTF8PROC_COMPOSE, NULL, out);
}

size_t edu_text_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

void edu_text_scrub(char *s)
{
	utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s), i = 0;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i, len - i, &cp);
		if (n <= 0) {
			s[i++] = '?';
			continue;
		}
		if (cp < 0x20 || cp == 0x7f)
			s[i] = ' ';
		i += n;
	}
}

bool edu_text_has_ctl(const char *s, bool allow_newlines)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\t')
			continue;
		if ((c == '\n' || c == '\r') && allow_newlines)
			continue;
		if (c < 0x20 || c == 0x7F)
			return true;
	}
	return false;
}

/* utf8proc's STRIPMARK leaves đ/Đ alone: they are letters, not d + mark. */
static utf8proc_int32_t map_d_stroke(utf8proc_int32_t cp, void *data)
{
	(void)data;
	return (cp == 0x0110 || cp == 0x0111) ? 'd' : cp;
}

#define FOLD_OPTS (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK | \
	UTF8PROC_CASEFOLD)

/* Latin (with Vietnamese's Latin Extended Additional) and combining marks:
 * folding such a code point alone gives letters without marks, which never
 * compose with their neighbours, so per-code-point folding concatenated
 * equals utf8proc's whole-string map (text_test.c checks this). */
static bool fold_fast_cp(utf8proc_int32_t cp)
{
	return cp < 0x250 || (cp >= 0x300 && cp < 0x370) || (cp >= 0x1E00 && cp < 0x1F00);
}

#define FOLD_CACHE 64 /* direct-mapped, per call: prose repeats its letters */

typedef struct fold_slot {
	utf8proc_int32_t cp;
	uint8_t len;
	char bytes[15];
} fold_slot;

/* The fold of s[0..len) (valid UTF-8) when every code point is fold_fast_cp,
 * into a malloc'd *out; false (nothing allocated) otherwise or on ENOMEM. */
static bool fold_fast(const char *s, size_t len, char **out)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t cap = 2 * len + 16, o = 0;
	char *dst = malloc(cap);
	if (!dst)
		return false;
	fold_slot cache[FOLD_CACHE];
	for (size_t k = 0; k < FOLD_CACHE; k++)
		cache[k].cp = -1;
	size_t i = 0;
	while (i < len) {
		if (p[i] < 0x80) {
			char c = (char)p[i++];
			dst[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0 || !fold_fast_cp(cp))
			goto slow;
		i += (size_t)n;
		fold_slot *sl = &cache[(unsigned)cp % FOLD_CACHE];
		if (sl->cp != cp) {
			utf8proc_int32_t d[8];
			int bound = 0;
			utf8proc_ssize_t m = utf8proc_decompose_char(map_d_stroke(cp, NULL), d, 8, FOLD_OPTS, &bound);
			if (m < 0 || m > 3)
				goto slow;
			size_t bl = 0;
			for (utf8proc_ssize_t k = 0; k < m; k++)
				bl += (size_t)utf8proc_encode_char(d[k], (utf8proc_uint8_t *)sl->bytes + bl);
			sl->cp = cp;
			sl->len = (uint8_t)bl;
		}
		if (o + sl->len + 1 > cap)
			goto slow;
		memcpy(dst + o, sl->bytes, sl->len);
		o += sl->len;
	}
	dst[o] = '\0';
	*out = dst;
	return true;
slow:
	free(dst);
	return false;
}

edu_err edu_text_fold(const char *s, size_t len, char **out)
{
	*out = NULL;
	edu_err rv = check_input(s, len);
	if (rv != EDU_OK)
		return rv;
	if (s && fold_fast(s, len, out))
		return EDU_OK;
	return map_utf8(s, len, FOLD_OPTS, map_d_stroke, out);
}

static bool is_word_char(utf8proc_int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return true;
	default:
		return false;
	}
}

/* Emits folded[start..end), cut to EDU_TEXT_TOKEN_MAX bytes at a character boundary. */
static edu_err emit(const char *folded, size_t start, size_t end, edu_text_token_fn fn, void *arg)
{
	size_t len = end - start;
	if (len > EDU_TEXT_TOKEN_MAX) {
		len = EDU_TEXT_TOKEN_MAX;
		while (len > 0 && ((unsigned char)folded[start + len] & 0xC0) == 0x80)
			len--;
	}
	return fn(folded + start, len, arg);
}

edu_err edu_text_tokens(const char *s, size_t len, edu_text_token_fn fn, void *arg)
{
	char *folded = NULL;
	edu_err rv = edu_text_fold(s, len, &folded);
	if (rv != EDU_OK)
		return rv;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)folded;
	size_t flen = strlen(folded), i = 0, start = 0, count = 0;
	bool in_tok = false;
	while (i <= flen && count < EDU_TEXT_TOKENS_MAX && rv == EDU_OK) {
		utf8proc_int32_t cp = 0;
		utf8proc_ssize_t n = 1;
		if (i < flen && p[i] < 0x80) {
			cp = p[i]; /* ASCII: no decoding, and a plain test below */
		} else if (i < flen) {
			n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(flen - i), &cp);
			if (n <= 0) {
				rv = EDU_EINTERNAL; /* utf8proc produced invalid UTF-8 */
				break;
			}
		}
		bool word = i < flen && (cp < 0x80 ? ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') ||
		    (cp >= '0' && cp <= '9') : is_word_char(cp));
		if (word && !in_tok) {
			start = i;
			in_tok = true;
		} else if (!word && in_tok) {
			rv = emit(folded, start, i, fn, arg);
			count++;
			in_tok = false;
		}
		i += (size_t)n;
	}
	free(folded);
	return rv;
}
