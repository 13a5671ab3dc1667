/* SPDX-License-Identifier: GPL-2.0 */
/* Small shared helpers: messages and strict number parsing (see util.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

const char *prog_name = "aio-suite";

/*
 * The whole line is formatted first and written with one call, so that
 * messages from threads or forked children do not interleave.  errno is
 * preserved: "%m" works and the caller may still return -errno.
 */
void msg(const char *fmt, ...)
{
	char buf[1024];
	char *line = buf;
	int saved = errno;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf)) {
		line = malloc((size_t)n + 1);
		if (line) {
			errno = saved;
			va_start(ap, fmt);
			vsnprintf(line, (size_t)n + 1, fmt, ap);
			va_end(ap);
		} else {
			line = buf; /* truncated, better than nothing */
		}
	}
	if (n < 0)
		buf[0] = '\0';
	fprintf(stderr, "%s: %s\n", prog_name, line);
	if (line != buf)
		free(line);
	errno = saved;
}

static uint64_t suffix_mult(int c)
{
	switch (tolower(c)) {
	case 'b':
		return 1;
	case 'k':
		return 1ull << 10;
	case 'm':
		return 1ull << 20;
	case 'g':
		return 1ull << 30;
	case 't':
		return 1ull << 40;
	default:
		return 0;
	}
}

/*
 * Digits, then optionally one suffix letter.  After k, m, g or t a
 * trailing "b" or "ib" is also accepted ("4kb", "4KiB").
 */
int parse_size(const char *s, uint64_t unit, uint64_t *out)
{
	uint64_t v = 0, mult = unit;
	bool overflow = false;
	unsigned int d;

	if (!s || !isdigit((unsigned char)*s) || unit == 0)
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		d = (unsigned int)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	if (*s) {
		mult = suffix_mult((unsigned char)*s);
		if (!mult)
			return -EINVAL;
		if (tolower((unsigned char)*s++) != 'b') {
			if (tolower((unsigned char)s[0]) == 'i' &&
			    tolower((unsigned char)s[1]) == 'b')
				s += 2;
			else if (tolower((unsigned char)*s) == 'b')
				s++;
		}
		if (*s)
			return -EINVAL;
	}
	if (overflow || v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/*
 * Plain decimal only: digits with an optional fraction and exponent
 * ("10", "0.5", ".25", "1e-3").  No sign, hex, "inf" or "nan", which
 * strtod() alone would accept.
 */
int parse_seconds(const char *s, double *out)
{
	const char *p = s;
	unsigned int digits = 0;
	double v;

	if (!s)
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++)
		digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (!digits)
		return -EINVAL;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p)
		return -EINVAL;
	v = strtod(s, NULL);
	if (!isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}
