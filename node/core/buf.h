/* A growable byte buffer, always NUL-terminated after len (p may be NULL when cap == 0). */
#ifndef EDU_BUF_H
#define EDU_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include "err.h"

typedef struct edu_buf {
	char *p;
	size_t len;
	size_t cap;
} edu_buf;

#define EDU_BUF_INIT {NULL, 0, 0}

edu_err edu_buf_reserve(edu_buf *b, size_t extra);
edu_err edu_buf_append(edu_buf *b, const void *data, size_t len);
edu_err edu_buf_puts(edu_buf *b, const char *s);
edu_err edu_buf_printf(edu_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* HTML/XML text and attribute escaping: & < > " ' */
edu_err edu_buf_escape_html(edu_buf *b, const char *s, size_t len);
/* Gives the bytes to the caller (free() them); the buffer is left empty. */
char *edu_buf_detach(edu_buf *b, size_t *len);
void edu_buf_reset(edu_buf *b); /* len = 0, keeps memory */
void edu_buf_free(edu_buf *b);  /* frees memory; b itself is not freed */

#endif
