// SPDX-License-Identifier: GPL-2.0

//! DRM accel devices: `/dev/accel/accelN` nodes, their open files and ioctls.
//!
//! `kernel::drm` only creates render/primary DRM devices (its vtable has no
//! `DRIVER_COMPUTE_ACCEL` and its fops call `drm_open`), so this module
//! provides the accel counterpart. It would belong upstream next to
//! `rust/kernel/drm/device.rs` as `rust/kernel/drm/accel.rs`.
//!
//! C headers: [`include/drm/drm_accel.h`], [`include/drm/drm_drv.h`].

use super::{bindings, dma::DmaBuf, gem};
use core::{
    ffi::{c_int, c_void},
    fmt,
    marker::PhantomData,
    mem,
    ptr::{self, NonNull},
};
use kernel::{
    device,
    error::from_err_ptr,
    module::{this_module, ModuleMetadata},
    prelude::*,
    sync::aref::{ARef, AlwaysRefCounted},
    transmute::{AsBytes, FromBytes},
    types::Opaque,
};

/// Static description of an accel driver, reported by `DRM_IOCTL_VERSION`.
pub(crate) struct DriverInfo {
    /// Driver name, e.g. `qda`.
    pub(crate) name: &'static CStr,
    /// One-line description.
    pub(crate) desc: &'static CStr,
    /// Major version.
    pub(crate) major: i32,
    /// Minor version.
    pub(crate) minor: i32,
}

/// An accel driver: device-wide data, per-open-file data and an ioctl table.
pub(crate) trait Driver: Sized + 'static {
    /// Data owned by each [`Device`], dropped when the last reference to the
    /// device goes away (which may be after the parent device is gone).
    type Data: Send + Sync;
    /// Data owned by each open file of a device.
    type File: Send + Sync;
    /// The module that owns the driver; pins it while files are open.
    type OwnerModule: ModuleMetadata;
    /// Driver data of every GEM object of the device.
    type Object: gem::DriverObject;

    /// Name, description and version.
    const INFO: DriverInfo;

    /// Driver ioctls, indexed by `nr - DRM_COMMAND_BASE`; build it with
    /// [`declare_accel_ioctls!`](crate::declare_accel_ioctls).
    const IOCTLS: &'static [IoctlDesc<Self>];

    /// Called when user space opens the device.
    fn open(dev: &Device<Self>) -> Result<Pin<KBox<Self::File>>>;

    /// Wraps a dma-buf from another exporter in a GEM object (PRIME import).
    /// Our own exports never come here: their object is reused.
    fn import(dev: &Device<Self>, buf: DmaBuf) -> Result<ARef<gem::Object<Self::Object>>>;

    /// Called after PRIME import gave `file` the `handle`; an error deletes
    /// the handle and fails the import. `ENOENT` says the handle names
    /// nothing any more (user space closed it meanwhile): it fails the
    /// import without deleting anything, as the number may have been given
    /// to a new object by then.
    fn imported(dev: &Device<Self>, file: &File<Self>, handle: u32) -> Result;

    /// Writes driver-specific `key:\tvalue` lines to the file's fdinfo,
    /// after the DRM core's and the standard memory statistics.
    fn fdinfo(dev: &Device<Self>, file: &File<Self>, out: &mut dyn fmt::Write) -> fmt::Result;
}

/// A DRM accel device.
///
/// # Invariants
///
/// `dev` is a `struct drm_device` allocated by `__drm_dev_alloc()` with
/// [`Device::<T>::VTABLE`] as driver and this structure as container, and
/// `data` is initialised for as long as the refcount of `dev` is non-zero.
#[repr(C)]
pub(crate) struct Device<T: Driver> {
    dev: Opaque<bindings::drm_device>,
    data: T::Data,
}

impl<T: Driver> Device<T> {
    const FOPS: bindings::file_operations = {
        let mut fops: bindings::file_operations = pin_init::zeroed();
        fops.owner = this_module::<T::OwnerModule>().as_ptr();
        fops.open = Some(bindings::accel_open);
        fops.release = Some(bindings::drm_release);
        // `drm_ioctl()` behind a filter: core ioctls only as a render
        // node has them (an accel file has no master; sys/helpers.c).
        fops.unlocked_ioctl = Some(bindings::qda_accel_ioctl);
        #[cfg(CONFIG_COMPAT)]
        {
            fops.compat_ioctl = Some(bindings::qda_accel_compat_ioctl);
        }
        fops.poll = Some(bindings::drm_poll);
        fops.read = Some(bindings::drm_read);
        fops.llseek = Some(bindings::noop_llseek);
        fops.mmap = Some(bindings::drm_gem_mmap);
        fops.fop_flags = bindings::FOP_UNSIGNED_OFFSET;
        fops.show_fdinfo = Some(bindings::drm_show_fdinfo);
        fops
    };

    const VTABLE: bindings::drm_driver = {
        let mut drv: bindings::drm_driver = pin_init::zeroed();
        drv.open = Some(Self::open_callback);
        drv.postclose = Some(Self::postclose_callback);
        drv.release = Some(Self::release_callback);
        drv.gem_prime_import = Some(Self::gem_prime_import_callback);
        drv.prime_fd_to_handle = Some(Self::prime_fd_to_handle_callback);
        drv.show_fdinfo = Some(Self::show_fdinfo_callback);
        drv.major = T::INFO.major;
        drv.minor = T::INFO.minor;
        drv.name = kernel::str::as_char_ptr_in_const_context(T::INFO.name).cast_mut();
        drv.desc = kernel::str::as_char_ptr_in_const_context(T::INFO.desc).cast_mut();
        drv.driver_features = bindings::drm_driver_feature_DRIVER_COMPUTE_ACCEL
            | bindings::drm_driver_feature_DRIVER_GEM;
        // `IoctlDesc` is a transparent wrapper of `drm_ioctl_desc`.
        drv.ioctls = T::IOCTLS.as_ptr().cast::<bindings::drm_ioctl_desc>();
        drv.num_ioctls = T::IOCTLS.len() as i32;
        drv.fops = &Self::FOPS;
        drv
    };

    /// Allocates a new, unregistered accel device below `parent`.
    pub(crate) fn new(parent: &device::Device, data: T::Data) -> Result<ARef<Self>> {
        // Allocate with a vtable without `release` so that a failure before
        // `data` is written does not drop uninitialised memory.
        let alloc_vtable = bindings::drm_driver {
            release: None,
            ..Self::VTABLE
        };
        // SAFETY: `parent` is a valid device; `alloc_vtable` outlives the
        // call, which only stores the pointer until we replace it below; the
        // size and offset describe `Self`, which embeds the `drm_device`.
        let raw = unsafe {
            bindings::__drm_dev_alloc(
                super::dev_raw(parent),
                &alloc_vtable,
                mem::size_of::<Self>(),
                mem::offset_of!(Self, dev),
            )
        };
        let raw = from_err_ptr(raw)?.cast::<Self>();
        let this = NonNull::new(raw).ok_or(ENOMEM)?;
        // SAFETY: `this` points at a freshly allocated, private `Self`; the
        // `data` field is uninitialised and written exactly once here.
        unsafe { ptr::addr_of_mut!((*this.as_ptr()).data).write(data) };
        // SAFETY: The device is still private to this function; from now on
        // its release callback drops `data`, which is initialised.
        unsafe { (*Self::raw_of(this.as_ptr())).driver = const { &Self::VTABLE } };
        // SAFETY: `__drm_dev_alloc` returned the device with a refcount of one,
        // which we hand over to the `ARef`.
        // INVARIANT: allocated with our vtable, `data` initialised above.
        Ok(unsafe { ARef::from_raw(this) })
    }

    fn raw_of(this: *mut Self) -> *mut bindings::drm_device {
        // `dev` is the first field of a `#[repr(C)]` struct.
        this.cast()
    }

    /// Returns the raw `struct drm_device`.
    pub(crate) fn as_raw(&self) -> *mut bindings::drm_device {
        self.dev.get()
    }

    /// Returns the driver data.
    pub(crate) fn data(&self) -> &T::Data {
        &self.data
    }

    /// # Safety
    ///
    /// `raw` must be the `drm_device` of a live `Device<T>`, and the returned
    /// reference must not outlive it.
    unsafe fn from_raw<'a>(raw: *mut bindings::drm_device) -> &'a Self {
        // SAFETY: By the safety requirements `raw` is embedded at offset 0
        // of a live `Self`.
        unsafe { &*raw.cast::<Self>() }
    }

    extern "C" fn release_callback(raw: *mut bindings::drm_device) {
        // SAFETY: The DRM core calls `release` once, when the last reference
        // is gone; `raw` belongs to a `Self` whose `data` is initialised.
        unsafe { ptr::drop_in_place(ptr::addr_of_mut!((*raw.cast::<Self>()).data)) };
    }

    extern "C" fn gem_prime_import_callback(
        raw_dev: *mut bindings::drm_device,
        dma_buf: *mut bindings::dma_buf,
    ) -> *mut bindings::drm_gem_object {
        // SAFETY: The PRIME core calls this with a live device and dma-buf.
        if unsafe { bindings::drm_gem_is_prime_exported_dma_buf(raw_dev, dma_buf) } {
            // Our own export: hand back the same object, as
            // `drm_gem_prime_import()` does. Its `priv` is the GEM object.
            // SAFETY: The dma-buf holds a reference on that object.
            let obj = unsafe { (*dma_buf).priv_.cast::<bindings::drm_gem_object>() };
            // SAFETY: `obj` is live (see above); the reference we take goes
            // to the caller.
            unsafe { bindings::drm_gem_object_get(obj) };
            return obj;
        }
        // SAFETY: Live device (see above), of driver `T`.
        let dev = unsafe { Self::from_raw(raw_dev) };
        // SAFETY: `dma_buf` is live for the call.
        let res = unsafe { DmaBuf::get(dma_buf) }.and_then(|buf| T::import(dev, buf));
        match res {
            Ok(obj) => gem::Object::into_raw(obj),
            Err(e) => e.to_ptr(),
        }
    }

    extern "C" fn prime_fd_to_handle_callback(
        raw_dev: *mut bindings::drm_device,
        raw_file: *mut bindings::drm_file,
        fd: c_int,
        handle: *mut u32,
    ) -> c_int {
        // SAFETY: Called from the PRIME ioctl with a live device and file
        // and a valid out pointer; the core import keeps its per-file cache.
        let ret = unsafe { bindings::drm_gem_prime_fd_to_handle(raw_dev, raw_file, fd, handle) };
        if ret != 0 {
            return ret;
        }
        // SAFETY: As above; `open` succeeded for this file.
        let (dev, file, h) = unsafe {
            (
                Self::from_raw(raw_dev),
                File::<T>::from_raw(raw_file),
                *handle,
            )
        };
        match T::imported(dev, file, h) {
            Ok(()) => 0,
            // Closed by user space already; `h` may name another object.
            Err(e) if e == ENOENT => e.to_errno(),
            Err(e) => {
                // SAFETY: `h` is a handle of `file`.
                unsafe { bindings::drm_gem_handle_delete(raw_file, h) };
                e.to_errno()
            }
        }
    }

    extern "C" fn show_fdinfo_callback(
        p: *mut bindings::drm_printer,
        raw_file: *mut bindings::drm_file,
    ) {
        // SAFETY: Called by `drm_show_fdinfo()` with a live printer and an
        // open file of one of our devices.
        unsafe { bindings::drm_show_memory_stats(p, raw_file) };
        // SAFETY: As above.
        let (file, dev) = unsafe {
            (
                File::<T>::from_raw(raw_file),
                Self::from_raw((*(*raw_file).minor).dev),
            )
        };
        let mut out = Printer(p);
        let _ = T::fdinfo(dev, file, &mut out);
    }

    extern "C" fn open_callback(
        raw_dev: *mut bindings::drm_device,
        raw_file: *mut bindings::drm_file,
    ) -> c_int {
        // SAFETY: The DRM core holds a reference on the device during open.
        let dev = unsafe { Self::from_raw(raw_dev) };
        match T::open(dev) {
            Ok(data) => {
                // SAFETY: The file is private to the DRM core's open path;
                // `driver_priv` is ours. Ownership of the pinned box moves to
                // the file and is taken back in `postclose_callback`.
                unsafe {
                    (*raw_file).driver_priv =
                        KBox::into_raw(Pin::into_inner_unchecked(data)).cast::<c_void>()
                };
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    extern "C" fn postclose_callback(
        _raw_dev: *mut bindings::drm_device,
        raw_file: *mut bindings::drm_file,
    ) {
        // SAFETY: `postclose` is the last call for this file: nothing else
        // uses `driver_priv`, which `open_callback` set from `KBox::into_raw`.
        let data = unsafe { (*raw_file).driver_priv.cast::<T::File>() };
        if !data.is_null() {
            // SAFETY: See above; the box is reconstructed exactly once.
            drop(unsafe { KBox::from_raw(data) });
        }
    }
}

// SAFETY: `Device<T>` is refcounted through `drm_dev_get()`/`drm_dev_put()`
// and its `data` lives as long as the refcount is non-zero.
unsafe impl<T: Driver> AlwaysRefCounted for Device<T> {
    fn inc_ref(&self) {
        // SAFETY: A shared reference implies a non-zero refcount.
        unsafe { bindings::drm_dev_get(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns one reference.
        unsafe { bindings::drm_dev_put(Self::raw_of(obj.as_ptr())) };
    }
}

// SAFETY: The DRM core serialises its own state; `T::Data` is `Send + Sync`.
unsafe impl<T: Driver> Send for Device<T> {}
// SAFETY: See above.
unsafe impl<T: Driver> Sync for Device<T> {}

/// An open file of an accel device, as seen by an ioctl handler.
#[repr(transparent)]
pub(crate) struct File<T: Driver>(Opaque<bindings::drm_file>, PhantomData<T>);

impl<T: Driver> File<T> {
    /// # Safety
    ///
    /// `raw` must be an open file of a `Device<T>` whose `open` succeeded,
    /// valid for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(raw: *mut bindings::drm_file) -> &'a Self {
        // SAFETY: `File` is a transparent wrapper of `drm_file`.
        unsafe { &*raw.cast::<Self>() }
    }

    /// Returns the raw `struct drm_file`.
    pub(crate) fn as_raw(&self) -> *mut bindings::drm_file {
        self.0.get()
    }

    /// Calls `f` with each handle of the file and its object, in handle
    /// order, under the file's handle table lock: `f` must not sleep.
    pub(crate) fn for_each_object(&self, mut f: impl FnMut(u32, &gem::Object<T::Object>)) {
        let raw = self.as_raw();
        // SAFETY: `table_lock` protects `object_idr`; `f` cannot sleep (see
        // above), as a spinlock requires.
        unsafe { bindings::spin_lock(&raw mut (*raw).table_lock) };
        let mut id: c_int = 0;
        loop {
            // SAFETY: The idr is protected by the lock we hold.
            let obj = unsafe { bindings::idr_get_next(&raw mut (*raw).object_idr, &mut id) };
            if obj.is_null() {
                break;
            }
            // SAFETY: Every object of a device of driver `T` is a
            // `gem::Object<T::Object>`; the handle keeps it alive while the
            // lock is held.
            let obj = unsafe { &*obj.cast::<gem::Object<T::Object>>() };
            // Handles are positive `int`s.
            f(id as u32, obj);
            id = match id.checked_add(1) {
                Some(next) => next,
                None => break,
            };
        }
        // SAFETY: Locked above.
        unsafe { bindings::spin_unlock(&raw mut (*raw).table_lock) };
    }

    /// Returns the driver data of this file.
    pub(crate) fn data(&self) -> &T::File {
        // SAFETY: By the safety requirements of `from_raw`, `open` stored a
        // `T::File` in `driver_priv`, which lives until `postclose`, after
        // every other use of the file.
        unsafe { &*(*self.0.get()).driver_priv.cast::<T::File>() }
    }
}

/// Writes to a `struct drm_printer`.
struct Printer(*mut bindings::drm_printer);

impl fmt::Write for Printer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let len = c_int::try_from(s.len()).map_err(|_| fmt::Error)?;
        // SAFETY: The printer is live for the fdinfo callback; the format
        // consumes exactly a length and a pointer to that many bytes.
        unsafe { bindings::drm_printf(self.0, c"%.*s".as_char_ptr(), len, s.as_ptr()) };
        Ok(())
    }
}

/// A registered accel device: `/dev/accel/accelN` exists while this lives.
///
/// Dropping it unplugs the device (`drm_dev_unplug()`): open files stay valid
/// but every ioctl fails with `ENODEV`; the [`Device`] itself is freed when
/// the last file is closed.
pub(crate) struct Registration<T: Driver>(ARef<Device<T>>);

impl<T: Driver> Registration<T> {
    /// Registers `dev` with user space.
    pub(crate) fn new(dev: ARef<Device<T>>) -> Result<Self> {
        // SAFETY: `dev` is a valid, not yet registered device.
        kernel::error::to_result(unsafe { bindings::drm_dev_register(dev.as_raw(), 0) })?;
        Ok(Self(dev))
    }
}

impl<T: Driver> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: The device was registered in `new` and is unplugged once.
        unsafe { bindings::drm_dev_unplug(self.0.as_raw()) };
    }
}

/// A section during which the device cannot finish unplugging
/// (`drm_dev_enter()` .. `drm_dev_exit()`).
struct Entered(i32);

impl Entered {
    /// Enters `dev`; `None` once it is unplugged.
    ///
    /// # Safety
    ///
    /// `dev` must be a valid DRM device for the duration of the call.
    unsafe fn new(dev: *mut bindings::drm_device) -> Option<Self> {
        let mut idx = 0;
        // SAFETY: `dev` is valid (safety requirements); `idx` is a valid out
        // pointer.
        // `then`, not `then_some`: an `Entered` built eagerly for a device
        // that is gone would be dropped at once, leaving a section never
        // entered (`drm_dev_enter()` already left it; found by the fuzzer
        // as a lockdep "bad unlock balance" on `drm_unplug_srcu`).
        unsafe { bindings::drm_dev_enter(dev, &mut idx) }.then(|| Self(idx))
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        // SAFETY: Entered in `new` with this index, left once.
        unsafe { bindings::drm_dev_exit(self.0) };
    }
}

/// Direction of an ioctl's argument, as `_IO`, `_IOR`, `_IOW` and `_IOWR`
/// encode it in C.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoctlDir {
    /// No argument (`_IO`); the command type must be `()`.
    None,
    /// The kernel writes the argument (`_IOR`).
    Read,
    /// The kernel reads the argument (`_IOW`).
    Write,
    /// Both (`_IOWR`).
    ReadWrite,
}

/// One driver ioctl of an accel driver `D`.
///
/// [`declare_accel_ioctls!`](crate::declare_accel_ioctls) implements it for
/// a generated type per table entry. Implementing it is safe: the table
/// entry built from it ([`IoctlDesc::new`]) encodes the size of
/// [`Ioctl::Cmd`] in the command, which makes `drm_ioctl()` hand the
/// handler a buffer of at least that size, and checks at compile time that
/// [`Ioctl::Arg`] fits in it.
pub(crate) trait Ioctl<D: Driver>: 'static {
    /// The ioctl number, counted from `DRM_COMMAND_BASE`.
    const NR: u32;
    /// The direction of the argument.
    const DIR: IoctlDir;
    /// The type whose size the command encodes (`()` for [`IoctlDir::None`]).
    type Cmd;
    /// The type the handler gets: a UAPI struct (every bit pattern valid,
    /// no padding) no larger than [`Ioctl::Cmd`], usually the same type.
    type Arg: FromBytes + AsBytes;

    /// Handles the ioctl; the returned value (or the error's errno) is what
    /// user space gets. `arg` is copied back to user space for commands
    /// that read it.
    fn handle(dev: &Device<D>, arg: &mut Self::Arg, file: &File<D>) -> Result<i32>;
}

/// An entry of the ioctl table of driver `D`: a `drm_ioctl_desc` whose
/// function is the [`Ioctl`] handler of a driver-`D` ioctl.
///
/// # Invariants
///
/// The entry was built by [`IoctlDesc::new`]: its `func` is
/// `trampoline::<D, H>` for the [`Ioctl`] `H` whose command is `cmd`. The
/// type parameter keeps it out of the table of any other driver.
#[repr(transparent)]
pub(crate) struct IoctlDesc<D: Driver>(bindings::drm_ioctl_desc, PhantomData<D>);

impl<D: Driver> IoctlDesc<D> {
    /// The table entry of `H`. Fails to compile (in the constant holding
    /// the table) if `H::Arg` is larger than `H::Cmd`, or if an
    /// [`IoctlDir::None`] command has an argument.
    pub(crate) const fn new<H: Ioctl<D>>() -> Self {
        let size = mem::size_of::<H::Cmd>();
        assert!(
            mem::size_of::<H::Arg>() <= size,
            "the handler's argument must fit in the command's size"
        );
        let ty = b'd' as u32;
        let nr = kernel::uapi::DRM_COMMAND_BASE + H::NR;
        let cmd = match H::DIR {
            IoctlDir::None => {
                assert!(size == 0, "an _IO command takes no argument");
                kernel::ioctl::_IO(ty, nr)
            }
            IoctlDir::Read => kernel::ioctl::_IOR::<H::Cmd>(ty, nr),
            IoctlDir::Write => kernel::ioctl::_IOW::<H::Cmd>(ty, nr),
            IoctlDir::ReadWrite => kernel::ioctl::_IOWR::<H::Cmd>(ty, nr),
        };
        // INVARIANT: `func` is the trampoline of `H`, whose command is `cmd`.
        Self(
            bindings::drm_ioctl_desc {
                cmd,
                flags: 0,
                func: Some(trampoline::<D, H>),
                name: ptr::null(),
            },
            PhantomData,
        )
    }
}

/// Adapts the handler of `H` to `drm_ioctl_t`.
///
/// # Safety
///
/// Only `drm_ioctl()` may call this, for a device of driver `D` and one of
/// its open files, through the entry [`IoctlDesc::<D>::new::<H>`] of `D`'s
/// table, with the kernel copy of the argument.
unsafe extern "C" fn trampoline<D: Driver, H: Ioctl<D>>(
    raw_dev: *mut bindings::drm_device,
    raw_data: *mut c_void,
    raw_file: *mut bindings::drm_file,
) -> c_int {
    // SAFETY: `drm_ioctl()` calls us with a device of driver `D` (only its
    // table holds `IoctlDesc<D>` entries) that it holds a reference on, and
    // with an open file whose `open` succeeded.
    let (dev, file) = unsafe {
        (
            Device::<D>::from_raw(raw_dev),
            File::<D>::from_raw(raw_file),
        )
    };
    // `drm_ioctl()` passes a kernel buffer of at least `_IOC_SIZE(cmd)`
    // bytes, the size of `H::Cmd` by construction of `cmd`, which is no
    // smaller than `H::Arg` (checked by `IoctlDesc::new`); it is ours alone
    // for the call. It may be a `char` array on the stack with no particular
    // alignment (seen at 4-byte offsets on arm64), so the argument is copied
    // out and back rather than referenced in place.
    let raw_arg = raw_data.cast::<H::Arg>();
    // SAFETY: `raw_arg` is valid for reads of an `H::Arg` (above), for which
    // every bit pattern is valid (`FromBytes`).
    let mut arg = unsafe { raw_arg.read_unaligned() };
    // Fenced against unplug: `drm_dev_unplug()` waits for handlers already
    // running, later calls get ENODEV.
    // SAFETY: `raw_dev` is valid for the call (above).
    let Some(_entered) = (unsafe { Entered::new(raw_dev) }) else {
        return ENODEV.to_errno();
    };
    let ret = match H::handle(dev, &mut arg, file) {
        Ok(ret) => ret,
        Err(e) => e.to_errno(),
    };
    // SAFETY: As for the read; the argument has no padding (`AsBytes`), so
    // every byte `drm_ioctl()` copies back to user space for `_IOC_READ`
    // commands is initialised.
    unsafe { raw_arg.write_unaligned(arg) };
    ret
}

/// Declares the ioctl table of an accel driver.
///
/// Entries are `(number, direction, argument type, handler)`, with numbers
/// starting at `DRM_COMMAND_BASE + 0` and without gaps (checked at compile
/// time), and handlers of the form
/// `fn(&accel::Device<D>, &mut Arg, &accel::File<D>) -> Result<i32>`. The
/// argument type must be a UAPI struct for which every bit pattern is valid
/// and that has no padding (`FromBytes + AsBytes`); the direction is one of
/// `IOR`, `IOW`, `IOWR` or `IO` (with argument type `()`) as in the UAPI
/// header. `cmd_type as data_type` encodes the command with the size of
/// `cmd_type` but hands the handler a `data_type`, which must not be larger
/// (for UAPIs whose command and argument sizes differ).
///
/// The expansion is safe code: a type per entry implementing [`Ioctl`] and
/// its [`IoctlDesc`]; the `unsafe` adapter to the DRM core is
/// `trampoline`, in this module.
#[macro_export]
macro_rules! declare_accel_ioctls {
    ($drv:ty; $( ($nr:expr, $dir:ident, $arg:ty $(as $data:ty)?, $func:path) ),* $(,)?) => {{
        const _: () = {
            let mut i: u32 = 0;
            $(
                ::core::assert!($nr == i, "accel ioctls must be listed in order without gaps");
                i += 1;
            )*
            let _ = i;
        };
        &[$({
            /// The handler of one table entry.
            struct Handler;

            impl $crate::sys::accel::Ioctl<$drv> for Handler {
                const NR: u32 = $nr;
                const DIR: $crate::sys::accel::IoctlDir =
                    $crate::declare_accel_ioctls!(@dir $dir);
                type Cmd = $arg;
                type Arg = $crate::declare_accel_ioctls!(@data $arg $(, $data)?);

                fn handle(
                    dev: &$crate::sys::accel::Device<$drv>,
                    arg: &mut Self::Arg,
                    file: &$crate::sys::accel::File<$drv>,
                ) -> ::kernel::error::Result<i32> {
                    $func(dev, arg, file)
                }
            }

            $crate::sys::accel::IoctlDesc::<$drv>::new::<Handler>()
        }),*]
    }};
    (@data $arg:ty) => { $arg };
    (@data $arg:ty, $data:ty) => { $data };
    (@dir IO) => { $crate::sys::accel::IoctlDir::None };
    (@dir IOR) => { $crate::sys::accel::IoctlDir::Read };
    (@dir IOW) => { $crate::sys::accel::IoctlDir::Write };
    (@dir IOWR) => { $crate::sys::accel::IoctlDir::ReadWrite };
}
