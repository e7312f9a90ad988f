// SPDX-License-Identifier: GPL-2.0

//! Abstractions QDA needs that the kernel crate does not have yet.
//!
//! Everything `unsafe` in QDA lives below this module; the driver itself is
//! safe Rust. Each submodule is shaped so that it could be proposed for the
//! kernel crate on its own:
//!
//! - [`accel`]: DRM accel devices (`/dev/accel/accelN`), their files and
//!   ioctl tables (upstream home: `rust/kernel/drm/accel.rs`).
//! - [`rpmsg`]: rpmsg drivers and endpoints (upstream: `rust/kernel/rpmsg.rs`).
//! - [`gem`]: GEM objects with driver-managed memory, mmap and PRIME export
//!   (upstream: `rust/kernel/drm/gem/`).
//! - [`dma`]: DMA-coherent buffers and imported dma-bufs (upstream:
//!   `rust/kernel/dma.rs`, `rust/kernel/dma_buf.rs`).
//! - [`bus`]: a driver-owned `bus_type` with devices created from device-tree
//!   nodes, including IOMMU/DMA configuration (upstream:
//!   `rust/kernel/device/bus.rs`).
//! - [`task`]: processes named by a `struct pid` reference (upstream:
//!   `rust/kernel/pid.rs`).
//!
//! [`bindings`] holds the raw items generated from `sys/qda_sys.h`;
//! [`layout`] checks the kernel crate's bindings against C.

pub(crate) mod accel;
pub(crate) mod bindings;
pub(crate) mod bus;
pub(crate) mod dma;
pub(crate) mod gem;
pub(crate) mod layout;
pub(crate) mod rpmsg;
pub(crate) mod sync;
pub(crate) mod task;

use kernel::{device, device::property::FwNode};

/// Returns the raw `struct device` of `dev` (`Device::as_raw()` is private
/// to the kernel crate).
pub(crate) fn dev_raw(dev: &device::Device) -> *mut bindings::device {
    // `device::Device` is a transparent wrapper of `struct device`.
    core::ptr::from_ref(dev)
        .cast::<bindings::device>()
        .cast_mut()
}

/// Returns the raw `struct fwnode_handle` of `node`.
pub(crate) fn fwnode_raw(node: &FwNode) -> *mut bindings::fwnode_handle {
    // `FwNode` is a transparent wrapper of `struct fwnode_handle`.
    core::ptr::from_ref(node)
        .cast::<bindings::fwnode_handle>()
        .cast_mut()
}

/// The name of the calling task, NUL-terminated (as `current->comm`).
pub(crate) fn current_comm() -> [u8; 16] {
    let mut buf = [0u8; 16];
    // SAFETY: `buf` is writable for its length; the helper NUL-terminates.
    unsafe { bindings::qda_current_comm(buf.as_mut_ptr(), buf.len()) };
    buf
}

/// Bytes of RAM the kernel manages (`totalram_pages()`).
pub(crate) fn total_ram() -> u64 {
    // SAFETY: Reads a global counter; always callable.
    unsafe { bindings::qda_totalram_bytes() }
}

/// Whether the calling task is a trusted opener: a member of group `gid`
/// (in the initial user namespace; negative for none) or capable of
/// `CAP_SYS_ADMIN` there.
pub(crate) fn current_is_trusted(gid: i32) -> bool {
    // SAFETY: Reads the current task's credentials; always valid in task
    // context.
    unsafe { bindings::qda_current_is_trusted(gid) }
}

/// The first `memory-region` of `dev`'s device-tree node as `(address,
/// size)`, if it has one.
pub(crate) fn remote_heap(dev: &device::Device) -> Option<(u64, u64)> {
    let (mut addr, mut size) = (0u64, 0u64);
    // SAFETY: `dev` is a valid device; the out pointers are valid.
    let ret = unsafe { bindings::qda_remote_heap(dev_raw(dev), &mut addr, &mut size) };
    (ret == 0 && size != 0).then_some((addr, size))
}

/// Most VMIDs a channel lists in `qcom,vmids` (`fastrpc.c`'s
/// `FASTRPC_MAX_VMIDS`).
pub(crate) const MAX_VMIDS: usize = 8;

/// The VMs `dev`'s `qcom,vmids` names (the DSP's VMs that share the remote
/// heap), up to [`MAX_VMIDS`].
pub(crate) fn vmids(dev: &device::Device) -> ([u32; MAX_VMIDS], usize) {
    let mut v = [0u32; MAX_VMIDS];
    // SAFETY: `dev` is valid; `v` has room for `MAX_VMIDS` entries.
    let n = unsafe { bindings::qda_read_vmids(dev_raw(dev), v.as_mut_ptr(), MAX_VMIDS as i32) };
    (v, usize::try_from(n).unwrap_or(0).min(MAX_VMIDS))
}

/// Shares the memory at `addr`/`size` with `vmids` (`to_vms`) or gives it
/// back to Linux, through the Qualcomm secure monitor. `EPROBE_DEFER`
/// while the SCM driver is not there (it is looked up at run time).
pub(crate) fn scm_assign(
    addr: u64,
    size: u64,
    vmids: &[u32],
    to_vms: bool,
) -> kernel::error::Result {
    let n = i32::try_from(vmids.len()).map_err(|_| kernel::error::code::EINVAL)?;
    // SAFETY: `vmids` is valid for `n` reads.
    kernel::error::to_result(unsafe {
        bindings::qda_scm_assign(addr, size, vmids.as_ptr(), n, to_vms)
    })
}
