/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for static inline kernel functions, and the C routines
 * QDA's Rust abstractions need (sys/helpers.c).
 */
#ifndef QDA_SYS_HELPERS_H
#define QDA_SYS_HELPERS_H

#include <linux/types.h>

struct device;
struct dma_buf;
struct drm_vma_offset_node;
struct vm_area_struct;
struct completion;
struct drm_gem_object;
struct file;
struct pid;

/* What qda_c_layout() reports: a struct's size or a field's offset. */
enum qda_layout {
	QDA_LAYOUT_TASK_STRUCT,
	QDA_LAYOUT_TASK_STRUCT_PID,
	QDA_LAYOUT_TASK_STRUCT_TGID,
	QDA_LAYOUT_DEVICE,
	QDA_LAYOUT_DEVICE_DRIVER_DATA,
	QDA_LAYOUT_COMPLETION,
	QDA_LAYOUT_SG_TABLE,
	QDA_LAYOUT_OF_DEVICE_ID,
	QDA_LAYOUT_FILE_OPERATIONS,
	QDA_LAYOUT_VM_OPERATIONS_STRUCT,
	QDA_LAYOUT_VMA_PGOFF,
	QDA_LAYOUT_VMA_OPS,
	QDA_LAYOUT_VMA_PRIVATE_DATA,
	QDA_LAYOUT_DMA_BUF_SIZE,
	QDA_LAYOUT_DMA_BUF_PRIV,
	QDA_LAYOUT_DRM_DRIVER,
	QDA_LAYOUT_DRM_IOCTL_DESC,
	QDA_LAYOUT_DRM_DEVICE,
	QDA_LAYOUT_DRM_DEVICE_DRIVER,
	QDA_LAYOUT_DRM_FILE_DRIVER_PRIV,
	QDA_LAYOUT_DRM_FILE_OBJECT_IDR,
	QDA_LAYOUT_DRM_FILE_TABLE_LOCK,
	QDA_LAYOUT_DRM_FILE_MINOR,
	QDA_LAYOUT_DRM_MINOR_DEV,
	QDA_LAYOUT_DRM_GEM_OBJECT,
	QDA_LAYOUT_DRM_GEM_OBJECT_FUNCS,
	QDA_LAYOUT_DRM_GEM_OBJECT_FUNCS_PTR,
	QDA_LAYOUT_DRM_GEM_OBJECT_SIZE_FIELD,
	QDA_LAYOUT_DRM_GEM_OBJECT_DMA_BUF,
	QDA_LAYOUT_DRM_GEM_OBJECT_IMPORT_ATTACH,
	QDA_LAYOUT_DRM_GEM_OBJECT_VMA_NODE,
	QDA_LAYOUT_COUNT,
};

void qda_iommu_group_remove_device(struct device *dev);
bool qda_device_has_iommu_group(struct device *dev);
void qda_vma_set_flags(struct vm_area_struct *vma, unsigned long flags);
bool qda_vma_is_cow(struct vm_area_struct *vma);
void qda_get_dma_buf(struct dma_buf *dmabuf);
long qda_accel_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);
long qda_accel_compat_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg);
unsigned long qda_drm_vma_node_start(struct drm_vma_offset_node *node);
struct pid *qda_get_current_tgid_pid(void);
void qda_put_pid(struct pid *pid);
pid_t qda_pid_vnr(struct pid *pid);
unsigned long long qda_totalram_bytes(void);
bool qda_current_is_trusted(int gid);
int qda_remote_heap(struct device *dev, u64 *addr, u64 *size);
int qda_read_vmids(struct device *dev, u32 *vmids, int max);
int qda_scm_assign(u64 addr, u64 size, const u32 *vmids, int n, bool to_vms);
void qda_current_ids(pid_t *pid, pid_t *tgid);
void qda_current_comm(char *buf, size_t len);
void qda_init_completion(struct completion *c);
void qda_reinit_completion(struct completion *c);
void qda_dma_memcpy(void *dst, const void *src, size_t len);
int qda_user_vma(unsigned long addr, void **private_data, struct file **file,
		 unsigned long *start, unsigned long *end, unsigned long *pgoff);
bool qda_gem_is_dma_buf_file(struct drm_gem_object *obj, struct file *file);
size_t qda_c_layout(enum qda_layout which);

#endif
