/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for static inline kernel functions (sys/helpers.c). */
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

void qda_iommu_group_remove_device(struct device *dev);
bool qda_device_has_iommu_group(struct device *dev);
void qda_vma_set_flags(struct vm_area_struct *vma, unsigned long flags);
bool qda_vma_is_cow(struct vm_area_struct *vma);
void qda_get_dma_buf(struct dma_buf *dmabuf);
unsigned long qda_drm_vma_node_start(struct drm_vma_offset_node *node);
pid_t qda_current_tgid(void);
pid_t qda_current_pid(void);
void qda_current_comm(char *buf, size_t len);
void qda_init_completion(struct completion *c);
void qda_dma_memcpy(void *dst, const void *src, size_t len);
int qda_user_vma(unsigned long addr, void **private_data, struct file **file,
		 unsigned long *start, unsigned long *end, unsigned long *pgoff);
bool qda_gem_is_dma_buf_file(struct drm_gem_object *obj, struct file *file);

#endif
