// SPDX-License-Identifier: GPL-2.0

//! QDA: DRM accel driver for the Qualcomm Hexagon DSPs.
//!
//! QDA binds to the `qcom,fastrpc` rpmsg channels (the device-tree binding of
//! `drivers/misc/fastrpc.c`), creates one compute context-bank (CB) device per
//! `qcom,fastrpc-compute-cb` child on its own bus, and exposes each channel as
//! `/dev/accel/accelN`. See `Documentation/accel/qda/` for the design and the
//! user-space API in `uapi/drm/qda_accel.h`.
//!
//! Layout: [`sys`] holds every `unsafe` abstraction the kernel crate lacks;
//! the rest of the driver is safe Rust, which every other module proves by
//! starting with `#![deny(unsafe_code)]`.

#[path = "qda_cb.rs"]
mod cb;
#[path = "qda_fastrpc.rs"]
mod fastrpc;
#[path = "qda_gem.rs"]
mod gem;
#[path = "qda_ioctl.rs"]
mod ioctl;
#[cfg(CONFIG_KUNIT)]
#[path = "qda_kunit.rs"]
mod kunit;
#[path = "qda_memory_manager.rs"]
mod memory_manager;
#[path = "qda_proto.rs"]
pub mod proto;
#[path = "qda_rpmsg.rs"]
mod rpmsg;
#[path = "sys/mod.rs"]
mod sys;

use kernel::prelude::*;

module! {
    type: QdaModule,
    name: "qda",
    authors: ["The QDA developers"],
    description: "Qualcomm DSP accelerator (FastRPC over DRM accel)",
    license: "GPL",
    imports_ns: ["DMA_BUF"],
    params: {
        kernel_timeout_ms: u32 {
            default: 5000,
            description: "Longest wait in ms of a call the kernel makes to the DSP (attach, create, release, map, unmap, capability query)",
        },
        max_inflight: u32 {
            default: 64,
            description: "User calls a process may have in flight per channel; more get EAGAIN",
        },
        trusted_gid: i32 {
            default: -1,
            description: "Group (in the initial user namespace) whose members open accel nodes as trusted openers, besides CAP_SYS_ADMIN; -1: none",
        },
        max_memory_mb: u32 {
            default: 0,
            description: "MiB of buffers a process may allocate per channel (0: a quarter of RAM); more get ENOMEM",
        },
    },
}

/// Module state. Fields drop in declaration order: the rpmsg driver goes
/// first, which removes every channel and with it every CB device, and only
/// then the CB bus.
struct QdaModule {
    _rpmsg: sys::rpmsg::Registration<rpmsg::QdaRpmsg>,
    _cb_bus: sys::bus::Registration<cb::CbInfo>,
}

impl kernel::Module for QdaModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // Refuse a kernel whose Rust bindings disagree with C on a structure
        // the driver uses, rather than read the wrong fields.
        sys::layout::check()?;
        let cb_bus = cb::CB_BUS.register()?;
        let rpmsg = sys::rpmsg::Registration::new()?;
        Ok(Self {
            _rpmsg: rpmsg,
            _cb_bus: cb_bus,
        })
    }
}
