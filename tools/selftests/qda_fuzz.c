// SPDX-License-Identifier: GPL-2.0
/*
 * qda_fuzz - a seeded, structure-aware fuzzer of the QDA accel ioctls,
 * against the mock DSP (tools/mock-dsp), with the mock's faults and channel
 * restarts switched on at random.
 *
 * usage: qda_fuzz [-s SEED] [-n IOCTLS] [-t SECONDS] [-p PROCS] [-j THREADS]
 *                 [-v]
 *
 * PROCS forked worker processes (default 2) of THREADS threads each
 * (default 3) share, per process, a pool of accel files on the cdsp, adsp,
 * cdsp1 and sdsp channels, GEM handles, CPU mappings, DSP mappings and
 * dma-bufs (PRIME exports and /dev/dma_heap/system buffers). Each thread
 * runs operations drawn from its own random stream, seeded from SEED, the
 * process and the thread: every operation draws the same number of random
 * words whatever happens, so a seed fixes each thread's sequence of
 * operations and their parameters. Which live file or handle an index
 * picks depends on earlier outcomes, which faults and the other threads'
 * timing can change. Most requests are well formed, built from what the
 * pool tracks (the test skel's methods with inline and GEM arguments,
 * MAP/MUNMAP of live buffers, ...); a quarter are mutated (bad sizes,
 * unaligned offsets, reserved bits, bad pointers, huge counts, stale or
 * foreign handles, closed files), and other threads close, unmap and free
 * what one thread is using.
 *
 * The parent process arms the mock's faults (drop, dup, corrupt, short,
 * delay, restart-mid-call) and restarts channels at random, and watches
 * for hangs. User calls wait interruptibly, so a call whose answer a fault
 * ate is interrupted with SIGUSR1 after a while (EINTR), as a FastRPC
 * client would be.
 *
 * It fails (TAP "not ok", exit 1) on:
 *  - an errno outside the ones the UAPI documents (any ioctl), a kernel-
 *    internal code (>= 512), or EFAULT/EINVAL/ENOENT/EBADF/ENOTTY on a well-
 *    formed request whose file and buffers no other thread touched meanwhile
 *    (EINVAL is fine for a MAP, call argument or shell in an import the DSP
 *    sees in several pieces: dma-heap pages without an IOMMU, see fdinfo);
 *  - a wrong answer: echo, sum, checksum and fill results, the skel's fail
 *    code mapping (UAPI: raw DSP status, errno, or EIO), GET_PARAM values,
 *    QUERY names, DSP status codes the mock never returns;
 *  - a hang: an operation running for more than HANG_S seconds;
 *  - a protocol violation counted by the mock (no fault the mock injects
 *    counts as one by itself; user calls on the utility handle 2 would, as
 *    the driver passes those through like fastrpc.c, so none are made);
 *  - DSP state (processes, mappings, handles, listeners) left on any
 *    channel once every file is closed and late answers had time to come,
 *    or IOMMU pages left mapped (arm64), or a fresh session that does not
 *    work after the run.
 * Splats (WARNING, lockdep, KASAN, kmemleak) are caught by tools/qda-vm.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/dma-heap.h>

#include "qda_common.h"
#include "qda_gem.h"
#include "qda_rpc.h"

#define NCHAN		4
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NFILES		8
#define NOBJS		32
#define NMAPS		16
#define NBUFS		8
#define NORPHANS	8
#define MAX_PROCS	8
#define MAX_THREADS	8
/* An operation running longer than this is a hang. */
#define HANG_S		60
/* An INVOKE waiting longer than this gets SIGUSR1. */
#define KICK_MS		700

#define AEE(code)		(0x80000400u + (code))

static const char *const chan_name[NCHAN] = { "cdsp", "adsp", "cdsp1", "sdsp" };

/* ---- operation kinds (the histogram's rows) ---- */

enum kind {
	K_QUERY, K_GEM_CREATE, K_GEM_MMAP_OFFSET, K_INIT_ATTACH, K_INIT_CREATE,
	K_MAP, K_MUNMAP, K_INVOKE, K_GET_PARAM, K_INIT_ATTACH_SNS,
	K_INIT_CREATE_STATIC, K_UNKNOWN, K_PRIME_TO_FD, K_PRIME_TO_HANDLE,
	K_GEM_CLOSE, K_HEAP_ALLOC, K_OPEN, K_CLOSE, K_MMAP, K_CPU_MUNMAP,
	K_NR
};

static const char *const kind_name[K_NR] = {
	"QUERY", "GEM_CREATE", "GEM_MMAP_OFFSET", "INIT_ATTACH", "INIT_CREATE",
	"MAP", "MUNMAP", "INVOKE", "GET_PARAM", "INIT_ATTACH_SNS",
	"INIT_CREATE_STATIC", "unknown-nr", "PRIME_HANDLE_TO_FD",
	"PRIME_FD_TO_HANDLE", "GEM_CLOSE", "dma-heap-alloc", "open", "close",
	"mmap", "munmap",
};

/* Histogram columns: 0 success, 1..133 errno, 134 DSP status, 135 other. */
#define H_DSP		134
#define H_OTHER		135
#define H_COLS		136

/* ---- state shared by every process (MAP_SHARED) ---- */

struct thr_st {
	atomic_llong ops;
	atomic_llong start_ms;	/* of the running operation, 0 if none */
	atomic_int kind;
	atomic_int in_invoke;
	atomic_int done;
	pid_t tid;
};

struct shared {
	atomic_llong ioctls;		/* device syscalls made (the budget) */
	atomic_llong hist[K_NR][H_COLS];
	atomic_int failed;
	atomic_int stop;
	atomic_llong kicks;		/* SIGUSR1 sent */
	struct thr_st thr[MAX_PROCS][MAX_THREADS];
	pthread_mutex_t msg_lock;
	char msg[4096];
};

static struct shared *sh;
static unsigned long long g_seed;
static long long g_budget = 1000000;
static long long g_deadline_ms;
static int g_procs = 2, g_threads = 3, g_verbose;
static long g_page;
static int g_have_heap;
/* A reserved PROT_NONE page and a read-only page: bad pointers no mapping reuses. */
static void *g_noaccess, *g_rdonly;

/* ---- random numbers: splitmix64 ---- */

static uint64_t mix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Random words of one operation: always all of them drawn. */
#define NR_WORDS	32
struct rnd {
	uint64_t w[NR_WORDS];
	int i;
};

static uint64_t rnext(struct rnd *r)
{
	return r->w[r->i++ % NR_WORDS];
}

static unsigned int rbelow(struct rnd *r, unsigned int n)
{
	return n ? (unsigned int)(rnext(r) % n) : 0;
}

static int rchance(struct rnd *r, unsigned int one_in)
{
	return rbelow(r, one_in) == 0;
}

/* ---- failures ---- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	size_t len;

	pthread_mutex_lock(&sh->msg_lock);
	len = strlen(sh->msg);
	if (len < sizeof(sh->msg) - 256) {
		va_start(ap, fmt);
		vsnprintf(sh->msg + len, sizeof(sh->msg) - len, fmt, ap);
		va_end(ap);
		len = strlen(sh->msg);
		if (len < sizeof(sh->msg) - 1) {
			sh->msg[len] = '\n';
			sh->msg[len + 1] = 0;
		}
	}
	pthread_mutex_unlock(&sh->msg_lock);
	atomic_store(&sh->failed, 1);
	atomic_store(&sh->stop, 1);
}

/* ---- per-process pool ---- */

struct ffile {
	int used, fd, chan, dead;
	unsigned int gen;
};

struct fobj {
	int used, file;		/* file slot */
	unsigned int gen, fgen;
	uint32_t handle;
	uint64_t size;
	void *cpu;		/* CPU mapping (GEM mmap or dma-buf mmap), or NULL */
	size_t cpulen;
	int imported;		/* came in through PRIME_FD_TO_HANDLE */
	int scattered;		/* the DSP sees it in several pieces */
};

struct fmap {
	int used, file;
	unsigned int fgen;
	uint32_t request, handle;
	uint64_t vaddrout, vaddrin, size;
};

struct fbuf {
	int used, fd;
	unsigned int gen;
	uint64_t size;
};

struct chst {
	int pd;
	uint32_t skel;
};

struct orphan {
	int used;
	void *addr;
	size_t len;
};

static struct pool {
	pthread_mutex_t lock;
	struct ffile f[NFILES];
	struct fobj o[NOBJS];
	struct fmap m[NMAPS];
	struct fbuf b[NBUFS];
	struct chst c[NCHAN];
	struct orphan orph[NORPHANS];
	char node[NCHAN][64];
	unsigned int gen;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * Serialises PRIME imports with GEM_CLOSE: an import may return a handle
 * the file has already (its own export, or a dma-buf imported before),
 * and one closed while it is being returned would leave the pool with a
 * stale entry. Real clients do not race those; everything else may.
 */
static pthread_mutex_t hlock = PTHREAD_MUTEX_INITIALIZER;

static void lock(void)
{
	pthread_mutex_lock(&P.lock);
}

static void unlock(void)
{
	pthread_mutex_unlock(&P.lock);
}

/* Live entry number @k (mod the live count) of an array; -1 if none. */
#define PICK(arr, n, k) ({						\
	int __c = 0, __i, __r = -1;					\
	for (__i = 0; __i < (n); __i++)					\
		__c += !!(arr)[__i].used;				\
	if (__c) {							\
		int __want = (int)((k) % (unsigned int)__c);		\
		for (__i = 0; __i < (n); __i++)				\
			if ((arr)[__i].used && !__want--) {		\
				__r = __i;				\
				break;					\
			}						\
	}								\
	__r;								\
})

#define FREE_SLOT(arr, n) ({						\
	int __i, __r = -1;						\
	for (__i = 0; __i < (n); __i++)					\
		if (!(arr)[__i].used) {					\
			__r = __i;					\
			break;						\
		}							\
	__r;								\
})

/* ---- per-thread state ---- */

struct thr {
	int proc, idx;
	uint64_t seed;
	struct thr_st *st;
	long long iter;
	struct rnd r;
	/* Scratch for ioctl arguments and inline data. */
	uint8_t arg[16384] __attribute__((aligned(64)));
	uint8_t in[8192] __attribute__((aligned(64)));
	uint8_t out[8192] __attribute__((aligned(64)));
	char what[256];
};

static __thread int t_sigs;

static void on_usr1(int sig)
{
	(void)sig;
	t_sigs++;
}

/* ---- syscalls, counted and classified ---- */

static void hist(int kind, long ret, int err)
{
	int col;

	if (ret == -1)
		col = err > 0 && err < H_DSP ? err : H_OTHER;
	else if (ret == 0 || kind == K_OPEN || kind == K_MMAP)
		col = 0;
	else
		col = H_DSP;
	atomic_fetch_add(&sh->hist[kind][col], 1);
}

static void op_begin(struct thr *t, int kind)
{
	atomic_store(&t->st->kind, kind);
	atomic_store(&t->st->in_invoke, kind == K_INVOKE);
	atomic_store(&t->st->start_ms, now_ms());
}

static void op_end(struct thr *t)
{
	atomic_store(&t->st->in_invoke, 0);
	atomic_store(&t->st->start_ms, 0);
	atomic_fetch_add(&t->st->ops, 1);
}

static long xioctl(struct thr *t, int kind, int fd, unsigned long req, void *arg)
{
	long ret;
	int err;

	op_begin(t, kind);
	ret = ioctl(fd, req, arg);
	err = errno;
	op_end(t);
	atomic_fetch_add(&sh->ioctls, 1);
	hist(kind, ret, err);
	errno = err;
	return ret;
}

/* errno values the UAPI, the DRM core or the VFS may give back for bad input. */
static int errno_documented(int e)
{
	switch (e) {
	case EPERM:
	case ENOENT:
	case EINTR:
	case EIO:
	case EBADF:
	case EAGAIN:
	case ENOMEM:
	case EACCES:
	case EFAULT:
	case EBUSY:
	case EEXIST:
	case ENODEV:
	case EINVAL:
	case ENOTTY:
	case EFBIG:
	case ENOSPC:
	case E2BIG:
	case EPIPE:
	case EOVERFLOW:
	case ENOTCONN:
	case ETIMEDOUT:
	case EALREADY:
	case EOPNOTSUPP:
	case ENXIO:
	case EMFILE:
	case ENFILE:
	case ERANGE:
		return 1;
	}
	return 0;
}

/* DSP status codes the mock answers with. */
static int dsp_status_known(long ret)
{
	uint32_t v = (uint32_t)ret;

	return v == AEE(0x02) || v == AEE(0x0d) || v == AEE(0x0e) ||
	       v == AEE(0x14) || v == AEE(0x1a) || v == AEE(0x27) ||
	       v == AEE(0x2c);
}

/*
 * Judges one result. @wf: the request was well formed; @raced: something it
 * named was closed or replaced meanwhile by another thread.
 */
static void judge(struct thr *t, int kind, int wf, int raced, long ret, int err)
{
	if (ret == -1) {
		if (err >= 512 || !errno_documented(err)) {
			fail("worker %d.%d op %lld: %s: errno %d (%s) is not a documented error: %s",
			     t->proc, t->idx, t->iter, kind_name[kind], err,
			     strerror(err), t->what);
			return;
		}
		if (wf && !raced && (err == EFAULT || err == EINVAL ||
				     err == ENOENT || err == EBADF ||
				     err == ENOTTY))
			fail("worker %d.%d op %lld: %s: well-formed request failed with %s: %s",
			     t->proc, t->idx, t->iter, kind_name[kind],
			     strerror(err), t->what);
		return;
	}
	if (ret != 0 && kind != K_OPEN && kind != K_MMAP &&
	    (ret > -4096 || !dsp_status_known(ret)) && !(ret > 0 && !wf))
		fail("worker %d.%d op %lld: %s: returned 0x%lx, not a status of the mock DSP: %s",
		     t->proc, t->idx, t->iter, kind_name[kind], ret, t->what);
}

/*
 * A call whose DSP method may answer anything (the skel's fail with any
 * code): a negative errno from the DSP comes back as that errno, other
 * values in the errno range as EIO; kernel-internal codes never.
 */
static void judge_raw(struct thr *t, long ret, int err)
{
	if (ret == -1 && (err <= 0 || err >= 134))
		fail("worker %d.%d op %lld: INVOKE: errno %d: %s", t->proc,
		     t->idx, t->iter, err, t->what);
	else if (ret < 0 && ret > -4096 && ret != -1)
		fail("worker %d.%d op %lld: INVOKE: returned %ld: %s", t->proc,
		     t->idx, t->iter, ret, t->what);
}

/* ---- nodes and files ---- */

/* Path of the node of channel @c (rescanned when it moved). */
static int open_chan(int c)
{
	char path[64];
	struct drm_qda_query q;
	int fd;

	lock();
	snprintf(path, sizeof(path), "%s", P.node[c]);
	unlock();
	if (path[0]) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			if (!qda_query(fd, &q) && !strcmp((char *)q.dsp_name, chan_name[c]))
				return fd;
			close(fd);
		}
	}
	if (qda_find_node(chan_name[c], path, sizeof(path)) != 1)
		return -1;
	lock();
	snprintf(P.node[c], sizeof(P.node[c]), "%s", path);
	unlock();
	return open(path, O_RDWR | O_CLOEXEC);
}

/* Unmaps (or orphans) what a closed file's objects had mapped; lock held. */
static void forget_file_locked(int fslot, int keep_mappings)
{
	int i;

	for (i = 0; i < NOBJS; i++) {
		struct fobj *o = &P.o[i];

		if (!o->used || o->file != fslot)
			continue;
		if (o->cpu) {
			int k = FREE_SLOT(P.orph, NORPHANS);

			if (keep_mappings && k >= 0)
				P.orph[k] = (struct orphan){ 1, o->cpu, o->cpulen };
			else
				munmap(o->cpu, o->cpulen);
		}
		memset(o, 0, sizeof(*o));
		o->gen = ++P.gen;
	}
	for (i = 0; i < NMAPS; i++)
		if (P.m[i].used && P.m[i].file == fslot)
			memset(&P.m[i], 0, sizeof(P.m[i]));
}

static int chan_files_locked(int c)
{
	int i, n = 0;

	for (i = 0; i < NFILES; i++)
		n += P.f[i].used && P.f[i].chan == c;
	return n;
}

static void op_open(struct thr *t, int c)
{
	int fd, slot;

	op_begin(t, K_OPEN);
	fd = open_chan(c);
	op_end(t);
	hist(K_OPEN, fd < 0 ? -1 : fd, errno);
	if (fd < 0)
		return;
	lock();
	slot = FREE_SLOT(P.f, NFILES);
	if (slot < 0) {
		unlock();
		close(fd);
		return;
	}
	P.f[slot] = (struct ffile){ .used = 1, .fd = fd, .chan = c, .gen = ++P.gen };
	unlock();
}

static void op_close(struct thr *t, unsigned int k, int keep)
{
	int slot, fd, i;

	lock();
	/* A file the DSP restart killed goes first. */
	slot = -1;
	for (i = 0; i < NFILES; i++)
		if (P.f[i].used && P.f[i].dead)
			slot = i;
	if (slot < 0)
		slot = PICK(P.f, NFILES, k);
	if (slot < 0) {
		unlock();
		return;
	}
	fd = P.f[slot].fd;
	forget_file_locked(slot, keep);
	if (chan_files_locked(P.f[slot].chan) == 1)
		P.c[P.f[slot].chan] = (struct chst){ 0 };
	memset(&P.f[slot], 0, sizeof(P.f[slot]));
	P.f[slot].gen = ++P.gen;
	unlock();
	op_begin(t, K_CLOSE);
	i = close(fd);
	op_end(t);
	hist(K_CLOSE, i, errno);
	if (i)
		fail("close: %s", strerror(errno));
}

/* Picks a live file: fd, channel, slot, gen; -1 if none. */
static int pick_file(unsigned int k, int *chan, int *slot, unsigned int *gen)
{
	int s, fd;

	lock();
	s = PICK(P.f, NFILES, k);
	if (s < 0) {
		unlock();
		return -1;
	}
	fd = P.f[s].fd;
	*chan = P.f[s].chan;
	*slot = s;
	*gen = P.f[s].gen;
	unlock();
	return fd;
}

/* Was the pool entry of fields @used and @egen freed or reused since @gen? */
static int entry_changed(const int *used, const unsigned int *egen, unsigned int gen)
{
	int r;

	lock();
	r = !*used || *egen != gen;
	unlock();
	return r;
}

static int file_changed(int slot, unsigned int gen)
{
	return entry_changed(&P.f[slot].used, &P.f[slot].gen, gen);
}

static int obj_changed(int slot, unsigned int gen)
{
	return entry_changed(&P.o[slot].used, &P.o[slot].gen, gen);
}

static void mark_dead(int slot, unsigned int gen, int err)
{
	if (err != ENODEV)
		return;
	lock();
	if (P.f[slot].used && P.f[slot].gen == gen)
		P.f[slot].dead = 1;
	unlock();
}

/* Picks an object, preferably of file @fslot (@own); copies it into @o. */
static int pick_obj(unsigned int k, int fslot, int own, struct fobj *o)
{
	int i, s = -1, c = 0;

	lock();
	if (own) {
		for (i = 0; i < NOBJS; i++)
			c += P.o[i].used && P.o[i].file == fslot;
		if (c) {
			int want = (int)(k % (unsigned int)c);

			for (i = 0; i < NOBJS; i++)
				if (P.o[i].used && P.o[i].file == fslot && !want--) {
					s = i;
					break;
				}
		}
	} else {
		s = PICK(P.o, NOBJS, k);
	}
	if (s >= 0)
		*o = P.o[s];
	unlock();
	return s;
}

/* Picks any object, copied into @o, and its file's fd (*@fd); its slot or -1. */
static int pick_obj_fd(unsigned int k, struct fobj *o, int *fd)
{
	int s = pick_obj(k, 0, 0, o);

	if (s >= 0) {
		lock();
		*fd = P.f[o->file].fd;
		unlock();
	}
	return s;
}

/* ---- a bad pointer of one of several kinds ---- */

static void *bad_ptr(struct rnd *r)
{
	switch (rbelow(r, 5)) {
	case 0:
		return NULL;
	case 1:
		return g_noaccess;
	case 2:
		return (void *)(uintptr_t)0xffff800000001000ULL;
	case 3:
		return (char *)g_noaccess + g_page - 8;	/* runs into nothing */
	default:
		return (void *)(uintptr_t)(rnext(r) | 1);
	}
}

/* ---- GEM ---- */

static uint64_t wf_size(struct rnd *r)
{
	switch (rbelow(r, 8)) {
	case 0:
		return 1 + rbelow(r, 3 * g_page);
	case 1:
		return (uint64_t)g_page << rbelow(r, 9);	/* up to 1 MiB */
	default:
		return (uint64_t)g_page * (1 + rbelow(r, 16));
	}
}

static void op_gem_create(struct thr *t)
{
	struct drm_qda_gem_create *c = (void *)t->arg;
	struct rnd *r = &t->r;
	int chan, fslot, fd, mut, slot;
	unsigned int fgen;
	long ret;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	mut = rchance(r, 4);
	memset(c, 0, sizeof(*c));
	c->size = wf_size(r);
	c->handle = (uint32_t)rnext(r);
	if (mut) {
		switch (rbelow(r, 6)) {
		case 0:
			c->size = 0;
			break;
		case 1:
			c->size = ~0ULL - rbelow(r, 8192);
			break;
		case 2:
			c->size = 1ULL << (30 + rbelow(r, 34));
			break;
		case 3:
			c->pad = 1 + (uint32_t)rnext(r);
			break;
		case 4:
			c->size = (64ULL << 20) + rbelow(r, 1 << 20);
			break;
		default:
			fd = rchance(r, 2) ? -1 : 1000 + (int)rbelow(r, 10);
			break;
		}
	}
	if (fd < 0 && !mut)
		return;
	snprintf(t->what, sizeof(t->what), "GEM_CREATE %s size 0x%llx pad %u",
		 chan_name[chan], (unsigned long long)c->size, c->pad);
	ret = xioctl(t, K_GEM_CREATE, fd, DRM_IOCTL_QDA_GEM_CREATE,
		     rchance(r, 40) && mut ? bad_ptr(r) : c);
	judge(t, K_GEM_CREATE, !mut, fd < 0 || file_changed(fslot, fgen), ret, errno);
	if (ret) {
		if (fd >= 0)
			mark_dead(fslot, fgen, errno);
		return;
	}
	lock();
	slot = FREE_SLOT(P.o, NOBJS);
	if (slot >= 0 && P.f[fslot].used && P.f[fslot].gen == fgen) {
		P.o[slot] = (struct fobj){
			.used = 1, .file = fslot, .gen = ++P.gen, .fgen = fgen,
			.handle = c->handle,
			.size = (c->size + g_page - 1) & ~(uint64_t)(g_page - 1),
		};
		unlock();
		return;
	}
	/*
	 * No room to track it: give it back (a GEM_CLOSE), unless its file
	 * was closed meanwhile: the fd may name another file by now (files
	 * are closed only after leaving the pool, under the lock).
	 */
	if (P.f[fslot].used && P.f[fslot].gen == fgen) {
		unlock();
		pthread_mutex_lock(&hlock);
		lock();
		if (P.f[fslot].used && P.f[fslot].gen == fgen)
			gem_close(fd, c->handle);
		pthread_mutex_unlock(&hlock);
	}
	unlock();
}

static void op_gem_close(struct thr *t)
{
	struct drm_gem_close *c = (void *)t->arg;
	struct rnd *r = &t->r;
	int s, fd = -1, mut, keep;
	long ret;

	mut = rchance(r, 5);
	keep = rchance(r, 4);
	pthread_mutex_lock(&hlock);
	lock();
	s = PICK(P.o, NOBJS, rnext(r));
	memset(c, 0, sizeof(*c));
	if (s >= 0) {
		struct fobj *o = &P.o[s];

		fd = P.f[o->file].fd;
		c->handle = o->handle;
		if (!mut) {
			if (o->cpu) {
				int k = FREE_SLOT(P.orph, NORPHANS);

				if (keep && k >= 0)
					P.orph[k] = (struct orphan){ 1, o->cpu, o->cpulen };
				else
					munmap(o->cpu, o->cpulen);
			}
			memset(o, 0, sizeof(*o));
			o->gen = ++P.gen;
		}
	}
	unlock();
	/* Never a live handle: the pool would lose track of it. */
	if (mut)
		c->handle = rchance(r, 2) ? (uint32_t)rnext(r) | 0x40000000u : 0;
	if (fd >= 0) {
		snprintf(t->what, sizeof(t->what), "GEM_CLOSE handle %u", c->handle);
		ret = xioctl(t, K_GEM_CLOSE, fd, DRM_IOCTL_GEM_CLOSE, c);
	}
	pthread_mutex_unlock(&hlock);
	if (fd < 0)
		return;
	/* The fd may have been closed (and reused) meanwhile: always raced. */
	judge(t, K_GEM_CLOSE, 0, 1, ret, errno);
}

/* GEM_MMAP_OFFSET and an mmap of an object (or a mutated one). */
static void op_mmap(struct thr *t)
{
	struct drm_qda_gem_mmap_offset *m = (void *)t->arg;
	struct rnd *r = &t->r;
	struct fobj o;
	int s, fd, mut, prot, flags;
	size_t len;
	off_t off;
	long ret;
	void *p;

	mut = rchance(r, 4);
	s = pick_obj_fd(rnext(r), &o, &fd);
	if (s < 0)
		return;
	memset(m, 0, sizeof(*m));
	m->handle = o.handle;
	if (mut && rchance(r, 2)) {
		if (rchance(r, 2))
			m->pad = 1 + rbelow(r, 100);
		else
			m->handle = (uint32_t)rnext(r);
	}
	snprintf(t->what, sizeof(t->what), "GEM_MMAP_OFFSET handle %u pad %u", m->handle, m->pad);
	ret = xioctl(t, K_GEM_MMAP_OFFSET, fd, DRM_IOCTL_QDA_GEM_MMAP_OFFSET, m);
	judge(t, K_GEM_MMAP_OFFSET, !mut, obj_changed(s, o.gen), ret, errno);
	if (ret)
		return;
	len = o.size;
	off = m->offset;
	prot = PROT_READ | PROT_WRITE;
	flags = MAP_SHARED;
	if (mut) {
		switch (rbelow(r, 5)) {
		case 0:
			len = o.size + g_page * (1 + rbelow(r, 4));
			break;
		case 1:
			off += g_page * (1 + rbelow(r, 4));
			break;
		case 2:
			flags = MAP_PRIVATE;
			break;
		case 3:
			off += 1 + rbelow(r, g_page - 1);
			break;
		default:
			len = g_page;
			prot = PROT_READ;
			break;
		}
	}
	op_begin(t, K_MMAP);
	p = mmap(NULL, len, prot, flags, fd, off);
	op_end(t);
	atomic_fetch_add(&sh->ioctls, 1);
	hist(K_MMAP, p == MAP_FAILED ? -1 : 0, errno);
	if (p == MAP_FAILED) {
		snprintf(t->what, sizeof(t->what), "mmap handle %u len %zu off 0x%llx",
			 o.handle, len, (unsigned long long)off);
		/* GEM mmap of an imported object: its exporter's business. */
		judge(t, K_MMAP, !mut && !o.imported, obj_changed(s, o.gen), -1, errno);
		return;
	}
	lock();
	if (!mut && P.o[s].used && P.o[s].gen == o.gen && !P.o[s].cpu) {
		P.o[s].cpu = p;
		P.o[s].cpulen = len;
		P.o[s].gen = ++P.gen;
		p = NULL;
	}
	unlock();
	if (p)
		munmap(p, len);
}

static void op_cpu_munmap(struct thr *t)
{
	struct rnd *r = &t->r;
	int s, k;
	void *p = NULL;
	size_t len = 0;

	k = rbelow(r, 3);
	s = (int)rnext(r);
	lock();
	if (k == 0) {
		int i = PICK(P.orph, NORPHANS, (unsigned int)s);

		if (i >= 0) {
			p = P.orph[i].addr;
			len = P.orph[i].len;
			memset(&P.orph[i], 0, sizeof(P.orph[i]));
		}
	} else {
		int i, c = 0, want;

		for (i = 0; i < NOBJS; i++)
			c += P.o[i].used && P.o[i].cpu;
		want = c ? (int)((unsigned int)s % c) : -1;
		for (i = 0; i < NOBJS && want >= 0; i++)
			if (P.o[i].used && P.o[i].cpu && !want--) {
				p = P.o[i].cpu;
				len = P.o[i].cpulen;
				P.o[i].cpu = NULL;
				P.o[i].gen = ++P.gen;
				break;
			}
	}
	unlock();
	if (!p)
		return;
	op_begin(t, K_CPU_MUNMAP);
	k = munmap(p, len);
	op_end(t);
	hist(K_CPU_MUNMAP, k, errno);
	if (k)
		fail("munmap of a GEM mapping: %s", strerror(errno));
}

/* ---- PRIME and dma-heap ---- */

static void add_buf(int dfd, uint64_t size)
{
	int s;

	lock();
	s = FREE_SLOT(P.b, NBUFS);
	if (s >= 0)
		P.b[s] = (struct fbuf){ .used = 1, .fd = dfd, .size = size, .gen = ++P.gen };
	unlock();
	if (s < 0)
		close(dfd);
}

static void op_prime_export(struct thr *t)
{
	struct drm_prime_handle *p = (void *)t->arg;
	struct rnd *r = &t->r;
	struct fobj o;
	int s, fd, mut;
	long ret;

	mut = rchance(r, 4);
	s = pick_obj_fd(rnext(r), &o, &fd);
	if (s < 0)
		return;
	memset(p, 0, sizeof(*p));
	p->handle = o.handle;
	p->flags = DRM_CLOEXEC | DRM_RDWR;
	if (mut) {
		if (rchance(r, 2))
			p->flags = (uint32_t)rnext(r);
		else
			p->handle = (uint32_t)rnext(r);
	}
	snprintf(t->what, sizeof(t->what), "PRIME_HANDLE_TO_FD handle %u flags 0x%x",
		 p->handle, p->flags);
	ret = xioctl(t, K_PRIME_TO_FD, fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, p);
	judge(t, K_PRIME_TO_FD, !mut, obj_changed(s, o.gen), ret, errno);
	if (!ret)
		add_buf(p->fd, o.size);
}

static void op_heap_alloc(struct thr *t)
{
	struct rnd *r = &t->r;
	uint64_t size = wf_size(r);
	int dfd;

	if (!g_have_heap)
		return;
	op_begin(t, K_HEAP_ALLOC);
	dfd = heap_alloc(size);
	op_end(t);
	atomic_fetch_add(&sh->ioctls, 1);
	hist(K_HEAP_ALLOC, dfd < 0 ? -1 : 0, -dfd);
	if (dfd >= 0)
		add_buf(dfd, (size + g_page - 1) & ~(uint64_t)(g_page - 1));
}

static void op_prime_import(struct thr *t)
{
	struct drm_prime_handle *p = (void *)t->arg;
	struct rnd *r = &t->r;
	int bs, fd, chan, fslot, mut, s, map, err;
	unsigned int fgen, bgen = 0;
	uint64_t size = 0;
	long ret;
	void *cpu = NULL;
	char key[32], val[128], *seg;
	int scattered;

	mut = rchance(r, 5);
	map = !rchance(r, 3);
	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	lock();
	bs = PICK(P.b, NBUFS, rnext(r));
	memset(p, 0, sizeof(*p));
	if (bs >= 0) {
		p->fd = P.b[bs].fd;
		bgen = P.b[bs].gen;
		size = P.b[bs].size;
	}
	unlock();
	if (fd < 0 || bs < 0)
		return;
	if (mut) {
		switch (rbelow(r, 3)) {
		case 0:
			p->fd = -1 - (int)rbelow(r, 5);
			break;
		case 1:
			p->fd = fd;
			break;
			/* not a dma-buf */
		default:
			p->flags = 1 + (uint32_t)rbelow(r, 0xffff);
			break;
		}
	}
	snprintf(t->what, sizeof(t->what), "PRIME_FD_TO_HANDLE %s fd %d flags 0x%x",
		 chan_name[chan], p->fd, p->flags);
	pthread_mutex_lock(&hlock);
	ret = xioctl(t, K_PRIME_TO_HANDLE, fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, p);
	err = errno;
	if (ret)
		pthread_mutex_unlock(&hlock);
	errno = err;
	lock();
	s = !P.b[bs].used || P.b[bs].gen != bgen;
	unlock();
	/* The dma-buf fd number may have been closed and reused meanwhile. */
	judge(t, K_PRIME_TO_HANDLE, !mut, s || file_changed(fslot, fgen), ret, errno);
	if (ret) {
		mark_dead(fslot, fgen, errno);
		return;
	}
	if (mut) {
		pthread_mutex_unlock(&hlock);
		return;
	}
	if (map) {
		cpu = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
		if (cpu == MAP_FAILED)
			cpu = NULL;
	}
	/*
	 * Without an IOMMU a dma-heap buffer reaches the DSP in pieces (fdinfo
	 * says how many); a MAP or a call argument must lie in one of them,
	 * EINVAL otherwise.
	 */
	snprintf(key, sizeof(key), "qda-buffer-%u", p->handle);
	seg = strstr(fdinfo_get(0, fd, key, val, sizeof(val)) ? "" : val, "segments=");
	scattered = !seg || strtol(seg + 9, NULL, 10) != 1;
	lock();
	s = FREE_SLOT(P.o, NOBJS);
	if (s >= 0 && P.f[fslot].used && P.f[fslot].gen == fgen) {
		int i, dup = 0;

		/* A re-import of an object already tracked returns its handle. */
		for (i = 0; i < NOBJS; i++)
			dup |= P.o[i].used && P.o[i].file == fslot &&
			       P.o[i].handle == p->handle;
		if (!dup) {
			P.o[s] = (struct fobj){
				.used = 1, .file = fslot, .gen = ++P.gen,
				.fgen = fgen, .handle = p->handle, .size = size,
				.cpu = cpu, .cpulen = size, .imported = 1,
				.scattered = scattered,
			};
			cpu = NULL;
		}
	}
	unlock();
	pthread_mutex_unlock(&hlock);
	if (cpu)
		munmap(cpu, size);
}

static void op_buf_close(struct thr *t)
{
	struct rnd *r = &t->r;
	int s, fd = -1;

	lock();
	s = PICK(P.b, NBUFS, rnext(r));
	if (s >= 0) {
		fd = P.b[s].fd;
		memset(&P.b[s], 0, sizeof(P.b[s]));
		P.b[s].gen = ++P.gen;
	}
	unlock();
	if (fd >= 0) {
		op_begin(t, K_CLOSE);
		s = close(fd);
		op_end(t);
		hist(K_CLOSE, s, errno);
	}
}

/* ---- QUERY, GET_PARAM, unknown numbers ---- */

static void op_query(struct thr *t)
{
	struct drm_qda_query *q = (void *)t->arg;
	struct rnd *r = &t->r;
	int fd, chan, fslot, mut;
	unsigned int fgen;
	long ret;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	mut = rchance(r, 5);
	if (fd < 0)
		return;
	memset(q, 0xa5, sizeof(*q));
	snprintf(t->what, sizeof(t->what), "QUERY %s", chan_name[chan]);
	ret = xioctl(t, K_QUERY, fd, DRM_IOCTL_QDA_QUERY, mut ? bad_ptr(r) : q);
	judge(t, K_QUERY, !mut, file_changed(fslot, fgen), ret, errno);
	if (ret) {
		mark_dead(fslot, fgen, errno);
		return;
	}
	if (!mut && !file_changed(fslot, fgen) && strcmp((char *)q->dsp_name, chan_name[chan]))
		fail("QUERY on a %s file names \"%.16s\"", chan_name[chan], q->dsp_name);
}

static uint64_t mock_attr(unsigned int id)
{
	switch (id) {
	case 1:
		return 1;
	case 3:
		return 4;
	case 4:
		return 0x40000;
	case 5:
		return 1;
	case 6:
		return 0x73;
	case 255:
		return 0x4d4f434bu;
	}
	return 0;
}

static void op_get_param(struct thr *t)
{
	struct drm_qda_get_param *p = (void *)t->arg;
	struct rnd *r = &t->r;
	int fd, chan, fslot, mut;
	unsigned int fgen;
	long ret;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	mut = rchance(r, 4);
	memset(p, 0, sizeof(*p));
	p->param = rchance(r, 3) ? 255 : rbelow(r, 256);
	if (mut) {
		if (rchance(r, 2))
			p->pad = 1 + rbelow(r, 7);
		else
			p->param = 256 + (uint32_t)rnext(r) % 0xffffff00u;
	}
	if (fd < 0)
		return;
	snprintf(t->what, sizeof(t->what), "GET_PARAM %s param %u pad %u",
		 chan_name[chan], p->param, p->pad);
	ret = xioctl(t, K_GET_PARAM, fd, DRM_IOCTL_QDA_GET_PARAM, p);
	judge(t, K_GET_PARAM, !mut, file_changed(fslot, fgen), ret, errno);
	if (ret) {
		mark_dead(fslot, fgen, errno);
		return;
	}
	if (mut)
		fail("GET_PARAM succeeded: %s", t->what);
	else if (p->value != mock_attr(p->param) && p->param)
		fail("GET_PARAM %s %u = 0x%llx, the mock says 0x%llx", chan_name[chan],
		     p->param, (unsigned long long)p->value,
		     (unsigned long long)mock_attr(p->param));
}

static void op_unknown(struct thr *t)
{
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };
	/*
	 * Core numbers whose zeroed argument names nothing (VERSION,
	 * GET_UNIQUE, GET_MAGIC, GET_CLIENT, GEM_FLINK, GET_CAP,
	 * SET_CLIENT_CAP, SET_MASTER, DROP_MASTER, a mode and a syncobj
	 * ioctl the accel device does not have): others would change
	 * handles or write through pointers behind the pool's back.
	 */
	static const unsigned int core[] = { 0x00, 0x01, 0x02, 0x05, 0x0a, 0x0c,
					     0x0d, 0x1e, 0x1f, 0xa0, 0xbf };
	/* Known QDA numbers without a DSP call or pool effect. */
	static const unsigned int qda[] = { DRM_QDA_QUERY, DRM_QDA_GEM_MMAP_OFFSET,
					    DRM_QDA_GET_PARAM };
	struct rnd *r = &t->r;
	int fd, chan, fslot, type = DRM_IOCTL_BASE;
	unsigned int fgen, nr, size, dir;
	unsigned long req;
	long ret;
	void *arg;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	dir = dirs[rbelow(r, 4)];
	size = rchance(r, 2) ? rbelow(r, 64) : rbelow(r, sizeof(t->arg));
	memset(t->arg, 0, 256);
	switch (rbelow(r, 4)) {
	case 0: /* beyond the driver's table */
		nr = DRM_COMMAND_BASE + DRM_QDA_INIT_CREATE_STATIC + 1 +
		     rbelow(r, DRM_COMMAND_END - DRM_COMMAND_BASE - 0xb);
		break;
	case 1: /* a known number with another direction or size */
		nr = DRM_COMMAND_BASE + qda[rbelow(r, 3)];
		((uint64_t *)t->arg)[0] = rnext(r) & 0xffff00ffULL;
		break;
	case 2:
		nr = core[rbelow(r, ARRAY_SIZE(core))];
		break;
	default: /* another driver's type */
		type = rchance(r, 2) ? 'x' : 'Q';
		nr = rbelow(r, 256);
		break;
	}
	req = _IOC(dir, type, nr, size);
	arg = rchance(r, 6) ? bad_ptr(r) : t->arg;
	if (fd < 0)
		return;
	snprintf(t->what, sizeof(t->what), "ioctl 0x%lx (%s)", req, chan_name[chan]);
	ret = xioctl(t, K_UNKNOWN, fd, req, arg);
	judge(t, K_UNKNOWN, 0, 1, ret < 0 ? -1 : 0, errno);
	if (ret > 0)
		fail("ioctl 0x%lx returned %ld", req, ret);
	if (ret == -1)
		mark_dead(fslot, fgen, errno);
}

/* ---- PDs ---- */

static void set_pd(int chan, int pd)
{
	lock();
	P.c[chan].pd = pd;
	if (!pd)
		P.c[chan].skel = 0;
	unlock();
}

static void op_init(struct thr *t)
{
	struct drm_qda_init_create *c = (void *)t->arg;
	struct drm_qda_init_create_static *cs = (void *)t->arg;
	struct rnd *r = &t->r;
	static const char audiopd[] = "audiopd";
	int fd, chan, fslot, mut, how, kind, scattered = 0, oslot = -1;
	unsigned int fgen;
	unsigned long req;
	struct fobj o;
	long ret;
	void *arg = t->arg;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	mut = rchance(r, 4);
	how = rbelow(r, 10);
	memset(t->arg, 0, 64);
	memset(t->in, 0x7f, 256);
	switch (how) {
	case 0:
		kind = K_INIT_ATTACH;
		req = DRM_IOCTL_QDA_INIT_ATTACH;
		arg = NULL;
		break;
	case 1:
		kind = K_INIT_ATTACH_SNS;
		req = DRM_IOCTL_QDA_INIT_ATTACH_SNS;
		arg = NULL;
		break;
	case 2:
		kind = K_INIT_CREATE_STATIC;
		req = DRM_IOCTL_QDA_INIT_CREATE_STATIC;
		cs->namelen = sizeof(audiopd);
		cs->name = (uintptr_t)audiopd;
		cs->memlen = (uint32_t)rnext(r);
		if (mut) {
			switch (rbelow(r, 4)) {
			case 0:
				cs->namelen = rchance(r, 2) ? 0 : QDA_INIT_NAME_MAX + 1 + rbelow(r, 9);
				break;
			case 1:
				cs->name = (uintptr_t)bad_ptr(r);
				break;
			case 2:
				cs->namelen = 4;
				break;
				/* no NUL there */
			default:
				cs->name = (uintptr_t)"nosuchpd";
				cs->namelen = 9;
				break;
			}
		}
		break;
	default:
		kind = K_INIT_CREATE;
		req = DRM_IOCTL_QDA_INIT_CREATE;
		c->filefd = -1;
		if (how == 4) {
			c->attrs = QDA_PROC_MODE_UNSIGNED;
		} else if (how == 5) {
			/* A shell from user memory. */
			c->filelen = 1 + rbelow(r, 256);
			c->file = (uintptr_t)t->in;
			c->siglen = rbelow(r, c->filelen + 1);
		} else if (how == 6) {
			oslot = pick_obj(rnext(r), fslot, 1, &o);
		} else if (how == 7) {
			c->attrs = (1u << rbelow(r, 7)) & QDA_PROC_MODE_KNOWN;
		}
		if (oslot >= 0) {
			/* A shell in a GEM buffer of this file. */
			scattered = o.scattered;
			c->filefd = (int32_t)o.handle;
			c->filelen = 1 + rbelow(r, o.size < 65536 ? o.size : 65536);
		}
		if (mut) {
			switch (rbelow(r, 7)) {
			case 0:
				c->attrs = 0x80u << rbelow(r, 25);
				break;
			case 1:
				c->filelen = (2u << 20) + 1 + rbelow(r, 1000);
				c->file = (uintptr_t)t->in;
				break;
			case 2:
				c->siglen = c->filelen + 1 + rbelow(r, 100);
				break;
			case 3:
				c->filelen = 1 + rbelow(r, 4096);
				c->file = (uintptr_t)bad_ptr(r);
				c->filefd = -1;
				break;
			case 4:
				c->filefd = (int32_t)(1000 + rbelow(r, 1000));
				c->filelen = 16;
				break;
			case 5:
				c->filelen = 16;
				c->filefd = 0;
				c->file = 0;
				break;
			default:
				c->filelen = 4096 + rbelow(r, 8192);
				c->file = (uintptr_t)t->in;
				break;
			}
		}
		break;
	}
	if (fd < 0)
		return;
	snprintf(t->what, sizeof(t->what),
		 "%s %s filelen %u filefd %d attrs 0x%x siglen %u",
		 kind_name[kind], chan_name[chan], c->filelen, c->filefd,
		 c->attrs, c->siglen);
	ret = xioctl(t, kind, fd, req, arg);
	/* A shell in a scattered import: as for MAP (see op_prime_import()). */
	judge(t, kind, !mut && !(scattered && ret == -1 && errno == EINVAL),
	      file_changed(fslot, fgen) || (oslot >= 0 && obj_changed(oslot, o.gen)),
	      ret, errno);
	if (!ret)
		set_pd(chan, 1);
	else
		mark_dead(fslot, fgen, errno);
}

/* ---- INVOKE ---- */

static int uri_open(struct thr *t, int fd, int handle8, const char *uri,
		    uint32_t *h)
{
	uint32_t in[2] = { strlen(uri) + 1, 64 };
	uint32_t out[2] = { 0, 0 };
	char dlerr[64];
	struct drm_qda_invoke_args a[4] = {
		ia(in, sizeof(in)), ia(uri, in[0]),
		ia(out, sizeof(out)), ia(dlerr, sizeof(dlerr)),
	};
	union invoke_req q;
	long ret;

	memset(&q, 0, sizeof(q));
	q.inv.handle = handle8 ? 8 : 0;
	q.inv.sc = SC(handle8 ? 2 : 0, 2, 2);
	q.inv.args = (uintptr_t)a;
	ret = xioctl(t, K_INVOKE, fd, DRM_IOCTL_QDA_INVOKE, &q);
	*h = out[0];
	return ret == -1 ? -errno : (int)ret;
}

static void op_skel_open(struct thr *t)
{
	struct rnd *r = &t->r;
	int fd, chan, fslot, bad, h8;
	unsigned int fgen;
	uint32_t h = 0;
	long ret;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	bad = rchance(r, 8);
	h8 = rchance(r, 2);
	if (fd < 0)
		return;
	snprintf(t->what, sizeof(t->what), "remotectl open %s%s", chan_name[chan],
		 bad ? " (unknown URI)" : "");
	ret = uri_open(t, fd, h8, bad ? "file:///libnosuch_skel.so?x" : TEST_SKEL_URI, &h);
	if (ret < 0 && ret > -4096) {
		judge(t, K_INVOKE, 1, file_changed(fslot, fgen), -1, (int)-ret);
		mark_dead(fslot, fgen, (int)-ret);
		return;
	}
	judge(t, K_INVOKE, 1, 0, ret, 0);
	if (!ret && !bad) {
		lock();
		P.c[chan].skel = h;
		P.c[chan].pd = 1;
		unlock();
	}
	if (bad && !ret)
		fail("remotectl open of an unknown URI succeeded");
}

static void op_skel_close(struct thr *t)
{
	struct rnd *r = &t->r;
	int fd, chan, fslot;
	unsigned int fgen;
	uint32_t h, in[2];
	int32_t err = 0;
	char dlerr[64];
	struct drm_qda_invoke_args a[3];
	union invoke_req q;
	long ret;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	if (fd < 0)
		return;
	lock();
	h = P.c[chan].skel;
	P.c[chan].skel = 0;
	unlock();
	in[0] = h;
	in[1] = sizeof(dlerr);
	a[0] = ia(in, sizeof(in));
	a[1] = ia(&err, sizeof(err));
	a[2] = ia(dlerr, sizeof(dlerr));
	memset(&q, 0, sizeof(q));
	q.inv.handle = 0;
	q.inv.sc = SC(1, 1, 2);
	q.inv.args = (uintptr_t)a;
	snprintf(t->what, sizeof(t->what), "remotectl close %s 0x%x", chan_name[chan], h);
	ret = xioctl(t, K_INVOKE, fd, DRM_IOCTL_QDA_INVOKE, &q);
	judge(t, K_INVOKE, 1, file_changed(fslot, fgen), ret, errno);
	mark_dead(fslot, fgen, ret == -1 ? errno : 0);
}

/* Outcomes of a well-formed call that are not the method's. */
static int call_env_failure(long ret)
{
	if (ret == -1)
		return 1;	/* judged by errno */
	/* Stale state: no process (released, restarted), handle closed. */
	return (uint32_t)ret == AEE(0x27) || (uint32_t)ret == AEE(0x2c);
}

/* The result the UAPI promises for the skel's fail(@code). */
static void check_fail_code(int32_t code, long ret, int err)
{
	/*
	 * EBADF: another thread closed the file meanwhile (racing closes are
	 * part of the workload); the ioctl never reached the driver.
	 */
	if (ret == -1 && (err == EINTR || err == EPIPE || err == ENODEV ||
			  err == EAGAIN || err == ENOMEM || err == ENOTCONN ||
			  err == EBUSY || err == EBADF))
		return;
	if (code == 0 || code > 0 || code < -4095) {
		if (ret == code)
			return;
	} else if (code >= -133) {
		if (ret == -1 && err == -code)
			return;
	} else if (ret == -1 && err == EIO) {
		return;
	}
	if (call_env_failure(ret) && ret != -1)
		return;
	fail("skel fail(%d) gave ret %ld errno %d (%s)", code, ret,
	     ret == -1 ? err : 0, ret == -1 ? strerror(err) : "-");
}

static const uint32_t crc_test_len[] = { 0, 1, 9, 100, 4096 };

/* A skel method with inline arguments, result checked. */
static void op_invoke_inline(struct thr *t)
{
	struct rnd *r = &t->r;
	int fd, chan, fslot, m, err;
	unsigned int fgen, inlen, outlen, i;
	struct drm_qda_invoke_args a[2];
	union invoke_req q;
	uint32_t h, seed32;
	int32_t code = 0;
	long ret;
	int sigs;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	m = rbelow(r, 12);
	inlen = rbelow(r, 5) ? rbelow(r, 512) : rbelow(r, sizeof(t->in));
	outlen = rbelow(r, 5) ? rbelow(r, 512) : rbelow(r, sizeof(t->out));
	seed32 = (uint32_t)rnext(r);
	code = (int32_t)rnext(r);
	switch (rbelow(r, 6)) {
	case 0:
		code = 0;
		break;
	case 1:
		code = -(int32_t)(1 + rbelow(r, 133));
		break;
	case 2:
		code = -(int32_t)(134 + rbelow(r, 4095 - 134));
		break;
	case 3:
		code = (int32_t)rbelow(r, 1000);
		break;
	}
	if (fd < 0)
		return;
	lock();
	h = P.c[chan].skel;
	unlock();
	if (!h)
		return;
	for (i = 0; i < inlen; i++)
		t->in[i] = (uint8_t)(seed32 + i * 7);
	memset(t->out, 0xee, sizeof(t->out));
	switch (m) {
	case 0: case 1: case 2: case 3: case 4: /* echo */
		a[0] = ia(t->in, inlen);
		a[1] = ia(t->out, outlen);
		m = 0;
		break;
	case 5: case 6: /* sum */
		inlen &= ~3u;
		a[0] = ia(t->in, inlen);
		a[1] = ia(t->out, 8);
		m = 1;
		break;
	case 7: case 8: /* checksum */
		inlen = rchance(r, 2) ? inlen : crc_test_len[seed32 % 5];
		a[0] = ia(t->in, inlen);
		a[1] = ia(t->out, 4);
		m = 2;
		break;
	case 9: /* fill */
		a[0] = ia(t->in, 4);
		a[1] = ia(t->out, outlen);
		m = 3;
		break;
	case 10: /* sleep, short */
		*(uint32_t *)t->in = seed32 % 50;
		a[0] = ia(t->in, 4);
		m = 4;
		break;
	default: /* fail */
		memcpy(t->in, &code, 4);
		a[0] = ia(t->in, 4);
		m = 5;
		break;
	}
	memset(&q, 0, sizeof(q));
	q.inv.handle = h;
	q.inv.sc = SC(m, 1, m >= 4 ? 0 : 1);
	q.inv.args = (uintptr_t)a;
	snprintf(t->what, sizeof(t->what), "INVOKE %s skel 0x%x method %d in %u out %u",
		 chan_name[chan], h, m, (unsigned int)a[0].length,
		 m >= 4 ? 0 : (unsigned int)a[1].length);
	sigs = t_sigs;
	ret = xioctl(t, K_INVOKE, fd, DRM_IOCTL_QDA_INVOKE, &q);
	err = errno;
	(void)sigs;
	if (ret == -1)
		mark_dead(fslot, fgen, err);
	if (m == 5) {
		/* A file closed (its fd reused) meanwhile answers anything. */
		if (!file_changed(fslot, fgen))
			check_fail_code(code, ret, err);
		judge_raw(t, ret, err);
		return;
	}
	judge(t, K_INVOKE, 1, file_changed(fslot, fgen), ret, err);
	if (ret)
		return;
	switch (m) {
	case 0:
		if (memcmp(t->in, t->out, inlen < outlen ? inlen : outlen))
			fail("echo on %s: output differs from input (%u/%u bytes)",
			     chan_name[chan], inlen, outlen);
		break;
	case 1:
		{
		uint64_t sum = 0, got;

		for (i = 0; i < inlen / 4; i++)
			sum += ((uint32_t *)t->in)[i];
		memcpy(&got, t->out, 8);
		if (got != sum)
			fail("sum on %s: 0x%llx, expected 0x%llx", chan_name[chan],
			     (unsigned long long)got, (unsigned long long)sum);
		break;
	}
	case 2:
		{
		uint32_t got;

		memcpy(&got, t->out, 4);
		if (got != crc32_zlib(t->in, inlen))
			fail("checksum on %s of %u bytes: 0x%x, expected 0x%x",
			     chan_name[chan], inlen, got, crc32_zlib(t->in, inlen));
		break;
	}
	case 3:
		for (i = 0; i < outlen; i++)
			if (t->out[i] != t->in[0]) {
				fail("fill on %s: byte %u is 0x%x, expected 0x%x",
				     chan_name[chan], i, t->out[i], t->in[0]);
				break;
			}
		break;
	}
}

/* A skel method with GEM arguments (the objects' CPU mappings). */
static void op_invoke_gem(struct thr *t)
{
	struct rnd *r = &t->r;
	int fd, chan, fslot, s0, s1, m, mut, wf;
	unsigned int fgen;
	struct drm_qda_invoke_args a[2];
	union invoke_req q;
	struct fobj o0, o1;
	uint64_t off0, off1, len0, len1;
	uint32_t h;
	long ret;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	s0 = pick_obj(rnext(r), fslot, 1, &o0);
	s1 = pick_obj(rnext(r), fslot, 1, &o1);
	m = rbelow(r, 4);
	mut = rchance(r, 4);
	off0 = rnext(r);
	off1 = rnext(r);
	len0 = rnext(r);
	len1 = rnext(r);
	if (fd < 0 || s0 < 0 || !o0.cpu)
		return;
	lock();
	h = P.c[chan].skel;
	unlock();
	if (!h && !mut)
		return;
	off0 %= o0.cpulen;
	len0 %= o0.cpulen - off0 + 1;
	if (m == 1)
		len0 &= ~3ull;
	a[0] = ga(o0.handle, (char *)o0.cpu + off0, len0);
	if (s1 >= 0 && o1.cpu && rchance(r, 2)) {
		off1 %= o1.cpulen;
		len1 %= o1.cpulen - off1 + 1;
		a[1] = ga(o1.handle, (char *)o1.cpu + off1, len1);
	} else {
		a[1] = ia(t->out, len1 % 1024);
	}
	if (m == 1) {
		a[1].length = 8;
		if (a[1].fd > 0 && o1.cpulen - off1 < 8)
			a[1] = ia(t->out, 8);
	}
	if (m == 2) {
		a[1].length = 4;
		if (a[1].fd > 0 && o1.cpulen - off1 < 4)
			a[1] = ia(t->out, 4);
	}
	if (m == 3)
		a[0] = ia(t->in, 4);
	if (mut) {
		switch (rbelow(r, 8)) {
		case 0:
			a[0].length = o0.cpulen - off0 + 1 + rbelow(r, 3 * g_page);
			break;
		case 1:
			a[0].ptr = (uintptr_t)o0.cpu - g_page;
			break;
		case 2:
			a[0].fd = (int32_t)(o0.handle + 1 + rbelow(r, 3));
			break;
		case 3:
			a[0].ptr = (uintptr_t)bad_ptr(r);
			break;
		case 4:
			a[0].length = ~0ULL - rbelow(r, 100);
			break;
		case 5:
			a[0].fd = rchance(r, 2) ? -1 : 0;
			a[0].ptr = (uintptr_t)o0.cpu;
			break;
		case 6:
			a[1].ptr = (uintptr_t)(rchance(r, 2) ? g_rdonly : bad_ptr(r));
			a[1].fd = -1;
			break;
		default:
			a[0].attr = (uint32_t)rnext(r);
			break;
		}
	}
	memset(&q, 0, sizeof(q));
	q.inv.handle = h;
	q.inv.sc = SC(m, 1, 1);
	q.inv.args = (uintptr_t)a;
	snprintf(t->what, sizeof(t->what),
		 "INVOKE %s skel 0x%x method %d gem %u%s (0x%llx, cpu %p/0x%zx)+0x%llx/0x%llx, arg1 fd %d len 0x%llx",
		 chan_name[chan], h, m, o0.handle,
		 o0.imported ? (o0.scattered ? " imported scattered" : " imported") : "",
		 (unsigned long long)o0.size, o0.cpu, o0.cpulen,
		 (unsigned long long)off0, (unsigned long long)a[0].length,
		 a[1].fd, (unsigned long long)a[1].length);
	ret = xioctl(t, K_INVOKE, fd, DRM_IOCTL_QDA_INVOKE, &q);
	wf = !mut;
	if (o0.scattered || (a[1].fd > 0 && o1.scattered))
		wf &= !(ret == -1 && errno == EINVAL);
	judge(t, K_INVOKE, wf,
	      file_changed(fslot, fgen) || obj_changed(s0, o0.gen) ||
	      (a[1].fd > 0 && obj_changed(s1, o1.gen)), ret, errno);
	if (ret == -1)
		mark_dead(fslot, fgen, errno);
}

/* Random scalars, handles and arguments. */
static void op_invoke_random(struct thr *t)
{
	struct rnd *r = &t->r;
	struct drm_qda_invoke_args *a = (void *)t->arg;
	int fd, chan, fslot, n, i, nin, nout, hin, hout;
	unsigned int fgen;
	union invoke_req q;
	struct fobj o;
	uint32_t h, sc;
	uint64_t w, ls;
	long ret;
	void *args = a;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	w = rnext(r);
	nin = rchance(r, 8) ? (int)(w & 0xff) : (int)(w & 3);
	nout = rchance(r, 8) ? (int)((w >> 8) & 0xff) : (int)((w >> 8) & 3);
	hin = rchance(r, 4) ? (int)((w >> 16) & 0xf) : 0;
	hout = rchance(r, 4) ? (int)((w >> 20) & 0xf) : 0;
	sc = ((uint32_t)(w >> 24) & 0xe0000000u) | (((uint32_t)(w >> 32) & 0x1f) << 24) |
	     (nin << 16) | (nout << 8) | (hin << 4) | hout;
	switch (rbelow(r, 8)) {
	case 0:
		h = 0;
		break;
		/* remotectl */
	case 1:
		h = 1;
		break;
		/* init: refused */
	case 2:
		h = 3 + rbelow(r, 6);
		break;
		/* statics 3..8 */
	case 3:
		h = (uint32_t)rnext(r) | 0x1000;
		break;
	default:
		lock();
		h = P.c[chan].skel;
		unlock();
		break;
	}
	if (h == 2)
		h = 3;
	/* next2 (7, 6) stays pending until the process goes: rarely. */
	if (h == 7 && ((sc >> 24) & 0x1f) == 6 && !rchance(r, 4))
		h = 9;
	n = nin + nout + hin + hout;
	if (n > (int)(sizeof(t->arg) / sizeof(*a)))
		n = sizeof(t->arg) / sizeof(*a);
	ls = rnext(r);
	for (i = 0; i < n && i < 64; i++) {
		uint64_t v = mix64(&ls);
		int out = i >= nin && i < nin + nout;

		switch (v & 7) {
		case 0:
			/* Bad pointers: any for inputs, none we own for outputs. */
			a[i] = ia(out ? (rchance(r, 2) ? g_noaccess : NULL) : bad_ptr(r),
				  v >> 40);
			break;
		case 1:
			if (pick_obj(v >> 8, fslot, 1, &o) >= 0 && o.cpu)
				a[i] = ga(o.handle, o.cpu, (v >> 20) % (o.cpulen + 2));
			else
				a[i] = ga((uint32_t)(v >> 8) & 0xff, t->in, 16);
			break;
		case 2:
			a[i] = ia(out ? (void *)g_rdonly : (void *)t->in,
				  (v >> 8) % (out ? (uint64_t)g_page : sizeof(t->in)));
			break;
		case 3:
			a[i] = ia(t->in, 0);
			break;
		case 4:
			a[i] = ia(NULL, 0);
			break;
		default:
			a[i] = ia(out ? (void *)t->out : (void *)t->in, (v >> 8) % 256);
			break;
		}
	}
	/* Outputs past the first 64 write into t->in: scratch too. */
	for (; i < n; i++)
		a[i] = ia(t->in, 8);
	if (rchance(r, 10))
		args = rchance(r, 2) ? NULL : bad_ptr(r);
	if (fd < 0)
		return;
	memset(&q, 0, sizeof(q));
	q.inv.handle = h;
	q.inv.sc = sc;
	q.inv.args = (uintptr_t)args;
	snprintf(t->what, sizeof(t->what), "INVOKE %s handle 0x%x sc 0x%08x (random)",
		 chan_name[chan], h, sc);
	ret = xioctl(t, K_INVOKE, fd, DRM_IOCTL_QDA_INVOKE, &q);
	judge_raw(t, ret, errno);
	if (ret == -1)
		mark_dead(fslot, fgen, errno);
}

/* ---- MAP / MUNMAP ---- */

static void op_map(struct thr *t)
{
	struct drm_qda_map *m = (void *)t->arg;
	struct rnd *r = &t->r;
	int fd, chan, fslot, s, mut, ms;
	unsigned int fgen;
	struct fobj o;
	uint64_t w;
	long ret;

	fd = pick_file(rnext(r), &chan, &fslot, &fgen);
	s = pick_obj(rnext(r), fslot, 1, &o);
	mut = rchance(r, 4);
	w = rnext(r);
	if (fd < 0 || s < 0)
		return;
	memset(m, 0, sizeof(*m));
	m->request = 1 + (w & 1);
	m->fd = (int32_t)o.handle;
	m->flags = (w >> 1) & 7;
	m->vaddrin = o.cpu ? (uintptr_t)o.cpu : (w & 0xfffff000);
	if (m->request == 2) {
		m->offset = (uint32_t)(((w >> 8) % (o.size / g_page)) * g_page);
		m->attrs = (w >> 20) & 0xff;
		m->size = (w >> 28) % (o.size - m->offset + 1);
	} else {
		m->size = rchance(r, 3) ? 0 : o.size - (uint64_t)g_page * rbelow(r, o.size / g_page);
	}
	if (mut) {
		switch (rbelow(r, 7)) {
		case 0:
			m->request = rchance(r, 2) ? 0 : 3 + rbelow(r, 100);
			break;
		case 1:
			m->pad = 1;
			break;
		case 2:
			m->offset = (uint32_t)o.size + (uint32_t)g_page * rbelow(r, 4);
			m->request = 2;
			break;
		case 3:
			m->offset |= 1 + rbelow(r, g_page - 1);
			m->request = 2;
			break;
		case 4:
			m->size = o.size + 1 + rbelow(r, 3 * g_page);
			break;
		case 5:
			m->fd = rchance(r, 2) ? -(int32_t)rbelow(r, 3) : (int32_t)(o.handle + 100);
			break;
		default:
			m->request = 1;
			m->attrs = 1 + rbelow(r, 8);
			m->offset = rchance(r, 2) ? 0 : g_page;
			break;
		}
	}
	snprintf(t->what, sizeof(t->what),
		 "MAP %s request %u handle %d offset 0x%x size 0x%llx attrs 0x%x (obj 0x%llx%s)",
		 chan_name[chan], m->request, m->fd, m->offset,
		 (unsigned long long)m->size, m->attrs, (unsigned long long)o.size,
		 o.imported ? (o.scattered ? " imported scattered" : " imported") : "");
	ret = xioctl(t, K_MAP, fd, DRM_IOCTL_QDA_MAP, m);
	judge(t, K_MAP, !mut && !(o.scattered && ret == -1 && errno == EINVAL),
	      file_changed(fslot, fgen) || obj_changed(s, o.gen), ret, errno);
	if (ret) {
		mark_dead(fslot, fgen, errno);
		return;
	}
	lock();
	ms = FREE_SLOT(P.m, NMAPS);
	if (ms >= 0 && P.f[fslot].used && P.f[fslot].gen == fgen) {
		P.m[ms] = (struct fmap){
			.used = 1, .file = fslot, .fgen = fgen,
			.request = m->request, .handle = o.handle,
			.vaddrout = m->vaddrout, .vaddrin = m->vaddrin,
			.size = m->size,
		};
	}
	unlock();
}

static void op_munmap(struct thr *t)
{
	struct drm_qda_munmap *u = (void *)t->arg;
	struct rnd *r = &t->r;
	int s, fd = -1, mut, chan = 0;
	unsigned int fgen = 0, fslot = 0;
	struct fmap mp;
	long ret;

	mut = rchance(r, 4);
	lock();
	s = PICK(P.m, NMAPS, rnext(r));
	if (s >= 0) {
		mp = P.m[s];
		if (P.f[mp.file].used && P.f[mp.file].gen == mp.fgen) {
			fd = P.f[mp.file].fd;
			chan = P.f[mp.file].chan;
			fslot = mp.file;
			fgen = mp.fgen;
		}
		if (!mut)
			memset(&P.m[s], 0, sizeof(P.m[s]));
	}
	unlock();
	if (fd < 0)
		return;
	memset(u, 0, sizeof(*u));
	u->request = mp.request;
	u->fd = (int32_t)mp.handle;
	u->vaddr = mp.request == 2 ? mp.vaddrout : 0;
	u->vaddrout = mp.vaddrout;
	u->size = rchance(r, 2) ? mp.size : 0;
	if (mut) {
		switch (rbelow(r, 4)) {
		case 0:
			u->request = 3 - u->request;
			break;
		case 1:
			u->size = mp.size + g_page + 1;
			break;
		case 2:
			u->vaddrout ^= 0x1000;
			u->vaddr ^= 0x1000;
			break;
		default:
			u->fd ^= 0x10;
			break;
		}
	}
	snprintf(t->what, sizeof(t->what), "MUNMAP %s request %u handle %d vaddrout 0x%llx size 0x%llx",
		 chan_name[chan], u->request, u->fd, (unsigned long long)u->vaddrout,
		 (unsigned long long)u->size);
	ret = xioctl(t, K_MUNMAP, fd, DRM_IOCTL_QDA_MUNMAP, u);
	/*
	 * ENOENT for a well-formed one is fine: a lost answer to the map or
	 * a DSP restart (which empties the file's books) removed it.
	 */
	judge(t, K_MUNMAP, !mut && !(ret == -1 && errno == ENOENT),
	      file_changed(fslot, fgen), ret, errno);
	if (ret == -1)
		mark_dead(fslot, fgen, errno);
}

/* ---- the operation mix ---- */

enum op {
	OP_OPEN, OP_CLOSE, OP_QUERY, OP_GEM_CREATE, OP_GEM_CLOSE, OP_MMAP,
	OP_CPU_MUNMAP, OP_PRIME_EXPORT, OP_PRIME_IMPORT, OP_HEAP_ALLOC,
	OP_BUF_CLOSE, OP_INIT, OP_SKEL_OPEN, OP_SKEL_CLOSE, OP_INVOKE_INLINE,
	OP_INVOKE_GEM, OP_INVOKE_RANDOM, OP_MAP, OP_MUNMAP, OP_GET_PARAM,
	OP_UNKNOWN, OP_NR
};

static const unsigned char op_weight[OP_NR] = {
	[OP_OPEN] = 3, [OP_CLOSE] = 2, [OP_QUERY] = 3, [OP_GEM_CREATE] = 7,
	[OP_GEM_CLOSE] = 4, [OP_MMAP] = 6, [OP_CPU_MUNMAP] = 3,
	[OP_PRIME_EXPORT] = 3, [OP_PRIME_IMPORT] = 3, [OP_HEAP_ALLOC] = 2,
	[OP_BUF_CLOSE] = 3, [OP_INIT] = 5, [OP_SKEL_OPEN] = 4,
	[OP_SKEL_CLOSE] = 1, [OP_INVOKE_INLINE] = 16, [OP_INVOKE_GEM] = 10,
	[OP_INVOKE_RANDOM] = 6, [OP_MAP] = 5, [OP_MUNMAP] = 4,
	[OP_GET_PARAM] = 3, [OP_UNKNOWN] = 3,
};

static int pick_op(struct rnd *r)
{
	unsigned int total = 0, x, i;

	for (i = 0; i < OP_NR; i++)
		total += op_weight[i];
	x = rbelow(r, total);
	for (i = 0; i < OP_NR; i++) {
		if (x < op_weight[i])
			return i;
		x -= op_weight[i];
	}
	return OP_QUERY;
}

/* cdsp half of the time; adsp, cdsp1, sdsp the rest. */
static int pick_chan(struct rnd *r)
{
	unsigned int x = rbelow(r, 6);

	return x < 3 ? 0 : (int)x - 2;
}

static void run_op(struct thr *t)
{
	struct rnd *r = &t->r;
	int op, i, c;

	for (i = 0; i < NR_WORDS; i++)
		r->w[i] = mix64(&t->seed);
	r->i = 0;
	op = pick_op(r);
	c = pick_chan(r);
	t->what[0] = 0;
	if (g_verbose > 1)
		fprintf(stderr, "# p%d t%d #%lld op %d\n", t->proc, t->idx, t->iter, op);
	switch (op) {
	case OP_OPEN:
		op_open(t, c);
		break;
	case OP_CLOSE:
		op_close(t, rnext(r), rchance(r, 4));
		break;
	case OP_QUERY:
		op_query(t);
		break;
	case OP_GEM_CREATE:
		op_gem_create(t);
		break;
	case OP_GEM_CLOSE:
		op_gem_close(t);
		break;
	case OP_MMAP:
		op_mmap(t);
		break;
	case OP_CPU_MUNMAP:
		op_cpu_munmap(t);
		break;
	case OP_PRIME_EXPORT:
		op_prime_export(t);
		break;
	case OP_PRIME_IMPORT:
		op_prime_import(t);
		break;
	case OP_HEAP_ALLOC:
		op_heap_alloc(t);
		break;
	case OP_BUF_CLOSE:
		op_buf_close(t);
		break;
	case OP_INIT:
		op_init(t);
		break;
	case OP_SKEL_OPEN:
		op_skel_open(t);
		break;
	case OP_SKEL_CLOSE:
		op_skel_close(t);
		break;
	case OP_INVOKE_INLINE:
		op_invoke_inline(t);
		break;
	case OP_INVOKE_GEM:
		op_invoke_gem(t);
		break;
	case OP_INVOKE_RANDOM:
		op_invoke_random(t);
		break;
	case OP_MAP:
		op_map(t);
		break;
	case OP_MUNMAP:
		op_munmap(t);
		break;
	case OP_GET_PARAM:
		op_get_param(t);
		break;
	default:
		op_unknown(t);
		break;
	}
	/* Keep files around: reopen when few are left. */
	lock();
	for (i = 0, c = 0; i < NFILES; i++)
		c += P.f[i].used && !P.f[i].dead;
	unlock();
	if (c < 2)
		op_open(t, pick_chan(r));
}

static int budget_left(void)
{
	if (atomic_load(&sh->stop))
		return 0;
	if (atomic_load(&sh->ioctls) >= g_budget)
		return 0;
	if (g_deadline_ms && now_ms() >= g_deadline_ms)
		return 0;
	return 1;
}

static void *worker(void *arg)
{
	struct thr *t = arg;

	t->st->tid = gettid();
	while (budget_left()) {
		run_op(t);
		t->iter++;
	}
	atomic_store(&t->st->done, 1);
	return NULL;
}

/* Closes everything a worker process holds. */
static void pool_teardown(void)
{
	int i;

	lock();
	for (i = 0; i < NOBJS; i++)
		if (P.o[i].used && P.o[i].cpu)
			munmap(P.o[i].cpu, P.o[i].cpulen);
	for (i = 0; i < NORPHANS; i++)
		if (P.orph[i].used)
			munmap(P.orph[i].addr, P.orph[i].len);
	for (i = 0; i < NBUFS; i++)
		if (P.b[i].used)
			close(P.b[i].fd);
	for (i = 0; i < NFILES; i++)
		if (P.f[i].used)
			close(P.f[i].fd);
	memset(P.o, 0, sizeof(P.o));
	memset(P.f, 0, sizeof(P.f));
	unlock();
}

/* One worker process: THREADS threads, and one that interrupts stuck calls. */
static int worker_proc(int p)
{
	static struct thr *thr[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	struct sigaction sa = { .sa_handler = on_usr1 };
	int i, running;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < g_threads; i++) {
		uint64_t s = g_seed ^ (0x100000001b3ULL * (uint64_t)(p * MAX_THREADS + i + 1));

		thr[i] = calloc(1, sizeof(*thr[i]));
		if (!thr[i])
			return 1;
		thr[i]->proc = p;
		thr[i]->idx = i;
		thr[i]->st = &sh->thr[p][i];
		mix64(&s);
		thr[i]->seed = s;
	}
	for (i = 0; i < g_threads; i++)
		op_open(thr[i], i % NCHAN);
	for (i = 0; i < g_threads; i++)
		if (pthread_create(&tid[i], NULL, worker, thr[i]))
			return 1;
	/* User calls wait for their answer; a fault may have eaten it. */
	do {
		long long now = now_ms();

		sleep_ms(50);
		running = 0;
		for (i = 0; i < g_threads; i++) {
			struct thr_st *st = &sh->thr[p][i];
			long long t0 = atomic_load(&st->start_ms);

			running += !atomic_load(&st->done);
			if (t0 && atomic_load(&st->in_invoke) && now - t0 > KICK_MS) {
				pthread_kill(tid[i], SIGUSR1);
				atomic_fetch_add(&sh->kicks, 1);
			}
		}
	} while (running);
	for (i = 0; i < g_threads; i++) {
		pthread_join(tid[i], NULL);
		if (g_verbose)
			printf("# worker %d.%d: %lld operations\n", p, i, thr[i]->iter);
	}
	pool_teardown();
	return 0;
}

/* ---- the parent: faults, restarts, hang watch, final checks ---- */

static void chaos_step(uint64_t *s, int *armed)
{
	char cmd[64];
	uint64_t w = mix64(s);
	int c = (int)(w % NCHAN);
	unsigned int n = 1 + ((w >> 8) & 1);

	switch ((w >> 16) % 16) {
	case 0:
	case 1:
		snprintf(cmd, sizeof(cmd), "drop %s %u", chan_name[c], n);
		break;
	case 2:
	case 3:
		snprintf(cmd, sizeof(cmd), "dup %s %u", chan_name[c], n);
		break;
	case 4:
	case 5:
		snprintf(cmd, sizeof(cmd), "corrupt %s %u", chan_name[c], n);
		break;
	case 6:
	case 7:
		snprintf(cmd, sizeof(cmd), "short %s %u", chan_name[c], n);
		break;
	case 8:
		snprintf(cmd, sizeof(cmd), "delay %s %u", chan_name[c], (unsigned int)((w >> 24) % 20));
		break;
	case 9:
		snprintf(cmd, sizeof(cmd), "restart-mid-call %s", chan_name[c]);
		break;
	case 10:
		snprintf(cmd, sizeof(cmd), "restart %s", chan_name[c]);
		break;
	case 11:
		snprintf(cmd, sizeof(cmd), "clear %s", chan_name[c]);
		break;
	default:
		return;		/* a quiet period */
	}
	armed[c] = 1;
	if (g_verbose)
		printf("# chaos: %s\n", cmd);
	mock_control(cmd);
}

static int mock_status_line(const char *label, char *line, size_t len)
{
	size_t llen = strlen(label);
	FILE *f = fopen(MOCK_STATUS, "r");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, len, f))
		if (!strncmp(line, label, llen) && line[llen] == ' ') {
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

static int dsp_idle(int c, char *why, size_t len)
{
	char line[512];

	if (mock_status_line(chan_name[c], line, sizeof(line)))
		return snprintf(why, len, "no status"), 0;
	if (status_field(line, "processes") || status_field(line, "mappings") ||
	    status_field(line, "handles") || status_field(line, "listeners") > 0) {
		snprintf(why, len, "%s", line);
		return 0;
	}
	return 1;
}

/*
 * Quarantined slots (two releases lost in a row) are retried when a process
 * finds no free slot: take every slot of the channel from child processes.
 */
static void flush_quarantine(int c)
{
	int pfd[2], i, n = 16;
	pid_t pid[16];
	char b;

	if (pipe(pfd))
		return;
	for (i = 0; i < n; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			uint32_t h;
			int fd = qda_open_dsp(chan_name[c]);

			close(pfd[1]);
			if (fd >= 0)
				gem_create(fd, 4096, &h);
			/* Hold the slot until the parent is done. */
			read(pfd[0], &b, 1);
			_exit(0);
		}
		sleep_ms(20);
	}
	close(pfd[0]);
	sleep_ms(200);
	close(pfd[1]);
	for (i = 0; i < n; i++)
		if (pid[i] > 0)
			waitpid(pid[i], NULL, 0);
}

/* A fresh process can use channel cdsp: PD, skel, echo. */
static int fresh_session_works(char *why, size_t len)
{
	uint32_t h;
	char out[8] = { 0 };
	int fd, ret;

	fd = qda_open_dsp("cdsp");
	if (fd < 0)
		return snprintf(why, len, "no cdsp node"), 0;
	ret = qda_create_plain(fd);
	if (!ret)
		ret = skel_open(fd, TEST_SKEL_URI, &h, out, sizeof(out));
	if (!ret)
		ret = skel_echo(fd, h, "fresh", 6, out, 6);
	close(fd);
	if (ret || strcmp(out, "fresh")) {
		snprintf(why, len, "create/open/echo: %d", ret);
		return 0;
	}
	return 1;
}

static void print_hist(void)
{
	int k, e;
	char line[2048];

	printf("# ioctl/errno histogram:\n");
	for (k = 0; k < K_NR; k++) {
		long long tot = 0;
		size_t n = 0;

		for (e = 0; e < H_COLS; e++)
			tot += atomic_load(&sh->hist[k][e]);
		if (!tot)
			continue;
		n += snprintf(line + n, sizeof(line) - n, "#   %-20s %9lld:", kind_name[k], tot);
		for (e = 0; e < H_COLS && n < sizeof(line) - 64; e++) {
			long long v = atomic_load(&sh->hist[k][e]);
			const char *name;
			char num[16];

			if (!v)
				continue;
			if (e == 0)
				name = "ok";
			else if (e == H_DSP)
				name = "dsp-status";
			else if (e == H_OTHER)
				name = "other";
			else {
				name = strerrorname_np(e);
				if (!name) {
					snprintf(num, sizeof(num), "errno%d", e);
					name = num;
				}
			}
			n += snprintf(line + n, sizeof(line) - n, " %s=%lld", name, v);
		}
		printf("%s\n", line);
	}
}

static void print_usage(void)
{
	fprintf(stderr, "usage: %s [-s SEED] [-n IOCTLS] [-t SECONDS] [-p PROCS] [-j THREADS] [-v]\n",
		program_invocation_short_name);
	exit(2);
}

int main(int argc, char **argv)
{
	long long viol0[NCHAN], t0, last_ops = -1, last_change, iommu0, secs = 0;
	pid_t pids[MAX_PROCS];
	int opt, i, j, c, armed[NCHAN] = { 0 }, ok = 1;
	uint64_t chaos;
	pthread_mutexattr_t ma;
	char why[600];
	struct mock_st st;

	g_seed = (unsigned long long)time(NULL);
	while ((opt = getopt(argc, argv, "s:n:t:p:j:v")) != -1) {
		switch (opt) {
		case 's':
			g_seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			g_budget = strtoll(optarg, NULL, 0);
			break;
		case 't':
			secs = strtoll(optarg, NULL, 0);
			break;
		case 'p':
			g_procs = atoi(optarg);
			break;
		case 'j':
			g_threads = atoi(optarg);
			break;
		case 'v':
			g_verbose++;
			break;
		default:
			print_usage();
		}
	}
	if (g_procs < 1 || g_procs > MAX_PROCS || g_threads < 1 ||
	    g_threads > MAX_THREADS || g_budget < 1)
		print_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..1\n");
	printf("# qda_fuzz: seed %llu, budget %lld ioctls", g_seed, g_budget);
	if (secs)
		printf(" or %lld s", secs);
	printf(", %d processes x %d threads\n", g_procs, g_threads);
	printf("# replay: qda_fuzz -s %llu -n %lld -p %d -j %d\n", g_seed, g_budget,
	       g_procs, g_threads);

	g_page = sysconf(_SC_PAGESIZE);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	g_noaccess = mmap(NULL, g_page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g_rdonly = mmap(NULL, g_page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || g_noaccess == MAP_FAILED || g_rdonly == MAP_FAILED) {
		printf("not ok 1 qda_fuzz # mmap failed\n");
		return 1;
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->msg_lock, &ma);
	g_have_heap = access("/dev/dma_heap/system", R_OK) == 0;
	if (access(MOCK_CONTROL, W_OK) || qda_find_node("cdsp", NULL, 0) != 1) {
		printf("not ok 1 qda_fuzz # the mock DSP and qda.ko must be loaded\n");
		return 1;
	}
	for (c = 0; c < NCHAN; c++) {
		snprintf(why, sizeof(why), "clear %s", chan_name[c]);
		mock_control(why);
		viol0[c] = mock_status(chan_name[c], &st) ? 0 : st.violations;
	}
	iommu0 = mock_iommu_mapped_total();

	t0 = now_ms();
	if (secs)
		g_deadline_ms = t0 + secs * 1000;
	for (i = 0; i < g_procs; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(worker_proc(i));
		if (pids[i] < 0) {
			fail("fork: %s", strerror(errno));
			break;
		}
	}

	/* Faults and restarts, a hang watch and progress lines. */
	chaos = g_seed ^ 0xc4a05c4a05ULL;
	last_change = now_ms();
	for (;;) {
		int alive = 0;
		long long ops = 0, now;

		sleep_ms(100);
		now = now_ms();
		for (i = 0; i < g_procs; i++)
			if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == 0)
				alive++;
		for (i = 0; i < g_procs; i++)
			for (j = 0; j < g_threads; j++) {
				struct thr_st *ts = &sh->thr[i][j];
				long long s0 = atomic_load(&ts->start_ms);

				ops += atomic_load(&ts->ops);
				if (s0 && now - s0 > HANG_S * 1000 && !atomic_load(&sh->failed))
					fail("hang: worker %d.%d (tid %d) in %s for %lld s",
					     i, j, ts->tid, kind_name[atomic_load(&ts->kind)],
					     (now - s0) / 1000);
			}
		if (ops != last_ops) {
			last_ops = ops;
			last_change = now;
		}
		if (!alive)
			break;
		if (atomic_load(&sh->failed) && now - last_change > 30000)
			break;	/* something is stuck: report it */
		if (budget_left() && mix64(&chaos) % 5 == 0)
			chaos_step(&chaos, armed);
		if ((now - t0) / 10000 != (now - 100 - t0) / 10000)
			printf("# %lld s: %lld ioctls, %lld interrupted calls\n",
			       (now - t0) / 1000, (long long)atomic_load(&sh->ioctls),
			       (long long)atomic_load(&sh->kicks));
	}
	for (i = 0; i < g_procs; i++)
		if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == 0)
			fail("worker process %d did not finish", i);

	printf("# ran %.1f s: %lld ioctls, %lld interrupted calls\n",
	       (now_ms() - t0) / 1000.0, (long long)atomic_load(&sh->ioctls),
	       (long long)atomic_load(&sh->kicks));
	for (i = 0; i < g_procs; i++)
		for (j = 0; j < g_threads; j++)
			printf("# worker %d.%d: %lld operations\n", i, j,
			       (long long)atomic_load(&sh->thr[i][j].ops));
	print_hist();
	printf("# replay this run: qda_fuzz -s %llu -n %lld -p %d -j %d\n", g_seed,
	       (long long)atomic_load(&sh->ioctls), g_procs, g_threads);

	/* Everything is closed: no fault, every channel up, then the books. */
	for (c = 0; c < NCHAN; c++) {
		snprintf(why, sizeof(why), "clear %s", chan_name[c]);
		mock_control(why);
		snprintf(why, sizeof(why), "start %s", chan_name[c]);
		mock_control(why);
	}
	if (!atomic_load(&sh->failed)) {
		for (c = 0; c < NCHAN; c++) {
			int idle = 0, k;

			/* Late answers: up to kernel_timeout_ms twice, and more. */
			for (k = 0; k < 150 && !(idle = dsp_idle(c, why, sizeof(why))); k++)
				sleep_ms(100);
			if (!idle) {
				flush_quarantine(c);
				for (k = 0; k < 50 && !(idle = dsp_idle(c, why, sizeof(why))); k++)
					sleep_ms(100);
			}
			if (!idle)
				fail("DSP state left after every file closed: %s", why);
		}
		/*
		 * Calls whose answer a fault ate keep their payload and buffers
		 * mapped until the DSP answers or goes away: restart every
		 * channel, then nothing may stay mapped.
		 */
		for (c = 0; c < NCHAN; c++) {
			snprintf(why, sizeof(why), "restart %s", chan_name[c]);
			mock_control(why);
		}
		for (c = 0; c < NCHAN; c++)
			for (i = 0; i < 100 && qda_find_node(chan_name[c], NULL, 0) != 1; i++)
				sleep_ms(50);
		for (i = 0; i < 100 && mock_iommu_mapped_total() != iommu0; i++)
			sleep_ms(50);
		if (mock_iommu_mapped_total() != iommu0)
			fail("IOMMU pages mapped after every file closed and every channel restarted: %lld, %lld before the run",
			     mock_iommu_mapped_total(), iommu0);
		if (!fresh_session_works(why, sizeof(why)))
			fail("a fresh session after the run fails: %s", why);
	}
	printf("# mock DSP status:\n");
	for (c = 0; c < NCHAN; c++) {
		char line[512];

		if (mock_status_line(chan_name[c], line, sizeof(line)))
			continue;
		printf("#   %s", line);
		if (status_field(line, "violations") != viol0[c])
			fail("%s: %lld protocol violations counted by the mock",
			     chan_name[c], status_field(line, "violations") - viol0[c]);
	}
	ok = !atomic_load(&sh->failed);
	if (!ok)
		printf("# FAIL:\n# %s", sh->msg);
	printf("%s 1 qda_fuzz seed %llu: %lld ioctls\n", ok ? "ok" : "not ok",
	       g_seed, (long long)atomic_load(&sh->ioctls));
	return ok ? 0 : 1;
}
