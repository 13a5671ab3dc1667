/* SPDX-License-Identifier: GPL-2.0 */
/* What the small tools in src/tools share (see tool.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "target.h"
#include "tool.h"
#include "util.h"

int tool_bad_option(int c, char **argv, const struct option *longopts)
{
	const struct option *o = longopts;

	if (optopt == 0) {
		/* An unknown long option: getopt_long has moved past it. */
		const char *a = argv[optind - 1];

		msg("unknown option '%.*s' (see --help)", (int)strcspn(a, "="),
		    a);
		return 2;
	}
	if (optopt >= TOOL_OPT_HELP) {
		while (o && o->name && o->val != optopt)
			o++;
		msg("option '--%s' %s (see --help)",
		    o && o->name ? o->name : "?",
		    c == ':' ? "needs an argument" : "takes no argument");
		return 2;
	}
	if (c == ':')
		msg("option '-%c' needs an argument (see --help)", optopt);
	else
		msg("unknown option '-%c' (see --help)", optopt);
	return 2;
}

int tool_one_operand(int argc, const char *what)
{
	if (optind + 1 == argc)
		return 0;
	msg("expected one %s (see --help)", what);
	return 2;
}

uint64_t tool_mul(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* MemAvailable from /proc/meminfo in bytes, or UINT64_MAX if unknown. */
static uint64_t mem_available(void)
{
	unsigned long long kb;
	uint64_t v = UINT64_MAX;
	char line[256];
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			v = tool_mul(kb, 1024);
	fclose(f);
	return v;
}

static void human(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB",
					     "TiB",   "PiB", "EiB" };
	double d = (double)v;
	unsigned int i = 0;

	while (d >= 1024 && i + 1 < ARRAY_SIZE(units)) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
	else
		snprintf(buf, len, "%.1f %s", d, units[i]);
}

int tool_check_memory(uint64_t bytes, const char *what)
{
	uint64_t limit = mem_available();
	const char *which = "available memory";
	char need[32], have[32];
	struct rlimit rl;

	if (!getrlimit(RLIMIT_AS, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    (uint64_t)rl.rlim_cur < limit) {
		limit = rl.rlim_cur;
		which = "address-space limit (ulimit -v)";
	}
	if (!getrlimit(RLIMIT_DATA, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    (uint64_t)rl.rlim_cur < limit) {
		limit = rl.rlim_cur;
		which = "data-size limit (ulimit -d)";
	}
	if (bytes <= limit)
		return 0;
	human(limit, have, sizeof(have));
	if (bytes == UINT64_MAX)
		msg("%s needs more memory than can be counted, over the %s (%s)",
		    what, which, have);
	else {
		human(bytes, need, sizeof(need));
		msg("%s needs %s of memory, more than the %s (%s)", what, need,
		    which, have);
	}
	return 2;
}

/* The directory path is in: "." for "f", "/" for "/f". */
static void parent_dir(const char *path, char *dir, size_t len)
{
	char *slash;

	snprintf(dir, len, "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
}

static char created[PATH_MAX];

void tool_keep_created(void)
{
	if (created[0])
		target_untrack(created);
	created[0] = 0;
}

/* What a probe may do I/O to: a file, a block device, /dev/null, /dev/zero. */
static bool kind_ok(const struct stat *st)
{
	if (S_ISREG(st->st_mode) || S_ISBLK(st->st_mode))
		return true;
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 &&
	       (minor(st->st_rdev) == 3 || minor(st->st_rdev) == 5);
}

static const char *kind_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	return "of an unknown kind";
}

static int refuse_kind(const char *path, const struct stat *st)
{
	msg("%s is %s: expected a regular file or a block device (or /dev/null, /dev/zero)",
	    path, kind_name(st->st_mode));
	return -2;
}

/* Is path's directory /dev (a mistyped device name would become a file)? */
static bool in_dev(const char *path)
{
	char dir[PATH_MAX];
	struct stat d, dev;

	parent_dir(path, dir, sizeof(dir));
	return !stat(dir, &d) && !stat("/dev", &dev) && d.st_dev == dev.st_dev;
}

static void open_error(const char *path, int flags, int err)
{
	bool write = (flags & O_ACCMODE) != O_RDONLY;
	char fs[32] = "";
	struct rlimit rl;

	if (err == EINVAL && (flags & O_DIRECT)) {
		target_fstype(path, fs, sizeof(fs));
		msg("cannot open %s with O_DIRECT: the filesystem (%s) does not support it",
		    path, fs[0] ? fs : "unknown");
	} else if ((err == EMFILE || err == ENFILE) &&
		   !getrlimit(RLIMIT_NOFILE, &rl)) {
		msg("cannot open %s: %s (ulimit -n is %llu)", path,
		    strerror(err), (unsigned long long)rl.rlim_cur);
	} else {
		msg("cannot open %s%s: %s", path, write ? " for writing" : "",
		    strerror(err));
	}
}

int tool_open_target(const char *path, int flags, bool force)
{
	bool write = (flags & O_ACCMODE) != O_RDONLY, exists = false;
	struct target_signature sig = { 0 };
	struct stat st;
	int fd = -EEXIST, oflags, tries;

	/* Twice at most: a file to create may appear meanwhile. */
	for (tries = 0; tries < 2 && fd == -EEXIST; tries++) {
		exists = !stat(path, &st);
		if (exists && !kind_ok(&st))
			return refuse_kind(path, &st);
		if (!exists && (errno != ENOENT || !(flags & O_CREAT))) {
			open_error(path, flags, errno);
			return -1;
		}
		if (!exists && in_dev(path)) {
			msg("cannot open %s: no such device (a file is never created in /dev)",
			    path);
			return -1;
		}
		/* O_NONBLOCK: whatever path turns out to be, never wait. */
		oflags = flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
		if (!exists)
			oflags |= O_EXCL; /* know that it is ours to remove */
		else
			oflags &= ~O_CREAT;
		if (write)
			fd = target_open_writable(path, oflags, 0600, force,
						  &sig);
		else if ((fd = open(path, oflags)) < 0)
			fd = -errno;
	}
	if (fd == -EBUSY && sig.what[0]) {
		target_refuse_msg(path, &sig);
		return -1;
	}
	if (fd < 0) {
		open_error(path, flags, -fd);
		return -1;
	}
	if (!exists && snprintf(created, sizeof(created), "%s", path) > 0) {
		target_track_file(created);
		target_install_signals(NULL);
	}
	if (fstat(fd, &st) || !kind_ok(&st)) {
		close(fd);
		return refuse_kind(path, &st);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int tool_check_output(const char *opt, const char *path)
{
	char dir[PATH_MAX];
	struct stat st;

	parent_dir(path, dir, sizeof(dir));
	if (stat(dir, &st) || access(dir, W_OK)) {
		msg("cannot write %s %s: %s", opt, path, strerror(errno));
		return 2;
	}
	if (!S_ISDIR(st.st_mode)) {
		msg("cannot write %s %s: %s is not a directory", opt, path,
		    dir);
		return 2;
	}
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		msg("cannot write %s %s: not a regular file", opt, path);
		return 2;
	}
	return 0;
}

static unsigned long read_ulong(const char *path)
{
	unsigned long v = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int tool_io_setup(unsigned int nr, aio_context_t *ctx, const char *what)
{
	unsigned long max, used;
	int err;

	*ctx = 0;
	if (!sys_io_setup(nr, ctx))
		return 0;
	err = errno;
	*ctx = 0;
	if (err == ENOSYS) {
		msg("native AIO is not in this kernel (CONFIG_AIO=n): skipped");
		return TOOL_EXIT_SKIP;
	}
	if (err == EAGAIN) {
		max = read_ulong("/proc/sys/fs/aio-max-nr");
		used = read_ulong("/proc/sys/fs/aio-nr");
		if (max && nr > max) {
			msg("%s asks for %u AIO events, more than fs.aio-max-nr allows (%lu)",
			    what, nr, max);
			return 2;
		}
		msg("io_setup(%u) for %s failed: %s (fs.aio-max-nr %lu, %lu in use)",
		    nr, what, strerror(err), max, used);
		return 1;
	}
	if (err == EINVAL) {
		msg("%s asks for %u AIO events, more than io_setup accepts",
		    what, nr);
		return 2;
	}
	msg("io_setup(%u) for %s failed: %s", nr, what, strerror(err));
	return 1;
}

int tool_ring_init(struct tool_ring *r, unsigned int depth, const char *what)
{
	r->ctx = 0;
	r->cbs = calloc(depth, sizeof(*r->cbs));
	r->ptrs = calloc(depth, sizeof(*r->ptrs));
	r->evs = calloc(depth, sizeof(*r->evs));
	if (!r->cbs || !r->ptrs || !r->evs) {
		msg("out of memory for %u iocbs (%s)", depth, what);
		return 1;
	}
	return tool_io_setup(depth, &r->ctx, what);
}

const char *tool_op_name(unsigned int opcode)
{
	switch (opcode) {
	case IOCB_CMD_PREAD:
		return "read";
	case IOCB_CMD_PWRITE:
		return "write";
	case IOCB_CMD_FSYNC:
		return "fsync";
	case IOCB_CMD_FDSYNC:
		return "fdsync";
	case IOCB_CMD_POLL:
		return "poll";
	case IOCB_CMD_NOOP:
		return "noop";
	case IOCB_CMD_PREADV:
		return "readv";
	case IOCB_CMD_PWRITEV:
		return "writev";
	default:
		return "unknown op";
	}
}

bool tool_event_ok(const struct io_event *ev, const struct iocb *cb,
		   const char *path)
{
	const char *op = tool_op_name(cb->aio_lio_opcode);

	if (ev->res == (int64_t)cb->aio_nbytes)
		return true;
	if (ev->res < 0)
		msg("%s of %llu bytes at offset %lld of %s failed: %s", op,
		    (unsigned long long)cb->aio_nbytes,
		    (long long)cb->aio_offset, path, strerror((int)-ev->res));
	else
		msg("short %s at offset %lld of %s: %lld of %llu bytes%s", op,
		    (long long)cb->aio_offset, path, (long long)ev->res,
		    (unsigned long long)cb->aio_nbytes,
		    cb->aio_lio_opcode == IOCB_CMD_PREAD ?
			    " (the target ends there)" :
			    "");
	return false;
}

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}
