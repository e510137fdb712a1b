#include "timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t edu_time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void edu_time_deadline(struct timespec *ts, int clock, int64_t ms)
{
	clock_gettime((clockid_t)clock, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int64_t edu_time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * algorithm), so we need neither timegm's locale nor TZ. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

edu_err edu_time_parse(const char *s, int64_t *unix_s, int *tz_min)
{
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 1;
	if (s == NULL || strlen(s) < 20)
		return EDU_EINVAL;
	if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
	    digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return EDU_EINVAL;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return EDU_EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
			return EDU_EINVAL;
		p += 6;
	} else {
		return EDU_EINVAL;
	}
	if (*p != '\0')
		return EDU_EINVAL;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (Y < 1900 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 ||
	    m > 59 || sec > 60 || oh > 23 || om > 59)
		return EDU_EINVAL;
	if (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0))
		return EDU_EINVAL;
	if (sec == 60)
		sec = 59; /* leap second: clamp */
	int off = sign * (oh * 60 + om);
	int64_t t = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec;
	*unix_s = t - (int64_t)off * 60;
	if (tz_min)
		*tz_min = off;
	return EDU_OK;
}

void edu_time_format(char out[EDU_RFC3339_LEN], int64_t unix_s, int tz_min)
{
	time_t t = (time_t)(unix_s + (int64_t)tz_min * 60);
	struct tm tm;
	gmtime_r(&t, &tm);
	int a = tz_min < 0 ? -tz_min : tz_min;
	char tmp[128]; /* gcc cannot bound tm fields; copy the (always short) result */
	if (tz_min == 0)
		snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec, tz_min < 0 ? '-' : '+', a / 60, a % 60);
	strncpy(out, tmp, EDU_RFC3339_LEN - 1);
	out[EDU_RFC3339_LEN - 1] = '\0';
}

void edu_time_format_http(char out[EDU_RFC3339_LEN], int64_t unix_s)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)unix_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	char tmp[128];
	snprintf(tmp, sizeof tmp, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday],
	    tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	strncpy(out, tmp, EDU_RFC3339_LEN - 1);
	out[EDU_RFC3339_LEN - 1] = '\0';
}
