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
//! [`SessionPool`]. A process (named by its `struct pid`, never by a
//! number that can be recycled) gets a slot at its first memory operation
//! on the channel; every file of the process shares it. The DSP process of
//! a session lives while a file of the process uses the session: when the
//! last such file closes, QDA releases it on the DSP. The slot itself is
//! kept while any buffer allocated through the session lives, and is never
//! handed to another process before the DSP confirmed the release: a
//! session whose DSP-side state is unknown (a release that got no answer)
//! keeps its slot *quarantined*, retried when a slot is needed and freed
//! when the channel goes away. With every slot taken, the first memory
//! operation of another process fails with `EBUSY`.
//!
//! Lock order (outer first): the file's mappings (`FileData::maps`; the
//! file's session binding is set once and needs no lock), the session's
//! DSP state ([`Session::state`]), the pool ([`SessionPool`]'s slots), the
//! session's payload pool and the engine's leaf mutexes (attributes, static
//! PD), then the engine's call table (an IRQ-safe spinlock, innermost; the
//! rpmsg sender's SRCU read-side section is only entered without it). No call to the DSP is
//! made under the pool lock, and the last buffer's drop (which may run
//! under the mmap lock, from `munmap()`) takes no session state lock
//! unless the DSP may still hold something of the session.

#![deny(unsafe_code)]

use crate::{
    fastrpc::{Call, Engine, Mapping, ReleaseKit},
    memory_manager::{Memory, MemoryManager},
    rpmsg::Dsp,
    sys::{bus, task::Process},
};
use core::fmt;
use kernel::{
    device,
    device::property::FwNode,
    new_mutex,
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        Arc, Mutex,
    },
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
    /// Attached to the sensors PD (`INIT_ATTACH_SNS`).
    Sensors,
    /// The channel's static (audio) PD was created (`INIT_CREATE_STATIC`).
    Static,
}

/// DSP-side state of a session.
pub(crate) struct PdState {
    /// What was set up.
    pub(crate) pd: Pd,
    /// The DSP may hold a process for the session although none was set up
    /// (an attach or create without an answer), or still hold the one that
    /// was (a release without an answer): it must be released, and the
    /// release confirmed, before the session sets up another or its slot
    /// is reused. The PD to release.
    pub(crate) doubtful: Option<u8>,
    /// Memory the DSP uses for a user PD, owned by the session until the
    /// DSP confirmed the release.
    pub(crate) init_mem: Option<KBox<dyn Memory>>,
    /// Prepared release calls, so that releasing needs no allocation.
    pub(crate) kit: Option<ReleaseKit>,
    /// Releases sent without an answer yet: one answered late confirms the
    /// release.
    pub(crate) release_sent: KVec<Arc<Call>>,
    /// Mappings the DSP may still hold (a map or unmap without a clear
    /// answer, or an unmap at close that failed): their buffers stay alive
    /// until the DSP process is released.
    pub(crate) deferred: KVec<Mapping>,
    /// Mappings of the session's files, counted so that `deferred` always
    /// has room for all of them (reserved at map time).
    pub(crate) maps_live: usize,
}

/// What a process is allowed to hold on a channel, and what it holds.
pub(crate) struct Quota {
    /// Bytes of buffers, payloads and init memory allocated for the session
    /// (and of imports mapped for it, which are counted but not capped).
    memory: Atomic<u64>,
    /// Most bytes it may allocate.
    memory_max: u64,
    /// User calls in flight (including abandoned ones the DSP still holds).
    calls: Atomic<u32>,
    /// Most user calls in flight.
    calls_max: u32,
}

impl Quota {
    /// Charges `bytes` of allocation; `ENOMEM` beyond the cap.
    pub(crate) fn charge(&self, bytes: usize) -> Result {
        let bytes = bytes as u64;
        let before = self.memory.fetch_add(bytes, Relaxed);
        if before.saturating_add(bytes) > self.memory_max {
            self.memory.fetch_sub(bytes, Relaxed);
            return Err(ENOMEM);
        }
        Ok(())
    }

    /// Counts `bytes` that are not capped (imports).
    pub(crate) fn count(&self, bytes: usize) {
        self.memory.fetch_add(bytes as u64, Relaxed);
    }

    /// Gives back `bytes` charged or counted before.
    pub(crate) fn uncharge(&self, bytes: usize) {
        self.memory.fetch_sub(bytes as u64, Relaxed);
    }

    /// Bytes charged now.
    pub(crate) fn memory(&self) -> u64 {
        self.memory.load(Relaxed)
    }

    /// User calls in flight now.
    pub(crate) fn calls(&self) -> u32 {
        self.calls.load(Relaxed)
    }
}

/// A user call counted against [`Quota`]'s limit until dropped (which may be
/// long after the caller gave up: the DSP still holds an abandoned call).
pub(crate) struct CallToken(Arc<Quota>);

impl CallToken {
    /// Takes one of `quota`'s call slots; `EAGAIN` if all are taken.
    pub(crate) fn take(quota: &Arc<Quota>) -> Result<Self> {
        if quota.calls.fetch_add(1, Relaxed) >= quota.calls_max {
            quota.calls.fetch_sub(1, Relaxed);
            return Err(EAGAIN);
        }
        Ok(Self(quota.clone()))
    }
}

impl Drop for CallToken {
    fn drop(&mut self) {
        self.0.calls.fetch_sub(1, Relaxed);
    }
}

/// A process's share of a channel: one CB slot.
///
/// Sessions are handed out by a [`SessionPool`]; every file of the owning
/// process holds a [`FileSession`], every buffer allocated through it a
/// [`SessionRef`]. See the module documentation for when the DSP process is
/// released and the slot returned.
#[pin_data]
pub(crate) struct Session {
    id: u32,
    sid: u32,
    cb: Cb,
    process: Process,
    quota: Arc<Quota>,
    engine: Arc<Engine>,
    mm: MemoryManager,
    /// Whether the DSP may hold anything of the session (a process, or
    /// mappings kept in `deferred`): set under the state lock before
    /// anything is sent, cleared once a release is confirmed. Lets the last
    /// buffer's drop, which may run under the mmap lock (`munmap()`), skip
    /// the state lock when there is nothing to release.
    dsp_held: AtomicFlag,
    /// Serialises attach/create/map/release of the session.
    #[pin]
    state: Mutex<PdState>,
    /// Payloads and calls of finished calls, for the next ones: no DMA
    /// allocation and no allocation of a [`Call`] per call. Only what the
    /// DSP is done with comes back here (an abandoned call keeps its
    /// payload and its slot keeps the call until the DSP answers; both are
    /// freed then, not pooled).
    #[pin]
    payloads: Mutex<Pool>,
}

/// What a session keeps for its next calls.
struct Pool {
    /// Payload buffers, any size up to [`POOL_MAX`].
    bufs: KVec<KBox<dyn Memory>>,
    /// Finished calls, ready to be sent again ([`Call::renew`]).
    calls: KVec<Arc<Call>>,
}

/// Payloads (and calls) a session keeps for reuse.
const POOL_DEPTH: usize = 8;

/// Largest payload kept for reuse; larger ones are allocated per call.
const POOL_MAX: usize = 256 << 10;

/// A flag readable without the lock that guards its changes.
pub(crate) struct AtomicFlag(Atomic<u32>);

impl AtomicFlag {
    fn new() -> Self {
        Self(Atomic::new(0))
    }

    fn get(&self) -> bool {
        self.0.load(Acquire) != 0
    }

    fn set(&self, on: bool) {
        self.0.store(u32::from(on), Release);
    }
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

    /// What the session may allocate and call, and holds.
    pub(crate) fn quota(&self) -> &Arc<Quota> {
        &self.quota
    }

    /// The owning process's id in the caller's pid namespace.
    pub(crate) fn pid(&self) -> i32 {
        self.process.nr()
    }

    /// The DSP-side state, locked.
    pub(crate) fn state(&self) -> kernel::sync::MutexGuard<'_, PdState> {
        self.state.lock()
    }

    /// Records (under the state lock) whether the DSP may hold anything of
    /// the session.
    pub(crate) fn set_dsp_held(&self, held: bool) {
        self.dsp_held.set(held);
    }

    /// Bytes of live buffers.
    pub(crate) fn memory(&self) -> u64 {
        self.quota.memory()
    }

    /// Allocates `size` bytes for the DSP on the session's CB, charged to
    /// the session.
    pub(crate) fn alloc(&self, size: usize) -> Result<KBox<dyn Memory>> {
        self.mm.alloc(&self.cb, size, Some(&self.quota))
    }

    /// A payload buffer of at least `size` bytes (a page multiple) and
    /// whether it came from the pool: the smallest pooled one that fits, or
    /// a new (zeroed) one. New small payloads get a power-of-two size, so
    /// that they fit later calls too. Pooled memory stays charged to the
    /// session. A pooled buffer holds its last call's bytes (of this same
    /// process): callers overwrite what the DSP reads and zero what it may
    /// leave unwritten.
    ///
    /// Also returns a [`Call`] to send it with: a pooled one, or a new one.
    /// One lock round trip for both.
    pub(crate) fn payload(&self, size: usize) -> Result<(KBox<dyn Memory>, bool, Arc<Call>)> {
        let (buf, call) = {
            let mut pool = self.payloads.lock();
            let call = pool.calls.pop();
            let best = pool
                .bufs
                .iter()
                .enumerate()
                .filter(|(_, m)| size <= POOL_MAX && m.size() >= size)
                .min_by_key(|(_, m)| m.size())
                .map(|(i, _)| i);
            (best.and_then(|i| pool.bufs.remove(i).ok()), call)
        };
        let call = match call {
            Some(c) => c,
            None => Call::new()?,
        };
        if let Some(m) = buf {
            return Ok((m, true, call));
        }
        let want = if size > POOL_MAX {
            size
        } else {
            size.next_power_of_two().min(POOL_MAX).max(size)
        };
        Ok((self.alloc(want)?, false, call))
    }

    /// Takes back the payload and the call of a call the DSP answered.
    pub(crate) fn recycle(&self, payload: KBox<dyn Memory>, call: Arc<Call>) {
        // Outside the lock: a call still shared is dropped here.
        let call = Call::renew(call);
        let mut pool = self.payloads.lock();
        // Room was reserved when the session was made; beyond it (or for
        // a payload too large to keep) the value is dropped, after the lock.
        let payload = if payload.size() <= POOL_MAX && pool.bufs.len() < POOL_DEPTH {
            pool.bufs.push_within_capacity(payload).err().map(|e| e.0)
        } else {
            Some(payload)
        };
        let call = match call {
            Some(c) if pool.calls.len() < POOL_DEPTH => {
                pool.calls.push_within_capacity(c).err().map(|e| e.0)
            }
            other => other,
        };
        drop(pool);
        drop(payload);
        drop(call);
    }

    /// Payloads pooled now and their bytes.
    pub(crate) fn pooled(&self) -> (usize, usize) {
        let pool = self.payloads.lock();
        (pool.bufs.len(), pool.bufs.iter().map(|m| m.size()).sum())
    }

    /// Releases the DSP process (if any, and unless a file uses the
    /// session again) and returns whether the DSP is known to hold nothing
    /// of the session any more; see [`crate::fastrpc::release`].
    fn release_dsp(&self, pool: &SessionPool) -> bool {
        if !self.dsp_held.get() {
            return true;
        }
        crate::fastrpc::release(self, || pool.idle(self))
    }

    /// Drops the buffers kept for the DSP (`deferred`), one at a time
    /// without the state lock (dropping a buffer may drop a
    /// [`SessionRef`]): only once the DSP confirmed the release, or (with
    /// `force`) restarted. Keeps the vector's capacity, which map time
    /// reserved for mappings still to come. Takes no lock when the flag
    /// says nothing is held (the last buffer's drop may run under the mmap
    /// lock).
    pub(crate) fn drain_deferred(&self, force: bool) {
        if !force && !self.dsp_held.get() {
            return;
        }
        loop {
            let m = {
                let mut st = self.state.lock();
                let m = st.deferred.pop();
                if m.is_none() && pd_is_none(&st) {
                    self.dsp_held.set(false);
                }
                m
            };
            match m {
                Some(m) => drop(m),
                None => return,
            }
        }
    }
}

/// Whether the state holds no DSP process, not even a doubtful one.
fn pd_is_none(st: &PdState) -> bool {
    st.pd == Pd::None && st.doubtful.is_none()
}

/// Limits applied to new sessions.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    /// Most bytes a session may allocate.
    pub(crate) memory: u64,
    /// Most user calls a session may have in flight.
    pub(crate) calls: u32,
}

impl Limits {
    /// The limits the module parameters `max_memory_mb` (0: a quarter of
    /// RAM) and `max_inflight` set, read when a channel is probed.
    pub(crate) fn from_params() -> Self {
        let mb = u64::from(crate::module_parameters::max_memory_mb.value());
        let memory = if mb == 0 {
            crate::sys::total_ram() / 4
        } else {
            mb << 20
        };
        Self {
            memory,
            calls: crate::module_parameters::max_inflight.value(),
        }
    }
}

enum SlotState {
    /// Nobody's.
    Free,
    /// In use by `session`: `users` counted references (files and
    /// buffers), `files` of them held by files.
    Owned {
        session: Arc<Session>,
        users: usize,
        files: usize,
    },
    /// Its last user went; the DSP release is in progress.
    Releasing(Arc<Session>),
    /// The DSP did not confirm the release: not handed out until it does
    /// (retried when a slot is needed) or the channel goes away.
    Quarantined(Arc<Session>),
}

struct Slot {
    /// The CB, until the channel goes away (see [`SessionPool::retire`]).
    cb: Option<Cb>,
    sid: u32,
    state: SlotState,
}

impl Slot {
    fn owner(&self, session: &Arc<Session>) -> bool {
        match &self.state {
            SlotState::Owned { session: s, .. }
            | SlotState::Releasing(s)
            | SlotState::Quarantined(s) => Arc::ptr_eq(s, session),
            SlotState::Free => false,
        }
    }
}

/// The CB slots of a channel: `qcom,nsessions` per CB.
#[pin_data]
pub(crate) struct SessionPool {
    #[pin]
    slots: Mutex<KVec<Slot>>,
    engine: Arc<Engine>,
    mm: MemoryManager,
    limits: Limits,
}

impl SessionPool {
    /// Builds the pool of the channel's CBs.
    pub(crate) fn new(
        cbs: &[Cb],
        engine: Arc<Engine>,
        mm: MemoryManager,
        limits: Limits,
    ) -> Result<Arc<Self>> {
        let mut slots = KVec::new();
        for cb in cbs {
            for _ in 0..cb.data().nsessions {
                slots.push(
                    Slot {
                        cb: Some(cb.clone()),
                        sid: cb.data().sid,
                        state: SlotState::Free,
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
                limits,
            }),
            GFP_KERNEL,
        )
    }

    /// Drops the pool's handles on its CBs and forgets quarantined
    /// sessions: the channel is gone (the DSP restarted and holds nothing
    /// of ours), so no new session will be made, and a CB must not outlive
    /// the channel just because a file of the unplugged device is still
    /// open. Sessions that exist keep their own handles.
    pub(crate) fn retire(&self) {
        let n = {
            let mut slots = self.slots.lock();
            for slot in slots.iter_mut() {
                // Rarely the last handle (the channel holds one until it is
                // dropped); if it is, the device is deleted here, which
                // takes no lock of ours.
                drop(slot.cb.take());
            }
            slots.len()
        };
        // Buffers kept for the DSP can go now; quarantined slots are free.
        // One slot at a time, without the pool lock: the buffers hold
        // `SessionRef`s.
        for idx in 0..n {
            let session = {
                let mut slots = self.slots.lock();
                let Some(slot) = slots.get_mut(idx) else {
                    break;
                };
                match &slot.state {
                    SlotState::Quarantined(_) => {
                        match core::mem::replace(&mut slot.state, SlotState::Free) {
                            SlotState::Quarantined(s) => Some(s),
                            _ => None,
                        }
                    }
                    SlotState::Owned { session, .. } | SlotState::Releasing(session) => {
                        Some(session.clone())
                    }
                    SlotState::Free => None,
                }
            };
            if let Some(s) = session {
                s.drain_deferred(true);
            }
        }
    }

    /// Returns the session of the calling process for one of its files,
    /// taking a free slot for it if it has none. `EBUSY` when every slot is
    /// taken (after retrying the release of quarantined ones), `ENODEV`
    /// once the pool is retired.
    pub(crate) fn acquire(self: &Arc<Self>) -> Result<FileSession> {
        let process = Process::current()?;
        let mut retried = false;
        loop {
            let mut slots = self.slots.lock();
            let existing = slots.iter_mut().find_map(|s| match &mut s.state {
                SlotState::Owned {
                    session,
                    users,
                    files,
                } if session.process == process => {
                    *users += 1;
                    *files += 1;
                    Some(session.clone())
                }
                _ => None,
            });
            if let Some(session) = existing {
                return Ok(FileSession {
                    pool: self.clone(),
                    session,
                });
            }
            if let Some((idx, free)) = slots
                .iter_mut()
                .enumerate()
                .find(|(_, s)| matches!(s.state, SlotState::Free))
            {
                let id = u32::try_from(idx + 1).map_err(|_| EINVAL)?;
                // A retired pool hands out no new session.
                let (sid, cb) = (free.sid, free.cb.clone().ok_or(ENODEV)?);
                let quota = Arc::new(
                    Quota {
                        memory: Atomic::new(0),
                        memory_max: self.limits.memory,
                        calls: Atomic::new(0),
                        calls_max: self.limits.calls,
                    },
                    GFP_KERNEL,
                )?;
                let pool = Pool {
                    bufs: KVec::with_capacity(POOL_DEPTH, GFP_KERNEL)?,
                    calls: KVec::with_capacity(POOL_DEPTH, GFP_KERNEL)?,
                };
                let session = Arc::pin_init(
                    pin_init!(Session {
                        id,
                        sid,
                        cb,
                        process,
                        quota,
                        engine: self.engine.clone(),
                        mm: self.mm,
                        dsp_held: AtomicFlag::new(),
                        state <- new_mutex!(PdState {
                            pd: Pd::None,
                            doubtful: None,
                            init_mem: None,
                            kit: None,
                            release_sent: KVec::new(),
                            deferred: KVec::new(),
                            maps_live: 0,
                        }),
                        payloads <- new_mutex!(pool),
                    }),
                    GFP_KERNEL,
                )?;
                free.state = SlotState::Owned {
                    session: session.clone(),
                    users: 1,
                    files: 1,
                };
                return Ok(FileSession {
                    pool: self.clone(),
                    session,
                });
            }
            if retried {
                return Err(EBUSY);
            }
            retried = true;
            // Every slot is taken: retry the releases the DSP did not
            // confirm, outside the lock (each is a call to the DSP):
            // quarantined slots, and sessions no file uses any more whose
            // buffers wait for such a release.
            // Room for every slot first: a quarantined slot moved to
            // `Releasing` below must reach `settle()`, so nothing may fail
            // once the first has moved.
            let mut retry = KVec::with_capacity(slots.len(), GFP_KERNEL)?;
            for slot in slots.iter_mut() {
                let entry = match &slot.state {
                    SlotState::Quarantined(s) => (s.clone(), true),
                    SlotState::Owned {
                        session, files: 0, ..
                    } => (session.clone(), false),
                    _ => continue,
                };
                let (session, quarantined) = (entry.0.clone(), entry.1);
                if retry.push_within_capacity(entry).is_err() {
                    // Unreachable: one entry per slot was reserved.
                    break;
                }
                if quarantined {
                    slot.state = SlotState::Releasing(session);
                }
            }
            drop(slots);
            if retry.is_empty() {
                return Err(EBUSY);
            }
            for (s, quarantined) in retry.iter() {
                let clean = s.release_dsp(self);
                if *quarantined {
                    self.settle(s, clean);
                }
            }
        }
    }

    /// One more counted user of `session`, which has one already.
    fn get(self: &Arc<Self>, session: &Arc<Session>) -> SessionRef {
        for slot in self.slots.lock().iter_mut() {
            if let SlotState::Owned {
                session: s, users, ..
            } = &mut slot.state
            {
                if Arc::ptr_eq(s, session) {
                    *users += 1;
                    break;
                }
            }
        }
        SessionRef {
            pool: self.clone(),
            session: session.clone(),
        }
    }

    /// Whether no file uses `session` (so its DSP process may go).
    pub(crate) fn idle(&self, session: &Session) -> bool {
        self.slots.lock().iter().all(|slot| match &slot.state {
            SlotState::Owned {
                session: s, files, ..
            } => !core::ptr::eq(&**s, session) || *files == 0,
            _ => true,
        })
    }

    /// Puts the slot of `session` (releasing) to rest: free if the DSP
    /// holds nothing of it any more (`clean`), quarantined otherwise.
    fn settle(&self, session: &Arc<Session>, clean: bool) {
        let freed = {
            let mut slots = self.slots.lock();
            slots.iter_mut().find(|s| s.owner(session)).map(|slot| {
                let next = if clean {
                    SlotState::Free
                } else {
                    SlotState::Quarantined(session.clone())
                };
                core::mem::replace(&mut slot.state, next)
            })
        };
        if clean {
            session.drain_deferred(true);
        }
        drop(freed);
    }

    /// One counted user of `session` less (a file too, with `file`). When
    /// the last file goes the DSP process is released; when the last user
    /// goes the slot is settled.
    fn put(&self, session: &Arc<Session>, file: bool) {
        let (last_file, last_user) = {
            let mut slots = self.slots.lock();
            let mut res = (false, false);
            if let Some(slot) = slots.iter_mut().find(|s| s.owner(session)) {
                if let SlotState::Owned { users, files, .. } = &mut slot.state {
                    *users -= 1;
                    if file {
                        *files -= 1;
                    }
                    res = (file && *files == 0, *users == 0);
                    if *users == 0 {
                        slot.state = SlotState::Releasing(session.clone());
                    }
                }
            }
            res
        };
        // Calls to the DSP, outside the pool lock.
        let mut clean = true;
        if last_file || last_user {
            clean = session.release_dsp(self);
        }
        if last_user {
            if !clean {
                // One more try before quarantine.
                clean = session.release_dsp(self);
            }
            self.settle(session, clean);
        }
    }
}

/// A counted use of a [`Session`] by a buffer (or a file, inside
/// [`FileSession`]).
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
        self.pool.get(&self.session)
    }
}

impl Drop for SessionRef {
    fn drop(&mut self) {
        self.pool.put(&self.session, false);
    }
}

/// A file's use of its process's [`Session`]: while any lives, the DSP
/// process of the session is kept.
pub(crate) struct FileSession {
    pool: Arc<SessionPool>,
    session: Arc<Session>,
}

impl FileSession {
    /// The session.
    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    /// A buffer's reference on the session.
    pub(crate) fn buffer_ref(&self) -> SessionRef {
        self.pool.get(&self.session)
    }
}

impl Drop for FileSession {
    fn drop(&mut self) {
        self.pool.put(&self.session, true);
    }
}
