/* Shared between the import parsers and the HTML converter; not public. */
#ifndef EDU_IMPORT_INTERNAL_H
#define EDU_IMPORT_INTERNAL_H

#include <libxml/tree.h>
#include "core/err.h"

/* Markdown / plain text of a node list (first and its siblings), used for
 * Atom's inline XHTML content, which arrives as XML nodes, not HTML text. */
edu_err edu_import_md_from_nodes(xmlNode *first, char **out);
edu_err edu_import_text_from_nodes(xmlNode *first, char **out);



#include "core/buf.h"
/* Appends "[text](<url>)" (text escaped) to b, or only the escaped text when
 * url is not one edu_import_url_ok accepts. */
edu_err edu_import_md_link(edu_buf *b, const char *text, const char *url);
#endif
