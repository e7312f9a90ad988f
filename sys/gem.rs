// SPDX-License-Identifier: GPL-2.0

//! GEM objects of accel devices, with user-space mmap and PRIME export.
//!
//! `kernel::drm::gem` objects have no `mmap`, `get_sg_table` or export, and
//! its allocation trait is sealed, so this module provides a small GEM object
//! type for drivers that manage their own backing memory: the driver data
//! decides how the object is mapped (`mmap`) and exported (`sg_table`), the
//! DRM core keeps doing handles, fake mmap offsets, reference counting and
//! the dma-buf side of PRIME. Upstream home: `rust/kernel/drm/gem/`.
//!
//! C header: [`include/drm/drm_gem.h`].

use super::{accel, bindings};
use core::{
    ffi::c_int,
    ptr::{self, NonNull},
};
use kernel::{
    error::to_result,
    fs::LocalFile,
    prelude::*,
    sync::aref::{ARef, AlwaysRefCounted},
    types::Opaque,
};

/// Driver data of a GEM object.
pub(crate) trait DriverObject: Send + Sync + Sized + 'static {
    /// Maps the object into `vma`, whose page offset is already relative to
    /// the start of the object and whose range lies within it. Called for
    /// shared mappings only; private (copy-on-write) ones are refused before.
    fn mmap(obj: &Object<Self>, vma: &Vma) -> Result;

    /// Returns the pages of the object for an importer of its dma-buf.
    fn sg_table(obj: &Object<Self>) -> Result<SgTable>;
}

/// A virtual memory area being set up by `mmap`.
#[repr(transparent)]
pub(crate) struct Vma(Opaque<bindings::vm_area_struct>);

impl Vma {
    /// # Safety
    ///
    /// `raw` must be a VMA under setup by an mmap callback, valid for the
    /// returned lifetime.
    unsafe fn from_raw<'a>(raw: *mut bindings::vm_area_struct) -> &'a Self {
        // SAFETY: `Vma` is a transparent wrapper.
        unsafe { &*raw.cast::<Self>() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::vm_area_struct {
        self.0.get()
    }

    /// Offset into the object, in pages.
    pub(crate) fn pgoff(&self) -> usize {
        // SAFETY: The VMA is valid and not yet visible to other threads.
        unsafe { (*self.as_raw()).vm_pgoff }
    }
}

/// A scatter table to hand to the DRM core, which frees it.
///
/// # Invariants
///
/// `0` is a `kmalloc`ed, initialised `sg_table` owned by this value.
pub(crate) struct SgTable(NonNull<bindings::sg_table>);

impl SgTable {
    /// # Safety
    ///
    /// `raw` must be a `kmalloc`ed, initialised table that the caller gives
    /// away.
    pub(crate) unsafe fn from_raw(raw: *mut bindings::sg_table) -> Result<Self> {
        NonNull::new(raw).map(Self).ok_or(ENOMEM)
    }

    fn into_raw(self) -> *mut bindings::sg_table {
        let raw = self.0.as_ptr();
        core::mem::forget(self);
        raw
    }
}

impl Drop for SgTable {
    fn drop(&mut self) {
        // SAFETY: Owned table (type invariant).
        unsafe {
            bindings::sg_free_table(self.0.as_ptr());
            bindings::kfree(self.0.as_ptr().cast());
        }
    }
}

/// A GEM object with driver data `T`.
///
/// # Invariants
///
/// `obj` was initialised by `drm_gem_private_object_init()` with
/// [`Object::<T>::FUNCS`] and this structure (from `KBox`) as container;
/// `data` is valid while the refcount is non-zero.
#[repr(C)]
pub(crate) struct Object<T: DriverObject> {
    obj: Opaque<bindings::drm_gem_object>,
    data: T,
}

impl<T: DriverObject> Object<T> {
    const VM_OPS: bindings::vm_operations_struct = {
        let mut ops: bindings::vm_operations_struct = pin_init::zeroed();
        ops.open = Some(bindings::drm_gem_vm_open);
        ops.close = Some(bindings::drm_gem_vm_close);
        ops
    };

    const FUNCS: bindings::drm_gem_object_funcs = {
        let mut f: bindings::drm_gem_object_funcs = pin_init::zeroed();
        f.free = Some(Self::free_callback);
        f.mmap = Some(Self::mmap_callback);
        f.get_sg_table = Some(Self::get_sg_table_callback);
        f.status = Some(Self::status_callback);
        f.vm_ops = &Self::VM_OPS;
        f
    };

    /// Creates an object of `size` bytes (a multiple of the page size) on
    /// `dev`.
    pub(crate) fn new<D: accel::Driver<Object = T>>(
        dev: &accel::Device<D>,
        size: usize,
        data: T,
    ) -> Result<ARef<Self>> {
        if size == 0 || size % kernel::page::PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        let this = KBox::new(
            Self {
                obj: Opaque::zeroed(),
                data,
            },
            GFP_KERNEL,
        )?;
        let this = KBox::into_raw(this);
        // SAFETY: `this` is a valid, exclusively owned allocation; from here
        // on the GEM refcount (one) owns it and `free_callback` frees it.
        unsafe {
            let obj = (*this).obj.get();
            (*obj).funcs = const { &Self::FUNCS };
            bindings::drm_gem_private_object_init(dev.as_raw(), obj, size);
        }
        // SAFETY: The refcount is one and handed to the `ARef`.
        // INVARIANT: initialised above with our funcs.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(this)) })
    }

    /// Looks up `handle` in `file`; `ENOENT` if it names nothing.
    pub(crate) fn lookup<D: accel::Driver<Object = T>>(
        file: &accel::File<D>,
        handle: u32,
    ) -> Result<ARef<Self>> {
        // SAFETY: `file` is a valid open file.
        let obj = unsafe { bindings::drm_gem_object_lookup(file.as_raw(), handle) };
        let obj = NonNull::new(obj).ok_or(ENOENT)?;
        // SAFETY: Every object of a device of driver `D` is an `Object<T>`
        // (created by `new`, or an import of our own export, which is one);
        // the lookup took the reference handed to the `ARef`.
        Ok(unsafe { ARef::from_raw(obj.cast::<Self>()) })
    }

    /// Returns the driver data.
    pub(crate) fn data(&self) -> &T {
        &self.data
    }

    /// Size in bytes.
    pub(crate) fn size(&self) -> usize {
        // SAFETY: `size` is immutable after initialisation.
        unsafe { (*self.obj.get()).size }
    }

    /// Creates a handle for the object in `file`.
    pub(crate) fn create_handle<D: accel::Driver<Object = T>>(
        &self,
        file: &accel::File<D>,
    ) -> Result<u32> {
        let mut handle = 0;
        // SAFETY: Valid file and object; the core takes its own reference.
        to_result(unsafe {
            bindings::drm_gem_handle_create(file.as_raw(), self.obj.get(), &mut handle)
        })?;
        Ok(handle)
    }

    /// Returns the fake offset to pass to `mmap()` on the device file.
    pub(crate) fn mmap_offset(&self) -> Result<u64> {
        // SAFETY: Valid object; creating the offset is idempotent and locked
        // by the core.
        to_result(unsafe { bindings::drm_gem_create_mmap_offset(self.obj.get()) })?;
        // SAFETY: The offset node was set up above.
        Ok(unsafe { bindings::drm_vma_node_offset_addr(&raw mut (*self.obj.get()).vma_node) })
    }

    /// Returns the offset into the object of the user address `addr` of
    /// the calling process, checking that `addr..addr + len` lies in one
    /// mapping of this object (its GEM mmap, or an mmap of the dma-buf it
    /// was exported as or imported from) and inside the object. `EFAULT`
    /// when the address is not mapped, `EINVAL` when it maps something else
    /// or the range leaves the mapping or the object.
    ///
    /// Locking: the VMA is looked up under the mmap lock, which also keeps
    /// its file alive while a reference is taken on it; the object's
    /// `dma_buf` is then compared with that file under the DRM core's
    /// `object_name_lock`, after the mmap lock is dropped, so the two never
    /// nest.
    pub(crate) fn user_offset(&self, addr: u64, len: u64) -> Result<u64> {
        let ua = usize::try_from(addr).map_err(|_| EFAULT)?;
        let (mut private, mut file) = (ptr::null_mut(), ptr::null_mut());
        let (mut start, mut end, mut pgoff) = (0, 0, 0);
        // SAFETY: Plain out pointers; the helper takes the mmap lock and
        // returns the VMA's file with a reference taken for us.
        kernel::error::to_result(unsafe {
            bindings::qda_user_vma(
                ua,
                &mut private,
                &mut file,
                &mut start,
                &mut end,
                &mut pgoff,
            )
        })?;
        // Dropped (`fput()`) on every path out of here, with no lock held.
        let file = NonNull::new(file).map(|f| {
            // SAFETY: `qda_user_vma()` took a reference on the file for us,
            // which the `ARef` now owns; `LocalFile` is a transparent
            // wrapper of `struct file`, only used on this thread.
            unsafe { ARef::<LocalFile>::from_raw(f.cast()) }
        });
        let obj = self.obj.get();
        let mapped = if private == obj.cast() {
            // A GEM mmap of ours: `vm_pgoff` is relative to the object. We
            // hold a reference on `obj`, so no other object can have its
            // address.
            true
        } else if let Some(f) = &file {
            // SAFETY: `obj` is live (we hold a reference) and `f` is a file
            // we hold a reference on; the helper only compares it with
            // `obj->dma_buf->file` under `object_name_lock`, which the DRM
            // core holds whenever it sets or clears `obj->dma_buf`.
            unsafe { bindings::qda_gem_is_dma_buf_file(obj, f.as_ptr()) }
        } else {
            false
        };
        drop(file);
        if !mapped {
            return Err(EINVAL);
        }
        let in_vma = (addr - start as u64)
            .checked_add((pgoff as u64) << kernel::page::PAGE_SHIFT)
            .ok_or(EINVAL)?;
        let last = addr.checked_add(len).ok_or(EINVAL)?;
        let in_obj = in_vma.checked_add(len).ok_or(EINVAL)?;
        if last > end as u64 || in_obj > self.size() as u64 {
            return Err(EINVAL);
        }
        Ok(in_vma)
    }

    /// Records `attach` as the object's import attachment, which the DRM
    /// core uses to tell imported objects apart (e.g. in memory stats).
    /// The caller keeps `attach` alive as long as the object.
    pub(crate) fn set_import_attach(&self, attach: &super::dma::Attachment) {
        // SAFETY: Callers serialise this against other writers; readers in
        // the core only test the pointer.
        unsafe { (*self.obj.get()).import_attach = attach.as_raw() };
    }

    /// Lets the exporter of `buf` map `vma` instead of us: for objects that
    /// wrap an imported dma-buf.
    pub(crate) fn mmap_dma_buf(&self, buf: &super::dma::DmaBuf, vma: &Vma) -> Result {
        let pgoff = vma.pgoff();
        // SAFETY: `vma` is under setup. The exporter installs its own
        // `vm_ops`; ours (which would drop the reference
        // `drm_gem_mmap_obj()` took) must not stay behind.
        unsafe {
            (*vma.as_raw()).vm_private_data = ptr::null_mut();
            (*vma.as_raw()).vm_ops = ptr::null();
        }
        super::dma::mmap_dma_buf(buf, vma, pgoff)?;
        // SAFETY: The mapping now belongs to the dma-buf; drop the reference
        // `drm_gem_mmap_obj()` took for our `vm_close`, which will not run.
        unsafe { bindings::drm_gem_object_put(self.obj.get()) };
        Ok(())
    }

    /// # Safety
    ///
    /// `obj` must be the `drm_gem_object` of a live `Object<T>`.
    unsafe fn from_gem<'a>(obj: *mut bindings::drm_gem_object) -> &'a Self {
        // SAFETY: `obj` is the first field of a `#[repr(C)]` `Self`.
        unsafe { &*obj.cast::<Self>() }
    }

    extern "C" fn free_callback(obj: *mut bindings::drm_gem_object) {
        // SAFETY: The core calls `free` once, when the last reference is
        // gone; the object came from `KBox::into_raw` in `new`.
        unsafe {
            bindings::drm_gem_object_release(obj);
            drop(KBox::from_raw(obj.cast::<Self>()));
        }
    }

    extern "C" fn mmap_callback(
        obj: *mut bindings::drm_gem_object,
        raw_vma: *mut bindings::vm_area_struct,
    ) -> c_int {
        // SAFETY: The core passes a live object of ours and a VMA under setup.
        let (this, vma) = unsafe { (Self::from_gem(obj), Vma::from_raw(raw_vma)) };
        // SAFETY: As above. Copy-on-write mappings of device memory make no
        // sense (and would break `remap_pfn_range()`'s offset use).
        if unsafe { bindings::qda_vma_is_cow(raw_vma) } {
            return EINVAL.to_errno();
        }
        // SAFETY: As above; make the page offset relative to the object (the
        // core checked that the range lies inside it) and keep the VMA from
        // growing or being dumped.
        unsafe {
            (*raw_vma).vm_pgoff -= bindings::qda_drm_vma_node_start(&raw mut (*obj).vma_node);
            bindings::qda_vma_set_flags(
                raw_vma,
                (bindings::VM_DONTEXPAND | bindings::VM_DONTDUMP) as kernel::ffi::c_ulong,
            );
        }
        match T::mmap(this, vma) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    extern "C" fn get_sg_table_callback(
        obj: *mut bindings::drm_gem_object,
    ) -> *mut bindings::sg_table {
        // SAFETY: The core passes a live object of ours.
        let this = unsafe { Self::from_gem(obj) };
        match T::sg_table(this) {
            Ok(sgt) => sgt.into_raw(),
            Err(e) => e.to_ptr(),
        }
    }

    extern "C" fn status_callback(
        _obj: *mut bindings::drm_gem_object,
    ) -> bindings::drm_gem_object_status {
        // Backing memory is allocated at creation and never swapped.
        bindings::drm_gem_object_status_DRM_GEM_OBJECT_RESIDENT
    }

    /// Hands the caller's reference to a raw pointer (for the DRM core).
    pub(crate) fn into_raw(this: ARef<Self>) -> *mut bindings::drm_gem_object {
        ARef::into_raw(this).as_ptr().cast()
    }
}

// SAFETY: GEM objects are refcounted with `drm_gem_object_get/put()`.
unsafe impl<T: DriverObject> AlwaysRefCounted for Object<T> {
    fn inc_ref(&self) {
        // SAFETY: A shared reference implies a non-zero refcount.
        unsafe { bindings::drm_gem_object_get(self.obj.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference.
        unsafe { bindings::drm_gem_object_put(obj.as_ptr().cast()) };
    }
}

// SAFETY: The core serialises its own fields; `T` is `Send + Sync`.
unsafe impl<T: DriverObject> Send for Object<T> {}
// SAFETY: See above.
unsafe impl<T: DriverObject> Sync for Object<T> {}
