/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the small tools in src/tools share: the end of their getopt loops,
 * a context with its iocb and event arrays, and sorting samples.
 */
#ifndef AIO_SUITE_TOOL_H
#define AIO_SUITE_TOOL_H

#include "aio_sys.h"

/*
 * getopt's ':' and default cases (the option string starts with ':' and
 * opterr is 0): "option '-x' needs an argument" or "unknown option '-x'
 * (see -h)"; returns 2.
 */
int tool_bad_option(int c);
/*
 * After getopt: exactly one operand left, else "expected one WHAT (see
 * -h)".  0, or 2 (the exit status) after the message.
 */
int tool_one_operand(int argc, const char *what);

/* An AIO context with depth iocbs, their pointers and depth events. */
struct tool_ring {
	aio_context_t ctx;
	struct iocb *cbs;
	struct iocb **ptrs;
	struct io_event *evs;
};

/*
 * Allocate the arrays and io_setup(depth): 0 or -errno.  A failed io_setup
 * prints "io_setup failed: ..."; running out of memory prints nothing.
 */
int tool_ring_init(struct tool_ring *r, unsigned int depth);

/* qsort comparator for uint64_t. */
int cmp_u64(const void *a, const void *b);

#endif
