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
//! Memory shared with a device is never seen by Rust as Rust memory: the
//! device may write a [`CoherentBuffer`] at any time (a DSP that misbehaves
//! keeps its address mapped), so the buffer hands out no slices or
//! references, and its safe accessors copy through C routines that take raw
//! pointers (see the type's invariants). That keeps a concurrent device
//! write from being a Rust data race without asking callers for a promise
//! about what the device is doing.
//!
//! C headers: [`include/linux/dma-mapping.h`], [`include/linux/dma-buf.h`].

use super::{bindings, dev_raw, gem::Vma};
use core::{ffi::c_void, ptr::NonNull};
use kernel::{
    device,
    error::{from_err_ptr, to_result},
    prelude::*,
    scatterlist::SGTable,
    sync::aref::ARef,
    uaccess::UserPtr,
};

/// A DMA-coherent buffer of a device.
///
/// The device may read and write the buffer at any time: while a call it
/// belongs to is in flight, but also after that call was abandoned, or
/// whenever a misbehaving DSP pleases while the buffer is mapped for it. The
/// CPU side is therefore built so that such a write can never be a data race
/// in the Rust sense: no Rust reference (`&[u8]`, `&mut [u8]`, `&T`) to the
/// buffer's memory ever exists, and Rust code never reads or writes it
/// directly. Every CPU access is a copy by a C routine that is handed raw
/// pointers: `memcpy()` (in `sys/helpers.c`, outside the Rust abstract
/// machine and opaque to the compiler) for kernel memory, and
/// `copy_from_user()`/`copy_to_user()` for user memory. What a read returns
/// is plain bytes (every bit pattern of `u8` is valid): a device writing
/// concurrently can make the copied data inconsistent, never undefined.
/// The same holds for concurrent CPU accesses through `&self`, which are
/// likewise only C copies.
///
/// # Invariants
///
/// - `cpu`/`dma` describe a live `dma_alloc_attrs()` allocation of `size`
///   bytes for `dev`, freed only in `drop`.
/// - The memory at `cpu` is only accessed through raw pointers: by the C copy
///   routines above, by `dma_mmap_attrs()` and `dma_get_sgtable_attrs()`
///   (which map its pages, never touch its bytes), and by the device. No
///   Rust reference to it is ever created.
pub(crate) struct CoherentBuffer {
    dev: ARef<device::Device>,
    cpu: NonNull<u8>,
    dma: bindings::dma_addr_t,
    size: usize,
}

// SAFETY: The allocation is not tied to a thread: it may be accessed, mapped
// and freed from any thread.
unsafe impl Send for CoherentBuffer {}
// SAFETY: `&CoherentBuffer` exposes addresses, mapping operations the DMA API
// allows concurrently, and copies that go through C routines with raw
// pointers only (type invariant), for which concurrent accesses, by other
// threads or by the device, are not Rust data races.
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
        // INVARIANT: allocated above for `dev`; only the raw pointer is kept.
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

    /// A raw pointer to the `len` bytes at `off`, after checking that they
    /// lie inside the buffer. The pointer is only ever handed to C copy
    /// routines (type invariant).
    fn span(&self, off: usize, len: usize) -> Result<*mut c_void> {
        let end = off.checked_add(len).ok_or(EINVAL)?;
        if end > self.size {
            return Err(EINVAL);
        }
        // `wrapping_add` does not need the allocation to be a Rust object;
        // `off <= size` keeps the result inside it (or one past its end).
        Ok(self.cpu.as_ptr().wrapping_add(off).cast())
    }

    /// Copies `data` into the buffer at `off`.
    pub(crate) fn write(&self, off: usize, data: &[u8]) -> Result {
        let dst = self.span(off, data.len())?;
        // SAFETY: `dst` is valid for `data.len()` bytes of the live
        // allocation (`span`), `data` for reads of as many; they do not
        // overlap (`data` is a Rust slice, never the buffer: type
        // invariant). The copy is done by C, so a concurrent access by the
        // device is no Rust data race.
        unsafe { bindings::qda_dma_memcpy(dst, data.as_ptr().cast(), data.len()) };
        Ok(())
    }

    /// Copies `out.len()` bytes at `off` out of the buffer. The bytes are
    /// whatever the memory held during the copy.
    pub(crate) fn read(&self, off: usize, out: &mut [u8]) -> Result {
        let src = self.span(off, out.len())?;
        // SAFETY: As in `write`, with the roles swapped; every bit pattern is
        // a valid `u8`.
        unsafe { bindings::qda_dma_memcpy(out.as_mut_ptr().cast(), src, out.len()) };
        Ok(())
    }

    /// Copies `len` bytes from user address `addr` into the buffer at `off`.
    /// `EFAULT` if user memory cannot be read; the bytes not copied are then
    /// zeroed.
    pub(crate) fn copy_from_user(&self, off: usize, addr: u64, len: usize) -> Result {
        let dst = self.span(off, len)?;
        let src = UserPtr::from_addr(usize::try_from(addr).map_err(|_| EFAULT)?);
        let n = kernel::ffi::c_ulong::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: `dst` is valid for writes of `len` bytes of the live
        // allocation (`span`); `copy_from_user()` checks the user range
        // itself. The copy is done by C with raw pointers only.
        match unsafe { bindings::copy_from_user(dst, src.as_const_ptr(), n) } {
            0 => Ok(()),
            _ => Err(EFAULT),
        }
    }

    /// Copies `len` bytes of the buffer at `off` to user address `addr`.
    /// `EFAULT` if user memory cannot be written.
    pub(crate) fn copy_to_user(&self, off: usize, addr: u64, len: usize) -> Result {
        let src = self.span(off, len)?;
        let dst = UserPtr::from_addr(usize::try_from(addr).map_err(|_| EFAULT)?);
        let n = kernel::ffi::c_ulong::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: As in `copy_from_user`, with the roles swapped.
        match unsafe { bindings::copy_to_user(dst.as_mut_ptr(), src, n) } {
            0 => Ok(()),
            _ => Err(EFAULT),
        }
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

    /// Builds a scatter table of the buffer's pages, for exporters. The
    /// table (which the DRM core frees with `sg_free_table()` and `kfree()`)
    /// describes the pages; it does not keep them alive: the dma-buf that
    /// hands it out holds a reference on the GEM object owning `self`.
    pub(crate) fn sg_table(&self) -> Result<super::gem::SgTable> {
        // A `kmalloc`ed, zeroed table: `KBox` allocates with `kmalloc`, so
        // the `kfree()` of whoever ends up owning it matches.
        let sgt = KBox::into_raw(KBox::new(
            pin_init::zeroed::<bindings::sg_table>(),
            GFP_KERNEL,
        )?);
        // SAFETY: `sgt` is a zeroed table; the allocation is live (type
        // invariant) and only its pages are looked up, not its bytes.
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
            // SAFETY: `sgt` came from `KBox::into_raw` above and is not
            // shared. `sg_free_table()` is a no-op on a table without
            // entries (`sgl` null), which is what a failed
            // `dma_get_sgtable_attrs()` leaves whatever backend ran.
            unsafe {
                bindings::sg_free_table(sgt);
                drop(KBox::from_raw(sgt));
            }
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
