/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: I/O error delivery under native AIO (the idea of fstests
 * generic/252).  Over a backing block device DEV (brd in the qemu guest)
 * it makes device-mapper devices with the raw DM ioctls (no dmsetup):
 *
 *   ioerr.error_read, ioerr.error_write   a dm "error" target: an O_DIRECT
 *       read or write completes with io_event.res == -EIO
 *   ioerr.mixed_batch   half "linear" over DEV, half "error": one batch of
 *       reads and writes over both halves; each event carries its own
 *       result (4096 or -EIO) and the good half's data is intact: its
 *       reads return the blocks written there before the batch, its
 *       writes read back as written (the suite's self-describing blocks,
 *       src/lib/verify.h, with a file id new to each run)
 *   ioerr.flakey_down   a dm-flakey target that is always down: -EIO
 *
 * and for each: nothing hangs (every wait has a deadline), io_destroy
 * returns 0, and the DM device can be removed afterwards (the context held
 * no reference).  KTAP on stdout; exit 0 pass, 1 fail, 77 skip (not root,
 * no device-mapper, no native AIO), 2 usage (DEV not a block device of
 * 4 MiB).  DEV goes through the write-safety check: refused when in use,
 * or when it carries a signature unless --force.
 *
 *   aio-ioerr [--json FILE] [--force] DEV
 *
 * Runs only where a scratch block device may be overwritten: the guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "aio_sys.h"
#include "json.h"
#include "target.h"
#include "tool.h"
#include "util.h"
#include "verify.h"

#define BS 4096
#define DM_BUF 16384
#define WAIT_S 10
#define MAX_RESULTS 8

struct result {
	const char *name;
	const char *verdict; /* pass, fail, skip */
	char reason[256];
};

static struct result results[MAX_RESULTS];
static int nresults;
static int dm_control = -1;
static char backing[256];
static uint64_t backing_sectors;
static uint64_t data_id; /* the file id of every block this run writes */

static void dm_init(struct dm_ioctl *io, size_t size, const char *name)
{
	memset(io, 0, size);
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = (uint32_t)size;
	io->data_start = sizeof(*io);
	snprintf(io->name, sizeof(io->name), "%s", name);
}

static int dm_open_control(void)
{
	char buf[32];
	unsigned int maj, min;
	FILE *f;

	dm_control = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (dm_control >= 0)
		return 0;
	/* No devtmpfs node: make one from sysfs. */
	f = fopen("/sys/class/misc/device-mapper/dev", "r");
	if (!f)
		return -ENODEV;
	if (!fgets(buf, sizeof(buf), f) ||
	    sscanf(buf, "%u:%u", &maj, &min) != 2) {
		fclose(f);
		return -ENODEV;
	}
	fclose(f);
	mkdir("/dev/mapper", 0755);
	if (mknod("/dev/mapper/control", S_IFCHR | 0600, makedev(maj, min)) &&
	    errno != EEXIST)
		return -errno;
	dm_control = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	return dm_control < 0 ? -errno : 0;
}

static void dm_remove(const char *name)
{
	struct dm_ioctl io;

	dm_init(&io, sizeof(io), name);
	ioctl(dm_control, DM_DEV_REMOVE, &io);
}

/*
 * Create name with the targets in table ("start len type params" lines),
 * activate it and make a node for it at path.  0 or -errno.
 */
static int dm_create(const char *name, const char *table, char *path,
		     size_t len)
{
	char buf[DM_BUF] __attribute__((aligned(8)));
	struct dm_ioctl *io = (struct dm_ioctl *)buf;
	struct dm_target_spec *spec;
	char line[512], *save, *tl, copy[2048];
	size_t off = sizeof(*io);
	unsigned long long start, length;
	char type[DM_MAX_TYPE_NAME];
	int n, consumed;
	dev_t dev;

	dm_init(io, sizeof(*io), name);
	if (ioctl(dm_control, DM_DEV_CREATE, io))
		return -errno;
	dev = (dev_t)io->dev;

	dm_init(io, sizeof(buf), name);
	snprintf(copy, sizeof(copy), "%s", table);
	n = 0;
	for (tl = strtok_r(copy, "\n", &save); tl;
	     tl = strtok_r(NULL, "\n", &save)) {
		size_t plen;

		if (sscanf(tl, "%llu %llu %15s %n", &start, &length, type,
			   &consumed) != 3)
			goto bad;
		spec = (struct dm_target_spec *)(buf + off);
		memset(spec, 0, sizeof(*spec));
		spec->sector_start = start;
		spec->length = length;
		snprintf(spec->target_type, sizeof(spec->target_type), "%s",
			 type);
		snprintf(line, sizeof(line), "%s", tl + consumed);
		plen = strlen(line) + 1;
		if (off + sizeof(*spec) + plen + 8 > sizeof(buf))
			goto bad;
		memcpy(buf + off + sizeof(*spec), line, plen);
		spec->next =
			(uint32_t)((sizeof(*spec) + plen + 7) & ~(size_t)7);
		off += spec->next;
		n++;
	}
	io->target_count = (uint32_t)n;
	io->data_size = (uint32_t)off;
	if (ioctl(dm_control, DM_TABLE_LOAD, io))
		goto err;
	dm_init(io, sizeof(*io), name);
	if (ioctl(dm_control, DM_DEV_SUSPEND, io)) /* no flags: resume */
		goto err;
	snprintf(path, len, "/dev/aio-ioerr-%s", name);
	unlink(path);
	if (mknod(path, S_IFBLK | 0600, dev))
		goto err;
	return 0;
bad:
	errno = EINVAL;
err:
	n = -errno;
	dm_remove(name);
	return n;
}

static void record(const char *name, const char *verdict, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void record(const char *name, const char *verdict, const char *fmt, ...)
{
	struct result *r =
		&results[nresults < MAX_RESULTS ? nresults : MAX_RESULTS - 1];
	va_list ap;

	r->name = name;
	r->verdict = verdict;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	if (nresults < MAX_RESULTS)
		nresults++;
	/* A failure's reason goes on the diagnostic line below it. */
	printf("%s %d %s%s%s\n", strcmp(verdict, "fail") ? "ok" : "not ok",
	       nresults, name, strcmp(verdict, "skip") ? "" : " # SKIP ",
	       strcmp(verdict, "skip") ? "" : r->reason);
	if (!strcmp(verdict, "fail"))
		printf("# %s: %s\n", name, r->reason);
	fflush(stdout);
}

/* Reap nr events within WAIT_S seconds; 0, or -ETIMEDOUT / -errno. */
static int reap(aio_context_t ctx, struct io_event *ev, int nr)
{
	struct timespec ts = { .tv_sec = WAIT_S };
	int got = 0, r;

	while (got < nr) {
		r = sys_io_getevents(ctx, nr - got, nr - got, ev + got, &ts);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		got += r;
	}
	return 0;
}

/*
 * The common frame: make the DM device, submit nr iocbs made by fill(),
 * reap them, check each with expect(), destroy, remove.
 */
struct plan {
	const char *name;
	const char *table;
	int nr;
	/* what iocb i does: write or not, its offset */
	void (*iocb)(int i, int *write, uint64_t *off);
	/* the res iocb i must complete with */
	long long (*expect)(int i);
};

/*
 * Before the batch: the blocks that iocbs expected to read successfully
 * will find, written through the device; every write carries its block.
 * 0, or -errno.
 */
static int prepare_data(const struct plan *p, int fd, char *buf)
{
	int i;

	for (i = 0; i < p->nr; i++) {
		char *b = buf + (size_t)BS * i;
		int write;
		uint64_t off;

		p->iocb(i, &write, &off);
		verify_fill(b, BS, off, data_id, 1);
		if (write || p->expect(i) != BS)
			continue;
		if (pwrite(fd, b, BS, (off_t)off) != BS)
			return errno ? -errno : -EIO;
		memset(b, 0, BS); /* an iocb that reads nothing leaves zeroes */
	}
	return 0;
}

/*
 * After the batch: every iocb that completed in full moved the right
 * data (a read holds the block written before, a write reads back as
 * written).  0, or 1 after recording the failure.
 */
static int check_data(const struct plan *p, int fd, const char *buf, char *tmp)
{
	struct verify_report rep;
	char what[256];
	int i;

	for (i = 0; i < p->nr; i++) {
		const char *b = buf + (size_t)BS * i;
		int write;
		uint64_t off;

		p->iocb(i, &write, &off);
		if (p->expect(i) != BS)
			continue;
		if (write) {
			if (pread(fd, tmp, BS, (off_t)off) != BS) {
				record(p->name, "fail",
				       "reading back iocb %d's write at %llu: %s",
				       i, (unsigned long long)off,
				       strerror(errno ? errno : EIO));
				return 1;
			}
			b = tmp;
		}
		if (verify_check(b, BS, off, data_id, 1, &rep) != VERIFY_OK) {
			record(p->name, "fail", "iocb %d (%s at %llu): data %s",
			       i, write ? "write" : "read",
			       (unsigned long long)off,
			       verify_describe(&rep, what, sizeof(what)));
			return 1;
		}
	}
	return 0;
}

static void run(const struct plan *p)
{
	struct iocb cbs[16], *ptrs[16];
	struct io_event ev[16];
	aio_context_t ctx = 0;
	char path[128];
	void *buf = NULL;
	int fd = -1, ret, i, bad = 0;

	ret = dm_create(p->name, p->table, path, sizeof(path));
	if (ret == -EINVAL || ret == -ENOENT || ret == -ENXIO) {
		record(p->name, "skip", "target not in this kernel (%s)",
		       strerror(-ret));
		return;
	}
	if (ret) {
		record(p->name, "fail", "cannot make the dm device: %s",
		       strerror(-ret));
		return;
	}
	/* One block per iocb, and one more to read a write back into. */
	if (posix_memalign(&buf, BS, (size_t)BS * (p->nr + 1))) {
		record(p->name, "fail", "out of memory");
		goto out;
	}
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		record(p->name, "fail", "open %s: %s", path, strerror(errno));
		goto out;
	}
	ret = prepare_data(p, fd, buf);
	if (ret) {
		record(p->name, "fail", "writing the blocks to read: %s",
		       strerror(-ret));
		goto out;
	}
	if (sys_io_setup(64, &ctx)) {
		record(p->name, "fail", "io_setup: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < p->nr; i++) {
		int write;
		uint64_t off;

		p->iocb(i, &write, &off);
		prep_rw(&cbs[i], write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD, fd,
			(char *)buf + (size_t)BS * i, BS, (int64_t)off);
		cbs[i].aio_data = (uint64_t)i;
		ptrs[i] = &cbs[i];
	}
	ret = sys_io_submit(ctx, p->nr, ptrs);
	if (ret != p->nr) {
		record(p->name, "fail",
		       "io_submit returned %d (%s), expected %d", ret,
		       ret < 0 ? strerror(errno) : "short", p->nr);
		goto out;
	}
	ret = reap(ctx, ev, p->nr);
	if (ret) {
		record(p->name, "fail", "%s waiting %d s for %d completions",
		       ret == -ETIMEDOUT ? "hang" : strerror(-ret), WAIT_S,
		       p->nr);
		goto out;
	}
	for (i = 0; i < p->nr; i++) {
		int k = (int)ev[i].data;
		long long want = p->expect(k);

		if (k < 0 || k >= p->nr ||
		    ev[i].obj != (uint64_t)(uintptr_t)&cbs[k]) {
			record(p->name, "fail",
			       "event %d names no iocb of ours", i);
			goto out;
		}
		if (ev[i].res != want && !bad) {
			bad = 1;
			record(p->name, "fail",
			       "iocb %d (%s at %lld): res %lld, expected %lld",
			       k,
			       cbs[k].aio_lio_opcode == IOCB_CMD_PWRITE ?
				       "write" :
				       "read",
			       (long long)cbs[k].aio_offset,
			       (long long)ev[i].res, want);
		}
	}
	if (!bad)
		bad = check_data(p, fd, buf, (char *)buf + (size_t)BS * p->nr);
	ret = sys_io_destroy(ctx);
	ctx = 0;
	if (ret && !bad) {
		record(p->name, "fail", "io_destroy: %s", strerror(errno));
		bad = 1;
	}
	close(fd);
	fd = -1;
	if (!bad)
		record(p->name, "pass", "%s", "");
out:
	if (ctx)
		sys_io_destroy(ctx);
	if (fd >= 0)
		close(fd);
	free(buf);
	unlink(path);
	{
		struct dm_ioctl io;

		dm_init(&io, sizeof(io), p->name);
		if (ioctl(dm_control, DM_DEV_REMOVE, &io) && nresults &&
		    !strcmp(results[nresults - 1].verdict, "pass")) {
			/* the device is still held: the teardown was not clean */
			results[nresults - 1].verdict = "fail";
			snprintf(results[nresults - 1].reason,
				 sizeof(results[0].reason),
				 "DM_DEV_REMOVE after io_destroy: %s",
				 strerror(errno));
			printf("not ok %d %s # teardown: %s\n", nresults,
			       p->name, results[nresults - 1].reason);
		}
	}
}

static void one_read(int i, int *write, uint64_t *off)
{
	*write = 0;
	*off = (uint64_t)i * BS;
}

static void one_write(int i, int *write, uint64_t *off)
{
	*write = 1;
	*off = (uint64_t)i * BS;
}

static long long all_eio(int i)
{
	return -EIO;
}

/* mixed: 8 iocbs, even ones in the good half, reads and writes in turn. */
#define MIXED_NR 8
#define HALF_SECTORS 2048 /* 1 MiB */
static void mixed_iocb(int i, int *write, uint64_t *off)
{
	*write = (i / 2) % 2;
	*off = (i % 2 ? (uint64_t)HALF_SECTORS * 512 : 0) + (uint64_t)i * BS;
}

static long long mixed_expect(int i)
{
	return i % 2 ? -EIO : BS;
}

static int write_json(const char *path)
{
	struct json j;
	FILE *f;
	int i;

	f = fopen(path, "w");
	if (!f)
		return -errno;
	json_init(&j, f, true);
	json_obj_begin(&j, NULL);
	json_str(&j, "schema", "aio-ioerr/1");
	json_str(&j, "device", backing);
	json_arr_begin(&j, "results");
	for (i = 0; i < nresults; i++) {
		json_obj_begin(&j, NULL);
		json_str(&j, "name", results[i].name);
		json_str(&j, "result", results[i].verdict);
		json_str(&j, "reason", results[i].reason);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	i = json_finish(&j);
	if (fclose(f) && !i)
		i = -errno;
	return i;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aio-ioerr [--json FILE] [--force] DEV\n"
		"  I/O errors from dm-error and dm-flakey over DEV arrive in io_event.res;\n"
		"  DEV is a scratch block device of at least 4 MiB that is OVERWRITTEN\n"
		"  (brd's /dev/ram3 in the qemu guest); KTAP on stdout\n" TOOL_HELP_FORCE
		"  -h, --help   this text\n"
		"exit status: 0 pass, 1 a test failed or DEV was refused, 2 usage,\n"
		"77 skip (not root, no device-mapper, native AIO is not in this kernel)\n");
}

/* The DM devices and nodes run() makes, by name. */
static const char *const dm_names[] = {
	"ioerr.error_read",
	"ioerr.error_write",
	"ioerr.mixed_batch",
	"ioerr.flakey_down",
};

/*
 * Remove them all: what a killed earlier run left, and on SIGINT/SIGTERM
 * what this run made (a device still open is not removed by the kernel).
 */
static void remove_ours(void)
{
	char path[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dm_names); i++) {
		dm_remove(dm_names[i]);
		snprintf(path, sizeof(path), "/dev/aio-ioerr-%s", dm_names[i]);
		unlink(path);
	}
}

static void on_signal(int sig)
{
	remove_ours();
	signal(sig, SIG_DFL);
	_exit(128 + sig);
}

/* "1..0 # SKIP why" and the exit status of a skip. */
static int skip_all(const char *why)
{
	printf("KTAP version 1\n1..0 # SKIP %s\n", why);
	return TOOL_EXIT_SKIP;
}

int main(int argc, char **argv)
{
	char table_err[128], table_mixed[512], table_flakey[512];
	const char *json_path = NULL;
	struct target_signature sig;
	uint64_t bytes = 0;
	aio_context_t probe;
	bool force = false;
	struct stat st;
	int fd, i, failed = 0, skipped = 0, ret;

	prog_name = "aio-ioerr";
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			json_path = argv[++i];
		} else if (!strcmp(argv[i], "--json")) {
			msg("option '--json' needs an argument (see --help)");
			return 2;
		} else if (!strcmp(argv[i], "--force")) {
			force = true;
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			msg("unknown option '%s' (see --help)", argv[i]);
			return 2;
		} else if (backing[0]) {
			msg("unexpected argument '%s': one DEV only (see --help)",
			    argv[i]);
			return 2;
		} else {
			snprintf(backing, sizeof(backing), "%s", argv[i]);
		}
	}
	if (!backing[0]) {
		msg("expected a block device (see --help)");
		return 2;
	}
	if (json_path && tool_check_output("--json", json_path))
		return 2;
	/* Everything that would make no test run is said before the plan. */
	if (stat(backing, &st)) {
		msg("cannot use %s: %s", backing, strerror(errno));
		return 2;
	}
	if (!S_ISBLK(st.st_mode)) {
		msg("%s is not a block device: aio-ioerr needs a scratch block device it may overwrite (such as brd's /dev/ram3)",
		    backing);
		return 2;
	}
	if (geteuid() != 0)
		return skip_all("device-mapper needs root");
	fd = open(backing, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes) || bytes < 4 << 20) {
		msg("%s: %s", backing,
		    fd < 0 ? strerror(errno) :
			     "a block device of at least 4 MiB is needed");
		if (fd >= 0)
			close(fd);
		return 2;
	}
	close(fd);
	/* dm-linear over DEV claims it for each test: no O_EXCL for the run. */
	if (target_check_writable(backing, force, &sig)) {
		target_refuse_msg(backing, &sig);
		return 1;
	}
	ret = tool_io_setup(64, &probe, "the tests");
	if (ret == TOOL_EXIT_SKIP)
		return skip_all(
			"native AIO is not in this kernel (CONFIG_AIO=n)");
	if (ret)
		return ret;
	sys_io_destroy(probe);
	backing_sectors = bytes / 512;
	data_id = verify_new_file_id();
	ret = dm_open_control();
	if (ret) {
		char why[128];

		snprintf(why, sizeof(why), "no device-mapper: %s",
			 strerror(-ret));
		return skip_all(why);
	}
	remove_ours();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	printf("KTAP version 1\n1..4\n");
	snprintf(table_err, sizeof(table_err), "0 %d error", 2 * HALF_SECTORS);
	snprintf(table_mixed, sizeof(table_mixed),
		 "0 %d linear %s 0\n%d %d error", HALF_SECTORS, backing,
		 HALF_SECTORS, HALF_SECTORS);
	snprintf(table_flakey, sizeof(table_flakey), "0 %d flakey %s 0 0 1",
		 2 * HALF_SECTORS, backing);

	{
		const struct plan plans[] = {
			{ dm_names[0], table_err, 4, one_read, all_eio },
			{ dm_names[1], table_err, 4, one_write, all_eio },
			{ dm_names[2], table_mixed, MIXED_NR, mixed_iocb,
			  mixed_expect },
			{ dm_names[3], table_flakey, 4, one_read, all_eio },
		};

		for (i = 0; i < (int)ARRAY_SIZE(plans); i++)
			run(&plans[i]);
	}
	for (i = 0; i < nresults; i++) {
		failed += !strcmp(results[i].verdict, "fail");
		skipped += !strcmp(results[i].verdict, "skip");
	}
	printf("# Totals: pass:%d fail:%d skip:%d\n",
	       nresults - failed - skipped, failed, skipped);
	if (json_path && write_json(json_path)) {
		msg("cannot write %s", json_path);
		return 1;
	}
	return failed ? 1 : 0;
}
