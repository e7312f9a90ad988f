// SPDX-License-Identifier: GPL-2.0

//! The rpmsg side: one channel per DSP.
//!
//! Each `qcom,fastrpc` rpmsg channel is a DSP. Its device-tree `label` names
//! it; probing creates its CB devices and its accel device. Removing the
//! channel (a DSP restart, or module unload) unplugs the accel device, so
//! open files get `ENODEV` from then on, and drops its handles on the CB
//! devices (which go once nothing allocated on them is left).

#![deny(unsafe_code)]

use crate::{
    cb,
    fastrpc::Engine,
    ioctl::QdaAccel,
    memory_manager::MemoryManager,
    sys::{accel, rpmsg},
};
use kernel::{prelude::*, str::CString, sync::Arc};

/// A Hexagon DSP, as named by the channel's `label`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dsp {
    /// Audio DSP.
    Adsp,
    /// Modem DSP.
    Mdsp,
    /// Sensors DSP.
    Sdsp,
    /// Compute DSP.
    Cdsp,
    /// Second compute DSP.
    Cdsp1,
    /// General-purpose DSP 0.
    Gdsp0,
    /// General-purpose DSP 1.
    Gdsp1,
}

impl Dsp {
    const ALL: [Dsp; 7] = [
        Dsp::Adsp,
        Dsp::Mdsp,
        Dsp::Sdsp,
        Dsp::Cdsp,
        Dsp::Cdsp1,
        Dsp::Gdsp0,
        Dsp::Gdsp1,
    ];

    /// Parses a channel label; anything but the seven known names is `None`.
    pub(crate) fn from_label(label: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name().as_bytes() == label)
    }

    /// Whether the DSP runs unsigned user PDs (as `fastrpc.c`: the compute
    /// and general-purpose DSPs).
    pub(crate) fn unsigned_pd(self) -> bool {
        matches!(self, Dsp::Cdsp | Dsp::Cdsp1 | Dsp::Gdsp0 | Dsp::Gdsp1)
    }

    /// The DSP's name, as in the device tree and the QUERY ioctl.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dsp::Adsp => "adsp",
            Dsp::Mdsp => "mdsp",
            Dsp::Sdsp => "sdsp",
            Dsp::Cdsp => "cdsp",
            Dsp::Cdsp1 => "cdsp1",
            Dsp::Gdsp0 => "gdsp0",
            Dsp::Gdsp1 => "gdsp1",
        }
    }
}

/// A bound channel. Fields drop in declaration order: the accel device is
/// unplugged before the CB devices go away.
pub(crate) struct Channel {
    _accel: accel::Registration<QdaAccel>,
    cbs: KVec<cb::Cb>,
    pool: Arc<cb::SessionPool>,
    engine: Arc<Engine>,
    /// The remote heap as shared with the DSP's VMs (`qcom,vmids`), given
    /// back to Linux last.
    _shared_heap: Option<SharedHeap>,
}

/// A remote heap assigned to the DSP's VMs through the secure monitor.
struct SharedHeap {
    heap: (u64, u64),
    vmids: [u32; crate::sys::MAX_VMIDS],
    count: usize,
}

impl SharedHeap {
    /// Assigns `heap` to the VMs of `dev`'s `qcom,vmids`, if it lists any
    /// (as `fastrpc.c` does at probe). `EPROBE_DEFER` while the SCM driver
    /// is not available.
    fn new(dev: &kernel::device::Device, heap: (u64, u64)) -> Result<Option<Self>> {
        let (vmids, count) = crate::sys::vmids(dev);
        let Some(list) = vmids.get(..count).filter(|l| !l.is_empty()) else {
            return Ok(None);
        };
        crate::sys::scm_assign(heap.0, heap.1, list, true)?;
        Ok(Some(Self { heap, vmids, count }))
    }
}

impl Drop for SharedHeap {
    fn drop(&mut self) {
        if let Some(list) = self.vmids.get(..self.count) {
            if crate::sys::scm_assign(self.heap.0, self.heap.1, list, false).is_err() {
                kernel::pr_err!("qda: could not give the remote heap back to Linux\n");
            }
        }
    }
}

/// The rpmsg driver.
pub(crate) struct QdaRpmsg;

impl rpmsg::Driver for QdaRpmsg {
    type Data = Channel;
    type OwnerModule = crate::QdaModule;

    const NAME: &'static CStr = c"qda";
    const OF_MATCH: &'static rpmsg::OfTable = &rpmsg::OfTable::single(c"qcom,fastrpc");

    fn probe(rpdev: &rpmsg::Device, sender: Arc<rpmsg::Sender>) -> Result<Pin<KBox<Channel>>> {
        let dev = rpdev.as_dev();
        let node = dev.fwnode().ok_or(ENODEV)?;
        let label: CString = node.property_read(c"label").required_by(dev)?;
        let Some(dsp) = Dsp::from_label(label.to_bytes()) else {
            dev_err!(dev, "unknown DSP label {:?}\n", label);
            return Err(EINVAL);
        };
        // Secure unless the node says otherwise, as `fastrpc.c`.
        let secure = !node.property_present(c"qcom,non-secure-domain");
        // The audio PD's remote heap: the ADSP's first `memory-region`.
        let heap = if dsp == Dsp::Adsp {
            crate::sys::remote_heap(dev)
        } else {
            None
        };
        let shared_heap = match heap {
            Some(h) => SharedHeap::new(dev, h)?,
            None => None,
        };
        let cbs = cb::create_all(dev, node, dsp)?;
        let engine = Engine::new(sender, heap)?;
        let mm = MemoryManager::dma_coherent();
        let pool = cb::SessionPool::new(&cbs, engine.clone(), mm, cb::Limits::from_params())?;
        let data = crate::ioctl::DeviceData {
            dsp,
            secure,
            pool: pool.clone(),
            engine: engine.clone(),
        };
        let accel = accel::Device::new(dev, data)?;
        // Allocated before the accel node appears: once user space can open
        // it, nothing may fail any more (a failure would have to undo the
        // channel as `remove` does).
        let chan = KBox::<Channel>::new_uninit(GFP_KERNEL)?;
        let accel = accel::Registration::new(accel)?;
        dev_info!(
            dev,
            "{}: {} context banks, {}{}\n",
            dsp.name(),
            cbs.len(),
            if secure { "secure" } else { "non-secure" },
            if heap.is_some() { ", remote heap" } else { "" }
        );
        Ok(KBox::into_pin(KBox::write(
            chan,
            Channel {
                _accel: accel,
                cbs,
                pool,
                engine,
                _shared_heap: shared_heap,
            },
        )))
    }

    fn remove(_rpdev: &rpmsg::Device, chan: &Channel) {
        chan.engine.shutdown();
        // The accel device (and with it the pool) may outlive the channel
        // while a file is open; its CB handles must not.
        chan.pool.retire();
        // The rpmsg device is going; CBs that buffers still hold outlive it.
        for cb in chan.cbs.iter() {
            cb.orphan();
        }
    }

    fn callback(_rpdev: &rpmsg::Device, chan: &Channel, msg: &[u8], _src: u32) {
        chan.engine.handle_message(msg);
    }
}

#[cfg(CONFIG_KUNIT)]
#[kunit_tests(qda_rpmsg)]
mod tests {
    use super::Dsp;

    #[test]
    fn labels_round_trip() {
        for d in Dsp::ALL {
            assert_eq!(Dsp::from_label(d.name().as_bytes()), Some(d));
        }
    }

    #[test]
    fn unknown_labels_rejected() {
        for l in [&b""[..], b"CDSP", b"cdsp2", b"cdsp\0", b"gdsp", b"adspx"] {
            assert_eq!(Dsp::from_label(l), None);
        }
    }
}
