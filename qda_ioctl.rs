// SPDX-License-Identifier: GPL-2.0

//! The accel device, its files and ioctls (`uapi/drm/qda_accel.h`).
//!
//! Numbers without a handler yet (FastRPC) are absent from the table, so the
//! DRM core answers them with `EINVAL` like any unknown number.

#![deny(unsafe_code)]

use crate::{
    cb::{SessionPool, SessionRef},
    fastrpc::{self, ArgData, Engine, Shell},
    gem::{self, Object, QdaObject},
    memory_manager::MemoryManager,
    proto::Scalars,
    rpmsg::Dsp,
    sys::{accel, bindings, dma::DmaBuf},
};
use core::fmt;
use kernel::{
    new_mutex,
    prelude::*,
    sync::{aref::ARef, Arc, Mutex},
};

/// Per-device data of the accel device.
pub(crate) struct DeviceData {
    /// The DSP this device talks to.
    pub(crate) dsp: Dsp,
    /// The channel's CB slots.
    pub(crate) pool: Arc<SessionPool>,
    /// Where buffers come from.
    pub(crate) mm: MemoryManager,
    /// The channel's FastRPC engine.
    pub(crate) engine: Arc<Engine>,
}

/// Per-open-file data.
#[pin_data(PinnedDrop)]
pub(crate) struct FileData {
    /// The session, bound at the file's first memory operation.
    #[pin]
    session: Mutex<Option<SessionRef>>,
    /// Buffers this file mapped into the DSP process.
    #[pin]
    maps: Mutex<KVec<fastrpc::Mapping>>,
}

#[pinned_drop]
// `#[pinned_drop]` makes this an `unsafe impl` (pin-init's contract, which
// the macro itself upholds); the body is held to the module's lint again.
#[allow(unsafe_code)]
impl PinnedDrop for FileData {
    #[deny(unsafe_code)]
    fn drop(self: Pin<&mut Self>) {
        let maps = core::mem::take(&mut *self.maps.lock());
        if let Some(s) = self.session.lock().as_ref() {
            for m in maps.iter() {
                // Best effort; fails at once if the channel is gone.
                let _ = fastrpc::unmap(s.session(), m);
            }
        }
    }
}

impl FileData {
    /// Returns the file's session, binding the calling process's session of
    /// the channel (shared by all its files) on first use.
    pub(crate) fn session(&self, dev: &accel::Device<QdaAccel>) -> Result<SessionRef> {
        let mut guard = self.session.lock();
        if let Some(s) = guard.as_ref() {
            return Ok(s.clone());
        }
        let s = dev.data().pool.acquire(crate::sys::current_tgid())?;
        *guard = Some(s.clone());
        Ok(s)
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
    );

    fn open(_dev: &accel::Device<Self>) -> Result<Pin<KBox<FileData>>> {
        KBox::pin_init(
            pin_init!(FileData {
                session <- new_mutex!(None),
                maps <- new_mutex!(KVec::new()),
            }),
            GFP_KERNEL,
        )
    }

    fn import(dev: &accel::Device<Self>, buf: DmaBuf) -> Result<ARef<Object>> {
        gem::import(dev, buf)
    }

    fn imported(dev: &accel::Device<Self>, file: &accel::File<Self>, handle: u32) -> Result {
        let obj = Object::lookup(file, handle)?;
        gem::bind_import(&obj, &file.data().session(dev)?)
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
        let (unknown, stale, dup, short, exit) = engine.stats().get();
        writeln!(
            out,
            "qda-dropped-responses:\tunknown={unknown} stale={stale} duplicate={dup} short={short} pd-exit={exit}"
        )?;
        if let Some(s) = file.data().session.lock().as_ref() {
            let s = s.session();
            writeln!(out, "qda-session:\t{}", s.id())?;
            writeln!(out, "qda-sid:\t{}", s.sid())?;
            writeln!(out, "qda-session-memory:\t{}", s.memory())?;
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
    _file: &accel::File<QdaAccel>,
) -> Result<i32> {
    *q = bindings::drm_qda_query::default();
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
    let session = file.data().session(dev)?;
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
/// Returns the DSP's return value.
fn init_attach(
    dev: &accel::Device<QdaAccel>,
    _args: &mut (),
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    fastrpc::attach(file.data().session(dev)?.session())
}

/// `DRM_IOCTL_QDA_INIT_CREATE`: creates the session's user PD.
fn init_create(
    dev: &accel::Device<QdaAccel>,
    args: &mut bindings::drm_qda_init_create,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    if args.filelen > fastrpc::INIT_FILELEN_MAX {
        return Err(EFBIG);
    }
    let shell = if args.filelen == 0 {
        Shell::None
    } else if args.filefd > 0 {
        let handle = args.filefd as u32;
        Shell::Gem(Object::lookup(file, handle)?, handle, args.filelen)
    } else if args.file != 0 {
        Shell::User(args.file, args.filelen)
    } else {
        return Err(EINVAL);
    };
    let session = file.data().session(dev)?;
    fastrpc::create(session.session(), shell, args.attrs, args.siglen)
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
    let handle = args.fd as u32;
    let obj = Object::lookup(file, handle)?;
    let session = file.data().session(dev)?;
    let (ret, mapping) = fastrpc::map(
        session.session(),
        args.request,
        args.flags,
        handle,
        obj,
        if args.request == 2 { args.offset } else { 0 },
        args.vaddrin,
        args.size,
    )?;
    if let Some(m) = mapping {
        args.vaddrout = m.dsp_vaddr;
        file.data().maps.lock().push(m, GFP_KERNEL)?;
    }
    Ok(ret)
}

/// `DRM_IOCTL_QDA_MUNMAP`: undoes a `MAP` of this file: legacy by its DSP
/// address (`vaddrout`), attribute form by handle and DSP or user address.
fn munmap(
    dev: &accel::Device<QdaAccel>,
    args: &mut bindings::drm_qda_munmap,
    file: &accel::File<QdaAccel>,
) -> Result<i32> {
    let m = {
        let mut maps = file.data().maps.lock();
        let pos = maps
            .iter()
            .position(|m| match args.request {
                1 => m.request == 1 && m.dsp_vaddr == args.vaddrout,
                2 => {
                    m.request == 2
                        && args.fd > 0
                        && m.handle == args.fd as u32
                        && (m.dsp_vaddr == args.vaddr || m.vaddrin == args.vaddr)
                }
                _ => false,
            })
            .ok_or(if (1..=2).contains(&args.request) {
                ENOENT
            } else {
                EINVAL
            })?;
        maps.remove(pos)?
    };
    let session = file.data().session(dev)?;
    let ret = fastrpc::unmap(session.session(), &m)?;
    if ret != 0 {
        // The DSP kept it: keep tracking it.
        file.data().maps.lock().push(m, GFP_KERNEL)?;
    }
    Ok(ret)
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
    let id = usize::try_from(args.param).map_err(|_| EOVERFLOW)?;
    if id >= fastrpc::DSP_ATTRIBUTES {
        return Err(EOVERFLOW);
    }
    let session = file.data().session(dev)?;
    args.value = u64::from(fastrpc::dsp_attribute(session.session(), id)?);
    Ok(0)
}

/// Size of one `struct drm_qda_invoke_args` in user memory.
const INVOKE_ARG_SIZE: usize = core::mem::size_of::<bindings::drm_qda_invoke_args>();

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
    let mut raw = KVec::with_capacity(n * INVOKE_ARG_SIZE, GFP_KERNEL)?;
    raw.resize(n * INVOKE_ARG_SIZE, 0u8, GFP_KERNEL)?;
    if n != 0 {
        if args.args == 0 {
            return Err(EFAULT);
        }
        kernel::uaccess::UserSlice::new(
            kernel::uaccess::UserPtr::from_addr(args.args as usize),
            raw.len(),
        )
        .reader()
        .read_slice(&mut raw)?;
    }
    let mut list = KVec::with_capacity(n, GFP_KERNEL)?;
    for (i, chunk) in raw.chunks_exact(INVOKE_ARG_SIZE).enumerate() {
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
        list.push(arg, GFP_KERNEL)?;
    }
    let session = file.data().session(dev)?;
    fastrpc::user_invoke(session.session(), args.handle, sc, &mut list)
}
