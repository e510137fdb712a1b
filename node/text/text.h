/* UTF-8 utilities on utf8proc: validation, NFC, character counts, control
 * characters, and the diacritics-insensitive search folding and tokenizing
 * shared by the store's index and search queries (SPEC §5 /search). */
#ifndef EDU_TEXT_H
#define EDU_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include "../core/err.h"

#define EDU_TEXT_TOKEN_MAX 64        /* bytes per token; longer tokens are cut at a character boundary */
#define EDU_TEXT_TOKENS_MAX 8192     /* tokens per call; the rest of the text is ignored */
#define EDU_TEXT_INPUT_MAX (8u * 1024 * 1024) /* bytes accepted by nfc/fold/tokens */

/* True when s[0..len) is well-formed UTF-8 with no overlong forms, no
 * surrogates, nothing above U+10FFFF and no NUL byte. */
bool edu_text_utf8_valid(const char *s, size_t len);

/* Validates s[0..len) and gives a malloc'd, NUL-terminated NFC copy in *out
 * (caller frees). EDU_EINVAL for invalid UTF-8, EDU_ETOOBIG above EDU_TEXT_INPUT_MAX. */
edu_err edu_text_nfc(const char *s, size_t len, char **out);

/* NFC quick check: true when s[0..len) is valid UTF-8 (as above) made only
 * of code points NFC keeps whatever surrounds them, so it is NFC already.
 * False means "invalid or maybe not NFC" (edu_text_nfc then normalizes).
 * Never true for a string whose NFC differs. */
bool edu_text_is_nfc_quick(const char *s, size_t len);

/* Code points in the NUL-terminated s (s is assumed valid; stray bytes count as one each). */
size_t edu_text_chars(const char *s);

/* True when s contains a C0 control character or DEL; \t is always allowed,
 * \n and \r only when allow_newlines. */
bool edu_text_has_ctl(const char *s, bool allow_newlines);

/* One pass for validators, equal to edu_text_utf8_valid(s, len), then
 * edu_text_has_ctl on s[0..len), then edu_text_chars (s need not be
 * NUL-terminated):
 * - EDU_OK: valid UTF-8 without control characters; *chars (if not NULL) is
 *   the number of code points.
 * - EDU_EINVAL with *ctl (if not NULL) false: not valid UTF-8 (a NUL byte is
 *   invalid, as in edu_text_utf8_valid), or s is NULL with len > 0. This wins
 *   over a control character anywhere in the string.
 * - EDU_EINVAL with *ctl true: valid UTF-8 but holds a control character.
 * *chars is left alone on failure; *ctl is always set. */
edu_err edu_text_check(const char *s, size_t len, bool allow_newlines, size_t *chars, bool *ctl);
/* Makes s safe to show in a message or log line, in place: invalid UTF-8
 * bytes (including a sequence cut short at the end) become '?', control
 * characters become ' '. */
void edu_text_scrub(char *s);

/* Search folding: compatibility decomposition, marks stripped, case folded,
 * and đ/Đ mapped to d ("Đồng Tháp" → "dong thap"). *out is malloc'd, caller frees. */
edu_err edu_text_fold(const char *s, size_t len, char **out);

/* Called once per token; tok is not NUL-terminated and lives only for the
 * call. A non-EDU_OK return stops the walk and is returned by edu_text_tokens. */
typedef edu_err (*edu_text_token_fn)(const char *tok, size_t len, void *arg);

/* Folds s[0..len) and splits it on every code point that is not a letter or a
 * digit (Unicode categories L* and N*). Tokens are at most EDU_TEXT_TOKEN_MAX
 * bytes; after EDU_TEXT_TOKENS_MAX tokens the rest is ignored. */
edu_err edu_text_tokens(const char *s, size_t len, edu_text_token_fn fn, void *arg);

#endif
