/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GEM and PRIME helpers shared by the QDA kselftests: each returns 0 (or an
 * fd) on success and -errno on failure.
 */
#ifndef QDA_GEM_H
#define QDA_GEM_H

#include <stdint.h>
#include <sys/mman.h>

#include <linux/dma-heap.h>

#include "qda_common.h"

/* ---- GEM and PRIME ioctls: 0 or -errno ---- */

static inline int gem_create(int fd, uint64_t size, uint32_t *handle)
{
	struct drm_qda_gem_create c = { .size = size };

	*handle = 0;
	if (ioctl(fd, DRM_IOCTL_QDA_GEM_CREATE, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

static inline int gem_offset(int fd, uint32_t handle, uint64_t *offset)
{
	struct drm_qda_gem_mmap_offset m = { .handle = handle };

	*offset = 0;
	if (ioctl(fd, DRM_IOCTL_QDA_GEM_MMAP_OFFSET, &m))
		return -errno;
	*offset = m.offset;
	return 0;
}

static inline int gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c) ? -errno : 0;
}

/* Maps @len bytes of @handle read-write, shared; MAP_FAILED on error. */
static inline void *gem_mmap(int fd, uint32_t handle, size_t len)
{
	uint64_t off;
	int ret;

	ret = gem_offset(fd, handle, &off);
	if (ret) {
		errno = -ret;
		return MAP_FAILED;
	}
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
}

static inline int prime_export(int fd, uint32_t handle, int *dmabuf)
{
	struct drm_prime_handle p = {
		.handle = handle,
		.flags = DRM_CLOEXEC | DRM_RDWR,
	};

	*dmabuf = -1;
	if (ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p))
		return -errno;
	*dmabuf = p.fd;
	return 0;
}

static inline int prime_import(int fd, int dmabuf, uint32_t *handle)
{
	struct drm_prime_handle p = { .fd = dmabuf };

	*handle = 0;
	if (ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p))
		return -errno;
	*handle = p.handle;
	return 0;
}

static inline void *map_shared(int fd, size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

/* A dma-buf from the system heap: an fd or -errno. */
static inline int heap_alloc(size_t len)
{
	struct dma_heap_allocation_data d = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap, ret;

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) ? -errno : (int)d.fd;
	close(heap);
	return ret;
}

#endif
