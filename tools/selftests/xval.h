/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cross-validation backends: one FastRPC client API over the upstream
 * fastrpc.ko (/dev/fastrpc-<dsp>, misc/fastrpc.h) and over qda.ko
 * (/dev/accel/accelN, qda_accel.h), so that xval_test.c runs the same
 * scenarios against both drivers and the mock DSP.
 *
 * Every call returns what the driver returned: 0, -errno when the ioctl
 * failed, or the DSP's own return value when the driver passed it through
 * as the ioctl's result (both drivers do for AEE codes like 0x8000040e).
 *
 * fastrpc.ko is used through its secure (trusted) node,
 * /dev/fastrpc-<dsp>-secure, where it has one: it makes one for every
 * compute DSP and for every channel without qcom,non-secure-domain.  A
 * non-secure adsp, sdsp or mdsp channel only gets /dev/fastrpc-<dsp>,
 * which fastrpc.c then restricts in nothing.
 */
#ifndef XVAL_H
#define XVAL_H

#include <stdint.h>
#include <sys/mman.h>

#include <misc/fastrpc.h>
#include "qda_common.h"

#define XVAL_SC(method, in, out) \
	((((method) & 0x1f) << 24) | (((in) & 0xff) << 16) | (((out) & 0xff) << 8))

#define XVAL_MMAP_ADD_PAGES	0x1000

/* A buffer the driver can hand to the DSP without a copy. */
struct xval_buf {
	void *ptr;
	size_t size;
	/* dma-buf fd (fastrpc) or GEM handle (qda); -1 when unused. */
	int fd;
};

/* One argument: inline (copied) when @buf is NULL, else inside @buf. */
struct xval_arg {
	void *ptr;
	uint64_t len;
	const struct xval_buf *buf;
};

struct xval_backend {
	const char *name;
	/* Opens a session on the cDSP; returns the fd or -errno. */
	int (*open)(void);
	/* Opens a session on DSP @dsp ("adsp", ...); the fd or -errno. */
	int (*open_dsp)(const char *dsp);
	int (*attach)(int fd);
	/* Attach to the sensors PD (ctx PD 2). */
	int (*attach_sns)(int fd);
	/* Create static PD @name (@namelen bytes, NUL included). */
	int (*create_static)(int fd, const char *name, uint32_t namelen);
	int (*create)(int fd, uint32_t attrs);
	int (*invoke)(int fd, uint32_t handle, uint32_t sc,
		      const struct xval_arg *args, unsigned int nargs);
	int (*buf_alloc)(int fd, size_t size, struct xval_buf *b);
	void (*buf_free)(int fd, struct xval_buf *b);
	/*
	 * CPU access to a buffer.  fastrpc.ko's dma-buf mmap trips a lockdep
	 * assertion (dma_resv_assert_held() in fastrpc_mmap(), which user
	 * mmap() calls without the lock), so that backend never maps its
	 * buffers: it copies through the DSP with echo on skel handle @h.
	 */
	int (*buf_write)(int fd, uint32_t h, struct xval_buf *b, size_t off,
			 const void *src, size_t len);
	int (*buf_read)(int fd, uint32_t h, struct xval_buf *b, size_t off,
			void *dst, size_t len);
	/* Legacy DSP mmap (init method 4/5); qda maps @b, fastrpc allocates. */
	int (*mmap)(int fd, struct xval_buf *b, uint64_t size, uint64_t *vaddr);
	int (*munmap)(int fd, struct xval_buf *b, uint64_t vaddr,
		      uint64_t size);
	/* mem_map / mem_unmap of a whole buffer (init method 10/11). */
	int (*mem_map)(int fd, struct xval_buf *b, uint64_t *vaddr);
	int (*mem_unmap)(int fd, struct xval_buf *b, uint64_t vaddr);
	/* Capability attribute; -EOPNOTSUPP when the UAPI has none. */
	int (*dsp_info)(int fd, uint32_t attr, uint32_t *val);
};

static inline int xval_ret(int r)
{
	return r == -1 ? -errno : r;
}

/* ---- fastrpc.ko ---- */

static int xf_open_dsp(const char *dsp)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/fastrpc-%s-secure", dsp);
	fd = open(path, O_RDWR);
	if (fd < 0 && errno == ENOENT) {
		snprintf(path, sizeof(path), "/dev/fastrpc-%s", dsp);
		fd = open(path, O_RDWR);
	}
	return fd < 0 ? -errno : fd;
}

static int xf_open(void)
{
	return xf_open_dsp("cdsp");
}

static int xf_attach(int fd)
{
	return xval_ret(ioctl(fd, FASTRPC_IOCTL_INIT_ATTACH));
}

static int xf_attach_sns(int fd)
{
	return xval_ret(ioctl(fd, FASTRPC_IOCTL_INIT_ATTACH_SNS));
}

static int xf_create_static(int fd, const char *name, uint32_t namelen)
{
	struct fastrpc_init_create_static init = {
		.namelen = namelen, .memlen = 3 << 20,
		.name = (uintptr_t)name,
	};

	return xval_ret(ioctl(fd, FASTRPC_IOCTL_INIT_CREATE_STATIC, &init));
}

static int xf_create(int fd, uint32_t attrs)
{
	struct fastrpc_init_create init = {
		.filelen = 0, .filefd = -1, .attrs = attrs, .file = 0,
	};

	return xval_ret(ioctl(fd, FASTRPC_IOCTL_INIT_CREATE, &init));
}

static int xf_invoke(int fd, uint32_t handle, uint32_t sc,
		     const struct xval_arg *args, unsigned int nargs)
{
	struct fastrpc_invoke_args a[16];
	struct fastrpc_invoke inv = { .handle = handle, .sc = sc };
	unsigned int i;

	if (nargs > 16)
		return -E2BIG;
	memset(a, 0, sizeof(a));
	for (i = 0; i < nargs; i++) {
		a[i].ptr = (uintptr_t)args[i].ptr;
		a[i].length = args[i].len;
		a[i].fd = args[i].buf ? args[i].buf->fd : -1;
	}
	inv.args = (uintptr_t)a;
	return xval_ret(ioctl(fd, FASTRPC_IOCTL_INVOKE, &inv));
}

/*
 * The dma-buf is not mapped (see buf_write): @ptr is an inaccessible
 * anonymous range of the same size, which is all fastrpc.c needs to derive
 * the offset of an argument inside the buffer (ptr - vma->vm_start).
 * MAP_SHARED, so that two such ranges never merge into one VMA.
 */
static int xf_buf_alloc(int fd, size_t size, struct xval_buf *b)
{
	struct fastrpc_alloc_dma_buf req = { .fd = -1, .size = size };

	b->fd = -1;
	b->ptr = MAP_FAILED;
	b->size = size;
	if (ioctl(fd, FASTRPC_IOCTL_ALLOC_DMA_BUFF, &req))
		return -errno;
	b->fd = req.fd;
	b->ptr = mmap(NULL, size, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return b->ptr == MAP_FAILED ? -errno : 0;
}

/* Test skel echo (method 0) from @in to @out. */
static int xf_echo(int fd, uint32_t h, void *in, const struct xval_buf *inb,
		   void *out, const struct xval_buf *outb, size_t len)
{
	struct xval_arg a[2] = {
		{ in, len, inb }, { out, len, outb },
	};

	return xf_invoke(fd, h, XVAL_SC(0, 1, 1), a, 2);
}

static int xf_buf_write(int fd, uint32_t h, struct xval_buf *b, size_t off,
			const void *src, size_t len)
{
	return xf_echo(fd, h, (void *)src, NULL, (char *)b->ptr + off, b, len);
}

static int xf_buf_read(int fd, uint32_t h, struct xval_buf *b, size_t off,
		       void *dst, size_t len)
{
	return xf_echo(fd, h, (char *)b->ptr + off, b, dst, NULL, len);
}

static void xf_buf_free(int fd, struct xval_buf *b)
{
	(void)fd;
	if (b->ptr != MAP_FAILED)
		munmap(b->ptr, b->size);
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	b->ptr = MAP_FAILED;
}

static int xf_mmap(int fd, struct xval_buf *b, uint64_t size, uint64_t *vaddr)
{
	struct fastrpc_req_mmap req = {
		.fd = -1, .flags = XVAL_MMAP_ADD_PAGES, .size = size,
	};
	int r;

	(void)b;
	r = xval_ret(ioctl(fd, FASTRPC_IOCTL_MMAP, &req));
	*vaddr = req.vaddrout;
	return r;
}

static int xf_munmap(int fd, struct xval_buf *b, uint64_t vaddr, uint64_t size)
{
	struct fastrpc_req_munmap req = { .vaddrout = vaddr, .size = size };

	(void)b;
	return xval_ret(ioctl(fd, FASTRPC_IOCTL_MUNMAP, &req));
}

static int xf_mem_map(int fd, struct xval_buf *b, uint64_t *vaddr)
{
	struct fastrpc_mem_map req = {
		.fd = b->fd, .flags = FASTRPC_MAP_FD,
		.vaddrin = (uintptr_t)b->ptr, .length = b->size,
	};
	int r;

	r = xval_ret(ioctl(fd, FASTRPC_IOCTL_MEM_MAP, &req));
	*vaddr = req.vaddrout;
	return r;
}

static int xf_mem_unmap(int fd, struct xval_buf *b, uint64_t vaddr)
{
	struct fastrpc_mem_unmap req = {
		.fd = b->fd, .vaddr = vaddr, .length = b->size,
	};

	return xval_ret(ioctl(fd, FASTRPC_IOCTL_MEM_UNMAP, &req));
}

static int xf_dsp_info(int fd, uint32_t attr, uint32_t *val)
{
	struct fastrpc_ioctl_capability cap = { .attribute_id = attr };
	int r;

	r = xval_ret(ioctl(fd, FASTRPC_IOCTL_GET_DSP_INFO, &cap));
	*val = cap.capability;
	return r;
}

static const struct xval_backend xval_fastrpc = {
	.name = "fastrpc",
	.open = xf_open,
	.open_dsp = xf_open_dsp,
	.attach = xf_attach,
	.attach_sns = xf_attach_sns,
	.create_static = xf_create_static,
	.create = xf_create,
	.invoke = xf_invoke,
	.buf_alloc = xf_buf_alloc,
	.buf_free = xf_buf_free,
	.buf_write = xf_buf_write,
	.buf_read = xf_buf_read,
	.mmap = xf_mmap,
	.munmap = xf_munmap,
	.mem_map = xf_mem_map,
	.mem_unmap = xf_mem_unmap,
	.dsp_info = xf_dsp_info,
};

/* ---- qda.ko ---- */

static int xq_open_dsp(const char *dsp)
{
	int fd = qda_open_dsp(dsp);

	return fd < 0 ? -ENODEV : fd;
}

static int xq_open(void)
{
	return xq_open_dsp("cdsp");
}

static int xq_attach(int fd)
{
	return xval_ret(ioctl(fd, DRM_IOCTL_QDA_INIT_ATTACH));
}

/*
 * A qda.ko without these ioctls yet fails them with EINVAL (an unknown
 * driver ioctl number) and sends nothing: the tests skip then.
 */
static int xq_attach_sns(int fd)
{
	return xval_ret(ioctl(fd, DRM_IOCTL_QDA_INIT_ATTACH_SNS));
}

static int xq_create_static(int fd, const char *name, uint32_t namelen)
{
	struct drm_qda_init_create_static init = {
		.namelen = namelen, .memlen = 3 << 20,
		.name = (uintptr_t)name,
	};

	return xval_ret(ioctl(fd, DRM_IOCTL_QDA_INIT_CREATE_STATIC, &init));
}

static int xq_create(int fd, uint32_t attrs)
{
	struct drm_qda_init_create init = {
		.filelen = 0, .filefd = -1, .attrs = attrs, .file = 0,
	};

	return xval_ret(ioctl(fd, DRM_IOCTL_QDA_INIT_CREATE, &init));
}

static int xq_invoke(int fd, uint32_t handle, uint32_t sc,
		     const struct xval_arg *args, unsigned int nargs)
{
	struct drm_qda_invoke_args a[16];
	struct drm_qda_invoke inv = { .handle = handle, .sc = sc };
	unsigned int i;

	if (nargs > 16)
		return -E2BIG;
	memset(a, 0, sizeof(a));
	for (i = 0; i < nargs; i++) {
		a[i].ptr = (uintptr_t)args[i].ptr;
		a[i].length = args[i].len;
		a[i].fd = args[i].buf ? args[i].buf->fd : -1;
	}
	inv.args = (uintptr_t)a;
	return xval_ret(ioctl(fd, DRM_IOCTL_QDA_INVOKE, &inv));
}

static int xq_buf_alloc(int fd, size_t size, struct xval_buf *b)
{
	struct drm_qda_gem_create gc = { .size = size };
	struct drm_qda_gem_mmap_offset mo = { 0 };

	b->fd = -1;
	b->ptr = MAP_FAILED;
	b->size = size;
	if (ioctl(fd, DRM_IOCTL_QDA_GEM_CREATE, &gc))
		return -errno;
	b->fd = gc.handle;
	mo.handle = gc.handle;
	if (ioctl(fd, DRM_IOCTL_QDA_GEM_MMAP_OFFSET, &mo))
		return -errno;
	b->ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      mo.offset);
	return b->ptr == MAP_FAILED ? -errno : 0;
}

static void xq_buf_free(int fd, struct xval_buf *b)
{
	struct drm_gem_close gc = { .handle = b->fd };

	if (b->ptr != MAP_FAILED)
		munmap(b->ptr, b->size);
	if (b->fd > 0)
		ioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc);
	b->fd = -1;
	b->ptr = MAP_FAILED;
}

static int xq_buf_write(int fd, uint32_t h, struct xval_buf *b, size_t off,
			const void *src, size_t len)
{
	(void)fd;
	(void)h;
	memcpy((char *)b->ptr + off, src, len);
	return 0;
}

static int xq_buf_read(int fd, uint32_t h, struct xval_buf *b, size_t off,
		       void *dst, size_t len)
{
	(void)fd;
	(void)h;
	memcpy(dst, (char *)b->ptr + off, len);
	return 0;
}

static int xq_mmap(int fd, struct xval_buf *b, uint64_t size, uint64_t *vaddr)
{
	struct drm_qda_map req = {
		.request = QDA_MAP_REQUEST_LEGACY, .flags = XVAL_MMAP_ADD_PAGES,
		.fd = b->fd, .size = size,
	};
	int r;

	r = xval_ret(ioctl(fd, DRM_IOCTL_QDA_MAP, &req));
	*vaddr = req.vaddrout;
	return r;
}

static int xq_munmap(int fd, struct xval_buf *b, uint64_t vaddr, uint64_t size)
{
	struct drm_qda_munmap req = {
		.request = QDA_MAP_REQUEST_LEGACY, .fd = b->fd,
		.vaddrout = vaddr, .size = size,
	};

	return xval_ret(ioctl(fd, DRM_IOCTL_QDA_MUNMAP, &req));
}

static int xq_mem_map(int fd, struct xval_buf *b, uint64_t *vaddr)
{
	struct drm_qda_map req = {
		.request = QDA_MAP_REQUEST_ATTR, .flags = FASTRPC_MAP_FD,
		.fd = b->fd, .vaddrin = (uintptr_t)b->ptr, .size = b->size,
	};
	int r;

	r = xval_ret(ioctl(fd, DRM_IOCTL_QDA_MAP, &req));
	*vaddr = req.vaddrout;
	return r;
}

static int xq_mem_unmap(int fd, struct xval_buf *b, uint64_t vaddr)
{
	struct drm_qda_munmap req = {
		.request = QDA_MAP_REQUEST_ATTR, .fd = b->fd,
		.vaddr = (uintptr_t)b->ptr, .vaddrout = vaddr, .size = b->size,
	};

	return xval_ret(ioctl(fd, DRM_IOCTL_QDA_MUNMAP, &req));
}

static int xq_dsp_info(int fd, uint32_t attr, uint32_t *val)
{
	struct drm_qda_get_param p = { .param = attr };

	if (ioctl(fd, DRM_IOCTL_QDA_GET_PARAM, &p))
		return -errno;
	*val = (uint32_t)p.value;
	return 0;
}

static const struct xval_backend xval_qda = {
	.name = "qda",
	.open = xq_open,
	.open_dsp = xq_open_dsp,
	.attach = xq_attach,
	.attach_sns = xq_attach_sns,
	.create_static = xq_create_static,
	.create = xq_create,
	.invoke = xq_invoke,
	.buf_alloc = xq_buf_alloc,
	.buf_free = xq_buf_free,
	.buf_write = xq_buf_write,
	.buf_read = xq_buf_read,
	.mmap = xq_mmap,
	.munmap = xq_munmap,
	.mem_map = xq_mem_map,
	.mem_unmap = xq_mem_unmap,
	.dsp_info = xq_dsp_info,
};

/* ---- the mock DSP's status line ---- */

/* Reads counter @key ("violations", ...) of channel @label; -1 on error. */
static inline long long mock_counter(const char *label, const char *key)
{
	char line[512], pfx[32], k[40];
	long long v = -1;
	FILE *f;

	f = fopen(MOCK_STATUS, "r");
	if (!f)
		return -1;
	snprintf(pfx, sizeof(pfx), "%s ", label);
	snprintf(k, sizeof(k), " %s=", key);
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (strncmp(line, pfx, strlen(pfx)))
			continue;
		p = strstr(line, k);
		if (p)
			v = strtoll(p + strlen(k), NULL, 0);
		break;
	}
	fclose(f);
	return v;
}

#endif /* XVAL_H */
