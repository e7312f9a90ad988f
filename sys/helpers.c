// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the static inline kernel functions QDA's Rust
 * abstractions call, in the style of rust/helpers/, and the few C routines
 * they need where Rust must not touch memory itself (copies of device-shared
 * memory) or must follow the C side's locking (DRM core locks).
 */
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_vma_manager.h>

#include "helpers.h"

void qda_iommu_group_remove_device(struct device *dev)
{
	iommu_group_remove_device(dev);
}

bool qda_device_has_iommu_group(struct device *dev)
{
	return !!dev->iommu_group;
}

void qda_vma_set_flags(struct vm_area_struct *vma, unsigned long flags)
{
	vm_flags_set(vma, flags);
}

bool qda_vma_is_cow(struct vm_area_struct *vma)
{
	return vma_is_cow_mapping(vma);
}

void qda_get_dma_buf(struct dma_buf *dmabuf)
{
	get_dma_buf(dmabuf);
}

unsigned long qda_drm_vma_node_start(struct drm_vma_offset_node *node)
{
	return drm_vma_node_start(node);
}

pid_t qda_current_tgid(void)
{
	return task_tgid_nr(current);
}

pid_t qda_current_pid(void)
{
	return task_pid_nr(current);
}

void qda_current_comm(char *buf, size_t len)
{
	char comm[TASK_COMM_LEN];

	get_task_comm(comm, current);
	strscpy(buf, comm, len);
}

void qda_init_completion(struct completion *c)
{
	init_completion(c);
}

/*
 * Copies @len bytes between kernel memory and memory a device may write at
 * any time (a DMA-coherent buffer). Rust hands raw pointers to this routine
 * instead of forming references to device-shared memory, so a concurrent
 * device write is no data race in Rust's sense; the bytes copied are plain
 * data.
 */
void qda_dma_memcpy(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
}

/*
 * Describes the VMA of the current process containing @addr: its private
 * data, file, bounds and page offset, read under the mmap lock. -EFAULT if
 * no VMA contains @addr. *@file is the VMA's file with a reference taken
 * (get_file()) while the mmap lock kept it alive, or NULL; the caller drops
 * it with fput() once done comparing it, without the mmap lock.
 */
int qda_user_vma(unsigned long addr, void **private_data, struct file **file,
		 unsigned long *start, unsigned long *end, unsigned long *pgoff)
{
	struct vm_area_struct *vma;
	int ret = -EFAULT;

	if (!current->mm)
		return -EFAULT;
	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, addr);
	if (vma) {
		*private_data = vma->vm_private_data;
		*file = vma->vm_file ? get_file(vma->vm_file) : NULL;
		*start = vma->vm_start;
		*end = vma->vm_end;
		*pgoff = vma->vm_pgoff;
		ret = 0;
	}
	mmap_read_unlock(current->mm);
	return ret;
}

/*
 * Whether @file is the file of the dma-buf @obj is exported as (or was
 * imported from). obj->dma_buf is set and cleared (and its reference
 * dropped) by the DRM core under dev->object_name_lock (drm_prime.c,
 * drm_gem.c), so it is only followed under that lock. Called without the
 * mmap lock: nothing here nests the two.
 */
bool qda_gem_is_dma_buf_file(struct drm_gem_object *obj, struct file *file)
{
	struct drm_device *dev = obj->dev;
	bool ret;

	mutex_lock(&dev->object_name_lock);
	ret = file && obj->dma_buf && obj->dma_buf->file == file;
	mutex_unlock(&dev->object_name_lock);
	return ret;
}
