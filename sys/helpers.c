// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the static inline kernel functions QDA's Rust
 * abstractions call, in the style of rust/helpers/, and the few C routines
 * they need where Rust must not touch memory itself (copies of device-shared
 * memory) or cannot see the C truth (struct layouts, DRM core locks).
 */
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/mod_devicetable.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/firmware/qcom/qcom_scm.h>
#include <linux/module.h>
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <drm/drm_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
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

/*
 * The core ioctls an accel file may call: those drm_ioctl() lets render
 * clients call (DRM_RENDER_ALLOW in drm_ioctls[]). drm_ioctl_permit() only
 * restricts render clients, so it lets an accel file call the legacy
 * ioctls without flags as if it were a primary client; but an accel file
 * has no master, and GET_UNIQUE and GET_MAGIC dereference
 * file_priv->master (NULL). Found by tools/selftests/qda_fuzz.c.
 */
static bool qda_core_ioctl_allowed(unsigned int nr)
{
	switch (nr) {
	case DRM_IOCTL_NR(DRM_IOCTL_VERSION):
	case DRM_IOCTL_NR(DRM_IOCTL_GET_CAP):
	case DRM_IOCTL_NR(DRM_IOCTL_GEM_CLOSE):
	case DRM_IOCTL_NR(DRM_IOCTL_GEM_CHANGE_HANDLE):
	case DRM_IOCTL_NR(DRM_IOCTL_PRIME_HANDLE_TO_FD):
	case DRM_IOCTL_NR(DRM_IOCTL_PRIME_FD_TO_HANDLE):
	case DRM_IOCTL_NR(DRM_IOCTL_SET_CLIENT_NAME):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_CREATE):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_DESTROY):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_TRANSFER):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_WAIT):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_EVENTFD):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_RESET):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_SIGNAL):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL):
	case DRM_IOCTL_NR(DRM_IOCTL_SYNCOBJ_QUERY):
		return true;
	}
	return false;
}

/* -EACCES for the core ioctls of a render node's refusals, as there. */
static bool qda_core_ioctl_refused(unsigned int cmd)
{
	unsigned int nr = DRM_IOCTL_NR(cmd);

	return _IOC_TYPE(cmd) == DRM_IOCTL_BASE &&
	       (nr < DRM_COMMAND_BASE || nr >= DRM_COMMAND_END) &&
	       !qda_core_ioctl_allowed(nr);
}

long qda_accel_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	if (qda_core_ioctl_refused(cmd))
		return -EACCES;
	return drm_ioctl(filp, cmd, arg);
}

#ifdef CONFIG_COMPAT
long qda_accel_compat_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	if (qda_core_ioctl_refused(cmd))
		return -EACCES;
	return drm_compat_ioctl(filp, cmd, arg);
}
#endif

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

/*
 * The calling task's pid and tgid as C reads them, for the layout test of
 * the kernel crate's Task (sys/layout.rs).
 */
void qda_current_ids(pid_t *pid, pid_t *tgid)
{
	*pid = task_pid_nr(current);
	*tgid = task_tgid_nr(current);
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

void qda_reinit_completion(struct completion *c)
{
	reinit_completion(c);
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

/*
 * Sizes and offsets of the C structures QDA's Rust code reaches through the
 * kernel crate's bindings, as the C compiler laid them out. sys/layout.rs
 * compares them with the bindings' view at module load and in KUnit, so that
 * a layout bindgen got wrong (as task_struct once was, see that file) stops
 * the driver instead of having it silently read the wrong fields.
 * qda_c_layout() returns SIZE_MAX for an unknown @which.
 */
static const size_t qda_layout_table[] = {
	[QDA_LAYOUT_TASK_STRUCT] = sizeof(struct task_struct),
	[QDA_LAYOUT_TASK_STRUCT_PID] = offsetof(struct task_struct, pid),
	[QDA_LAYOUT_TASK_STRUCT_TGID] = offsetof(struct task_struct, tgid),
	[QDA_LAYOUT_DEVICE] = sizeof(struct device),
	[QDA_LAYOUT_DEVICE_DRIVER_DATA] = offsetof(struct device, driver_data),
	[QDA_LAYOUT_COMPLETION] = sizeof(struct completion),
	[QDA_LAYOUT_SG_TABLE] = sizeof(struct sg_table),
	/* const like every instance of these (QDA's are Rust constants) */
	[QDA_LAYOUT_OF_DEVICE_ID] = sizeof(const struct of_device_id),
	[QDA_LAYOUT_FILE_OPERATIONS] = sizeof(const struct file_operations),
	[QDA_LAYOUT_VM_OPERATIONS_STRUCT] =
		sizeof(const struct vm_operations_struct),
	[QDA_LAYOUT_VMA_PGOFF] = offsetof(struct vm_area_struct, vm_pgoff),
	[QDA_LAYOUT_VMA_OPS] = offsetof(struct vm_area_struct, vm_ops),
	[QDA_LAYOUT_VMA_PRIVATE_DATA] =
		offsetof(struct vm_area_struct, vm_private_data),
	[QDA_LAYOUT_DMA_BUF_SIZE] = offsetof(struct dma_buf, size),
	[QDA_LAYOUT_DMA_BUF_PRIV] = offsetof(struct dma_buf, priv),
	[QDA_LAYOUT_DRM_DRIVER] = sizeof(struct drm_driver),
	[QDA_LAYOUT_DRM_IOCTL_DESC] = sizeof(struct drm_ioctl_desc),
	[QDA_LAYOUT_DRM_DEVICE] = sizeof(struct drm_device),
	[QDA_LAYOUT_DRM_DEVICE_DRIVER] = offsetof(struct drm_device, driver),
	[QDA_LAYOUT_DRM_FILE_DRIVER_PRIV] =
		offsetof(struct drm_file, driver_priv),
	[QDA_LAYOUT_DRM_FILE_OBJECT_IDR] = offsetof(struct drm_file, object_idr),
	[QDA_LAYOUT_DRM_FILE_TABLE_LOCK] = offsetof(struct drm_file, table_lock),
	[QDA_LAYOUT_DRM_FILE_MINOR] = offsetof(struct drm_file, minor),
	[QDA_LAYOUT_DRM_MINOR_DEV] = offsetof(struct drm_minor, dev),
	[QDA_LAYOUT_DRM_GEM_OBJECT] = sizeof(struct drm_gem_object),
	[QDA_LAYOUT_DRM_GEM_OBJECT_FUNCS] = sizeof(struct drm_gem_object_funcs),
	[QDA_LAYOUT_DRM_GEM_OBJECT_FUNCS_PTR] =
		offsetof(struct drm_gem_object, funcs),
	[QDA_LAYOUT_DRM_GEM_OBJECT_SIZE_FIELD] =
		offsetof(struct drm_gem_object, size),
	[QDA_LAYOUT_DRM_GEM_OBJECT_DMA_BUF] =
		offsetof(struct drm_gem_object, dma_buf),
	[QDA_LAYOUT_DRM_GEM_OBJECT_IMPORT_ATTACH] =
		offsetof(struct drm_gem_object, import_attach),
	[QDA_LAYOUT_DRM_GEM_OBJECT_VMA_NODE] =
		offsetof(struct drm_gem_object, vma_node),
};

static_assert(ARRAY_SIZE(qda_layout_table) == QDA_LAYOUT_COUNT);

size_t qda_c_layout(enum qda_layout which)
{
	if (which >= ARRAY_SIZE(qda_layout_table))
		return SIZE_MAX;
	return qda_layout_table[which];
}
