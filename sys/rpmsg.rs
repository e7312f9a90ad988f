// SPDX-License-Identifier: GPL-2.0

//! rpmsg drivers and endpoints.
//!
//! A [`Registration`] registers an rpmsg driver matching device-tree
//! compatibles. For each matching channel the rpmsg core creates the
//! driver's endpoint and calls [`Driver::probe`]; messages arriving on the
//! endpoint go to [`Driver::callback`]; [`Sender::send`] sends on it.
//!
//! Lifetime of the per-channel data ([`Driver::Data`] and the channel's
//! [`Sender`]), in the order things happen:
//!
//! - The rpmsg core creates the endpoint before it calls our probe, so the
//!   receive callback can run from then on; it delivers only to data
//!   published in the device's drvdata and drops messages while there is
//!   none.
//! - Probe first registers the devres action that drops the data. Until the
//!   data is published it finds nothing to drop, so a failure of any later
//!   step leaves nothing behind; being the first action of the device it
//!   runs last, after every resource `Driver::probe` may have tied to the
//!   device. The rpmsg core destroys the endpoint (waiting for running
//!   callbacks) before devres runs, on unbind and on a failed probe alike.
//! - Probe then creates the sender and allocates the box the data goes
//!   into, and only then calls [`Driver::probe`]: once that succeeded
//!   nothing can fail any more, so no half-bound data ever needs unwinding.
//!   Should a fallible step ever be added after it, it must unwind like an
//!   unbind (revoke the sender, [`Driver::remove`], then drop the data,
//!   which the endpoint must not have seen). If `Driver::probe` fails, the
//!   sender is revoked before probe returns: the driver may have handed
//!   clones of it to objects that outlive the failed probe.
//! - The data is published (drvdata) last; from then on the receive
//!   callback delivers to it.
//! - Unbind: our remove callback revokes the sender (waiting for a send in
//!   progress) and calls [`Driver::remove`]; the core then destroys the
//!   endpoint, and devres drops the data, which no callback can reach any
//!   more. The rpmsg core also calls remove itself when announcing a
//!   channel fails after our probe succeeded; the same path then applies.
//!
//! Upstream home: `rust/kernel/rpmsg.rs`. C header: [`include/linux/rpmsg.h`].

use super::bindings;
use core::{
    ffi::{c_int, c_void},
    marker::PhantomData,
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    device,
    error::to_result,
    module::{this_module, ModuleMetadata},
    prelude::*,
    sync::{static_lock_class, Arc, Srcu},
    types::Opaque,
};

/// An rpmsg driver.
pub(crate) trait Driver: Sized + Send + Sync + 'static {
    /// Per-channel data.
    type Data: Send + Sync;
    /// The module that owns the driver.
    type OwnerModule: ModuleMetadata;

    /// Driver name.
    const NAME: &'static CStr;
    /// Device-tree compatible strings the driver binds to.
    const OF_MATCH: &'static OfTable;

    /// Binds to a new channel; `sender` sends on its endpoint until the
    /// channel goes away.
    fn probe(dev: &Device, sender: Arc<Sender>) -> Result<Pin<KBox<Self::Data>>>;

    /// The channel is going away: its [`Sender`] has already been revoked
    /// (sends fail with `EPIPE`, none is in progress), its endpoint still
    /// exists. The data is dropped later, once no callback can run.
    fn remove(dev: &Device, data: &Self::Data);

    /// Handles a message from the remote side. May run in atomic context on
    /// some transports: must not sleep.
    fn callback(dev: &Device, data: &Self::Data, msg: &[u8], src: u32);
}

/// A null-terminated table of `of_device_id`.
#[repr(transparent)]
pub(crate) struct OfTable<const N: usize = 2>([bindings::of_device_id; N]);

// SAFETY: The table is immutable and holds no pointers that are dereferenced
// mutably (`data` is always null).
unsafe impl<const N: usize> Sync for OfTable<N> {}

impl OfTable<2> {
    /// Builds a table matching the single `compatible` string.
    pub(crate) const fn single(compatible: &CStr) -> Self {
        let mut id: bindings::of_device_id = pin_init::zeroed();
        let src = compatible.to_bytes();
        let mut i = 0;
        // Keep the terminating NUL of the fixed-size array.
        while i < src.len() && i < id.compatible.len() - 1 {
            id.compatible[i] = src[i];
            i += 1;
        }
        Self([id, pin_init::zeroed()])
    }
}

/// An rpmsg channel (`struct rpmsg_device`) bound to a [`Driver`].
#[repr(transparent)]
pub(crate) struct Device(Opaque<bindings::rpmsg_device>);

impl Device {
    /// # Safety
    ///
    /// `raw` must point to a valid `rpmsg_device` for the returned lifetime.
    unsafe fn from_raw<'a>(raw: *mut bindings::rpmsg_device) -> &'a Self {
        // SAFETY: `Device` is a transparent wrapper of `rpmsg_device`.
        unsafe { &*raw.cast::<Self>() }
    }

    /// Returns the generic device of the channel.
    pub(crate) fn as_dev(&self) -> &device::Device {
        // SAFETY: `dev` is a valid, embedded `struct device`, alive as long
        // as `self`.
        unsafe { device::Device::from_raw(ptr::addr_of_mut!((*self.0.get()).dev)) }
    }

    fn drvdata(&self) -> &AtomicPtr<c_void> {
        // SAFETY: `driver_data` is a properly aligned pointer field that only
        // this module accesses while the driver is bound, always atomically.
        unsafe { AtomicPtr::from_ptr(ptr::addr_of_mut!((*self.0.get()).dev.driver_data)) }
    }
}

/// Sends on a channel's endpoint until the channel is removed.
///
/// Senders do not exclude one another: each send runs in an SRCU read-side
/// section, so calls from many threads reach the transport at once (and
/// one that waits for room in the transport holds up no other), while
/// [`Sender::revoke`] clears the pointer and waits for the sends in
/// progress.
///
/// # Invariants
///
/// While `ept` holds a non-null pointer, it is a bound `rpmsg_device` whose
/// endpoint exists; a sender that read it non-null inside a read-side
/// section of `srcu` may use it until the section ends. The pointer is
/// cleared, and `srcu` synchronised (so after every send in progress),
/// before the rpmsg core destroys the endpoint, by our remove callback or,
/// when [`Driver::probe`] fails, by our probe callback.
#[pin_data]
pub(crate) struct Sender {
    #[pin]
    srcu: Srcu,
    ept: AtomicPtr<bindings::rpmsg_device>,
}

impl Sender {
    fn new(rpdev: NonNull<bindings::rpmsg_device>) -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(Self {
                srcu <- Srcu::new(c"qda_rpmsg_sender", static_lock_class!()),
                ept: AtomicPtr::new(rpdev.as_ptr()),
            }),
            GFP_KERNEL,
        )
    }

    /// Sends `msg`, waiting for room if the transport needs to. `EPIPE` once
    /// the channel is gone.
    pub(crate) fn send(&self, msg: &[u8]) -> Result {
        let len = c_int::try_from(msg.len()).map_err(|_| EMSGSIZE)?;
        let _section = self.srcu.read_lock();
        let rpdev = NonNull::new(self.ept.load(Ordering::Acquire)).ok_or(EPIPE)?;
        // SAFETY: `rpdev` is bound and its endpoint alive while the pointer
        // is set and for the rest of the read-side section in which it was
        // read (type invariant).
        let ept = unsafe { (*rpdev.as_ptr()).ept };
        if ept.is_null() {
            return Err(ENOTCONN);
        }
        // SAFETY: `ept` is a live endpoint (above); `msg` is valid for `len`
        // bytes and only read.
        to_result(unsafe {
            bindings::rpmsg_send(ept, msg.as_ptr().cast::<c_void>().cast_mut(), len)
        })
    }

    /// No send starts on the endpoint after this, and none is in progress
    /// when it returns. Sleeps.
    fn revoke(&self) {
        self.ept.store(ptr::null_mut(), Ordering::Release);
        self.srcu.synchronize();
    }
}

/// What the abstraction keeps per bound channel.
struct Bound<T: Driver> {
    sender: Arc<Sender>,
    data: Pin<KBox<T::Data>>,
}

impl<T: Driver> Bound<T> {
    /// The driver's teardown of a channel, before the endpoint goes: no
    /// more sends (waiting for one in progress), then [`Driver::remove`].
    fn unbind(&self, dev: &Device) {
        self.sender.revoke();
        T::remove(dev, &self.data);
    }
}

/// A registered rpmsg driver; unregistering unbinds every channel.
///
/// # Invariants
///
/// `drv` is registered with the rpmsg core for the lifetime of `self`.
pub(crate) struct Registration<T: Driver> {
    drv: KBox<Opaque<bindings::rpmsg_driver>>,
    _p: PhantomData<T>,
}

// SAFETY: The registration is only used to unregister, which may happen from
// any thread.
unsafe impl<T: Driver> Send for Registration<T> {}
// SAFETY: `&Registration` exposes nothing.
unsafe impl<T: Driver> Sync for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Registers the driver.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: All-zero is a valid `rpmsg_driver` (null pointers, `None`).
        let mut raw: bindings::rpmsg_driver = unsafe { core::mem::zeroed() };
        raw.drv.name = T::NAME.as_char_ptr();
        raw.drv.of_match_table = T::OF_MATCH.0.as_ptr();
        raw.probe = Some(Self::probe_callback);
        raw.remove = Some(Self::remove_callback);
        raw.callback = Some(Self::rx_callback);
        let drv = KBox::new(Opaque::new(raw), GFP_KERNEL)?;
        // SAFETY: `drv` is a fully initialised rpmsg driver at a stable heap
        // address that outlives the registration (freed only after
        // unregistering in `drop`).
        to_result(unsafe {
            bindings::__register_rpmsg_driver(drv.get(), this_module::<T::OwnerModule>().as_ptr())
        })?;
        // INVARIANT: registered above.
        Ok(Self {
            drv,
            _p: PhantomData,
        })
    }

    extern "C" fn probe_callback(raw: *mut bindings::rpmsg_device) -> c_int {
        let Some(rpdev) = NonNull::new(raw) else {
            return EINVAL.to_errno();
        };
        // SAFETY: The rpmsg core passes a valid device being bound.
        let dev = unsafe { Device::from_raw(raw) };
        // First the devres action: nothing is published yet, so if this or
        // a later step fails it finds nothing to drop (see the module docs).
        // SAFETY: The device is being bound (we are in probe) and stays valid
        // while devres runs its actions. On failure
        // `devm_add_action_or_reset()` runs `drop_data` at once, which finds
        // no data.
        let ret = unsafe {
            bindings::devm_add_action_or_reset(
                ptr::addr_of_mut!((*raw).dev),
                Some(Self::drop_data),
                raw.cast(),
            )
        };
        if ret != 0 {
            return ret;
        }
        match Self::bind(dev, rpdev) {
            Ok(bound) => {
                // Publish: the receive callback delivers to the data from
                // here on. Nothing can fail after this.
                dev.drvdata()
                    .store(KBox::into_raw(bound).cast(), Ordering::Release);
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// Creates the data of a channel being bound. Every allocation is done
    /// before [`Driver::probe`], so nothing can fail after it succeeded.
    fn bind(dev: &Device, rpdev: NonNull<bindings::rpmsg_device>) -> Result<KBox<Bound<T>>> {
        let sender = Sender::new(rpdev)?;
        let slot = KBox::<Bound<T>>::new_uninit(GFP_KERNEL)?;
        match T::probe(dev, sender.clone()) {
            Ok(data) => Ok(KBox::write(slot, Bound { sender, data })),
            Err(e) => {
                // The driver may have kept clones of the sender in objects
                // that outlive the failed probe; the endpoint goes away when
                // we return.
                sender.revoke();
                Err(e)
            }
        }
    }

    /// Devres action dropping the channel data.
    ///
    /// # Safety
    ///
    /// `raw` must be the `rpmsg_device` registered by `probe_callback`, and
    /// the call must come from devres after the endpoint was destroyed.
    unsafe extern "C" fn drop_data(raw: *mut c_void) {
        // SAFETY: Registered by `probe_callback` with the `rpmsg_device` as
        // argument, which devres keeps alive while running its actions.
        let dev = unsafe { Device::from_raw(raw.cast()) };
        let data = dev.drvdata().swap(ptr::null_mut(), Ordering::AcqRel);
        if !data.is_null() {
            // SAFETY: `data` came from `KBox::into_raw` in `probe_callback`
            // and is reconstructed once (the pointer was swapped out). Devres
            // actions run after the core destroyed the endpoint, so no
            // callback still uses it.
            drop(unsafe { KBox::from_raw(data.cast::<Bound<T>>()) });
        }
    }

    extern "C" fn remove_callback(raw: *mut bindings::rpmsg_device) {
        // SAFETY: The rpmsg core passes the device being unbound.
        let dev = unsafe { Device::from_raw(raw) };
        let data = dev.drvdata().load(Ordering::Acquire).cast::<Bound<T>>();
        if data.is_null() {
            return;
        }
        // SAFETY: Published by `probe_callback`, dropped only by devres
        // after this callback returns.
        let bound = unsafe { &*data };
        bound.unbind(dev);
    }

    extern "C" fn rx_callback(
        raw: *mut bindings::rpmsg_device,
        msg: *mut c_void,
        len: c_int,
        _priv: *mut c_void,
        src: u32,
    ) -> c_int {
        // SAFETY: The transport passes the device owning the endpoint.
        let dev = unsafe { Device::from_raw(raw) };
        let data = dev.drvdata().load(Ordering::Acquire).cast::<Bound<T>>();
        let Ok(len) = usize::try_from(len) else {
            return 0;
        };
        if data.is_null() || msg.is_null() {
            // Not (or no longer) bound: nobody to deliver to.
            return 0;
        }
        // SAFETY: The transport guarantees `msg` is valid for `len` bytes
        // during the callback.
        let msg = unsafe { core::slice::from_raw_parts(msg.cast::<u8>(), len) };
        // SAFETY: `data` was published by `probe_callback` and stays valid
        // until `drop_data`, which only runs after the endpoint is destroyed
        // and hence after every callback has returned.
        T::callback(dev, unsafe { &(*data).data }, msg, src);
        0
    }
}

impl<T: Driver> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: Registered in `new` (type invariant).
        unsafe { bindings::unregister_rpmsg_driver(self.drv.get()) };
    }
}
