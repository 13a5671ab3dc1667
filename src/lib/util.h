/* SPDX-License-Identifier: GPL-2.0 */
/* Small shared helpers: messages, number parsing. */
#ifndef AIO_SUITE_UTIL_H
#define AIO_SUITE_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The program name that messages start with; set once by main(). */
extern const char *prog_name;

/* "prog: message\n" on stderr. */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parse a size with an optional suffix: b (bytes), k, m, g, t (powers of
 * 1024, either case).  A bare number is multiplied by unit (aio-stress's
 * -s is in MiB, -r and -a in KiB).  0 or -EINVAL / -ERANGE.
 */
int parse_size(const char *s, uint64_t unit, uint64_t *out);
/* A whole number in [min, max]; 0 or -EINVAL / -ERANGE. */
int parse_long(const char *s, long min, long max, long *out);
/* A non-negative decimal number of seconds; 0 or -EINVAL. */
int parse_seconds(const char *s, double *out);

#endif
