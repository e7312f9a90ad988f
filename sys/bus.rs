// SPDX-License-Identifier: GPL-2.0

//! A driver-owned bus (`struct bus_type`) whose devices are created from
//! device-tree nodes.
//!
//! Each [`Device`] carries driver data `T`, read-only sysfs attributes
//! rendered from it, a DMA mask, its `of_node`, and, when the platform has an
//! IOMMU, membership of the IOMMU group described by the node's `iommus`
//! property (`of_dma_configure_id()` probes it, since an out-of-tree bus
//! cannot be listed in the IOMMU core's `iommu_buses[]`). Without an IOMMU,
//! DMA goes through dma-direct.
//!
//! Upstream home: `rust/kernel/device/bus.rs`. C header:
//! [`include/linux/device/bus.h`].

use super::bindings;
use core::{ffi::c_void, fmt, marker::PhantomData, mem, ptr};
use kernel::{
    device, device::property::FwNode, error::to_result, prelude::*, str::CString, types::Opaque,
};

/// Most read-only sysfs attributes a bus device can have.
pub(crate) const MAX_ATTRS: usize = 8;

/// Data attached to each device of a [`Bus`].
pub(crate) trait DeviceData: Send + Sync + Sized + 'static {
    /// Names of the read-only sysfs attributes of each device (at most
    /// [`MAX_ATTRS`]).
    const ATTRS: &'static [&'static CStr];

    /// Writes the value of attribute `ATTRS[idx]`, without trailing newline.
    fn show_attr(&self, idx: usize, out: &mut dyn fmt::Write) -> fmt::Result;
}

/// A bus type, meant to live in a `static`.
pub(crate) struct Bus<T: DeviceData> {
    raw: Opaque<bindings::bus_type>,
    _p: PhantomData<T>,
}

// SAFETY: The driver core only reads `bus_type` (`bus_register()` takes a
// const pointer); its mutable state lives in `subsys_private`.
unsafe impl<T: DeviceData> Sync for Bus<T> {}

impl<T: DeviceData> Bus<T> {
    /// Describes a bus called `name` (`/sys/bus/<name>`).
    pub(crate) const fn new(name: &'static CStr) -> Self {
        let mut raw: bindings::bus_type = pin_init::zeroed();
        raw.name = kernel::str::as_char_ptr_in_const_context(name);
        Self {
            raw: Opaque::new(raw),
            _p: PhantomData,
        }
    }

    /// Registers the bus; it is unregistered when the returned value drops.
    pub(crate) fn register(&'static self) -> Result<Registration<T>> {
        // SAFETY: `self.raw` is a valid bus type that lives forever.
        to_result(unsafe { bindings::bus_register(self.raw.get()) })?;
        Ok(Registration(self))
    }
}

/// A registered [`Bus`].
///
/// # Invariants
///
/// The bus is registered while this exists.
pub(crate) struct Registration<T: DeviceData>(&'static Bus<T>);

impl<T: DeviceData> Bus<T> {
    /// Creates and adds a device on this bus for device-tree node `node`,
    /// below `parent`, called `name`, with a DMA mask of `dma_bits` bits.
    ///
    /// The bus must have been registered (see [`Bus::register`]) by the
    /// caller's module; otherwise the device is added without a bus.
    pub(crate) fn add_device(
        &self,
        parent: &device::Device,
        node: &FwNode,
        name: fmt::Arguments<'_>,
        dma_bits: u32,
        data: T,
    ) -> Result<Device<T>> {
        if !node.is_of_node() {
            return Err(EINVAL);
        }
        let name = CString::try_from_fmt(name)?;
        let inner = KBox::new(
            Inner {
                dev: Opaque::zeroed(),
                dma_mask: kernel::dma::DmaMask::try_new(dma_bits)?.value(),
                dma_parms: Opaque::zeroed(),
                attrs: [const { Opaque::zeroed() }; MAX_ATTRS],
                attr_ptrs: [ptr::null_mut(); MAX_ATTRS + 1],
                group: Opaque::zeroed(),
                groups: [ptr::null(); 2],
                data,
            },
            GFP_KERNEL,
        )?;
        let inner = KBox::into_raw(inner);
        // SAFETY: `inner` is a valid, exclusively owned allocation. After
        // `device_initialize()` its lifetime is governed by the device's
        // refcount and `release::<T>` frees it; every pointer stored below
        // points into the same allocation or to `'static` data.
        unsafe {
            let dev = (*inner).dev.get();
            bindings::device_initialize(dev);
            (*dev).release = Some(release::<T>);
            (*dev).bus = self.raw.get();
            (*dev).parent = super::dev_raw(parent);
            // A `fwnode_handle` that is an OF node is embedded in it.
            let np = super::fwnode_raw(node)
                .byte_sub(mem::offset_of!(bindings::device_node, fwnode))
                .cast::<bindings::device_node>();
            (*dev).of_node = bindings::of_node_get(np);
            (*dev).fwnode = super::fwnode_raw(node);
            (*dev).dma_mask = ptr::addr_of_mut!((*inner).dma_mask);
            (*dev).coherent_dma_mask = (*inner).dma_mask;
            // No limit on DMA segment size: imported dma-bufs come with
            // segments as large as their exporter made them.
            (*(*inner).dma_parms.get()).max_segment_size = u32::MAX;
            (*dev).dma_parms = (*inner).dma_parms.get();
            for (i, name) in T::ATTRS.iter().take(MAX_ATTRS).enumerate() {
                let attr = (*inner).attrs[i].get();
                (*attr).attr.name = name.as_char_ptr();
                (*attr).attr.mode = 0o444;
                // What `sysfs_attr_init()` does for attributes outside static
                // memory: lockdep needs a static key.
                #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
                {
                    (*attr).attr.key = kernel::static_lock_class!().as_ptr();
                }
                (*attr).__bindgen_anon_1.show = Some(show::<T>);
                (*inner).attr_ptrs[i] = ptr::addr_of_mut!((*attr).attr);
            }
            (*(*inner).group.get()).__bindgen_anon_2.attrs = (*inner).attr_ptrs.as_mut_ptr();
            (*inner).groups[0] = (*inner).group.get();
            (*dev).groups = (*inner).groups.as_mut_ptr();
        }
        // From here on dropping `handle` puts the device.
        let handle = Device {
            inner,
            added: false,
        };
        let dev = handle.raw();
        // SAFETY: `dev` is initialised; the format string takes one C string.
        to_result(unsafe { bindings::dev_set_name(dev, c"%s".as_char_ptr(), name.as_char_ptr()) })?;
        // SAFETY: `dev` is initialised and named.
        to_result(unsafe { bindings::device_add(dev) })?;
        let mut handle = handle;
        handle.added = true;
        // SAFETY: `dev` has been added to our bus and has its `of_node`;
        // with an `iommus` property this attaches it to its IOMMU group,
        // otherwise it keeps dma-direct.
        to_result(unsafe {
            bindings::of_dma_configure_id(dev, (*dev).of_node, true, ptr::null())
        })?;
        Ok(handle)
    }
}

impl<T: DeviceData> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: Registered (type invariant); devices hold no reference on
        // the bus type beyond their own registration, removed by their
        // owners before the bus goes away.
        unsafe { bindings::bus_unregister(self.0.raw.get()) };
    }
}

#[repr(C)]
struct Inner<T> {
    dev: Opaque<bindings::device>,
    dma_mask: u64,
    dma_parms: Opaque<bindings::device_dma_parameters>,
    attrs: [Opaque<bindings::device_attribute>; MAX_ATTRS],
    attr_ptrs: [*mut bindings::attribute; MAX_ATTRS + 1],
    group: Opaque<bindings::attribute_group>,
    groups: [*const bindings::attribute_group; 2],
    data: T,
}

/// Frees a device made by [`Bus::add_device`].
///
/// # Safety
///
/// Only the driver core may call this, once, for a device of `Bus<T>`.
unsafe extern "C" fn release<T: DeviceData>(dev: *mut bindings::device) {
    // SAFETY: `dev` is the first field of an `Inner<T>` made by `add_device`
    // and leaked with `KBox::into_raw`; the driver core calls `release` once,
    // after the last reference is gone.
    unsafe {
        bindings::of_node_put((*dev).of_node);
        bindings::kfree((*dev).dma_range_map.cast::<c_void>());
        drop(KBox::from_raw(dev.cast::<Inner<T>>()));
    }
}

/// Renders one of the read-only attributes of [`DeviceData::ATTRS`].
///
/// # Safety
///
/// Only sysfs may call this, for an attribute of a device of `Bus<T>`.
unsafe extern "C" fn show<T: DeviceData>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut kernel::ffi::c_char,
) -> isize {
    // SAFETY: sysfs calls `show` with one of our devices, alive for the call.
    let inner = unsafe { &*dev.cast::<Inner<T>>() };
    let Some(idx) = inner.attrs.iter().position(|a| a.get() == attr) else {
        return EINVAL.to_errno() as isize;
    };
    // SAFETY: sysfs passes a buffer of `PAGE_SIZE` bytes, exclusively ours.
    let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), kernel::page::PAGE_SIZE) };
    let mut w = SliceWriter { buf, len: 0 };
    if inner.data.show_attr(idx, &mut w).is_err() || fmt::Write::write_str(&mut w, "\n").is_err() {
        return EOVERFLOW.to_errno() as isize;
    }
    w.len as isize
}

struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A device on a [`Bus`], removed when dropped.
///
/// # Invariants
///
/// `inner` points to an initialised `Inner<T>` on which this handle owns one
/// device reference; `added` tells whether `device_add()` succeeded.
pub(crate) struct Device<T: DeviceData> {
    inner: *mut Inner<T>,
    added: bool,
}

// SAFETY: The device is refcounted by the driver core and `T` is
// `Send + Sync`.
unsafe impl<T: DeviceData> Send for Device<T> {}
// SAFETY: See above.
unsafe impl<T: DeviceData> Sync for Device<T> {}

impl<T: DeviceData> Device<T> {
    fn raw(&self) -> *mut bindings::device {
        // SAFETY: `inner` is valid (type invariant).
        unsafe { (*self.inner).dev.get() }
    }

    /// Returns the driver data.
    pub(crate) fn data(&self) -> &T {
        // SAFETY: `inner` is valid while we hold our reference.
        unsafe { &(*self.inner).data }
    }

    /// Returns the generic device. A reference taken on it (`ARef`) keeps
    /// the `struct device` (e.g. for DMA) but not its registration, which
    /// ends when this handle drops.
    pub(crate) fn as_dev(&self) -> &device::Device {
        // SAFETY: The device is valid while we hold our reference.
        unsafe { device::Device::from_raw(self.raw()) }
    }
}

impl<T: DeviceData> Drop for Device<T> {
    fn drop(&mut self) {
        let dev = self.raw();
        // SAFETY: We own a reference (type invariant). A device that was
        // added is taken out of its IOMMU group (if `of_dma_configure_id()`
        // put it in one) and deleted before the reference is dropped.
        unsafe {
            if self.added {
                if bindings::qda_device_has_iommu_group(dev) {
                    bindings::qda_iommu_group_remove_device(dev);
                }
                bindings::device_del(dev);
            }
            bindings::put_device(dev);
        }
    }
}
