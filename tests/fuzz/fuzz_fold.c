/* Fuzzes node/text: validation, NFC, search folding and tokenizing (the
 * store's index and every /search query go through them). Invariants: NFC
 * succeeds exactly on valid UTF-8 and gives valid, stable NFC; fold output
 * is valid UTF-8 and folding it again changes nothing (query and index fold
 * alike whatever the input's form); fold does not depend on the input's
 * normalization form; tokens are non-empty, bounded, valid UTF-8 and already
 * folded, and there are no more than the limit. */
#include <stdbool.h>
#include <string.h>
#include "fuzz.h"
#include "text/text.h"

typedef struct tok_ctx {
	size_t n;
} tok_ctx;

static edu_err on_token(const char *tok, size_t len, void *arg)
{
	tok_ctx *t = arg;
	t->n++;
	FUZZ_CHECK(len > 0 && len <= EDU_TEXT_TOKEN_MAX, "token of %zu bytes", len);
	FUZZ_CHECK(edu_text_utf8_valid(tok, len), "token is not valid UTF-8: %.*s", (int)len, tok);
	char *f = NULL;
	FUZZ_CHECK(edu_text_fold(tok, len, &f) == EDU_OK, "token does not fold");
	FUZZ_CHECK(strlen(f) == len && memcmp(f, tok, len) == 0, "token '%.*s' folds to '%s'", (int)len, tok, f);
	free(f);
	return EDU_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	const char *s = (const char *)data;
	bool valid = edu_text_utf8_valid(s, size);

	char *nfc = NULL;
	edu_err e = edu_text_nfc(s, size, &nfc);
	FUZZ_CHECK((e == EDU_OK) == valid, "nfc says %s but utf8_valid says %d", edu_strerror(e), valid);
	if (e == EDU_OK) {
		size_t nl = strlen(nfc);
		FUZZ_CHECK(edu_text_utf8_valid(nfc, nl), "NFC output is not valid UTF-8");
		char *nfc2 = NULL;
		FUZZ_CHECK(edu_text_nfc(nfc, nl, &nfc2) == EDU_OK && strcmp(nfc, nfc2) == 0, "NFC is not stable");
		free(nfc2);
		(void)edu_text_chars(nfc);
		(void)edu_text_has_ctl(nfc, true);
		(void)edu_text_has_ctl(nfc, false);
	}

	char *f = NULL;
	e = edu_text_fold(s, size, &f);
	if (e == EDU_OK) {
		size_t fl = strlen(f);
		FUZZ_CHECK(edu_text_utf8_valid(f, fl), "fold output is not valid UTF-8");
		char *ff = NULL;
		FUZZ_CHECK(edu_text_fold(f, fl, &ff) == EDU_OK, "fold output does not fold");
		FUZZ_CHECK(strcmp(f, ff) == 0, "fold is not idempotent: '%s' -> '%s'", f, ff);
		free(ff);
		if (nfc) {
			char *fn = NULL;
			FUZZ_CHECK(edu_text_fold(nfc, strlen(nfc), &fn) == EDU_OK, "NFC text does not fold");
			FUZZ_CHECK(strcmp(f, fn) == 0, "fold(x) '%s' != fold(nfc(x)) '%s'", f, fn);
			free(fn);
		}
		free(f);
	} else {
		FUZZ_CHECK(!valid || size > EDU_TEXT_INPUT_MAX || e == EDU_ENOMEM, "valid text does not fold: %s",
		    edu_strerror(e));
	}
	free(nfc);

	tok_ctx t = {0};
	e = edu_text_tokens(s, size, on_token, &t);
	FUZZ_CHECK(t.n <= EDU_TEXT_TOKENS_MAX, "%zu tokens", t.n);
	if (valid && size <= EDU_TEXT_INPUT_MAX)
		FUZZ_CHECK(e == EDU_OK, "valid text does not tokenize: %s", edu_strerror(e));
	return 0;
}
