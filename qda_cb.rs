// SPDX-License-Identifier: GPL-2.0

//! Compute context banks (CBs).
//!
//! Every `qcom,fastrpc-compute-cb` child of a channel's device-tree node
//! becomes a device on the `qda-cb` bus, named `qda-<dsp>-cb<sid>` and
//! parented to the rpmsg channel. Its `reg` is the stream ID (SID) that
//! prefixes every DSP-visible address (`sid << 32`); `qcom,nsessions` says
//! how many sessions may share it (default 1). Each CB is the DMA device
//! buffers for its sessions are allocated from: 32-bit DMA mask, IOMMU group
//! from its `iommus` property when the platform has one.
//!
//! Sysfs, per CB: `sid`, `nsessions` and `dsp`.

use crate::{rpmsg::Dsp, sys::bus};
use core::fmt;
use kernel::{device, device::property::FwNode, prelude::*};

/// The bus all CB devices live on.
pub(crate) static CB_BUS: bus::Bus<CbInfo> = bus::Bus::new(c"qda-cb");

/// Compatible string of CB nodes.
const CB_COMPATIBLE: &CStr = c"qcom,fastrpc-compute-cb";

/// DMA address width of every CB, as `drivers/misc/fastrpc.c` uses by default.
const CB_DMA_BITS: u32 = 32;

/// Upper bound on sessions per channel, as `FASTRPC_MAX_SESSIONS` in the C
/// driver.
const MAX_SESSIONS: u32 = 14;

/// What a CB device knows about itself.
pub(crate) struct CbInfo {
    dsp: Dsp,
    sid: u32,
    nsessions: u32,
}

impl bus::DeviceData for CbInfo {
    const ATTRS: &'static [&'static CStr] = &[c"sid", c"nsessions", c"dsp"];

    fn show_attr(&self, idx: usize, out: &mut dyn fmt::Write) -> fmt::Result {
        match idx {
            0 => write!(out, "{}", self.sid),
            1 => write!(out, "{}", self.nsessions),
            _ => out.write_str(self.dsp.name()),
        }
    }
}

/// A CB device of a channel.
pub(crate) type Cb = bus::Device<CbInfo>;

/// Creates the CB devices described by the children of `node`.
///
/// Fails if a CB has no `reg`, a zero `qcom,nsessions`, or the channel would
/// exceed [`MAX_SESSIONS`]; devices created so far are removed again.
pub(crate) fn create_all(parent: &device::Device, node: &FwNode, dsp: Dsp) -> Result<KVec<Cb>> {
    let mut cbs = KVec::new();
    let mut sessions = 0u32;
    for child in node.children() {
        if child
            .property_match_string(c"compatible", CB_COMPATIBLE)
            .is_err()
        {
            continue;
        }
        let sid: u32 = child.property_read(c"reg").required_by(parent)?;
        let nsessions: u32 = child.property_read(c"qcom,nsessions").or(1);
        sessions = sessions.checked_add(nsessions).ok_or(EINVAL)?;
        if nsessions == 0 || sessions > MAX_SESSIONS {
            dev_err!(
                parent,
                "{}: invalid qcom,nsessions {} for CB {}\n",
                dsp.name(),
                nsessions,
                sid
            );
            return Err(EINVAL);
        }
        let info = CbInfo {
            dsp,
            sid,
            nsessions,
        };
        let cb = CB_BUS.add_device(
            parent,
            &child,
            fmt!("qda-{}-cb{}", dsp.name(), sid),
            CB_DMA_BITS,
            info,
        )?;
        cbs.push(cb, GFP_KERNEL)?;
    }
    Ok(cbs)
}
