// SPDX-License-Identifier: GPL-2.0

//! A driver-owned bus (`struct bus_type`) whose devices are created from
//! device-tree nodes.
//!
//! Each [`Device`] carries driver data `T`, read-only sysfs attributes
//! rendered from it, a DMA mask, its `of_node`, and, when the platform has an
//! IOMMU, membership of the IOMMU group described by the node's `iommus`
//! property (`of_dma_configure_id()` probes it after `device_add()`, since an
//! out-of-tree bus cannot be listed in the IOMMU core's `iommu_buses[]`).
//! Without an IOMMU, DMA goes through dma-direct.
//!
//! A [`Device`] is a counted handle on the device's *registration*: the
//! device stays added to the bus, in its IOMMU group and with its DMA domain
//! until the last handle drops, so DMA memory allocated for it can always be
//! freed through the right DMA ops. Then it is taken out of the group and
//! deleted, in that order (freeing IOMMU memory after the group removal
//! would take the IOVA for a physical address). There is at most one device
//! per device-tree node: [`Bus::get_or_add`] hands out the existing one, so a
//! parent that comes back (a DSP restart) finds the devices its old users
//! still hold, instead of a second device claiming the same stream ID. One
//! module-wide lock serialises lookups, additions and the final deletion.
//!
//! Upstream home: `rust/kernel/device/bus.rs`. C header:
//! [`include/linux/device/bus.h`].

use super::bindings;
use core::{
    ffi::c_void,
    fmt,
    marker::PhantomData,
    mem,
    ptr::{self, NonNull},
};
use kernel::{
    device,
    device::property::FwNode,
    error::to_result,
    prelude::*,
    str::CString,
    sync::atomic::{Atomic, Relaxed},
    types::Opaque,
};

kernel::sync::global_lock! {
    // SAFETY: Initialised once, by the first `Bus::register`, before any
    // device can be added.
    unsafe(uninit) static DEVICES: Mutex<()> = ();
}

/// Whether [`DEVICES`] has been initialised.
static DEVICES_READY: Atomic<bool> = Atomic::new(false);

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
        if !DEVICES_READY.xchg(true, Relaxed) {
            // SAFETY: The exchange above lets exactly one caller through,
            // before any device exists.
            unsafe { DEVICES.init() };
        }
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
    /// Returns the device of device-tree node `node` on this bus, creating
    /// and adding it (below `parent`, called `name`, with a DMA mask of
    /// `dma_bits` bits and the data `data()` makes) if there is none. An
    /// existing device is moved below `parent`.
    ///
    /// A node with an `iommus` property must end up in an IOMMU group: if
    /// its IOMMU has not probed yet this fails with `EPROBE_DEFER`, if the
    /// group cannot be had with the IOMMU core's error (or `ENODEV`), and
    /// nothing is left registered. A name already taken by another node's
    /// device fails with `EBUSY`.
    ///
    /// The bus must have been registered (see [`Bus::register`]) by the
    /// caller's module.
    pub(crate) fn get_or_add(
        &'static self,
        parent: &device::Device,
        node: &FwNode,
        name: fmt::Arguments<'_>,
        dma_bits: u32,
        data: impl FnOnce() -> T,
    ) -> Result<Device<T>> {
        if !node.is_of_node() {
            return Err(EINVAL);
        }
        // A `fwnode_handle` that is an OF node is embedded in it.
        // SAFETY: `node` is an OF node, so its fwnode lies inside a
        // `device_node`.
        let np = unsafe {
            super::fwnode_raw(node)
                .byte_sub(mem::offset_of!(bindings::device_node, fwnode))
                .cast::<bindings::device_node>()
        };
        let name = CString::try_from_fmt(name)?;
        let guard = DEVICES.lock();
        // SAFETY: The bus is registered; the match function compares the
        // device's `of_node` with `np`, which `node` keeps alive.
        let found = unsafe {
            bindings::bus_find_device(
                self.raw.get(),
                ptr::null_mut(),
                np.cast::<c_void>(),
                Some(bindings::device_match_of_node),
            )
        };
        if let Some(dev) = NonNull::new(found) {
            // `bus_find_device()` took a reference, which the handle owns.
            // INVARIANT: Every device on our bus is the first field of an
            // `Inner<T>`; found under `DEVICES`, it is still added and has
            // users (the last user deletes it under the same lock).
            let handle = Device {
                inner: dev.cast::<Inner<T>>(),
            };
            handle.inner().users.fetch_add(1, Relaxed);
            // The handle may drop (and take the lock) from here on.
            drop(guard);
            // SAFETY: Both devices are alive; a move keeps the device's
            // registration, IOMMU group and DMA state.
            to_result(unsafe {
                bindings::device_move(
                    dev.as_ptr().cast::<bindings::device>(),
                    super::dev_raw(parent),
                    bindings::dpm_order_DPM_ORDER_NONE,
                )
            })?;
            return Ok(handle);
        }
        // SAFETY: The bus is registered and `name` a C string; the match
        // function compares device names.
        let clash = unsafe {
            bindings::bus_find_device(
                self.raw.get(),
                ptr::null_mut(),
                name.as_char_ptr().cast::<c_void>(),
                Some(bindings::device_match_name),
            )
        };
        if !clash.is_null() {
            // SAFETY: `bus_find_device()` returned a reference.
            unsafe { bindings::put_device(clash) };
            dev_err!(parent, "{:?} exists for another device-tree node\n", name);
            return Err(EBUSY);
        }
        self.add_locked(parent, np, &name, dma_bits, data())
    }

    /// Creates and adds a device for `np`; `DEVICES` is held.
    fn add_locked(
        &self,
        parent: &device::Device,
        np: *mut bindings::device_node,
        name: &CStr,
        dma_bits: u32,
        data: T,
    ) -> Result<Device<T>> {
        let inner = KBox::new(
            Inner {
                dev: Opaque::zeroed(),
                users: Atomic::new(0),
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
        // points into the same allocation or to `'static` data. `np` is a
        // live node (the caller holds its fwnode).
        unsafe {
            let dev = (*inner).dev.get();
            bindings::device_initialize(dev);
            (*dev).release = Some(release::<T>);
            (*dev).bus = self.raw.get();
            (*dev).parent = super::dev_raw(parent);
            (*dev).of_node = bindings::of_node_get(np);
            (*dev).fwnode = ptr::addr_of_mut!((*np).fwnode);
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
        // SAFETY: `inner` is valid and initialised.
        let dev = unsafe { (*inner).dev.get() };
        // SAFETY: `dev` is initialised; the format string takes one C string.
        let ret = unsafe { bindings::dev_set_name(dev, c"%s".as_char_ptr(), name.as_char_ptr()) };
        if let Err(e) = to_result(ret).and_then(|()| {
            // SAFETY: `dev` is initialised and named.
            to_result(unsafe { bindings::device_add(dev) })
        }) {
            // SAFETY: Never added: dropping our reference frees it.
            unsafe { bindings::put_device(dev) };
            return Err(e);
        }
        // SAFETY: `dev` is added and `np` is its live node.
        if let Err(e) = unsafe { configure_dma(dev, np) } {
            // SAFETY: Added above, never handed out, `DEVICES` held.
            unsafe { delete_locked(dev) };
            // SAFETY: Our reference from `device_initialize()`.
            unsafe { bindings::put_device(dev) };
            return Err(e);
        }
        // SAFETY: `inner` is valid.
        unsafe { (*inner).users.store(1, Relaxed) };
        // INVARIANT: Added above; the handle owns the initial reference and
        // is the only user.
        Ok(Device {
            // SAFETY: From `KBox::into_raw`, never null.
            inner: unsafe { NonNull::new_unchecked(inner) },
        })
    }
}

/// Gives an added device its DMA configuration: with an `iommus` property
/// on `np` its IOMMU group and default domain, otherwise dma-direct.
///
/// # Safety
///
/// `dev` must be a device added to a bus, `np` its live `of_node`.
unsafe fn configure_dma(dev: *mut bindings::device, np: *mut bindings::device_node) -> Result {
    // SAFETY: `dev` is valid for the call (safety requirements).
    let d: &device::Device = unsafe { device::Device::from_raw(dev) };
    // SAFETY: `dev` has been added to its bus and `np` is its node;
    // `of_iommu_configure()` calls `iommu_probe_device()` itself.
    let ret = unsafe { bindings::of_dma_configure_id(dev, np, true, ptr::null()) };
    if ret == EPROBE_DEFER.to_errno() {
        dev_info!(d, "IOMMU not ready, deferring\n");
    }
    to_result(ret).inspect_err(|e| {
        if *e != EPROBE_DEFER {
            dev_err!(d, "DMA/IOMMU configuration failed: {:?}\n", e);
        }
    })?;
    // SAFETY: `np` is a live node; the property name is a C string.
    let wants_iommu = unsafe {
        !bindings::of_find_property(np, c"iommus".as_char_ptr(), ptr::null_mut()).is_null()
    };
    // SAFETY: `dev` is valid.
    if wants_iommu && !unsafe { bindings::qda_device_has_iommu_group(dev) } {
        // `of_dma_configure_id()` returns 0 when the IOMMU did not take the
        // device (e.g. `iommus` naming a node that is no IOMMU).
        dev_err!(d, "has an iommus property but no IOMMU group\n");
        return Err(ENODEV);
    }
    Ok(())
}

/// Takes an added device out of its IOMMU group (if it is in one), then off
/// its bus.
///
/// # Safety
///
/// `dev` must be an added device of a [`Bus`] with no user left and no DMA
/// memory allocated for it, and [`DEVICES`] must be held.
unsafe fn delete_locked(dev: *mut bindings::device) {
    // SAFETY: By the safety requirements; the group goes before the device
    // so that the IOMMU core still finds it attached while detaching.
    unsafe {
        if bindings::qda_device_has_iommu_group(dev) {
            bindings::qda_iommu_group_remove_device(dev);
        }
        bindings::device_del(dev);
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
    /// Handles on the registration; changes from or to zero only under
    /// [`DEVICES`].
    users: Atomic<usize>,
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

/// A counted handle on a device of a [`Bus`]; the last one takes the device
/// out of its IOMMU group and deletes it.
///
/// # Invariants
///
/// `inner` points to an `Inner<T>` whose device is added to its bus; this
/// handle owns one device reference and is counted in `users`.
pub(crate) struct Device<T: DeviceData> {
    inner: NonNull<Inner<T>>,
}

// SAFETY: The device is refcounted by the driver core and `T` is
// `Send + Sync`.
unsafe impl<T: DeviceData> Send for Device<T> {}
// SAFETY: See above.
unsafe impl<T: DeviceData> Sync for Device<T> {}

impl<T: DeviceData> Device<T> {
    fn inner(&self) -> &Inner<T> {
        // SAFETY: `inner` is valid while we hold our reference (type
        // invariant).
        unsafe { self.inner.as_ref() }
    }

    fn raw(&self) -> *mut bindings::device {
        self.inner().dev.get()
    }

    /// Returns the driver data.
    pub(crate) fn data(&self) -> &T {
        &self.inner().data
    }

    /// Returns the generic device, registered (and in its IOMMU group) for
    /// as long as this handle lives.
    pub(crate) fn as_dev(&self) -> &device::Device {
        // SAFETY: The device is valid while we hold our reference.
        unsafe { device::Device::from_raw(self.raw()) }
    }

    /// Moves the device out of its parent, to the top of the device
    /// hierarchy, while it waits for its last users (its parent is going
    /// away).
    pub(crate) fn orphan(&self) {
        // SAFETY: The device is added (type invariant); moving to no parent
        // keeps its registration, IOMMU group and DMA state.
        let ret = unsafe {
            bindings::device_move(
                self.raw(),
                ptr::null_mut(),
                bindings::dpm_order_DPM_ORDER_NONE,
            )
        };
        if ret != 0 {
            dev_warn!(self.as_dev(), "cannot detach from its parent: {}\n", ret);
        }
    }
}

impl<T: DeviceData> Clone for Device<T> {
    fn clone(&self) -> Self {
        // Our own count keeps `users` above zero: no lock needed.
        self.inner().users.fetch_add(1, Relaxed);
        // SAFETY: The device is valid (type invariant).
        unsafe { bindings::get_device(self.raw()) };
        // INVARIANT: Reference and user count taken above.
        Self { inner: self.inner }
    }
}

impl<T: DeviceData> Drop for Device<T> {
    fn drop(&mut self) {
        let dev = self.raw();
        {
            let _guard = DEVICES.lock();
            if self.inner().users.fetch_sub(1, Relaxed) == 1 {
                // SAFETY: The last user of an added device (type invariant):
                // every DMA buffer of it is gone (they hold handles), and
                // `DEVICES` is held.
                unsafe { delete_locked(dev) };
            }
        }
        // SAFETY: We own a reference (type invariant).
        unsafe { bindings::put_device(dev) };
    }
}
