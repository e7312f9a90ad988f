// SPDX-License-Identifier: GPL-2.0
/*
 * qda-bench - buffers and remote calls on the cdsp channel, QDA against the
 * upstream fastrpc.ko, on the same mock DSP.
 *
 *   qda-bench qda|fastrpc [--alloc-only|--calls] [iterations]
 *
 * Without an option: memory, buffer allocation, remote calls and scaling,
 * as below. --calls: only the remote calls and the scaling runs, what
 * tools/bench/bench.sh repeats in its rounds after the first (on the debug
 * kernel the memory and buffer-allocation part takes nearly as long as the
 * rest, and the rounds are there for the calls). --alloc-only: only the
 * allocations per call.
 *
 * Time: per buffer, allocate + mmap + write one byte to every page + munmap
 * + free, for 4 KiB (default 2000 iterations) and 4 MiB (a tenth of that,
 * default 200) buffers; mean, p50 and p99 in microseconds, one
 * clock_gettime(CLOCK_MONOTONIC) pair per iteration; then the same without
 * the mapping (alloc+free), the allocator alone.
 *   qda:     DRM_IOCTL_QDA_GEM_CREATE, DRM_IOCTL_QDA_GEM_MMAP_OFFSET, mmap of
 *            the accel fd, munmap, DRM_IOCTL_GEM_CLOSE.
 *   fastrpc: FASTRPC_IOCTL_ALLOC_DMA_BUFF on /dev/fastrpc-cdsp, mmap of the
 *            dma-buf fd, munmap, close.
 *
 * Memory, from the kernel's own free-page counters: used memory is MemTotal
 * minus free pages (nr_free_pages of /proc/vmstat plus the pages parked on
 * the per-CPU lists of /proc/zoneinfo, which MemFree leaves out), so it
 * covers slab, vmalloc, page tables and DMA memory alike.
 *   session overhead: open + first 4 KiB allocation, minus the 4 KiB, in
 *                     five settled child processes at once (one session
 *                     each), averaged over them and over 4 rounds;
 *   buffer overhead:  256 4 KiB buffers held, growth / 256 minus 4 KiB,
 *                     without and then with a CPU mapping of each.
 *
 * Remote calls, on a fresh session of the same node: INIT_CREATE of a user
 * PD without a shell file, remotectl open of the mock DSP's test skel, then
 * per call (one clock_gettime() pair around the ioctl(s), after a few
 * warm-up calls):
 *   invoke null:               test skel method 6 (nop), no buffers at all
 *                              (iterations, default 2000);
 *   invoke echo 4B:            method 0, 4 bytes in and out, inline
 *                              (half the iteration count);
 *   invoke echo 64KiB:         method 0, 64 KiB in and out, inline;
 *   invoke sum 1MiB inline:    method 1 over 262144 u32 (0..262143) copied
 *                              into the message, u64 out inline;
 *   invoke sum 1MiB zero-copy: the same array in a buffer allocated and
 *                              mapped once (qda: GEM object, args fd = GEM
 *                              handle; fastrpc: dma-buf of
 *                              FASTRPC_IOCTL_ALLOC_DMA_BUFF, fd = dma-buf
 *                              fd), ptr inside the CPU mapping;
 *   map+unmap 1MiB:            mem_map (init method 10, FASTRPC_MAP_FD) and
 *                              mem_unmap (11) of that buffer
 *                              (these three a twentieth of the count).
 * Every result is checked (echo must return its input, every sum must be
 * 34359607296, a map a non-zero DSP address); a wrong one fails the run
 * with "FAIL:" on stderr. For each, the round trip, the DSP's share and
 * the driver's overhead: the mock DSP stamps every request when its send
 * op gets it and when the answer goes to the driver's rpmsg callback
 * (/sys/kernel/debug/qda_mock_dsp/service/cdsp, reset before the timed
 * calls and read back in order after them); the DSP share of a call is
 * the service time of its message(s), the driver overhead the round trip
 * minus that, per call. For the calls of one message the overhead is
 * also split in two with the mock's own stamps (the same CLOCK_MONOTONIC):
 * "driver send", from the call's start to the DSP having the request
 * (system call entry, argument checks, marshalling, the send), and
 * "driver receive", from the answer leaving the DSP to the call's return
 * (the callback, waking the caller, copies out, system call exit). Then
 * calls/s over the timed loop. The round trips
 * and DSP shares of null and echo 4B are also printed whole, as "raw
 * <driver> <what>: <us> <us> ..." lines (tools/bench/plot.py draws their
 * CDF).
 *
 * Scaling: null invokes for 2 s each from 1, 2, 4 and 8 threads of one
 * process sharing one session, then from 4 processes with a session each,
 * with the mock DSP's cdsp set to 8 workers ("workers cdsp 8" on its
 * control file; back to 1 afterwards); total calls/s. A thread that stops
 * at an error fails the run, with one exception: fastrpc.ko running out of
 * context ids (ENOSPC; its rpmsg callback frees them from a work item, which
 * callers can outrun) is a known limit of that driver, printed as a "note:"
 * with the figure "-".
 *
 * Allocations per call (--alloc-only, and nothing else then; on a kernel
 * with /proc/thread-self/fail-nth, i.e. the debug kernel, booted with
 * kmemleak=off dma_debug=off so that only the drivers' own allocations
 * count, see Documentation/accel/qda/testing.rst): on a warm session, the
 * fallible allocation points (slab and page allocator, sleeping ones
 * included) of a null invoke, a 4 B echo and an invoke with a GEM (qda) or
 * dma-buf (fastrpc) argument, counted by failing the n-th one for n = 1,
 * 2, ... until a call no longer reaches the n-th; the smallest of 3 rounds.
 *
 * Every output line reads "<driver> <what>: <figure> ..." for
 * tools/bench/bench.sh to compare.
 *
 * The clock (tools/selftests/qda_clock.h) is probed first and printed as a
 * "clocksource: ..." line. On a jiffies clocksource, or one that moves in
 * steps of a millisecond or more, nothing is measured: the run fails with
 * "FAIL: ... no figures". A time figure below the clock's measured step
 * (the smallest non-zero difference of two clock_gettime() reads), a zero
 * percentile included, is printed as "-" and followed by a "note:" line;
 * should the clocksource change during a measurement, its figures are
 * withheld if the new one is a jiffies one, noted otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <misc/fastrpc.h>
#include "qda_accel.h"
#include "qda_clock.h"
#include "qda_failnth.h"

#define PG		4096UL
#define SMALL		PG
#define LARGE		(4UL << 20)
#define WARMUP		10
#define SESSION_PROCS	5
#define SESSION_ROUNDS	4
#define NBUF		256
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define SKEL_URI	"file:///libqda_test_skel.so?qda_test_skel_handle_invoke&_modver=1.0"
#define SCALARS(m, in, out) \
	((((m) & 0x1f) << 24) | (((in) & 0xff) << 16) | (((out) & 0xff) << 8))
#define SKEL_ECHO	0
#define SKEL_SUM	1
#define SUM_WORDS	(256UL * 1024)
#define SUM_BYTES	(SUM_WORDS * sizeof(uint32_t))
/* Sum of 0..SUM_WORDS - 1. */
#define SUM_EXPECT	((uint64_t)SUM_WORDS * (SUM_WORDS - 1) / 2)
#define INVOKE_WARMUP	5

/* One argument of a remote call: copied when @fd is -1, else in buffer @fd. */
struct rarg {
	void *ptr;
	uint64_t len;
	int fd;
};

/* One driver's way to get, map and drop a buffer. */
struct backend {
	const char *name;
	/* Stores the path of the cdsp node in @path; 0 or -1. */
	int (*find)(char *path, size_t len);
	/* Allocates @size bytes; stores a buffer id (handle or fd) in @id. */
	int (*alloc)(int dev, size_t size, int *id);
	void *(*map)(int dev, int id, size_t size);
	int (*release)(int dev, int id);
	/* INIT_CREATE of a user PD without a shell file. */
	int (*create)(int dev);
	/* Returns 0, -errno, or the DSP's own non-zero status. */
	int (*invoke)(int dev, uint32_t handle, uint32_t sc,
		      const struct rarg *a, unsigned int n);
	/* mem_map (init method 10) of @size bytes of buffer @id at @ptr. */
	int (*mem_map)(int dev, int id, void *ptr, size_t size,
		       uint64_t *vaddr);
	/* mem_unmap (init method 11) of that mapping. */
	int (*mem_unmap)(int dev, int id, void *ptr, size_t size,
			 uint64_t vaddr);
};

static int ioctl_ret(int r)
{
	return r == -1 ? -errno : r;
}

/* ---- qda ---- */

static int qda_find(char *path, size_t len)
{
	struct drm_qda_query q;
	struct dirent *de;
	int fd, found = -1;
	DIR *d;

	d = opendir("/dev/accel");
	if (!d)
		return -1;
	while (found && (de = readdir(d))) {
		if (strncmp(de->d_name, "accel", 5))
			continue;
		snprintf(path, len, "/dev/accel/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&q, 0, sizeof(q));
		if (!ioctl(fd, DRM_IOCTL_QDA_QUERY, &q) &&
		    !strcmp((char *)q.dsp_name, "cdsp"))
			found = 0;
		close(fd);
	}
	closedir(d);
	return found;
}

static int qda_alloc(int dev, size_t size, int *id)
{
	struct drm_qda_gem_create c = { .size = size };

	if (ioctl(dev, DRM_IOCTL_QDA_GEM_CREATE, &c))
		return -errno;
	*id = c.handle;
	return 0;
}

static void *qda_map(int dev, int id, size_t size)
{
	struct drm_qda_gem_mmap_offset m = { .handle = id };

	if (ioctl(dev, DRM_IOCTL_QDA_GEM_MMAP_OFFSET, &m))
		return MAP_FAILED;
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dev, m.offset);
}

static int qda_release(int dev, int id)
{
	struct drm_gem_close c = { .handle = id };

	return ioctl(dev, DRM_IOCTL_GEM_CLOSE, &c) ? -errno : 0;
}

static int qda_create(int dev)
{
	struct drm_qda_init_create c = { .filefd = -1 };

	return ioctl_ret(ioctl(dev, DRM_IOCTL_QDA_INIT_CREATE, &c));
}

static int qda_invoke(int dev, uint32_t handle, uint32_t sc,
		      const struct rarg *a, unsigned int n)
{
	struct drm_qda_invoke_args qa[8];
	struct drm_qda_invoke inv = {
		.handle = handle, .sc = sc, .args = (uintptr_t)qa,
	};
	unsigned int i;

	if (n > ARRAY_SIZE(qa))
		return -E2BIG;
	memset(qa, 0, sizeof(qa));
	for (i = 0; i < n; i++) {
		qa[i].ptr = (uintptr_t)a[i].ptr;
		qa[i].length = a[i].len;
		qa[i].fd = a[i].fd;
	}
	return ioctl_ret(ioctl(dev, DRM_IOCTL_QDA_INVOKE, &inv));
}

static int qda_mem_map(int dev, int id, void *ptr, size_t size,
		       uint64_t *vaddr)
{
	struct drm_qda_map m = {
		.request = QDA_MAP_REQUEST_ATTR, .flags = FASTRPC_MAP_FD,
		.fd = id, .vaddrin = (uintptr_t)ptr, .size = size,
	};
	int r = ioctl_ret(ioctl(dev, DRM_IOCTL_QDA_MAP, &m));

	*vaddr = m.vaddrout;
	return r;
}

static int qda_mem_unmap(int dev, int id, void *ptr, size_t size,
			 uint64_t vaddr)
{
	struct drm_qda_munmap m = {
		.request = QDA_MAP_REQUEST_ATTR, .fd = id,
		.vaddr = (uintptr_t)ptr, .vaddrout = vaddr, .size = size,
	};

	return ioctl_ret(ioctl(dev, DRM_IOCTL_QDA_MUNMAP, &m));
}

/* ---- fastrpc ---- */

static int frpc_find(char *path, size_t len)
{
	snprintf(path, len, "/dev/fastrpc-cdsp");
	return access(path, F_OK);
}

static int frpc_alloc(int dev, size_t size, int *id)
{
	struct fastrpc_alloc_dma_buf b = { .fd = -1, .size = size };

	if (ioctl(dev, FASTRPC_IOCTL_ALLOC_DMA_BUFF, &b))
		return -errno;
	*id = b.fd;
	return 0;
}

static void *frpc_map(int dev, int id, size_t size)
{
	(void)dev;
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, id, 0);
}

static int frpc_release(int dev, int id)
{
	(void)dev;
	return close(id) ? -errno : 0;
}

static int frpc_create(int dev)
{
	struct fastrpc_init_create c = { .filefd = -1 };

	return ioctl_ret(ioctl(dev, FASTRPC_IOCTL_INIT_CREATE, &c));
}

static int frpc_invoke(int dev, uint32_t handle, uint32_t sc,
		       const struct rarg *a, unsigned int n)
{
	struct fastrpc_invoke_args fa[8];
	struct fastrpc_invoke inv = {
		.handle = handle, .sc = sc, .args = (uintptr_t)fa,
	};
	unsigned int i;

	if (n > ARRAY_SIZE(fa))
		return -E2BIG;
	memset(fa, 0, sizeof(fa));
	for (i = 0; i < n; i++) {
		fa[i].ptr = (uintptr_t)a[i].ptr;
		fa[i].length = a[i].len;
		fa[i].fd = a[i].fd;
	}
	return ioctl_ret(ioctl(dev, FASTRPC_IOCTL_INVOKE, &inv));
}

static int frpc_mem_map(int dev, int id, void *ptr, size_t size,
			uint64_t *vaddr)
{
	struct fastrpc_mem_map m = {
		.fd = id, .flags = FASTRPC_MAP_FD,
		.vaddrin = (uintptr_t)ptr, .length = size,
	};
	int r = ioctl_ret(ioctl(dev, FASTRPC_IOCTL_MEM_MAP, &m));

	*vaddr = m.vaddrout;
	return r;
}

static int frpc_mem_unmap(int dev, int id, void *ptr, size_t size,
			  uint64_t vaddr)
{
	struct fastrpc_mem_unmap m = {
		.fd = id, .vaddr = vaddr, .length = size,
	};

	(void)ptr;
	return ioctl_ret(ioctl(dev, FASTRPC_IOCTL_MEM_UNMAP, &m));
}

static const struct backend backends[] = {
	{ "qda", qda_find, qda_alloc, qda_map, qda_release, qda_create,
	  qda_invoke, qda_mem_map, qda_mem_unmap },
	{ "fastrpc", frpc_find, frpc_alloc, frpc_map, frpc_release,
	  frpc_create, frpc_invoke, frpc_mem_map, frpc_mem_unmap },
};

/* Path of the cdsp node of the backend in use. */
static char node[300];
/* The clock every time figure is read from. */
static struct qda_clock clk;

/* ---- measurements ---- */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/*
 * When the call being timed started (now_us()), for bench_work() to line
 * it up with the mock DSP's own stamps; every call_*() sets it with
 * stamp() just before its first ioctl.
 */
static double t_start;

static double stamp(void)
{
	t_start = now_us();
	return t_start;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Prints "<driver> <what>: mean M us p50 P p99 Q (n=N)" for the @n times
 * in @t (microseconds, summing to @sum; sorted here). A figure below the
 * clock's step reads "-", with a note; nothing is printed, and -EIO
 * returned, if the clock became unusable during the measurement.
 */
static int report(const struct backend *be, const char *what, double *t,
		  int n, double sum)
{
	static const char * const names[] = { "mean", "p50", "p99" };
	char fig[3][32], below[32] = "";
	double v[3];
	int i, r;

	r = qda_clock_recheck(&clk);
	if (r < 0) {
		fprintf(stderr, "FAIL: %s %s: clocksource now %s: %s; no figures\n",
			be->name, what, clk.source, clk.why);
		return -EIO;
	}
	if (r > 0)
		printf("note: %s %s: the clocksource changed during the measurement, to %s (step %lld ns)\n",
		       be->name, what, clk.source, clk.step_ns);
	qsort(t, n, sizeof(*t), cmp_double);
	v[0] = sum / n;
	v[1] = t[n / 2];
	v[2] = t[(long)n * 99 / 100];
	for (i = 0; i < 3; i++)
		if (qda_clock_fmt(fig[i], sizeof(fig[i]), v[i], 1, &clk))
			snprintf(below + strlen(below), sizeof(below) - strlen(below),
				 "%s%s", below[0] ? " " : "", names[i]);
	printf("%s %s: mean %s us p50 %s p99 %s (n=%d)\n", be->name, what,
	       fig[0], fig[1], fig[2], n);
	if (below[0])
		printf("note: %s %s: %s below the clock's step of %lld ns, shown as -\n",
		       be->name, what, below, clk.step_ns);
	return 0;
}

/* One buffer's life: allocate, [map, touch every page, unmap,] free. */
static int cycle(const struct backend *be, int dev, size_t size, int map)
{
	int id, ret, rel;
	size_t off;
	char *p;

	ret = be->alloc(dev, size, &id);
	if (ret)
		return ret;
	if (!map)
		return be->release(dev, id);
	p = be->map(dev, id, size);
	if (p == MAP_FAILED) {
		ret = -errno;
		be->release(dev, id);
		return ret;
	}
	for (off = 0; off < size; off += PG)
		p[off] = (char)off;
	if (munmap(p, size))
		ret = -errno;
	rel = be->release(dev, id);
	return ret ? ret : rel;
}

static int bench_cycle(const struct backend *be, int dev, size_t size,
		       int map, const char *label, int n)
{
	const char *what = map ? "alloc+mmap+free" : "alloc+free";
	double *t, sum = 0, t0;
	char name[64];
	int i, ret;

	t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (i = 0; i < WARMUP; i++) {
		ret = cycle(be, dev, size, map);
		if (ret)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		t0 = now_us();
		ret = cycle(be, dev, size, map);
		t[i] = now_us() - t0;
		if (ret)
			goto fail;
		sum += t[i];
	}
	snprintf(name, sizeof(name), "%s %s", what, label);
	ret = report(be, name, t, n, sum);
	free(t);
	return ret;
fail:
	fprintf(stderr, "%s %s %s: iteration %d failed: %s\n", be->name, what,
		label, i, strerror(-ret));
	free(t);
	return ret;
}

/* Value of "@key <n>" in /proc/vmstat, or -1. */
static long long vmstat_value(const char *key)
{
	size_t klen = strlen(key);
	long long v = -1;
	char line[256];
	FILE *f;

	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			v = atoll(line + klen + 1);
			break;
		}
	fclose(f);
	return v;
}

/* Value in kB of "@key: <n> kB" in /proc/meminfo, or -1. */
static long long meminfo_kb(const char *key)
{
	size_t klen = strlen(key);
	long long v = -1;
	char line[256];
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = atoll(line + klen + 1);
			break;
		}
	fclose(f);
	return v;
}

/* Pages on the per-CPU free lists of every zone. */
static long long pcp_pages(void)
{
	long long n = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *c = strstr(line, "count:");

		if (c)
			n += atoll(c + 6);
	}
	fclose(f);
	return n;
}

/* Bytes in use: MemTotal minus free pages, per-CPU lists included. */
static long long used_bytes(void)
{
	long long total = meminfo_kb("MemTotal") * 1024;

	return total - (vmstat_value("nr_free_pages") + pcp_pages()) * (long long)PG;
}

static long long slab_bytes(void)
{
	return meminfo_kb("Slab") * 1024;
}

/*
 * Session cost: SESSION_PROCS children (one session each on either driver)
 * are forked and settled first; the baseline is taken, then each opens the
 * node and allocates 4 KiB, and the growth is read while they hold it.
 */
static int session_round(const struct backend *be, long long *used,
			 long long *slab)
{
	int go[2], done[2], i, ret = 0, n = 0;
	pid_t pids[SESSION_PROCS];
	long long u0, s0;
	char c;

	if (pipe(go) || pipe(done))
		return -errno;
	for (n = 0; n < SESSION_PROCS; n++) {
		pids[n] = fork();
		if (pids[n] < 0)
			break;
		if (!pids[n]) {
			char stack[32768];
			int dev, id;

			/* Fault in what the measured part uses. */
			memset(stack, 1, sizeof(stack));
			ioctl(-1, DRM_IOCTL_QDA_GEM_CREATE, stack);
			c = stack[100];
			if (write(done[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
				_exit(1);
			dev = open(node, O_RDWR | O_CLOEXEC);
			c = dev >= 0 && !be->alloc(dev, SMALL, &id) ? 0 : 1;
			if (write(done[1], &c, 1) != 1)
				_exit(1);
			/* Hold until killed. */
			for (;;)
				pause();
		}
	}
	for (i = 0; i < n; i++)
		if (read(done[0], &c, 1) != 1)
			ret = -EIO;
	u0 = used_bytes();
	s0 = slab_bytes();
	for (i = 0; i < n; i++)
		if (write(go[1], &c, 1) != 1)
			ret = -EIO;
	for (i = 0; i < n; i++)
		if (read(done[0], &c, 1) != 1 || c)
			ret = -EIO;
	*used = (used_bytes() - u0) / SESSION_PROCS - (long long)SMALL;
	*slab = (slab_bytes() - s0) / SESSION_PROCS;
	for (i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	if (n < SESSION_PROCS)
		ret = -EAGAIN;
	return ret;
}

static int bench_session(const struct backend *be)
{
	long long used = 0, slab = 0, u, s;
	int i, ret;

	for (i = 0; i < SESSION_ROUNDS; i++) {
		ret = session_round(be, &u, &s);
		if (ret) {
			fprintf(stderr, "%s: session round %d failed: %s\n",
				be->name, i, strerror(-ret));
			return ret;
		}
		used += u;
		slab += s;
	}
	printf("%s session overhead: %lld bytes (slab %lld, n=%d)\n", be->name,
	       used / SESSION_ROUNDS, slab / SESSION_ROUNDS,
	       SESSION_ROUNDS * SESSION_PROCS);
	return 0;
}

static int bench_buffers(const struct backend *be, int dev)
{
	long long u0, s0, u1, s1, u2, s2;
	static void *maps[NBUF];
	static int ids[NBUF];
	int i, n, ret = 0;

	u0 = used_bytes();
	s0 = slab_bytes();
	for (n = 0; n < NBUF; n++) {
		ret = be->alloc(dev, SMALL, &ids[n]);
		if (ret) {
			fprintf(stderr, "%s: buffer %d: %s\n", be->name, n, strerror(-ret));
			goto out;
		}
	}
	u1 = used_bytes();
	s1 = slab_bytes();
	for (i = 0; i < NBUF; i++) {
		maps[i] = be->map(dev, ids[i], SMALL);
		if (maps[i] == MAP_FAILED) {
			ret = -errno;
			fprintf(stderr, "%s: map %d: %s\n", be->name, i, strerror(-ret));
			while (i--)
				munmap(maps[i], SMALL);
			goto out;
		}
		*(char *)maps[i] = 1;
	}
	u2 = used_bytes();
	s2 = slab_bytes();
	for (i = 0; i < NBUF; i++)
		munmap(maps[i], SMALL);
	printf("%s buffer overhead 4KiB: %lld bytes (slab %lld, n=%d)\n",
	       be->name, (u1 - u0) / NBUF - (long long)SMALL, (s1 - s0) / NBUF, NBUF);
	printf("%s buffer overhead 4KiB mapped: %lld bytes (slab %lld, n=%d)\n",
	       be->name, (u2 - u0) / NBUF - (long long)SMALL, (s2 - s0) / NBUF, NBUF);
out:
	while (n--)
		be->release(dev, ids[n]);
	return ret;
}

/* ---- remote calls ---- */

#define MOCK_DIR	"/sys/kernel/debug/qda_mock_dsp"
/* The mock DSP's service times on cdsp (mock-dsp.rst, "Service time"). */
#define MOCK_SERVICE	MOCK_DIR "/service/cdsp"
#define MOCK_SVC_RING	16384
#define SKEL_NOP	6
#define ECHO_BIG	(64UL * 1024)
#define SCALE_MS	2000
#define SCALE_PROCS	4
#define MOCK_WORKERS	8
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAIL_PAGE_ALLOC	"/sys/kernel/debug/fail_page_alloc"
#define ALLOC_ROUNDS	3
#define ALLOC_MAX	256

/*
 * Set while allocations are made to fail on purpose, and while the scaling
 * callers run (scale_threads() reports their errors once): no FAIL lines.
 */
static int quiet;

/* A session on the cdsp node with the test skel open, and its buffers. */
struct sess {
	const struct backend *be;
	int dev;
	uint32_t h;
	/* 0..SUM_WORDS - 1, in plain memory and in a mapped buffer @id. */
	uint32_t *data;
	uint32_t *buf;
	int id;
	/* ECHO_BIG bytes each, plain memory. */
	uint8_t *in, *out;
};

/* Result code of a call, readable. */
static const char *rpc_err(int r)
{
	static char buf[32];

	if (r < 0 && r > -4096)
		return strerror(-r);
	snprintf(buf, sizeof(buf), "DSP status 0x%x", (unsigned int)r);
	return buf;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;
	ssize_t len = strlen(s);

	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != len)
		r = -errno;
	close(fd);
	return r;
}

/* remotectl open of the test skel; stores its handle in @h. */
static int skel_open(const struct backend *be, int dev, uint32_t *h)
{
	char dlerr[128] = "";
	uint32_t in[2] = { sizeof(SKEL_URI), sizeof(dlerr) };
	uint32_t out[2] = { 0, 0 };
	struct rarg a[4] = {
		{ in, sizeof(in), -1 },
		{ (void *)SKEL_URI, sizeof(SKEL_URI), -1 },
		{ out, sizeof(out), -1 },
		{ dlerr, sizeof(dlerr), -1 },
	};
	int r;

	r = be->invoke(dev, 0, SCALARS(0, 2, 2), a, 4);
	if (r || out[1] || !out[0]) {
		fprintf(stderr, "FAIL: %s: remotectl open: %s, err %u, handle 0x%x: %s\n",
			be->name, rpc_err(r), out[1], out[0], dlerr);
		return r ? r : -EIO;
	}
	*h = out[0];
	return 0;
}

static int skel_close(const struct backend *be, int dev, uint32_t h)
{
	char dlerr[64] = "";
	uint32_t in[2] = { h, sizeof(dlerr) };
	int32_t err = 0;
	struct rarg a[3] = {
		{ in, sizeof(in), -1 },
		{ &err, sizeof(err), -1 },
		{ dlerr, sizeof(dlerr), -1 },
	};
	int r;

	r = be->invoke(dev, 0, SCALARS(1, 1, 2), a, 3);
	if (r || err) {
		fprintf(stderr, "FAIL: %s: remotectl close: %s, err %d: %s\n",
			be->name, rpc_err(r), err, dlerr);
		return r ? r : -EIO;
	}
	return 0;
}

/* Opens the node, creates a user PD and opens the test skel. */
static int sess_open(const struct backend *be, struct sess *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->be = be;
	s->id = -1;
	s->buf = MAP_FAILED;
	s->dev = open(node, O_RDWR | O_CLOEXEC);
	if (s->dev < 0) {
		ret = -errno;
		fprintf(stderr, "FAIL: %s: open %s: %s\n", be->name, node,
			strerror(-ret));
		return ret;
	}
	ret = be->create(s->dev);
	if (ret) {
		fprintf(stderr, "FAIL: %s: INIT_CREATE: %s\n", be->name,
			rpc_err(ret));
		close(s->dev);
		return ret;
	}
	ret = skel_open(be, s->dev, &s->h);
	if (ret)
		close(s->dev);
	return ret;
}

/* The buffers of the data-carrying calls. */
static int sess_buffers(struct sess *s)
{
	const struct backend *be = s->be;
	size_t i;
	int ret;

	s->data = malloc(SUM_BYTES);
	s->in = malloc(ECHO_BIG);
	s->out = malloc(ECHO_BIG);
	if (!s->data || !s->in || !s->out)
		return -ENOMEM;
	for (i = 0; i < SUM_WORDS; i++)
		s->data[i] = i;
	for (i = 0; i < ECHO_BIG; i++)
		s->in[i] = (uint8_t)(i * 7 + 1);
	ret = be->alloc(s->dev, SUM_BYTES, &s->id);
	if (ret) {
		fprintf(stderr, "FAIL: %s: 1 MiB buffer: %s\n", be->name,
			strerror(-ret));
		s->id = -1;
		return ret;
	}
	s->buf = be->map(s->dev, s->id, SUM_BYTES);
	if (s->buf == MAP_FAILED) {
		ret = -errno;
		fprintf(stderr, "FAIL: %s: map of the 1 MiB buffer: %s\n",
			be->name, strerror(-ret));
		return ret;
	}
	memcpy(s->buf, s->data, SUM_BYTES);
	return 0;
}

static int sess_close(struct sess *s)
{
	int ret = skel_close(s->be, s->dev, s->h);

	if (s->buf != MAP_FAILED)
		munmap(s->buf, SUM_BYTES);
	if (s->id >= 0)
		s->be->release(s->dev, s->id);
	close(s->dev);
	free(s->data);
	free(s->in);
	free(s->out);
	return ret;
}

static int call_failed(struct sess *s, const char *what, int r)
{
	if (!quiet)
		fprintf(stderr, "FAIL: %s: %s: %s\n", s->be->name, what,
			rpc_err(r));
	return r ? r : -EIO;
}

/*
 * The calls measured. Each makes one call numbered @seq, puts the time of
 * its ioctl(s) in @t (microseconds) and checks the result: 0 or an error.
 */
static int call_null(struct sess *s, int seq, double *t)
{
	double t0 = stamp();
	int r = s->be->invoke(s->dev, s->h, SCALARS(SKEL_NOP, 0, 0), NULL, 0);

	*t = now_us() - t0;
	(void)seq;
	return r ? call_failed(s, "null invoke", r) : 0;
}

static int call_echo4(struct sess *s, int seq, double *t)
{
	uint32_t x = 0x5eed0000 ^ seq, y = ~x;
	struct rarg a[2] = {
		{ &x, sizeof(x), -1 },
		{ &y, sizeof(y), -1 },
	};
	double t0 = stamp();
	int r = s->be->invoke(s->dev, s->h, SCALARS(SKEL_ECHO, 1, 1), a, 2);

	*t = now_us() - t0;
	if (r)
		return call_failed(s, "echo 4B", r);
	if (y != x) {
		fprintf(stderr, "FAIL: %s: echo returned 0x%x, expected 0x%x\n",
			s->be->name, y, x);
		return -EIO;
	}
	return 0;
}

static int call_echo64k(struct sess *s, int seq, double *t)
{
	struct rarg a[2] = {
		{ s->in, ECHO_BIG, -1 },
		{ s->out, ECHO_BIG, -1 },
	};
	double t0;
	int r;

	memcpy(s->in, &seq, sizeof(seq));
	memset(s->out, 0, ECHO_BIG);
	t0 = stamp();
	r = s->be->invoke(s->dev, s->h, SCALARS(SKEL_ECHO, 1, 1), a, 2);
	*t = now_us() - t0;
	if (r)
		return call_failed(s, "echo 64KiB", r);
	if (memcmp(s->in, s->out, ECHO_BIG)) {
		fprintf(stderr, "FAIL: %s: echo 64KiB returned other bytes\n",
			s->be->name);
		return -EIO;
	}
	return 0;
}

static int call_sum(struct sess *s, const uint32_t *data, int fd, double *t)
{
	uint64_t sum = 0;
	struct rarg a[2] = {
		{ (void *)data, SUM_BYTES, fd },
		{ &sum, sizeof(sum), -1 },
	};
	double t0 = stamp();
	int r = s->be->invoke(s->dev, s->h, SCALARS(SKEL_SUM, 1, 1), a, 2);

	*t = now_us() - t0;
	if (r)
		return call_failed(s, "sum 1MiB", r);
	if (sum != SUM_EXPECT) {
		fprintf(stderr, "FAIL: %s: sum returned %llu, expected %llu\n",
			s->be->name, (unsigned long long)sum,
			(unsigned long long)SUM_EXPECT);
		return -EIO;
	}
	return 0;
}

static int call_sum_inline(struct sess *s, int seq, double *t)
{
	(void)seq;
	return call_sum(s, s->data, -1, t);
}

static int call_sum_zc(struct sess *s, int seq, double *t)
{
	(void)seq;
	return call_sum(s, s->buf, s->id, t);
}

/* mem_map then mem_unmap of the whole 1 MiB buffer. */
static int call_map(struct sess *s, int seq, double *t)
{
	uint64_t va = 0;
	double t0 = stamp();
	int r, u = -EINVAL;

	(void)seq;
	r = s->be->mem_map(s->dev, s->id, s->buf, SUM_BYTES, &va);
	if (!r)
		u = s->be->mem_unmap(s->dev, s->id, s->buf, SUM_BYTES, va);
	*t = now_us() - t0;
	if (r)
		return call_failed(s, "mem_map 1MiB", r);
	if (u)
		return call_failed(s, "mem_unmap 1MiB", u);
	if (!va) {
		fprintf(stderr, "FAIL: %s: mem_map returned DSP address 0\n",
			s->be->name);
		return -EIO;
	}
	return 0;
}

struct work {
	const char *label;
	int (*call)(struct sess *s, int seq, double *t);
	/* Messages the DSP answers per call. */
	int msgs;
	/* Print every round trip and DSP time ("raw" lines, for the CDF). */
	int raw;
};

static const struct work works[] = {
	{ "invoke null", call_null, 1, 1 },
	{ "invoke echo 4B", call_echo4, 1, 1 },
	{ "invoke echo 64KiB", call_echo64k, 1, 0 },
	{ "invoke sum 1MiB inline", call_sum_inline, 1, 0 },
	{ "invoke sum 1MiB zero-copy", call_sum_zc, 1, 0 },
	{ "map+unmap 1MiB", call_map, 2, 0 },
};

/* Resets the mock's service times of cdsp; 0 or -errno. */
static int svc_reset(void)
{
	return write_file(MOCK_SERVICE, "0");
}

/*
 * Reads up to @max service times (microseconds) into @v, oldest first,
 * and when each request came in and its answer went out into @rx and @tx
 * (microseconds of CLOCK_MONOTONIC, as now_us(); 0 from a mock that does
 * not say); returns how many the mock counted since the reset (possibly
 * more than it kept), or -errno. Stores how many were read in @got.
 */
static long svc_read(double *v, double *rx, double *tx, long max, long *got)
{
	unsigned long long count, sum, mx, ns, in, out;
	char line[96];
	unsigned int w;
	long n = 0;
	FILE *f;

	f = fopen(MOCK_SERVICE, "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "count=%llu sum_ns=%llu max_ns=%llu workers=%u",
		   &count, &sum, &mx, &w) != 4) {
		fclose(f);
		return -EIO;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		in = out = 0;
		if (sscanf(line, "%llu %llu %llu", &ns, &in, &out) < 1)
			break;
		v[n] = ns / 1e3;
		rx[n] = in / 1e3;
		tx[n] = out / 1e3;
		n++;
	}
	fclose(f);
	*got = n;
	return count;
}

static void print_raw(const struct backend *be, const char *what,
		      const double *t, int n)
{
	int i;

	printf("raw %s %s:", be->name, what);
	for (i = 0; i < n; i++)
		printf(" %.2f", t[i]);
	printf("\n");
}

/* report() of the @part ("dsp", "driver", ...) of the calls @label. */
static int report_part(const struct backend *be, const char *label,
		       const char *part, double *t, int n, double sum)
{
	char name[96];

	snprintf(name, sizeof(name), "%s %s", label, part);
	return report(be, name, t, n, sum);
}

/*
 * @n timed calls of @w after a few warm-up ones: round trip, the DSP's
 * share (the mock's service times of the call's messages, read back in
 * order, one call at a time) and the driver's overhead (the difference,
 * per call), each as "mean/p50/p99"; then calls per second.
 */
static int bench_work(struct sess *s, const struct work *w, int n)
{
	const struct backend *be = s->be;
	double *t, *dsp, *drv, *v, *rx, *tx, *start, *snd, *rcv;
	double sum = 0, dsum = 0, osum = 0, ssum = 0, rsum = 0, t0, wall, x;
	long count = -1, got = 0;
	char name[96];
	int i, j, ret, shared = 0, split = 0;

	if ((long)n * w->msgs > MOCK_SVC_RING)
		n = MOCK_SVC_RING / w->msgs;
	t = calloc(n, sizeof(*t));
	dsp = calloc(n, sizeof(*dsp));
	drv = calloc(n, sizeof(*drv));
	start = calloc(n, sizeof(*start));
	snd = calloc(n, sizeof(*snd));
	rcv = calloc(n, sizeof(*rcv));
	v = calloc((size_t)n * w->msgs, sizeof(*v));
	rx = calloc((size_t)n * w->msgs, sizeof(*rx));
	tx = calloc((size_t)n * w->msgs, sizeof(*tx));
	if (!t || !dsp || !drv || !start || !snd || !rcv || !v || !rx || !tx) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < INVOKE_WARMUP; i++) {
		ret = w->call(s, i, &x);
		if (ret)
			goto fail;
	}
	svc_reset();
	t0 = now_us();
	for (i = 0; i < n; i++) {
		ret = w->call(s, i, &t[i]);
		if (ret)
			goto fail;
		start[i] = t_start;
		sum += t[i];
	}
	wall = now_us() - t0;
	count = svc_read(v, rx, tx, (long)n * w->msgs, &got);
	if (count == (long)n * w->msgs && got == count) {
		shared = 1;
		/*
		 * One message per call, stamped by the mock on the same clock:
		 * the overhead splits into the send side (from the call's start
		 * to the DSP having the request) and the receive side (from the
		 * answer leaving the DSP to the call's return).
		 */
		split = w->msgs == 1 && rx[0] > 0;
		for (i = 0; i < n; i++) {
			for (j = 0; j < w->msgs; j++)
				dsp[i] += v[i * w->msgs + j];
			drv[i] = t[i] - dsp[i];
			dsum += dsp[i];
			osum += drv[i];
			if (split) {
				snd[i] = rx[i] - start[i];
				rcv[i] = start[i] + t[i] - tx[i];
				if (snd[i] < 0 || rcv[i] < 0)
					split = 0;
				ssum += snd[i];
				rsum += rcv[i];
			}
		}
	} else {
		printf("note: %s %s: the mock DSP counted %ld answers for %d calls of %d message(s); no DSP share\n",
		       be->name, w->label, count, n, w->msgs);
	}
	if (w->raw) {
		print_raw(be, w->label, t, n);
		if (shared) {
			snprintf(name, sizeof(name), "%s dsp", w->label);
			print_raw(be, name, dsp, n);
		}
	}
	ret = report(be, w->label, t, n, sum);
	if (!ret && shared)
		ret = report_part(be, w->label, "dsp", dsp, n, dsum);
	if (!ret && shared)
		ret = report_part(be, w->label, "driver", drv, n, osum);
	if (!ret && split)
		ret = report_part(be, w->label, "driver send", snd, n, ssum);
	if (!ret && split)
		ret = report_part(be, w->label, "driver receive", rcv, n, rsum);
	if (!ret)
		printf("%s %s: %.0f calls/s (n=%d)\n", be->name, w->label,
		       n / (wall / 1e6), n);
	goto out;
fail:
	fprintf(stderr, "FAIL: %s %s: call %d failed\n", be->name, w->label, i);
out:
	free(t);
	free(dsp);
	free(drv);
	free(start);
	free(snd);
	free(rcv);
	free(v);
	free(rx);
	free(tx);
	return ret;
}

static int bench_invoke(const struct backend *be, int small_n, int echo_n,
			int sum_n)
{
	struct sess s;
	size_t i;
	int ret, n;

	ret = sess_open(be, &s);
	if (ret)
		return ret;
	ret = sess_buffers(&s);
	for (i = 0; !ret && i < ARRAY_SIZE(works); i++) {
		const struct work *w = &works[i];

		n = w->call == call_null ? small_n :
		    w->call == call_echo4 ? echo_n : sum_n;
		ret = bench_work(&s, w, n);
	}
	if (sess_close(&s) && !ret)
		ret = -EIO;
	return ret;
}

/* ---- several callers at once ---- */

struct caller {
	struct sess *s;
	pthread_barrier_t *start;
	const double *deadline;
	long calls;
	double end;
	int err;
	pthread_t thread;
};

/* Null invokes until the deadline; counts them. */
static void run_calls(struct sess *s, double deadline, long *calls,
		      double *end, int *err)
{
	double t;

	*calls = 0;
	*err = 0;
	while (now_us() < deadline) {
		*err = call_null(s, 0, &t);
		if (*err)
			break;
		(*calls)++;
	}
	*end = now_us();
}

static void *caller_thread(void *arg)
{
	struct caller *c = arg;

	pthread_barrier_wait(c->start);
	run_calls(c->s, *c->deadline, &c->calls, &c->end, &c->err);
	return NULL;
}

static void scale_report(const struct backend *be, const char *what,
			 long calls, double start, double end)
{
	printf("%s null invoke %s: %.0f calls/s (n=%ld)\n", be->name, what,
	       calls / ((end - start) / 1e6), calls);
}

/*
 * Whether the error @err of a scaling caller is upstream fastrpc.ko running
 * out of context ids: fastrpc_context_alloc() takes them from a 255-entry
 * IDR (FASTRPC_CTX_MAX) that its rpmsg callback releases only later, from a
 * work item (put_work), so callers that outrun that work item get ENOSPC.
 * A known limit of that driver, not a failed measurement.
 */
static int ctx_ids_exhausted(const struct backend *be, int err)
{
	return !strcmp(be->name, "fastrpc") && err == -ENOSPC;
}

/*
 * @nthreads threads of one process on one session. When a thread stops at
 * an error the run fails, unless every error is fastrpc.ko's ENOSPC
 * (ctx_ids_exhausted()): then the figure is "-", with a note.
 */
static int scale_threads(struct sess *s, int nthreads)
{
	struct caller c[8];
	pthread_barrier_t start;
	double deadline = 0, t0, end = 0;
	long calls = 0;
	char what[32];
	int i, err = 0, other = 0;

	if (nthreads > (int)ARRAY_SIZE(c))
		return -EINVAL;
	pthread_barrier_init(&start, NULL, nthreads + 1);
	/* The callers' errors are reported below, once. */
	quiet = 1;
	for (i = 0; i < nthreads; i++) {
		c[i] = (struct caller){ .s = s, .start = &start,
					.deadline = &deadline };
		if (pthread_create(&c[i].thread, NULL, caller_thread, &c[i])) {
			fprintf(stderr, "FAIL: %s: pthread_create\n", s->be->name);
			exit(1);
		}
	}
	t0 = now_us();
	deadline = t0 + SCALE_MS * 1e3;
	pthread_barrier_wait(&start);
	for (i = 0; i < nthreads; i++) {
		pthread_join(c[i].thread, NULL);
		calls += c[i].calls;
		if (c[i].end > end)
			end = c[i].end;
		if (c[i].err && !err)
			err = c[i].err;
		if (c[i].err && !other && !ctx_ids_exhausted(s->be, c[i].err))
			other = c[i].err;
	}
	quiet = 0;
	pthread_barrier_destroy(&start);
	snprintf(what, sizeof(what), "%d thread%s", nthreads,
		 nthreads > 1 ? "s" : "");
	if (err && !other) {
		printf("note: %s null invoke %s: out of context ids (ENOSPC from fastrpc_context_alloc(), which frees them from a work item) after %ld calls; shown as -\n",
		       s->be->name, what, calls);
		printf("%s null invoke %s: - calls/s (n=%ld)\n", s->be->name,
		       what, calls);
		return 0;
	}
	/* A failed caller stopped at its error; the others' figure stays. */
	if (other)
		fprintf(stderr, "FAIL: %s null invoke %s: a thread stopped at an error (%s); calls/s of the calls that succeeded\n",
			s->be->name, what, rpc_err(other));
	scale_report(s->be, what, calls, t0, end);
	return other;
}

struct proc_result {
	long calls;
	double end;
	int err;
};

/* SCALE_PROCS processes, a session each. */
static int scale_procs(const struct backend *be)
{
	int ready[2], go[2], res[2], i, n, ret = 0;
	pid_t pids[SCALE_PROCS];
	struct proc_result r;
	double t0, deadline, end = 0;
	long calls = 0;
	char c;

	if (pipe(ready) || pipe(go) || pipe(res))
		return -errno;
	for (n = 0; n < SCALE_PROCS; n++) {
		pids[n] = fork();
		if (pids[n] < 0)
			break;
		if (!pids[n]) {
			struct sess s;

			c = sess_open(be, &s) ? 1 : 0;
			if (write(ready[1], &c, 1) != 1 || c)
				_exit(1);
			if (read(go[0], &deadline, sizeof(deadline)) !=
			    sizeof(deadline))
				_exit(1);
			run_calls(&s, deadline, &r.calls, &r.end, &r.err);
			if (write(res[1], &r, sizeof(r)) != sizeof(r))
				_exit(1);
			_exit(sess_close(&s) ? 1 : 0);
		}
	}
	for (i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1 || c)
			ret = -EIO;
	t0 = now_us();
	deadline = t0 + SCALE_MS * 1e3;
	for (i = 0; i < n; i++)
		if (write(go[1], &deadline, sizeof(deadline)) != sizeof(deadline))
			ret = -EIO;
	for (i = 0; !ret && i < n; i++) {
		if (read(res[0], &r, sizeof(r)) != sizeof(r)) {
			ret = -EIO;
			break;
		}
		calls += r.calls;
		if (r.end > end)
			end = r.end;
		if (r.err)
			ret = r.err;
	}
	close(go[1]);
	for (i = 0; i < n; i++) {
		int st;

		waitpid(pids[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			ret = ret ? ret : -EIO;
	}
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(res[0]);
	close(res[1]);
	if (n < SCALE_PROCS)
		ret = -EAGAIN;
	if (ret) {
		fprintf(stderr, "FAIL: %s: %d processes: %s\n", be->name,
			SCALE_PROCS, rpc_err(ret));
		return ret;
	}
	scale_report(be, "4 processes", calls, t0, end);
	return 0;
}

/*
 * Null invokes from 1, 2, 4 and 8 threads of one process, then from
 * SCALE_PROCS processes, each for SCALE_MS, against a mock DSP with
 * MOCK_WORKERS workers on cdsp (restored to 1 afterwards).
 */
static int bench_scaling(const struct backend *be)
{
	static const int nthreads[] = { 1, 2, 4, 8 };
	char cmd[32];
	struct sess s;
	size_t i;
	int ret;

	snprintf(cmd, sizeof(cmd), "workers cdsp %d", MOCK_WORKERS);
	ret = write_file(MOCK_CONTROL, cmd);
	if (ret) {
		fprintf(stderr, "FAIL: %s: mock DSP control '%s': %s\n",
			be->name, cmd, strerror(-ret));
		return ret;
	}
	printf("note: %s: mock DSP cdsp with %d workers for the scaling runs\n",
	       be->name, MOCK_WORKERS);
	ret = sess_open(be, &s);
	if (!ret) {
		/* Every configuration, also after one failed. */
		for (i = 0; i < ARRAY_SIZE(nthreads); i++) {
			int r = scale_threads(&s, nthreads[i]);

			ret = ret ? ret : r;
		}
		if (sess_close(&s) && !ret)
			ret = -EIO;
	}
	if (scale_procs(be) && !ret)
		ret = -EIO;
	if (write_file(MOCK_CONTROL, "workers cdsp 1") && !ret)
		ret = -EIO;
	return ret;
}

/* ---- allocations per call (fail-nth, debug kernel) ---- */

/*
 * Fallible allocation points of one call of @call: for n = 1, 2, ... the
 * n-th point is made to fail (fail-nth = n) and the call made; once a
 * call no longer consumes the fault (fail-nth reads back non-zero) it has
 * n - 1 points. A normal call before each attempt keeps the session warm
 * (it repairs what an injected failure dropped). Returns the count or
 * -errno.
 */
static int count_points(struct sess *s, int fd,
			int (*call)(struct sess *s, int seq, double *t))
{
	double t;
	int n, left, r;

	for (n = 1; n <= ALLOC_MAX; n++) {
		r = call(s, n, &t);
		if (r) {
			fprintf(stderr, "FAIL: %s: a normal call after %d injected failure(s) failed\n",
				s->be->name, n - 1);
			return r;
		}
		if (fail_nth_set(fd, n))
			return -errno;
		quiet = 1;
		call(s, n, &t);
		quiet = 0;
		left = fail_nth_get(fd);
		fail_nth_set(fd, 0);
		if (left < 0)
			return -EIO;
		if (left)
			return n - 1;
	}
	return -E2BIG;
}

/* Allocator frames: the caller of interest is below them. */
static const char * const alloc_frames[] = {
	"dump_stack", "should_fail", "__should_fail", "fail_dump",
	"prepare_alloc_pages", "__alloc_pages", "alloc_pages", "__alloc_frozen",
	"alloc_frozen", "__kmalloc", "kmalloc", "kmem_cache_alloc",
	"__kmem_cache_alloc", "__kvmalloc", "kvmalloc", "slab_", "___slab",
	"__slab", "new_slab", "allocate_slab", "__dma_direct_alloc",
	"dma_direct_alloc", "dma_alloc_attrs", "__get_free_pages", "krealloc",
	"__do_krealloc", "get_page_from_freelist", "rmqueue", "kzalloc",
	"kcalloc", "__kvzalloc", "kvzalloc", "kmalloc_array", "__kmalloc_array",
};

/*
 * Which code makes the @n-th allocation point of @call: fails it with the
 * fault-injection stack dump on (verbose 2) and prints the first frames
 * below the allocator, read back from /dev/kmsg, as
 * "trace <driver> <what> #<n>: <frame> < <caller> < ..." (symbols as the
 * kernel prints them: Rust ones mangled; tools/bench/plot.py shortens
 * them).
 */
static void trace_point(struct sess *s, int fd, const char *label, int n,
			int (*call)(struct sess *s, int seq, double *t))
{
	char rec[2048], line[4096] = "";
	int k, got = 0, in_trace = 0;
	ssize_t r;
	double t;

	k = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k < 0)
		return;
	lseek(k, 0, SEEK_END);
	call(s, n, &t);
	fail_nth_set(fd, n);
	quiet = 1;
	call(s, n, &t);
	quiet = 0;
	fail_nth_set(fd, 0);
	while (got < 8 && (r = read(k, rec, sizeof(rec) - 1)) > 0) {
		char *m = strchr(rec, ';'), *e;
		size_t i;
		int skip = 0;

		rec[r] = 0;
		if (!m)
			continue;
		m++;
		e = strchr(m, '\n');
		if (e)
			*e = 0;
		if (strstr(m, "Call Trace:")) {
			in_trace = 1;
			continue;
		}
		if (!in_trace)
			continue;
		while (*m == ' ')
			m++;
		if (!strncmp(m, "? ", 2) || *m == '<')
			continue;
		e = strchr(m, '+');
		if (!e)
			continue;
		*e = 0;
		for (i = 0; i < ARRAY_SIZE(alloc_frames); i++)
			if (!strncmp(m, alloc_frames[i], strlen(alloc_frames[i])))
				skip = 1;
		if (skip && !got)
			continue;
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "%s%s", got ? " < " : "", m);
		got++;
	}
	close(k);
	printf("trace %s %s #%d: %s\n", s->be->name, label, n,
	       got ? line : "(no stack dump: a __GFP_NOWARN allocation)");
}

static int bench_allocs(const struct backend *be)
{
	static const struct {
		const char *label;
		int (*call)(struct sess *s, int seq, double *t);
	} calls[] = {
		{ "invoke null", call_null },
		{ "invoke echo 4B", call_echo4 },
		{ "invoke GEM arg", call_sum_zc },
	};
	int fd, ret = 0, r, k, lo, hi, opened;
	struct sess s;
	size_t i;
	double t;

	fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("note: %s: no %s in this kernel (the debug kernel has it); no allocation counts\n",
		       be->name, FAIL_NTH);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		ret = write_file(knobs[i].path, knobs[i].value);
		if (ret) {
			fprintf(stderr, "FAIL: %s: %s: %s\n", be->name,
				knobs[i].path, strerror(-ret));
			close(fd);
			return ret;
		}
	}
	ret = sess_open(be, &s);
	opened = !ret;
	if (!ret)
		ret = sess_buffers(&s);
	for (i = 0; !ret && i < ARRAY_SIZE(calls); i++) {
		/* Warm: the first calls grow the session's pool. */
		for (k = 0; !ret && k < INVOKE_WARMUP; k++)
			ret = calls[i].call(&s, k, &t);
		lo = ALLOC_MAX + 1;
		hi = -1;
		for (k = 0; !ret && k < ALLOC_ROUNDS; k++) {
			r = count_points(&s, fd, calls[i].call);
			if (r < 0) {
				ret = r;
				break;
			}
			lo = r < lo ? r : lo;
			hi = r > hi ? r : hi;
		}
		if (ret)
			break;
		printf("%s allocs %s: %d allocations/call (min of %d rounds%s)\n",
		       be->name, calls[i].label, lo, ALLOC_ROUNDS,
		       hi != lo ? ", varied" : "");
		if (hi != lo)
			printf("note: %s allocs %s: %d to %d fallible allocations per call over %d rounds\n",
			       be->name, calls[i].label, lo, hi, ALLOC_ROUNDS);
		/* Where they are: one stack dump per point. */
		write_file(FAILSLAB "/verbose", "2");
		write_file(FAIL_PAGE_ALLOC "/verbose", "2");
		for (k = 1; k <= lo; k++)
			trace_point(&s, fd, calls[i].label, k, calls[i].call);
		write_file(FAILSLAB "/verbose", "0");
		write_file(FAIL_PAGE_ALLOC "/verbose", "0");
	}
	if (opened && sess_close(&s) && !ret)
		ret = -EIO;
	close(fd);
	if (ret)
		fprintf(stderr, "FAIL: %s: allocation counts: %s\n", be->name,
			rpc_err(ret));
	return ret;
}

/*
 * Memory overhead and buffer allocation, while no session of ours exists
 * (the session figure first).
 */
static int bench_memory(const struct backend *be, int small_n, int large_n)
{
	int dev, ret = 0;

	if (bench_session(be))
		ret = 1;
	dev = open(node, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "%s: open %s: %s\n", be->name, node, strerror(errno));
		return 1;
	}
	if (bench_buffers(be, dev))
		ret = 1;
	if (bench_cycle(be, dev, SMALL, 1, "4KiB", small_n))
		ret = 1;
	if (bench_cycle(be, dev, LARGE, 1, "4MiB", large_n))
		ret = 1;
	/* The same without the CPU mapping: the allocator alone. */
	if (bench_cycle(be, dev, SMALL, 0, "4KiB", small_n))
		ret = 1;
	if (bench_cycle(be, dev, LARGE, 0, "4MiB", large_n))
		ret = 1;
	close(dev);
	return ret;
}

static int bad_args(const char *prog)
{
	fprintf(stderr, "usage: %s qda|fastrpc [--alloc-only|--calls] [iterations]\n",
		prog);
	return 2;
}

int main(int argc, char **argv)
{
	const struct backend *be = NULL;
	int small_n = 2000, large_n = 200, echo_n, sum_n, alloc_only = 0;
	int calls_only = 0, counted = 0, ret = 0, argi;
	size_t i;

	if (argc >= 2)
		for (i = 0; i < ARRAY_SIZE(backends); i++)
			if (!strcmp(argv[1], backends[i].name))
				be = &backends[i];
	if (!be)
		return bad_args(argv[0]);
	/* Options in any order, repeated or not; one iteration count. */
	for (argi = 2; argi < argc; argi++) {
		if (!strcmp(argv[argi], "--alloc-only")) {
			alloc_only = 1;
		} else if (!strcmp(argv[argi], "--calls")) {
			calls_only = 1;
		} else if (argv[argi][0] != '-' && !counted) {
			small_n = atoi(argv[argi]);
			if (small_n < 1) {
				fprintf(stderr, "bad iteration count '%s'\n",
					argv[argi]);
				return 2;
			}
			large_n = small_n / 10 ? small_n / 10 : 1;
			counted = 1;
		} else {
			return bad_args(argv[0]);
		}
	}
	if (alloc_only && calls_only)
		return bad_args(argv[0]);
	echo_n = small_n / 2 ? small_n / 2 : 1;
	sum_n = small_n / 20 ? small_n / 20 : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);

	ret = qda_clock_probe(&clk);
	qda_clock_print(stdout, &clk);
	if (ret && !alloc_only) {
		fprintf(stderr, "FAIL: %s: %s; no figures\n", be->name, clk.why);
		return 1;
	}
	ret = 0;

	if (be->find(node, sizeof(node))) {
		fprintf(stderr, "%s: no cdsp node\n", be->name);
		return 1;
	}
	if (alloc_only)
		return bench_allocs(be) ? 1 : 0;
	if (!calls_only && bench_memory(be, small_n, large_n))
		ret = 1;
	/* Remote calls, on a session of their own. */
	if (bench_invoke(be, small_n, echo_n, sum_n))
		ret = 1;
	if (bench_scaling(be))
		ret = 1;
	return ret;
}
