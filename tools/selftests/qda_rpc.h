/* SPDX-License-Identifier: GPL-2.0 */
/*
 * FastRPC helpers shared by the QDA kselftests: INVOKE and the init ioctls,
 * remotectl and the mock DSP's test skel (see
 * Documentation/accel/qda/mock-dsp.rst). Ioctl wrappers return what the
 * driver returned: 0, -errno, or the DSP's own status passed through.
 */
#ifndef QDA_RPC_H
#define QDA_RPC_H

#include <stdint.h>
#include <time.h>

#include "qda_common.h"

#define TEST_SKEL_URI \
	"file:///libqda_test_skel.so?qda_test_skel_handle_invoke&_modver=1.0"

/* Test skel methods. */
enum { SKEL_ECHO, SKEL_SUM, SKEL_CHECKSUM, SKEL_FILL, SKEL_SLEEP, SKEL_FAIL };

#define SC(m, in, out)		QDA_SCALARS(m, in, out)
/* Scalars with input handles (bits 7:4) and output handles (bits 3:0). */
#define SC_H(m, in, out, hin, hout) \
	(SC(m, in, out) | (((hin) & 0xf) << 4) | ((hout) & 0xf))

/* ---- time ---- */

/* A test that asserts on differences of it starts with QDA_SKIP_WITHOUT_CLOCK(). */
static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- zlib CRC-32, as the skel's checksum method computes it ---- */

static inline uint32_t crc32_zlib(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = ~0u;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

/* ---- FastRPC ioctls ---- */

/*
 * DRM_IOCTL_QDA_INVOKE encodes the 24-byte size of drm_qda_invoke_args (the
 * library's quirk), so drm_ioctl() copies 24 bytes in: give it 24.
 */
union invoke_req {
	struct drm_qda_invoke inv;
	struct drm_qda_invoke_args room;
};

/* INVOKE: the ioctl's return value as is (-1 with errno on failure). */
static inline int invoke_raw(int fd, uint32_t handle, uint32_t sc,
		      struct drm_qda_invoke_args *args)
{
	union invoke_req r;

	memset(&r, 0, sizeof(r));
	r.inv.handle = handle;
	r.inv.sc = sc;
	r.inv.args = (uintptr_t)args;
	return ioctl(fd, DRM_IOCTL_QDA_INVOKE, &r);
}

/* INVOKE: the DSP's return value, or -errno if the ioctl returned -1. */
static inline int invoke(int fd, uint32_t handle, uint32_t sc,
		  struct drm_qda_invoke_args *args)
{
	int ret = invoke_raw(fd, handle, sc, args);

	return ret == -1 ? -errno : ret;
}

/* An inline (copied) argument. */
static inline struct drm_qda_invoke_args ia(const void *p, uint64_t len)
{
	struct drm_qda_invoke_args a = {
		.ptr = (uintptr_t)p, .length = len, .fd = -1,
	};

	return a;
}

/* A GEM argument: @len bytes at @p inside a CPU mapping of @handle. */
static inline struct drm_qda_invoke_args ga(uint32_t handle, const void *p,
				     uint64_t len)
{
	struct drm_qda_invoke_args a = {
		.ptr = (uintptr_t)p, .length = len, .fd = (int32_t)handle,
	};

	return a;
}

static inline int qda_attach(int fd)
{
	int ret = ioctl(fd, DRM_IOCTL_QDA_INIT_ATTACH, 0);

	return ret == -1 ? -errno : ret;
}

static inline int qda_create(int fd, uint32_t filelen, int32_t filefd,
		      const void *file, uint32_t attrs)
{
	struct drm_qda_init_create c = {
		.filelen = filelen,
		.filefd = filefd,
		.attrs = attrs,
		.file = (uintptr_t)file,
	};
	int ret = ioctl(fd, DRM_IOCTL_QDA_INIT_CREATE, &c);

	return ret == -1 ? -errno : ret;
}

/* INIT_CREATE with no shell file, as the library does it. */
static inline int qda_create_plain(int fd)
{
	return qda_create(fd, 0, -1, NULL, 0);
}

static inline int qda_get_param(int fd, uint32_t param, uint32_t pad, uint64_t *val)
{
	struct drm_qda_get_param p = { .param = param, .pad = pad };
	int ret;

	p.value = 0xdeadbeef;
	ret = ioctl(fd, DRM_IOCTL_QDA_GET_PARAM, &p);
	*val = p.value;
	return ret == -1 ? -errno : ret;
}

static inline int qda_map(int fd, struct drm_qda_map *m)
{
	int ret = ioctl(fd, DRM_IOCTL_QDA_MAP, m);

	return ret == -1 ? -errno : ret;
}

/* A MAP @request of all of GEM buffer @handle, mapped in this process at @p. */
static inline struct drm_qda_map map_req(uint32_t request, uint32_t handle,
					 const void *p)
{
	struct drm_qda_map m = {
		.request = request,
		.fd = handle,
		.vaddrin = (uintptr_t)p,
	};

	return m;
}

static inline int qda_munmap(int fd, struct drm_qda_munmap *m)
{
	int ret = ioctl(fd, DRM_IOCTL_QDA_MUNMAP, m);

	return ret == -1 ? -errno : ret;
}

/* ---- remotectl and the test skel ---- */

/* remotectl open of @uri; the DSP's status (or -errno), handle in *@h. */
static inline int skel_open(int fd, const char *uri, uint32_t *h, char *dlerr,
		     uint32_t dlerrlen)
{
	uint32_t in[2] = { strlen(uri) + 1, dlerrlen };
	uint32_t out[2] = { 0, 0 };
	struct drm_qda_invoke_args a[4] = {
		ia(in, sizeof(in)), ia(uri, in[0]),
		ia(out, sizeof(out)), ia(dlerr, dlerrlen),
	};
	int ret;

	ret = invoke(fd, 0, SC(0, 2, 2), a);
	*h = out[0];
	return ret;
}

static inline int skel_close(int fd, uint32_t h)
{
	char dlerr[64];
	uint32_t in[2] = { h, sizeof(dlerr) };
	int32_t err = 0;
	struct drm_qda_invoke_args a[3] = {
		ia(in, sizeof(in)), ia(&err, sizeof(err)),
		ia(dlerr, sizeof(dlerr)),
	};
	int ret;

	ret = invoke(fd, 0, SC(1, 1, 2), a);
	return ret ? ret : err;
}

/* Method @m of the skel with one input and, if @out, one output. */
static inline int skel(int fd, uint32_t h, int m, struct drm_qda_invoke_args in,
		const struct drm_qda_invoke_args *out)
{
	struct drm_qda_invoke_args a[2] = { in, { 0 } };

	if (out)
		a[1] = *out;
	return invoke(fd, h, SC(m, 1, out ? 1 : 0), a);
}

static inline int skel_echo(int fd, uint32_t h, const void *in, size_t inlen,
		     void *out, size_t outlen)
{
	struct drm_qda_invoke_args o = ia(out, outlen);

	return skel(fd, h, SKEL_ECHO, ia(in, inlen), &o);
}

static inline int skel_sum(int fd, uint32_t h, struct drm_qda_invoke_args in,
		    uint64_t *sum)
{
	struct drm_qda_invoke_args o = ia(sum, sizeof(*sum));

	*sum = ~0ull;
	return skel(fd, h, SKEL_SUM, in, &o);
}

static inline int skel_crc(int fd, uint32_t h, struct drm_qda_invoke_args in,
		    uint32_t *crc)
{
	struct drm_qda_invoke_args o = ia(crc, sizeof(*crc));

	*crc = 0;
	return skel(fd, h, SKEL_CHECKSUM, in, &o);
}

static inline int skel_sleep(int fd, uint32_t h, uint32_t ms)
{
	return skel(fd, h, SKEL_SLEEP, ia(&ms, sizeof(ms)), NULL);
}

/* Opens cdsp, attaches and opens the test skel; the fd or -1. */
static inline int open_attached(uint32_t *skel_h)
{
	char dlerr[64];
	int fd;

	fd = qda_open_dsp("cdsp");
	if (fd < 0)
		return -1;
	if (qda_attach(fd) || skel_open(fd, TEST_SKEL_URI, skel_h, dlerr,
					sizeof(dlerr))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits up to @ms for the cdsp node to exist (@want) or not; 0 if so. */
static inline int wait_cdsp_node(int want, long ms)
{
	long long end = now_ms() + ms;

	do {
		if ((qda_find_node("cdsp", NULL, 0) == 1) == want)
			return 0;
		sleep_ms(20);
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

#endif
