#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- word-at-a-time scanning ---------------------------------------------
 * Text is read 8 bytes at a time (memcpy into a uint64_t, never past len) and
 * each byte is classified with carry-free arithmetic on its low 7 bits, so a
 * flag in one byte never leaks into another: the first flagged byte is then
 * found exactly with a bit scan, and only it takes the byte-wise path. */

#define W_ONES 0x0101010101010101ULL
#define W_HIGH 0x8080808080808080ULL
#define W_LOW7 0x7F7F7F7F7F7F7F7FULL
#define W_CTLS (W_ONES * 0x60) /* t + 0x60 keeps bit 7 clear exactly when t < 0x20 */

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
	return w;
}

/* The up to 8 bytes at p[0..avail): a short tail is padded with spaces,
 * which no flag below selects. */
static inline uint64_t load_tail(const unsigned char *p, size_t avail)
{
	if (avail >= 8)
		return load64(p);
	uint64_t w = W_ONES * ' ';
	memcpy(&w, p, avail);
	return w;
}

/* 0x80 in each byte that is non-ASCII or NUL. */
static inline uint64_t flag_plain(uint64_t w)
{
	return (w | ~((w & W_LOW7) + W_LOW7)) & W_HIGH;
}

/* 0x80 in each byte below 0x20 or DEL. */
static inline uint64_t flag_ctl(uint64_t w)
{
	uint64_t t = w & W_LOW7;
	return ~w & (~(t + W_CTLS) | (t + W_ONES)) & W_HIGH;
}

/* Index of the first flagged byte (f != 0) in memory order. */
static inline size_t first_flag(uint64_t f)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (size_t)__builtin_clzll(f) >> 3;
#else
	return (size_t)__builtin_ctzll(f) >> 3;
#endif
}

/* Lead bytes 80-FF (Unicode Table 3-7): sequence length (0: never leads,
 * which covers continuation bytes, C0, C1 and F5-FF) and the allowed range
 * lo..lo+span of the second byte, which rejects overlongs (E0 80-9F,
 * F0 80-8F), surrogates (ED A0-BF) and code points above U+10FFFF (F4 90-BF).
 * Later bytes are always 80-BF. */
typedef struct lead_rule {
	uint8_t len, lo, span;
} lead_rule;

#define LR2 {2, 0x80, 0x3F}
#define LR3 {3, 0x80, 0x3F}
#define LR4 {4, 0x80, 0x3F}
#define LR2x16 LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2
static const lead_rule lead_rules[128] = {
	[0x42] = LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, LR2, /* C2-CF */
	[0x50] = LR2x16,                                                              /* D0-DF */
	[0x60] = {3, 0xA0, 0x1F}, LR3, LR3, LR3, LR3, LR3, LR3, LR3, LR3, LR3, LR3, LR3, LR3,
	[0x6D] = {3, 0x80, 0x1F}, LR3, LR3,                                          /* ED EE EF */
	[0x70] = {4, 0x90, 0x2F}, LR4, LR4, LR4, {4, 0x80, 0x0F},                     /* F0-F4 */
};

/* Per sequence length, the bits of bytes 3 and 4 in a little-endian load of
 * four bytes, and what they must be (10xxxxxx). */
static const uint32_t cont_mask[5] = {0, 0, 0, 0x00C00000u, 0xC0C00000u};
static const uint32_t cont_want[5] = {0, 0, 0, 0x00800000u, 0x80800000u};

static inline uint32_t load32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Length of the well-formed sequence that starts with the non-ASCII byte
 * p[0], with avail bytes readable; 0 when ill-formed or cut short. With four
 * bytes at hand the checks are table lookups and masks, without a branch per
 * length; near the end each byte is checked against avail. */
static inline size_t seq_len(const unsigned char *p, size_t avail)
{
	const lead_rule *r = &lead_rules[p[0] & 0x7F];
	size_t n = r->len;
	if (avail >= 4) {
		uint32_t w = load32le(p);
		bool ok = n != 0 && (uint8_t)(p[1] - r->lo) <= r->span && (w & cont_mask[n]) == cont_want[n];
		return ok ? n : 0;
	}
	if (n == 0 || avail < n || (uint8_t)(p[1] - r->lo) > r->span)
		return 0;
	for (size_t k = 2; k < n; k++)
		if ((p[k] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* The code point of the n-byte well-formed sequence at p (n from seq_len). */
static inline int32_t seq_cp(const unsigned char *p, size_t n)
{
	switch (n) {
	case 2:
		return (int32_t)(((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu));
	case 3:
		return (int32_t)(((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu));
	default:
		return (int32_t)(((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
		    (p[3] & 0x3Fu));
	}
}

/* Shift DFA for Unicode Table 3-7 (after Per Vognsen): a state is a bit
 * offset, a multiple of 6, and row[b] holds at that offset the next state for
 * byte b, so a step is one table load (independent of the state) and one
 * shift: no branch per byte and a short dependency chain. DFA_ERR is 0, so
 * every transition left out of a row goes there, and it stays there. */
enum {
	DFA_ERR = 0,
	DFA_ACC = 6,   /* between characters */
	DFA_C1 = 12,   /* one continuation byte 80-BF to go */
	DFA_C2 = 18,
	DFA_C3 = 24,
	DFA_E0 = 30,   /* after E0: A0-BF, then one more */
	DFA_ED = 36,   /* after ED: 80-9F (no surrogates), then one more */
	DFA_F0 = 42,   /* after F0: 90-BF, then two more */
	DFA_F4 = 48,   /* after F4: 80-8F (up to U+10FFFF), then two more */
};
#define T(from, to) ((uint64_t)(to) << (from))
#define R_ASC T(DFA_ACC, DFA_ACC)
#define R_CONT T(DFA_C1, DFA_ACC) | T(DFA_C2, DFA_C1) | T(DFA_C3, DFA_C2)
#define R_80 (R_CONT | T(DFA_ED, DFA_C1) | T(DFA_F4, DFA_C2))
#define R_90 (R_CONT | T(DFA_ED, DFA_C1) | T(DFA_F0, DFA_C2))
#define R_A0 (R_CONT | T(DFA_E0, DFA_C1) | T(DFA_F0, DFA_C2))
#define R_2 T(DFA_ACC, DFA_C1)
#define R_3 T(DFA_ACC, DFA_C2)
#define R_4 T(DFA_ACC, DFA_C3)
#define X4(r) r, r, r, r
#define X16(r) X4(r), X4(r), X4(r), X4(r)
static const uint64_t dfa_row[256] = {
	0 /* NUL */, R_ASC, R_ASC, R_ASC, X4(R_ASC), X4(R_ASC), X4(R_ASC),   /* 00-0F */
	X16(R_ASC), X16(R_ASC), X16(R_ASC), X16(R_ASC), X16(R_ASC), X16(R_ASC), X16(R_ASC), /* 10-7F */
	X16(R_80), X16(R_90), X16(R_A0), X16(R_A0),                          /* 80-BF */
	0, 0, R_2, R_2, X4(R_2), X4(R_2), X4(R_2), X16(R_2),                 /* C0-DF */
	T(DFA_ACC, DFA_E0), R_3, R_3, R_3, R_3, X4(R_3), X4(R_3),            /* E0-EC */
	T(DFA_ACC, DFA_ED), R_3, R_3,                                        /* ED-EF */
	T(DFA_ACC, DFA_F0), R_4, R_4, R_4, T(DFA_ACC, DFA_F4),               /* F0-F4; F5-FF: 0 */
};
#undef T
#undef R_ASC
#undef R_CONT
#undef R_80
#undef R_90
#undef R_A0
#undef R_2
#undef R_3
#undef R_4
#undef X4
#undef X16

/* Runs the DFA over the 8 bytes at b from state st (unmasked). */
static inline uint64_t dfa8(uint64_t st, const unsigned char *b)
{
	for (int k = 0; k < 8; k++)
		st = dfa_row[b[k]] >> (st & 63);
	return st;
}

/* 0x80 in each byte that is a continuation byte (10xxxxxx). */
static inline uint64_t flag_cont(uint64_t w)
{
	return w & ~(w << 1) & W_HIGH;
}

/* Number of bytes flagged (0x80) in f. */
static inline size_t count_flags(uint64_t f)
{
	return (size_t)(((f >> 7) * W_ONES) >> 56);
}

bool edu_text_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t st = DFA_ACC;
	size_t i = 0;
	for (; len - i >= 8; i += 8) {
		/* Between characters, a word of ASCII without NUL needs no DFA. */
		if ((st & 63) == DFA_ACC && flag_plain(load64(p + i)) == 0)
			continue;
		st = dfa8(st, p + i);
	}
	if (i < len) { /* pad with spaces: they end nothing, so a cut-short sequence fails */
		unsigned char tail[8];
		memset(tail, ' ', sizeof tail);
		memcpy(tail, p + i, len - i);
		st = dfa8(st, tail);
	}
	return (st & 63) == DFA_ACC;
}

/* Bit c set for each control character c < 0x20 that is allowed. */
static inline uint32_t ctl_allowed(bool allow_newlines)
{
	return (1u << '\t') | (allow_newlines ? (1u << '\n') | (1u << '\r') : 0);
}

edu_err edu_text_check(const char *s, size_t len, bool allow_newlines, size_t *chars, bool *ctl)
{
	const unsigned char *p = (const unsigned char *)s;
	const uint32_t ok = ctl_allowed(allow_newlines);
	uint64_t st = DFA_ACC;
	size_t i = 0, cont = 0;
	bool bad_ctl = false;
	if (ctl)
		*ctl = false;
	if (s == NULL && len > 0)
		return EDU_EINVAL;
	unsigned char tail[8];
	while (i < len) {
		const unsigned char *b = p + i;
		if (len - i < 8) { /* padded with spaces, as in edu_text_utf8_valid */
			memset(tail, ' ', sizeof tail);
			memcpy(tail, b, len - i);
			b = tail;
		}
		uint64_t w = load64(b);
		i += 8;
		/* Controls are ASCII, so they are checked apart from the DFA (which
		 * sends NUL to DFA_ERR); tab and allowed newlines take this branch too. */
		uint64_t c = flag_ctl(w);
		if (c != 0)
			for (int k = 0; k < 8; k++)
				if ((c >> (8 * k)) & 0x80) {
					unsigned x = (unsigned)((w >> (8 * k)) & 0xFF);
					if (x == 0x7F || !((ok >> x) & 1))
						bad_ctl = true;
				}
		if ((st & 63) == DFA_ACC && (w & W_HIGH) == 0 && c == 0)
			continue; /* ASCII word between characters */
		cont += count_flags(flag_cont(w));
		st = dfa8(st, b);
	}
	if ((st & 63) != DFA_ACC)
		return EDU_EINVAL; /* invalid UTF-8 wins over control characters */
	if (bad_ctl) {
		if (ctl)
			*ctl = true;
		return EDU_EINVAL;
	}
	if (chars)
		*chars = len - cont;
	return EDU_OK;
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

/* One pass: validity (as edu_text_utf8_valid) and the quick check. ASCII
 * other than NUL is valid and NFC-stable, so it is skipped a word at a time. */
static bool valid_and_nfc(const char *s, size_t len, bool *valid)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	bool nfc = true;
	*valid = true;
	while (i < len) {
		size_t avail = len - i;
		uint64_t f = flag_plain(load_tail(p + i, avail));
		if (f == 0) {
			i += avail < 8 ? avail : 8;
			continue;
		}
		i += first_flag(f);
		size_t n = p[i] ? seq_len(p + i, len - i) : 0;
		if (n == 0) {
			*valid = false;
			return false;
		}
		if (nfc && !nfc_stable(seq_cp(p + i, n)))
			nfc = false;
		i += n;
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
	/* strlen is vectorized in libc; knowing the length lets the scan read
	 * whole words without touching bytes past the terminator. */
	const unsigned char *p = (const unsigned char *)s;
	const uint32_t ok = ctl_allowed(allow_newlines);
	size_t len = strlen(s), i = 0;
	while (i < len) {
		size_t avail = len - i;
		uint64_t f = flag_ctl(load_tail(p + i, avail));
		if (f == 0) {
			i += avail < 8 ? avail : 8;
			continue;
		}
		i += first_flag(f);
		unsigned c = p[i];
		if (c == 0x7F || !((ok >> c) & 1))
			return true;
		i++;
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
