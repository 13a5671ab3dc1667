/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: what the watchdog says about a test that hangs.  Each test
 * child shares a table with the runner, mapped before the fork: the AIO
 * calls it is inside, the contexts it made and the iocbs it submitted and
 * has not reaped, written by the t_io_*() wrappers that harness.h puts in
 * place of aio_sys.h's sys_io_*() in every test (and inherited by the
 * test's own children).  When a test times out, the runner reads the
 * table, each context's completion ring header from the owner's own
 * mapping (process_vm_readv), /proc/sys/fs/aio-nr, and each process's
 * state, wchan and, as root, kernel stack, before it kills the child.
 */
#define WATCHDOG_NO_WRAP
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "harness.h"
#include "json.h"
#include "proc.h"
#include "util.h"

#define REASON_LEN 4096
#define WD_IOCBS 512
#define WD_CALLS 32
#define WD_CTXS 32

/* A slot is free (0), being written (1) or holds an entry (2). */
enum { SLOT_FREE, SLOT_BUSY, SLOT_USED };

enum wd_call {
	WD_SETUP,
	WD_DESTROY,
	WD_SUBMIT,
	WD_GETEVENTS,
	WD_PGETEVENTS,
	WD_CANCEL
};

static const char *const call_names[] = {
	[WD_SETUP] = "io_setup",	   [WD_DESTROY] = "io_destroy",
	[WD_SUBMIT] = "io_submit",	   [WD_GETEVENTS] = "io_getevents",
	[WD_PGETEVENTS] = "io_pgetevents", [WD_CANCEL] = "io_cancel",
};

struct wd_table {
	char reason[REASON_LEN];
	unsigned int untracked;
	/* iocbs io_submit took plus events reaped: the test moves */
	unsigned long progress;
	struct {
		unsigned int state;
		int pid;
		uint64_t ctx;
	} ctx[WD_CTXS];
	struct {
		unsigned int state;
		int tid;
		unsigned int call;
		uint64_t ctx, since_ns;
		long nr;
	} call[WD_CALLS];
	struct {
		unsigned int state;
		int pid;
		unsigned int opcode, fd;
		uint64_t ctx, iocb, offset, nbytes, since_ns;
	} iocb[WD_IOCBS];
};

static struct wd_table *wd;

struct wd_table *wd_table_new(void)
{
	void *p = mmap(NULL, sizeof(struct wd_table), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void wd_table_free(struct wd_table *tab)
{
	if (tab)
		munmap(tab, sizeof(*tab));
}

char *wd_reason(struct wd_table *tab)
{
	return tab->reason;
}

size_t wd_reason_len(void)
{
	return REASON_LEN;
}

unsigned long wd_progress(struct wd_table *tab)
{
	return __atomic_load_n(&tab->progress, __ATOMIC_RELAXED);
}

void wd_attach(struct wd_table *tab)
{
	wd = tab;
}

/* Claim a free slot among n, each stride bytes from state: its index. */
static int claim(unsigned int *state, size_t stride, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		unsigned int *s = (unsigned int *)((char *)state + stride * i);
		unsigned int expect = SLOT_FREE;

		if (__atomic_load_n(s, __ATOMIC_RELAXED) == SLOT_FREE &&
		    __atomic_compare_exchange_n(s, &expect, SLOT_BUSY, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return i;
	}
	return -1;
}

#define CLAIM(arr) \
	claim(&(arr)[0].state, sizeof((arr)[0]), (int)ARRAY_SIZE(arr))
#define PUBLISH(slot) \
	__atomic_store_n(&(slot).state, SLOT_USED, __ATOMIC_RELEASE)
#define RELEASE(slot) \
	__atomic_store_n(&(slot).state, SLOT_FREE, __ATOMIC_RELEASE)
#define IS_USED(slot) \
	(__atomic_load_n(&(slot).state, __ATOMIC_ACQUIRE) == SLOT_USED)

static int call_begin(enum wd_call call, aio_context_t ctx, long nr)
{
	int i;

	if (!wd)
		return -1;
	i = CLAIM(wd->call);
	if (i < 0)
		return -1;
	wd->call[i].tid = (int)syscall(SYS_gettid);
	wd->call[i].call = call;
	wd->call[i].ctx = ctx;
	wd->call[i].nr = nr;
	wd->call[i].since_ns = now_ns();
	PUBLISH(wd->call[i]);
	return i;
}

static void call_end(int i)
{
	if (i >= 0)
		RELEASE(wd->call[i]);
}

/* Read len bytes at src of this process without faulting: true if read. */
static bool read_self(void *dst, const void *src, size_t len)
{
	struct iovec local = { dst, len };
	struct iovec remote = { (void *)src, len };

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
	       (ssize_t)len;
}

/* Record cb as submitted to ctx: the slot, or -1. */
static int iocb_add(aio_context_t ctx, struct iocb *addr, const struct iocb *cb)
{
	int i = CLAIM(wd->iocb);

	if (i < 0) {
		__atomic_add_fetch(&wd->untracked, 1, __ATOMIC_RELAXED);
		return -1;
	}
	wd->iocb[i].pid = (int)getpid();
	wd->iocb[i].ctx = ctx;
	wd->iocb[i].iocb = (uint64_t)(uintptr_t)addr;
	wd->iocb[i].opcode = cb->aio_lio_opcode;
	wd->iocb[i].fd = cb->aio_fildes;
	wd->iocb[i].offset = (uint64_t)cb->aio_offset;
	wd->iocb[i].nbytes = cb->aio_nbytes;
	wd->iocb[i].since_ns = now_ns();
	PUBLISH(wd->iocb[i]);
	return i;
}

/* Forget one iocb of ctx at address iocb (0: every iocb of ctx). */
static void iocb_del(aio_context_t ctx, uint64_t iocb)
{
	int pid = (int)getpid();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(wd->iocb); i++) {
		if (!IS_USED(wd->iocb[i]) || wd->iocb[i].pid != pid ||
		    wd->iocb[i].ctx != ctx ||
		    (iocb && wd->iocb[i].iocb != iocb))
			continue;
		RELEASE(wd->iocb[i]);
		if (iocb)
			return;
	}
}

int t_io_setup(unsigned int nr, aio_context_t *ctxp)
{
	int c = call_begin(WD_SETUP, 0, nr), r, e, i;
	aio_context_t ctx = 0;

	r = sys_io_setup(nr, ctxp);
	e = errno;
	call_end(c);
	if (!r && wd && read_self(&ctx, ctxp, sizeof(ctx))) {
		i = CLAIM(wd->ctx);
		if (i >= 0) {
			wd->ctx[i].pid = (int)getpid();
			wd->ctx[i].ctx = ctx;
			PUBLISH(wd->ctx[i]);
		}
	}
	errno = e;
	return r;
}

int t_io_destroy(aio_context_t ctx)
{
	int c = call_begin(WD_DESTROY, ctx, 0), r, e, pid = (int)getpid();
	size_t i;

	r = sys_io_destroy(ctx);
	e = errno;
	call_end(c);
	if (!r && wd) {
		iocb_del(ctx, 0);
		for (i = 0; i < ARRAY_SIZE(wd->ctx); i++)
			if (IS_USED(wd->ctx[i]) && wd->ctx[i].ctx == ctx &&
			    wd->ctx[i].pid == pid)
				RELEASE(wd->ctx[i]);
	}
	errno = e;
	return r;
}

int t_io_submit(aio_context_t ctx, long nr, struct iocb **cbs)
{
	int c = call_begin(WD_SUBMIT, ctx, nr), r, e;
	int slots[64], k = 0, i;
	struct iocb *addr, cb;

	/*
	 * Record before the call, so that a completion reaped by another
	 * thread finds its entry.  Tests pass bad pointers on purpose: they
	 * are read without faulting, and only what was read is recorded.
	 */
	if (wd && nr > 0) {
		for (i = 0; i < nr && k < (int)ARRAY_SIZE(slots); i++) {
			if (!read_self(&addr, &cbs[i], sizeof(addr)) ||
			    !read_self(&cb, addr, sizeof(cb)))
				break;
			slots[k++] = iocb_add(ctx, addr, &cb);
		}
	}
	r = sys_io_submit(ctx, nr, cbs);
	e = errno;
	/* Those the kernel did not take are not in flight. */
	for (i = r > 0 ? r : 0; i < k; i++)
		if (slots[i] >= 0)
			RELEASE(wd->iocb[slots[i]]);
	if (wd && r > 0)
		__atomic_add_fetch(&wd->progress, (unsigned long)r,
				   __ATOMIC_RELAXED);
	/* Past the first 64 of one call: recorded once taken. */
	if (wd && r > k) {
		for (i = k; i < r; i++)
			if (read_self(&addr, &cbs[i], sizeof(addr)) &&
			    read_self(&cb, addr, sizeof(cb)))
				iocb_add(ctx, addr, &cb);
	}
	call_end(c);
	errno = e;
	return r;
}

static void reaped(aio_context_t ctx, const struct io_event *ev, int r)
{
	int i;

	if (wd && r > 0)
		__atomic_add_fetch(&wd->progress, (unsigned long)r,
				   __ATOMIC_RELAXED);
	for (i = 0; wd && i < r; i++)
		iocb_del(ctx, ev[i].obj);
}

int t_io_getevents(aio_context_t ctx, long min_nr, long nr,
		   struct io_event *events, struct timespec *timeout)
{
	int c = call_begin(WD_GETEVENTS, ctx, min_nr), r, e;

	r = sys_io_getevents(ctx, min_nr, nr, events, timeout);
	e = errno;
	call_end(c);
	reaped(ctx, events, r);
	errno = e;
	return r;
}

int t_io_pgetevents(aio_context_t ctx, long min_nr, long nr,
		    struct io_event *events, struct timespec *timeout,
		    const struct aio_sigset *sig)
{
	int c = call_begin(WD_PGETEVENTS, ctx, min_nr), r, e;

	r = sys_io_pgetevents(ctx, min_nr, nr, events, timeout, sig);
	e = errno;
	call_end(c);
	reaped(ctx, events, r);
	errno = e;
	return r;
}

int t_io_cancel(aio_context_t ctx, struct iocb *iocb, struct io_event *result)
{
	int c = call_begin(WD_CANCEL, ctx, 1), r, e;

	r = sys_io_cancel(ctx, iocb, result);
	e = errno;
	call_end(c);
	/* 0: the result came back here (before 4.19), not in the ring. */
	if (!r && wd)
		iocb_del(ctx, (uint64_t)(uintptr_t)iocb);
	errno = e;
	return r;
}

/* The runner's side. */

static const char *const opcodes[] = {
	[IOCB_CMD_PREAD] = "PREAD",   [IOCB_CMD_PWRITE] = "PWRITE",
	[IOCB_CMD_FSYNC] = "FSYNC",   [IOCB_CMD_FDSYNC] = "FDSYNC",
	[IOCB_CMD_POLL] = "POLL",     [IOCB_CMD_NOOP] = "NOOP",
	[IOCB_CMD_PREADV] = "PREADV", [IOCB_CMD_PWRITEV] = "PWRITEV",
};

const char *wd_opcode_name(unsigned int opcode)
{
	if (opcode < ARRAY_SIZE(opcodes) && opcodes[opcode])
		return opcodes[opcode];
	return "?";
}

void wd_proc_read(pid_t pid, struct wd_proc *p)
{
	struct proc_stat st;
	char path[64];

	memset(p, 0, sizeof(*p));
	p->pid = (int)pid;
	p->state = '?';
	/* /proc of another pid namespace would describe someone else. */
	if (proc_self_pid() != getpid())
		return;
	if (!proc_stat(pid, &st))
		p->state = st.state;
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	read_text(path, p->wchan, sizeof(p->wchan));
	if (!strcmp(p->wchan, "0"))
		p->wchan[0] = '\0'; /* running, or hidden */
	snprintf(path, sizeof(path), "/proc/%d/stack", (int)pid);
	if (geteuid() == 0)
		read_text(path, p->stack, sizeof(p->stack));
}

/* The processes of the test: the child's process group, and the pids
 * that have entries in the table. */
static void collect_procs(struct wd_table *tab, pid_t pid,
			  struct wd_report *rep)
{
	int pids[WD_SHOW], n = 0, i, j;
	struct proc_stat st;
	struct dirent *de;
	DIR *d;

	pids[n++] = (int)pid;
	d = proc_self_pid() == getpid() ? opendir("/proc") : NULL;
	while (d && (de = readdir(d)) && n < WD_SHOW) {
		int p = atoi(de->d_name);

		if (p > 0 && p != (int)pid && !proc_stat(p, &st) &&
		    st.pgrp == (int)pid)
			pids[n++] = p;
	}
	if (d)
		closedir(d);
	for (i = 0; i < (int)ARRAY_SIZE(tab->ctx) && n < WD_SHOW; i++) {
		if (!IS_USED(tab->ctx[i]))
			continue;
		for (j = 0; j < n && pids[j] != tab->ctx[i].pid; j++)
			;
		if (j == n && !kill(tab->ctx[i].pid, 0))
			pids[n++] = tab->ctx[i].pid;
	}
	for (i = 0; i < n; i++)
		wd_proc_read(pids[i], &rep->proc[i]);
	rep->nr_procs = n;
}

void wd_collect(struct wd_table *tab, pid_t pid, struct wd_report *rep)
{
	uint64_t now = now_ns();
	size_t i;

	memset(rep, 0, sizeof(*rep));
	if (read_proc_long("/proc/sys/fs/aio-nr", &rep->aio_nr))
		rep->aio_nr = -1;
	rep->untracked = tab->untracked;
	for (i = 0; i < ARRAY_SIZE(tab->iocb); i++) {
		int k = rep->nr_iocbs++;

		if (!IS_USED(tab->iocb[i])) {
			rep->nr_iocbs--;
			continue;
		}
		if (k >= WD_SHOW_IOCBS)
			continue;
		rep->iocb[k].pid = tab->iocb[i].pid;
		rep->iocb[k].ctx = tab->iocb[i].ctx;
		rep->iocb[k].opcode = tab->iocb[i].opcode;
		rep->iocb[k].fd = tab->iocb[i].fd;
		rep->iocb[k].offset = tab->iocb[i].offset;
		rep->iocb[k].nbytes = tab->iocb[i].nbytes;
		rep->iocb[k].age_ns = now - tab->iocb[i].since_ns;
	}
	for (i = 0; i < ARRAY_SIZE(tab->call) && rep->nr_calls < WD_SHOW; i++) {
		int k = rep->nr_calls;

		if (!IS_USED(tab->call[i]))
			continue;
		rep->call[k].tid = tab->call[i].tid;
		rep->call[k].call = tab->call[i].call < ARRAY_SIZE(call_names) ?
					    call_names[tab->call[i].call] :
					    "?";
		rep->call[k].ctx = tab->call[i].ctx;
		rep->call[k].nr = tab->call[i].nr;
		rep->call[k].age_ns = now - tab->call[i].since_ns;
		rep->nr_calls++;
	}
	for (i = 0; i < ARRAY_SIZE(tab->ctx) && rep->nr_rings < WD_SHOW; i++) {
		struct aio_ring_hdr hdr;
		struct iovec local = { &hdr, sizeof(hdr) };
		struct iovec remote;
		int k = rep->nr_rings;

		if (!IS_USED(tab->ctx[i]))
			continue;
		rep->ring[k].pid = tab->ctx[i].pid;
		rep->ring[k].ctx = tab->ctx[i].ctx;
		remote.iov_base = (void *)(uintptr_t)tab->ctx[i].ctx;
		remote.iov_len = sizeof(hdr);
		if (process_vm_readv(tab->ctx[i].pid, &local, 1, &remote, 1,
				     0) == (ssize_t)sizeof(hdr) &&
		    hdr.magic == AIO_RING_MAGIC) {
			rep->ring[k].read = true;
			rep->ring[k].nr = hdr.nr;
			rep->ring[k].head = hdr.head;
			rep->ring[k].tail = hdr.tail;
		}
		rep->nr_rings++;
	}
	collect_procs(tab, pid, rep);
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void print_procs(const struct wd_proc *p, int n, const char *indent,
			const char *name, const char *when)
{
	char copy[sizeof(p->stack)], *line, *save;
	int i;

	for (i = 0; i < n; i++) {
		printf("%s# %s: %spid %d state %c%s%s\n", indent, name, when,
		       p[i].pid, p[i].state, p[i].wchan[0] ? " wchan " : "",
		       p[i].wchan);
		snprintf(copy, sizeof(copy), "%s", p[i].stack);
		for (line = strtok_r(copy, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			printf("%s# %s:   %s\n", indent, name, line);
	}
}

void wd_print(const struct wd_report *rep, const char *indent, const char *name)
{
	int i;

	printf("%s# %s: watchdog: %d iocb%s submitted and not reaped%s", indent,
	       name, rep->nr_iocbs, rep->nr_iocbs == 1 ? "" : "s",
	       rep->untracked ? " (" : "");
	if (rep->untracked)
		printf("and %u untracked)", rep->untracked);
	if (rep->aio_nr >= 0)
		printf(", /proc/sys/fs/aio-nr %ld", rep->aio_nr);
	printf("\n");
	for (i = 0; i < rep->nr_iocbs && i < WD_SHOW_IOCBS; i++)
		printf("%s# %s:   pid %d ctx 0x%llx %s fd %u offset %llu "
		       "%llu bytes, %.1f s ago\n",
		       indent, name, rep->iocb[i].pid,
		       (unsigned long long)rep->iocb[i].ctx,
		       wd_opcode_name(rep->iocb[i].opcode), rep->iocb[i].fd,
		       (unsigned long long)rep->iocb[i].offset,
		       (unsigned long long)rep->iocb[i].nbytes,
		       secs(rep->iocb[i].age_ns));
	for (i = 0; i < rep->nr_rings; i++) {
		if (rep->ring[i].read)
			printf("%s# %s: ring ctx 0x%llx (pid %d): head %u "
			       "tail %u of %u\n",
			       indent, name,
			       (unsigned long long)rep->ring[i].ctx,
			       rep->ring[i].pid, rep->ring[i].head,
			       rep->ring[i].tail, rep->ring[i].nr);
		else
			printf("%s# %s: ring ctx 0x%llx (pid %d): unreadable\n",
			       indent, name,
			       (unsigned long long)rep->ring[i].ctx,
			       rep->ring[i].pid);
	}
	for (i = 0; i < rep->nr_calls; i++)
		printf("%s# %s: tid %d in %s(ctx 0x%llx, %ld) for %.1f s\n",
		       indent, name, rep->call[i].tid, rep->call[i].call,
		       (unsigned long long)rep->call[i].ctx, rep->call[i].nr,
		       secs(rep->call[i].age_ns));
	print_procs(rep->proc, rep->nr_procs, indent, name, "");
	for (i = 0; i < rep->nr_hung; i++)
		printf("%s# %s: kernel log: %s\n", indent, name, rep->hung[i]);
	print_procs(rep->left, rep->nr_left, indent, name,
		    "left behind after SIGKILL: ");
}

static void json_procs(struct json *j, const char *key, const struct wd_proc *p,
		       int n)
{
	char copy[sizeof(p->stack)], state[2] = "", *line, *save;
	int i;

	json_arr_begin(j, key);
	for (i = 0; i < n; i++) {
		json_obj_begin(j, NULL);
		json_int(j, "pid", p[i].pid);
		state[0] = p[i].state;
		json_str(j, "state", state);
		json_str(j, "wchan", p[i].wchan);
		json_arr_begin(j, "stack");
		snprintf(copy, sizeof(copy), "%s", p[i].stack);
		for (line = strtok_r(copy, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			json_str(j, NULL, line);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

void wd_json(struct json *j, const char *key, const struct wd_report *rep)
{
	int i;

	json_obj_begin(j, key);
	if (rep->aio_nr >= 0)
		json_int(j, "aio_nr", rep->aio_nr);
	else
		json_null(j, "aio_nr");
	json_int(j, "iocbs_not_reaped", rep->nr_iocbs);
	json_uint(j, "iocbs_untracked", rep->untracked);
	json_arr_begin(j, "iocbs");
	for (i = 0; i < rep->nr_iocbs && i < WD_SHOW_IOCBS; i++) {
		json_obj_begin(j, NULL);
		json_int(j, "pid", rep->iocb[i].pid);
		json_uint(j, "ctx", rep->iocb[i].ctx);
		json_str(j, "opcode", wd_opcode_name(rep->iocb[i].opcode));
		json_uint(j, "fd", rep->iocb[i].fd);
		json_uint(j, "offset_bytes", rep->iocb[i].offset);
		json_uint(j, "nbytes_bytes", rep->iocb[i].nbytes);
		json_uint(j, "age_ns", rep->iocb[i].age_ns);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_arr_begin(j, "rings");
	for (i = 0; i < rep->nr_rings; i++) {
		json_obj_begin(j, NULL);
		json_int(j, "pid", rep->ring[i].pid);
		json_uint(j, "ctx", rep->ring[i].ctx);
		if (rep->ring[i].read) {
			json_uint(j, "nr", rep->ring[i].nr);
			json_uint(j, "head", rep->ring[i].head);
			json_uint(j, "tail", rep->ring[i].tail);
		} else {
			json_null(j, "head");
			json_null(j, "tail");
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	json_arr_begin(j, "calls");
	for (i = 0; i < rep->nr_calls; i++) {
		json_obj_begin(j, NULL);
		json_int(j, "tid", rep->call[i].tid);
		json_str(j, "call", rep->call[i].call);
		json_uint(j, "ctx", rep->call[i].ctx);
		json_int(j, "nr", rep->call[i].nr);
		json_uint(j, "age_ns", rep->call[i].age_ns);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_procs(j, "processes", rep->proc, rep->nr_procs);
	json_arr_begin(j, "kernel_log");
	for (i = 0; i < rep->nr_hung; i++)
		json_str(j, NULL, rep->hung[i]);
	json_arr_end(j);
	json_procs(j, "left_behind", rep->left, rep->nr_left);
	json_obj_end(j);
}
