/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the aio poll missed wake-up fixed in 5.16 by 363bee27e258
 * ("aio: keep poll requests on waitqueue until completed"), made to
 * happen, the way libaio's harness case 23.t does.  A wake-up without an
 * event mask (splice into a pipe passes none, unlike write) cannot
 * complete the poll in the waker: it schedules the completion work.
 * Before the fix the wake-up also took the request off the pipe's
 * waitqueue until that work ran; if meanwhile the pipe was drained, the
 * work found it not ready and queued the request again, and a refill of
 * the pipe in between woke nobody: the poll never completed although the
 * pipe was readable.
 *
 * Per round, three threads on one pipe and one context: the first
 * submits a POLLIN poll on the empty pipe; the second splices a byte into
 * it (the mask-less wake-up); the third, spinning on the pipe, reads that
 * byte as soon as it is there (the drain: before the completion work the
 * wake-up scheduled has looked) and splices another (the refill), at once
 * or after a pause that varies from round to round so that over the rounds
 * the refill sweeps across the work's short window between its vfs_poll()
 * and its return to the waitqueue.  Meanwhile the second calls io_cancel
 * on an iocb the context does not have, over and over: that takes the
 * context's ctx_lock, which the work takes inside that window, and keeps
 * busy the CPU where the wake-up queued the work, so that the drain more
 * often comes first.  The second and the third keep to CPUs of their own.
 * On ci/mutants' kernel under TCG, 027 (the fix reverted) failed it in
 * every run tried, within 3 to 1218 rounds; 026 (a wake-up lost while the
 * work runs) in one run of six.  regress.poll_wakeups never failed there.
 *
 * When the second and third are done the pipe holds a byte, so the poll
 * must complete.  The verdict waits for it for as long as the watchdog
 * lets the test run, not for a guessed time: a correct kernel completes it
 * at once, the bug never does.
 *
 * Whether a round could have shown the bug is read from the ring: a tail
 * that had not moved when the third thread had drained the pipe means
 * that the poll was pending, woken, with the pipe empty again: the window
 * opened.  The rounds where it did are counted and reported (and those
 * where the poll was still pending right after the refill); none in the
 * whole run is a skip, since then the test could not have failed.  One
 * such group of threads runs per two CPUs (23.t runs one per CPU, but the
 * spinning third thread needs a CPU of its own).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "peers.h"

#define GROUPS_MAX 8
/* Rounds per group: 23.t does 5000 per CPU (--long). */
#define ROUNDS_DEFAULT 2500
#define ROUNDS_FULL 5000

struct pgroup {
	struct tctx *t;
	aio_context_t ctx;
	int rd, wr, src;
	int id;
	unsigned int rounds, done;
	uint64_t end; /* t_watchdog_end() at the test's start */
	pthread_barrier_t bar;
	pthread_t th[2];
	int started;
	unsigned int tail0; /* the ring's tail before the round's poll */
	bool stop;
	bool refilled; /* this round's refill is done */
	/* counted by the third thread */
	unsigned long drained_pending, refilled_pending;
	/* the first failure of a helper thread: errno and what */
	int err;
	const char *what;
};

/* One byte from the source file into the pipe: a wake-up without a mask. */
static int splice_byte(struct pgroup *g)
{
	loff_t off = 0;

	if (splice(g->src, &off, g->wr, NULL, 1, 0) == 1)
		return 0;
	return -errno;
}

static void helper_failed(struct pgroup *g, int err, const char *what)
{
	if (!g->err) {
		g->err = err;
		g->what = what;
	}
	/* Keep the other threads' promise: the pipe gets its byte. */
	(void)!write(g->wr, "x", 1);
}

/*
 * Keep this thread on CPU cpu of those the process may use (the waker's
 * and the drainer's differ, or the two spinning threads share one and
 * each round waits for the scheduler's slice).  Best effort.
 */
static void pin(int cpu)
{
	cpu_set_t allowed, one;
	int i, k = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	if (CPU_COUNT(&allowed) < 2)
		return;
	cpu %= CPU_COUNT(&allowed);
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &allowed))
			continue;
		if (k++ == cpu) {
			CPU_ZERO(&one);
			CPU_SET(i, &one);
			sched_setaffinity(0, sizeof(one), &one);
			return;
		}
	}
}

/*
 * Thread 2: the wake-up that cannot complete the poll in place.  Then,
 * until the refill, io_cancel of an iocb the context does not have
 * (EINVAL, nothing else): each call takes the context's ctx_lock, which
 * the completion work takes between its vfs_poll() and its return to the
 * waitqueue, so that window lasts longer.
 */
static void *waker(void *arg)
{
	struct pgroup *g = arg;
	struct iocb none;
	struct io_event ev;
	int r;

	memset(&none, 0, sizeof(none));
	pin(g->id * 2 + 1);
	for (;;) {
		pthread_barrier_wait(&g->bar);
		if (__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE))
			break;
		r = splice_byte(g);
		if (r)
			helper_failed(g, -r, "splice in the waker");
		while (!__atomic_load_n(&g->refilled, __ATOMIC_ACQUIRE))
			sys_io_cancel(g->ctx, &none, &ev);
		pthread_barrier_wait(&g->bar);
	}
	return NULL;
}

/*
 * The drainer's pause between the drain and the refill in round n: none
 * in every other round (as in 23.t), else 1 to 63 us.
 */
static uint64_t pause_ns(unsigned int n)
{
	if (n % 2 == 0)
		return 0;
	return (uint64_t)(((n * 2654435761u) >> 16) % 63 + 1) * 1000;
}

/*
 * Read the waker's byte as soon as it is in the pipe: a spin on the
 * non-blocking end, not a sleep, so that the drain comes before the
 * completion work, which the same wake-up only scheduled.  0 or -1 with
 * errno.
 */
static int drain(struct pgroup *g, char *c)
{
	unsigned int spin;
	ssize_t n;

	for (spin = 1;; spin++) {
		n = read(g->rd, c, 1);
		if (n == 1)
			return 0;
		if (n == 0)
			errno = EPIPE;
		if (n == 0 || errno != EAGAIN)
			return -1;
		if (spin % 4096 == 0 && now_ns() > g->end) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* Thread 3: drains the pipe and refills it, watching the ring. */
static void *drainer(void *arg)
{
	struct pgroup *g = arg;
	unsigned int n;
	uint64_t until;
	char c;
	int r;

	pin(g->id * 2);
	for (n = 0;; n++) {
		pthread_barrier_wait(&g->bar);
		if (__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE))
			break;
		if (drain(g, &c)) {
			helper_failed(g, errno, "read in the drainer");
			__atomic_store_n(&g->refilled, true, __ATOMIC_RELEASE);
		} else {
			bool pending = ring_tail(g->ctx) == g->tail0;

			until = now_ns() + pause_ns(n);
			while (now_ns() < until)
				;
			r = splice_byte(g);
			if (r)
				helper_failed(g, -r, "splice in the drainer");
			__atomic_store_n(&g->refilled, true, __ATOMIC_RELEASE);
			if (pending) {
				g->drained_pending++;
				if (ring_tail(g->ctx) == g->tail0)
					g->refilled_pending++;
			}
		}
		pthread_barrier_wait(&g->bar);
	}
	return NULL;
}

/*
 * Wait for the round's poll for as long as the watchdog allows (less a
 * margin to say why): 1, 0 when it never came, or -errno.
 */
static int wait_poll(uint64_t end, aio_context_t ctx, struct io_event *ev)
{
	int r;

	do {
		struct timespec ts = { 1, 0 };

		r = sys_io_getevents(ctx, 1, 1, ev, &ts);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == 1)
			return 1;
	} while (now_ns() < end);
	return 0;
}

/* Thread 1's rounds, in the group's own thread. */
static void *poller(void *arg)
{
	struct pgroup *g = arg;
	struct iocb cb, *cbs[1] = { &cb };
	struct pollfd pfd;
	struct io_event ev;
	unsigned int i;
	char c;
	int r;

	for (i = 0; i < g->rounds && !g->err; i++) {
		prep_poll(&cb, g->rd, POLLIN);
		g->tail0 = ring_tail(g->ctx);
		g->refilled = false;
		if (sys_io_submit(g->ctx, 1, cbs) != 1) {
			g->err = errno;
			g->what = "io_submit of the poll";
			break;
		}
		pthread_barrier_wait(&g->bar); /* go */
		pthread_barrier_wait(&g->bar); /* the others are done */
		/* The pipe holds a byte: the poll must complete. */
		pfd.fd = g->rd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN)) {
			g->err = EIO;
			g->what = "the pipe was not readable after the refill";
			break;
		}
		r = wait_poll(g->end, g->ctx, &ev);
		if (r <= 0) {
			g->err = r ? -r : ETIMEDOUT;
			g->what = r ? "io_getevents" : "missed";
			break;
		}
		if (!(ev.res & POLLIN)) {
			g->err = EIO;
			g->what = "the poll completed without POLLIN";
			break;
		}
		if (read(g->rd, &c, 1) != 1) {
			g->err = errno;
			g->what = "read in the poller";
			break;
		}
		g->done++;
	}
	__atomic_store_n(&g->stop, true, __ATOMIC_RELEASE);
	pthread_barrier_wait(&g->bar); /* the helpers see stop and end */
	return NULL;
}

static int group_start(struct tctx *t, struct pgroup *g, int id,
		       unsigned int rounds)
{
	int p[2];

	g->t = t;
	g->id = id;
	g->end = t_watchdog_end(t);
	g->rounds = rounds;
	g->src = t->fd;
	g->rd = g->wr = -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	g->rd = p[0];
	g->wr = p[1];
	pthread_barrier_init(&g->bar, NULL, 3);
	if (pthread_create(&g->th[0], NULL, waker, g))
		return -EAGAIN;
	g->started++;
	/* Without it the waker waits for a third forever: left to exit. */
	if (pthread_create(&g->th[1], NULL, drainer, g))
		return -EAGAIN;
	g->started++;
	return 0;
}

static int test_poll_missed_wakeup(struct tctx *t)
{
	struct pgroup g[GROUPS_MAX];
	unsigned long drained = 0, refilled = 0, total = 0;
	unsigned int rounds = t_scaled(ROUNDS_DEFAULT, ROUNDS_FULL);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int ret = T_PASS, n, i, r;
	pthread_t th[GROUPS_MAX];
	int running = 0;
	loff_t off = 0;

	n = ncpu < 4 ? 1 : ncpu / 2 > GROUPS_MAX ? GROUPS_MAX : (int)(ncpu / 2);
	memset(g, 0, sizeof(g));
	for (i = 0; i < n; i++) {
		g[i].rd = g[i].wr = -1;
		if (i == 0) {
			g[i].ctx = t->ctx;
		} else if (t_setup(t, 1, &g[i].ctx)) {
			ret = T_FAIL; /* or a skip, below aio-max-nr */
			goto out;
		}
	}
	/* splice from a file into a pipe: absent on some filesystems. */
	r = (int)splice(t->fd, &off, t->pipe[1], NULL, 1, 0);
	if (r < 0 && (errno == EINVAL || errno == ENOSYS))
		SKIP("splice from a file into a pipe: %s", errno_name(errno));
	CHECK(r == 1, "splice: %d %s", r, errno_name(errno));
	for (i = 0; i < n; i++) {
		r = group_start(t, &g[i], i, rounds);
		if (r == -EMFILE || r == -ENFILE) {
			t_fd_limit(t, -r);
			ret = T_SKIP;
			goto out;
		}
		CHECK(!r, "group %d: %s", i, errno_name(-r));
	}
	for (i = 0; i < n; i++) {
		CHECK(!pthread_create(&th[i], NULL, poller, &g[i]),
		      "pthread_create");
		running++;
	}
out:
	for (i = 0; i < running; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < n; i++) {
		if (g[i].started == 2) {
			if (i >= running) {
				/* Never polled: this thread is their third. */
				__atomic_store_n(&g[i].stop, true,
						 __ATOMIC_RELEASE);
				pthread_barrier_wait(&g[i].bar);
			}
			pthread_join(g[i].th[0], NULL);
			pthread_join(g[i].th[1], NULL);
		}
		drained += g[i].drained_pending;
		refilled += g[i].refilled_pending;
		total += g[i].done;
		if (g[i].err && ret == T_PASS) {
			if (!strcmp(g[i].what, "missed"))
				ret = t_fail(
					t, __FILE__, __LINE__,
					"group %d: the poll never completed "
					"although the pipe was readable "
					"(a missed wake-up: 363bee27e258 "
					"absent?)",
					i);
			else
				ret = t_fail(t, __FILE__, __LINE__,
					     "group %d: %s: %s", i, g[i].what,
					     errno_name(g[i].err));
		}
		if (g[i].rd >= 0) {
			close(g[i].rd);
			close(g[i].wr);
		}
		if (i > 0 && g[i].ctx)
			sys_io_destroy(g[i].ctx);
	}
	if (ret == T_PASS || ret == T_FAIL)
		t_diag(t,
		       "%d group%s, %lu rounds: the pipe drained with the poll "
		       "pending after the wake-up in %lu, still pending right "
		       "after the refill in %lu",
		       n, n > 1 ? "s" : "", total, drained, refilled);
	if (ret == T_PASS && !drained)
		ret = t_skip(t,
			     "the racy window never opened: in %lu rounds the "
			     "poll had always completed before the pipe was "
			     "drained",
			     total);
	return ret;
}
CONFORM_TEST(test_poll_missed_wakeup, "regress.poll_wakeup_drain_refill", 0,
	     .ctx = 1, .pipe = true, .aio_poll = true,
	     .file = { .name = "byte",
		       .size = 4096,
		       .fill = T_ZEROS,
		       .oflags = O_RDONLY })
