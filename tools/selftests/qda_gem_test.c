// SPDX-License-Identifier: GPL-2.0
/*
 * QDA kselftests for memory: sessions (context-bank slots), GEM buffers and
 * their CPU mappings, PRIME export and import (dma-heap, udmabuf), fdinfo,
 * and a DSP restart under a live mapping, against the mock DSP.
 *
 * The mock has five session slots on cdsp (CBs with SIDs 1, 2, 3 (two
 * sessions) and 4) and two on adsp (SIDs 1 and 2). Every test runs in its
 * own process (the harness forks), so a test starts with no session of its
 * own; children that hold a slot die with the test (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "qda_common.h"
#include "qda_gem.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define SZ_KB(n)	((n) * 1024UL)
#define SZ_MB(n)	((n) * 1024UL * 1024UL)
#define CDSP_SLOTS	5
#define ADSP_SLOTS	2

/* ---- foreign dma-bufs: an fd or -errno ---- */

static int udmabuf_alloc(size_t len)
{
	struct udmabuf_create c = {
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.size = len,
	};
	int memfd, dev, ret;

	memfd = memfd_create("qda_gem_test", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, len) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		ret = -errno;
		close(memfd);
		return ret;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		close(memfd);
		return ret;
	}
	c.memfd = memfd;
	ret = ioctl(dev, UDMABUF_CREATE, &c);
	if (ret < 0)
		ret = -errno;
	close(dev);
	close(memfd);
	return ret;
}

/* ---- data patterns ---- */

/* Word @i of pattern @seed, @i counted from the start of the object. */
static uint32_t pat(uint32_t seed, size_t i)
{
	return seed ^ (uint32_t)(i * 2654435761u);
}

/* Fills @len bytes at @p, which is byte @start of the object. */
static void fill(void *p, size_t len, uint32_t seed, size_t start)
{
	uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = pat(seed, start / 4 + i);
}

/* Offset of the first byte that is not fill(@seed, @start), or -1. */
static long mismatch(const void *p, size_t len, uint32_t seed, size_t start)
{
	const uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != pat(seed, start / 4 + i))
			return (long)(i * 4);
	return -1;
}

/* Offset of the first non-zero byte, or -1. */
static long nonzero(const void *p, size_t len)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return (long)(i * 8);
	return -1;
}

/* ---- fdinfo ---- */

/* Integer value of @key; -1 if absent, -2 if not a plain number. */
static long long fdinfo_num(pid_t pid, int fd, const char *key)
{
	char val[128], *end;
	long long v;

	if (fdinfo_get(pid, fd, key, val, sizeof(val)))
		return -1;
	errno = 0;
	v = strtoll(val, &end, 10);
	if (errno || end == val || *end)
		return -2;
	return v;
}

/*
 * Bytes of a DRM memory key ("0", "12 KiB", "3 MiB", or a byte count not a
 * multiple of 1 KiB, as drm_fdinfo_print_size() prints them); -1 if absent,
 * -2 if malformed.
 */
static long long fdinfo_mem(pid_t pid, int fd, const char *key)
{
	unsigned long long v;
	char val[128], *end;

	if (fdinfo_get(pid, fd, key, val, sizeof(val)))
		return -1;
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || end == val)
		return -2;
	if (!*end)
		return v;
	if (!strcmp(end, " KiB"))
		return v << 10;
	if (!strcmp(end, " MiB"))
		return v << 20;
	return -2;
}

static long long session_of(int fd)
{
	return fdinfo_num(0, fd, "qda-session");
}

static long long session_mem(int fd)
{
	return fdinfo_num(0, fd, "qda-session-memory");
}

/* ---- processes ---- */

/*
 * Runs @fn(@arg) in a child; returns its exit status, or 128 + the signal
 * that killed it, or -1.
 */
static int run_in_child(int (*fn)(void *), void *arg)
{
	pid_t pid;
	int st;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid)
		_exit(fn(arg));
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* A child process holding a session: an open node and a 4 KiB buffer. */
struct holder {
	pid_t pid;
	int err;	/* errno of its open or GEM_CREATE, 0 on success */
	long long session;	/* its qda-session, or -1 */
};

/* Starts a holder on @dsp and waits until it has tried to allocate. */
static void holder_start(struct holder *h, const char *dsp)
{
	long long msg[2] = { EIO, -1 };
	int p[2];

	h->pid = -1;
	h->err = EIO;
	h->session = -1;
	if (pipe(p))
		return;
	h->pid = fork();
	if (!h->pid) {
		uint32_t handle;
		int fd;

		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = qda_open_dsp(dsp);
		if (fd < 0) {
			msg[0] = ENODEV;
		} else {
			msg[0] = -gem_create(fd, PG, &handle);
			msg[1] = session_of(fd);
		}
		if (write(p[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (h->pid > 0 && read(p[0], msg, sizeof(msg)) == sizeof(msg)) {
		h->err = msg[0];
		h->session = msg[1];
	}
	close(p[0]);
}

static void holder_stop(struct holder *h)
{
	if (h->pid <= 0)
		return;
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
	h->pid = -1;
}

/*
 * Maps @len bytes of @fd at @off, as mmap() would; for a mapping that must
 * fail: returns its errno, or 0 (the mapping undone) if it worked.
 */
static int mmap_errno(int fd, size_t len, uint64_t off, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, len);
	return 0;
}

/* A test that asserts on differences of it starts with QDA_SKIP_WITHOUT_CLOCK(). */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A counter of /proc/vmstat, or -1. */
static long long read_vmstat(const char *key)
{
	char line[256];
	long long v = -1;
	size_t klen = strlen(key);
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

/* ================= sessions and fdinfo ================= */

TEST(no_session_before_first_memory_op)
{
	struct drm_qda_query q;
	char val[64];
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, qda_query(fd, &q));
	ASSERT_EQ(0, fdinfo_get(0, fd, "drm-driver", val, sizeof(val)));
	EXPECT_STREQ("qda", val);
	EXPECT_LE(0, fdinfo_num(0, fd, "drm-client-id"));
	EXPECT_EQ(-1, session_of(fd));
	close(fd);
}

TEST(gem_create_binds_session_fdinfo_keys)
{
	uint32_t h1, h2;
	char val[64];
	long long sid;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, SZ_KB(8), &h1));
	ASSERT_EQ(0, fdinfo_get(0, fd, "drm-driver", val, sizeof(val)));
	EXPECT_STREQ("qda", val);
	EXPECT_LE(0, fdinfo_num(0, fd, "drm-client-id"));
	ASSERT_EQ(0, fdinfo_get(0, fd, "qda-dsp", val, sizeof(val)));
	EXPECT_STREQ("cdsp", val);
	EXPECT_LE(1, session_of(fd));
	EXPECT_GE(CDSP_SLOTS, session_of(fd));
	sid = fdinfo_num(0, fd, "qda-sid");
	EXPECT_LE(1, sid);
	EXPECT_GE(4, sid);
	EXPECT_EQ(8192LL, session_mem(fd));
	/* Standard keys, as drm_print_memory_stats() prints them. */
	ASSERT_EQ(0, fdinfo_get(0, fd, "drm-total-memory", val, sizeof(val)));
	EXPECT_STREQ("8 KiB", val);
	ASSERT_EQ(0, fdinfo_get(0, fd, "drm-shared-memory", val, sizeof(val)));
	EXPECT_STREQ("0", val);
	ASSERT_EQ(0, fdinfo_get(0, fd, "drm-resident-memory", val, sizeof(val)));
	EXPECT_STREQ("8 KiB", val);

	/* 8 KiB + 4 MiB is not a whole number of MiB: printed in KiB. */
	ASSERT_EQ(0, gem_create(fd, SZ_MB(4), &h2));
	ASSERT_EQ(0, fdinfo_get(0, fd, "drm-total-memory", val, sizeof(val)));
	EXPECT_STREQ("4104 KiB", val);
	EXPECT_EQ((long long)(SZ_MB(4) + SZ_KB(8)), session_mem(fd));
	ASSERT_EQ(0, gem_close(fd, h1));
	ASSERT_EQ(0, fdinfo_get(0, fd, "drm-total-memory", val, sizeof(val)));
	EXPECT_STREQ("4 MiB", val);
	ASSERT_EQ(0, fdinfo_get(0, fd, "drm-resident-memory", val, sizeof(val)));
	EXPECT_STREQ("4 MiB", val);
	EXPECT_EQ((long long)SZ_MB(4), session_mem(fd));
	ASSERT_EQ(0, gem_close(fd, h2));
	EXPECT_EQ(0LL, fdinfo_mem(0, fd, "drm-total-memory"));
	/* The file keeps its session; the session has no memory left. */
	EXPECT_LE(1, session_of(fd));
	EXPECT_EQ(0LL, session_mem(fd));
	close(fd);
}

TEST(adsp_session_fdinfo_keys)
{
	long long sid, s;
	uint32_t h;
	char val[64];
	int fd;

	fd = qda_open_dsp("adsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	ASSERT_EQ(0, fdinfo_get(0, fd, "qda-dsp", val, sizeof(val)));
	EXPECT_STREQ("adsp", val);
	s = session_of(fd);
	EXPECT_LE(1, s);
	EXPECT_GE(ADSP_SLOTS, s);
	sid = fdinfo_num(0, fd, "qda-sid");
	EXPECT_LE(1, sid);
	EXPECT_GE(2, sid);
	EXPECT_EQ((long long)PG, session_mem(fd));
	close(fd);
}

TEST(prime_import_binds_session)
{
	uint32_t h;
	int fd, buf;

	buf = heap_alloc(SZ_KB(64));
	ASSERT_LE(0, buf);
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, session_of(fd));
	ASSERT_EQ(0, prime_import(fd, buf, &h));
	EXPECT_NE(0U, h);
	EXPECT_LE(1, session_of(fd));
	EXPECT_GE(CDSP_SLOTS, session_of(fd));
	EXPECT_EQ((long long)SZ_KB(64), session_mem(fd));
	EXPECT_EQ((long long)SZ_KB(64), fdinfo_mem(0, fd, "drm-total-memory"));
	/* An imported object is shared in the DRM core's accounting. */
	EXPECT_EQ((long long)SZ_KB(64), fdinfo_mem(0, fd, "drm-shared-memory"));
	close(fd);
	close(buf);
}

TEST(files_of_one_process_share_session)
{
	int fd1, fd2, fd3;
	uint32_t h1, h2;

	fd1 = qda_open_dsp("cdsp");
	fd2 = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, gem_create(fd1, SZ_KB(8), &h1));
	ASSERT_EQ(0, gem_create(fd2, SZ_KB(12), &h2));
	EXPECT_LE(1, session_of(fd1));
	EXPECT_EQ(session_of(fd1), session_of(fd2));
	EXPECT_EQ(fdinfo_num(0, fd1, "qda-sid"), fdinfo_num(0, fd2, "qda-sid"));
	EXPECT_NE(fdinfo_num(0, fd1, "drm-client-id"),
		  fdinfo_num(0, fd2, "drm-client-id"));
	/* DRM keys count the file's handles, the QDA key the whole session. */
	EXPECT_EQ((long long)SZ_KB(8), fdinfo_mem(0, fd1, "drm-total-memory"));
	EXPECT_EQ((long long)SZ_KB(12), fdinfo_mem(0, fd2, "drm-total-memory"));
	EXPECT_EQ((long long)SZ_KB(20), session_mem(fd1));
	EXPECT_EQ((long long)SZ_KB(20), session_mem(fd2));
	/* A third file joins the same session at its first allocation. */
	fd3 = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd3);
	EXPECT_EQ(-1, session_of(fd3));
	ASSERT_EQ(0, gem_create(fd3, PG, &h1));
	EXPECT_EQ(session_of(fd1), session_of(fd3));
	EXPECT_EQ((long long)SZ_KB(24), session_mem(fd1));
	close(fd3);
	EXPECT_EQ((long long)SZ_KB(20), session_mem(fd1));
	close(fd2);
	EXPECT_EQ((long long)SZ_KB(8), session_mem(fd1));
	close(fd1);
}

struct thread_res {
	int err;
	long long session;
};

static void *thread_alloc(void *arg)
{
	struct thread_res *r = arg;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	if (fd < 0) {
		r->err = ENODEV;
		return NULL;
	}
	r->err = -gem_create(fd, PG, &h);
	r->session = session_of(fd);
	close(fd);
	return NULL;
}

TEST(threads_of_one_process_share_session)
{
	struct thread_res r = { EIO, -1 };
	pthread_t t;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	ASSERT_EQ(0, pthread_create(&t, NULL, thread_alloc, &r));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, r.err);
	EXPECT_EQ(session_of(fd), r.session);
	/* The session names the process (thread group), not a thread. */
	EXPECT_EQ(getpid(), fdinfo_num(0, fd, "qda-session-pid"));
	EXPECT_EQ(0, fdinfo_num(0, fd, "qda-session-calls"));
	close(fd);
}

/* Threads of one file racing for its first memory operation. */
#define BINDERS		4

struct binder {
	pthread_t tid;
	int fd, err;
	pthread_barrier_t *go;
};

static void *thread_first_alloc(void *arg)
{
	struct binder *b = arg;
	uint32_t h;

	pthread_barrier_wait(b->go);
	b->err = gem_create(b->fd, PG, &h);
	return NULL;
}

/*
 * The first memory operation of a file binds its session; one that raced
 * another thread's binding failed with EINVAL while that was half done.
 * Found by qda_fuzz. The window is small: many fresh files, four threads.
 */
TEST(threads_binding_one_file_at_once)
{
	struct binder b[BINDERS];
	pthread_barrier_t go;
	int round, i, fails = 0, first = 0;

	for (round = 0; round < 100; round++) {
		int fd = qda_open_dsp("cdsp");

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, pthread_barrier_init(&go, NULL, BINDERS));
		for (i = 0; i < BINDERS; i++) {
			b[i] = (struct binder){ .fd = fd, .err = 1, .go = &go };
			ASSERT_EQ(0, pthread_create(&b[i].tid, NULL, thread_first_alloc, &b[i]));
		}
		for (i = 0; i < BINDERS; i++) {
			pthread_join(b[i].tid, NULL);
			if (b[i].err) {
				fails++;
				first = first ? first : b[i].err;
			}
		}
		pthread_barrier_destroy(&go);
		close(fd);
	}
	EXPECT_EQ(0, fails) TH_LOG("%d GEM_CREATEs failed, the first with %d", fails, first);
}

/* A thread other than the main one binding first: the key is its process. */
static void *thread_bind_pid(void *arg)
{
	long long *pid = arg;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	if (fd < 0)
		return NULL;
	if (!gem_create(fd, PG, &h))
		*pid = fdinfo_num(0, fd, "qda-session-pid");
	close(fd);
	return NULL;
}

TEST(session_bound_by_thread_names_process)
{
	long long pid = -1;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, thread_bind_pid, &pid));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(getpid(), pid);
}

TEST(other_process_gets_other_session)
{
	struct holder c;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	/* A forked child opening the node itself is another process. */
	holder_start(&c, "cdsp");
	EXPECT_EQ(0, c.err);
	EXPECT_LE(1, c.session);
	EXPECT_GE(CDSP_SLOTS, c.session);
	EXPECT_NE(session_of(fd), c.session);
	holder_stop(&c);
	close(fd);
}

/* Holds every slot of @dsp with children, then checks EBUSY and recovery. */
static void exhaust_and_recover(struct __test_metadata *_metadata,
				const char *dsp, int slots)
{
	struct holder hs[CDSP_SLOTS], extra;
	struct drm_qda_query q;
	int i, j, fd, buf;
	uint32_t h;

	for (i = 0; i < slots; i++) {
		holder_start(&hs[i], dsp);
		EXPECT_EQ(0, hs[i].err) TH_LOG("%s holder %d", dsp, i);
		EXPECT_LE(1, hs[i].session);
		EXPECT_GE(slots, hs[i].session);
		for (j = 0; j < i; j++)
			EXPECT_NE(hs[j].session, hs[i].session);
	}

	/* One process too many: open and QUERY work, memory does not. */
	fd = qda_open_dsp(dsp);
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, qda_query(fd, &q));
	EXPECT_EQ(-EBUSY, gem_create(fd, PG, &h));
	buf = heap_alloc(PG);
	EXPECT_LE(0, buf);
	EXPECT_EQ(-EBUSY, prime_import(fd, buf, &h));
	EXPECT_EQ(-1, session_of(fd));
	close(buf);
	close(fd);
	/* Likewise for another child. */
	holder_start(&extra, dsp);
	EXPECT_EQ(EBUSY, extra.err);
	holder_stop(&extra);

	/* One holder exits: its slot is free again. */
	holder_stop(&hs[slots / 2]);
	holder_start(&extra, dsp);
	EXPECT_EQ(0, extra.err);
	EXPECT_LE(1, extra.session);
	EXPECT_GE(slots, extra.session);
	holder_stop(&extra);

	for (i = 0; i < slots; i++)
		holder_stop(&hs[i]);
}

TEST(cdsp_five_slots_exhaust_and_recover)
{
	exhaust_and_recover(_metadata, "cdsp", CDSP_SLOTS);
}

TEST(adsp_two_slots_exhaust_and_recover)
{
	exhaust_and_recover(_metadata, "adsp", ADSP_SLOTS);
}

TEST(slots_are_per_channel)
{
	struct holder hs[ADSP_SLOTS];
	uint32_t h;
	int i, fd;

	/* adsp full does not take anything from cdsp. */
	for (i = 0; i < ADSP_SLOTS; i++) {
		holder_start(&hs[i], "adsp");
		EXPECT_EQ(0, hs[i].err);
	}
	fd = qda_open_dsp("cdsp");
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, gem_create(fd, PG, &h));
	close(fd);
	for (i = 0; i < ADSP_SLOTS; i++)
		holder_stop(&hs[i]);
}

TEST(buffer_keeps_session_alive)
{
	struct holder a, b, c;
	uint32_t h, h2;
	long long s;
	void *p;
	int fd;

	/*
	 * Another process takes one of the two adsp slots first: forked
	 * later, it would inherit our mapping, which keeps our buffer (and
	 * so our session) alive as well.
	 */
	holder_start(&a, "adsp");
	EXPECT_EQ(0, a.err);

	/* This process: a mapped adsp buffer outlives its handle and file. */
	fd = qda_open_dsp("adsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	s = session_of(fd);
	ASSERT_LE(1, s);
	EXPECT_NE(s, a.session);
	p = gem_mmap(fd, h, PG);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, PG, 0x5e55, 0);
	ASSERT_EQ(0, gem_close(fd, h));
	ASSERT_EQ(0, close(fd));

	/* Our slot is still taken: no room for a third process. */
	holder_start(&b, "adsp");
	EXPECT_EQ(EBUSY, b.err);
	holder_stop(&b);

	/* A new file of this process joins the surviving session. */
	fd = qda_open_dsp("adsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h2));
	EXPECT_EQ(s, session_of(fd));
	EXPECT_EQ((long long)(2 * PG), session_mem(fd));
	close(fd);
	EXPECT_EQ(-1, mismatch(p, PG, 0x5e55, 0));

	/* The last buffer goes: the slot is free. */
	ASSERT_EQ(0, munmap(p, PG));
	holder_start(&c, "adsp");
	EXPECT_EQ(0, c.err);
	holder_stop(&c);
	holder_stop(&a);
}

/* ================= GEM_CREATE ================= */

TEST(gem_create_returns_distinct_nonzero_handles)
{
	uint32_t h[4];
	int i, j, fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	for (i = 0; i < 4; i++) {
		h[i] = 0;
		ASSERT_EQ(0, gem_create(fd, PG, &h[i]));
		EXPECT_NE(0U, h[i]);
		for (j = 0; j < i; j++)
			EXPECT_NE(h[j], h[i]);
	}
	close(fd);
}

TEST(gem_create_rounds_size_to_pages)
{
	uint32_t h1, h2;
	void *p;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, 1, &h1));
	EXPECT_EQ((long long)PG, fdinfo_mem(0, fd, "drm-total-memory"));
	EXPECT_EQ((long long)PG, session_mem(fd));
	p = gem_mmap(fd, h1, PG);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x11, PG);
	munmap(p, PG);
	EXPECT_EQ(MAP_FAILED, gem_mmap(fd, h1, 2 * PG));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, gem_create(fd, PG + 1, &h2));
	EXPECT_EQ((long long)(3 * PG), fdinfo_mem(0, fd, "drm-total-memory"));
	EXPECT_EQ((long long)(3 * PG), session_mem(fd));
	p = gem_mmap(fd, h2, 2 * PG);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, 2 * PG);
	EXPECT_EQ(MAP_FAILED, gem_mmap(fd, h2, 3 * PG));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(gem_create_memory_is_zeroed)
{
	size_t len = SZ_MB(1);
	uint32_t h;
	void *p;
	int i, fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	/* Dirty buffers then free them: recycled memory must come back zeroed. */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, gem_create(fd, len, &h));
		p = gem_mmap(fd, h, len);
		ASSERT_NE(MAP_FAILED, p);
		EXPECT_EQ(-1, nonzero(p, len)) TH_LOG("round %d", i);
		memset(p, 0xa5, len);
		munmap(p, len);
		ASSERT_EQ(0, gem_close(fd, h));
	}
	close(fd);
}

TEST(gem_create_bad_args_einval)
{
	struct drm_qda_gem_create c;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	memset(&c, 0, sizeof(c));
	c.size = PG;
	c.pad = 1;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_QDA_GEM_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	c.pad = 0x80000000;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_QDA_GEM_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, gem_create(fd, 0, &h));
	/* Rounding up to a page would overflow. */
	EXPECT_EQ(-EINVAL, gem_create(fd, UINT64_MAX, &h));
	EXPECT_EQ(-EINVAL, gem_create(fd, UINT64_MAX - PG + 2, &h));
	/* Nothing was allocated by the failures. */
	EXPECT_EQ(0, gem_create(fd, PG, &h));
	EXPECT_EQ((long long)PG, session_mem(fd));
	close(fd);
}

TEST(gem_create_impossible_size_enomem_fast)
{
	static const uint64_t sizes[] = { 64ULL << 30, 1ULL << 40 };
	long long ooms = read_vmstat("oom_kill");
	long long t;
	uint32_t h;
	size_t i;
	int fd;

	QDA_SKIP_WITHOUT_CLOCK(return);
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		t = now_ms();
		EXPECT_EQ(-ENOMEM, gem_create(fd, sizes[i], &h))
			TH_LOG("size %llu", (unsigned long long)sizes[i]);
		t = now_ms() - t;
		EXPECT_GT(1000LL, t) TH_LOG("took %lld ms", t);
	}
	EXPECT_EQ(ooms, read_vmstat("oom_kill"));
	/* The file is still usable. */
	EXPECT_EQ(0, gem_create(fd, PG, &h));
	close(fd);
}

TEST(gem_create_16mib)
{
	size_t len = SZ_MB(16);
	uint32_t h;
	void *p, *q;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, len, &h));
	EXPECT_EQ((long long)len, session_mem(fd));
	EXPECT_EQ((long long)len, fdinfo_mem(0, fd, "drm-total-memory"));
	p = gem_mmap(fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, nonzero(p, len));
	fill(p, len, 0x16, 0);
	q = gem_mmap(fd, h, len);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, mismatch(q, len, 0x16, 0));
	munmap(q, len);
	munmap(p, len);
	ASSERT_EQ(0, gem_close(fd, h));
	EXPECT_EQ(0LL, session_mem(fd));
	close(fd);
}

/* ================= GEM_MMAP_OFFSET ================= */

TEST(mmap_offset_bad_pad_einval)
{
	struct drm_qda_gem_mmap_offset m;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	memset(&m, 0, sizeof(m));
	m.handle = h;
	m.pad = 1;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_QDA_GEM_MMAP_OFFSET, &m));
	EXPECT_EQ(EINVAL, errno);
	m.pad = 0;
	EXPECT_EQ(0, ioctl(fd, DRM_IOCTL_QDA_GEM_MMAP_OFFSET, &m));
	EXPECT_NE(0ULL, m.offset);
	close(fd);
}

TEST(mmap_offset_unknown_handle_enoent)
{
	uint64_t off;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	EXPECT_EQ(-ENOENT, gem_offset(fd, 0, &off));
	EXPECT_EQ(-ENOENT, gem_offset(fd, h + 1000, &off));
	EXPECT_EQ(-ENOENT, gem_offset(fd, 0xffffffff, &off));
	ASSERT_EQ(0, gem_close(fd, h));
	EXPECT_EQ(-ENOENT, gem_offset(fd, h, &off));
	close(fd);
}

TEST(mmap_offset_other_files_handle_enoent)
{
	uint32_t ha, hb[2], other;
	uint64_t off;
	int a, b;

	a = qda_open_dsp("cdsp");
	b = qda_open_dsp("cdsp");
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, gem_create(a, PG, &ha));
	ASSERT_EQ(0, gem_create(b, PG, &hb[0]));
	ASSERT_EQ(0, gem_create(b, PG, &hb[1]));
	/* Handles are per file: pick one of b's that a does not have. */
	other = hb[0] != ha ? hb[0] : hb[1];
	EXPECT_EQ(-ENOENT, gem_offset(a, other, &off));
	EXPECT_EQ(0, gem_offset(b, other, &off));
	close(a);
	close(b);
}

/* ================= mmap ================= */

TEST(mmap_writes_visible_through_second_mapping)
{
	size_t len = 4 * PG;
	uint32_t h;
	void *p, *q;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, len, &h));
	p = gem_mmap(fd, h, len);
	q = gem_mmap(fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_NE(p, q);
	fill(p, len, 1, 0);
	EXPECT_EQ(-1, mismatch(q, len, 1, 0));
	fill(q, len, 2, 0);
	EXPECT_EQ(-1, mismatch(p, len, 2, 0));
	munmap(p, len);
	munmap(q, len);
	close(fd);
}

TEST(mmap_shorter_than_object)
{
	size_t len = 4 * PG;
	uint32_t h;
	void *p, *q;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, len, &h));
	p = gem_mmap(fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, len, 3, 0);
	q = gem_mmap(fd, h, PG);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, mismatch(q, PG, 3, 0));
	munmap(q, PG);
	q = gem_mmap(fd, h, 3 * PG);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, mismatch(q, 3 * PG, 3, 0));
	munmap(q, 3 * PG);
	munmap(p, len);
	close(fd);
}

/*
 * The DRM core maps GEM objects from their start only: an offset inside the
 * object is no object's offset and fails cleanly.
 */
TEST(mmap_inside_object_offset_einval)
{
	size_t len = 4 * PG, k;
	uint64_t off;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, len, &h));
	ASSERT_EQ(0, gem_offset(fd, h, &off));
	for (k = 1; k < 4; k++) {
		EXPECT_EQ(EINVAL, mmap_errno(fd, (4 - k) * PG, off + k * PG,
					     PROT_READ | PROT_WRITE, MAP_SHARED))
			TH_LOG("page %zu", k);
	}
	close(fd);
}

TEST(mmap_past_end_einval)
{
	size_t len = 4 * PG;
	uint64_t off;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, len, &h));
	ASSERT_EQ(0, gem_offset(fd, h, &off));
	/* Longer than the object. */
	EXPECT_EQ(EINVAL, mmap_errno(fd, len + PG, off, PROT_READ | PROT_WRITE, MAP_SHARED));
	/* Within size, but offset + length past the end. */
	EXPECT_EQ(EINVAL, mmap_errno(fd, len, off + PG, PROT_READ | PROT_WRITE, MAP_SHARED));
	EXPECT_EQ(EINVAL, mmap_errno(fd, 2 * PG, off + 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED));
	close(fd);
}

TEST(mmap_private_einval)
{
	uint64_t off;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	ASSERT_EQ(0, gem_offset(fd, h, &off));
	EXPECT_EQ(EINVAL, mmap_errno(fd, PG, off, PROT_READ | PROT_WRITE, MAP_PRIVATE));
	EXPECT_EQ(EINVAL, mmap_errno(fd, PG, off, PROT_READ, MAP_PRIVATE));
	close(fd);
}

TEST(mmap_other_files_offset_eacces)
{
	uint64_t off;
	uint32_t h, hb;
	int a, b;

	a = qda_open_dsp("cdsp");
	b = qda_open_dsp("cdsp");
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, gem_create(a, PG, &h));
	ASSERT_EQ(0, gem_offset(a, h, &off));
	EXPECT_EQ(EACCES, mmap_errno(b, PG, off, PROT_READ | PROT_WRITE, MAP_SHARED));
	/* Also when b has buffers of its own. */
	ASSERT_EQ(0, gem_create(b, PG, &hb));
	EXPECT_EQ(EACCES, mmap_errno(b, PG, off, PROT_READ | PROT_WRITE, MAP_SHARED));
	close(a);
	close(b);
}

/* ================= GEM_CLOSE and lifetime ================= */

TEST(gem_close_keeps_mapping_alive)
{
	size_t len = SZ_KB(64);
	uint64_t off;
	uint32_t h;
	void *p;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, len, &h));
	p = gem_mmap(fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, len, 5, 0);
	ASSERT_EQ(0, gem_close(fd, h));
	EXPECT_EQ(-ENOENT, gem_offset(fd, h, &off));
	EXPECT_EQ(0LL, fdinfo_mem(0, fd, "drm-total-memory"));
	/* Still a live buffer of the session. */
	EXPECT_EQ((long long)len, session_mem(fd));
	EXPECT_EQ(-1, mismatch(p, len, 5, 0));
	fill(p, len, 6, 0);
	EXPECT_EQ(-1, mismatch(p, len, 6, 0));
	EXPECT_EQ(0, munmap(p, len));
	EXPECT_EQ(0LL, session_mem(fd));
	close(fd);
}

TEST(close_fd_keeps_mapping_alive)
{
	size_t len = SZ_KB(64);
	uint32_t h;
	void *p, *q;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, len, &h));
	p = gem_mmap(fd, h, len);
	q = gem_mmap(fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(MAP_FAILED, q);
	fill(p, len, 7, 0);
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(-1, mismatch(p, len, 7, 0));
	fill(p, len, 8, 0);
	EXPECT_EQ(-1, mismatch(q, len, 8, 0));
	EXPECT_EQ(0, munmap(p, len));
	EXPECT_EQ(-1, mismatch(q, len, 8, 0));
	EXPECT_EQ(0, munmap(q, len));
}

TEST(gem_close_unknown_handle_einval)
{
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, gem_close(fd, 1));
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	EXPECT_EQ(-EINVAL, gem_close(fd, 0));
	EXPECT_EQ(-EINVAL, gem_close(fd, h + 1000));
	EXPECT_EQ(0, gem_close(fd, h));
	EXPECT_EQ(-EINVAL, gem_close(fd, h));
	close(fd);
}

/* ================= processes ================= */

struct shared_map {
	void *p;
	size_t len;
};

/* Child: checks the parent's pattern 9, writes pattern 10 over it. */
static int child_rw_shared(void *arg)
{
	struct shared_map *m = arg;

	if (mismatch(m->p, m->len, 9, 0) != -1)
		return 1;
	fill(m->p, m->len, 10, 0);
	return 0;
}

TEST(fork_child_shares_mapping)
{
	struct shared_map m = { .len = SZ_KB(64) };
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, m.len, &h));
	m.p = gem_mmap(fd, h, m.len);
	ASSERT_NE(MAP_FAILED, m.p);
	fill(m.p, m.len, 9, 0);
	EXPECT_EQ(0, run_in_child(child_rw_shared, &m));
	EXPECT_EQ(-1, mismatch(m.p, m.len, 10, 0));
	munmap(m.p, m.len);
	close(fd);
}

struct foreign_handle {
	uint32_t handle;	/* a handle of the parent's file */
};

/* Child: the parent's handle is unknown in a file of its own. */
static int child_lookup_foreign(void *arg)
{
	struct foreign_handle *f = arg;
	uint64_t off;
	uint32_t own;
	int fd;

	fd = qda_open_dsp("cdsp");
	if (fd < 0)
		return 10;
	if (gem_offset(fd, f->handle, &off) != -ENOENT)
		return 11;
	if (gem_create(fd, PG, &own))
		return 12;
	if (own != f->handle && gem_offset(fd, f->handle, &off) != -ENOENT)
		return 13;
	close(fd);
	return 0;
}

TEST(handle_unknown_in_other_process)
{
	struct foreign_handle f;
	uint32_t h[3];
	int i, fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, gem_create(fd, PG, &h[i]));
	f.handle = h[2];
	EXPECT_EQ(0, run_in_child(child_lookup_foreign, &f));
	close(fd);
}

/* ================= PRIME ================= */

TEST(prime_export_mmap_same_bytes)
{
	struct drm_prime_handle bad;
	size_t len = SZ_KB(64);
	uint32_t h;
	void *p, *q;
	int fd, buf;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, len, &h));
	p = gem_mmap(fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, len, 11, 0);
	ASSERT_EQ(0, prime_export(fd, h, &buf));
	ASSERT_LE(0, buf);
	EXPECT_TRUE(fcntl(buf, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(buf, F_GETFL) & O_ACCMODE);
	EXPECT_EQ((off_t)len, lseek(buf, 0, SEEK_END));
	q = map_shared(buf, len);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, mismatch(q, len, 11, 0));
	fill(q, len, 12, 0);
	EXPECT_EQ(-1, mismatch(p, len, 12, 0));
	/* Exported: shared in the DRM core's accounting. */
	EXPECT_EQ((long long)len, fdinfo_mem(0, fd, "drm-shared-memory"));
	/* Unknown flags are refused by the core. */
	memset(&bad, 0, sizeof(bad));
	bad.handle = h;
	bad.flags = 0x4;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &bad));
	EXPECT_EQ(EINVAL, errno);
	munmap(q, len);
	munmap(p, len);
	close(buf);
	close(fd);
}

TEST(prime_reimport_same_file_same_handle)
{
	uint32_t h, h2;
	int fd, buf;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	ASSERT_EQ(0, prime_export(fd, h, &buf));
	ASSERT_EQ(0, prime_import(fd, buf, &h2));
	EXPECT_EQ(h, h2);
	/* Still one buffer. */
	EXPECT_EQ((long long)PG, session_mem(fd));
	close(buf);
	close(fd);
}

TEST(prime_import_other_file_same_object)
{
	uint64_t offa, offb;
	size_t len = SZ_KB(16);
	uint32_t ha, hb;
	int a, b, buf;
	void *p, *q;

	a = qda_open_dsp("cdsp");
	b = qda_open_dsp("cdsp");
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, gem_create(a, len, &ha));
	ASSERT_EQ(0, prime_export(a, ha, &buf));
	ASSERT_EQ(0, prime_import(b, buf, &hb));
	EXPECT_NE(0U, hb);
	ASSERT_EQ(0, gem_offset(a, ha, &offa));
	ASSERT_EQ(0, gem_offset(b, hb, &offb));
	EXPECT_EQ(offa, offb);
	p = gem_mmap(a, ha, len);
	q = gem_mmap(b, hb, len);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(MAP_FAILED, q);
	fill(p, len, 13, 0);
	EXPECT_EQ(-1, mismatch(q, len, 13, 0));
	/* One object, one session: counted once. */
	EXPECT_EQ(session_of(a), session_of(b));
	EXPECT_EQ((long long)len, session_mem(a));
	EXPECT_EQ((long long)len, fdinfo_mem(0, b, "drm-total-memory"));
	munmap(p, len);
	munmap(q, len);
	close(buf);
	close(a);
	close(b);
}

TEST(prime_close_handle_then_reimport)
{
	size_t len = SZ_KB(32);
	uint32_t h, h2;
	int fd, buf;
	void *p;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, len, &h));
	p = gem_mmap(fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, len, 14, 0);
	munmap(p, len);
	ASSERT_EQ(0, prime_export(fd, h, &buf));
	ASSERT_EQ(0, gem_close(fd, h));
	/* The dma-buf keeps the object and the session's memory. */
	EXPECT_EQ((long long)len, session_mem(fd));
	ASSERT_EQ(0, prime_import(fd, buf, &h2));
	EXPECT_NE(0U, h2);
	p = gem_mmap(fd, h2, len);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mismatch(p, len, 14, 0));
	munmap(p, len);
	ASSERT_EQ(0, gem_close(fd, h2));
	close(buf);
	EXPECT_EQ(0LL, session_mem(fd));
	close(fd);
}

TEST(prime_cycles_release_everything)
{
	uint32_t h, hb;
	int i, a, b, buf;
	void *p;

	a = qda_open_dsp("cdsp");
	b = qda_open_dsp("cdsp");
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	for (i = 0; i < 32; i++) {
		ASSERT_EQ(0, gem_create(a, SZ_KB(8), &h));
		ASSERT_EQ(0, prime_export(a, h, &buf));
		ASSERT_EQ(0, prime_import(b, buf, &hb));
		p = map_shared(buf, SZ_KB(8));
		ASSERT_NE(MAP_FAILED, p);
		fill(p, SZ_KB(8), i, 0);
		munmap(p, SZ_KB(8));
		/* Release in a different order each time. */
		if (i & 1) {
			close(buf);
			ASSERT_EQ(0, gem_close(a, h));
			ASSERT_EQ(0, gem_close(b, hb));
		} else {
			ASSERT_EQ(0, gem_close(b, hb));
			ASSERT_EQ(0, gem_close(a, h));
			close(buf);
		}
	}
	EXPECT_EQ(0LL, session_mem(a));
	EXPECT_EQ(0LL, fdinfo_mem(0, a, "drm-total-memory"));
	EXPECT_EQ(0LL, fdinfo_mem(0, b, "drm-total-memory"));
	close(a);
	close(b);
}

/* Imports @buf (@len bytes, mapped at @own) into a new cdsp file and checks it. */
static void check_foreign_import(struct __test_metadata *_metadata, int buf,
				 void *own, size_t len, uint32_t seed)
{
	long long mem0;
	uint32_t h, h0;
	void *p;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h0));
	mem0 = session_mem(fd);
	ASSERT_EQ((long long)PG, mem0);

	ASSERT_EQ(0, prime_import(fd, buf, &h));
	EXPECT_NE(0U, h);
	EXPECT_EQ(mem0 + (long long)len, session_mem(fd));
	EXPECT_EQ((long long)(PG + len), fdinfo_mem(0, fd, "drm-total-memory"));
	p = gem_mmap(fd, h, len);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("errno %d", errno);
	EXPECT_EQ(-1, mismatch(p, len, seed, 0));
	/* Same memory, not a copy: writes go both ways. */
	fill(p, len, seed + 1, 0);
	EXPECT_EQ(-1, mismatch(own, len, seed + 1, 0));
	fill(own, len, seed + 2, 0);
	EXPECT_EQ(-1, mismatch(p, len, seed + 2, 0));
	munmap(p, len);
	ASSERT_EQ(0, gem_close(fd, h));
	EXPECT_EQ(mem0, session_mem(fd));
	close(fd);
}

TEST(import_dma_heap_buffers)
{
	/*
	 * The system heap uses order-8, 4 and 0 chunks: 60 KiB is fifteen
	 * single pages, 1 MiB + 100 KiB mixes all three orders.
	 */
	static const size_t sizes[] = {
		SZ_KB(64), SZ_KB(60), SZ_MB(1), SZ_MB(1) + SZ_KB(100),
	};
	size_t i;
	void *own;
	int buf;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		buf = heap_alloc(sizes[i]);
		ASSERT_LE(0, buf) TH_LOG("heap alloc %zu: %d", sizes[i], buf);
		own = map_shared(buf, sizes[i]);
		ASSERT_NE(MAP_FAILED, own);
		fill(own, sizes[i], 20 + i * 4, 0);
		check_foreign_import(_metadata, buf, own, sizes[i], 20 + i * 4);
		munmap(own, sizes[i]);
		close(buf);
	}
}

TEST(import_udmabuf)
{
	size_t len = SZ_KB(256);
	void *own;
	int buf;

	buf = udmabuf_alloc(len);
	ASSERT_LE(0, buf) TH_LOG("udmabuf: %d", buf);
	own = map_shared(buf, len);
	ASSERT_NE(MAP_FAILED, own);
	fill(own, len, 40, 0);
	check_foreign_import(_metadata, buf, own, len, 40);
	munmap(own, len);
	close(buf);
}

TEST(import_not_a_dmabuf)
{
	int fd, pfd[2], other;
	uint32_t h;

	fd = qda_open_dsp("cdsp");
	other = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, pipe(pfd));
	EXPECT_EQ(-EINVAL, prime_import(fd, pfd[0], &h));
	EXPECT_EQ(-EINVAL, prime_import(fd, fd, &h));
	EXPECT_EQ(-EINVAL, prime_import(fd, other, &h));
	EXPECT_EQ(-EBADF, prime_import(fd, -1, &h));
	close(pfd[0]);
	close(pfd[1]);
	EXPECT_EQ(-EBADF, prime_import(fd, pfd[0], &h));
	close(other);
	close(fd);
}

/* ================= DSP restart ================= */

/* Brings cdsp back whatever happened to the test (run in the parent). */
FIXTURE(restart) {
	int unused;
};

FIXTURE_SETUP(restart)
{
}

FIXTURE_TEARDOWN_PARENT(restart)
{
	if (!qda_find_node("cdsp", NULL, 0))
		mock_control("start cdsp");
}

TEST_F(restart, gem_create_after_stop_enodev)
{
	uint32_t h;
	int fd, fresh;

	fd = qda_open_dsp("cdsp");
	fresh = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_LE(0, fresh);
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	ASSERT_EQ(0, mock_control("stop cdsp"));
	EXPECT_EQ(-ENODEV, gem_create(fd, PG, &h));
	EXPECT_EQ(-ENODEV, gem_create(fresh, PG, &h));
	close(fd);
	close(fresh);
	ASSERT_EQ(0, mock_control("start cdsp"));
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, gem_create(fd, PG, &h));
	close(fd);
}

/* Child: reads pattern 50 through the parent's mapping, writes 51. */
static int child_rw_before_stop(void *arg)
{
	struct shared_map *m = arg;

	if (mismatch(m->p, m->len, 50, 0) != -1)
		return 1;
	fill(m->p, m->len, 51, 0);
	return mismatch(m->p, m->len, 51, 0) != -1 ? 2 : 0;
}

/* Child: touches the parent's mapping; expected to die of SIGBUS. */
static int child_touch_after_stop(void *arg)
{
	struct shared_map *m = arg;

	return mismatch(m->p, m->len, 51, 0) == -1 ? 0 : 1;
}

TEST_F(restart, mapping_revoked_cleanly_by_dsp_stop)
{
	struct shared_map m = { .len = SZ_KB(64) };
	uint64_t off, off2;
	uint32_t h, h2;
	int fd, buf, st;
	void *p;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, m.len, &h));
	ASSERT_EQ(0, gem_offset(fd, h, &off));
	m.p = gem_mmap(fd, h, m.len);
	ASSERT_NE(MAP_FAILED, m.p);
	fill(m.p, m.len, 50, 0);

	/* Before the restart a child reads and writes it like the parent. */
	st = run_in_child(child_rw_before_stop, &m);
	EXPECT_EQ(0, st) TH_LOG("child status %d", st);
	EXPECT_EQ(-1, mismatch(m.p, m.len, 51, 0));

	/*
	 * The DSP restart unplugs the device, and the DRM core revokes every
	 * CPU mapping of it: touching one now faults cleanly with SIGBUS (in
	 * a child, so the signal is observed, not fatal) instead of reaching
	 * memory the driver no longer vouches for.
	 */
	ASSERT_EQ(0, mock_control("stop cdsp"));
	st = run_in_child(child_touch_after_stop, &m);
	EXPECT_EQ(128 + SIGBUS, st) TH_LOG("child status %d (128 + signal if killed)", st);
	/* The old file only says ENODEV. */
	EXPECT_EQ(-ENODEV, gem_create(fd, PG, &h2));
	EXPECT_EQ(-ENODEV, gem_offset(fd, h, &off2));
	EXPECT_EQ(-ENODEV, prime_export(fd, h, &buf));
	EXPECT_EQ(-ENODEV, gem_close(fd, h));
	EXPECT_EQ(ENODEV, mmap_errno(fd, m.len, off, PROT_READ | PROT_WRITE, MAP_SHARED));
	EXPECT_EQ(0, munmap(m.p, m.len));
	EXPECT_EQ(0, close(fd));

	ASSERT_EQ(0, mock_control("start cdsp"));
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, m.len, &h));
	p = gem_mmap(fd, h, m.len);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, nonzero(p, m.len));
	fill(p, m.len, 53, 0);
	EXPECT_EQ(-1, mismatch(p, m.len, 53, 0));
	munmap(p, m.len);
	close(fd);
}

/* Is there a CB device called @name on the qda-cb bus? */
static int cb_exists(const char *name)
{
	char path[300];

	snprintf(path, sizeof(path), CB_BUS_DIR "/%s", name);
	return access(path, F_OK) == 0;
}

/* How many devices the qda-cb bus has. */
static int cb_count(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(CB_BUS_DIR);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Is @cb below the channel device of the cdsp accel node? */
static int cb_under_cdsp(const char *cb)
{
	char node[300], path[700];

	if (qda_find_node("cdsp", node, sizeof(node)) != 1)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/accel/%s/device/%s",
		 strrchr(node, '/') + 1, cb);
	return access(path, F_OK) == 0;
}

/*
 * A CB device lives as long as something allocated on it: across a DSP
 * restart it waits at the top of the device hierarchy for its buffers, and
 * the channel that comes back takes the same device over (no second device
 * for the same stream). Without users a stop removes it.
 */
TEST_F(restart, cb_device_outlives_channel_while_buffers_live)
{
	char sid[16], cb[64], path[300];
	int fd, dmabuf, n0;
	uint32_t h, h2;
	void *p;

	n0 = cb_count();
	ASSERT_LT(0, n0);
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, SZ_KB(64), &h));
	ASSERT_EQ(0, gem_create(fd, SZ_KB(8), &h2));
	ASSERT_EQ(0, prime_export(fd, h2, &dmabuf));
	ASSERT_EQ(0, fdinfo_get(0, fd, "qda-sid", sid, sizeof(sid)));
	snprintf(cb, sizeof(cb), "qda-cdsp-cb%s", sid);
	p = gem_mmap(fd, h, SZ_KB(64));
	ASSERT_NE(MAP_FAILED, p);
	fill(p, SZ_KB(64), 60, 0);
	EXPECT_TRUE(cb_under_cdsp(cb));

	ASSERT_EQ(0, mock_control("stop cdsp"));
	/* Held by the buffers: still on the bus, now without a parent. */
	EXPECT_TRUE(cb_exists(cb)) TH_LOG("%s", cb);
	snprintf(path, sizeof(path), "/sys/devices/%s", cb);
	EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s", path);
	/* The CBs nobody uses went with the channel. */
	EXPECT_EQ(n0 - 4 + 1, cb_count());

	ASSERT_EQ(0, mock_control("start cdsp"));
	/* Taken over by the new channel: the same count, below the channel. */
	EXPECT_EQ(n0, cb_count());
	EXPECT_TRUE(cb_under_cdsp(cb)) TH_LOG("%s", cb);
	EXPECT_NE(0, access(path, F_OK));

	/* The old file and buffers close cleanly; the new channel keeps it. */
	EXPECT_EQ(0, munmap(p, SZ_KB(64)));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(dmabuf));
	EXPECT_TRUE(cb_exists(cb));
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, SZ_KB(64), &h));
	p = gem_mmap(fd, h, SZ_KB(64));
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, nonzero(p, SZ_KB(64)));
	munmap(p, SZ_KB(64));
	close(fd);

	/* Nothing left on it: a stop takes every cdsp CB away. */
	ASSERT_EQ(0, mock_control("stop cdsp"));
	EXPECT_FALSE(cb_exists(cb));
	EXPECT_EQ(n0 - 4, cb_count());
	ASSERT_EQ(0, mock_control("start cdsp"));
	EXPECT_EQ(n0, cb_count());
}

/* A dma-buf exported before the restart still works, and releases its CB. */
TEST_F(restart, exported_dmabuf_outlives_channel)
{
	char sid[16], cb[64];
	uint32_t h;
	int fd, dmabuf;
	void *p;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, SZ_KB(16), &h));
	ASSERT_EQ(0, fdinfo_get(0, fd, "qda-sid", sid, sizeof(sid)));
	snprintf(cb, sizeof(cb), "qda-cdsp-cb%s", sid);
	ASSERT_EQ(0, prime_export(fd, h, &dmabuf));
	EXPECT_EQ(0, close(fd));
	p = mmap(NULL, SZ_KB(16), PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, SZ_KB(16), 70, 0);
	ASSERT_EQ(0, munmap(p, SZ_KB(16)));

	ASSERT_EQ(0, mock_control("stop cdsp"));
	/* Only the dma-buf holds the buffer, and through it the CB. */
	EXPECT_TRUE(cb_exists(cb));
	EXPECT_EQ(0, close(dmabuf));
	EXPECT_FALSE(cb_exists(cb));
	ASSERT_EQ(0, mock_control("start cdsp"));
	EXPECT_TRUE(cb_exists(cb));
}

TEST_HARNESS_MAIN
