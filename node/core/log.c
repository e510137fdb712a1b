#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <event2/event.h>

/* The only process-wide mutable state of the node: set once by main before
 * any thread starts, then read-only. */
static int log_level = LOG_INFO;

void edu_log_set_level(int level) { log_level = level; }
int edu_log_level(void) { return log_level; }

static const char *level_name(int level)
{
	switch (level) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

int edu_log_parse_level(const char *s)
{
	static const struct { const char *n; int l; } t[] = {
		{"error", LOG_ERR}, {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
		{"info", LOG_INFO}, {"debug", LOG_DEBUG},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcmp(s, t[i].n) == 0)
			return t[i].l;
	return -1;
}

void edu_log_write(int level, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, level_name(level));
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof line - 2)
		len = sizeof line - 2;
	/* One event, one line: fold embedded newlines so logs stay parseable. */
	for (size_t i = (size_t)n; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';
	fwrite(line, 1, len, stderr); /* stderr is unbuffered: one write per line */
}

static void libevent_cb(int sev, const char *msg)
{
	int level = sev >= EVENT_LOG_ERR ? LOG_ERR : sev == EVENT_LOG_WARN ? LOG_WARNING : LOG_DEBUG;
	edu_log(level, "libevent: %s", msg);
}

void edu_log_hook_libevent(void) { event_set_log_callback(libevent_cb); }
