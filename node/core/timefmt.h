/* Wall-clock helpers and RFC 3339 timestamps. */
#ifndef EDU_TIMEFMT_H
#define EDU_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define EDU_TZ_VN_MIN 420 /* Vietnam, +07:00 */
#define EDU_RFC3339_LEN 32 /* buffer size enough for any output of edu_time_format */

/* Unix time in milliseconds (CLOCK_REALTIME) and a monotonic clock in ms. */
int64_t edu_time_now_ms(void);
int64_t edu_time_mono_ms(void);
/* An absolute deadline ms from now on clock (CLOCK_REALTIME for a default
 * pthread_cond_timedwait, CLOCK_MONOTONIC for a condvar set to it). */
struct timespec;
void edu_time_deadline(struct timespec *ts, int clock, int64_t ms);

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" into Unix seconds;
 * *tz_min (may be NULL) gets the offset in minutes. */
edu_err edu_time_parse(const char *s, int64_t *unix_s, int *tz_min);
/* Formats Unix seconds at the given offset: "2026-11-30T15:04:05+07:00". */
void edu_time_format(char out[EDU_RFC3339_LEN], int64_t unix_s, int tz_min);
/* RFC 822 / 1123 form for RSS and HTTP dates, always GMT. */
void edu_time_format_http(char out[EDU_RFC3339_LEN], int64_t unix_s);

#endif
