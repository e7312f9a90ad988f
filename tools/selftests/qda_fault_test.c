// SPDX-License-Identifier: GPL-2.0
/*
 * QDA kselftests for faults (Documentation/accel/qda/faults.rst), against
 * the mock DSP (tools/mock-dsp):
 *
 *  - sweep: every ioctl path, and the close of a file with a PD, buffers
 *    and mappings, with the 1st, 2nd, ... fallible allocation failed
 *    through /proc/thread-self/fail-nth (slab and page allocator, sleeping
 *    allocations included) until the call passes every allocation point.
 *    Each failed call must return ENOMEM, leave the mock's processes,
 *    mappings and handles as they were, and be followed by a working call;
 *    prints "# sweep <path>: N points, ENOMEM xA, ok xB" per path;
 *  - kcall: the answer to each call the kernel makes (attach, create,
 *    release, map, unmap, the unmap at close, the capability query) lost
 *    ("drop") or later than kernel_timeout_ms ("delay"); then a new
 *    process gets a working PD, every session slot of the channel can be
 *    used again, and once all files are closed the DSP holds nothing;
 *  - hog: a process with more threads in calls than max_inflight next to a
 *    well-behaved process, and a process allocating until max_memory_mb
 *    next to one; the well-behaved one keeps working.
 *
 * The kcall and hog cases reload qda.ko with PARAMS (a short kernel
 * timeout, a small memory cap) once; the last case loads it as usual
 * again.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "qda_common.h"
#include "qda_failnth.h"
#include "qda_gem.h"
#include "qda_rpc.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define SZ_KB(n)	((n) * 1024UL)
#define SZ_MB(n)	((n) * 1024UL * 1024UL)

/* Module parameters of the kcall and hog cases. */
#define TIMEOUT_MS	3000
#define MEM_CAP_MB	32
#define PARAMS		"kernel_timeout_ms=3000 max_memory_mb=32"
/* Which parameters qda.ko was loaded with by this test (absent: none). */
#define PARAMS_MARK	"/tmp/qda-fault-params"
/* A late answer: this much after the request, well past TIMEOUT_MS. */
#define LATE_MS		5000
/* qda.ko's default max_inflight. */
#define MAX_INFLIGHT	64
/* Session slots of the mock's cdsp: CBs 1, 2, 4 and CB 3 with two. */
#define CDSP_SLOTS	5

/* ================= helpers ================= */

static int counts(const char *dsp, long long *p, long long *m, long long *h)
{
	struct mock_st s;
	int ret = mock_status(dsp, &s);

	*p = s.processes;
	*m = s.mappings;
	*h = s.handles;
	return ret;
}

/*
 * Waits up to @ms for @dsp's DSP to hold @p processes, @m mappings and @h
 * handles; 0 if it does.
 */
static int wait_counts(const char *dsp, long long p, long long m, long long h, long ms)
{
	long long end = now_ms() + ms, cp, cm, ch;

	for (;;) {
		if (!counts(dsp, &cp, &cm, &ch) && cp == p && cm == m && ch == h)
			return 0;
		if (now_ms() > end)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}

/* As wait_counts(), logging what the DSP holds when it is not that. */
#define EXPECT_COUNTS(dsp, p, m, h, ms) do {					\
		long long __p, __m, __h;					\
		int __r = wait_counts(dsp, p, m, h, ms);			\
		counts(dsp, &__p, &__m, &__h);					\
		EXPECT_EQ(0, __r)						\
			TH_LOG("%s: processes %lld mappings %lld handles %lld, not %d %d %d", \
			       dsp, __p, __m, __h, p, m, h);			\
	} while (0)

/*
 * Requests of @dsp not answered (or dropped) yet, plus a bias that stays:
 * a duplicated answer ("dup", earlier suites) counts twice.
 */
static long long outstanding(const char *dsp)
{
	struct mock_st s;

	if (mock_status(dsp, &s))
		return -1;
	return s.received - s.answered - s.dropped;
}

/*
 * Waits up to @ms until @dsp has answered (or dropped) every request, that
 * is until outstanding() is back to @idle, its value when it was idle.
 */
static int wait_idle(const char *dsp, long long idle, long ms)
{
	long long end = now_ms() + ms;

	for (;;) {
		if (outstanding(dsp) <= idle)
			return 0;
		if (now_ms() > end)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}

static int wait_node(const char *dsp, long ms)
{
	long long end = now_ms() + ms;

	while (qda_find_node(dsp, NULL, 0) != 1) {
		if (now_ms() > end)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
	return 0;
}

/* Number of GEM handles of @fd (fdinfo qda-buffer-N lines). */
static int nbuffers(int fd)
{
	char path[64], buf[8192];
	int f, n = 0;
	ssize_t len;
	char *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return -errno;
	len = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (len < 0)
		return -errno;
	buf[len] = 0;
	for (p = buf; (p = strstr(p, "qda-buffer-")); p++)
		n++;
	return n;
}

/* qda-session-memory of @fd, -1 without a session. */
static long long session_mem(pid_t pid, int fd)
{
	char v[64];

	if (fdinfo_get(pid, fd, "qda-session-memory", v, sizeof(v)))
		return -1;
	return atoll(v);
}

static long long session_calls(pid_t pid, int fd)
{
	char v[64];

	if (fdinfo_get(pid, fd, "qda-session-calls", v, sizeof(v)))
		return -1;
	return atoll(v);
}

/*
 * Makes sure qda.ko runs with @params ("" for the usual load), reloading
 * it if needed; 0 or -errno.
 */
static int ensure_params(const char *params)
{
	char cur[128] = "";

	read_sysfs(PARAMS_MARK, cur, sizeof(cur));
	if (!strcmp(cur, params) && qda_module_loaded("qda"))
		return wait_node("cdsp", 5000);
	if (qda_module_loaded("qda") && qda_rmmod("qda"))
		return -EBUSY;
	if (qda_sh("insmod %s/qda.ko %s", qda_moddir(), params))
		return -EIO;
	/*
	 * A new qda.ko hands the adsp's remote heap to the DSP again with
	 * its first static PD, which only a DSP restarted since accepts
	 * (mock-dsp.rst).
	 */
	if (wait_node("adsp", 5000) || mock_control("restart adsp") ||
	    wait_node("adsp", 5000))
		return -EIO;
	if (params[0]) {
		if (write_str(PARAMS_MARK, params) && qda_sh("echo '%s' > %s", params, PARAMS_MARK))
			return -EIO;
	} else {
		unlink(PARAMS_MARK);
	}
	return wait_node("cdsp", 5000);
}

/* Creates a user PD on a new file of @dsp and opens the skel; fd or -1. */
static int open_pd(const char *dsp, uint32_t *skel_h)
{
	char dlerr[64];
	int fd;

	fd = qda_open_dsp(dsp);
	if (fd < 0)
		return -1;
	if (qda_create_plain(fd) ||
	    skel_open(fd, TEST_SKEL_URI, skel_h, dlerr, sizeof(dlerr))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* remotectl open of the test skel; the DSP's status or -errno. */
static int skel_open_h(int fd, uint32_t *h)
{
	char dlerr[64];

	return skel_open(fd, TEST_SKEL_URI, h, dlerr, sizeof(dlerr));
}

/* An echo through the skel that must come back intact; 0 if it does. */
static int echo_ok(int fd, uint32_t skel_h)
{
	char in[] = "fault-test", out[sizeof(in)];
	int ret;

	memset(out, 0, sizeof(out));
	ret = skel_echo(fd, skel_h, in, sizeof(in), out, sizeof(out));
	if (ret)
		return ret;
	return memcmp(in, out, sizeof(in)) ? -EBADMSG : 0;
}

/*
 * A new process (closing @close_fd, one of ours, first) creates a PD on
 * @dsp and makes a call; its exit status: 0 if it all worked.
 */
static int child_works(const char *dsp, int close_fd)
{
	pid_t pid = fork();
	uint32_t h;
	int st, fd;

	if (pid < 0)
		return -errno;
	if (!pid) {
		if (close_fd >= 0)
			close(close_fd);
		int ret = -ENODEV, step = 10;

		fd = qda_open_dsp(dsp);
		if (fd >= 0) {
			step++;
			ret = qda_create_plain(fd);
		}
		if (!ret) {
			step++;
			ret = skel_open_h(fd, &h);
		}
		if (!ret) {
			step++;
			ret = echo_ok(fd, h);
		}
		if (ret) {
			fprintf(stderr, "# new process: step %d failed: %d\n", step, ret);
			_exit(step);
		}
		close(fd);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * Every session slot of cdsp works at once: CDSP_SLOTS processes (our
 * @close_fd closed in them) each create a PD and make a call, holding it
 * until all are done. Returns how many succeeded.
 */
static int all_slots_work(int close_fd)
{
	int res[2], go[2], ok = 0, i, st;
	pid_t pids[CDSP_SLOTS];

	if (pipe(res) || pipe(go))
		return -1;
	for (i = 0; i < CDSP_SLOTS; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			break;
		if (!pids[i]) {
			char r = 1, c;
			uint32_t h;
			int fd;

			if (close_fd >= 0)
				close(close_fd);
			close(res[0]);
			close(go[1]);
			fd = open_pd("cdsp", &h);
			if (fd >= 0 && !echo_ok(fd, h))
				r = 0;
			if (write(res[1], &r, 1) != 1)
				_exit(1);
			/* Hold the slot until the parent has every answer. */
			if (read(go[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
	}
	close(res[1]);
	close(go[0]);
	for (st = 0; st < i; st++) {
		char r;

		if (read(res[0], &r, 1) != 1)
			break;
		if (!r)
			ok++;
	}
	close(go[1]);
	close(res[0]);
	while (i-- > 0)
		waitpid(pids[i], &st, 0);
	return ok;
}

/* ================= the sweep ================= */

/* State of one sweep iteration; all of it touched before the call. */
struct sw {
	const char *dsp;
	/* The path's call (see struct path), for checks that make it again. */
	int (*call)(struct sw *s);
	int fd, fd2, dmabuf;
	uint32_t skel, h, h2;
	uint64_t off;
	uint8_t *p, *q;
	size_t len;
	struct drm_qda_map m;
	struct drm_qda_munmap u;
	struct drm_qda_query qr;
	struct mock_st before;
	long long mem_before;
	uint64_t val;
	uint32_t crc;
	char dlerr[64];
	uint8_t in[512], out[512];
};

/* The shell ELF handed to INIT_CREATE and the large inline buffers. */
static uint8_t elf[SZ_KB(40)];
static uint8_t big_in[SZ_MB(1)], big_out[SZ_MB(1)];

struct path {
	const char *name;
	const char *dsp;
	/* Set-up before the call; 0, -errno, or 1 to skip the path. */
	int (*setup)(struct sw *s);
	/* The call under fault injection: 0 or -errno. */
	int (*call)(struct sw *s);
	/* Checks the state the call left (@ret) and makes a working call. */
	void (*check)(struct __test_metadata *_metadata, struct sw *s, int ret);
	/*
	 * 1: the path must reach an allocation point; -1: no injected failure
	 * may fail it (an inline INVOKE on a warm session allocates nothing
	 * itself); 0: either.
	 */
	int allocates;
};

static int now_counts(const char *dsp, struct mock_st *s)
{
	return mock_status(dsp, s);
}

/* Expects @dsp's DSP state to be @b's, plus the deltas. */
#define EXPECT_STATE(dsp, b, dp, dm, dh) do {					\
		struct mock_st __n;						\
		ASSERT_EQ(0, now_counts(dsp, &__n));				\
		EXPECT_EQ((b)->processes + (dp), __n.processes);		\
		EXPECT_EQ((b)->mappings + (dm), __n.mappings);			\
		EXPECT_EQ((b)->handles + (dh), __n.handles);			\
		EXPECT_EQ((b)->violations, __n.violations);			\
	} while (0)

static void fill(uint8_t *p, size_t len, int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

static int su_open(struct sw *s)
{
	s->fd = qda_open_dsp(s->dsp);
	return s->fd < 0 ? -ENODEV : 0;
}

static int su_pd(struct sw *s)
{
	int ret = su_open(s);

	if (ret)
		return ret;
	ret = qda_create_plain(s->fd);
	if (ret)
		return ret;
	return skel_open(s->fd, TEST_SKEL_URI, &s->skel, s->dlerr, sizeof(s->dlerr));
}

/* A file with a GEM buffer of s->len bytes (64 KiB by default), mapped. */
static int su_gem_common(struct sw *s)
{
	if (!s->len)
		s->len = SZ_KB(64);
	if (gem_create(s->fd, s->len, &s->h))
		return -ENOMEM;
	s->p = gem_mmap(s->fd, s->h, s->len);
	if (s->p == MAP_FAILED) {
		s->p = NULL;
		return -errno;
	}
	fill(s->p, s->len, 7);
	return 0;
}

static int su_gem(struct sw *s)
{
	return su_open(s) ?: su_gem_common(s);
}

static int su_pd_gem(struct sw *s)
{
	return su_pd(s) ?: su_gem_common(s);
}

/* ---- QUERY ---- */

static int c_query(struct sw *s)
{
	return qda_query(s->fd, &s->qr);
}

static void k_query(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	if (!ret)
		EXPECT_STREQ(s->dsp, (char *)s->qr.dsp_name);
	ASSERT_EQ(0, qda_query(s->fd, &s->qr));
	EXPECT_STREQ(s->dsp, (char *)s->qr.dsp_name);
}

/* ---- GEM_CREATE ---- */

static int c_gem_create(struct sw *s)
{
	return gem_create(s->fd, SZ_KB(64), &s->h);
}

static void k_gem_create(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	int had = ret ? 0 : 1;
	long long mem = session_mem(0, s->fd);

	/* A failure leaves no handle and charges nothing. */
	EXPECT_EQ(had, nbuffers(s->fd));
	EXPECT_EQ(had ? (long long)SZ_KB(64) : 0, mem < 0 ? 0 : mem);
	ASSERT_EQ(0, gem_create(s->fd, SZ_KB(64), &s->h2));
	s->q = gem_mmap(s->fd, s->h2, SZ_KB(64));
	ASSERT_NE(MAP_FAILED, s->q);
	fill(s->q, SZ_KB(64), 3);
	EXPECT_EQ(had + 1, nbuffers(s->fd));
	EXPECT_EQ((had + 1) * (long long)SZ_KB(64), session_mem(0, s->fd));
	munmap(s->q, SZ_KB(64));
	s->q = NULL;
}

/* On a file whose session is bound already: 1 MiB. */
static int su_bound(struct sw *s)
{
	if (su_open(s) || gem_create(s->fd, PG, &s->h2))
		return -ENOMEM;
	return 0;
}

static int c_gem_create_big(struct sw *s)
{
	return gem_create(s->fd, SZ_MB(1), &s->h);
}

static void k_gem_create_big(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	long long want = PG + (ret ? 0 : SZ_MB(1));

	EXPECT_EQ(ret ? 1 : 2, nbuffers(s->fd));
	EXPECT_EQ(want, session_mem(0, s->fd));
	ASSERT_EQ(0, gem_create(s->fd, SZ_MB(1), &s->h2));
	EXPECT_EQ(want + (long long)SZ_MB(1), session_mem(0, s->fd));
}

/* ---- GEM_MMAP_OFFSET and mmap ---- */

static int c_mmap_offset(struct sw *s)
{
	return gem_offset(s->fd, s->h, &s->off);
}

static void k_mmap_offset(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	uint64_t off;

	if (!ret)
		EXPECT_NE(0ull, s->off);
	ASSERT_EQ(0, gem_offset(s->fd, s->h, &off));
	EXPECT_NE(0ull, off);
	s->q = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, off);
	ASSERT_NE(MAP_FAILED, s->q);
	/* The same pages as the first mapping. */
	EXPECT_EQ(0, memcmp(s->p, s->q, s->len));
	munmap(s->q, s->len);
	s->q = NULL;
}

static int su_mmap(struct sw *s)
{
	return su_gem(s) ?: gem_offset(s->fd, s->h, &s->off);
}

static int c_mmap(struct sw *s)
{
	void *q = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, s->off);

	if (q == MAP_FAILED)
		return -errno;
	s->q = q;
	return 0;
}

static void k_mmap(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	if (!ret) {
		EXPECT_EQ(0, memcmp(s->p, s->q, s->len));
		munmap(s->q, s->len);
		s->q = NULL;
	}
	ASSERT_EQ(0, c_mmap(s));
	EXPECT_EQ(0, memcmp(s->p, s->q, s->len));
	s->q[5] = 0x55;
	EXPECT_EQ(0x55, s->p[5]);
	munmap(s->q, s->len);
	s->q = NULL;
}

/* ---- PRIME ---- */

static int c_export(struct sw *s)
{
	return prime_export(s->fd, s->h, &s->dmabuf);
}

static void k_export(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	if (ret)
		ASSERT_EQ(0, prime_export(s->fd, s->h, &s->dmabuf));
	s->q = map_shared(s->dmabuf, s->len);
	ASSERT_NE(MAP_FAILED, s->q);
	EXPECT_EQ(0, memcmp(s->p, s->q, s->len));
	munmap(s->q, s->len);
	s->q = NULL;
}

/* A user PD and a system-heap dma-buf to import. */
static int su_import(struct sw *s)
{
	int ret = su_pd(s);

	if (ret)
		return ret;
	s->len = SZ_KB(64);
	s->dmabuf = heap_alloc(s->len);
	if (s->dmabuf < 0)
		return s->dmabuf;
	s->q = map_shared(s->dmabuf, s->len);
	if (s->q == MAP_FAILED) {
		s->q = NULL;
		return -errno;
	}
	fill(s->q, s->len, 11);
	s->mem_before = session_mem(0, s->fd);
	return 0;
}

static int c_import(struct sw *s)
{
	return prime_import(s->fd, s->dmabuf, &s->h);
}

static void k_import(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	long long extra = ret ? 0 : s->len;

	/* A failure leaves no handle, no charge and no DSP state. */
	EXPECT_EQ(ret ? 0 : 1, nbuffers(s->fd));
	EXPECT_EQ(s->mem_before + extra, session_mem(0, s->fd));
	EXPECT_STATE(s->dsp, &s->before, 0, 0, 0);
	if (ret)
		ASSERT_EQ(0, prime_import(s->fd, s->dmabuf, &s->h));
	EXPECT_EQ(s->mem_before + (long long)s->len, session_mem(0, s->fd));
	/* The DSP reads exactly the imported bytes. */
	ASSERT_EQ(0, skel_crc(s->fd, s->skel, ga(s->h, s->q, s->len), &s->crc));
	EXPECT_EQ(crc32_zlib(s->q, s->len), s->crc);
}

/* ---- INIT_ATTACH, INIT_ATTACH_SNS, INIT_CREATE(_STATIC) ---- */

static int c_attach(struct sw *s)
{
	return qda_attach(s->fd);
}

static int c_attach_sns(struct sw *s)
{
	int ret = ioctl(s->fd, DRM_IOCTL_QDA_INIT_ATTACH_SNS, 0);

	return ret == -1 ? -errno : ret;
}

static int c_create(struct sw *s)
{
	return qda_create_plain(s->fd);
}

static int c_create_unsigned(struct sw *s)
{
	return qda_create(s->fd, 0, -1, NULL, QDA_PROC_MODE_UNSIGNED);
}

static int su_shell(struct sw *s)
{
	fill(elf, sizeof(elf), 1);
	elf[0] = 0x7f;
	memcpy(elf + 1, "ELF", 3);
	return su_open(s);
}

static int c_create_shell(struct sw *s)
{
	return qda_create(s->fd, sizeof(elf), -1, elf, 0);
}

static int su_shell_gem(struct sw *s)
{
	int ret;

	s->len = sizeof(elf) + PG;
	ret = su_shell(s) ?: su_gem_common(s);
	if (!ret)
		memcpy(s->p, elf, sizeof(elf));
	return ret;
}

static int c_create_shell_gem(struct sw *s)
{
	return qda_create(s->fd, sizeof(elf), (int32_t)s->h, NULL, QDA_PROC_MODE_UNSIGNED);
}

static int c_create_static(struct sw *s)
{
	static const char name[] = "audiopd";
	struct drm_qda_init_create_static c = {
		.namelen = sizeof(name),
		.name = (uintptr_t)name,
	};
	int ret = ioctl(s->fd, DRM_IOCTL_QDA_INIT_CREATE_STATIC, &c);

	return ret == -1 ? -errno : ret;
}

static int su_static(struct sw *s)
{
	int ret = su_open(s);

	if (ret)
		return ret;
	if (qda_query(s->fd, &s->qr))
		return -EIO;
	/* Only where the channel has a remote heap (arm64's adsp). */
	return s->qr.capabilities & QDA_CAP_REMOTE_HEAP ? 0 : 1;
}

/*
 * After a PD set-up under fault (the path's call, attach or create): either
 * it failed and the DSP holds no new process (and a retry works), or it
 * worked.
 */
static void k_pd_static(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	if (ret) {
		EXPECT_STATE(s->dsp, &s->before, 0, 0, 0);
		EXPECT_EQ(-ENOTCONN, invoke(s->fd, 0x300, SC(0, 0, 0), NULL));
		ASSERT_EQ(0, s->call(s));
	}
	EXPECT_STATE(s->dsp, &s->before, 1, 0, 0);
	EXPECT_EQ(-EALREADY, s->call(s));
}

/* The same, then the PD serves calls. */
static void k_pd(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	k_pd_static(_metadata, s, ret);
	ASSERT_EQ(0, skel_open(s->fd, TEST_SKEL_URI, &s->skel, s->dlerr, sizeof(s->dlerr)));
	EXPECT_EQ(0, echo_ok(s->fd, s->skel));
	EXPECT_STATE(s->dsp, &s->before, 1, 0, 1);
}

/* ---- MAP and MUNMAP ---- */

static void map_init(struct sw *s, uint32_t request)
{
	s->m = map_req(request, s->h, s->p);
	if (request == QDA_MAP_REQUEST_ATTR) {
		s->m.offset = PG;
		s->m.vaddrin += PG;
		s->m.size = 2 * PG;
	}
}

static void unmap_init(struct sw *s)
{
	memset(&s->u, 0, sizeof(s->u));
	s->u.request = s->m.request;
	if (s->m.request == QDA_MAP_REQUEST_LEGACY) {
		s->u.vaddrout = s->m.vaddrout;
	} else {
		s->u.fd = s->h;
		s->u.vaddr = s->m.vaddrout;
		s->u.size = s->m.size;
	}
}

static int su_map_legacy(struct sw *s)
{
	int ret = su_pd_gem(s);

	map_init(s, QDA_MAP_REQUEST_LEGACY);
	return ret;
}

static int su_map_attr(struct sw *s)
{
	int ret = su_pd_gem(s);

	map_init(s, QDA_MAP_REQUEST_ATTR);
	return ret;
}

static int c_map(struct sw *s)
{
	return qda_map(s->fd, &s->m);
}

static void k_map(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	if (ret) {
		EXPECT_STATE(s->dsp, &s->before, 0, 0, 0);
		ASSERT_EQ(0, qda_map(s->fd, &s->m));
	}
	EXPECT_NE(0ull, s->m.vaddrout);
	EXPECT_STATE(s->dsp, &s->before, 0, 1, 0);
	unmap_init(s);
	ASSERT_EQ(0, qda_munmap(s->fd, &s->u));
	EXPECT_STATE(s->dsp, &s->before, 0, 0, 0);
	EXPECT_EQ(-ENOENT, qda_munmap(s->fd, &s->u));
}

static int su_munmap_legacy(struct sw *s)
{
	int ret = su_map_legacy(s) ?: qda_map(s->fd, &s->m);

	unmap_init(s);
	return ret;
}

static int su_munmap_attr(struct sw *s)
{
	int ret = su_map_attr(s) ?: qda_map(s->fd, &s->m);

	unmap_init(s);
	return ret;
}

static int c_munmap(struct sw *s)
{
	return qda_munmap(s->fd, &s->u);
}

static void k_munmap(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	if (ret) {
		/* Still mapped, and still known to the driver. */
		EXPECT_STATE(s->dsp, &s->before, 0, 0, 0);
		ASSERT_EQ(0, qda_munmap(s->fd, &s->u));
	}
	EXPECT_STATE(s->dsp, &s->before, 0, -1, 0);
	EXPECT_EQ(-ENOENT, qda_munmap(s->fd, &s->u));
	/* And maps again. */
	ASSERT_EQ(0, qda_map(s->fd, &s->m));
	EXPECT_STATE(s->dsp, &s->before, 0, 0, 0);
}

/* ---- INVOKE ---- */

static int su_invoke(struct sw *s)
{
	fill(s->in, sizeof(s->in), 5);
	return su_pd(s);
}

static int c_invoke_inline(struct sw *s)
{
	return skel_echo(s->fd, s->skel, s->in, sizeof(s->in), s->out, sizeof(s->out));
}

static void k_invoke_inline(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	if (!ret)
		EXPECT_EQ(0, memcmp(s->in, s->out, sizeof(s->in)));
	EXPECT_STATE(s->dsp, &s->before, 0, 0, 0);
	memset(s->out, 0, sizeof(s->out));
	ASSERT_EQ(0, c_invoke_inline(s));
	EXPECT_EQ(0, memcmp(s->in, s->out, sizeof(s->in)));
}

static int su_invoke_big(struct sw *s)
{
	fill(big_in, sizeof(big_in), 9);
	memset(big_out, 0, sizeof(big_out));
	return su_pd(s);
}

static int c_invoke_big(struct sw *s)
{
	return skel_echo(s->fd, s->skel, big_in, sizeof(big_in), big_out, sizeof(big_out));
}

static void k_invoke_big(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	if (!ret)
		EXPECT_EQ(0, memcmp(big_in, big_out, sizeof(big_in)));
	memset(big_out, 0, sizeof(big_out));
	ASSERT_EQ(0, c_invoke_big(s));
	EXPECT_EQ(0, memcmp(big_in, big_out, sizeof(big_in)));
}

static int c_invoke_open(struct sw *s)
{
	return skel_open(s->fd, TEST_SKEL_URI "&_dom=cdsp", &s->h2, s->dlerr, sizeof(s->dlerr));
}

static void k_invoke_open(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	if (ret) {
		/* No remote handle opened behind our back. */
		EXPECT_STATE(s->dsp, &s->before, 0, 0, 0);
		ASSERT_EQ(0, c_invoke_open(s));
	}
	EXPECT_STATE(s->dsp, &s->before, 0, 0, 1);
	EXPECT_EQ(0, skel_sleep(s->fd, s->h2, 0));
	EXPECT_EQ(0, skel_close(s->fd, s->h2));
	EXPECT_STATE(s->dsp, &s->before, 0, 0, 0);
}

static int c_invoke_gem(struct sw *s)
{
	struct drm_qda_invoke_args o = ga(s->h, s->p + s->len / 2, 100);

	/* A GEM input and a GEM output in one call. */
	return skel(s->fd, s->skel, SKEL_ECHO, ga(s->h, s->p + 3, 100), &o);
}

static void k_invoke_gem(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	if (!ret)
		EXPECT_EQ(0, memcmp(s->p + 3, s->p + s->len / 2, 100));
	memset(s->p + s->len / 2, 0, 100);
	ASSERT_EQ(0, c_invoke_gem(s));
	EXPECT_EQ(0, memcmp(s->p + 3, s->p + s->len / 2, 100));
	ASSERT_EQ(0, skel_crc(s->fd, s->skel, ga(s->h, s->p, s->len), &s->crc));
	EXPECT_EQ(crc32_zlib(s->p, s->len), s->crc);
}

/* ---- GET_PARAM ---- */

/* The channel's attribute table cached (by another, closed file). */
static int su_param_cached(struct sw *s)
{
	int fd = qda_open_dsp(s->dsp);
	uint64_t v;

	if (fd < 0)
		return -ENODEV;
	if (qda_get_param(fd, 255, 0, &v) || v != MOCK_CAP_MAGIC) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return su_open(s);
}

/* A fresh channel: the first GET_PARAM queries the DSP. */
static int su_param_query(struct sw *s)
{
	if (mock_control("restart cdsp") || wait_node("cdsp", 5000))
		return -EIO;
	return su_open(s);
}

static int c_param(struct sw *s)
{
	return qda_get_param(s->fd, 255, 0, &s->val);
}

static void k_param(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	uint64_t v;

	if (!ret)
		EXPECT_EQ(MOCK_CAP_MAGIC, s->val);
	ASSERT_EQ(0, qda_get_param(s->fd, 255, 0, &v));
	EXPECT_EQ(MOCK_CAP_MAGIC, v);
	ASSERT_EQ(0, qda_get_param(s->fd, 3, 0, &v));
	EXPECT_EQ(4ull, v);
}

/* ---- close of a file with a PD, buffers and mappings ---- */

static int su_close(struct sw *s)
{
	uint32_t h3;
	int ret;

	s->len = SZ_KB(64);
	ret = su_pd_gem(s);
	if (ret)
		return ret;
	map_init(s, QDA_MAP_REQUEST_LEGACY);
	if (qda_map(s->fd, &s->m))
		return -EIO;
	map_init(s, QDA_MAP_REQUEST_ATTR);
	if (qda_map(s->fd, &s->m))
		return -EIO;
	/* A second remote handle, a buffer with no mapping, an import. */
	if (skel_open(s->fd, TEST_SKEL_URI "&_dom=cdsp", &s->h2, s->dlerr, sizeof(s->dlerr)))
		return -EIO;
	if (gem_create(s->fd, SZ_KB(16), &h3))
		return -ENOMEM;
	s->dmabuf = heap_alloc(SZ_KB(16));
	if (s->dmabuf < 0 || prime_import(s->fd, s->dmabuf, &h3))
		return -EIO;
	/* An inline and a GEM call, so that payloads are pooled. */
	if (echo_ok(s->fd, s->skel) ||
	    skel_crc(s->fd, s->skel, ga(s->h, s->p, s->len), &s->crc))
		return -EIO;
	/* The file holds the last references. */
	munmap(s->p, s->len);
	s->p = NULL;
	close(s->dmabuf);
	s->dmabuf = -1;
	return 0;
}

static int c_close(struct sw *s)
{
	int ret = close(s->fd);

	s->fd = -1;
	return ret ? -errno : 0;
}

static void k_close(struct __test_metadata *_metadata, struct sw *s, int ret)
{
	uint32_t h;
	int fd;

	EXPECT_EQ(0, ret);
	/* The PD, its mappings and handles are gone: nothing allocated. */
	EXPECT_EQ(0, wait_counts(s->dsp, s->before.processes - 1,
				 s->before.mappings - 2, s->before.handles - 2, 3000));
	/* A new process, and this one again, get a working PD. */
	EXPECT_EQ(0, child_works(s->dsp, -1));
	fd = open_pd(s->dsp, &h);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, echo_ok(fd, h));
	close(fd);
	/* No slot was lost either. */
	EXPECT_EQ(CDSP_SLOTS, all_slots_work(-1));
}

static const struct path paths[] = {
	{ "QUERY", "cdsp", su_open, c_query, k_query, 0 },
	{ "GEM_CREATE", "cdsp", su_open, c_gem_create, k_gem_create, 1 },
	{ "GEM_CREATE bound 1M", "cdsp", su_bound, c_gem_create_big, k_gem_create_big, 1 },
	{ "GEM_MMAP_OFFSET", "cdsp", su_gem, c_mmap_offset, k_mmap_offset, 0 },
	{ "GEM mmap", "cdsp", su_mmap, c_mmap, k_mmap, 1 },
	{ "PRIME export", "cdsp", su_gem, c_export, k_export, 1 },
	{ "PRIME import", "cdsp", su_import, c_import, k_import, 1 },
	{ "INIT_ATTACH", "cdsp", su_open, c_attach, k_pd, 1 },
	{ "INIT_ATTACH_SNS", "adsp", su_open, c_attach_sns, k_pd, 1 },
	{ "INIT_CREATE", "cdsp", su_open, c_create, k_pd, 1 },
	{ "INIT_CREATE unsigned", "cdsp", su_open, c_create_unsigned, k_pd, 1 },
	{ "INIT_CREATE shell", "cdsp", su_shell, c_create_shell, k_pd, 1 },
	{ "INIT_CREATE GEM shell", "cdsp", su_shell_gem, c_create_shell_gem, k_pd, 1 },
	{ "INIT_CREATE_STATIC", "adsp", su_static, c_create_static, k_pd_static, 1 },
	{ "MAP legacy", "cdsp", su_map_legacy, c_map, k_map, 1 },
	{ "MAP attr", "cdsp", su_map_attr, c_map, k_map, 1 },
	{ "MUNMAP legacy", "cdsp", su_munmap_legacy, c_munmap, k_munmap, 1 },
	{ "MUNMAP attr", "cdsp", su_munmap_attr, c_munmap, k_munmap, 1 },
	{ "INVOKE inline", "cdsp", su_invoke, c_invoke_inline, k_invoke_inline, -1 },
	{ "INVOKE inline 1M", "cdsp", su_invoke_big, c_invoke_big, k_invoke_big, 1 },
	{ "INVOKE remotectl open", "cdsp", su_invoke, c_invoke_open, k_invoke_open, -1 },
	{ "INVOKE GEM args", "cdsp", su_pd_gem, c_invoke_gem, k_invoke_gem, 0 },
	{ "GET_PARAM cached", "cdsp", su_param_cached, c_param, k_param, 1 },
	{ "GET_PARAM query", "cdsp", su_param_query, c_param, k_param, 1 },
	{ "close", "cdsp", su_close, c_close, k_close, 0 },
};

/* Past this many points a path is taken to loop. */
#define MAX_POINTS	1000

static void sw_cleanup(struct sw *s)
{
	if (s->q)
		munmap(s->q, s->len);
	if (s->p)
		munmap(s->p, s->len);
	if (s->dmabuf >= 0)
		close(s->dmabuf);
	if (s->fd2 >= 0)
		close(s->fd2);
	if (s->fd >= 0)
		close(s->fd);
}

/* ================= lost and late answers to kernel calls ================= */

enum kcall { K_ATTACH, K_CREATE, K_RELEASE, K_MAP, K_UNMAP, K_UNMAP_AT_CLOSE, K_CAPS };

FIXTURE(kcall) {
	int unused;
};

FIXTURE_VARIANT(kcall) {
	enum kcall call;
	/* Responses to drop, or 0 for one late answer (LATE_MS). */
	int drop;
};

FIXTURE_VARIANT_ADD(kcall, attach_dropped) { .call = K_ATTACH, .drop = 1 };
FIXTURE_VARIANT_ADD(kcall, attach_late) { .call = K_ATTACH };
FIXTURE_VARIANT_ADD(kcall, create_dropped) { .call = K_CREATE, .drop = 1 };
FIXTURE_VARIANT_ADD(kcall, create_late) { .call = K_CREATE };
/* One release lost: the second goes through. */
FIXTURE_VARIANT_ADD(kcall, release_dropped) { .call = K_RELEASE, .drop = 1 };
/*
 * All lost (two at the last file's close, two more as the last user goes):
 * the slot is quarantined until a retried release is answered.
 */
FIXTURE_VARIANT_ADD(kcall, release_lost) { .call = K_RELEASE, .drop = 4 };
FIXTURE_VARIANT_ADD(kcall, release_late) { .call = K_RELEASE };
FIXTURE_VARIANT_ADD(kcall, map_dropped) { .call = K_MAP, .drop = 1 };
FIXTURE_VARIANT_ADD(kcall, map_late) { .call = K_MAP };
FIXTURE_VARIANT_ADD(kcall, unmap_dropped) { .call = K_UNMAP, .drop = 1 };
FIXTURE_VARIANT_ADD(kcall, unmap_late) { .call = K_UNMAP };
FIXTURE_VARIANT_ADD(kcall, unmap_at_close_dropped) { .call = K_UNMAP_AT_CLOSE, .drop = 1 };
FIXTURE_VARIANT_ADD(kcall, unmap_at_close_late) { .call = K_UNMAP_AT_CLOSE };
FIXTURE_VARIANT_ADD(kcall, capability_query_dropped) { .call = K_CAPS, .drop = 1 };
FIXTURE_VARIANT_ADD(kcall, capability_query_late) { .call = K_CAPS };

FIXTURE_SETUP(kcall)
{
	ASSERT_EQ(0, ensure_params(PARAMS));
	mock_control("clear cdsp");
	ASSERT_EQ(0, wait_node("cdsp", 5000));
	/* Nothing of earlier cases left on the DSP. */
	ASSERT_EQ(0, wait_counts("cdsp", 0, 0, 0, 5000));
}

FIXTURE_TEARDOWN_PARENT(kcall)
{
	mock_control("clear cdsp");
	/* A clean DSP for the next case, whatever this one left. */
	if (wait_counts("cdsp", 0, 0, 0, 4 * LATE_MS)) {
		mock_control("restart cdsp");
		wait_node("cdsp", 5000);
	}
}

/* The next @drop answers lost, or (@drop 0) every answer late. */
static int arm(int drop)
{
	char cmd[64];

	if (drop)
		snprintf(cmd, sizeof(cmd), "drop cdsp %d", drop);
	else
		snprintf(cmd, sizeof(cmd), "delay cdsp %d", LATE_MS);
	return mock_control(cmd);
}

static void disarm(void)
{
	mock_control("clear cdsp");
}

TEST_F_TIMEOUT(kcall, lost_answer_then_new_process_works, 120)
{
	long long t0, dt, mem, idle;
	struct mock_st s0, s1;
	struct drm_qda_map m;
	struct drm_qda_munmap u;
	uint32_t skel_h, h, h2;
	int clock_ok = !qda_clock_unusable();
	int fd, ret;
	uint64_t v;
	uint8_t *p;

	ASSERT_EQ(0, mock_status("cdsp", &s0));
	idle = s0.received - s0.answered - s0.dropped;
	fd = -1;
	switch (variant->call) {
	case K_ATTACH:
	case K_CREATE:
		fd = qda_open_dsp("cdsp");
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, arm(variant->drop));
		t0 = now_ms();
		ret = variant->call == K_ATTACH ? qda_attach(fd) : qda_create_plain(fd);
		dt = now_ms() - t0;
		disarm();
		EXPECT_EQ(-ETIMEDOUT, ret);
		if (clock_ok)
			EXPECT_LE(TIMEOUT_MS - 100, dt);
		/* No PD as far as user space is concerned. */
		EXPECT_EQ(-ENOTCONN, invoke(fd, 0x300, SC(0, 0, 0), NULL));
		/* QDA released what the DSP may have made, once answered. */
		EXPECT_COUNTS("cdsp", 0, 0, 0, 4 * LATE_MS);
		EXPECT_EQ(0, wait_idle("cdsp", idle, 4 * LATE_MS));
		/* The same file sets up a PD now (a retried release first). */
		ret = variant->call == K_ATTACH ? qda_attach(fd) : qda_create_plain(fd);
		EXPECT_EQ(0, ret);
		ASSERT_EQ(0, skel_open_h(fd, &skel_h));
		EXPECT_EQ(0, echo_ok(fd, skel_h));
		EXPECT_COUNTS("cdsp", 1, 0, 1, 100);
		break;
	case K_RELEASE:
		fd = open_pd("cdsp", &skel_h);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, echo_ok(fd, skel_h));
		ASSERT_EQ(0, arm(variant->drop));
		t0 = now_ms();
		close(fd);
		dt = now_ms() - t0;
		fd = -1;
		disarm();
		TH_LOG("close with %d answers lost or late: %lld ms", variant->drop, dt);
		/* Each release waits at most the timeout. */
		if (clock_ok) {
			EXPECT_LE(TIMEOUT_MS - 100, dt);
			EXPECT_GT((variant->drop == 4 ? 4 : 2) * TIMEOUT_MS + 3000, dt);
		}
		/*
		 * The DSP handled every release (only answers are lost): it
		 * holds nothing, while QDA, which got no answer to any of
		 * the four, quarantines the slot (all_slots_work() below needs
		 * it back).
		 */
		EXPECT_COUNTS("cdsp", 0, 0, 0, 4 * LATE_MS);
		break;
	case K_MAP:
		fd = open_pd("cdsp", &skel_h);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, gem_create(fd, 4 * PG, &h));
		p = gem_mmap(fd, h, 4 * PG);
		ASSERT_NE(MAP_FAILED, p);
		m = map_req(QDA_MAP_REQUEST_ATTR, h, p);
		ASSERT_EQ(0, arm(variant->drop));
		ret = qda_map(fd, &m);
		disarm();
		EXPECT_EQ(-ETIMEDOUT, ret);
		/* The DSP made the mapping; QDA does not know where. */
		EXPECT_COUNTS("cdsp", 1, 1, 1, 2 * LATE_MS);
		memset(&u, 0, sizeof(u));
		u.request = QDA_MAP_REQUEST_ATTR;
		u.fd = h;
		u.vaddr = m.vaddrin;
		EXPECT_EQ(-ENOENT, qda_munmap(fd, &u));
		/* Its buffer stays allocated without handle or mapping. */
		mem = session_mem(0, fd);
		munmap(p, 4 * PG);
		ASSERT_EQ(0, gem_close(fd, h));
		EXPECT_EQ(mem, session_mem(0, fd));
		/* Other mappings work. */
		ASSERT_EQ(0, gem_create(fd, 2 * PG, &h2));
		p = gem_mmap(fd, h2, 2 * PG);
		ASSERT_NE(MAP_FAILED, p);
		m.fd = h2;
		m.vaddrin = (uintptr_t)p;
		ASSERT_EQ(0, qda_map(fd, &m));
		EXPECT_COUNTS("cdsp", 1, 2, 1, 100);
		u.fd = h2;
		u.vaddr = m.vaddrout;
		EXPECT_EQ(0, qda_munmap(fd, &u));
		EXPECT_COUNTS("cdsp", 1, 1, 1, 100);
		munmap(p, 2 * PG);
		EXPECT_EQ(0, echo_ok(fd, skel_h));
		break;
	case K_UNMAP:
	case K_UNMAP_AT_CLOSE:
		fd = open_pd("cdsp", &skel_h);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, gem_create(fd, 4 * PG, &h));
		p = gem_mmap(fd, h, 4 * PG);
		ASSERT_NE(MAP_FAILED, p);
		m = map_req(QDA_MAP_REQUEST_LEGACY, h, p);
		ASSERT_EQ(0, qda_map(fd, &m));
		munmap(p, 4 * PG);
		EXPECT_COUNTS("cdsp", 1, 1, 1, 100);
		memset(&u, 0, sizeof(u));
		u.request = QDA_MAP_REQUEST_LEGACY;
		u.vaddrout = m.vaddrout;
		ASSERT_EQ(0, arm(variant->drop));
		if (variant->call == K_UNMAP) {
			ret = qda_munmap(fd, &u);
			disarm();
			EXPECT_EQ(-ETIMEDOUT, ret);
			/* The DSP unmapped it; QDA keeps it until the release. */
			EXPECT_COUNTS("cdsp", 1, 0, 1, 2 * LATE_MS);
			EXPECT_EQ(-ENOENT, qda_munmap(fd, &u));
			EXPECT_EQ(0, echo_ok(fd, skel_h));
		} else {
			close(fd);
			fd = -1;
			disarm();
			EXPECT_COUNTS("cdsp", 0, 0, 0, 4 * LATE_MS);
		}
		break;
	case K_CAPS:
		/* A fresh channel, whose attribute table is not cached. */
		ASSERT_EQ(0, mock_control("restart cdsp"));
		ASSERT_EQ(0, wait_node("cdsp", 5000));
		fd = qda_open_dsp("cdsp");
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, arm(variant->drop));
		ret = qda_get_param(fd, 255, 0, &v);
		disarm();
		EXPECT_EQ(-ETIMEDOUT, ret);
		/* Asked again, once the late answer (if any) is in. */
		EXPECT_EQ(0, wait_idle("cdsp", idle, 2 * LATE_MS));
		ASSERT_EQ(0, qda_get_param(fd, 255, 0, &v));
		EXPECT_EQ(MOCK_CAP_MAGIC, v);
		ASSERT_EQ(0, qda_get_param(fd, 6, 0, &v));
		EXPECT_EQ(0x73ull, v);
		break;
	}
	/* The mock dropped exactly what it was told to. */
	EXPECT_EQ(0, wait_idle("cdsp", idle, 4 * LATE_MS));
	ASSERT_EQ(0, mock_status("cdsp", &s1));
	if (variant->drop)
		EXPECT_EQ(s0.dropped + variant->drop, s1.dropped);
	EXPECT_EQ(s0.violations, s1.violations);

	/* A new process on the channel gets a working PD. */
	EXPECT_EQ(0, child_works("cdsp", fd));
	if (fd >= 0)
		close(fd);
	/*
	 * Every slot works again, the quarantined one too (its release is
	 * retried, or was answered late); then the DSP holds nothing.
	 */
	EXPECT_EQ(CDSP_SLOTS, all_slots_work(-1));
	EXPECT_COUNTS("cdsp", 0, 0, 0, 3000);
}

/* ================= greedy processes ================= */

FIXTURE(hog) {
	int unused;
};

FIXTURE_SETUP(hog)
{
	ASSERT_EQ(0, ensure_params(PARAMS));
	mock_control("clear cdsp");
	ASSERT_EQ(0, wait_counts("cdsp", 0, 0, 0, 5000));
}

FIXTURE_TEARDOWN(hog)
{
}

/* What the well-behaved process reports. */
struct good_res {
	int create, open, echo, gem, crc, calls;
	long long ms;
};

/*
 * Forks the well-behaved process: on a byte from @go it creates a PD,
 * opens the skel, makes calls with inline and GEM arguments (@gem_len
 * bytes) and writes a struct good_res to @res.
 */
static pid_t good_process(int go, int res, size_t gem_len)
{
	pid_t pid = fork();
	struct good_res r = { -1, -1, -1, -1, -1, 0, 0 };
	uint32_t skel_h, h, crc;
	long long t0;
	uint8_t *p;
	char c;
	int fd, i;

	if (pid)
		return pid;
	if (read(go, &c, 1) != 1)
		_exit(1);
	t0 = now_ms();
	fd = qda_open_dsp("cdsp");
	if (fd < 0)
		_exit(2);
	r.create = qda_create_plain(fd);
	r.open = skel_open_h(fd, &skel_h);
	for (i = 0, r.echo = 0; i < 20 && !r.echo; i++, r.calls++)
		r.echo = echo_ok(fd, skel_h);
	r.gem = gem_create(fd, gem_len, &h);
	if (!r.gem) {
		p = gem_mmap(fd, h, gem_len);
		if (p == MAP_FAILED) {
			r.crc = -errno;
		} else {
			fill(p, gem_len, 13);
			r.crc = skel_crc(fd, skel_h, ga(h, p, gem_len), &crc);
			if (!r.crc && crc != crc32_zlib(p, gem_len))
				r.crc = -EBADMSG;
			munmap(p, gem_len);
		}
	}
	r.ms = now_ms() - t0;
	close(fd);
	if (write(res, &r, sizeof(r)) != sizeof(r))
		_exit(3);
	_exit(0);
}

#define HOG_THREADS	(MAX_INFLIGHT + 16)
#define HOG_SLEEP_MS	15000

struct hog_thread {
	pthread_t tid;
	int fd;
	uint32_t skel;
	int ret;
	long long end;
};

static void *hog_fn(void *arg)
{
	struct hog_thread *t = arg;

	int ret = skel_sleep(t->fd, t->skel, HOG_SLEEP_MS);

	t->end = now_ms();
	__atomic_store_n(&t->ret, ret, __ATOMIC_RELAXED);
	return NULL;
}

TEST_F_TIMEOUT(hog, slot_hog_next_to_good_process, 120)
{
	static struct hog_thread th[HOG_THREADS];
	int go[2], res[2], fd, i, eagain = 0, done = 0, st;
	long long t0, t_good;
	struct good_res r;
	pthread_attr_t at;
	uint32_t skel_h;
	pid_t good;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(res));
	good = good_process(go[0], res[1], SZ_KB(64));
	ASSERT_LT(0, good);

	fd = open_pd("cdsp", &skel_h);
	ASSERT_LE(0, fd);
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	t0 = now_ms();
	for (i = 0; i < HOG_THREADS; i++) {
		th[i].fd = fd;
		th[i].skel = skel_h;
		th[i].ret = 1;
		ASSERT_EQ(0, pthread_create(&th[i].tid, &at, hog_fn, &th[i]));
	}
	/* The threads beyond max_inflight get EAGAIN at once. */
	while (now_ms() - t0 < HOG_SLEEP_MS / 2) {
		for (i = 0, eagain = 0; i < HOG_THREADS; i++)
			eagain += __atomic_load_n(&th[i].ret, __ATOMIC_RELAXED) == -EAGAIN;
		if (eagain == HOG_THREADS - MAX_INFLIGHT &&
		    session_calls(0, fd) == MAX_INFLIGHT)
			break;
		sleep_ms(20);
	}
	EXPECT_EQ(HOG_THREADS - MAX_INFLIGHT, eagain);
	EXPECT_EQ(MAX_INFLIGHT, session_calls(0, fd));
	/* The hog itself gets EAGAIN for one more. */
	EXPECT_EQ(-EAGAIN, echo_ok(fd, skel_h));

	/* The well-behaved process works meanwhile, and fast. */
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ((ssize_t)sizeof(r), read(res[0], &r, sizeof(r)));
	t_good = now_ms();
	ASSERT_EQ(good, waitpid(good, &st, 0));
	EXPECT_EQ(0, r.create);
	EXPECT_EQ(0, r.open);
	EXPECT_EQ(0, r.echo);
	EXPECT_EQ(20, r.calls);
	EXPECT_EQ(0, r.gem);
	EXPECT_EQ(0, r.crc);
	/* Before the hog's calls end: they did not hold it up. */
	for (i = 0; i < HOG_THREADS; i++)
		done += __atomic_load_n(&th[i].ret, __ATOMIC_RELAXED) == 0;
	EXPECT_EQ(0, done);
	EXPECT_EQ(MAX_INFLIGHT, session_calls(0, fd));
	TH_LOG("well-behaved process: PD and %d calls in %lld ms, %lld ms into the hog",
	       r.calls, r.ms, t_good - t0);

	for (i = 0; i < HOG_THREADS; i++)
		pthread_join(th[i].tid, NULL);
	for (i = 0, done = 0; i < HOG_THREADS; i++)
		done += th[i].ret == 0;
	EXPECT_EQ(MAX_INFLIGHT, done);
	/* All answered: the hog can call again. */
	EXPECT_EQ(0, session_calls(0, fd));
	EXPECT_EQ(0, echo_ok(fd, skel_h));
	close(fd);
	EXPECT_COUNTS("cdsp", 0, 0, 0, 3000);
}

TEST_F_TIMEOUT(hog, memory_hog_next_to_good_process, 120)
{
	const size_t chunk = SZ_MB(1), cap = SZ_MB(MEM_CAP_MB);
	int go[2], res[2], fd, n, ret, st, i;
	uint32_t handles[MEM_CAP_MB + 8], h, skel_h;
	struct mock_st s0, s1;
	struct good_res r;
	pid_t good;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(res));
	good = good_process(go[0], res[1], SZ_MB(8));
	ASSERT_LT(0, good);

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	/* Bigger than the cap at once. */
	EXPECT_EQ(-ENOMEM, gem_create(fd, cap + PG, &h));
	for (n = 0; n < (int)ARRAY_SIZE(handles); n++) {
		ret = gem_create(fd, chunk, &handles[n]);
		if (ret)
			break;
	}
	EXPECT_EQ(-ENOMEM, ret);
	EXPECT_EQ(MEM_CAP_MB, n);
	EXPECT_EQ((long long)cap, session_mem(0, fd));
	EXPECT_EQ(-ENOMEM, gem_create(fd, PG, &h));
	/* No PD either (its init memory), and nothing left on the DSP. */
	ASSERT_EQ(0, mock_status("cdsp", &s0));
	EXPECT_EQ(-ENOMEM, qda_create_plain(fd));
	ASSERT_EQ(0, mock_status("cdsp", &s1));
	EXPECT_EQ(s0.processes, s1.processes);
	EXPECT_EQ(s0.received, s1.received);

	/* The well-behaved process works meanwhile. */
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ((ssize_t)sizeof(r), read(res[0], &r, sizeof(r)));
	ASSERT_EQ(good, waitpid(good, &st, 0));
	EXPECT_EQ(0, r.create);
	EXPECT_EQ(0, r.open);
	EXPECT_EQ(0, r.echo);
	EXPECT_EQ(0, r.gem);
	EXPECT_EQ(0, r.crc);

	/* Freeing some lets the hog go on. */
	for (i = 0; i < 4 && i < n; i++)
		EXPECT_EQ(0, gem_close(fd, handles[i]));
	EXPECT_EQ((long long)(cap - 4 * chunk), session_mem(0, fd));
	EXPECT_EQ(0, qda_create_plain(fd));
	ASSERT_EQ(0, skel_open_h(fd, &skel_h));
	EXPECT_EQ(0, echo_ok(fd, skel_h));
	close(fd);
	EXPECT_COUNTS("cdsp", 0, 0, 0, 3000);
}

/* ================= a slot needed while one is quarantined ================= */

/*
 * With every slot taken, a new process's first memory operation retries
 * the releases of quarantined slots and of sessions no file uses; the
 * first allocations of that retry fail here one by one. Each set-up:
 * slot 0 quarantined (a process whose four release answers were lost),
 * slot 1 held by a process that closed its file but keeps a mapping, the
 * other three by holders; a failure must give every slot back.
 */
FIXTURE(quarantine) {
	struct knob_state ks;
};

FIXTURE_SETUP(quarantine)
{
	if (access(FAIL_NTH, R_OK | W_OK) || access(FAILSLAB, F_OK) ||
	    access(FAIL_PAGE_ALLOC, F_OK))
		SKIP(return, "no fail-nth, failslab or fail_page_alloc in this kernel");
	ASSERT_EQ(0, ensure_params(PARAMS));
	mock_control("clear cdsp");
	ASSERT_EQ(0, wait_counts("cdsp", 0, 0, 0, 5000));
}

FIXTURE_TEARDOWN_PARENT(quarantine)
{
	knobs_restore(&self->ks);
	mock_control("clear cdsp");
	if (wait_counts("cdsp", 0, 0, 0, 4 * LATE_MS)) {
		mock_control("restart cdsp");
		wait_node("cdsp", 5000);
	}
}

/* Allocation points of the retry swept (the rest is in "sweep"). */
#define RETRY_POINTS	4

/*
 * Forks a process that binds a session of cdsp and, with @pd, creates a
 * PD (closing its file when told: a release), or else maps a buffer and
 * closes its file at once (a session only a buffer uses). It writes one
 * byte to @ready[1] once set up (0: ok) and ends when @go[1] is closed.
 */
static pid_t slot_user(const int *ready, const int *go, int pd, int closes)
{
	pid_t pid = fork();
	char r = 1, c;
	uint32_t h;
	void *p;
	int fd;

	if (pid)
		return pid;
	close(ready[0]);
	close(go[1]);
	if (pd) {
		fd = open_pd("cdsp", &h);
		if (fd >= 0)
			r = 0;
	} else {
		fd = qda_open_dsp("cdsp");
		if (fd >= 0 && !gem_create(fd, PG, &h)) {
			p = gem_mmap(fd, h, PG);
			if (p != MAP_FAILED)
				r = 0;
			if (closes)
				close(fd);
		}
	}
	if (write(ready[1], &r, 1) != 1)
		_exit(1);
	if (read(go[0], &c, 1) < 0)
		_exit(1);
	if (pd && closes)
		close(fd);
	_exit(0);
}

TEST_F_TIMEOUT(quarantine, acquire_retry_fails_cleanly, 300)
{
	int nth, n, ret, left, enomem = 0, ok = 0, other = 0;
	int ready[2], go[2], i, st, fd;
	pid_t q, users[4];
	uint32_t h;
	char r;

	nth = open(FAIL_NTH, O_RDWR);
	ASSERT_LE(0, nth);
	for (n = 1; n <= RETRY_POINTS; n++) {
		ASSERT_EQ(0, pipe(ready));
		ASSERT_EQ(0, pipe(go));
		/* Slot 0: every answer to the releases of its PD lost. */
		q = slot_user(ready, go, 1, 1);
		ASSERT_LT(0, q);
		ASSERT_EQ(1, read(ready[0], &r, 1));
		ASSERT_EQ(0, r);
		ASSERT_EQ(0, mock_control("drop cdsp 4"));
		close(go[1]);
		ASSERT_EQ(q, waitpid(q, &st, 0));
		mock_control("clear cdsp");
		close(go[0]);
		ASSERT_EQ(0, pipe(go));
		/* Slot 1: only a buffer uses it; slots 2 to 4: holders. */
		for (i = 0; i < 4; i++) {
			users[i] = slot_user(ready, go, 0, i == 0);
			ASSERT_LT(0, users[i]);
			ASSERT_EQ(1, read(ready[0], &r, 1));
			ASSERT_EQ(0, r) TH_LOG("slot user %d", i);
		}

		fd = qda_open_dsp("cdsp");
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, knobs_set(&self->ks, NKNOBS));
		ASSERT_EQ(0, fail_nth_set(nth, n));
		ret = gem_create(fd, PG, &h);
		left = fail_nth_get(nth);
		fail_nth_set(nth, 0);
		knobs_restore(&self->ks);
		{
			char sid[32] = "none";

			fdinfo_get(0, fd, "qda-session", sid, sizeof(sid));
			TH_LOG("point %d: %d, session %s", n, ret, sid);
		}
		if (left) {
			EXPECT_EQ(0, ret);
		} else if (ret == -ENOMEM) {
			enomem++;
		} else if (ret) {
			other++;
			TH_LOG("point %d: %d (%s), not ENOMEM", n, ret, strerror(-ret));
		} else {
			ok++;
		}
		close(fd);
		close(go[1]);
		for (i = 0; i < 4; i++)
			waitpid(users[i], &st, 0);
		close(go[0]);
		close(ready[0]);
		close(ready[1]);
		/* Every slot comes back, the quarantined one too. */
		EXPECT_EQ(CDSP_SLOTS, all_slots_work(-1)) TH_LOG("after point %d", n);
		EXPECT_COUNTS("cdsp", 0, 0, 0, 3000);
		if (left || _metadata->exit_code)
			break;
	}
	close(nth);
	printf("# sweep acquire retry: %d points%s, ENOMEM x%d, ok x%d\n",
	       n > RETRY_POINTS ? RETRY_POINTS : n - 1,
	       n > RETRY_POINTS ? " (the first)" : "", enomem, ok);
	fflush(stdout);
	EXPECT_EQ(0, other);
	EXPECT_LT(0, enomem);
}

/* ================= the sweep, run ================= */

/*
 * Last but one: under fail-nth, dma-debug's own bookkeeping may fail too
 * ("cacheline tracking ENOMEM, dma-debug disabled"), which turns the DMA
 * API checks off for the rest of the boot.
 */
FIXTURE(sweep) {
	struct knob_state ks;
};

FIXTURE_VARIANT(sweep) {
	const struct path *path;
};

FIXTURE_VARIANT_ADD(sweep, query) {
	.path = &paths[0],
};
FIXTURE_VARIANT_ADD(sweep, gem_create) {
	.path = &paths[1],
};
FIXTURE_VARIANT_ADD(sweep, gem_create_bound) {
	.path = &paths[2],
};
FIXTURE_VARIANT_ADD(sweep, gem_mmap_offset) {
	.path = &paths[3],
};
FIXTURE_VARIANT_ADD(sweep, gem_mmap) {
	.path = &paths[4],
};
FIXTURE_VARIANT_ADD(sweep, prime_export) {
	.path = &paths[5],
};
FIXTURE_VARIANT_ADD(sweep, prime_import) {
	.path = &paths[6],
};
FIXTURE_VARIANT_ADD(sweep, init_attach) {
	.path = &paths[7],
};
FIXTURE_VARIANT_ADD(sweep, init_attach_sns) {
	.path = &paths[8],
};
FIXTURE_VARIANT_ADD(sweep, init_create) {
	.path = &paths[9],
};
FIXTURE_VARIANT_ADD(sweep, init_create_unsigned) {
	.path = &paths[10],
};
FIXTURE_VARIANT_ADD(sweep, init_create_shell) {
	.path = &paths[11],
};
FIXTURE_VARIANT_ADD(sweep, init_create_gem_shell) {
	.path = &paths[12],
};
FIXTURE_VARIANT_ADD(sweep, init_create_static) {
	.path = &paths[13],
};
FIXTURE_VARIANT_ADD(sweep, map_legacy) {
	.path = &paths[14],
};
FIXTURE_VARIANT_ADD(sweep, map_attr) {
	.path = &paths[15],
};
FIXTURE_VARIANT_ADD(sweep, munmap_legacy) {
	.path = &paths[16],
};
FIXTURE_VARIANT_ADD(sweep, munmap_attr) {
	.path = &paths[17],
};
FIXTURE_VARIANT_ADD(sweep, invoke_inline) {
	.path = &paths[18],
};
FIXTURE_VARIANT_ADD(sweep, invoke_inline_1m) {
	.path = &paths[19],
};
FIXTURE_VARIANT_ADD(sweep, invoke_remotectl_open) {
	.path = &paths[20],
};
FIXTURE_VARIANT_ADD(sweep, invoke_gem_args) {
	.path = &paths[21],
};
FIXTURE_VARIANT_ADD(sweep, get_param_cached) {
	.path = &paths[22],
};
FIXTURE_VARIANT_ADD(sweep, get_param_query) {
	.path = &paths[23],
};
FIXTURE_VARIANT_ADD(sweep, close) {
	.path = &paths[24],
};

FIXTURE_SETUP(sweep)
{
	if (access(FAIL_NTH, R_OK | W_OK) || access(FAILSLAB, F_OK) ||
	    access(FAIL_PAGE_ALLOC, F_OK))
		SKIP(return, "no fail-nth, failslab or fail_page_alloc in this kernel");
	ASSERT_EQ(0, ensure_params(""));
	mock_control("clear cdsp");
	mock_control("clear adsp");
}

FIXTURE_TEARDOWN_PARENT(sweep)
{
	knobs_restore(&self->ks);
}

TEST_F_TIMEOUT(sweep, each_allocation_fails_cleanly, 300)
{
	const struct path *pa = variant->path;
	int nth, n, ret, left, enomem = 0, ok = 0, other = 0;
	static struct sw s;
	struct mock_st base;

	ASSERT_EQ(0, mock_status(pa->dsp, &base));
	nth = open(FAIL_NTH, O_RDWR);
	ASSERT_LE(0, nth);
	ASSERT_EQ(0, knobs_set(&self->ks, NKNOBS));
	for (n = 1; n <= MAX_POINTS; n++) {
		memset(&s, 0, sizeof(s));
		s.dsp = pa->dsp;
		s.call = pa->call;
		s.fd = s.fd2 = s.dmabuf = -1;
		ret = pa->setup(&s);
		if (ret == 1) {
			sw_cleanup(&s);
			printf("# sweep %s: skipped (no remote heap on %s)\n", pa->name, pa->dsp);
			fflush(stdout);
			close(nth);
			SKIP(return, "no remote heap");
		}
		ASSERT_EQ(0, ret) TH_LOG("%s: set-up failed", pa->name);
		ASSERT_EQ(0, mock_status(pa->dsp, &s.before));

		ASSERT_EQ(0, fail_nth_set(nth, n));
		ret = pa->call(&s);
		left = fail_nth_get(nth);
		fail_nth_set(nth, 0);

		if (left) {
			/* Every point passed: the call must have worked. */
			EXPECT_EQ(0, ret) TH_LOG("%s without a fault: %d", pa->name, ret);
		} else if (ret == -ENOMEM) {
			enomem++;
		} else if (ret) {
			other++;
			TH_LOG("%s, point %d: %d (%s), not ENOMEM", pa->name, n, ret,
			       strerror(-ret));
		} else {
			/* A fallback, or a debug allocation that may fail. */
			ok++;
		}
		pa->check(_metadata, &s, left ? 0 : ret);
		sw_cleanup(&s);
		/* Everything gone with the files. */
		EXPECT_EQ(0, wait_counts(pa->dsp, base.processes, base.mappings,
					 base.handles, 3000))
			TH_LOG("%s, point %d: DSP state left", pa->name, n);
		if (left || _metadata->exit_code)
			break;
	}
	knobs_restore(&self->ks);
	close(nth);
	printf("# sweep %s: %d points, ENOMEM x%d, ok x%d%s\n", pa->name, n - 1, enomem, ok,
	       other ? ", other errors (see above)" : "");
	fflush(stdout);
	EXPECT_EQ(0, other);
	EXPECT_GE(MAX_POINTS, n);
	if (pa->allocates > 0)
		EXPECT_LT(1, n) TH_LOG("%s reached no allocation point", pa->name);
	/* Whatever the debug kernel allocates, the path itself does not. */
	if (pa->allocates < 0)
		EXPECT_EQ(0, enomem) TH_LOG("%s failed for an allocation", pa->name);
}

/* Last (fixtures run in their order): qda.ko as the other suites expect. */
FIXTURE(zz_last) {
	int unused;
};

FIXTURE_SETUP(zz_last)
{
}

FIXTURE_TEARDOWN(zz_last)
{
}

TEST_F(zz_last, usual_load_restored)
{
	ASSERT_EQ(0, ensure_params(""));
	EXPECT_NE(0, access(PARAMS_MARK, F_OK));
	EXPECT_EQ(0, child_works("cdsp", -1));
}

TEST_HARNESS_MAIN
