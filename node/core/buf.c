#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

edu_err edu_buf_reserve(edu_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return EDU_OK;
	if (extra > ((size_t)1 << 40))
		return EDU_ETOOBIG;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL)
		return EDU_ENOMEM;
	b->p = p;
	b->cap = cap;
	return EDU_OK;
}

edu_err edu_buf_append(edu_buf *b, const void *data, size_t len)
{
	edu_err rv = edu_buf_reserve(b, len);
	if (rv != EDU_OK)
		return rv;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return EDU_OK;
}

edu_err edu_buf_puts(edu_buf *b, const char *s) { return edu_buf_append(b, s, strlen(s)); }

edu_err edu_buf_printf(edu_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return EDU_EINVAL;
	if ((size_t)n < sizeof small)
		return edu_buf_append(b, small, (size_t)n);
	edu_err rv = edu_buf_reserve(b, (size_t)n);
	if (rv != EDU_OK)
		return rv;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return EDU_OK;
}

edu_err edu_buf_escape_html(edu_buf *b, const char *s, size_t len)
{
	size_t start = 0;
	edu_err rv = EDU_OK;
	for (size_t i = 0; i < len && rv == EDU_OK; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		rv = edu_buf_append(b, s + start, i - start);
		if (rv == EDU_OK)
			rv = edu_buf_puts(b, rep);
		start = i + 1;
	}
	if (rv == EDU_OK)
		rv = edu_buf_append(b, s + start, len - start);
	return rv;
}

char *edu_buf_detach(edu_buf *b, size_t *len)
{
	char *p = b->p;
	if (len)
		*len = b->len;
	if (p == NULL)
		p = calloc(1, 1);
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void edu_buf_reset(edu_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void edu_buf_free(edu_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
