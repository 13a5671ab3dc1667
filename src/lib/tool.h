/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the small tools in src/tools share: the end of their option loops,
 * opening a target safely, bounding what they allocate, a context with its
 * iocb and event arrays, and sorting samples.
 *
 * Exit status of every probe: 0 done, 1 the run failed (or was refused),
 * 2 usage (a bad option, a target of the wrong kind, a size that cannot
 * fit), 77 skip (native AIO is not in this kernel).
 */
#ifndef AIO_SUITE_TOOL_H
#define AIO_SUITE_TOOL_H

#include <getopt.h>
#include <stdbool.h>

#include "aio_sys.h"

#define TOOL_EXIT_SKIP 77

/*
 * Long options the probes share; their values are above any character so
 * that tool_bad_option() can tell a long option from a short one.
 */
enum {
	TOOL_OPT_HELP = 256,
	TOOL_OPT_FORCE,
	TOOL_OPT_FIRST_FREE, /* a probe's own long options start here */
};

/* The lines every probe's --help ends with. */
#define TOOL_HELP_EXIT                                                            \
	"exit status: 0 done, 1 the run failed or was refused, 2 usage, 77 skip " \
	"(native AIO is not in this kernel)\n"
#define TOOL_HELP_FORCE                                                          \
	"  --force   write to a block device that carries a filesystem, RAID,\n" \
	"            LVM or partition-table signature (never to one in use:\n"   \
	"            mounted, swap, held, or open exclusively)\n"

/*
 * getopt_long's ':' and '?' cases (the option string starts with ':' and
 * opterr is 0): "option '-x' needs an argument (see --help)" or "unknown
 * option '--bogus' (see --help)"; returns 2.
 */
int tool_bad_option(int c, char **argv, const struct option *longopts);
/*
 * After the option loop: exactly one operand left, else "expected one WHAT
 * (see --help)".  0, or 2 (the exit status) after the message.
 */
int tool_one_operand(int argc, const char *what);

/*
 * bytes (what: "-r 1t with -d 32", for the message) must fit in what this
 * process may allocate: the memory available now and RLIMIT_AS and
 * RLIMIT_DATA.  0, or 2 after the message.
 */
int tool_check_memory(uint64_t bytes, const char *what);
/* a * b, or UINT64_MAX when it does not fit. */
uint64_t tool_mul(uint64_t a, uint64_t b);

/*
 * Open a probe's target with flags (O_RDONLY, or O_WRONLY/O_RDWR for a
 * probe that writes, O_CREAT, O_DIRECT).  Refuses, with one line, what is
 * not a regular file or a block device (a FIFO, a socket, a directory, a
 * character device other than /dev/null and /dev/zero: exit 2) without
 * ever blocking on it; a block device that writing would damage, through
 * target_open_writable() (exit 1); and says why open failed (exit 1).
 * A regular file it creates is removed on every exit path unless
 * tool_keep_created() is called.  Returns the descriptor, or minus the
 * exit status.
 */
int tool_open_target(const char *path, int flags, bool force);
/* The run succeeded: keep the file tool_open_target() created. */
void tool_keep_created(void);

/*
 * An output file named by option opt ("--json") can be written: its
 * directory exists and is writable, and it is not something other than a
 * regular file.  Checked before the run, not after it.  0, or 2 after one
 * line.
 */
int tool_check_output(const char *opt, const char *path);

/*
 * io_setup(nr) with one line on failure (what names the option that asked
 * for nr events, "-d 32").  0, or the exit status: 77 when native AIO is
 * not in this kernel (ENOSYS), 2 when nr is over fs.aio-max-nr, 1
 * otherwise (the system-wide limit reached, no memory).
 */
int tool_io_setup(unsigned int nr, aio_context_t *ctx, const char *what);

/* An AIO context with depth iocbs, their pointers and depth events. */
struct tool_ring {
	aio_context_t ctx;
	struct iocb *cbs;
	struct iocb **ptrs;
	struct io_event *evs;
};

/*
 * Allocate the arrays and tool_io_setup(depth): 0 or the exit status after
 * one line.
 */
int tool_ring_init(struct tool_ring *r, unsigned int depth, const char *what);

/* "write", "read", ... for an IOCB_CMD_* opcode. */
const char *tool_op_name(unsigned int opcode);

/*
 * Did the request cb complete whole (res == aio_nbytes)?  If not, one line
 * naming the op, offset and path: "write of 4096 bytes at offset 0 of f
 * failed: No space left on device", "short read at offset 0 of f: 0 of
 * 4096 bytes (the target ends there)".
 */
bool tool_event_ok(const struct io_event *ev, const struct iocb *cb,
		   const char *path);

/* qsort comparator for uint64_t. */
int cmp_u64(const void *a, const void *b);

#endif
