// SPDX-License-Identifier: GPL-2.0

//! Compute context banks (CBs).
//!
//! Every `qcom,fastrpc-compute-cb` child of a channel's device-tree node
//! becomes a device on the `qda-cb` bus, named `qda-<dsp>-cb<sid>` and
//! parented to the rpmsg channel. A [`Cb`] is a counted handle: the channel,
//! every session on the CB and every buffer, payload and init memory
//! allocated for it hold one, and the device leaves its IOMMU group and the
//! bus only when the last goes. When the channel goes away first (a DSP
//! restart) with buffers still alive, the CB moves to the top of the device
//! hierarchy until they are freed, and a channel that comes back for the
//! same node takes it over again instead of creating a second device for
//! the same stream. Its `reg` is the stream ID (SID) that
//! prefixes every DSP-visible address (`sid << 32`); `qcom,nsessions` says
//! how many sessions may share it (default 1). Each CB is the DMA device
//! buffers for its sessions are allocated from: 32-bit DMA mask, IOMMU group
//! from its `iommus` property when the platform has one.
//!
//! Sysfs, per CB: `sid`, `nsessions` and `dsp`.
//!
//! Sessions: the channel's CB slots (`nsessions` per CB) form a
//! [`SessionPool`]. A process gets a slot at its first memory operation on
//! the channel and keeps it while any of its files or buffers is alive;
//! every file of the process shares it. With every slot taken, the first
//! memory operation of another process fails with `EBUSY`.

#![deny(unsafe_code)]

use crate::{
    fastrpc::Engine,
    memory_manager::{Memory, MemoryManager},
    rpmsg::Dsp,
    sys::bus,
};
use core::fmt;
use kernel::{
    device,
    device::property::FwNode,
    new_mutex,
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, Mutex,
    },
    task::Pid,
};

/// The bus all CB devices live on.
pub(crate) static CB_BUS: bus::Bus<CbInfo> = bus::Bus::new(c"qda-cb");

/// Compatible string of CB nodes.
const CB_COMPATIBLE: &CStr = c"qcom,fastrpc-compute-cb";

/// DMA address width of every CB, as `drivers/misc/fastrpc.c` uses by default.
const CB_DMA_BITS: u32 = 32;

/// The largest allocation a CB can ever map: its whole DMA (IOVA) space.
pub(crate) const CB_DMA_SPAN: usize = 1 << CB_DMA_BITS;

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

/// A handle on a CB device; the device stays registered and in its IOMMU
/// group while any handle lives.
pub(crate) type Cb = bus::Device<CbInfo>;

/// Creates (or takes over, after a restart) the CB devices described by the
/// children of `node`, below `parent`.
///
/// Fails if a CB has no `reg`, a zero `qcom,nsessions`, the channel would
/// exceed [`MAX_SESSIONS`], or its IOMMU is not there (`EPROBE_DEFER` while
/// it has not probed); the handles taken so far are dropped again.
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
        let cb = CB_BUS.get_or_add(
            parent,
            &child,
            fmt!("qda-{}-cb{}", dsp.name(), sid),
            CB_DMA_BITS,
            || CbInfo {
                dsp,
                sid,
                nsessions,
            },
        )?;
        cbs.push(cb, GFP_KERNEL)?;
    }
    Ok(cbs)
}

/// What a session has set up on the DSP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pd {
    /// Nothing yet.
    None,
    /// Attached to the root PD (`INIT_ATTACH`).
    Root,
    /// A user PD was created (`INIT_CREATE`).
    User,
}

/// DSP-side state of a session.
pub(crate) struct PdState {
    /// What was set up.
    pub(crate) pd: Pd,
    /// Memory the DSP uses for a user PD, owned by the session.
    pub(crate) init_mem: Option<KBox<dyn Memory>>,
}

/// A process's share of a channel: one CB slot.
///
/// Sessions are handed out by a [`SessionPool`]; every file of the owning
/// process and every buffer allocated through it holds a [`SessionRef`].
/// When the last goes, the DSP process is released (if one was set up and
/// the channel is still there) and the slot returns to the pool.
#[pin_data(PinnedDrop)]
pub(crate) struct Session {
    id: u32,
    sid: u32,
    cb: Cb,
    tgid: Pid,
    /// Bytes of live buffers of the session.
    memory: Atomic<u64>,
    engine: Arc<Engine>,
    mm: MemoryManager,
    /// Serialises attach/create/release of the session.
    #[pin]
    state: Mutex<PdState>,
}

impl Session {
    /// The session's id on the wire, unique within the channel while alive.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// Stream ID of the session's CB.
    pub(crate) fn sid(&self) -> u32 {
        self.sid
    }

    /// The CB device buffers of the session are allocated from.
    pub(crate) fn cb(&self) -> &Cb {
        &self.cb
    }

    /// The channel's engine.
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The memory manager of the channel.
    pub(crate) fn mm(&self) -> &MemoryManager {
        &self.mm
    }

    /// The DSP-side state, locked.
    pub(crate) fn state(&self) -> kernel::sync::MutexGuard<'_, PdState> {
        self.state.lock()
    }

    /// Bytes of live buffers.
    pub(crate) fn memory(&self) -> u64 {
        self.memory.load(Relaxed)
    }

    /// Accounts `bytes` more (or, with `add == false`, fewer) buffer bytes.
    pub(crate) fn account(&self, bytes: usize, add: bool) {
        let bytes = bytes as u64;
        if add {
            self.memory.fetch_add(bytes, Relaxed);
        } else {
            self.memory.fetch_sub(bytes, Relaxed);
        }
    }
}

#[pinned_drop]
// `#[pinned_drop]` makes this an `unsafe impl` (pin-init's contract, which
// the macro itself upholds); the body is held to the module's lint again.
#[allow(unsafe_code)]
impl PinnedDrop for Session {
    #[deny(unsafe_code)]
    fn drop(self: Pin<&mut Self>) {
        let pd = self.state.lock().pd;
        if pd != Pd::None {
            // Best effort: fails at once with EPIPE when the channel is gone.
            let _ = crate::fastrpc::release(&self);
        }
    }
}

struct Slot {
    /// The CB, until the channel goes away (see [`SessionPool::retire`]).
    cb: Option<Cb>,
    sid: u32,
    /// The session using the slot and its number of [`SessionRef`]s.
    owner: Option<(Arc<Session>, usize)>,
}

/// The CB slots of a channel: `qcom,nsessions` per CB.
#[pin_data]
pub(crate) struct SessionPool {
    #[pin]
    slots: Mutex<KVec<Slot>>,
    engine: Arc<Engine>,
    mm: MemoryManager,
}

impl SessionPool {
    /// Builds the pool of the channel's CBs.
    pub(crate) fn new(cbs: &[Cb], engine: Arc<Engine>, mm: MemoryManager) -> Result<Arc<Self>> {
        let mut slots = KVec::new();
        for cb in cbs {
            for _ in 0..cb.data().nsessions {
                slots.push(
                    Slot {
                        cb: Some(cb.clone()),
                        sid: cb.data().sid,
                        owner: None,
                    },
                    GFP_KERNEL,
                )?;
            }
        }
        Arc::pin_init(
            pin_init!(Self {
                slots <- new_mutex!(slots),
                engine,
                mm,
            }),
            GFP_KERNEL,
        )
    }

    /// Drops the pool's handles on its CBs: the channel is gone, so no new
    /// session will be made, and a CB must not outlive the channel just
    /// because a file of the unplugged device is still open. Sessions that
    /// exist keep their own handles.
    pub(crate) fn retire(&self) {
        for slot in self.slots.lock().iter_mut() {
            // Rarely the last handle (the channel holds one until it is
            // dropped); if it is, the device is deleted here, which takes
            // no lock of ours.
            drop(slot.cb.take());
        }
    }

    /// Returns the session of process `tgid`, taking a free slot for it if
    /// it has none. `EBUSY` when every slot is taken, `ENODEV` once the pool
    /// is retired.
    pub(crate) fn acquire(self: &Arc<Self>, tgid: Pid) -> Result<SessionRef> {
        let mut slots = self.slots.lock();
        let existing = slots
            .iter_mut()
            .filter_map(|s| s.owner.as_mut())
            .find(|(s, _)| s.tgid == tgid);
        if let Some((session, users)) = existing {
            *users += 1;
            return Ok(SessionRef {
                pool: self.clone(),
                session: session.clone(),
            });
        }
        let (idx, free) = slots
            .iter_mut()
            .enumerate()
            .find(|(_, s)| s.owner.is_none())
            .ok_or(EBUSY)?;
        let id = u32::try_from(idx + 1).map_err(|_| EINVAL)?;
        // A retired pool hands out no new session.
        let (sid, cb) = (free.sid, free.cb.clone().ok_or(ENODEV)?);
        let session = Arc::pin_init(
            pin_init!(Session {
                id,
                sid,
                cb,
                tgid,
                memory: Atomic::new(0),
                engine: self.engine.clone(),
                mm: self.mm,
                state <- new_mutex!(PdState {
                    pd: Pd::None,
                    init_mem: None,
                }),
            }),
            GFP_KERNEL,
        )?;
        free.owner = Some((session.clone(), 1));
        Ok(SessionRef {
            pool: self.clone(),
            session,
        })
    }
}

/// A counted use of a [`Session`]; the last one gives the slot back.
pub(crate) struct SessionRef {
    pool: Arc<SessionPool>,
    session: Arc<Session>,
}

impl SessionRef {
    /// The session.
    pub(crate) fn session(&self) -> &Session {
        &self.session
    }
}

impl Clone for SessionRef {
    fn clone(&self) -> Self {
        let mut slots = self.pool.slots.lock();
        if let Some((_, users)) = slots
            .iter_mut()
            .filter_map(|s| s.owner.as_mut())
            .find(|(s, _)| Arc::ptr_eq(s, &self.session))
        {
            *users += 1;
        }
        Self {
            pool: self.pool.clone(),
            session: self.session.clone(),
        }
    }
}

impl Drop for SessionRef {
    fn drop(&mut self) {
        // The pool's reference is dropped after unlocking: the session's
        // release talks to the DSP.
        let released = {
            let mut slots = self.pool.slots.lock();
            let mut released = None;
            for slot in slots.iter_mut() {
                let last = match slot.owner.as_mut() {
                    Some((s, users)) if Arc::ptr_eq(s, &self.session) => {
                        *users -= 1;
                        *users == 0
                    }
                    _ => continue,
                };
                if last {
                    released = slot.owner.take();
                }
                break;
            }
            released
        };
        drop(released);
    }
}
