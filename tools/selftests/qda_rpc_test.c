// SPDX-License-Identifier: GPL-2.0
/*
 * QDA kselftests for the FastRPC ioctls: INIT_ATTACH, INIT_CREATE, INVOKE,
 * MAP, MUNMAP and GET_PARAM, success and error paths, against the mock DSP
 * (tools/mock-dsp): its test skel, capability table, process/mapping/handle
 * books and fault controls.
 *
 * Every test runs in its own process (the harness forks), so it starts with
 * no session of its own and its DSP process is released when it ends. Tests
 * that inject faults or restart the DSP belong to the "fault" fixture, whose
 * teardown (in the parent) clears the faults and restarts cdsp so the next
 * test finds a clean DSP with its channel up.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <linux/dma-heap.h>

#include "qda_common.h"
#include "qda_gem.h"
#include "qda_rpc.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define SZ_KB(n)	((n) * 1024UL)
#define SZ_MB(n)	((n) * 1024UL * 1024UL)

/* Kernel calls (attach, create, map, ...) wait at most this long. */
#define KERNEL_TIMEOUT_MS	5000

/* ---- time and signals ---- */

static int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	__atomic_fetch_add(&alarms, 1, __ATOMIC_RELAXED);
}

/* Sends SIGALRM in @ms; the handler is installed without SA_RESTART. */
static int alarm_ms(long ms)
{
	struct itimerval it = {
		.it_value = { ms / 1000, (ms % 1000) * 1000 },
	};
	struct sigaction sa = { .sa_handler = on_alarm };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL))
		return -errno;
	return setitimer(ITIMER_REAL, &it, NULL) ? -errno : 0;
}

static void alarm_off(void)
{
	struct itimerval it = { 0 };

	setitimer(ITIMER_REAL, &it, NULL);
}

/* An address with nothing mapped at it. */
static void *unmapped_addr(void)
{
	void *p = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, PG);
	return p;
}

/* ---- mock DSP status and fdinfo counters ---- */

static long long cdsp_count(const char *what)
{
	struct mock_st s;

	if (mock_status("cdsp", &s))
		return -1;
	if (!strcmp(what, "processes"))
		return s.processes;
	if (!strcmp(what, "mappings"))
		return s.mappings;
	if (!strcmp(what, "handles"))
		return s.handles;
	if (!strcmp(what, "violations"))
		return s.violations;
	if (!strcmp(what, "received"))
		return s.received;
	return -1;
}

/* The channel's dropped-response counters, from fdinfo. */
struct drops {
	unsigned long long unknown, stale, duplicate, shrt, pd_exit;
};

static int get_drops(int fd, struct drops *d)
{
	char val[256];
	int ret;

	memset(d, 0, sizeof(*d));
	ret = fdinfo_get(0, fd, "qda-dropped-responses", val, sizeof(val));
	if (ret)
		return ret;
	if (sscanf(val, "unknown=%llu stale=%llu duplicate=%llu short=%llu pd-exit=%llu",
		   &d->unknown, &d->stale, &d->duplicate, &d->shrt,
		   &d->pd_exit) != 5)
		return -EINVAL;
	return 0;
}

/* ================= attach and create ================= */

TEST(invoke_before_init_enotconn)
{
	uint32_t ms = 1;
	struct drm_qda_invoke_args a = ia(&ms, sizeof(ms));
	struct drm_qda_map m = { .request = 1 };
	uint32_t h;
	void *p;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	/* No session at all yet, then a session but no DSP process. */
	EXPECT_EQ(-ENOTCONN, invoke(fd, 0x300, SC(SKEL_SLEEP, 1, 0), &a));
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	EXPECT_EQ(-ENOTCONN, invoke(fd, 0x300, SC(SKEL_SLEEP, 1, 0), &a));
	EXPECT_EQ(-ENOTCONN, invoke(fd, 0, SC(0, 0, 0), NULL));
	p = gem_mmap(fd, h, PG);
	ASSERT_NE(MAP_FAILED, p);
	m.fd = h;
	m.vaddrin = (uintptr_t)p;
	EXPECT_EQ(-ENOTCONN, qda_map(fd, &m));
	munmap(p, PG);
	close(fd);
}

TEST(attach_twice_ealready_close_releases)
{
	long long procs0 = cdsp_count("processes");
	int fd;

	ASSERT_LE(0, procs0);
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, qda_attach(fd));
	EXPECT_EQ(procs0 + 1, cdsp_count("processes"));
	EXPECT_EQ(-EALREADY, qda_attach(fd));
	EXPECT_EQ(-EALREADY, qda_attach(fd));
	EXPECT_EQ(procs0 + 1, cdsp_count("processes"));
	close(fd);
	EXPECT_EQ(procs0, cdsp_count("processes"));
}

TEST(create_no_shell_then_ealready_close_releases)
{
	long long procs0 = cdsp_count("processes");
	uint32_t skel_h;
	char dlerr[64];
	int fd;

	ASSERT_LE(0, procs0);
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, qda_create_plain(fd));
	EXPECT_EQ(procs0 + 1, cdsp_count("processes"));
	EXPECT_EQ(-EALREADY, qda_create_plain(fd));
	EXPECT_EQ(-EALREADY, qda_attach(fd));
	EXPECT_EQ(procs0 + 1, cdsp_count("processes"));
	/* The user PD runs the skel. */
	ASSERT_EQ(0, skel_open(fd, TEST_SKEL_URI, &skel_h, dlerr,
			       sizeof(dlerr)));
	EXPECT_EQ(0, skel_sleep(fd, skel_h, 0));
	close(fd);
	EXPECT_EQ(procs0, cdsp_count("processes"));
}

TEST(create_bad_args)
{
	long long procs0 = cdsp_count("processes");
	static char shell[SZ_KB(16)];
	uint32_t h;
	void *p;
	int fd;

	ASSERT_LE(0, procs0);
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, 2 * PG, &h));

	EXPECT_EQ(-EFBIG, qda_create(fd, SZ_MB(2) + 1, -1, shell, 0));
	EXPECT_EQ(-EFBIG, qda_create(fd, 0xffffffffu, (int32_t)h, NULL, 0));
	/* A length but neither a GEM handle nor a pointer. */
	EXPECT_EQ(-EINVAL, qda_create(fd, 100, -1, NULL, 0));
	EXPECT_EQ(-EINVAL, qda_create(fd, 100, 0, NULL, 0));
	/* Not a GEM handle of this file. */
	EXPECT_EQ(-ENOENT, qda_create(fd, 100, (int32_t)h + 100, NULL, 0));
	/* Longer than the GEM buffer holding it. */
	EXPECT_EQ(-EINVAL, qda_create(fd, 2 * PG + 1, (int32_t)h, NULL, 0));
	/* A user pointer to nothing. */
	p = unmapped_addr();
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EFAULT, qda_create(fd, 100, -1, p, 0));
	EXPECT_EQ(procs0, cdsp_count("processes"));

	/* None of those left a half-made process behind. */
	EXPECT_EQ(0, qda_create_plain(fd));
	EXPECT_EQ(procs0 + 1, cdsp_count("processes"));
	close(fd);
	EXPECT_EQ(procs0, cdsp_count("processes"));
}

/* Creates a PD on a fresh file of this process; checks the skel runs. */
static void create_and_run(struct __test_metadata *_metadata, uint32_t filelen,
			   int gem, const void *file, uint32_t attrs,
			   long long procs0)
{
	uint32_t h = 0, skel_h, ms = 0;
	char dlerr[64];
	void *p = NULL;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	if (gem) {
		ASSERT_EQ(0, gem_create(fd, SZ_KB(64), &h));
		p = gem_mmap(fd, h, SZ_KB(64));
		ASSERT_NE(MAP_FAILED, p);
		memcpy(p, file, filelen);
		EXPECT_EQ(0, qda_create(fd, filelen, (int32_t)h, NULL, attrs));
	} else {
		EXPECT_EQ(0, qda_create(fd, filelen, -1, file, attrs));
	}
	EXPECT_EQ(procs0 + 1, cdsp_count("processes"));
	ASSERT_EQ(0, skel_open(fd, TEST_SKEL_URI, &skel_h, dlerr,
			       sizeof(dlerr)));
	EXPECT_EQ(0, skel(fd, skel_h, SKEL_SLEEP, ia(&ms, sizeof(ms)), NULL));
	if (p)
		munmap(p, SZ_KB(64));
	close(fd);
	/* The file and the buffer were the session's last users. */
	EXPECT_EQ(procs0, cdsp_count("processes"));
}

TEST(create_with_shell)
{
	long long procs0 = cdsp_count("processes");
	static uint8_t elf[SZ_KB(40)];
	size_t i;

	ASSERT_LE(0, procs0);
	elf[0] = 0x7f;
	memcpy(elf + 1, "ELF", 3);
	for (i = 4; i < sizeof(elf); i++)
		elf[i] = (uint8_t)(i * 7);
	/* From a GEM buffer (filefd = handle) and from a user pointer. */
	create_and_run(_metadata, 5000, 1, elf, 0, procs0);
	create_and_run(_metadata, sizeof(elf), 0, elf, 0, procs0);
	/* Unaligned user pointer, odd length. */
	create_and_run(_metadata, 1234, 0, elf + 3, 0, procs0);
	/* Attributes select the create-with-attributes method. */
	create_and_run(_metadata, 0, 0, NULL,
		       QDA_PROC_MODE_UNSIGNED | QDA_PROC_MODE_DEBUG, procs0);
	create_and_run(_metadata, 4096, 1, elf, QDA_PROC_MODE_UNSIGNED,
		       procs0);
}

TEST(files_of_one_process_share_the_dsp_process)
{
	long long procs0 = cdsp_count("processes");
	uint32_t skel_h;
	char in[] = "shared", out[sizeof(in)];
	int fd, fd2, ret;

	ASSERT_LE(0, procs0);
	fd = open_attached(&skel_h);
	ASSERT_LE(0, fd);
	fd2 = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EALREADY, qda_attach(fd2));
	/*
	 * A session has one DSP process: creating a user PD over the attached
	 * root PD is refused by the driver, which leaves the one process alone.
	 */
	ret = qda_create_plain(fd2);
	EXPECT_EQ(-EALREADY, ret) TH_LOG("create: %d", ret);
	EXPECT_EQ(procs0 + 1, cdsp_count("processes"));
	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_echo(fd2, skel_h, in, sizeof(in), out, sizeof(out)));
	EXPECT_STREQ(in, out);
	close(fd);
	/* fd2 still holds the session and its DSP process. */
	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_echo(fd2, skel_h, in, sizeof(in), out, sizeof(out)));
	EXPECT_STREQ(in, out);
	close(fd2);
}

/* ================= INVOKE with an attached process ================= */

FIXTURE(rpc) {
	int fd;
	uint32_t skel;
	struct mock_st st0;
};

FIXTURE_SETUP(rpc)
{
	self->fd = -1;
	ASSERT_EQ(0, mock_status("cdsp", &self->st0));
	self->fd = open_attached(&self->skel);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(rpc)
{
	struct mock_st st;

	alarm_off();
	if (self->fd >= 0)
		close(self->fd);
	/* Closing the last file released the process, its maps and handles. */
	ASSERT_EQ(0, mock_status("cdsp", &st));
	EXPECT_EQ(self->st0.processes, st.processes);
	EXPECT_EQ(self->st0.mappings, st.mappings);
	EXPECT_EQ(self->st0.handles, st.handles);
	/* And the mock saw nothing malformed on the wire. */
	EXPECT_EQ(self->st0.violations, st.violations);
}

TEST_F(rpc, init_handle_eperm)
{
	uint32_t cid = 0;
	struct drm_qda_invoke_args a = ia(&cid, sizeof(cid));

	EXPECT_EQ(-EPERM, invoke(self->fd, 1, SC(0, 1, 0), &a));
	EXPECT_EQ(-EPERM, invoke(self->fd, 1, SC(1, 1, 0), &a));
	EXPECT_EQ(-EPERM, invoke(self->fd, 1, SC(0, 0, 0), NULL));
}

TEST_F(rpc, skel_open_close_counts_handles)
{
	long long h0 = cdsp_count("handles");
	uint32_t h2 = 0, ms = 0;
	char dlerr[64];

	ASSERT_EQ(0, skel_open(self->fd, TEST_SKEL_URI "&_dom=cdsp", &h2,
			       dlerr, sizeof(dlerr)));
	EXPECT_NE(self->skel, h2);
	EXPECT_GT(h2, 0x200u);
	EXPECT_EQ(h0 + 1, cdsp_count("handles"));
	EXPECT_EQ(0, skel_sleep(self->fd, h2, 0));
	EXPECT_EQ(0, skel_close(self->fd, h2));
	EXPECT_EQ(h0, cdsp_count("handles"));
	/* Gone: the DSP's own status comes back as the ioctl's value. */
	EXPECT_EQ(AEE_EINVHANDLE, skel_close(self->fd, h2));
	EXPECT_EQ(AEE_EINVHANDLE,
		  skel(self->fd, h2, SKEL_SLEEP, ia(&ms, sizeof(ms)), NULL));
	/* The first handle is still fine. */
	EXPECT_EQ(0, skel_sleep(self->fd, self->skel, 0));
}

TEST_F(rpc, skel_open_unknown_uri_dlerror)
{
	long long h0 = cdsp_count("handles");
	char dlerr[128];
	uint32_t h;

	memset(dlerr, 'x', sizeof(dlerr));
	EXPECT_EQ(AEE_ENOSUCH, skel_open(self->fd, "file:///libnope_skel.so?nope&_modver=1.0",
					 &h, dlerr, sizeof(dlerr)));
	dlerr[sizeof(dlerr) - 1] = 0;
	EXPECT_NE(NULL, strstr(dlerr, "cannot open shared object file"))
		TH_LOG("dlerror: %s", dlerr);
	EXPECT_EQ(h0, cdsp_count("handles"));
}

TEST_F(rpc, unknown_method_and_handle_dsp_status)
{
	uint32_t ms = 0;

	EXPECT_EQ(AEE_EUNSUPPORTED, skel(self->fd, self->skel, 9,
					 ia(&ms, sizeof(ms)), NULL));
	/* Wrong scalars for sleep. */
	EXPECT_EQ(AEE_EBADPARM, invoke(self->fd, self->skel,
				       SC(SKEL_SLEEP, 0, 0), NULL));
	EXPECT_EQ(AEE_EINVHANDLE, skel(self->fd, 0x1234, SKEL_SLEEP,
				       ia(&ms, sizeof(ms)), NULL));
}

TEST_F(rpc, fail_retval_becomes_return_value)
{
	/* Real errnos pass; the rest of the errno range reads as EIO. */
	static const int32_t errs[][2] = {
		{ -EINVAL, -EINVAL }, { -ENOMEM, -ENOMEM }, { -1, -1 },
		{ -133, -133 }, { -134, -EIO }, { -4095, -EIO },
		/* Kernel-internal codes: -ERESTARTSYS .. -ERECALLCONFLICT. */
		{ -512, -EIO }, { -513, -EIO }, { -514, -EIO }, { -516, -EIO },
		{ -517, -EIO }, { -524, -EIO }, { -530, -EIO },
	};
	struct drm_qda_invoke_args a;
	int32_t code;
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(errs); i++) {
		code = errs[i][0];
		errno = 0;
		ret = skel(self->fd, self->skel, SKEL_FAIL,
			   ia(&code, sizeof(code)), NULL);
		EXPECT_EQ(errs[i][1], ret) TH_LOG("code %d", errs[i][0]);
	}
	/* Exactly -1 with errno 22. */
	code = -22;
	errno = 0;
	a = ia(&code, sizeof(code));
	EXPECT_EQ(-1, invoke_raw(self->fd, self->skel, SC(SKEL_FAIL, 1, 0), &a));
	EXPECT_EQ(22, errno);
	/* A DSP status: the raw (negative) value, errno untouched. */
	code = AEE_EBADSTATE;
	errno = EXDEV;
	EXPECT_EQ(AEE_EBADSTATE,
		  invoke_raw(self->fd, self->skel, SC(SKEL_FAIL, 1, 0), &a));
	EXPECT_EQ(EXDEV, errno);
	code = INT32_MIN;
	EXPECT_EQ(INT32_MIN,
		  invoke_raw(self->fd, self->skel, SC(SKEL_FAIL, 1, 0), &a));
	/* A positive value comes back as is. */
	code = 7;
	EXPECT_EQ(7, invoke_raw(self->fd, self->skel, SC(SKEL_FAIL, 1, 0), &a));
	code = 0;
	EXPECT_EQ(0, invoke_raw(self->fd, self->skel, SC(SKEL_FAIL, 1, 0), &a));
	/* Still working. */
	EXPECT_EQ(0, skel_sleep(self->fd, self->skel, 0));
}

TEST_F(rpc, echo_inline_sizes_and_alignments)
{
	static const size_t lens[] = { 1, 3, 127, 128, 129, 4095, 4096, 4097,
				       65536 + 5, SZ_MB(1) };
	static const size_t offs[] = { 0, 1, 7, 4095 };
	uint8_t *in, *out;
	size_t i, j, k;

	in = malloc(SZ_MB(1) + 8192);
	out = malloc(SZ_MB(1) + 8192);
	ASSERT_NE(NULL, in);
	ASSERT_NE(NULL, out);
	for (k = 0; k < SZ_MB(1) + 8192; k++)
		in[k] = (uint8_t)(k * 31 + 5);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		for (j = 0; j < ARRAY_SIZE(offs); j++) {
			uint8_t *src = in + offs[j];
			uint8_t *dst = out + offs[ARRAY_SIZE(offs) - 1 - j];

			memset(out, 0xee, SZ_MB(1) + 8192);
			ASSERT_EQ(0, skel_echo(self->fd, self->skel, src,
					       lens[i], dst, lens[i]));
			EXPECT_EQ(0, memcmp(src, dst, lens[i]))
				TH_LOG("len %zu off %zu", lens[i], offs[j]);
			/* Nothing written around the output. */
			EXPECT_EQ(0xee, dst > out ? dst[-1] : 0xee);
			EXPECT_EQ(0xee, dst[lens[i]]);
		}
	}
	/* Output shorter and longer than the input. */
	memset(out, 0xee, 256);
	EXPECT_EQ(0, skel_echo(self->fd, self->skel, in, 100, out, 40));
	EXPECT_EQ(0, memcmp(in, out, 40));
	EXPECT_EQ(0xee, out[40]);
	memset(out, 0xee, 256);
	EXPECT_EQ(0, skel_echo(self->fd, self->skel, in, 40, out, 100));
	EXPECT_EQ(0, memcmp(in, out, 40));
	/* The rest of the output: payload bytes, zero. */
	for (k = 40; k < 100 && !out[k]; k++)
		;
	EXPECT_EQ(100u, k);
	EXPECT_EQ(0xee, out[100]);
	free(in);
	free(out);
}

TEST_F(rpc, echo_overlapping_buffers)
{
	uint8_t buf[600], ref[600];
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	memcpy(ref, buf, sizeof(buf));

	/* In and out are the same memory. */
	EXPECT_EQ(0, skel_echo(self->fd, self->skel, buf, 300, buf, 300));
	EXPECT_EQ(0, memcmp(buf, ref, sizeof(buf)));

	/* Out starts inside in, unaligned: the input is read before. */
	EXPECT_EQ(0, skel_echo(self->fd, self->skel, buf + 1, 400,
			       buf + 3, 400));
	EXPECT_EQ(0, memcmp(buf + 3, ref + 1, 400));
	EXPECT_EQ(0, memcmp(buf, ref, 3));
	EXPECT_EQ(0, memcmp(buf + 403, ref + 403, sizeof(buf) - 403));

	/* In starts inside out. */
	memcpy(buf, ref, sizeof(buf));
	EXPECT_EQ(0, skel_echo(self->fd, self->skel, buf + 101, 300,
			       buf + 5, 300));
	EXPECT_EQ(0, memcmp(buf + 5, ref + 101, 300));
}

TEST_F(rpc, zero_length_buffers)
{
	uint8_t out[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint32_t byte = 0x5a, crc = 1;
	struct drm_qda_invoke_args o = ia(NULL, 0);
	uint64_t sum;

	EXPECT_EQ(0, skel_echo(self->fd, self->skel, NULL, 0, NULL, 0));
	EXPECT_EQ(0, skel_echo(self->fd, self->skel, "abc", 0, out, 0));
	EXPECT_EQ(0, skel_echo(self->fd, self->skel, NULL, 0, out, sizeof(out)));
	/*
	 * The DSP wrote nothing: the output holds what the payload held,
	 * which must be zeroes, never stale kernel memory.
	 */
	EXPECT_EQ(0, out[0]);
	EXPECT_EQ(0, out[7]);
	EXPECT_EQ(0, skel_crc(self->fd, self->skel, ia(NULL, 0), &crc));
	EXPECT_EQ(0u, crc);
	EXPECT_EQ(0, skel_sum(self->fd, self->skel, ia(NULL, 0), &sum));
	EXPECT_EQ(0ull, sum);
	EXPECT_EQ(0, skel(self->fd, self->skel, SKEL_FILL,
			  ia(&byte, sizeof(byte)), &o));
}

TEST_F(rpc, sum_checksum_fill_inline)
{
	static uint32_t v[1000];
	const char *digits = "123456789";
	uint32_t crc, byte = 0xa5;
	uint8_t buf[5000];
	struct drm_qda_invoke_args o = ia(buf + 1, 4097);
	struct drm_qda_invoke_args o4 = ia(&crc, sizeof(crc));
	uint64_t sum;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		v[i] = i;
	EXPECT_EQ(0, skel_sum(self->fd, self->skel, ia(v, sizeof(v)), &sum));
	EXPECT_EQ(499500ull, sum);
	/* Unaligned input. */
	EXPECT_EQ(0, skel_sum(self->fd, self->skel,
			      ia((uint8_t *)v + 4, sizeof(v) - 4), &sum));
	EXPECT_EQ(499500ull, sum);
	/* A sum needs an 8-byte output: the DSP says bad parameter. */
	EXPECT_EQ(AEE_EBADPARM, skel(self->fd, self->skel, SKEL_SUM,
				     ia(v, sizeof(v)), &o4));

	EXPECT_EQ(0, skel_crc(self->fd, self->skel, ia(digits, 9), &crc));
	EXPECT_EQ(0xcbf43926u, crc);

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(0, skel(self->fd, self->skel, SKEL_FILL,
			  ia(&byte, sizeof(byte)), &o));
	EXPECT_EQ(0, buf[0]);
	for (i = 1; i < 4098; i++)
		if (buf[i] != 0xa5)
			break;
	EXPECT_EQ(4098u, i);
	EXPECT_EQ(0, buf[4098]);
}

TEST_F(rpc, args_array_faults)
{
	uint32_t ms = 0;
	struct drm_qda_invoke_args *a;
	uint8_t *pages;

	/* NULL or unmapped array with arguments to read. */
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_SLEEP, 1, 0),
				  NULL));
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_SLEEP, 1, 0),
				  unmapped_addr()));
	/* An array running into an unmapped page. */
	pages = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, munmap(pages + PG, PG));
	a = (void *)(pages + PG - sizeof(*a));
	*a = ia(&ms, sizeof(ms));
	EXPECT_EQ(0, invoke(self->fd, self->skel, SC(SKEL_SLEEP, 1, 0), a));
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1),
				  a));
	munmap(pages, PG);
	/* The whole scalars range of buffers: 255 + 255 args to read. */
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(0, 255, 255),
				  unmapped_addr()));
	EXPECT_EQ(0, skel_sleep(self->fd, self->skel, 0));
}

TEST_F(rpc, inline_bad_pointers)
{
	uint8_t in[16] = "0123456789abcde", out[16];
	struct drm_qda_invoke_args a[2];
	void *ro, *hole = unmapped_addr();

	ASSERT_NE(NULL, hole);
	/* NULL with a length, as input or output. */
	a[0] = ia(NULL, 8);
	a[1] = ia(out, sizeof(out));
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	a[0] = ia(in, sizeof(in));
	a[1] = ia(NULL, 8);
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	/* Unmapped input. */
	a[0] = ia(hole, 8);
	a[1] = ia(out, sizeof(out));
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	/* Unmapped and read-only outputs: the copy back fails. */
	a[0] = ia(in, sizeof(in));
	a[1] = ia(hole, 8);
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	ro = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	a[1] = ia(ro, 8);
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	munmap(ro, PG);
	/* And it still works. */
	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_echo(self->fd, self->skel, in, sizeof(in), out,
			       sizeof(out)));
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
}

TEST_F(rpc, huge_inline_length_fails_cleanly)
{
	static const uint64_t lens[] = { 1ull << 40, 1ull << 63, ~0ull,
					 SZ_MB(512), SZ_MB(64) };
	uint8_t buf[64];
	struct drm_qda_invoke_args a[2];
	long long t0 = now_ms();
	size_t i;
	int ret;

	QDA_SKIP_WITHOUT_CLOCK(return);
	/*
	 * Refused before anything is allocated or copied (the buffer is only
	 * 64 bytes): E2BIG over the 64 MiB payload limit, EINVAL where the
	 * payload size itself overflows.
	 */
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		a[0] = ia(buf, lens[i]);
		a[1] = ia(buf, 8);
		ret = invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a);
		EXPECT_TRUE(ret == -E2BIG ||
			    (ret == -EINVAL && lens[i] == ~0ull))
			TH_LOG("in len 0x%llx: %d", (unsigned long long)lens[i], ret);
		a[0] = ia(buf, 8);
		a[1] = ia(buf, lens[i]);
		ret = invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a);
		EXPECT_TRUE(ret == -E2BIG ||
			    (ret == -EINVAL && lens[i] == ~0ull))
			TH_LOG("out len 0x%llx: %d", (unsigned long long)lens[i], ret);
	}
	EXPECT_GT(2000, now_ms() - t0);
	EXPECT_EQ(0, skel_sleep(self->fd, self->skel, 0));
}

TEST_F(rpc, handle_args_need_a_buffer)
{
	uint8_t in[8] = { 0 }, out[8];
	struct drm_qda_invoke_args a[3];
	uint32_t h;
	void *p;

	a[0] = ia(in, sizeof(in));
	a[1] = ia(out, sizeof(out));
	a[2] = ia(in, sizeof(in));
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel,
				  SC_H(SKEL_ECHO, 1, 1, 1, 0), a));
	a[2].fd = 0;
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel,
				  SC_H(SKEL_ECHO, 1, 1, 0, 1), a));
	/* A handle that names a GEM buffer reaches the DSP, which refuses. */
	ASSERT_EQ(0, gem_create(self->fd, PG, &h));
	p = gem_mmap(self->fd, h, PG);
	ASSERT_NE(MAP_FAILED, p);
	a[2] = ga(h, p, PG);
	EXPECT_EQ(AEE_EBADPARM, invoke(self->fd, self->skel,
				       SC_H(SKEL_ECHO, 1, 1, 1, 0), a));
	a[2] = ga(h + 50, p, PG);
	EXPECT_EQ(-ENOENT, invoke(self->fd, self->skel,
				  SC_H(SKEL_ECHO, 1, 1, 1, 0), a));
	munmap(p, PG);
}

/* ================= INVOKE with GEM buffers ================= */

TEST_F(rpc, gem_arg_bad_handle_or_pointer)
{
	uint8_t in[64] = "gem", *inl;
	struct drm_qda_invoke_args a[2];
	uint32_t h, h2;
	void *p, *p2;

	ASSERT_EQ(0, gem_create(self->fd, 2 * PG, &h));
	ASSERT_EQ(0, gem_create(self->fd, 2 * PG, &h2));
	p = gem_mmap(self->fd, h, 2 * PG);
	p2 = gem_mmap(self->fd, h2, 2 * PG);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(MAP_FAILED, p2);
	inl = malloc(PG);
	ASSERT_NE(NULL, inl);

	a[0] = ia(in, sizeof(in));
	/* Not a handle of this file. */
	a[1] = ga(h2 + 100, p, 64);
	EXPECT_EQ(-ENOENT, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	/* Address not mapped at all. */
	a[1] = ga(h, unmapped_addr(), 64);
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	a[1] = ga(h, NULL, 64);
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	/* Mapped, but plain memory or another object. */
	a[1] = ga(h, inl, 64);
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	a[1] = ga(h, in, 64);
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	a[1] = ga(h, p2, 64);
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	/* Same checks for an input. */
	a[0] = ga(h, p2, 64);
	a[1] = ia(in, sizeof(in));
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	a[0] = ga(h, unmapped_addr(), 64);
	EXPECT_EQ(-EFAULT, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	/* The same address works with the right handle. */
	a[0] = ia(in, sizeof(in));
	a[1] = ga(h2, p2, 64);
	EXPECT_EQ(0, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	EXPECT_STREQ("gem", (char *)p2);

	free(inl);
	munmap(p, 2 * PG);
	munmap(p2, 2 * PG);
}

TEST_F(rpc, gem_arg_past_object_or_mapping_einval)
{
	uint8_t in[64] = "x";
	struct drm_qda_invoke_args a[2];
	uint8_t *p, *part;
	uint32_t h;

	ASSERT_EQ(0, gem_create(self->fd, 3 * PG, &h));
	p = gem_mmap(self->fd, h, 3 * PG);
	ASSERT_NE(MAP_FAILED, p);
	/* A second mapping of the first page only. */
	part = gem_mmap(self->fd, h, PG);
	ASSERT_NE(MAP_FAILED, part);

	a[0] = ia(in, sizeof(in));
	a[1] = ga(h, p, 3 * PG + 1);
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	a[1] = ga(h, p + 3 * PG - 10, 11);
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	a[1] = ga(h, p + 5, ~0ull);
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	a[1] = ga(h, p + 5, 1ull << 40);
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	/* Inside the object but past the mapping used. */
	a[1] = ga(h, part + PG - 10, 11);
	EXPECT_EQ(-EINVAL, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	/* Up to the end exactly is fine. */
	a[1] = ga(h, part + PG - 10, 10);
	EXPECT_EQ(0, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	EXPECT_EQ('x', p[PG - 10]);
	a[1] = ga(h, p + 3 * PG - 10, 10);
	EXPECT_EQ(0, invoke(self->fd, self->skel, SC(SKEL_ECHO, 1, 1), a));
	EXPECT_EQ('x', p[3 * PG - 10]);

	munmap(part, PG);
	munmap(p, 3 * PG);
}

TEST_F(rpc, gem_echo_sum_checksum)
{
	size_t len = SZ_KB(64), i;
	const char *digits = "123456789";
	uint8_t *p, src[6000];
	uint32_t h, crc, *v, byte = 0x3c;
	uint64_t sum;
	struct drm_qda_invoke_args o;

	ASSERT_EQ(0, gem_create(self->fd, len, &h));
	p = gem_mmap(self->fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, len);

	/* Echo into a GEM output, at offsets inside the mapping. */
	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 17 + 3);
	o = ga(h, p + 100, 50);
	EXPECT_EQ(0, skel(self->fd, self->skel, SKEL_ECHO, ia(src, 50), &o));
	EXPECT_EQ(0, memcmp(p + 100, src, 50));
	EXPECT_EQ(0, p[99]);
	EXPECT_EQ(0, p[150]);
	o = ga(h, p + 5000, sizeof(src));
	EXPECT_EQ(0, skel(self->fd, self->skel, SKEL_ECHO,
			  ia(src, sizeof(src)), &o));
	EXPECT_EQ(0, memcmp(p + 5000, src, sizeof(src)));
	EXPECT_EQ(0, p[4999]);
	EXPECT_EQ(0, p[5000 + sizeof(src)]);

	/* Sum over 0..999 in a GEM input, at an offset. */
	v = (uint32_t *)(p + 3 * PG + 12);
	for (i = 0; i < 1000; i++)
		v[i] = i;
	EXPECT_EQ(0, skel_sum(self->fd, self->skel, ga(h, v, 4000), &sum));
	EXPECT_EQ(499500ull, sum);

	/* Checksum over GEM data crossing a page boundary. */
	memcpy(p + 8 * PG - 4, digits, 9);
	EXPECT_EQ(0, skel_crc(self->fd, self->skel,
			      ga(h, p + 8 * PG - 4, 9), &crc));
	EXPECT_EQ(0xcbf43926u, crc);
	/* And over the whole buffer. */
	EXPECT_EQ(0, skel_crc(self->fd, self->skel, ga(h, p, len), &crc));
	EXPECT_EQ(crc32_zlib(p, len), crc);

	/* GEM in and out in the same object. */
	o = ga(h, p + 10 * PG + 7, 6000);
	EXPECT_EQ(0, skel(self->fd, self->skel, SKEL_ECHO, ga(h, p + 5000, 6000),
			  &o));
	EXPECT_EQ(0, memcmp(p + 10 * PG + 7, src, 6000));

	/* GEM output filled by the DSP. */
	o = ga(h, p + 13 * PG + 1, PG);
	EXPECT_EQ(0, skel(self->fd, self->skel, SKEL_FILL,
			  ia(&byte, sizeof(byte)), &o));
	EXPECT_EQ(0, p[13 * PG]);
	EXPECT_EQ(0x3c, p[13 * PG + 1]);
	EXPECT_EQ(0x3c, p[14 * PG]);
	EXPECT_EQ(0, p[14 * PG + 1]);
	munmap(p, len);
}

TEST_F(rpc, gem_handle_of_other_file_enoent)
{
	uint32_t h, crc;
	uint8_t *p;
	int fd2;

	fd2 = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, gem_create(self->fd, 2 * PG, &h));
	p = gem_mmap(self->fd, h, 2 * PG);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(p + PG + 1, "123456789", 9);
	EXPECT_EQ(0, skel_crc(self->fd, self->skel, ga(h, p + PG + 1, 9), &crc));
	EXPECT_EQ(0xcbf43926u, crc);
	/* Same process and DSP handle, but fd2 has no such GEM handle. */
	EXPECT_EQ(-ENOENT, skel_crc(fd2, self->skel, ga(h, p + PG + 1, 9), &crc));
	munmap(p, 2 * PG);
	close(fd2);
}

TEST_F(rpc, prime_export_mapping_arg)
{
	size_t len = SZ_KB(32), i;
	uint32_t h, *v, crc;
	uint8_t *p, *d;
	uint64_t sum;
	int buf;
	struct drm_qda_invoke_args o;

	ASSERT_EQ(0, gem_create(self->fd, len, &h));
	p = gem_mmap(self->fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, prime_export(self->fd, h, &buf));
	d = map_shared(buf, len);
	ASSERT_NE(MAP_FAILED, d);

	v = (uint32_t *)(d + 64);
	for (i = 0; i < 1000; i++)
		v[i] = i;
	EXPECT_EQ(0, skel_sum(self->fd, self->skel, ga(h, v, 4000), &sum));
	EXPECT_EQ(499500ull, sum);
	memcpy(d + 3 * PG - 2, "123456789", 9);
	EXPECT_EQ(0, skel_crc(self->fd, self->skel, ga(h, d + 3 * PG - 2, 9),
			      &crc));
	EXPECT_EQ(0xcbf43926u, crc);
	/* Output through the dma-buf mapping, seen in the GEM mapping. */
	o = ga(h, d + 5 * PG + 3, 9);
	EXPECT_EQ(0, skel(self->fd, self->skel, SKEL_ECHO, ia("abcdefghi", 9),
			  &o));
	EXPECT_EQ(0, memcmp(p + 5 * PG + 3, "abcdefghi", 9));
	/* Past the dma-buf mapping. */
	o = ga(h, d + len - 4, 9);
	EXPECT_EQ(-EINVAL, skel(self->fd, self->skel, SKEL_ECHO,
				ia("abcdefghi", 9), &o));

	munmap(d, len);
	close(buf);
	munmap(p, len);
}

/*
 * Checksums parts of a system-heap buffer of @size bytes, imported by handle
 * and passed through the heap's own mapping. An argument inside one DMA
 * segment must reach exactly its bytes; one straddling segments of a
 * scattered import is either handled right or refused with EINVAL (QDA
 * hands the DSP one address span per argument, like fastrpc.c).
 */
static void heap_checksum(struct __test_metadata *_metadata, int fd,
			  uint32_t skel_h, size_t size)
{
	static const struct { size_t off, len; bool straddles; } parts[] = {
		{ 0, PG, false }, { 1, 100, false }, { PG - 3, 3, false },
		{ 5 * PG + 100, 1000, false }, { 14 * PG, PG, false },
		{ PG - 3, 10, true }, { 0, SZ_KB(60), true },
	};
	uint32_t h, h2, crc;
	uint8_t *own;
	size_t i;
	int buf, ret;

	buf = heap_alloc(size);
	ASSERT_LE(0, buf) TH_LOG("heap alloc %zu: %d", size, buf);
	own = map_shared(buf, size);
	ASSERT_NE(MAP_FAILED, own);
	for (i = 0; i < size; i++)
		own[i] = (uint8_t)(i * 29 + (i >> 12) + 1);
	ASSERT_EQ(0, prime_import(fd, buf, &h));
	ASSERT_EQ(0, prime_import(fd, buf, &h2));
	EXPECT_EQ(h, h2);

	for (i = 0; i < ARRAY_SIZE(parts); i++) {
		const uint8_t *p = own + parts[i].off;

		ret = skel_crc(fd, skel_h, ga(h, p, parts[i].len), &crc);
		if (ret == -EINVAL && parts[i].straddles) {
			TH_LOG("%zu-byte heap buffer: %zu bytes at %zu straddle segments: EINVAL",
			       size, parts[i].len, parts[i].off);
			continue;
		}
		EXPECT_EQ(0, ret);
		EXPECT_EQ(crc32_zlib(p, parts[i].len), crc)
			TH_LOG("%zu-byte heap buffer: %zu bytes at %zu",
			       size, parts[i].len, parts[i].off);
	}
	/* Past the end of the buffer. */
	EXPECT_EQ(-EINVAL, skel_crc(fd, skel_h, ga(h, own + size - 4, 8), &crc));
	munmap(own, size);
	close(buf);
}

TEST_F(rpc, foreign_dma_heap_import_arg)
{
	/*
	 * The system heap allocates order-8, 4 and 0 chunks: 64 KiB is one
	 * contiguous chunk, 60 KiB fifteen separate pages (segments).
	 */
	heap_checksum(_metadata, self->fd, self->skel, SZ_KB(64));
	heap_checksum(_metadata, self->fd, self->skel, SZ_KB(60));
}

/* ================= signals ================= */

TEST_F(rpc, signal_interrupts_call)
{
	struct drops d0, d1;
	long long t0, dt;
	uint8_t out[4];
	int ret;

	QDA_SKIP_WITHOUT_CLOCK(return);
	ASSERT_EQ(0, get_drops(self->fd, &d0));
	__atomic_store_n(&alarms, 0, __ATOMIC_RELAXED);
	ASSERT_EQ(0, alarm_ms(200));
	t0 = now_ms();
	ret = skel_sleep(self->fd, self->skel, 2000);
	dt = now_ms() - t0;
	alarm_off();
	EXPECT_EQ(-EINTR, ret);
	EXPECT_EQ(1, __atomic_load_n(&alarms, __ATOMIC_RELAXED));
	EXPECT_GT(1000, dt) TH_LOG("interrupted after %lld ms", dt);

	/* The file still works while the DSP finishes the abandoned call. */
	EXPECT_EQ(0, skel_echo(self->fd, self->skel, "ok", 3, out, 3));
	EXPECT_STREQ("ok", (char *)out);
	EXPECT_EQ(0, skel_sleep(self->fd, self->skel, 10));

	/* Its late answer is taken quietly, not counted as an unknown one. */
	sleep_ms(2100 - (now_ms() - t0));
	EXPECT_EQ(0, skel_sleep(self->fd, self->skel, 0));
	ASSERT_EQ(0, get_drops(self->fd, &d1));
	EXPECT_EQ(d0.unknown, d1.unknown);
	EXPECT_EQ(d0.stale, d1.stale);
	EXPECT_EQ(d0.duplicate, d1.duplicate);
}

TEST_F(rpc, signal_then_close_with_call_outstanding)
{
	int fd2;
	uint32_t h2;

	/* Abandon a call, then close the only file while the DSP sleeps. */
	ASSERT_EQ(0, alarm_ms(100));
	EXPECT_EQ(-EINTR, skel_sleep(self->fd, self->skel, 1500));
	alarm_off();
	close(self->fd);
	self->fd = -1;
	/* The session and its process went with the last file. */
	fd2 = open_attached(&h2);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, skel_sleep(fd2, h2, 0));
	self->fd = fd2;
}

/* ================= GET_PARAM ================= */

TEST(get_param_values)
{
	static const struct { uint32_t id; uint64_t val; } want[] = {
		{ 0, 0 }, { 1, 1 }, { 2, 0 }, { 3, 4 }, { 4, 256 * 1024 },
		{ 5, 1 }, { 6, 0x73 }, { 7, 0 }, { 100, 0 },
		{ 255, MOCK_CAP_MAGIC },
	};
	uint64_t v;
	size_t i;
	int fd, ret;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	/* Needs no DSP process. */
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		ret = qda_get_param(fd, want[i].id, 0, &v);
		if (ret == -EOPNOTSUPP)
			SKIP(goto out, "the DSP has no capability query");
		EXPECT_EQ(0, ret) TH_LOG("param %u", want[i].id);
		EXPECT_EQ(want[i].val, v) TH_LOG("param %u", want[i].id);
	}
	/* Same answers with a process attached. */
	ASSERT_EQ(0, qda_attach(fd));
	EXPECT_EQ(0, qda_get_param(fd, 255, 0, &v));
	EXPECT_EQ(MOCK_CAP_MAGIC, v);
out:
	close(fd);
}

TEST(get_param_bad_args)
{
	uint64_t v;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EOVERFLOW, qda_get_param(fd, 256, 0, &v));
	EXPECT_EQ(-EOVERFLOW, qda_get_param(fd, 257, 0, &v));
	EXPECT_EQ(-EOVERFLOW, qda_get_param(fd, 0xffffffffu, 0, &v));
	EXPECT_EQ(-EINVAL, qda_get_param(fd, 1, 1, &v));
	EXPECT_EQ(-EINVAL, qda_get_param(fd, 1, 0x80000000u, &v));
	close(fd);
}

/* ================= MAP and MUNMAP ================= */

TEST_F(rpc, map_legacy_and_attr)
{
	long long maps0 = cdsp_count("mappings");
	struct drm_qda_map m1 = { .request = QDA_MAP_REQUEST_LEGACY };
	struct drm_qda_map m2 = { .request = QDA_MAP_REQUEST_ATTR };
	struct drm_qda_munmap u;
	size_t len = 4 * PG;
	uint32_t h;
	void *p;

	ASSERT_LE(0, maps0);
	ASSERT_EQ(0, gem_create(self->fd, len, &h));
	p = gem_mmap(self->fd, h, len);
	ASSERT_NE(MAP_FAILED, p);

	m1.fd = h;
	m1.vaddrin = (uintptr_t)p;
	ASSERT_EQ(0, qda_map(self->fd, &m1));
	EXPECT_NE(0ull, m1.vaddrout);
	EXPECT_EQ(maps0 + 1, cdsp_count("mappings"));

	m2.fd = h;
	m2.offset = PG;
	m2.size = 2 * PG;
	m2.vaddrin = (uintptr_t)p + PG;
	ASSERT_EQ(0, qda_map(self->fd, &m2));
	EXPECT_NE(0ull, m2.vaddrout);
	EXPECT_NE(m1.vaddrout, m2.vaddrout);
	EXPECT_EQ(maps0 + 2, cdsp_count("mappings"));

	/* Unknown addresses, or the wrong request for the mapping. */
	memset(&u, 0, sizeof(u));
	u.request = QDA_MAP_REQUEST_LEGACY;
	u.vaddrout = m1.vaddrout + PG;
	EXPECT_EQ(-ENOENT, qda_munmap(self->fd, &u));
	u.vaddrout = m2.vaddrout;
	EXPECT_EQ(-ENOENT, qda_munmap(self->fd, &u));
	u.request = QDA_MAP_REQUEST_ATTR;
	u.fd = h;
	u.vaddr = m1.vaddrout;
	EXPECT_EQ(-ENOENT, qda_munmap(self->fd, &u));
	u.vaddr = m2.vaddrout;
	u.fd = h + 1;
	EXPECT_EQ(-ENOENT, qda_munmap(self->fd, &u));
	u.request = 3;
	u.fd = h;
	EXPECT_EQ(-EINVAL, qda_munmap(self->fd, &u));
	u.request = 0;
	EXPECT_EQ(-EINVAL, qda_munmap(self->fd, &u));
	EXPECT_EQ(maps0 + 2, cdsp_count("mappings"));

	/* The right ones. */
	memset(&u, 0, sizeof(u));
	u.request = QDA_MAP_REQUEST_LEGACY;
	u.vaddrout = m1.vaddrout;
	u.size = len;
	EXPECT_EQ(0, qda_munmap(self->fd, &u));
	EXPECT_EQ(maps0 + 1, cdsp_count("mappings"));
	EXPECT_EQ(-ENOENT, qda_munmap(self->fd, &u));
	memset(&u, 0, sizeof(u));
	u.request = QDA_MAP_REQUEST_ATTR;
	u.fd = h;
	u.vaddr = m2.vaddrout;
	u.size = 2 * PG;
	EXPECT_EQ(0, qda_munmap(self->fd, &u));
	EXPECT_EQ(maps0, cdsp_count("mappings"));
	EXPECT_EQ(-ENOENT, qda_munmap(self->fd, &u));

	/* An attr mapping can also be named by its user address. */
	m2.vaddrout = 0;
	ASSERT_EQ(0, qda_map(self->fd, &m2));
	EXPECT_EQ(maps0 + 1, cdsp_count("mappings"));
	u.vaddr = m2.vaddrin;
	EXPECT_EQ(0, qda_munmap(self->fd, &u));
	EXPECT_EQ(maps0, cdsp_count("mappings"));
	munmap(p, len);
}

TEST_F(rpc, map_bad_args)
{
	long long maps0 = cdsp_count("mappings");
	struct drm_qda_map m;
	size_t len = 2 * PG;
	uint32_t h;
	void *p;

	ASSERT_EQ(0, gem_create(self->fd, len, &h));
	p = gem_mmap(self->fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	m = map_req(3, h, p);
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m = map_req(0, h, p);
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m = map_req(QDA_MAP_REQUEST_LEGACY, h, p);
	m.pad = 1;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m = map_req(QDA_MAP_REQUEST_ATTR, h, p);
	m.fd = 0;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m.fd = -1;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m = map_req(QDA_MAP_REQUEST_LEGACY, h, p);
	m.fd = h + 100;
	EXPECT_EQ(-ENOENT, qda_map(self->fd, &m));
	/* Larger than the buffer, or past its end from the offset. */
	m = map_req(QDA_MAP_REQUEST_LEGACY, h, p);
	m.size = len + PG;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m = map_req(QDA_MAP_REQUEST_ATTR, h, p);
	m.offset = PG;
	m.size = len;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m.size = ~0ull;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	EXPECT_EQ(maps0, cdsp_count("mappings"));
	munmap(p, len);
}

/*
 * The DSP maps whole pages: offsets must be page aligned (EINVAL, nothing
 * sent), sizes are rounded up to pages, ranges stay inside the buffer, and
 * the legacy request takes no offset or attributes.
 */
TEST_F(rpc, map_page_rules)
{
	long long maps0 = cdsp_count("mappings");
	long long viol0 = cdsp_count("violations");
	struct drm_qda_map m;
	struct drm_qda_munmap u;
	size_t len = 4 * PG;
	long long rx;
	uint32_t h;
	void *p;

	ASSERT_LE(0, maps0);
	ASSERT_EQ(0, gem_create(self->fd, len, &h));
	p = gem_mmap(self->fd, h, len);
	ASSERT_NE(MAP_FAILED, p);
	rx = cdsp_count("received");
	m = map_req(QDA_MAP_REQUEST_ATTR, h, p);
	m.offset = 0xb5f;
	m.size = PG;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m.offset = PG + 1;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m.offset = len;
	m.size = 0;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m = map_req(QDA_MAP_REQUEST_LEGACY, h, p);
	m.offset = PG;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	m = map_req(QDA_MAP_REQUEST_LEGACY, h, p);
	m.attrs = 1;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	/* A size that rounds up past the end. */
	m = map_req(QDA_MAP_REQUEST_ATTR, h, p);
	m.offset = PG;
	m.size = 3 * PG + 1;
	EXPECT_EQ(-EINVAL, qda_map(self->fd, &m));
	/* None of these reached the DSP. */
	EXPECT_EQ(rx, cdsp_count("received"));

	/* 0x3271 bytes map as 0x4000 (four 4 KiB pages): no violation. */
	m = map_req(QDA_MAP_REQUEST_ATTR, h, p);
	m.size = 0x3271;
	ASSERT_EQ(0, qda_map(self->fd, &m));
	EXPECT_EQ(maps0 + 1, cdsp_count("mappings"));
	memset(&u, 0, sizeof(u));
	u.request = QDA_MAP_REQUEST_ATTR;
	u.fd = h;
	u.vaddr = m.vaddrout;
	/* A size that is not the mapping's. */
	u.size = PG;
	EXPECT_EQ(-EINVAL, qda_munmap(self->fd, &u));
	EXPECT_EQ(maps0 + 1, cdsp_count("mappings"));
	/* The size given to MAP names it. */
	u.size = 0x3271;
	EXPECT_EQ(0, qda_munmap(self->fd, &u));
	EXPECT_EQ(maps0, cdsp_count("mappings"));

	/* Size 0 from an offset: up to the end. */
	m = map_req(QDA_MAP_REQUEST_ATTR, h, p);
	m.offset = 2 * PG;
	ASSERT_EQ(0, qda_map(self->fd, &m));
	memset(&u, 0, sizeof(u));
	u.request = QDA_MAP_REQUEST_ATTR;
	u.fd = h;
	u.vaddr = m.vaddrout;
	u.size = 2 * PG;
	EXPECT_EQ(0, qda_munmap(self->fd, &u));
	EXPECT_EQ(maps0, cdsp_count("mappings"));
	EXPECT_EQ(viol0, cdsp_count("violations"));
	munmap(p, len);
}

/* INIT_CREATE refuses a signature longer than its shell before sending. */
TEST(create_siglen_beyond_filelen)
{
	struct drm_qda_init_create c = { 0 };
	static char elf[64];
	long long rx;
	uint32_t h;
	int fd;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, PG, &h));
	rx = cdsp_count("received");
	c.filelen = sizeof(elf);
	c.file = (uintptr_t)elf;
	c.filefd = -1;
	c.siglen = sizeof(elf) + 1;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_QDA_INIT_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(rx, cdsp_count("received"));
	close(fd);
}

TEST(map_close_with_live_mappings)
{
	long long maps0 = cdsp_count("mappings");
	long long procs0 = cdsp_count("processes");
	struct drm_gem_close gc = { 0 };
	struct drm_qda_map m;
	uint32_t skel_h, h;
	int fd, i;
	void *p;

	ASSERT_LE(0, maps0);
	fd = open_attached(&skel_h);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gem_create(fd, 8 * PG, &h));
	p = gem_mmap(fd, h, 8 * PG);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 4; i++) {
		memset(&m, 0, sizeof(m));
		m.request = i & 1 ? QDA_MAP_REQUEST_ATTR : QDA_MAP_REQUEST_LEGACY;
		m.fd = h;
		m.offset = i & 1 ? i * PG : 0;
		m.size = PG;
		m.vaddrin = (uintptr_t)p + m.offset;
		ASSERT_EQ(0, qda_map(fd, &m)) TH_LOG("map %d", i);
	}
	EXPECT_EQ(maps0 + 4, cdsp_count("mappings"));
	/* The handle can go: the mappings keep the buffer. */
	gc.handle = h;
	EXPECT_EQ(0, ioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc));
	EXPECT_EQ(maps0 + 4, cdsp_count("mappings"));
	munmap(p, 8 * PG);
	close(fd);
	EXPECT_EQ(maps0, cdsp_count("mappings"));
	EXPECT_EQ(procs0, cdsp_count("processes"));
}

/* ================= faults and DSP restarts ================= */

/* Clears the faults and restarts cdsp, so the next test finds a clean DSP. */
FIXTURE(fault) {
	int unused;
};

FIXTURE_SETUP(fault)
{
	mock_control("clear cdsp");
	if (qda_find_node("cdsp", NULL, 0) != 1)
		mock_control("start cdsp");
	ASSERT_EQ(0, wait_cdsp_node(1, 3000));
}

FIXTURE_TEARDOWN_PARENT(fault)
{
	alarm_off();
	mock_control("clear cdsp");
	mock_control("restart cdsp");
	if (wait_cdsp_node(1, 3000))
		mock_control("start cdsp");
	wait_cdsp_node(1, 3000);
}

TEST_F_TIMEOUT(fault, dropped_response_kernel_call_etimedout, 20)
{
	long long t0, dt;
	int fd, ret;

	QDA_SKIP_WITHOUT_CLOCK(return);
	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mock_control("drop cdsp 1"));
	t0 = now_ms();
	ret = qda_attach(fd);
	dt = now_ms() - t0;
	EXPECT_EQ(-ETIMEDOUT, ret);
	EXPECT_LE(KERNEL_TIMEOUT_MS - 100, dt);
	/* The timeout, then the release QDA sends at once (answered). */
	EXPECT_GT(KERNEL_TIMEOUT_MS + 5000, dt) TH_LOG("timed out after %lld ms", dt);
	/* Nothing is in a PD: user calls still say so. */
	EXPECT_EQ(-ENOTCONN, invoke(fd, 0x300, SC(0, 0, 0), NULL));
	close(fd);
}

TEST_F(fault, duplicate_response_counted)
{
	struct drops d0, d1;
	uint32_t skel_h;
	uint8_t out[8];
	int fd;

	fd = open_attached(&skel_h);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_drops(fd, &d0));
	ASSERT_EQ(0, mock_control("dup cdsp 1"));
	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_echo(fd, skel_h, "dupdup", 7, out, 7));
	EXPECT_STREQ("dupdup", (char *)out);
	/* The copy may still be on its way. */
	sleep_ms(50);
	EXPECT_EQ(0, skel_sleep(fd, skel_h, 0));
	ASSERT_EQ(0, get_drops(fd, &d1));
	EXPECT_LE(d0.duplicate + 1, d1.duplicate)
		TH_LOG("unknown %llu -> %llu, duplicate %llu -> %llu",
		       d0.unknown, d1.unknown, d0.duplicate, d1.duplicate);
	close(fd);
}

/* Makes the next response bad (@fault), interrupts the call it was for. */
static void lost_response(struct __test_metadata *_metadata,
			  const char *fault, struct drops *d0,
			  struct drops *d1)
{
	uint32_t skel_h;
	uint8_t out[8];
	long long t0;
	int fd, ret;

	fd = open_attached(&skel_h);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_drops(fd, d0));
	ASSERT_EQ(0, mock_control(fault));
	ASSERT_EQ(0, alarm_ms(300));
	t0 = now_ms();
	ret = skel_echo(fd, skel_h, "lost", 5, out, 5);
	alarm_off();
	EXPECT_EQ(-EINTR, ret);
	EXPECT_GT(2000, now_ms() - t0);
	/* The channel still works. */
	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_echo(fd, skel_h, "next", 5, out, 5));
	EXPECT_STREQ("next", (char *)out);
	ASSERT_EQ(0, get_drops(fd, d1));
	close(fd);
}

TEST_F(fault, short_response_counted)
{
	struct drops d0, d1;

	QDA_SKIP_WITHOUT_CLOCK(return);
	lost_response(_metadata, "short cdsp 1", &d0, &d1);
	EXPECT_LE(d0.shrt + 1, d1.shrt);
}

TEST_F(fault, corrupt_response_counted)
{
	struct drops d0, d1;

	QDA_SKIP_WITHOUT_CLOCK(return);
	lost_response(_metadata, "corrupt cdsp 1", &d0, &d1);
	EXPECT_LE(d0.unknown + d0.stale + 1, d1.unknown + d1.stale)
		TH_LOG("unknown %llu -> %llu, stale %llu -> %llu",
		       d0.unknown, d1.unknown, d0.stale, d1.stale);
}

TEST_F(fault, restart_mid_call_fails_call)
{
	struct drm_qda_query q;
	uint32_t skel_h;
	uint8_t out[8];
	long long t0, dt;
	int fd, ret, i;

	QDA_SKIP_WITHOUT_CLOCK(return);
	fd = open_attached(&skel_h);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mock_control("restart-mid-call cdsp"));
	t0 = now_ms();
	ret = skel_echo(fd, skel_h, "gone", 5, out, 5);
	dt = now_ms() - t0;
	EXPECT_TRUE(ret == -EPIPE || ret == -ENODEV) TH_LOG("ret %d", ret);
	EXPECT_GT(2000, dt);
	/*
	 * The old file is dead for good: EPIPE from the dead engine until the
	 * restart has unplugged the device, ENODEV after.
	 */
	ret = skel_echo(fd, skel_h, "gone", 5, out, 5);
	EXPECT_TRUE(ret == -EPIPE || ret == -ENODEV) TH_LOG("ret %d", ret);
	/*
	 * The restart runs asynchronously: the old node may still be there
	 * (its engine dead) for a while. Once it is unplugged, ENODEV for good.
	 */
	for (i = 0; i < 300 && qda_query(fd, &q) != -ENODEV; i++)
		sleep_ms(10);
	EXPECT_EQ(-ENODEV, skel_echo(fd, skel_h, "gone", 5, out, 5));
	close(fd);

	ASSERT_EQ(0, wait_cdsp_node(1, 3000));
	fd = open_attached(&skel_h);
	ASSERT_LE(0, fd);
	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_echo(fd, skel_h, "back", 5, out, 5));
	EXPECT_STREQ("back", (char *)out);
	close(fd);
}

#define SLEEPERS	8

struct sleeper {
	pthread_t tid;
	int fd;
	uint32_t skel;
	int ret;
	long long end;
};

static void *sleeper_fn(void *arg)
{
	struct sleeper *s = arg;

	s->ret = skel_sleep(s->fd, s->skel, 1000);
	s->end = now_ms();
	return NULL;
}

TEST_F(fault, dsp_stop_fails_calls_in_flight)
{
	struct sleeper s[SLEEPERS];
	long long r0, t_stop, t_done;
	struct timespec dl;
	uint32_t skel_h;
	uint8_t out[8];
	int fd, i, hung = 0;

	QDA_SKIP_WITHOUT_CLOCK(return);
	fd = open_attached(&skel_h);
	ASSERT_LE(0, fd);
	r0 = cdsp_count("received");
	for (i = 0; i < SLEEPERS; i++) {
		s[i].fd = fd;
		s[i].skel = skel_h;
		s[i].ret = 1;
		s[i].end = 0;
		ASSERT_EQ(0, pthread_create(&s[i].tid, NULL, sleeper_fn, &s[i]));
	}
	/* Wait until the DSP has all of them. */
	for (i = 0; i < 50 && cdsp_count("received") < r0 + SLEEPERS; i++)
		sleep_ms(10);
	EXPECT_LE(r0 + SLEEPERS, cdsp_count("received"));
	sleep_ms(100);

	t_stop = now_ms();
	ASSERT_EQ(0, mock_control("stop cdsp"));
	t_done = now_ms();
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 3;
	for (i = 0; i < SLEEPERS; i++) {
		if (pthread_timedjoin_np(s[i].tid, NULL, &dl)) {
			hung++;
			continue;
		}
		EXPECT_TRUE(s[i].ret == -EPIPE || s[i].ret == -ENODEV)
			TH_LOG("thread %d: %d", i, s[i].ret);
		EXPECT_GT(t_done + 500, s[i].end)
			TH_LOG("thread %d ended %lld ms after the stop",
			       i, s[i].end - t_stop);
	}
	ASSERT_EQ(0, hung);
	EXPECT_GT(2000, t_done - t_stop) TH_LOG("stop took %lld ms", t_done - t_stop);

	EXPECT_EQ(-ENODEV, skel_echo(fd, skel_h, "x", 2, out, 2));
	EXPECT_EQ(-ENODEV, qda_attach(fd));
	close(fd);

	ASSERT_EQ(0, mock_control("start cdsp"));
	ASSERT_EQ(0, wait_cdsp_node(1, 3000));
	fd = open_attached(&skel_h);
	ASSERT_LE(0, fd);
	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_echo(fd, skel_h, "again", 6, out, 6));
	EXPECT_STREQ("again", (char *)out);
	close(fd);
}

TEST_HARNESS_MAIN
