// SPDX-License-Identifier: GPL-2.0
/*
 * qda-bench - cost of DSP buffers on the cdsp channel, QDA against the
 * upstream fastrpc.ko, on the same mock DSP.
 *
 *   qda-bench qda|fastrpc [iterations]
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
 * per call (one clock_gettime() pair around the invoke ioctl, after a few
 * warm-up calls):
 *   echo 4B:             method 0, 4 bytes in and out, inline
 *                        (default 1000 calls, half the iteration count);
 *   sum 1MiB inline:     method 1 over 262144 u32 (0..262143) copied into
 *                        the message, u64 out inline;
 *   sum 1MiB zero-copy:  the same array in a buffer allocated and mapped
 *                        once (qda: GEM object, args fd = GEM handle; fastrpc:
 *                        dma-buf of FASTRPC_IOCTL_ALLOC_DMA_BUFF, fd = dma-buf
 *                        fd), ptr inside the CPU mapping
 *                        (default 100 calls each, a twentieth of the count).
 * Every result is checked (echo must return its input, every sum must be
 * 34359607296); a wrong one fails the run with "FAIL:" on stderr.
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

static const struct backend backends[] = {
	{ "qda", qda_find, qda_alloc, qda_map, qda_release, qda_create,
	  qda_invoke },
	{ "fastrpc", frpc_find, frpc_alloc, frpc_map, frpc_release,
	  frpc_create, frpc_invoke },
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

/* Result code of a call, readable. */
static const char *rpc_err(int r)
{
	static char buf[32];

	if (r < 0 && r > -4096)
		return strerror(-r);
	snprintf(buf, sizeof(buf), "DSP status 0x%x", (unsigned int)r);
	return buf;
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

/*
 * One checked call: sum over the 1 MiB at @data (in buffer @fd, or copied
 * when @fd is -1), or echo of @seq when @data is NULL. Its time goes to @t.
 */
static int call_once(const struct backend *be, int dev, uint32_t h,
		     const uint32_t *data, int fd, uint32_t seq, double *t)
{
	uint32_t x = 0x5eed0000 ^ seq, y = ~x;
	uint64_t sum = 0;
	struct rarg a[2];
	double t0;
	int r;

	if (data) {
		a[0] = (struct rarg){ (void *)data, SUM_BYTES, fd };
		a[1] = (struct rarg){ &sum, sizeof(sum), -1 };
	} else {
		a[0] = (struct rarg){ &x, sizeof(x), -1 };
		a[1] = (struct rarg){ &y, sizeof(y), -1 };
	}
	t0 = now_us();
	r = be->invoke(dev, h, SCALARS(data ? SKEL_SUM : SKEL_ECHO, 1, 1), a, 2);
	*t = now_us() - t0;
	if (r) {
		fprintf(stderr, "FAIL: %s: invoke: %s\n", be->name, rpc_err(r));
		return r;
	}
	if (data && sum != SUM_EXPECT) {
		fprintf(stderr, "FAIL: %s: sum returned %llu, expected %llu\n",
			be->name, (unsigned long long)sum,
			(unsigned long long)SUM_EXPECT);
		return -EIO;
	}
	if (!data && y != x) {
		fprintf(stderr, "FAIL: %s: echo returned 0x%x, expected 0x%x\n",
			be->name, y, x);
		return -EIO;
	}
	return 0;
}

static int bench_call(const struct backend *be, int dev, uint32_t h,
		      const uint32_t *data, int fd, const char *label, int n)
{
	double *t, sum = 0, w;
	char name[64];
	int i, ret;

	t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (i = 0; i < INVOKE_WARMUP; i++) {
		ret = call_once(be, dev, h, data, fd, i, &w);
		if (ret)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		ret = call_once(be, dev, h, data, fd, i, &t[i]);
		if (ret)
			goto fail;
		sum += t[i];
	}
	snprintf(name, sizeof(name), "invoke %s", label);
	ret = report(be, name, t, n, sum);
	free(t);
	return ret;
fail:
	fprintf(stderr, "FAIL: %s invoke %s: call %d failed\n", be->name, label,
		i);
	free(t);
	return ret;
}

static int bench_invoke(const struct backend *be, int echo_n, int sum_n)
{
	uint32_t *data, *buf = MAP_FAILED, h;
	int dev, id = -1, ret;
	size_t i;

	data = malloc(SUM_BYTES);
	if (!data)
		return -ENOMEM;
	for (i = 0; i < SUM_WORDS; i++)
		data[i] = i;
	dev = open(node, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		fprintf(stderr, "FAIL: %s: open %s: %s\n", be->name, node,
			strerror(-ret));
		free(data);
		return ret;
	}
	ret = be->create(dev);
	if (ret) {
		fprintf(stderr, "FAIL: %s: INIT_CREATE: %s\n", be->name,
			rpc_err(ret));
		goto out;
	}
	ret = skel_open(be, dev, &h);
	if (ret)
		goto out;

	ret = bench_call(be, dev, h, NULL, -1, "echo 4B", echo_n);
	if (ret)
		goto out_close;
	ret = bench_call(be, dev, h, data, -1, "sum 1MiB inline", sum_n);
	if (ret)
		goto out_close;

	ret = be->alloc(dev, SUM_BYTES, &id);
	if (ret) {
		fprintf(stderr, "FAIL: %s: 1 MiB buffer: %s\n", be->name,
			strerror(-ret));
		id = -1;
		goto out_close;
	}
	buf = be->map(dev, id, SUM_BYTES);
	if (buf == MAP_FAILED) {
		ret = -errno;
		fprintf(stderr, "FAIL: %s: map of the 1 MiB buffer: %s\n",
			be->name, strerror(-ret));
		goto out_close;
	}
	memcpy(buf, data, SUM_BYTES);
	ret = bench_call(be, dev, h, buf, id, "sum 1MiB zero-copy", sum_n);

out_close:
	if (skel_close(be, dev, h) && !ret)
		ret = -EIO;
	if (buf != MAP_FAILED)
		munmap(buf, SUM_BYTES);
	if (id >= 0)
		be->release(dev, id);
out:
	close(dev);
	free(data);
	return ret;
}

int main(int argc, char **argv)
{
	const struct backend *be = NULL;
	int small_n = 2000, large_n = 200, echo_n, sum_n;
	int dev, ret = 0;
	size_t i;

	if (argc >= 2)
		for (i = 0; i < ARRAY_SIZE(backends); i++)
			if (!strcmp(argv[1], backends[i].name))
				be = &backends[i];
	if (!be || argc > 3) {
		fprintf(stderr, "usage: %s qda|fastrpc [iterations]\n", argv[0]);
		return 2;
	}
	if (argc == 3) {
		small_n = atoi(argv[2]);
		if (small_n < 1) {
			fprintf(stderr, "bad iteration count '%s'\n", argv[2]);
			return 2;
		}
		large_n = small_n / 10 ? small_n / 10 : 1;
	}
	echo_n = small_n / 2 ? small_n / 2 : 1;
	sum_n = small_n / 20 ? small_n / 20 : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);

	ret = qda_clock_probe(&clk);
	qda_clock_print(stdout, &clk);
	if (ret) {
		fprintf(stderr, "FAIL: %s: %s; no figures\n", be->name, clk.why);
		return 1;
	}

	if (be->find(node, sizeof(node))) {
		fprintf(stderr, "%s: no cdsp node\n", be->name);
		return 1;
	}
	/* Memory first, while no session of ours exists. */
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
	/* Remote calls, on a session of their own. */
	if (bench_invoke(be, echo_n, sum_n))
		ret = 1;
	return ret;
}
