// SPDX-License-Identifier: GPL-2.0

//! The memory manager: where the bytes the DSP touches come from.
//!
//! A [`Backend`] allocates [`Memory`] for a context-bank device; callers only
//! see the trait, so other memory types (a carveout, CMA regions, dma-heaps)
//! can be added as backends without touching them. The one backend today,
//! [`DmaCoherent`], uses the DMA-coherent allocator of the CB device: with an
//! IOMMU the memory is mapped in the CB's context, without one it is
//! physically contiguous (dma-direct, CMA for large sizes).
//!
//! The DSP reaches a buffer at its device address with the CB's stream ID
//! in bits 32 and up ([`dsp_addr`]), as `drivers/misc/fastrpc.c` does.
//!
//! Every [`Memory`] holds a handle on its CB device: the device stays
//! registered, in its IOMMU group and with its DMA domain until the memory
//! is freed, whatever happens to the channel in between.
//!
//! Accounting: an allocation made for a session is charged to the
//! session's [`Quota`] (its per-process cap, `ENOMEM` beyond it) until the
//! memory is freed, and its pages to the allocating task's memory cgroup
//! where the backend's allocator allows it.

#![deny(unsafe_code)]

use crate::{
    cb::{Cb, Quota},
    sys::{dma::CoherentBuffer, gem},
};
use kernel::{prelude::*, sync::Arc};

/// Memory the DSP can reach through one context bank.
pub(crate) trait Memory: Send + Sync {
    /// Size in bytes, a multiple of the page size.
    fn size(&self) -> usize;
    /// Address of the first byte as the CB device sees it (no SID).
    fn dma_addr(&self) -> u64;
    /// Maps the memory into user space (shared, page-granular).
    fn mmap(&self, vma: &gem::Vma) -> Result;
    /// The pages, for a dma-buf importer.
    fn sg_table(&self) -> Result<gem::SgTable>;
    /// Copies `data` into the memory at `off` (bounds-checked).
    fn write(&self, off: usize, data: &[u8]) -> Result;
    /// Copies bytes at `off` into `out` (bounds-checked).
    fn read(&self, off: usize, out: &mut [u8]) -> Result;
    /// Copies `len` bytes from user address `addr` to `off`.
    fn copy_from_user(&self, off: usize, addr: u64, len: usize) -> Result;
    /// Copies `len` bytes at `off` to user address `addr`.
    fn copy_to_user(&self, off: usize, addr: u64, len: usize) -> Result;
}

/// A source of [`Memory`].
pub(crate) trait Backend: Send + Sync {
    /// Allocates `size` bytes (page multiple, non-zero) for `cb`; `ENOMEM`
    /// when it cannot, leaving nothing behind. The memory keeps `cb` alive,
    /// and `charge` until it is freed.
    fn alloc(&self, cb: &Cb, size: usize, charge: Option<Charge>) -> Result<KBox<dyn Memory>>;
}

/// DMA-coherent memory of the CB device.
pub(crate) struct DmaCoherent;

/// A coherent buffer and the CB it was allocated for. Fields drop in
/// declaration order: the buffer is freed while the CB is still in its
/// IOMMU group.
struct CbCoherent {
    buf: CoherentBuffer,
    _cb: Cb,
    _charge: Option<Charge>,
}

/// A charge of `bytes` on a quota, given back when dropped (with the
/// memory it pays for).
pub(crate) struct Charge {
    quota: Arc<Quota>,
    bytes: usize,
}

impl Charge {
    /// Charges `bytes` to `quota`; `ENOMEM` beyond its cap.
    fn new(quota: &Arc<Quota>, bytes: usize) -> Result<Self> {
        quota.charge(bytes)?;
        Ok(Self {
            quota: quota.clone(),
            bytes,
        })
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.quota.uncharge(self.bytes);
    }
}

impl Backend for DmaCoherent {
    fn alloc(&self, cb: &Cb, size: usize, charge: Option<Charge>) -> Result<KBox<dyn Memory>> {
        let buf = CoherentBuffer::alloc(cb.as_dev(), size)?;
        Ok(KBox::new(
            CbCoherent {
                buf,
                _cb: cb.clone(),
                _charge: charge,
            },
            GFP_KERNEL,
        )?)
    }
}

impl Memory for CbCoherent {
    fn size(&self) -> usize {
        self.buf.size()
    }

    fn dma_addr(&self) -> u64 {
        self.buf.dma_addr()
    }

    fn mmap(&self, vma: &gem::Vma) -> Result {
        self.buf.mmap(vma)
    }

    fn sg_table(&self) -> Result<gem::SgTable> {
        self.buf.sg_table()
    }

    fn write(&self, off: usize, data: &[u8]) -> Result {
        self.buf.write(off, data)
    }

    fn read(&self, off: usize, out: &mut [u8]) -> Result {
        self.buf.read(off, out)
    }

    fn copy_from_user(&self, off: usize, addr: u64, len: usize) -> Result {
        self.buf.copy_from_user(off, addr, len)
    }

    fn copy_to_user(&self, off: usize, addr: u64, len: usize) -> Result {
        self.buf.copy_to_user(off, addr, len)
    }
}

/// The address the DSP uses for device address `dma` behind stream `sid`.
pub(crate) fn dsp_addr(sid: u32, dma: u64) -> u64 {
    (u64::from(sid) << 32) | dma
}

/// Picks the backend for allocations.
#[derive(Clone, Copy)]
pub(crate) struct MemoryManager {
    backend: &'static dyn Backend,
}

impl MemoryManager {
    /// A manager handing out DMA-coherent memory.
    pub(crate) const fn dma_coherent() -> Self {
        Self {
            backend: &DmaCoherent,
        }
    }

    /// Allocates `size` bytes for `cb`, charged to `quota` if given.
    /// `ENOMEM` at once for more than the CB's DMA space could ever hold
    /// (such a request would otherwise reach the IOMMU's page-array
    /// allocation, far beyond what it can serve) or than the quota allows.
    pub(crate) fn alloc(
        &self,
        cb: &Cb,
        size: usize,
        quota: Option<&Arc<Quota>>,
    ) -> Result<KBox<dyn Memory>> {
        if size > crate::cb::CB_DMA_SPAN {
            return Err(ENOMEM);
        }
        let charge = quota.map(|q| Charge::new(q, size)).transpose()?;
        self.backend.alloc(cb, size, charge)
    }
}
