/* The one logger (STYLE §9): one line per event on stderr, with a level.
 * The level is checked before formatting. Thread-safe. */
#ifndef EDU_LOG_H
#define EDU_LOG_H

#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */

/* Set by main before threads start; read-only afterwards. */
void edu_log_set_level(int level);
int edu_log_level(void);
/* Parses "error|warning|notice|info|debug"; returns -1 when unknown. */
int edu_log_parse_level(const char *s);
/* Routes libevent's log callback into edu_log. */
void edu_log_hook_libevent(void);

void edu_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define edu_log(level, ...)                                                    \
	do {                                                                   \
		if ((level) <= edu_log_level())                                \
			edu_log_write((level), __VA_ARGS__);                   \
	} while (0)

#endif
