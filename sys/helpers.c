// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the static inline kernel functions QDA's Rust
 * abstractions call, in the style of rust/helpers/. Nothing else lives here.
 */
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/firmware/qcom/qcom_scm.h>
#include <linux/module.h>
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/sched.h>
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

struct pid *qda_get_current_tgid_pid(void)
{
	return get_task_pid(current, PIDTYPE_TGID);
}

void qda_put_pid(struct pid *pid)
{
	put_pid(pid);
}

pid_t qda_pid_vnr(struct pid *pid)
{
	return pid_vnr(pid);
}

/*
 * Whether the calling task is a trusted opener: a member of group @gid (in
 * the initial user namespace; -1 for none), or capable of CAP_SYS_ADMIN
 * there. Group first, so that members do not need (or log) the capability.
 */
bool qda_current_is_trusted(int gid)
{
	if (gid >= 0) {
		kgid_t kgid = make_kgid(&init_user_ns, gid);

		if (gid_valid(kgid) && in_group_p(kgid))
			return true;
	}
	return ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
}

/*
 * The first memory-region of @dev's device-tree node, as fastrpc.c finds
 * the remote heap: 0 and its bounds, or a negative errno if there is none.
 */
int qda_remote_heap(struct device *dev, u64 *addr, u64 *size)
{
	struct resource res;
	int ret;

	if (!dev->of_node)
		return -ENOENT;
	ret = of_reserved_mem_region_to_resource(dev->of_node, 0, &res);
	if (ret)
		return ret;
	*addr = res.start;
	*size = resource_size(&res);
	return 0;
}

/*
 * Reads @dev's qcom,vmids into @vmids (at most @max); the count, 0 if the
 * property is absent.
 */
int qda_read_vmids(struct device *dev, u32 *vmids, int max)
{
	int n;

	if (!dev->of_node)
		return 0;
	n = of_property_read_variable_u32_array(dev->of_node, "qcom,vmids",
						vmids, 0, max);
	return n < 0 ? 0 : n;
}

/*
 * Shares @addr/@size with the @n VMs in @vmids (@to_vms) or gives it back
 * to HLOS, through the secure monitor, as fastrpc.c does with the remote
 * heap. The SCM driver is looked up at run time (symbol_get), so that QDA
 * loads without it: -EPROBE_DEFER while it is not there or not ready.
 */
int qda_scm_assign(u64 addr, u64 size, const u32 *vmids, int n, bool to_vms)
{
	typeof(qcom_scm_is_available) *available =
		symbol_get(qcom_scm_is_available);
	typeof(qcom_scm_assign_mem) *assign = symbol_get(qcom_scm_assign_mem);
	struct qcom_scm_vmperm perms[8];
	u64 src = 0;
	int i, ret = -EPROBE_DEFER;

	if (n <= 0 || n > (int)ARRAY_SIZE(perms)) {
		ret = -EINVAL;
		goto out;
	}
	if (!available || !assign || !available())
		goto out;
	if (to_vms) {
		src = BIT(QCOM_SCM_VMID_HLOS);
		for (i = 0; i < n; i++) {
			perms[i].vmid = vmids[i];
			perms[i].perm = QCOM_SCM_PERM_RWX;
		}
		ret = assign(addr, size, &src, perms, n);
	} else {
		for (i = 0; i < n; i++)
			src |= BIT(vmids[i]);
		perms[0].vmid = QCOM_SCM_VMID_HLOS;
		perms[0].perm = QCOM_SCM_PERM_RWX;
		ret = assign(addr, size, &src, perms, 1);
	}
out:
	if (available)
		symbol_put(qcom_scm_is_available);
	if (assign)
		symbol_put(qcom_scm_assign_mem);
	return ret;
}

unsigned long long qda_totalram_bytes(void)
{
	return (unsigned long long)totalram_pages() << PAGE_SHIFT;
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
 * Describes the VMA of the current process containing @addr: its private
 * data, file, bounds and page offset, read under the mmap lock. -EFAULT if
 * no VMA contains @addr.
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
		*file = vma->vm_file;
		*start = vma->vm_start;
		*end = vma->vm_end;
		*pgoff = vma->vm_pgoff;
		ret = 0;
	}
	mmap_read_unlock(current->mm);
	return ret;
}
