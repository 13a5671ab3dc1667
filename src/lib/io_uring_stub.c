/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "io_uring" engine of a build without liburing (RHEL 8 ships none):
 * listed like the real one and with its capabilities, so that its options
 * reach init(); init() refuses with the reason, which callers report as a
 * skip of the engine.  The Makefile compiles this file or io_uring.c.
 */
#include <errno.h>

#include "engine_impl.h"

static int ur_stub_init(struct engine *e, const struct engine_opts *o)
{
	e->absent = true; /* a skip, as on a kernel without io_uring */
	engine_set_reason(
		e,
		"io_uring is not available: not compiled in (built without liburing-dev)");
	return -EOPNOTSUPP;
}

static void ur_stub_cleanup(struct engine *e)
{
}

const struct engine_ops io_uring_engine = {
	.name = "io_uring",
	.help = "io_uring: not compiled in (this build has no liburing)",
	.caps = IO_URING_CAPS,
	.init = ur_stub_init,
	.cleanup = ur_stub_cleanup,
};
