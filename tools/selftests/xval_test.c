// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-validation of the two FastRPC drivers against the mock DSP: the same
 * user-space scenarios, run through fastrpc.ko or qda.ko (see xval.h), must
 * give the same results, and the mock DSP must see no protocol violation.
 *
 * usage: xval_test fastrpc|qda [harness options]
 *	(or XVAL_DRIVER=fastrpc|qda xval_test [harness options])
 *
 * For "fastrpc" the test replaces qda.ko by fastrpc.ko before the first case
 * and puts qda.ko back at the end; either way it restarts the mock's adsp
 * first, so that the DSP has not had the remote heap from the driver bound
 * before.  The scenarios talk to the mock's test skel and calculator, its
 * sensors and audio PDs and the services the FastRPC daemons use
 * (Documentation/accel/qda/mock-dsp.rst).
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "xval.h"
#include "kselftest_harness.h"

#define TEST_SKEL_URI \
	"file:///libqda_test_skel.so?qda_test_skel_handle_invoke&_modver=1.0"
#define CALC_URI \
	"file:///libcalculator_skel.so?calculator_skel_handle_invoke&_modver=1.0&_idlver=1.2.3&_dom=cdsp"

enum { SKEL_ECHO, SKEL_SUM, SKEL_CHECKSUM, SKEL_FILL, SKEL_SLEEP, SKEL_FAIL };

static const struct xval_backend *B;

/* The FastRPC library's static handles (its _const_*_handle values). */
#define H_REMOTECTL	0
#define H_PROCESS	4	/* adsp_current_process1 */
#define H_MSGD		5	/* adspmsgd_adsp1 */
#define H_LISTENER	7	/* adsp_listener1 */
#define H_REMOTECTL1	8	/* remotectl1 */

/* The daemons' default listener, by name and by domains URI. */
#define DEFLISTENER_NAME	"adsp_default_listener"
#define DEFLISTENER1_URI \
	"file:///libadsp_default_listener1_skel.so?adsp_default_listener1_skel_handle_invoke&_modver=1.0"

/*
 * remotectl open of @uri through remotectl (@rh 0, method 0) or remotectl1
 * (@rh 8, method 2); returns the DSP's status, handle in *@h.
 */
static int remotectl_open_on(int fd, uint32_t rh, const char *uri,
			     uint32_t *h, char *dlerr, size_t dlerrlen)
{
	uint32_t in[2] = { strlen(uri) + 1, dlerrlen };
	uint32_t out[2] = { 0, 0 };
	struct xval_arg a[4] = {
		{ in, sizeof(in), NULL }, { (void *)uri, in[0], NULL },
		{ out, sizeof(out), NULL }, { dlerr, dlerrlen, NULL },
	};
	int r;

	r = B->invoke(fd, rh, XVAL_SC(rh ? 2 : 0, 2, 2), a, 4);
	*h = out[0];
	if (!r && out[1])
		r = out[1];
	return r;
}

static int remotectl_close_on(int fd, uint32_t rh, uint32_t h)
{
	char dlerr[64];
	uint32_t in[2] = { h, sizeof(dlerr) };
	int32_t err = 0;
	struct xval_arg a[3] = {
		{ in, sizeof(in), NULL }, { &err, sizeof(err), NULL },
		{ dlerr, sizeof(dlerr), NULL },
	};
	int r;

	r = B->invoke(fd, rh, XVAL_SC(rh ? 3 : 1, 1, 2), a, 3);
	return r ? r : err;
}

static int skel_open(int fd, const char *uri, uint32_t *h, char *dlerr,
		     size_t dlerrlen)
{
	return remotectl_open_on(fd, H_REMOTECTL, uri, h, dlerr, dlerrlen);
}

static int skel_close(int fd, uint32_t h)
{
	return remotectl_close_on(fd, H_REMOTECTL, h);
}

/* Calls method @m of the skel with one input and an optional output. */
static int skel_call(int fd, uint32_t h, int m, void *in, size_t inlen,
		     const struct xval_buf *inbuf, void *out, size_t outlen,
		     const struct xval_buf *outbuf)
{
	struct xval_arg a[2] = {
		{ in, inlen, inbuf }, { out, outlen, outbuf },
	};

	return B->invoke(fd, h, XVAL_SC(m, 1, out ? 1 : 0), a, out ? 2 : 1);
}

/* zlib crc32(), bitwise. */
static uint32_t crc32_ref(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = ~0u;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

FIXTURE(xval) {
	int fd;
	uint32_t h;
	long long violations;
	long long procs;
	/* DSP addresses that did not translate (behind an IOMMU). */
	long long faults;
};

FIXTURE_SETUP(xval)
{
	char dlerr[128] = "";

	self->fd = -1;
	self->violations = mock_counter("cdsp", "violations");
	self->procs = mock_counter("cdsp", "processes");
	self->faults = mock_counter("cdsp", "faults");
	ASSERT_LE(0, self->violations) TH_LOG("cannot read %s", MOCK_STATUS);
	self->fd = B->open();
	ASSERT_LE(0, self->fd) TH_LOG("%s: open: %s", B->name, strerror(-self->fd));
	ASSERT_EQ(0, B->create(self->fd, 0));
	ASSERT_EQ(0, skel_open(self->fd, TEST_SKEL_URI, &self->h, dlerr,
			       sizeof(dlerr))) TH_LOG("dlerror: %s", dlerr);
	ASSERT_LT(0x200u, self->h);
}

FIXTURE_TEARDOWN(xval)
{
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(self->violations, mock_counter("cdsp", "violations"));
	EXPECT_EQ(self->procs, mock_counter("cdsp", "processes"));
	EXPECT_EQ(self->faults, mock_counter("cdsp", "faults"));
}

TEST(attach_once)
{
	long long v = mock_counter("cdsp", "violations");
	long long p = mock_counter("cdsp", "processes");
	int fd = B->open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, B->attach(fd));
	EXPECT_EQ(p + 1, mock_counter("cdsp", "processes"));
	/* The DSP refuses a second attach of the same session. */
	EXPECT_NE(0, B->attach(fd));
	close(fd);
	EXPECT_EQ(p, mock_counter("cdsp", "processes"));
	EXPECT_EQ(v, mock_counter("cdsp", "violations"));
}

TEST(create_without_shell)
{
	long long v = mock_counter("cdsp", "violations");
	long long p = mock_counter("cdsp", "processes");
	int fd = B->open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, B->create(fd, 0));
	EXPECT_EQ(p + 1, mock_counter("cdsp", "processes"));
	/*
	 * fastrpc.c leaks the first init memory when a second INIT_CREATE
	 * fails (it overwrites fl->init_mem), so only qda is asked twice.
	 */
	if (strcmp(B->name, "fastrpc"))
		EXPECT_NE(0, B->create(fd, 0));
	close(fd);
	EXPECT_EQ(p, mock_counter("cdsp", "processes"));
	/* Unsigned PD: create with attributes (method 7). */
	fd = B->open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, B->create(fd, FASTRPC_MODE_UNSIGNED_MODULE));
	close(fd);
	EXPECT_EQ(p, mock_counter("cdsp", "processes"));
	EXPECT_EQ(v, mock_counter("cdsp", "violations"));
}

TEST(invoke_without_process)
{
	long long v = mock_counter("cdsp", "violations");
	char dlerr[64];
	uint32_t h = 0;
	int fd = B->open();
	int r;

	ASSERT_LE(0, fd);
	/*
	 * fastrpc.ko forwards the call and the DSP answers AEE_ENOSUCH; a
	 * driver may also refuse it before sending (qda: -ENOTCONN).
	 */
	r = skel_open(fd, TEST_SKEL_URI, &h, dlerr, sizeof(dlerr));
	EXPECT_TRUE(r == AEE_ENOSUCH || r == -ENOTCONN) TH_LOG("got %d", r);
	close(fd);
	EXPECT_EQ(v, mock_counter("cdsp", "violations"));
}

TEST_F(xval, skel_open_close)
{
	char dlerr[128] = "x";
	uint32_t h2 = 0, h3 = 0;

	EXPECT_EQ(0, skel_open(self->fd, TEST_SKEL_URI "&_dom=cdsp", &h2,
			       dlerr, sizeof(dlerr)));
	EXPECT_LT(0x200u, h2);
	EXPECT_NE(self->h, h2);
	EXPECT_STREQ("", dlerr);
	EXPECT_EQ(0, skel_close(self->fd, h2));
	EXPECT_NE(0, skel_close(self->fd, h2));
	EXPECT_NE(0, skel_open(self->fd, "file:///libnope_skel.so?x", &h3,
			       dlerr, sizeof(dlerr)));
	EXPECT_NE(0, dlerr[0]);
	/* Calls to a closed handle fail. */
	EXPECT_EQ(AEE_EINVHANDLE, skel_call(self->fd, h2, SKEL_FAIL, &(int){0},
					    4, NULL, NULL, 0, NULL));
	EXPECT_EQ(0, skel_close(self->fd, self->h));
}

TEST_F(xval, echo_inline)
{
	char in[300], out[300];
	int i;

	for (i = 0; i < (int)sizeof(in); i++)
		in[i] = i * 7;
	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_ECHO, in, sizeof(in),
			       NULL, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	/* Shorter output: only its length is copied. */
	memset(out, 0x55, sizeof(out));
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_ECHO, in, sizeof(in),
			       NULL, out, 100, NULL));
	EXPECT_EQ(0, memcmp(in, out, 100));
	EXPECT_EQ(0x55, (unsigned char)out[100]);
}

/* Helpers for CPU access to buffers (see xval.h). */
#define BUF_WRITE(b, off, src, len) \
	ASSERT_EQ(0, B->buf_write(self->fd, self->h, b, off, src, len))
#define BUF_READ(b, off, dst, len) \
	ASSERT_EQ(0, B->buf_read(self->fd, self->h, b, off, dst, len))

TEST_F(xval, echo_buffers)
{
	static char pat[3 * 4096], got[4 * 4096], zero[4 * 4096];
	size_t size = 4 * 4096, len = 3 * 4096 - 300, i;
	struct xval_buf bi, bo;
	char hello[8] = "";

	ASSERT_EQ(0, B->buf_alloc(self->fd, size, &bi));
	ASSERT_EQ(0, B->buf_alloc(self->fd, size, &bo));
	for (i = 0; i < len; i++)
		pat[i] = i * 13 + 1;
	/* Both at an offset inside their buffer, spanning pages. */
	BUF_WRITE(&bi, 4096 + 100, pat, len);
	BUF_WRITE(&bo, 0, zero, size);
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_ECHO,
			       (char *)bi.ptr + 4096 + 100, len, &bi,
			       (char *)bo.ptr + 200, len, &bo));
	BUF_READ(&bo, 0, got, size);
	EXPECT_EQ(0, memcmp(pat, got + 200, len));
	EXPECT_EQ(0, memcmp(zero, got, 200));
	EXPECT_EQ(0, memcmp(zero, got + 200 + len, size - 200 - len));
	/* Mixed: inline input, buffer output, and back. */
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_ECHO, "hello", 6, NULL,
			       bo.ptr, 6, &bo));
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_ECHO, bo.ptr, 6, &bo,
			       hello, 6, NULL));
	EXPECT_STREQ("hello", hello);
	B->buf_free(self->fd, &bi);
	B->buf_free(self->fd, &bo);
}

TEST_F(xval, sum)
{
	uint32_t v[1000];
	uint64_t sum = 0;
	struct xval_buf b;
	int i;

	for (i = 0; i < 1000; i++)
		v[i] = i;
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_SUM, v, sizeof(v), NULL,
			       &sum, sizeof(sum), NULL));
	EXPECT_EQ(499500ull, sum);

	ASSERT_EQ(0, B->buf_alloc(self->fd, 8192, &b));
	BUF_WRITE(&b, 0, v, sizeof(v));
	sum = 0;
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_SUM, b.ptr, sizeof(v),
			       &b, &sum, sizeof(sum), NULL));
	EXPECT_EQ(499500ull, sum);
	/* Output in the buffer too, after the input. */
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_SUM, b.ptr, sizeof(v),
			       &b, (char *)b.ptr + 4096, 8, &b));
	sum = 0;
	BUF_READ(&b, 4096, &sum, sizeof(sum));
	EXPECT_EQ(499500ull, sum);
	B->buf_free(self->fd, &b);
}

TEST_F(xval, checksum)
{
	static const char digits[] = "123456789";
	static uint8_t data[65536];
	uint32_t crc = 0;
	struct xval_buf b;
	size_t i;

	EXPECT_EQ(0xcbf43926, crc32_ref(digits, 9));
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_CHECKSUM,
			       (void *)digits, 9, NULL, &crc, 4, NULL));
	EXPECT_EQ(0xcbf43926, crc);

	ASSERT_EQ(0, B->buf_alloc(self->fd, sizeof(data), &b));
	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 31 + (i >> 8);
	BUF_WRITE(&b, 0, data, sizeof(data));
	crc = 0;
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_CHECKSUM, b.ptr,
			       sizeof(data), &b, &crc, 4, NULL));
	EXPECT_EQ(crc32_ref(data, sizeof(data)), crc);
	B->buf_free(self->fd, &b);
}

TEST_F(xval, fill)
{
	static uint8_t got[3 * 4096], zero[3 * 4096];
	unsigned char out[1000];
	uint32_t byte = 0xa7;
	struct xval_buf b;
	size_t i;
	int bad = 0;

	memset(out, 0, sizeof(out));
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_FILL, &byte, 4, NULL,
			       out, sizeof(out), NULL));
	for (i = 0; i < sizeof(out); i++)
		bad += out[i] != 0xa7;
	EXPECT_EQ(0, bad);

	ASSERT_EQ(0, B->buf_alloc(self->fd, sizeof(got), &b));
	BUF_WRITE(&b, 0, zero, sizeof(zero));
	byte = 0x3c;
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_FILL, &byte, 4, NULL,
			       (char *)b.ptr + 10, 2 * 4096, &b));
	BUF_READ(&b, 0, got, sizeof(got));
	for (i = 0, bad = 0; i < sizeof(got); i++)
		bad += got[i] != (i >= 10 && i < 10 + 2 * 4096 ? 0x3c : 0);
	EXPECT_EQ(0, bad);
	B->buf_free(self->fd, &b);
}

TEST_F(xval, fail_codes)
{
	int32_t code = -22;

	/* A negative errno from the DSP reads as errno. */
	EXPECT_EQ(-EINVAL, skel_call(self->fd, self->h, SKEL_FAIL, &code, 4,
				     NULL, NULL, 0, NULL));
	/* AEE codes come back unchanged as the ioctl's result. */
	code = AEE_EBADPARM;
	EXPECT_EQ(AEE_EBADPARM, skel_call(self->fd, self->h, SKEL_FAIL, &code,
					  4, NULL, NULL, 0, NULL));
	code = 0;
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_FAIL, &code, 4, NULL,
			       NULL, 0, NULL));
	/* Wrong scalars for a method. */
	EXPECT_EQ(AEE_EBADPARM, B->invoke(self->fd, self->h, XVAL_SC(0, 0, 0),
					  NULL, 0));
}

TEST_F(xval, sleep)
{
	struct timespec t0, t1;
	uint32_t ms = 200;
	long el;

	QDA_SKIP_WITHOUT_CLOCK(return);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(0, skel_call(self->fd, self->h, SKEL_SLEEP, &ms, 4, NULL,
			       NULL, 0, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	EXPECT_LE(ms, el);
}

TEST_F(xval, calculator)
{
	char dlerr[64];
	uint32_t h = 0, n = 1000;
	int32_t v[1000], max = 0;
	int64_t sum = 0;
	struct xval_arg a[3] = {
		{ &n, 4, NULL }, { v, sizeof(v), NULL },
		{ &sum, sizeof(sum), NULL },
	};
	int i;

	for (i = 0; i < 1000; i++)
		v[i] = i;
	ASSERT_EQ(0, skel_open(self->fd, CALC_URI, &h, dlerr, sizeof(dlerr)));
	EXPECT_EQ(0, B->invoke(self->fd, h, 0x02020100, a, 3));
	EXPECT_EQ(499500, sum);
	a[2].ptr = &max;
	a[2].len = sizeof(max);
	EXPECT_EQ(0, B->invoke(self->fd, h, 0x03020100, a, 3));
	EXPECT_EQ(999, max);
	EXPECT_EQ(0, skel_close(self->fd, h));
}

TEST_F(xval, map_unmap)
{
	long long maps = mock_counter("cdsp", "mappings");
	struct xval_buf b;
	uint64_t va = 0, va2 = 0;

	ASSERT_EQ(0, B->buf_alloc(self->fd, 65536, &b));
	EXPECT_EQ(0, B->mmap(self->fd, &b, 65536, &va));
	EXPECT_NE(0ull, va);
	EXPECT_EQ(maps + 1, mock_counter("cdsp", "mappings"));
	EXPECT_EQ(0, B->munmap(self->fd, &b, va, 65536));
	EXPECT_EQ(maps, mock_counter("cdsp", "mappings"));
	/* Unknown address: the driver or the DSP refuses. */
	EXPECT_NE(0, B->munmap(self->fd, &b, va, 65536));

	EXPECT_EQ(0, B->mem_map(self->fd, &b, &va2));
	EXPECT_NE(0ull, va2);
	EXPECT_EQ(maps + 1, mock_counter("cdsp", "mappings"));
	EXPECT_EQ(0, B->mem_unmap(self->fd, &b, va2));
	EXPECT_EQ(maps, mock_counter("cdsp", "mappings"));
	EXPECT_NE(0, B->mem_unmap(self->fd, &b, va2));
	B->buf_free(self->fd, &b);
}

TEST_F(xval, capability)
{
	uint32_t val = 0;
	int r;

	r = B->dsp_info(self->fd, 255, &val);
	if (r == -EOPNOTSUPP)
		SKIP(return, "%s: no capability ioctl", B->name);
	EXPECT_EQ(0, r);
	EXPECT_EQ(MOCK_CAP_MAGIC, val);
	EXPECT_EQ(0, B->dsp_info(self->fd, 1, &val));
	EXPECT_EQ(1u, val);
	EXPECT_EQ(0, B->dsp_info(self->fd, 6, &val));
	EXPECT_EQ(0x73u, val);
}

/* ---- sensors PD, audio static PD, daemons (issue 9) ---- */

/* Does the mock's adsp channel have a remote heap (a memory-region)? */
static int adsp_has_heap(void)
{
	return access(MOCK_DT "/fastrpc-adsp/memory-region", F_OK) == 0;
}

/*
 * A qda.ko without the ioctl fails it with EINVAL (unknown driver ioctl)
 * before sending anything: the QDA half then skips (see xval.h).
 */
static int qda_lacks(int r, long long received0, const char *label)
{
	return !strcmp(B->name, "qda") && r == -EINVAL &&
	       mock_counter(label, "received") == received0;
}

/* Waits up to @ms for counter @key of @label to read @want. */
static long long counter_wait(const char *label, const char *key,
			      long long want, int ms)
{
	long long v = mock_counter(label, key);

	for (; v != want && ms > 0; ms -= 10) {
		usleep(10000);
		v = mock_counter(label, key);
	}
	return v;
}

/* Attach to the sensors PD of @dsp, which has one; 0, or 1 to skip. */
static int sensors_attach_on(struct __test_metadata *_metadata,
			     const char *dsp)
{
	long long v = mock_counter(dsp, "violations");
	long long p = mock_counter(dsp, "processes");
	long long rx = mock_counter(dsp, "received");
	char dlerr[64] = "";
	int32_t code = 0;
	uint32_t h = 0;
	int fd, r;

	fd = B->open_dsp(dsp);
	EXPECT_LE(0, fd) TH_LOG("%s: open %s: %s", B->name, dsp, strerror(-fd));
	if (fd < 0)
		return 0;
	r = B->attach_sns(fd);
	if (qda_lacks(r, rx, dsp)) {
		close(fd);
		return 1;
	}
	EXPECT_EQ(0, r);
	EXPECT_EQ(p + 1, mock_counter(dsp, "processes"));
	/* One per client: neither a second sensors nor a root attach. */
	EXPECT_NE(0, B->attach_sns(fd));
	EXPECT_NE(0, B->attach(fd));
	EXPECT_EQ(p + 1, mock_counter(dsp, "processes"));
	/* The sensors PD serves the client's calls. */
	EXPECT_EQ(0, skel_open(fd, TEST_SKEL_URI, &h, dlerr, sizeof(dlerr)));
	EXPECT_EQ(0, skel_call(fd, h, SKEL_FAIL, &code, 4, NULL, NULL, 0, NULL));
	EXPECT_EQ(0, skel_close(fd, h));
	close(fd);
	EXPECT_EQ(p, counter_wait(dsp, "processes", p, 2000));
	EXPECT_EQ(v, mock_counter(dsp, "violations"));
	return 0;
}

TEST(sensors_attach)
{
	long long cv = mock_counter("cdsp", "violations");
	long long cp = mock_counter("cdsp", "processes");
	int fd, r;

	/* The SLPI (sdsp, a secure channel) and the ADSP run one. */
	if (sensors_attach_on(_metadata, "sdsp"))
		SKIP(return, "qda.ko has no INIT_ATTACH_SNS yet");
	sensors_attach_on(_metadata, "adsp");

	/* The cDSP has none: refused, by the DSP or by the driver. */
	fd = B->open_dsp("cdsp");
	ASSERT_LE(0, fd);
	r = B->attach_sns(fd);
	EXPECT_TRUE(r == AEE_ENOSUCH || (r < 0 && r >= -4095)) TH_LOG("got %d", r);
	EXPECT_EQ(cp, mock_counter("cdsp", "processes"));
	close(fd);
	EXPECT_EQ(cv, mock_counter("cdsp", "violations"));
}

/* Creates the audio PD in a child of its own (a session of its own). */
static int create_static_in_child(const char *name)
{
	int st, fd, r;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		fd = B->open_dsp("adsp");
		if (fd < 0)
			_exit(2);
		r = B->create_static(fd, name, strlen(name) + 1);
		close(fd);
		_exit(r == AEE_EALREADY ? 10 : r == -EBUSY ? 11 : r ? 1 : 0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -ECHILD;
	return WEXITSTATUS(st);
}

TEST(audio_static_pd)
{
	long long v = mock_counter("adsp", "violations");
	long long p = mock_counter("adsp", "processes");
	long long rx = mock_counter("adsp", "received");
	long long grants = mock_counter("adsp", "heap_grants");
	int fd, fd2, r;

	ASSERT_LE(0, grants) TH_LOG("no heap_grants in %s", MOCK_STATUS);
	fd = B->open_dsp("adsp");
	ASSERT_LE(0, fd);
	/* A static PD the DSP does not have (the mock's is "audiopd"). */
	r = B->create_static(fd, "nosuchpd", 9);
	if (qda_lacks(r, rx, "adsp")) {
		close(fd);
		SKIP(return, "qda.ko has no INIT_CREATE_STATIC yet");
	}
	if (!adsp_has_heap()) {
		/*
		 * No remote heap (x86_64: no boot device tree to reserve it
		 * from): both drivers refuse without asking the DSP,
		 * fastrpc.ko with ENOMEM, qda with EOPNOTSUPP.
		 */
		EXPECT_EQ(!strcmp(B->name, "qda") ? -EOPNOTSUPP : -ENOMEM, r);
		EXPECT_EQ(rx, mock_counter("adsp", "received"));
		EXPECT_EQ(p, mock_counter("adsp", "processes"));
		EXPECT_EQ(grants, mock_counter("adsp", "heap_grants"));
		close(fd);
		return;
	}
	/* The DSP refused it: the heap stays with the driver. */
	EXPECT_EQ(AEE_ENOSUCH, r);
	EXPECT_EQ(grants, mock_counter("adsp", "heap_grants"));
	EXPECT_EQ(p, mock_counter("adsp", "processes"));
	/* First create since the DSP started: it gets the remote heap. */
	ASSERT_EQ(0, B->create_static(fd, "audiopd", 8));
	EXPECT_EQ(grants + 1, mock_counter("adsp", "heap_grants"));
	EXPECT_EQ(p + 1, mock_counter("adsp", "processes"));
	/*
	 * A second creator while it lives: fastrpc.ko asks the DSP (pageslen
	 * 0, EALREADY), qda refuses by itself (EBUSY).
	 */
	r = create_static_in_child("audiopd");
	EXPECT_EQ(!strcmp(B->name, "qda") ? 11 : 10, r);
	EXPECT_EQ(p + 1, mock_counter("adsp", "processes"));
	close(fd);
	EXPECT_EQ(p, counter_wait("adsp", "processes", p, 2000));
	/* The daemon restarts: the PD again, without the heap. */
	fd2 = B->open_dsp("adsp");
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, B->create_static(fd2, "audiopd", 8));
	EXPECT_EQ(grants + 1, mock_counter("adsp", "heap_grants"));
	close(fd2);
	EXPECT_EQ(p, counter_wait("adsp", "processes", p, 2000));
	/* The DSP restarts: it forgets the heap and gets it once more. */
	ASSERT_EQ(0, mock_control("restart adsp"));
	fd2 = B->open_dsp("adsp");
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, B->create_static(fd2, "audiopd", 8));
	EXPECT_EQ(grants + 2, mock_counter("adsp", "heap_grants"));
	close(fd2);
	EXPECT_EQ(p, counter_wait("adsp", "processes", p, 2000));
	EXPECT_EQ(v, mock_counter("adsp", "violations"));
}

/* adsp_listener1 next2 in0 and out0 (mock-dsp.rst). */
struct next2_in {
	uint32_t prev_ctx;
	int32_t prev_result;
	uint32_t prev_len;
	uint32_t bufs_len;
};

struct next2_out {
	uint32_t ctx, handle, sc, bufs_len_req;
};

/* The listener thread of a daemon: init2, then next2 until it fails. */
struct listener {
	int fd;
	pthread_t thread;
	int init2;
	int next2;
	int done;
};

/* next2 on handle 7: no reverse call to answer yet (ctx 0, result -1). */
static int listener_next2(int fd)
{
	struct next2_in in = { 0, -1, 0, 256 };
	struct next2_out out = { 0 };
	char bufs[256];
	struct xval_arg a[4] = {
		{ &in, sizeof(in), NULL }, { NULL, 0, NULL },
		{ &out, sizeof(out), NULL }, { bufs, sizeof(bufs), NULL },
	};

	return B->invoke(fd, H_LISTENER, XVAL_SC(6, 2, 2), a, 4);
}

static void *listener_thread(void *arg)
{
	struct listener *l = arg;

	l->init2 = B->invoke(l->fd, H_LISTENER, XVAL_SC(5, 0, 0), NULL, 0);
	if (!l->init2)
		l->next2 = listener_next2(l->fd);
	__atomic_store_n(&l->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

enum daemon_pd { DAEMON_ROOTPD, DAEMON_SENSORSPD, DAEMON_AUDIOPD };

/*
 * Sets up the daemon's PD on @fd as the FastRPC library does for
 * "attachguestos" (INIT_ATTACH), "createstaticpd:sensorspd"
 * (INIT_ATTACH_SNS) and "createstaticpd:audiopd" (INIT_CREATE_STATIC).
 */
static int daemon_pd_setup(int fd, enum daemon_pd pd)
{
	switch (pd) {
	case DAEMON_ROOTPD:
		return B->attach(fd);
	case DAEMON_SENSORSPD:
		return B->attach_sns(fd);
	case DAEMON_AUDIOPD:
		return B->create_static(fd, "audiopd", 8);
	}
	return -EINVAL;
}

/*
 * What adsprpcd, cdsprpcd, "adsprpcd audiopd" and sensorspd do once their
 * PD is set up: the listener thread's init2 and a next2 that stays pending,
 * exception logging (adspmsgd init3, root PD only), the default listener
 * opened by name (non-domain) or by URI (@domains) through remotectl1 and
 * registered; then, at exit, the process's exit (which fails the pending
 * next2 with EBADSTATE), the handle's close and the device's.
 */
static void daemon_flow(struct __test_metadata *_metadata, const char *dsp,
			enum daemon_pd pd, int domains)
{
	long long v = mock_counter(dsp, "violations");
	long long p = mock_counter(dsp, "processes");
	long long hs = mock_counter(dsp, "handles");
	long long ls = mock_counter(dsp, "listeners");
	long long rx = mock_counter(dsp, "received");
	struct listener l = { .fd = -1 };
	char uri[256], dlerr[128] = "";
	uint64_t vapps = 0;
	uint32_t msgd_in[6] = { 0, 0, 0x10, 0, 0x10000, 0 };
	struct xval_arg msgd[2] = {
		{ msgd_in, sizeof(msgd_in), NULL }, { &vapps, 8, NULL },
	};
	uint32_t h = 0, skel = 0;
	int32_t code = 0;
	int i, r;

	ASSERT_LE(0, ls) TH_LOG("no listeners in %s", MOCK_STATUS);
	if (pd == DAEMON_AUDIOPD && !adsp_has_heap())
		SKIP(return, "adsp has no remote heap on this platform");
	l.fd = B->open_dsp(dsp);
	ASSERT_LE(0, l.fd) TH_LOG("%s: open %s: %s", B->name, dsp,
				  strerror(-l.fd));
	r = daemon_pd_setup(l.fd, pd);
	if (qda_lacks(r, rx, dsp)) {
		close(l.fd);
		SKIP(return, "qda.ko lacks the daemon's PD ioctl yet");
	}
	ASSERT_EQ(0, r);
	ASSERT_EQ(0, pthread_create(&l.thread, NULL, listener_thread, &l));

	/* The library starts adspmsgd for a root PD, but not on the SLPI. */
	if (pd == DAEMON_ROOTPD && strcmp(dsp, "sdsp"))
		EXPECT_EQ(AEE_EUNSUPPORTED,
			  B->invoke(l.fd, H_MSGD, XVAL_SC(4, 1, 1), msgd, 2));
	snprintf(uri, sizeof(uri), "%s", DEFLISTENER_NAME);
	if (domains)
		snprintf(uri, sizeof(uri), "%s&_dom=%s", DEFLISTENER1_URI, dsp);
	EXPECT_EQ(0, remotectl_open_on(l.fd, H_REMOTECTL1, uri, &h, dlerr,
				       sizeof(dlerr))) TH_LOG("dlerror: %s", dlerr);
	EXPECT_LT(0x200u, h);
	EXPECT_EQ(0, B->invoke(l.fd, h, XVAL_SC(domains ? 2 : 0, 0, 0), NULL,
			       0));
	EXPECT_EQ(ls + 1, mock_counter(dsp, "listeners"));

	/* next2 stays pending while the PD serves other calls. */
	for (i = 0; i < 30 && !__atomic_load_n(&l.done, __ATOMIC_SEQ_CST); i++)
		usleep(10000);
	EXPECT_EQ(0, __atomic_load_n(&l.done, __ATOMIC_SEQ_CST))
		TH_LOG("init2 %d next2 %d", l.init2, l.next2);
	EXPECT_EQ(0, skel_open(l.fd, TEST_SKEL_URI, &skel, dlerr, sizeof(dlerr)));
	EXPECT_EQ(0, skel_call(l.fd, skel, SKEL_FAIL, &code, 4, NULL, NULL, 0,
			       NULL));
	EXPECT_EQ(0, skel_close(l.fd, skel));
	EXPECT_EQ(0, __atomic_load_n(&l.done, __ATOMIC_SEQ_CST));

	/* Clean exit. */
	EXPECT_EQ(0, B->invoke(l.fd, H_PROCESS, XVAL_SC(2, 0, 0), NULL, 0));
	pthread_join(l.thread, NULL);
	EXPECT_EQ(0, l.init2);
	EXPECT_EQ(AEE_EBADSTATE, l.next2);
	EXPECT_EQ(AEE_EBADSTATE, listener_next2(l.fd));
	EXPECT_EQ(0, remotectl_close_on(l.fd, H_REMOTECTL1, h));
	EXPECT_EQ(ls, mock_counter(dsp, "listeners"));
	close(l.fd);
	EXPECT_EQ(p, counter_wait(dsp, "processes", p, 2000));
	EXPECT_EQ(hs, mock_counter(dsp, "handles"));
	EXPECT_EQ(v, mock_counter(dsp, "violations"));
}

TEST(daemon_adsprpcd)
{
	daemon_flow(_metadata, "adsp", DAEMON_ROOTPD, 0);
}

TEST(daemon_adsprpcd_rootpd_adsp)
{
	daemon_flow(_metadata, "adsp", DAEMON_ROOTPD, 1);
}

TEST(daemon_cdsprpcd)
{
	daemon_flow(_metadata, "cdsp", DAEMON_ROOTPD, 0);
}

TEST(daemon_cdsp1rpcd)
{
	daemon_flow(_metadata, "cdsp1", DAEMON_ROOTPD, 0);
}

TEST(daemon_sdsprpcd)
{
	daemon_flow(_metadata, "sdsp", DAEMON_ROOTPD, 0);
}

TEST(daemon_sensorspd)
{
	daemon_flow(_metadata, "sdsp", DAEMON_SENSORSPD, 0);
}

TEST(daemon_audiopd)
{
	daemon_flow(_metadata, "adsp", DAEMON_AUDIOPD, 0);
}

/*
 * A daemon killed while its next2 is pending: closing the device releases
 * the DSP process, which fails the parked call; nothing stays behind.
 *
 * Not through fastrpc.ko: Linux 7.3's fastrpc.c leaks the file's
 * fastrpc_user, the interrupted call's context (with its payload buffer
 * and ctx_idr slot) and the channel context then.  An interrupted call
 * stays on fl->pending holding a reference on fl, and only
 * fastrpc_user_free(), which runs once fl's last reference is gone, puts
 * the pending contexts: a reference cycle (kmemleak reports it).
 */
TEST(daemon_killed)
{
	long long v = mock_counter("adsp", "violations");
	long long p = mock_counter("adsp", "processes");
	long long ls = mock_counter("adsp", "listeners");
	int pfd[2], st;
	char c = 0;
	pid_t pid;

	if (!strcmp(B->name, "fastrpc"))
		SKIP(return, "fastrpc.c leaks a file whose call was interrupted");
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct listener l = { .fd = B->open_dsp("adsp") };
		char dlerr[64];
		uint32_t h = 0;

		close(pfd[0]);
		if (l.fd < 0 || B->attach(l.fd) ||
		    pthread_create(&l.thread, NULL, listener_thread, &l) ||
		    remotectl_open_on(l.fd, H_REMOTECTL1, DEFLISTENER_NAME, &h,
				      dlerr, sizeof(dlerr)) ||
		    B->invoke(l.fd, h, XVAL_SC(0, 0, 0), NULL, 0))
			_exit(1);
		/* Let the next2 reach the DSP. */
		usleep(200000);
		if (write(pfd[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	EXPECT_EQ(p + 1, mock_counter("adsp", "processes"));
	EXPECT_EQ(ls + 1, mock_counter("adsp", "listeners"));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(p, counter_wait("adsp", "processes", p, 3000));
	EXPECT_EQ(ls, mock_counter("adsp", "listeners"));
	EXPECT_EQ(v, mock_counter("adsp", "violations"));
}

TEST(zz_no_violations_overall)
{
	static const char *const labels[] = { "cdsp", "adsp", "cdsp1", "sdsp" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(labels); i++) {
		EXPECT_EQ(0, mock_counter(labels[i], "violations"))
			TH_LOG("%s", labels[i]);
		EXPECT_EQ(0, mock_counter(labels[i], "faults"))
			TH_LOG("%s", labels[i]);
	}
}

/* Puts the driver under test in place; 0 on success. */
static int xval_use(const char *drv)
{
	if (!strcmp(drv, "qda"))
		return qda_module_loaded("qda") ? 0 : qda_insmod("qda");
	if (qda_module_loaded("qda") && qda_rmmod("qda"))
		return -1;
	return qda_module_loaded("fastrpc") ? 0 : qda_insmod("fastrpc");
}

static pid_t xval_main_pid;

/* test_harness_run() exits; put qda.ko back from the main process only. */
static void xval_restore(void)
{
	if (getpid() != xval_main_pid)
		return;
	qda_rmmod("fastrpc");
	xval_use("qda");
	/* The DSP forgets the heap fastrpc.ko gave it, as qda.ko probes. */
	mock_control("restart adsp");
}

int main(int argc, char **argv)
{
	const char *drv = getenv("XVAL_DRIVER");

	if (argc > 1 && argv[1][0] != '-') {
		drv = argv[1];
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (!drv)
		drv = "fastrpc";
	if (!strcmp(drv, "fastrpc")) {
		B = &xval_fastrpc;
	} else if (!strcmp(drv, "qda")) {
		B = &xval_qda;
	} else {
		fprintf(stderr, "usage: xval_test fastrpc|qda [harness options]\n");
		return 2;
	}
	if (xval_use(drv)) {
		printf("Bail out! cannot load %s\n", drv);
		xval_use("qda");
		return 1;
	}
	/*
	 * The remote heap goes to the DSP with the first audio PD create
	 * after the driver probed the channel: restart the DSP so that it
	 * has not had it from a driver bound before this one.
	 */
	if (mock_control("restart adsp")) {
		printf("Bail out! cannot restart the mock's adsp\n");
		return 1;
	}
	if (!strcmp(B->name, "fastrpc")) {
		xval_main_pid = getpid();
		atexit(xval_restore);
	}
	return test_harness_run(argc, argv);
}
