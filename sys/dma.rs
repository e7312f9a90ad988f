// SPDX-License-Identifier: GPL-2.0

//! DMA memory: coherent buffers of a device and dma-bufs mapped for one.
//!
//! `kernel::dma::CoherentAllocation` needs a device bound to a driver; QDA's
//! context-bank devices are not (nothing binds on the `qda-cb` bus), and
//! their buffers must be able to outlive the binding of the channel anyway
//! (user space may keep a mapping across a DSP restart). [`CoherentBuffer`]
//! therefore keeps a reference on its device instead. [`DmaBuf`] and
//! [`Attachment`] cover importing foreign dma-bufs; the kernel crate has no
//! dma-buf abstraction yet (upstream home: `rust/kernel/dma_buf.rs`).
//!
//! C headers: [`include/linux/dma-mapping.h`], [`include/linux/dma-buf.h`].

use super::{bindings, dev_raw, gem::Vma};
use core::ptr::{self, NonNull};
use kernel::{
    device,
    error::{from_err_ptr, to_result},
    prelude::*,
    scatterlist::SGTable,
    sync::aref::ARef,
    uaccess::{UserPtr, UserSlice},
};

/// A DMA-coherent buffer of a device.
///
/// # Invariants
///
/// `cpu`/`dma` describe a live `dma_alloc_attrs()` allocation of `size`
/// bytes for `dev`, freed only in `drop`.
pub(crate) struct CoherentBuffer {
    dev: ARef<device::Device>,
    cpu: NonNull<u8>,
    dma: bindings::dma_addr_t,
    size: usize,
}

// SAFETY: The allocation is not tied to a thread; the CPU pointer is only
// used to free it and to map it for user space.
unsafe impl Send for CoherentBuffer {}
// SAFETY: `&CoherentBuffer` only exposes addresses and mapping operations
// that the DMA API allows concurrently.
unsafe impl Sync for CoherentBuffer {}

impl CoherentBuffer {
    /// Allocates `size` bytes (a multiple of the page size), zero-filled.
    ///
    /// Fails with `ENOMEM` without warning or invoking the OOM killer when
    /// the memory cannot be had. The pages are charged to the calling
    /// task's memory cgroup where the DMA allocator takes them from the
    /// page allocator (`__GFP_ACCOUNT`; CMA and pool memory are not).
    pub(crate) fn alloc(dev: &device::Device, size: usize) -> Result<Self> {
        if size == 0 || size % kernel::page::PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        let mut dma: bindings::dma_addr_t = 0;
        let gfp = bindings::GFP_KERNEL_ACCOUNT
            | bindings::__GFP_NOWARN
            | (1 << bindings::___GFP_NORETRY_BIT);
        // SAFETY: `dev` is a valid device; `dma` is a valid out pointer.
        let cpu = unsafe { bindings::dma_alloc_attrs(dev_raw(dev), size, &mut dma, gfp, 0) };
        let cpu = NonNull::new(cpu.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: allocated above for `dev`.
        Ok(Self {
            dev: dev.into(),
            cpu,
            dma,
            size,
        })
    }

    /// Size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The device-side (IOVA or physical) address of the first byte.
    pub(crate) fn dma_addr(&self) -> u64 {
        self.dma
    }

    /// Copies `data` into the buffer at `off`.
    pub(crate) fn write(&self, off: usize, data: &[u8]) -> Result {
        let end = off.checked_add(data.len()).ok_or(EINVAL)?;
        if end > self.size {
            return Err(EINVAL);
        }
        // SAFETY: `off..end` lies inside the live allocation; the device may
        // access the memory concurrently only while a call it belongs to is
        // in flight, and callers never write to a buffer in flight.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), self.cpu.as_ptr().add(off), data.len()) };
        Ok(())
    }

    /// Copies `out.len()` bytes at `off` out of the buffer.
    pub(crate) fn read(&self, off: usize, out: &mut [u8]) -> Result {
        let end = off.checked_add(out.len()).ok_or(EINVAL)?;
        if end > self.size {
            return Err(EINVAL);
        }
        // SAFETY: As in `write`; bytes are plain data whatever the device
        // wrote.
        unsafe {
            ptr::copy_nonoverlapping(self.cpu.as_ptr().add(off), out.as_mut_ptr(), out.len())
        };
        Ok(())
    }

    /// Copies `len` bytes from user address `addr` into the buffer at `off`.
    pub(crate) fn copy_from_user(&self, off: usize, addr: u64, len: usize) -> Result {
        let end = off.checked_add(len).ok_or(EINVAL)?;
        if end > self.size {
            return Err(EINVAL);
        }
        let addr = usize::try_from(addr).map_err(|_| EFAULT)?;
        // SAFETY: `off..end` lies inside the live allocation, which nothing
        // else accesses while a call is being built (see `write`).
        let dst = unsafe {
            core::slice::from_raw_parts_mut(
                self.cpu
                    .as_ptr()
                    .add(off)
                    .cast::<core::mem::MaybeUninit<u8>>(),
                len,
            )
        };
        UserSlice::new(UserPtr::from_addr(addr), len)
            .reader()
            .read_raw(dst)
    }

    /// Copies `len` bytes of the buffer at `off` to user address `addr`.
    pub(crate) fn copy_to_user(&self, off: usize, addr: u64, len: usize) -> Result {
        let end = off.checked_add(len).ok_or(EINVAL)?;
        if end > self.size {
            return Err(EINVAL);
        }
        let addr = usize::try_from(addr).map_err(|_| EFAULT)?;
        // SAFETY: As in `copy_from_user`; the call that filled it is over.
        let src = unsafe { core::slice::from_raw_parts(self.cpu.as_ptr().add(off), len) };
        UserSlice::new(UserPtr::from_addr(addr), len)
            .writer()
            .write_slice(src)
    }

    /// Maps the pages of the buffer starting at `vma`'s page offset into
    /// `vma`, with the caching attributes the DMA API chose for it.
    pub(crate) fn mmap(&self, vma: &Vma) -> Result {
        // SAFETY: The allocation is live (type invariant) and `vma` is a VMA
        // being set up by an mmap callback; `dma_mmap_attrs()` bounds-checks
        // the VMA against `size`.
        to_result(unsafe {
            bindings::dma_mmap_attrs(
                dev_raw(&self.dev),
                vma.as_raw(),
                self.cpu.as_ptr().cast(),
                self.dma,
                self.size,
                0,
            )
        })
    }

    /// Builds a scatter table of the buffer's pages, for exporters.
    pub(crate) fn sg_table(&self) -> Result<super::gem::SgTable> {
        // SAFETY: `kzalloc` of a plain C struct.
        let sgt = unsafe {
            bindings::__kmalloc_noprof(
                core::mem::size_of::<bindings::sg_table>(),
                bindings::GFP_KERNEL | bindings::__GFP_ZERO,
            )
        }
        .cast::<bindings::sg_table>();
        if sgt.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `sgt` is a zeroed table; the allocation is live.
        let ret = unsafe {
            bindings::dma_get_sgtable_attrs(
                dev_raw(&self.dev),
                sgt,
                self.cpu.as_ptr().cast(),
                self.dma,
                self.size,
                0,
            )
        };
        if ret != 0 {
            // SAFETY: `sgt` was allocated above and holds no entries.
            unsafe { bindings::kfree(sgt.cast()) };
            return Err(Error::from_errno(ret));
        }
        // SAFETY: `sgt` is a `kmalloc`ed, initialised table we give away.
        unsafe { super::gem::SgTable::from_raw(sgt) }
    }
}

impl Drop for CoherentBuffer {
    fn drop(&mut self) {
        // SAFETY: Allocated by `dma_alloc_attrs()` with these arguments (type
        // invariant); the device is kept alive by `self.dev`.
        unsafe {
            bindings::dma_free_attrs(
                dev_raw(&self.dev),
                self.size,
                self.cpu.as_ptr().cast(),
                self.dma,
                0,
            )
        };
    }
}

/// A reference on a `struct dma_buf`.
///
/// # Invariants
///
/// The pointer is a dma-buf on which this value owns one file reference.
pub(crate) struct DmaBuf(NonNull<bindings::dma_buf>);

// SAFETY: dma-buf references may be taken and dropped from any thread.
unsafe impl Send for DmaBuf {}
// SAFETY: The dma-buf API is thread-safe.
unsafe impl Sync for DmaBuf {}

impl DmaBuf {
    /// Takes a new reference on `raw`.
    ///
    /// # Safety
    ///
    /// `raw` must be a valid dma-buf for the duration of the call.
    pub(crate) unsafe fn get(raw: *mut bindings::dma_buf) -> Result<Self> {
        let raw = NonNull::new(raw).ok_or(EINVAL)?;
        // SAFETY: `raw` is valid by the safety requirements.
        unsafe { bindings::qda_get_dma_buf(raw.as_ptr()) };
        // INVARIANT: reference taken above.
        Ok(Self(raw))
    }

    /// Size in bytes.
    pub(crate) fn size(&self) -> usize {
        // SAFETY: The dma-buf is alive while we hold a reference; `size` is
        // immutable after creation.
        unsafe { (*self.0.as_ptr()).size }
    }

    /// Returns the raw pointer.
    pub(crate) fn as_raw(&self) -> *mut bindings::dma_buf {
        self.0.as_ptr()
    }

    /// Attaches the dma-buf to `dev` and maps it for DMA by `dev`.
    pub(crate) fn map_for(&self, dev: &device::Device) -> Result<Attachment> {
        // SAFETY: Valid dma-buf (type invariant) and device.
        let attach =
            from_err_ptr(unsafe { bindings::dma_buf_attach(self.as_raw(), dev_raw(dev)) })?;
        // SAFETY: `attach` was just created for this dma-buf.
        let sgt = unsafe {
            bindings::dma_buf_map_attachment_unlocked(
                attach,
                bindings::dma_data_direction::DMA_BIDIRECTIONAL,
            )
        };
        let sgt = match from_err_ptr(sgt) {
            Ok(sgt) if !sgt.is_null() => sgt,
            other => {
                // SAFETY: Undo the attach above.
                unsafe { bindings::dma_buf_detach(self.as_raw(), attach) };
                return Err(other.err().unwrap_or(ENOMEM));
            }
        };
        // SAFETY: `self` is a valid dma-buf.
        let buf = unsafe { Self::get(self.as_raw()) }?;
        // INVARIANT: attached and mapped above.
        Ok(Attachment { buf, attach, sgt })
    }
}

impl Clone for DmaBuf {
    fn clone(&self) -> Self {
        // SAFETY: We hold a reference, so the dma-buf is valid.
        unsafe { bindings::qda_get_dma_buf(self.as_raw()) };
        Self(self.0)
    }
}

impl Drop for DmaBuf {
    fn drop(&mut self) {
        // SAFETY: We own one reference (type invariant).
        unsafe { bindings::dma_buf_put(self.as_raw()) };
    }
}

/// A dma-buf attached to and mapped for a device.
///
/// # Invariants
///
/// `attach` is an attachment of `buf` whose mapping is `sgt`; both are
/// undone only in `drop`.
pub(crate) struct Attachment {
    buf: DmaBuf,
    attach: *mut bindings::dma_buf_attachment,
    sgt: *mut bindings::sg_table,
}

// SAFETY: Attachments may be unmapped and detached from any thread.
unsafe impl Send for Attachment {}
// SAFETY: `&Attachment` only reads the immutable mapping.
unsafe impl Sync for Attachment {}

impl Attachment {
    /// The DMA segments of the mapping as `(address, length)`, in order.
    /// Imported buffers are generally scattered: every segment counts.
    pub(crate) fn segments(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        // SAFETY: `sgt` is the live, DMA-mapped table of this attachment.
        let table = unsafe { SGTable::from_raw(self.sgt) };
        table.iter().map(|e| (e.dma_address(), e.dma_len()))
    }

    /// The raw attachment, for the DRM core's `import_attach`.
    pub(crate) fn as_raw(&self) -> *mut bindings::dma_buf_attachment {
        self.attach
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        // SAFETY: Mapped and attached in `DmaBuf::map_for` (type invariant).
        unsafe {
            bindings::dma_buf_unmap_attachment_unlocked(
                self.attach,
                self.sgt,
                bindings::dma_data_direction::DMA_BIDIRECTIONAL,
            );
            bindings::dma_buf_detach(self.buf.as_raw(), self.attach);
        }
    }
}

/// Maps `buf` (a dma-buf) into `vma`, which a GEM mmap handed us, starting at
/// page `pgoff` of the dma-buf.
pub(crate) fn mmap_dma_buf(buf: &DmaBuf, vma: &Vma, pgoff: usize) -> Result {
    // SAFETY: `buf` is a live dma-buf and `vma` a VMA under setup.
    to_result(unsafe { bindings::dma_buf_mmap(buf.as_raw(), vma.as_raw(), pgoff) })
}
