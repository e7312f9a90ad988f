// SPDX-License-Identifier: GPL-2.0

//! The accel device, its files and ioctls (`uapi/drm/qda_accel.h`).
//!
//! Numbers without a handler yet (FastRPC) are absent from the table, so the
//! DRM core answers them with `EINVAL` like any unknown number.

use crate::{
    cb::{SessionPool, SessionRef},
    gem::{self, Object, QdaObject},
    memory_manager::MemoryManager,
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
}

/// Per-open-file data.
#[pin_data]
pub(crate) struct FileData {
    /// The session, bound at the file's first memory operation.
    #[pin]
    session: Mutex<Option<SessionRef>>,
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

    const IOCTLS: &'static [bindings::drm_ioctl_desc] = crate::declare_accel_ioctls!(QdaAccel;
        (bindings::DRM_QDA_QUERY, IOR, bindings::drm_qda_query, query),
        (bindings::DRM_QDA_GEM_CREATE, IOWR, bindings::drm_qda_gem_create, gem_create),
        (bindings::DRM_QDA_GEM_MMAP_OFFSET, IOWR, bindings::drm_qda_gem_mmap_offset, gem_mmap_offset),
    );

    fn open(_dev: &accel::Device<Self>) -> Result<Pin<KBox<FileData>>> {
        KBox::pin_init(
            pin_init!(FileData {
                session <- new_mutex!(None),
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
        writeln!(out, "qda-dsp:\t{}", dev.data().dsp.name())?;
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
