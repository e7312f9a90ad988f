// SPDX-License-Identifier: GPL-2.0

//! The accel device, its files and ioctls (`uapi/drm/qda_accel.h`).
//!
//! Numbers without a handler yet (FastRPC) are absent from the table, so the
//! DRM core answers them with `EINVAL` like any unknown number.

#![deny(unsafe_code)]

use crate::{
    cb::{FileSession, Pd, SessionPool},
    fastrpc::{self, ArgData, AttrId, Engine, Shell, ShellLen},
    gem::{self, Object, QdaObject},
    proto::Scalars,
    rpmsg::Dsp,
    sys::{accel, bindings, dma::DmaBuf},
};
use core::fmt;
use kernel::{
    new_mutex,
    prelude::*,
    sync::{aref::ARef, Arc, Mutex, SetOnce},
};

/// Per-device data of the accel device.
pub(crate) struct DeviceData {
    /// The DSP this device talks to.
    pub(crate) dsp: Dsp,
    /// The channel is secure (no `qcom,non-secure-domain`).
    pub(crate) secure: bool,
    /// The channel's CB slots.
    pub(crate) pool: Arc<SessionPool>,
    /// The channel's FastRPC engine.
    pub(crate) engine: Arc<Engine>,
}

/// Per-open-file data.
///
/// Lock order: `bind`, `maps`, then the session's own locks (see
/// `qda_cb.rs`).
#[pin_data(PinnedDrop)]
pub(crate) struct FileData {
    /// The session, bound once at the file's first memory operation; read
    /// without a lock by every later ioctl.
    session: SetOnce<FileSession>,
    /// Held while binding `session`: a second thread binding at the same
    /// time waits for the first instead of finding it half set
    /// (`SetOnce::as_ref()` is `None` until `populate()` has finished).
    #[pin]
    bind: Mutex<()>,
    /// Buffers this file mapped into the DSP process.
    #[pin]
    maps: Mutex<KVec<fastrpc::Mapping>>,
    /// Opened by a trusted opener (see [`Trust`]).
    trust: Trust,
}

/// Whether a file was opened by a trusted opener: decided once, at open,
/// from the opener's credentials (`CAP_SYS_ADMIN` in the initial user
/// namespace, or membership of the `trusted_gid` module parameter's
/// group), like a file's access mode. Passing the file to another process
/// passes the trust with it, as for any file descriptor.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trust {
    /// May set up any PD.
    Trusted,
    /// May only create user PDs, as the channel allows.
    Untrusted,
}

impl Trust {
    fn of_current() -> Self {
        if crate::sys::current_is_trusted(crate::module_parameters::trusted_gid.value()) {
            Trust::Trusted
        } else {
            Trust::Untrusted
        }
    }

    /// `EPERM` unless trusted.
    fn require(self) -> Result {
        match self {
            Trust::Trusted => Ok(()),
            Trust::Untrusted => Err(EPERM),
        }
    }
}

#[pinned_drop]
// `#[pinned_drop]` makes this an `unsafe impl` (pin-init's contract, which
// the macro itself upholds); the body is held to the module's lint again.
#[allow(unsafe_code)]
impl PinnedDrop for FileData {
    #[deny(unsafe_code)]
    fn drop(self: Pin<&mut Self>) {
        let maps = core::mem::take(&mut *self.maps.lock());
        if let Some(s) = self.session.as_ref() {
            for m in maps {
                // Unmapped, or kept until the DSP process is released.
                fastrpc::drop_mapping(s.session(), m);
            }
        }
        // The `FileSession` goes after this: if it was the process's last
        // file on the channel, its DSP process is released then.
    }
}

impl FileData {
    /// Returns the file's session, binding the calling process's session
    /// of the channel (shared by all its files) on first use.
    pub(crate) fn session(&self, dev: &accel::Device<QdaAccel>) -> Result<&FileSession> {
        if let Some(s) = self.session.as_ref() {
            return Ok(s);
        }
        // Threads binding at once: one acquires, the others then find it.
        let _bind = self.bind.lock();
        if let Some(s) = self.session.as_ref() {
            return Ok(s);
        }
        let s = dev.data().pool.acquire()?;
        // Nobody else populates it: we hold `bind`.
        let _ = self.session.populate(s);
        self.session.as_ref().ok_or(EINVAL)
    }
}

/// The accel driver.
pub(crate) struct QdaAccel;

impl accel::Driver for QdaAccel {
    type Data = DeviceData;
    type File = FileData;
    type OwnerModule = crate::QdaModule;
    type Object = QdaObject;

    const INFO: accel::DriverInfo = accel::DriverInfo {
        name: c"qda",
        desc: c"Qualcomm DSP accelerator",
        major: 0,
        minor: 2,
    };

    const IOCTLS: &'static [accel::IoctlDesc<Self>] = crate::declare_accel_ioctls!(QdaAccel;
        (bindings::DRM_QDA_QUERY, IOR, bindings::drm_qda_query, query),
        (bindings::DRM_QDA_GEM_CREATE, IOWR, bindings::drm_qda_gem_create, gem_create),
        (bindings::DRM_QDA_GEM_MMAP_OFFSET, IOWR, bindings::drm_qda_gem_mmap_offset, gem_mmap_offset),
        (bindings::DRM_QDA_INIT_ATTACH, IO, (), init_attach),
        (bindings::DRM_QDA_INIT_CREATE, IOWR, bindings::drm_qda_init_create, init_create),
        (bindings::DRM_QDA_MAP, IOWR, bindings::drm_qda_map, map),
        (bindings::DRM_QDA_MUNMAP, IOWR, bindings::drm_qda_munmap, munmap),
        (bindings::DRM_QDA_INVOKE, IOW, bindings::drm_qda_invoke_args as bindings::drm_qda_invoke, invoke),
        (bindings::DRM_QDA_GET_PARAM, IOWR, bindings::drm_qda_get_param, get_param),
        (bindings::DRM_QDA_INIT_ATTACH_SNS, IO, (), init_attach_sns),
        (bindings::DRM_QDA_INIT_CREATE_STATIC, IOWR, bindings::drm_qda_init_create_static, init_create_static),
    );

    fn open(_dev: &accel::Device<Self>) -> Result<Pin<KBox<FileData>>> {
        KBox::pin_init(
            pin_init!(FileData {
                session: SetOnce::new(),
                bind <- new_mutex!(()),
                maps <- new_mutex!(KVec::new()),
                trust: Trust::of_current(),
            }),
            GFP_KERNEL,
        )
    }

    fn import(dev: &accel::Device<Self>, buf: DmaBuf) -> Result<ARef<Object>> {
        gem::import(dev, buf)
    }

    fn imported(dev: &accel::Device<Self>, file: &accel::File<Self>, handle: u32) -> Result {
        let obj = Object::lookup(file, handle)?;
        gem::bind_import(&obj, &file.data().session(dev)?.buffer_ref())
    }

    fn fdinfo(
        dev: &accel::Device<Self>,
        file: &accel::File<Self>,
        out: &mut dyn fmt::Write,
    ) -> fmt::Result {
        let engine = &dev.data().engine;
        writeln!(out, "qda-dsp:\t{}", dev.data().dsp.name())?;
        let up = if engine.is_dead() { "down" } else { "up" };
        writeln!(out, "qda-channel:\t{up}")?;
        let secure = if dev.data().secure {
            "secure"
        } else {
            "non-secure"
        };
        writeln!(out, "qda-channel-kind:\t{secure}")?;
        let trusted = file.data().trust == Trust::Trusted;
        writeln!(out, "qda-trusted:\t{}", if trusted { "yes" } else { "no" })?;
        let (unknown, stale, dup, short, exit) = engine.stats().get();
        writeln!(
            out,
            "qda-dropped-responses:\tunknown={unknown} stale={stale} duplicate={dup} short={short} pd-exit={exit}"
        )?;
        if let Some(s) = file.data().session.as_ref() {
            let s = s.session();
            writeln!(out, "qda-session:\t{}", s.id())?;
            writeln!(out, "qda-sid:\t{}", s.sid())?;
            writeln!(out, "qda-session-memory:\t{}", s.memory())?;
            writeln!(out, "qda-session-pid:\t{}", s.pid())?;
            writeln!(out, "qda-session-calls:\t{}", s.quota().calls())?;
            let (n, bytes) = s.pooled();
            writeln!(out, "qda-payload-pool:\t{n} buffers {bytes} bytes")?;
        }
        // One line per handle: size, first DSP address, DMA segments.
        let mut res = Ok(());
        file.for_each_object(|handle, obj| {
            let (mut first, mut segments) = (None, 0u32);
            obj.data().for_each_dsp_range(|addr, _| {
                first.get_or_insert(addr);
                segments += 1;
            });
            if res.is_ok() {
                res = writeln!(
                    out,
                    "qda-buffer-{handle}:\t{} dsp=0x{:x} segments={segments}",
                    obj.size(),
                    first.unwrap_or(0)
                );
            }
        });
        res
    }
}

/// `DRM_IOCTL_QDA_QUERY`: names the DSP behind the node.
fn query(
    dev: &accel::Device<QdaAccel>,
    q: &mut bindings::drm_qda_query,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    *q = bindings::drm_qda_query::default();
    let d = dev.data();
    for (on, flag) in [
        (d.secure, bindings::QDA_CAP_SECURE_CHANNEL),
        (
            file.data().trust == Trust::Trusted,
            bindings::QDA_CAP_TRUSTED,
        ),
        (d.dsp.unsigned_pd(), bindings::QDA_CAP_UNSIGNED_PD),
        (
            d.engine.static_pd().heap.is_some(),
            bindings::QDA_CAP_REMOTE_HEAP,
        ),
    ] {
        if on {
            q.capabilities |= flag;
        }
    }
    let name = dev.data().dsp.name().as_bytes();
    // Names are at most 5 bytes; keep the NUL terminator regardless.
    let dst = q
        .dsp_name
        .get_mut(..name.len())
        .filter(|_| name.len() < bindings::QDA_DSP_NAME_LEN as usize)
        .ok_or(EOVERFLOW)?;
    dst.copy_from_slice(name);
    Ok(0)
}

/// `DRM_IOCTL_QDA_GEM_CREATE`: allocates a buffer for the file's session.
fn gem_create(
    dev: &accel::Device<QdaAccel>,
    args: &mut bindings::drm_qda_gem_create,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    if args.pad != 0 {
        return Err(EINVAL);
    }
    // Validate before taking a session slot.
    gem::buffer_size(args.size)?;
    let session = file.data().session(dev)?.buffer_ref();
    args.handle = gem::create(dev, file, session, args.size)?;
    Ok(0)
}

/// `DRM_IOCTL_QDA_GEM_MMAP_OFFSET`: the offset to mmap a buffer at.
fn gem_mmap_offset(
    _dev: &accel::Device<QdaAccel>,
    args: &mut bindings::drm_qda_gem_mmap_offset,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    if args.pad != 0 {
        return Err(EINVAL);
    }
    args.offset = Object::lookup(file, args.handle)?.mmap_offset()?;
    Ok(0)
}

/// `DRM_IOCTL_QDA_INIT_ATTACH`: attaches the file's session to the root PD.
/// Trusted openers only. Returns the DSP's return value.
fn init_attach(
    dev: &accel::Device<QdaAccel>,
    _args: &mut (),
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    file.data().trust.require()?;
    fastrpc::attach(file.data().session(dev)?.session(), Pd::Root).and_then(fastrpc::dsp_result)
}

/// `DRM_IOCTL_QDA_INIT_ATTACH_SNS`: attaches the file's session to the
/// sensors PD. Trusted openers only.
fn init_attach_sns(
    dev: &accel::Device<QdaAccel>,
    _args: &mut (),
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    file.data().trust.require()?;
    fastrpc::attach(file.data().session(dev)?.session(), Pd::Sensors).and_then(fastrpc::dsp_result)
}

/// `DRM_IOCTL_QDA_INIT_CREATE_STATIC`: creates the channel's static (audio)
/// PD by name. Trusted openers only.
fn init_create_static(
    dev: &accel::Device<QdaAccel>,
    args: &mut bindings::drm_qda_init_create_static,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    file.data().trust.require()?;
    let len = usize::try_from(args.namelen).map_err(|_| EINVAL)?;
    if len == 0 || len > fastrpc::INIT_NAME_MAX {
        return Err(EINVAL);
    }
    let mut name = KVec::with_capacity(len, GFP_KERNEL)?;
    name.resize(len, 0u8, GFP_KERNEL)?;
    if args.name == 0 {
        return Err(EFAULT);
    }
    kernel::uaccess::UserSlice::new(kernel::uaccess::UserPtr::from_addr(args.name as usize), len)
        .reader()
        .read_slice(&mut name)?;
    // NUL-terminated exactly at the end.
    if name.iter().position(|&b| b == 0) != Some(len - 1) {
        return Err(EINVAL);
    }
    {
        let mut sp = dev.data().engine.static_pd();
        if sp.heap.is_none() {
            // Once per channel: a caller retrying must not flood the log.
            if !sp.warned {
                sp.warned = true;
                kernel::pr_err!(
                    "qda: {}: no remote heap (memory-region) for a static PD\n",
                    dev.data().dsp.name()
                );
            }
            return Err(EOPNOTSUPP);
        }
    }
    let session = file.data().session(dev)?;
    fastrpc::create_static(session.session(), &name).and_then(fastrpc::dsp_result)
}

/// `DRM_IOCTL_QDA_INIT_CREATE`: creates the session's user PD.
fn init_create(
    dev: &accel::Device<QdaAccel>,
    args: &mut bindings::drm_qda_init_create,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    let len = ShellLen::new(args.filelen, args.siglen)?;
    create_allowed(dev.data(), file.data().trust, args.attrs)?;
    let shell = if len.file() == 0 {
        Shell::None
    } else if args.filefd > 0 {
        let handle = args.filefd as u32;
        Shell::Gem(Object::lookup(file, handle)?, handle)
    } else if args.file != 0 {
        Shell::User(args.file)
    } else {
        return Err(EINVAL);
    };
    let session = file.data().session(dev)?;
    fastrpc::create(session.session(), shell, len, args.attrs).and_then(fastrpc::dsp_result)
}

/// Process attributes `INIT_CREATE` knows (the FastRPC library's
/// `enum fastrpc_proc_attr`).
const PROC_MODE_KNOWN: u32 = bindings::QDA_PROC_MODE_KNOWN;

/// Attributes only a trusted opener may set: debug, ptrace, system and
/// privileged processes.
const PROC_MODE_TRUSTED: u32 = bindings::QDA_PROC_MODE_DEBUG
    | bindings::QDA_PROC_MODE_PTRACE
    | bindings::QDA_PROC_MODE_SYSTEM_PROCESS
    | bindings::QDA_PROC_MODE_PRIVILEGED;

/// Whether an opener with `trust` may create a user PD with `attrs` on the
/// channel of `d`: unknown bits are refused (`EINVAL`); untrusted openers
/// may not set the trusted-only attributes, and on a secure channel may
/// only create unsigned PDs, where the DSP supports them (`EPERM`).
pub(crate) fn create_allowed(d: &DeviceData, trust: Trust, attrs: u32) -> Result {
    if attrs & !PROC_MODE_KNOWN != 0 {
        return Err(EINVAL);
    }
    if trust == Trust::Trusted {
        return Ok(());
    }
    if attrs & PROC_MODE_TRUSTED != 0 {
        return Err(EPERM);
    }
    let unsigned = attrs & bindings::QDA_PROC_MODE_UNSIGNED != 0;
    if d.secure && !(unsigned && d.dsp.unsigned_pd()) {
        return Err(EPERM);
    }
    Ok(())
}

/// `DRM_IOCTL_QDA_MAP`: maps a GEM buffer into the DSP process; the
/// mapping belongs to the file and is undone when it closes.
fn map(
    dev: &accel::Device<QdaAccel>,
    args: &mut bindings::drm_qda_map,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    if args.pad != 0 || !(1..=2).contains(&args.request) || args.fd <= 0 {
        return Err(EINVAL);
    }
    // The legacy request has no offset or attributes.
    if args.request == 1 && (args.offset != 0 || args.attrs != 0) {
        return Err(EINVAL);
    }
    let handle = args.fd as u32;
    let obj = Object::lookup(file, handle)?;
    // The page rules, before anything else happens.
    let size = fastrpc::map_range(u64::from(args.offset), args.size, obj.size() as u64)?;
    let session = file.data().session(dev)?;
    // Room to track the mapping, whatever the DSP answers.
    file.data().maps.lock().reserve(1, GFP_KERNEL)?;
    let (ret, mapping) = fastrpc::map(
        session.session(),
        args.request,
        args.flags,
        handle,
        obj,
        args.offset,
        args.vaddrin,
        size,
    );
    if let Some(m) = mapping {
        args.vaddrout = m.dsp_vaddr;
        let mut maps = file.data().maps.lock();
        if let Err(kernel::alloc::kvec::PushError(m)) = maps.push_within_capacity(m) {
            // Another map of this file took the room: grow (the mapping
            // must stay tracked; on failure the session keeps it).
            if let Err(kernel::alloc::AllocError) = maps.reserve(1, GFP_KERNEL) {
                drop(maps);
                fastrpc::drop_mapping(session.session(), m);
                return Err(ENOMEM);
            }
            let _ = maps.push_within_capacity(m);
        }
    }
    ret.and_then(fastrpc::dsp_result)
}

/// `DRM_IOCTL_QDA_MUNMAP`: undoes a `MAP` of this file: legacy by its DSP
/// address (`vaddrout`), attribute form by handle and DSP or user address.
fn munmap(
    dev: &accel::Device<QdaAccel>,
    args: &mut bindings::drm_qda_munmap,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    if !(1..=2).contains(&args.request) {
        return Err(EINVAL);
    }
    let session = file.data().session(dev)?;
    // Held across the DSP call: map and unmap of one file are serialised.
    let mut maps = file.data().maps.lock();
    let pos = maps
        .iter()
        .position(|m| {
            !m.lost
                && match args.request {
                    1 => m.request == 1 && m.dsp_vaddr == args.vaddrout,
                    _ => {
                        m.request == 2
                            && args.fd > 0
                            && m.handle == args.fd as u32
                            && (m.dsp_vaddr == args.vaddr || m.vaddrin == args.vaddr)
                    }
                }
        })
        .ok_or(ENOENT)?;
    let m = maps.get_mut(pos).ok_or(ENOENT)?;
    // A size, if given, must be the mapping's (rounded up to pages as at
    // map time).
    if args.size != 0 {
        let page = kernel::page::PAGE_SIZE as u64;
        if args.size.checked_next_multiple_of(page) != Some(m.size) {
            return Err(EINVAL);
        }
    }
    let ret = fastrpc::unmap(session.session(), m);
    if matches!(ret, Ok(0)) {
        // Gone on the DSP side too. The buffer may be freed here: not
        // under the maps lock.
        let m = maps.remove(pos)?;
        drop(maps);
        drop(m);
    }
    // Otherwise the DSP kept it (or may have: `lost`), and so do we.
    ret.and_then(fastrpc::dsp_result)
}

/// `DRM_IOCTL_QDA_GET_PARAM`: a DSP capability attribute.
fn get_param(
    dev: &accel::Device<QdaAccel>,
    args: &mut bindings::drm_qda_get_param,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    if args.pad != 0 {
        return Err(EINVAL);
    }
    let id = AttrId::new(u64::from(args.param))?;
    let session = file.data().session(dev)?;
    args.value = u64::from(fastrpc::dsp_attribute(session.session(), id)?);
    Ok(0)
}

/// Size of one `struct drm_qda_invoke_args` in user memory.
const INVOKE_ARG_SIZE: usize = core::mem::size_of::<bindings::drm_qda_invoke_args>();

/// The user's argument array: on the stack for up to 8 arguments.
type RawArgs = fastrpc::Scratch<u8, { 8 * INVOKE_ARG_SIZE }>;

/// `DRM_IOCTL_QDA_INVOKE`: calls `handle`'s method on the DSP. Returns the
/// DSP's return value unchanged.
fn invoke(
    dev: &accel::Device<QdaAccel>,
    args: &mut bindings::drm_qda_invoke,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    let sc = Scalars::from_raw(args.sc);
    let n = sc.nscalars();
    let nbufs = sc.nbufs();
    let mut raw_buf = RawArgs::new(n * INVOKE_ARG_SIZE)?;
    let raw = raw_buf.as_mut_slice();
    if n != 0 {
        if args.args == 0 {
            return Err(EFAULT);
        }
        kernel::uaccess::UserSlice::new(
            kernel::uaccess::UserPtr::from_addr(args.args as usize),
            raw.len(),
        )
        .reader()
        .read_slice(raw)?;
    }
    // On the stack for up to 8 arguments, like `raw`.
    let mut list = fastrpc::Scratch::<ArgData, { fastrpc::SMALL_ARGS }>::new(n)?;
    for (i, slot) in list.as_mut_slice().iter_mut().enumerate() {
        let at = i * INVOKE_ARG_SIZE;
        let chunk = raw.get(at..at + INVOKE_ARG_SIZE).ok_or(EINVAL)?;
        let word = |o: usize| -> Result<u64> {
            let b = chunk.get(o..o + 8).ok_or(EINVAL)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            Ok(u64::from_ne_bytes(a))
        };
        let (ptr, length) = (word(0)?, word(8)?);
        let fd = word(16)? as u32 as i32;
        let arg = if fd > 0 {
            let obj = Object::lookup(file, fd as u32)?;
            let offset = if i < nbufs {
                obj.user_offset(ptr, length)?
            } else {
                0
            };
            ArgData::Gem {
                obj,
                offset,
                len: length,
                user: ptr,
                handle: fd as u32,
            }
        } else if i < nbufs {
            if length != 0 && ptr == 0 {
                return Err(EFAULT);
            }
            ArgData::Inline {
                user: Some(ptr),
                data: KVec::new(),
                len: usize::try_from(length).map_err(|_| EINVAL)?,
            }
        } else {
            // Handles must name a buffer.
            return Err(EINVAL);
        };
        *slot = arg;
    }
    let session = file.data().session(dev)?;
    fastrpc::user_invoke(session.session(), args.handle, sc, list.as_mut_slice())
        .and_then(fastrpc::dsp_result)
}
