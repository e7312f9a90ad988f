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

use crate::sys::{dma::CoherentBuffer, gem};
use kernel::{device, prelude::*};

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
    /// when it cannot, leaving nothing behind.
    fn alloc(&self, cb: &device::Device, size: usize) -> Result<KBox<dyn Memory>>;
}

/// DMA-coherent memory of the CB device.
pub(crate) struct DmaCoherent;

impl Backend for DmaCoherent {
    fn alloc(&self, cb: &device::Device, size: usize) -> Result<KBox<dyn Memory>> {
        let buf = CoherentBuffer::alloc(cb, size)?;
        Ok(KBox::new(buf, GFP_KERNEL)?)
    }
}

impl Memory for CoherentBuffer {
    fn size(&self) -> usize {
        CoherentBuffer::size(self)
    }

    fn dma_addr(&self) -> u64 {
        CoherentBuffer::dma_addr(self)
    }

    fn mmap(&self, vma: &gem::Vma) -> Result {
        CoherentBuffer::mmap(self, vma)
    }

    fn sg_table(&self) -> Result<gem::SgTable> {
        CoherentBuffer::sg_table(self)
    }

    fn write(&self, off: usize, data: &[u8]) -> Result {
        CoherentBuffer::write(self, off, data)
    }

    fn read(&self, off: usize, out: &mut [u8]) -> Result {
        CoherentBuffer::read(self, off, out)
    }

    fn copy_from_user(&self, off: usize, addr: u64, len: usize) -> Result {
        CoherentBuffer::copy_from_user(self, off, addr, len)
    }

    fn copy_to_user(&self, off: usize, addr: u64, len: usize) -> Result {
        CoherentBuffer::copy_to_user(self, off, addr, len)
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

    /// Allocates `size` bytes for `cb`.
    pub(crate) fn alloc(&self, cb: &device::Device, size: usize) -> Result<KBox<dyn Memory>> {
        self.backend.alloc(cb, size)
    }
}
