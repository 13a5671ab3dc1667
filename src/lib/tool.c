/* SPDX-License-Identifier: GPL-2.0 */
/* What the small tools in src/tools share (see tool.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "util.h"

int tool_bad_option(int c)
{
	if (c == ':')
		msg("option '-%c' needs an argument", optopt);
	else
		msg("unknown option '-%c' (see -h)", optopt);
	return 2;
}

int tool_one_operand(int argc, const char *what)
{
	if (optind + 1 == argc)
		return 0;
	msg("expected one %s (see -h)", what);
	return 2;
}

int tool_ring_init(struct tool_ring *r, unsigned int depth)
{
	r->ctx = 0;
	r->cbs = calloc(depth, sizeof(*r->cbs));
	r->ptrs = calloc(depth, sizeof(*r->ptrs));
	r->evs = calloc(depth, sizeof(*r->evs));
	if (!r->cbs || !r->ptrs || !r->evs)
		return -ENOMEM;
	if (sys_io_setup(depth, &r->ctx)) {
		int err = errno;

		msg("io_setup failed: %s", strerror(err));
		r->ctx = 0;
		return -err;
	}
	return 0;
}

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}
