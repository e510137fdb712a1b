/* The byte-at-a-time implementations text.c had before its word-at-a-time
 * scanners, kept as references for text_test.c and text_bench.c only. */
#ifndef EDU_TEXT_REF_H
#define EDU_TEXT_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <utf8proc.h>

static inline bool ref_utf8_valid(const char *s, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0 || cp == 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

static inline bool ref_has_ctl(const char *s, bool allow_newlines)
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

static inline size_t ref_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

#endif
