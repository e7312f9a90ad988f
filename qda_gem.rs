// SPDX-License-Identifier: GPL-2.0

//! GEM buffers: allocation, mmap, PRIME import and export.
//!
//! Every buffer belongs to a session (a CB slot of one process) and is
//! accounted to it. Buffers QDA allocates come from the memory manager on the
//! session's CB; their DSP address is the CB's stream ID over the CB device
//! address. Foreign dma-bufs are wrapped on import and mapped for the
//! importing file's session CB, segment by segment: an imported buffer is
//! generally scattered, so no contiguity is assumed. Importing a QDA export
//! gives back the exported object.

#![deny(unsafe_code)]

use crate::{
    cb::SessionRef,
    ioctl::QdaAccel,
    memory_manager::{dsp_addr, Memory},
    sys::{
        accel,
        dma::{Attachment, DmaBuf},
        gem,
    },
};
use kernel::{prelude::*, sync::aref::ARef, sync::SetOnce};

/// A GEM object of QDA.
pub(crate) type Object = gem::Object<QdaObject>;

/// Driver data of a QDA GEM object.
pub(crate) enum QdaObject {
    /// Memory allocated by QDA for `session` (it holds its CB itself).
    Owned {
        /// The session the memory is accounted to and mapped for.
        session: SessionRef,
        /// The memory.
        mem: KBox<dyn Memory>,
    },
    /// A dma-buf of another exporter.
    Imported {
        /// The dma-buf.
        buf: DmaBuf,
        /// Its mapping for the session of the first file that imported it.
        binding: SetOnce<ImportBinding>,
    },
}

/// An imported dma-buf mapped for a session's CB. Fields drop in
/// declaration order: the mapping is undone while the session still holds
/// the CB in its IOMMU group.
pub(crate) struct ImportBinding {
    attach: Attachment,
    session: SessionRef,
}

impl QdaObject {
    /// Calls `f` with each DSP address range `(address, length)` of the
    /// buffer, in order: one for QDA's own memory, one per DMA segment for an
    /// import (none before it is mapped).
    pub(crate) fn for_each_dsp_range(&self, mut f: impl FnMut(u64, u64)) {
        match self {
            QdaObject::Owned { session, mem } => f(
                dsp_addr(session.session().sid(), mem.dma_addr()),
                mem.size() as u64,
            ),
            QdaObject::Imported { binding, .. } => {
                if let Some(b) = binding.as_ref() {
                    let sid = b.session.session().sid();
                    for (addr, len) in b.attach.segments() {
                        f(dsp_addr(sid, addr), len);
                    }
                }
            }
        }
    }
}

impl QdaObject {
    /// DSP address of `len` bytes at `offset` in the buffer. They must lie in
    /// one DMA segment (always true for QDA's own memory); `EINVAL` if they
    /// straddle segments of an import or leave the buffer, `ENOTCONN` for an
    /// import not yet mapped.
    pub(crate) fn dsp_addr_at(&self, offset: u64, len: u64) -> Result<u64> {
        let end = offset.checked_add(len).ok_or(EINVAL)?;
        let mut base = 0u64;
        let mut found = Err(EINVAL);
        let mut mapped = false;
        self.for_each_dsp_range(|addr, seg| {
            mapped = true;
            let seg_end = base.saturating_add(seg);
            if found.is_err() && offset >= base && end <= seg_end {
                found = Ok(addr + (offset - base));
            }
            base = seg_end;
        });
        if !mapped {
            return Err(ENOTCONN);
        }
        found
    }
}

impl Drop for QdaObject {
    fn drop(&mut self) {
        // QDA's own memory is charged until freed (see the memory manager);
        // an import only counts while mapped for the session.
        if let QdaObject::Imported { buf, binding } = self {
            if let Some(b) = binding.as_ref() {
                b.session.session().quota().uncharge(buf.size());
            }
        }
    }
}

impl gem::DriverObject for QdaObject {
    fn mmap(obj: &Object, vma: &gem::Vma) -> Result {
        match obj.data() {
            QdaObject::Owned { mem, .. } => mem.mmap(vma),
            QdaObject::Imported { buf, .. } => obj.mmap_dma_buf(buf, vma),
        }
    }

    fn sg_table(obj: &Object) -> Result<gem::SgTable> {
        match obj.data() {
            QdaObject::Owned { mem, .. } => mem.sg_table(),
            // Re-exporting an import hands out the original dma-buf; the core
            // never asks us for its pages.
            QdaObject::Imported { .. } => Err(EINVAL),
        }
    }
}

/// Rounds a user-supplied size up to whole pages; `EINVAL` for zero or on
/// overflow.
pub(crate) fn buffer_size(size: u64) -> Result<usize> {
    let size = usize::try_from(size).map_err(|_| EINVAL)?;
    if size == 0 {
        return Err(EINVAL);
    }
    size.checked_next_multiple_of(kernel::page::PAGE_SIZE)
        .ok_or(EINVAL)
}

/// Allocates a buffer of `size` bytes for `session` and returns its handle in
/// `file`.
pub(crate) fn create(
    dev: &accel::Device<QdaAccel>,
    file: &accel::File<QdaAccel>,
    session: SessionRef,
    size: u64,
) -> Result<u32> {
    let size = buffer_size(size)?;
    let mem = session.session().alloc(size)?;
    let obj = Object::new(dev, size, QdaObject::Owned { session, mem })?;
    obj.create_handle(file)
}

/// Wraps a foreign dma-buf; it is mapped when a file takes a handle to it.
pub(crate) fn import(dev: &accel::Device<QdaAccel>, buf: DmaBuf) -> Result<ARef<Object>> {
    let size = buf.size();
    if size == 0 || size % kernel::page::PAGE_SIZE != 0 {
        return Err(EINVAL);
    }
    Object::new(
        dev,
        size,
        QdaObject::Imported {
            buf,
            binding: SetOnce::new(),
        },
    )
}

/// Maps an imported object for `session` unless it already is mapped.
pub(crate) fn bind_import(obj: &Object, session: &SessionRef) -> Result {
    let QdaObject::Imported { buf, binding } = obj.data() else {
        return Ok(());
    };
    if binding.as_ref().is_some() {
        return Ok(());
    }
    let attach = buf.map_for(session.session().cb().as_dev())?;
    let b = ImportBinding {
        session: session.clone(),
        attach,
    };
    if binding.populate(b) {
        if let Some(b) = binding.as_ref() {
            obj.set_import_attach(&b.attach);
            session.session().quota().count(buf.size());
        }
    }
    Ok(())
}
