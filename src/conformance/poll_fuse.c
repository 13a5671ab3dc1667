/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: notify.poll_woken_while_checked: an aio poll whose file
 * becomes ready while the completion work checks it completes.
 *
 * A wake-up without an event mask (FUSE's poll notification passes none)
 * cannot complete an aio poll in the waker: it schedules the completion
 * work, which asks the file (vfs_poll).  When the file becomes ready while
 * that check runs, after it looked, the file's wake-up comes while the
 * work is still running: the kernel must run the work again (it keeps the
 * poll on the file's waitqueue and notes the wake-up, 363bee27e258).  The
 * kernels this kills are ci/mutants' 026 (the wake-up noted while the
 * work runs is dropped) and 027 (363bee27e258 reverted: the poll is off the
 * waitqueue while the work runs, and the wake-up finds nobody): their
 * poll never completes although its file is ready.
 *
 * regress.poll_wakeup_drain_refill makes that window happen by chance,
 * with a pipe and three threads; here it is made by construction: the file
 * is on a FUSE mount whose daemon is this test.  The daemon answers the
 * poll request that the work's check sends with "not ready", but before it
 * answers, the file becomes ready and the daemon says so with a poll
 * notification: the wake-up lands inside the check, every time.  It
 * answers every later check with POLLIN.  The precondition, proved before
 * the verdict: the poll was in flight (the ring empty) when the first
 * wake-up came, and a check ran with the file made ready inside it; a
 * kernel that never checks again after a wake-up fails for that instead.
 * The mount is in a mount namespace of the test's own (fuse_srv.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse_srv.h"
#include "harness.h"

#define PF_INO 2 /* the one file, "f" */

enum pf_phase {
	PF_IDLE, /* not ready: every check answered 0 */
	PF_ARMED, /* the next check makes it ready while it runs */
	PF_READY, /* it is: later checks answered POLLIN */
};

struct pf_srv {
	int fd; /* /dev/fuse */
	int stop;
	int phase; /* enum pf_phase */
	int have_kh;
	uint64_t kh; /* the kernel's handle of the open file */
	int polls; /* FUSE_POLL requests answered */
	int notify_err; /* the daemon's notification: 0 or -errno */
};

static void pf_attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = ino == PF_INO ? S_IFREG | 0444 : S_IFDIR | 0755;
	a->nlink = ino == PF_INO ? 1 : 2;
	a->blksize = 4096;
}

static void pf_poll(struct pf_srv *f, const struct fuse_in_header *h)
{
	const struct fuse_poll_in *in = (const void *)(h + 1);
	struct fuse_poll_out out;
	int phase = __atomic_load_n(&f->phase, __ATOMIC_ACQUIRE);

	memset(&out, 0, sizeof(out));
	f->kh = in->kh;
	__atomic_store_n(&f->have_kh, 1, __ATOMIC_RELEASE);
	if (phase == PF_ARMED) {
		/*
		 * The file becomes ready while the kernel checks it and says
		 * so; this check reports what it found: nothing.
		 */
		__atomic_store_n(&f->phase, PF_READY, __ATOMIC_RELEASE);
		/* misbehave: the wake-up is lost, as on 026 and 027 */
		if (!t_misbehave("poll-rewake-lost"))
			f->notify_err = t_fuse_notify_poll(f->fd, in->kh);
	} else if (phase == PF_READY) {
		out.revents = POLLIN;
	}
	t_fuse_reply(f->fd, h->unique, 0, &out, sizeof(out));
	__atomic_add_fetch(&f->polls, 1, __ATOMIC_RELEASE);
}

static void pf_request(struct pf_srv *f, const struct fuse_in_header *h)
{
	switch (h->opcode) {
	case FUSE_INIT:
		t_fuse_init_reply(f->fd, h);
		break;
	case FUSE_LOOKUP: {
		struct fuse_entry_out e;

		if (h->nodeid != FUSE_ROOT_ID ||
		    strcmp((const char *)(h + 1), "f")) {
			t_fuse_reply(f->fd, h->unique, -ENOENT, NULL, 0);
			break;
		}
		memset(&e, 0, sizeof(e));
		e.nodeid = PF_INO;
		e.generation = 1;
		pf_attr(&e.attr, PF_INO);
		t_fuse_reply(f->fd, h->unique, 0, &e, sizeof(e));
		break;
	}
	case FUSE_GETATTR: {
		struct fuse_attr_out a;

		memset(&a, 0, sizeof(a));
		pf_attr(&a.attr, h->nodeid);
		t_fuse_reply(f->fd, h->unique, 0, &a, sizeof(a));
		break;
	}
	case FUSE_OPEN: {
		struct fuse_open_out o;

		memset(&o, 0, sizeof(o));
		o.fh = 1;
		t_fuse_reply(f->fd, h->unique, 0, &o, sizeof(o));
		break;
	}
	case FUSE_POLL:
		pf_poll(f, h);
		break;
	case FUSE_FLUSH:
	case FUSE_RELEASE:
		t_fuse_reply(f->fd, h->unique, 0, NULL, 0);
		break;
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		break; /* no answer expected */
	default:
		t_fuse_reply(f->fd, h->unique, -ENOSYS, NULL, 0);
	}
}

static void *pf_serve(void *arg)
{
	struct pf_srv *f = arg;
	size_t size = 1 << 17; /* more than FUSE_MIN_READ_BUFFER */
	char *buf = malloc(size);

	while (buf && !__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		ssize_t n;

		/* a bounded wait, so that stop is seen: not a verdict */
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(f->fd, buf, size);
		if (n < (ssize_t)sizeof(struct fuse_in_header)) {
			if (n < 0 && errno != EINTR && errno != EAGAIN &&
			    errno != ENOENT)
				break; /* ENODEV: the connection is gone */
			continue;
		}
		pf_request(f, (const struct fuse_in_header *)buf);
	}
	free(buf);
	return NULL;
}

static int test_poll_woken_while_checked(struct tctx *t)
{
	struct pf_srv f = { .fd = -1 };
	struct t_fuse fm = { .fd = -1 };
	struct timespec zero = { 0, 0 };
	struct iocb cb, *cbs[1] = { &cb };
	char path[PATH_MAX + 2];
	int ret = T_PASS, fd = -1, r;
	bool serving = false;
	struct io_event ev;
	pthread_t th;

	ret = t_fuse_mount(t, &fm, "aio-conform-poll",
			   "the polled file is on a FUSE mount");
	if (ret != T_PASS)
		goto out;
	f.fd = fm.fd;
	CHECK(!pthread_create(&th, NULL, pf_serve, &f), "pthread_create");
	serving = true;
	snprintf(path, sizeof(path), "%s/f", fm.mnt);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", path, errno_name(errno));

	prep_poll(&cb, fd, POLLIN);
	CHECK_RET(sys_io_submit(t->ctx, 1, cbs), 1);
	CHECK(__atomic_load_n(&f.have_kh, __ATOMIC_ACQUIRE),
	      "io_submit of a poll did not ask the FUSE file (no FUSE_POLL)");
	CHECK_RET(sys_io_getevents(t->ctx, 0, 1, &ev, &zero), 0);
	/* in flight: now a wake-up, whose check makes the file ready */
	__atomic_store_n(&f.phase, PF_ARMED, __ATOMIC_RELEASE);
	r = t_fuse_notify_poll(f.fd, f.kh);
	CHECK(!r, "FUSE_NOTIFY_POLL: %s", errno_name(-r));
	r = t_reap(t->ctx, 1, &ev);
	CHECK(!f.notify_err, "the daemon's FUSE_NOTIFY_POLL: %s",
	      errno_name(-f.notify_err));
	if (r != 1 && __atomic_load_n(&f.phase, __ATOMIC_ACQUIRE) != PF_READY)
		FAIL("a wake-up of the polled file did not make the kernel "
		     "check it again (%d FUSE_POLL requests); reap: %s",
		     __atomic_load_n(&f.polls, __ATOMIC_ACQUIRE),
		     r < 0 ? errno_name(-r) : "no event");
	CHECK(r == 1,
	      "the file became ready while the kernel checked it after a "
	      "wake-up, and said so with another wake-up, but the poll did "
	      "not complete (%d FUSE_POLL requests); reap: %s",
	      __atomic_load_n(&f.polls, __ATOMIC_ACQUIRE),
	      r < 0 ? errno_name(-r) : "no event");
	CHECK(ev.res & POLLIN, "poll res 0x%llx", (unsigned long long)ev.res);
	t_diag(t,
	       "%d FUSE_POLL requests: the one at submit, the check the "
	       "wake-up started (the file made ready inside it), and the "
	       "check run again",
	       __atomic_load_n(&f.polls, __ATOMIC_ACQUIRE));
out:
	if (t->ctx) {
		/* the poll, should it still wait, goes with its context */
		sys_io_destroy(t->ctx);
		t->ctx = 0;
	}
	if (fd >= 0)
		close(fd);
	if (serving) {
		__atomic_store_n(&f.stop, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
	}
	t_fuse_unmount(&fm);
	return ret;
}
CONFORM_TEST(test_poll_woken_while_checked, "notify.poll_woken_while_checked",
	     0, .ctx = 8, .aio_poll = true)
