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
struct file;
struct pid;

void qda_iommu_group_remove_device(struct device *dev);
bool qda_device_has_iommu_group(struct device *dev);
void qda_vma_set_flags(struct vm_area_struct *vma, unsigned long flags);
bool qda_vma_is_cow(struct vm_area_struct *vma);
void qda_get_dma_buf(struct dma_buf *dmabuf);
unsigned long qda_drm_vma_node_start(struct drm_vma_offset_node *node);
struct pid *qda_get_current_tgid_pid(void);
void qda_put_pid(struct pid *pid);
pid_t qda_pid_vnr(struct pid *pid);
unsigned long long qda_totalram_bytes(void);
bool qda_current_is_trusted(int gid);
int qda_remote_heap(struct device *dev, u64 *addr, u64 *size);
int qda_read_vmids(struct device *dev, u32 *vmids, int max);
int qda_scm_assign(u64 addr, u64 size, const u32 *vmids, int n, bool to_vms);
pid_t qda_current_pid(void);
void qda_current_comm(char *buf, size_t len);
void qda_init_completion(struct completion *c);
int qda_user_vma(unsigned long addr, void **private_data, struct file **file,
		 unsigned long *start, unsigned long *end, unsigned long *pgoff);

#endif
