// SPDX-License-Identifier: GPL-2.0
/*
 * QDA kselftests for context banks behind an IOMMU (arm64: QEMU virt with an
 * SMMUv3, where the mock DSP gives every CB node an iommus property): IOMMU
 * groups, DSP addresses that are IOVAs of the CB's domain and stop
 * resolving once freed, a DSP restart with everything live, a large
 * scattered import mapped as one segment, and IOMMU/DMA allocation failures
 * injected with fail-nth.
 *
 * The mock DSP resolves every address it is sent through the CB's IOMMU
 * domain and counts "translations" and "faults" in its status line; its
 * debugfs "iommu" file counts, per CB, the pages its domain maps in the
 * IOVA window iommu-dma allocates from, and "resolve <label> <addr>" on its
 * control file says whether a DSP address reaches RAM (see
 * Documentation/accel/qda/mock-dsp.rst).
 *
 * Every case SKIPs when the CB nodes have no iommus property (x86_64: no
 * IOMMU on the platform). With one, a CB device without an IOMMU group is
 * a failure, not a skip.
 */
#define _GNU_SOURCE
#include <glob.h>
#include <libgen.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <linux/udmabuf.h>

#include "qda_common.h"
#include "qda_failnth.h"
#include "qda_gem.h"
#include "qda_rpc.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define SZ_KB(n)	((n) * 1024UL)
#define SZ_MB(n)	((n) * 1024UL * 1024UL)


/* The mock's CBs: cdsp regs 1-4 and adsp regs 1-2. */
#define CDSP_CBS	4
#define ADSP_CBS	2
/* The mock's stream IDs: 0x100 * (channel index + 1) + reg. */
#define CDSP_STREAM(reg)	(0x100 + (reg))
#define ADSP_STREAM(reg)	(0x200 + (reg))

/* Does the platform put the mock's CBs behind an IOMMU? */
static int behind_iommu(void)
{
	return access(MOCK_DT "/fastrpc-cdsp/compute-cb@1/iommus", F_OK) == 0;
}

/* ---- the mock's iommu file ---- */

/* Pages the domain of CB @reg of @label maps; -1 if it is not listed. */
static long iommu_mapped(const char *label, unsigned int reg)
{
	struct mock_iommu_cb v[MOCK_IOMMU_MAX_CBS];
	int i, n = mock_iommu_read(v, MOCK_IOMMU_MAX_CBS);

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].label, label) && v[i].reg == reg)
			return v[i].mapped;
	return -1;
}

/* Pages mapped by all CBs of @label; -1 unless all @ncbs are listed. */
static long iommu_mapped_all(const char *label, int ncbs)
{
	struct mock_iommu_cb v[MOCK_IOMMU_MAX_CBS];
	int i, seen = 0, n = mock_iommu_read(v, MOCK_IOMMU_MAX_CBS);
	long sum = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i].label, label))
			continue;
		seen++;
		sum += v[i].mapped;
	}
	return seen == ncbs ? sum : -1;
}

/* Waits up to @ms for every CB of @label to map nothing; the last sum. */
static long iommu_wait_unmapped(const char *label, int ncbs, long ms)
{
	long long end = now_ms() + ms;
	long sum;

	for (;;) {
		sum = iommu_mapped_all(label, ncbs);
		if (!sum || now_ms() > end)
			return sum;
		sleep_ms(50);
	}
}

/* "resolve <label> <addr>": 0 if the DSP address reaches RAM, -EFAULT if not. */
static int dsp_resolve(const char *label, uint64_t addr)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "resolve %s 0x%llx", label,
		 (unsigned long long)addr);
	return mock_control(cmd);
}

/* ---- fdinfo ---- */

static long long fdinfo_sid(int fd)
{
	char val[32];

	if (fdinfo_get(0, fd, "qda-sid", val, sizeof(val)))
		return -1;
	return strtoll(val, NULL, 10);
}

struct buf_info {
	unsigned long long size, dsp;
	unsigned int segments;
};

/* The fdinfo line of GEM handle @h; 0, -ENOENT or -EINVAL. */
static int buffer_info(int fd, uint32_t h, struct buf_info *b)
{
	char key[32], val[128];
	int ret;

	snprintf(key, sizeof(key), "qda-buffer-%u", h);
	ret = fdinfo_get(0, fd, key, val, sizeof(val));
	if (ret)
		return ret;
	if (sscanf(val, "%llu dsp=%llx segments=%u", &b->size, &b->dsp,
		   &b->segments) != 3)
		return -EINVAL;
	return 0;
}

static long long cdsp_mappings(void)
{
	struct mock_st st;

	return mock_status("cdsp", &st) ? -1 : st.mappings;
}

/* A cdsp CB reg other than @sid whose domain maps nothing; 0 if none. */
static unsigned int idle_other_cb(unsigned int sid)
{
	unsigned int reg;

	for (reg = 1; reg <= CDSP_CBS; reg++)
		if (reg != sid && iommu_mapped("cdsp", reg) == 0)
			return reg;
	return 0;
}

/* ================= fixture ================= */

/*
 * Skips without an IOMMU; otherwise checks after each case that the DSP
 * saw no fault and nothing was left mapped on cdsp.
 */
FIXTURE(iommu) {
	struct mock_st st0;
};

FIXTURE_SETUP(iommu)
{
	if (!behind_iommu())
		SKIP(return, "the CBs are not behind an IOMMU on this platform");
	ASSERT_EQ(0, wait_cdsp_node(1, 3000));
	ASSERT_EQ(0, mock_status("cdsp", &self->st0));
}

FIXTURE_TEARDOWN(iommu)
{
	struct mock_st st;

	ASSERT_EQ(0, mock_status("cdsp", &st));
	EXPECT_EQ(self->st0.faults, st.faults);
	EXPECT_EQ(self->st0.violations, st.violations);
	EXPECT_EQ(0, iommu_wait_unmapped("cdsp", CDSP_CBS, 2000));
}

/* ================= groups and the device tree ================= */

TEST_F(iommu, every_cb_in_its_own_iommu_group)
{
	char path[512], link[512], groups[32][64], sid[16];
	struct mock_iommu_cb v[MOCK_IOMMU_MAX_CBS];
	unsigned int reg;
	int i, j, n, ncb;
	glob_t g;

	ASSERT_EQ(0, glob(CB_BUS_DIR "/*", 0, NULL, &g));
	ncb = g.gl_pathc;
	ASSERT_LE(CDSP_CBS + ADSP_CBS, ncb);
	ASSERT_GE(32, ncb);
	for (i = 0; i < ncb; i++) {
		ssize_t len;

		snprintf(path, sizeof(path), "%s/iommu_group", g.gl_pathv[i]);
		len = readlink(path, link, sizeof(link) - 1);
		ASSERT_LT(0, len) TH_LOG("%s: no IOMMU group", g.gl_pathv[i]);
		link[len] = 0;
		snprintf(groups[i], sizeof(groups[i]), "%s", basename(link));
		/* One stream per CB, so one group per CB. */
		for (j = 0; j < i; j++)
			EXPECT_STRNE(groups[j], groups[i])
				TH_LOG("%s and %s share group %s", g.gl_pathv[j],
				       g.gl_pathv[i], groups[i]);
		snprintf(path, sizeof(path), "%s/sid", g.gl_pathv[i]);
		EXPECT_EQ(0, read_sysfs(path, sid, sizeof(sid)));
	}
	globfree(&g);

	/*
	 * The mock sees each CB device in its group with the stream ID the
	 * device tree gave it, and nothing mapped at rest.
	 */
	n = mock_iommu_read(v, MOCK_IOMMU_MAX_CBS);
	ASSERT_LE(CDSP_CBS + ADSP_CBS, n);
	for (reg = 1; reg <= CDSP_CBS; reg++) {
		for (i = 0; i < n; i++)
			if (!strcmp(v[i].label, "cdsp") && v[i].reg == reg)
				break;
		ASSERT_GT(n, i) TH_LOG("cdsp cb%u not in an IOMMU group", reg);
		EXPECT_EQ(CDSP_STREAM(reg), v[i].stream);
		EXPECT_EQ(0, v[i].mapped);
	}
	for (reg = 1; reg <= ADSP_CBS; reg++) {
		for (i = 0; i < n; i++)
			if (!strcmp(v[i].label, "adsp") && v[i].reg == reg)
				break;
		ASSERT_GT(n, i) TH_LOG("adsp cb%u not in an IOMMU group", reg);
		EXPECT_EQ(ADSP_STREAM(reg), v[i].stream);
		EXPECT_EQ(0, v[i].mapped);
	}
}

TEST_F(iommu, resolve_command_errors)
{
	EXPECT_EQ(-EINVAL, mock_control("resolve cdsp"));
	EXPECT_EQ(-EINVAL, mock_control("resolve cdsp zz"));
	EXPECT_EQ(-ENODEV, mock_control("resolve nope 0x1f0000000"));
	/* No CB has reg 9; nothing is mapped at IOVA 0 or physical 0. */
	EXPECT_EQ(-EFAULT, dsp_resolve("cdsp", 0x9fffff000ull));
	EXPECT_EQ(-EFAULT, dsp_resolve("cdsp", 0x100000000ull));
	EXPECT_EQ(-EFAULT, dsp_resolve("cdsp", 0));
	/* A stopped channel resolves nothing. */
	EXPECT_EQ(-EFAULT, dsp_resolve("xdsp", 0x1fffff000ull));
}

/* ================= DSP addresses are IOVAs ================= */

TEST_F(iommu, buffer_resolves_until_freed)
{
	struct buf_info b, bi;
	unsigned int other;
	long long sid;
	uint32_t h, hi;
	int fd, heap;
	void *p, *q;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, SZ_KB(64), &h));
	p = gem_mmap(fd, h, SZ_KB(64));
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x5a, SZ_KB(64));
	sid = fdinfo_sid(fd);
	ASSERT_LT(0, sid);
	ASSERT_EQ(0, buffer_info(fd, h, &b));
	EXPECT_EQ(SZ_KB(64), b.size);
	EXPECT_EQ(1u, b.segments);
	/* SID in bits 63:32, an IOVA of the 32-bit window below. */
	EXPECT_EQ((unsigned long long)sid, b.dsp >> 32);
	EXPECT_LE(0xf0000000ull, b.dsp & 0xffffffffull);
	EXPECT_EQ(0ull, b.dsp & (PG - 1));
	EXPECT_EQ(0, dsp_resolve("cdsp", b.dsp));
	EXPECT_EQ(0, dsp_resolve("cdsp", b.dsp + SZ_KB(64) - 1));
	EXPECT_EQ(16, iommu_mapped("cdsp", sid));

	/* The same IOVA behind another CB's stream is not this buffer. */
	other = idle_other_cb(sid);
	ASSERT_NE(0u, other);
	EXPECT_EQ(-EFAULT, dsp_resolve("cdsp", ((uint64_t)other << 32) |
					   (b.dsp & 0xffffffffull)));
	/* Nor on another channel. */
	EXPECT_EQ(-EFAULT, dsp_resolve("adsp", b.dsp));

	/* A dma-heap import is mapped for the DSP through the same CB. */
	heap = heap_alloc(SZ_KB(64));
	ASSERT_LE(0, heap);
	q = map_shared(heap, SZ_KB(64));
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, prime_import(fd, heap, &hi));
	ASSERT_EQ(0, buffer_info(fd, hi, &bi));
	EXPECT_EQ((unsigned long long)sid, bi.dsp >> 32);
	EXPECT_EQ(1u, bi.segments);
	EXPECT_EQ(0, dsp_resolve("cdsp", bi.dsp));
	EXPECT_EQ(32, iommu_mapped("cdsp", sid));

	/* Freed: the IOVA no longer reaches anything. */
	EXPECT_EQ(0, gem_close(fd, h));
	EXPECT_EQ(0, dsp_resolve("cdsp", b.dsp)) TH_LOG("the mapping keeps it");
	EXPECT_EQ(0, munmap(p, SZ_KB(64)));
	EXPECT_EQ(-EFAULT, dsp_resolve("cdsp", b.dsp));
	EXPECT_EQ(-EFAULT, dsp_resolve("cdsp", b.dsp + SZ_KB(64) - 1));
	EXPECT_EQ(16, iommu_mapped("cdsp", sid));
	EXPECT_EQ(0, gem_close(fd, hi));
	EXPECT_EQ(-EFAULT, dsp_resolve("cdsp", bi.dsp));
	EXPECT_EQ(0, iommu_mapped("cdsp", sid));
	munmap(q, SZ_KB(64));
	close(heap);
	close(fd);
}

TEST_F(iommu, calls_translate_without_faults)
{
	struct drm_qda_map m = { .request = QDA_MAP_REQUEST_LEGACY };
	struct drm_qda_munmap u = { .request = QDA_MAP_REQUEST_LEGACY };
	char in[300], out[300], dlerr[64];
	struct mock_st s0, s1;
	uint32_t skel_h, h, *w;
	uint64_t sum, want = 0;
	size_t i;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	/* A user PD: the DSP checks its init memory through the IOMMU. */
	ASSERT_EQ(0, mock_status("cdsp", &s0));
	ASSERT_EQ(0, qda_create_plain(fd));
	ASSERT_EQ(0, mock_status("cdsp", &s1));
	EXPECT_LT(s0.translations, s1.translations);
	ASSERT_EQ(0, skel_open(fd, TEST_SKEL_URI, &skel_h, dlerr,
			       sizeof(dlerr)));

	/* Inline arguments live in the payload, an IOVA too. */
	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 7 + 1);
	s0 = s1;
	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_echo(fd, skel_h, in, sizeof(in), out, sizeof(out)));
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	ASSERT_EQ(0, mock_status("cdsp", &s1));
	EXPECT_LT(s0.translations, s1.translations);

	/* A GEM argument over several pages: one translation per page. */
	ASSERT_EQ(0, gem_create(fd, SZ_KB(256), &h));
	w = gem_mmap(fd, h, SZ_KB(256));
	ASSERT_NE(MAP_FAILED, w);
	for (i = 0; i < SZ_KB(256) / 4; i++) {
		w[i] = (uint32_t)(i * 2654435761u);
		want += w[i];
	}
	s0 = s1;
	EXPECT_EQ(0, skel_sum(fd, skel_h, ga(h, w, SZ_KB(256)), &sum));
	EXPECT_EQ(want, sum);
	ASSERT_EQ(0, mock_status("cdsp", &s1));
	EXPECT_LE(s0.translations + (long long)(SZ_KB(256) / PG), s1.translations);

	/* A DSP mapping of it: its page list is checked the same way. */
	m.fd = h;
	m.size = SZ_KB(256);
	m.vaddrin = (uintptr_t)w;
	s0 = s1;
	ASSERT_EQ(0, qda_map(fd, &m));
	ASSERT_EQ(0, mock_status("cdsp", &s1));
	EXPECT_LE(s0.translations + (long long)(SZ_KB(256) / PG), s1.translations);
	u.vaddrout = m.vaddrout;
	u.size = SZ_KB(256);
	EXPECT_EQ(0, qda_munmap(fd, &u));

	EXPECT_EQ(self->st0.faults, s1.faults);
	munmap(w, SZ_KB(256));
	close(fd);
}

/* ================= a 4 MiB scattered import ================= */

TEST_F_TIMEOUT(iommu, big_import_is_one_segment, 120)
{
	struct drm_qda_map m = { .request = QDA_MAP_REQUEST_ATTR };
	struct drm_qda_map ml = { .request = QDA_MAP_REQUEST_LEGACY };
	struct drm_qda_munmap u;
	const size_t len = SZ_MB(4);
	struct buf_info b;
	uint64_t sum, want = 0;
	uint32_t skel_h, h, crc;
	long long sid, maps0;
	int fd, heap;
	uint32_t *w;
	size_t i;

	heap = heap_alloc(len);
	ASSERT_LE(0, heap);
	w = map_shared(heap, len);
	ASSERT_NE(MAP_FAILED, w);
	for (i = 0; i < len / 4; i++) {
		w[i] = (uint32_t)(i * 2654435761u) ^ 0x1234567;
		want += w[i];
	}

	fd = open_attached(&skel_h);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, prime_import(fd, heap, &h));
	sid = fdinfo_sid(fd);
	ASSERT_LT(0, sid);
	/* Scattered pages, one contiguous IOVA range. */
	ASSERT_EQ(0, buffer_info(fd, h, &b));
	EXPECT_EQ(len, b.size);
	EXPECT_EQ(1u, b.segments);
	EXPECT_EQ(0, dsp_resolve("cdsp", b.dsp + len - 1));
	EXPECT_LE((long)(len / PG), iommu_mapped("cdsp", sid));

	/* One argument spanning all of it. */
	EXPECT_EQ(0, skel_sum(fd, skel_h, ga(h, w, len), &sum));
	EXPECT_EQ(want, sum);
	EXPECT_EQ(0, skel_crc(fd, skel_h, ga(h, w, len), &crc));
	EXPECT_EQ(crc32_zlib(w, len), crc);

	/* DSP mappings of the whole import, both forms. */
	maps0 = cdsp_mappings();
	m.fd = h;
	m.size = len;
	m.vaddrin = (uintptr_t)w;
	ASSERT_EQ(0, qda_map(fd, &m));
	ml.fd = h;
	ml.size = len;
	ml.vaddrin = (uintptr_t)w;
	ASSERT_EQ(0, qda_map(fd, &ml));
	EXPECT_EQ(maps0 + 2, cdsp_mappings());
	memset(&u, 0, sizeof(u));
	u.request = QDA_MAP_REQUEST_ATTR;
	u.fd = h;
	u.vaddr = m.vaddrout;
	u.size = len;
	EXPECT_EQ(0, qda_munmap(fd, &u));
	memset(&u, 0, sizeof(u));
	u.request = QDA_MAP_REQUEST_LEGACY;
	u.vaddrout = ml.vaddrout;
	u.size = len;
	EXPECT_EQ(0, qda_munmap(fd, &u));
	EXPECT_EQ(maps0, cdsp_mappings());

	close(fd);
	munmap(w, len);
	close(heap);
}

/* ================= an import beyond the IOVA space ================= */

/*
 * A udmabuf of @n times the first @len bytes of a fresh memfd: a large
 * buffer that takes @len bytes of RAM.  An fd or -errno.
 */
static int udmabuf_repeat(size_t len, unsigned int n)
{
	struct udmabuf_create_list *l;
	unsigned int i;
	int memfd, dev, ret;

	l = calloc(1, sizeof(*l) + n * sizeof(l->list[0]));
	if (!l)
		return -ENOMEM;
	memfd = memfd_create("qda_iommu_test", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0) {
		ret = -errno;
		goto out;
	}
	if (ftruncate(memfd, len) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		ret = -errno;
		goto out_memfd;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		goto out_memfd;
	}
	l->flags = UDMABUF_FLAGS_CLOEXEC;
	l->count = n;
	for (i = 0; i < n; i++) {
		l->list[i].memfd = memfd;
		l->list[i].size = len;
	}
	ret = ioctl(dev, UDMABUF_CREATE_LIST, l);
	if (ret < 0)
		ret = -errno;
	close(dev);
out_memfd:
	close(memfd);
out:
	free(l);
	return ret;
}

TEST_F_TIMEOUT(iommu, import_beyond_iova_space_fails_cleanly, 120)
{
	struct buf_info b;
	long long sid;
	uint32_t h, h0;
	int fd, big, small, ret;

	/* 4 GiB: more than a CB's 32-bit IOVA space can ever hold. */
	big = udmabuf_repeat(SZ_MB(4), 1024);
	if (big == -ENOENT || big == -EINVAL)
		SKIP(return, "no udmabuf lists: %d", big);
	ASSERT_LE(0, big) TH_LOG("udmabuf: %d", big);
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, SZ_KB(64), &h0));
	sid = fdinfo_sid(fd);
	ASSERT_LT(0, sid);

	/* Mapping it for the CB fails in the IOVA allocator. */
	ret = prime_import(fd, big, &h);
	EXPECT_EQ(-ENOMEM, ret) TH_LOG("import: %d (%s)", ret, strerror(-ret));
	EXPECT_EQ(-ENOENT, buffer_info(fd, h0 + 1, &b));
	EXPECT_EQ(16, iommu_mapped("cdsp", sid));
	/* Again: nothing from the first attempt is in the way. */
	EXPECT_EQ(-ENOMEM, prime_import(fd, big, &h));
	close(big);

	/* The CB maps the next import normally. */
	small = udmabuf_repeat(SZ_MB(4), 1);
	ASSERT_LE(0, small);
	ASSERT_EQ(0, prime_import(fd, small, &h));
	ASSERT_EQ(0, buffer_info(fd, h, &b));
	EXPECT_EQ(1u, b.segments);
	EXPECT_EQ(0, dsp_resolve("cdsp", b.dsp + SZ_MB(4) - 1));
	EXPECT_EQ(16 + (long)(SZ_MB(4) / PG), iommu_mapped("cdsp", sid));
	close(small);
	close(fd);
}

/* ================= DSP restart with everything live ================= */

struct inflight {
	pthread_t tid;
	int fd;
	uint32_t skel, h;
	void *p;
	size_t len;
	uint64_t sum;
	int ret;
};

static void *inflight_fn(void *arg)
{
	struct inflight *c = arg;

	c->ret = skel_sum(c->fd, c->skel, ga(c->h, c->p, c->len), &c->sum);
	return NULL;
}

/* Restores cdsp (no delay, channel up) whatever the case did. */
FIXTURE(restart) {
	int unused;
};

FIXTURE_SETUP(restart)
{
	if (!behind_iommu())
		SKIP(return, "the CBs are not behind an IOMMU on this platform");
	ASSERT_EQ(0, wait_cdsp_node(1, 3000));
}

FIXTURE_TEARDOWN_PARENT(restart)
{
	mock_control("clear cdsp");
	if (wait_cdsp_node(1, 100))
		mock_control("start cdsp");
	wait_cdsp_node(1, 3000);
}

TEST_F_TIMEOUT(restart, everything_live_then_closed, 120)
{
	struct drm_qda_map ml = { .request = QDA_MAP_REQUEST_LEGACY };
	struct drm_qda_map ma = { .request = QDA_MAP_REQUEST_ATTR };
	struct buf_info b1, bi;
	struct inflight c = { .len = SZ_MB(1) };
	struct mock_st s0, s1;
	uint32_t skel_h, h1, h2, hi;
	long long sid, r0;
	void *p1, *q;
	char out[8];
	int fd, heap, i;
	long mapped;

	ASSERT_EQ(0, mock_status("cdsp", &s0));
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, qda_create_plain(fd));
	ASSERT_EQ(0, skel_open(fd, TEST_SKEL_URI, &skel_h, out, sizeof(out)));
	sid = fdinfo_sid(fd);
	ASSERT_LT(0, sid);

	/* GEM buffers, two of them mmapped, and a dma-heap import. */
	ASSERT_EQ(0, gem_create(fd, SZ_KB(64), &h1));
	p1 = gem_mmap(fd, h1, SZ_KB(64));
	ASSERT_NE(MAP_FAILED, p1);
	ASSERT_EQ(0, gem_create(fd, SZ_KB(16), &h2));
	ASSERT_EQ(0, gem_create(fd, c.len, &c.h));
	c.p = gem_mmap(fd, c.h, c.len);
	ASSERT_NE(MAP_FAILED, c.p);
	memset(c.p, 1, c.len);
	heap = heap_alloc(SZ_KB(64));
	ASSERT_LE(0, heap);
	q = map_shared(heap, SZ_KB(64));
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, prime_import(fd, heap, &hi));
	ASSERT_EQ(0, buffer_info(fd, h1, &b1));
	ASSERT_EQ(0, buffer_info(fd, hi, &bi));

	/* DSP mappings of a GEM buffer and of the import. */
	ml.fd = h1;
	ml.size = SZ_KB(64);
	ml.vaddrin = (uintptr_t)p1;
	ASSERT_EQ(0, qda_map(fd, &ml));
	ma.fd = hi;
	ma.size = SZ_KB(64);
	ma.vaddrin = (uintptr_t)q;
	ASSERT_EQ(0, qda_map(fd, &ma));
	mapped = iommu_mapped("cdsp", sid);
	EXPECT_LE((long)((SZ_KB(64) * 2 + SZ_KB(16) + c.len) / PG), mapped);

	/* A call the DSP holds while it restarts. */
	ASSERT_EQ(0, mock_control("delay cdsp 1500"));
	r0 = s0.received;
	ASSERT_EQ(0, mock_status("cdsp", &s0));
	r0 = s0.received;
	c.fd = fd;
	c.skel = skel_h;
	c.ret = 1;
	ASSERT_EQ(0, pthread_create(&c.tid, NULL, inflight_fn, &c));
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, mock_status("cdsp", &s1));
		if (s1.received > r0)
			break;
		sleep_ms(10);
	}
	ASSERT_LT(r0, s1.received);
	ASSERT_EQ(0, mock_control("restart cdsp"));
	ASSERT_EQ(0, mock_control("clear cdsp"));
	pthread_join(c.tid, NULL);
	EXPECT_TRUE(c.ret == -EPIPE || c.ret == -ENODEV) TH_LOG("call: %d", c.ret);
	ASSERT_EQ(0, wait_cdsp_node(1, 3000));

	/*
	 * The new channel holds the same CB devices: the buffers still alive
	 * stay mapped and reachable through their CB.
	 */
	EXPECT_LT(0, iommu_mapped("cdsp", sid));
	EXPECT_LE(0, iommu_mapped_all("cdsp", CDSP_CBS));
	EXPECT_EQ(0, dsp_resolve("cdsp", b1.dsp));
	EXPECT_EQ(0, dsp_resolve("cdsp", bi.dsp));

	/* Close everything: nothing stays mapped on any cdsp CB. */
	munmap(p1, SZ_KB(64));
	munmap(c.p, c.len);
	EXPECT_EQ(0, close(fd));
	munmap(q, SZ_KB(64));
	close(heap);
	EXPECT_EQ(0, iommu_wait_unmapped("cdsp", CDSP_CBS, 3000));
	EXPECT_EQ(-EFAULT, dsp_resolve("cdsp", b1.dsp));
	EXPECT_EQ(-EFAULT, dsp_resolve("cdsp", bi.dsp));

	/* A fresh session works as before, through the same CBs. */
	ASSERT_EQ(0, mock_status("cdsp", &s0));
	fd = open_attached(&skel_h);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, SZ_KB(64), &h1));
	p1 = gem_mmap(fd, h1, SZ_KB(64));
	ASSERT_NE(MAP_FAILED, p1);
	memset(p1, 0, SZ_KB(64));
	((uint32_t *)p1)[100] = 41;
	((uint32_t *)p1)[16000] = 1;
	EXPECT_EQ(0, skel_sum(fd, skel_h, ga(h1, p1, SZ_KB(64)), &c.sum));
	EXPECT_EQ(42u, c.sum);
	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_echo(fd, skel_h, "back", 5, out, 5));
	EXPECT_STREQ("back", out);
	ASSERT_EQ(0, mock_status("cdsp", &s1));
	EXPECT_LT(s0.translations, s1.translations);
	EXPECT_EQ(s0.faults, s1.faults);
	EXPECT_EQ(s0.violations, s1.violations);
	munmap(p1, SZ_KB(64));
	close(fd);
	EXPECT_EQ(0, iommu_wait_unmapped("cdsp", CDSP_CBS, 3000));
}

/* ================= allocation failures (fail-nth) ================= */

/* The knobs' saved values, restored by the parent (struct knob_state). */
FIXTURE(failnth) {
	struct knob_state ks;
};

#define MAX_ALIVE	256

/* What a case makes under fail-nth. */
struct attempt {
	int fd;
	size_t size;
	/* A dma-buf to PRIME-import, or -1 for GEM_CREATE. */
	int dmabuf;
};

static int attempt_once(const struct attempt *a, uint32_t *h)
{
	if (a->dmabuf >= 0)
		return prime_import(a->fd, a->dmabuf, h);
	return gem_create(a->fd, a->size, h);
}

/*
 * The call of @a with the n-th fault point failing, n = 1, 2, ..., until a
 * call passes every fault point; the GEM buffers made (some calls survive
 * an injected failure: a fallback, or bookkeeping of the debug kernel that
 * may fail) go to @alive, and so does the last import.  Every failure must
 * be a clean ENOMEM; *@nfailed counts them.  Returns the number of calls.
 */
static int until_success(struct __test_metadata *_metadata,
			 const struct attempt *a, uint32_t *alive, int *nalive,
			 int *nfailed)
{
	int nth, n, i, ret, left, bad = 0;
	const char *verbose = getenv("QDA_FAULT_VERBOSE");
	uint32_t h;

	nth = open(FAIL_NTH, O_RDWR);
	if (nth < 0)
		return -1;
	for (n = 1; n < 2000; n++) {
		/* Stack dumps are rate-limited to 10 in 5 s: pace them. */
		if (verbose)
			sleep_ms(550);
		ASSERT_EQ(0, fail_nth_set(nth, n));
		ret = attempt_once(a, &h);
		left = fail_nth_get(nth);
		fail_nth_set(nth, 0);
		if (ret) {
			(*nfailed)++;
			if (ret != -ENOMEM && bad++ < 10)
				TH_LOG("fault point %d: %d (%s), not ENOMEM",
				       n, ret, strerror(-ret));
			EXPECT_EQ(-ENOMEM, ret);
			EXPECT_EQ(0, left);
			continue;
		}
		/*
		 * An import that survived drops again, or the next attempt
		 * would find it imported and reach no fault point.
		 */
		if (!left && a->dmabuf >= 0) {
			EXPECT_EQ(0, gem_close(a->fd, h));
			continue;
		}
		for (i = 0; i < *nalive && alive[i] != h; i++)
			;
		if (i == *nalive && *nalive < MAX_ALIVE)
			alive[(*nalive)++] = h;
		if (left)
			break;
	}
	close(nth);
	EXPECT_GT(2000, n);
	return n;
}

FIXTURE_VARIANT(failnth) {
	/* Size of each buffer made under fail-nth. */
	size_t size;
	/* PRIME-import one system-heap dma-buf of that size instead. */
	int import;
	/* How many of knobs[] to set. */
	size_t nknobs;
};

/*
 * The first calls also bind the session (no memory op before); 64 KiB
 * IOVAs come from iommu-dma's per-CPU IOVA caches.
 */
FIXTURE_VARIANT_ADD(failnth, gem_64k_page_alloc) {
	.size = SZ_KB(64),
	.nknobs = KNOBS_PAGE_ALLOC,
};

/* Slab allocations fail too (the driver's, the DRM core's, iommu-dma's). */
FIXTURE_VARIANT_ADD(failnth, gem_64k_page_alloc_and_slab) {
	.size = SZ_KB(64),
	.nknobs = NKNOBS,
};

/* Too large for the IOVA caches: every IOVA comes from the IOVA tree. */
FIXTURE_VARIANT_ADD(failnth, gem_256k_page_alloc_and_slab) {
	.size = SZ_KB(256),
	.nknobs = NKNOBS,
};

/*
 * PRIME import: the driver attaches the dma-buf to the CB device and maps
 * it (iommu_dma_map_sg()); a failure must leave no attachment or mapping.
 */
FIXTURE_VARIANT_ADD(failnth, import_256k_page_alloc_and_slab) {
	.size = SZ_KB(256),
	.import = 1,
	.nknobs = NKNOBS,
};

FIXTURE_SETUP(failnth)
{
	if (!behind_iommu())
		SKIP(return, "the CBs are not behind an IOMMU on this platform");
	if (access(FAIL_NTH, R_OK | W_OK) || access(FAIL_PAGE_ALLOC, F_OK))
		SKIP(return, "no fail-nth or fail_page_alloc in this kernel");
	ASSERT_EQ(0, wait_cdsp_node(1, 3000));
}

FIXTURE_TEARDOWN_PARENT(failnth)
{
	/* Whatever happened to the case, fault injection is as it was. */
	knobs_restore(&self->ks);
}

TEST_F_TIMEOUT(failnth, fails_cleanly, 300)
{
	struct attempt a = { .size = variant->size, .dmabuf = -1 };
	const long pages = variant->size / PG;
	int nalive = 0, nfailed = 0, calls, i;
	uint32_t alive[MAX_ALIVE], h;
	struct mock_st s0, s1;
	long long sid;

	ASSERT_EQ(0, mock_status("cdsp", &s0));
	/* Every CB idle: this process is the only user. */
	ASSERT_EQ(0, iommu_wait_unmapped("cdsp", CDSP_CBS, 2000));
	a.fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, a.fd);
	if (variant->import) {
		a.dmabuf = heap_alloc(variant->size);
		ASSERT_LE(0, a.dmabuf);
	}

	ASSERT_EQ(0, knobs_set(&self->ks, variant->nknobs));
	calls = until_success(_metadata, &a, alive, &nalive, &nfailed);
	knobs_restore(&self->ks);
	TH_LOG("%d calls: %d failed, %d buffers made", calls, nfailed,
	       nalive);
	/* Failures were injected, and some made the call fail. */
	ASSERT_LT(1, calls);
	ASSERT_LT(0, nfailed);
	ASSERT_LE(1, nalive);

	/* Exactly the live buffers are mapped, nothing from failed calls. */
	sid = fdinfo_sid(a.fd);
	ASSERT_LT(0, sid);
	EXPECT_EQ(pages * nalive, iommu_mapped("cdsp", sid));
	EXPECT_EQ(pages * nalive, iommu_mapped_all("cdsp", CDSP_CBS));
	for (i = 0; i < nalive; i++) {
		struct buf_info b;

		ASSERT_EQ(0, buffer_info(a.fd, alive[i], &b));
		EXPECT_EQ(1u, b.segments);
		EXPECT_EQ(0, dsp_resolve("cdsp", b.dsp));
		EXPECT_EQ(0, dsp_resolve("cdsp", b.dsp + variant->size - 1));
	}

	/* The device works normally afterwards. */
	if (variant->import) {
		/* A second import of the same dma-buf is the same object. */
		ASSERT_EQ(0, prime_import(a.fd, a.dmabuf, &h));
		EXPECT_EQ(alive[0], h);
		EXPECT_EQ(pages, iommu_mapped("cdsp", sid));
		EXPECT_EQ(0, gem_close(a.fd, h));
		EXPECT_EQ(0, iommu_mapped("cdsp", sid));
		close(a.dmabuf);
	} else {
		ASSERT_EQ(0, gem_create(a.fd, variant->size, &h));
		EXPECT_EQ(pages * (nalive + 1), iommu_mapped("cdsp", sid));
	}
	close(a.fd);
	EXPECT_EQ(0, iommu_wait_unmapped("cdsp", CDSP_CBS, 3000));
	ASSERT_EQ(0, mock_status("cdsp", &s1));
	EXPECT_EQ(s0.faults, s1.faults);
}

TEST_HARNESS_MAIN
