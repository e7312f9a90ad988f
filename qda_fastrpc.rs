// SPDX-License-Identifier: GPL-2.0

//! The FastRPC engine: remote calls over a channel.
//!
//! A call is a 40-byte request on the channel's rpmsg endpoint pointing at a
//! payload buffer (metadata and inline arguments, see `qda_proto.rs`)
//! allocated on the caller's session CB; the DSP answers with a 16-byte
//! response carrying the request's context value and a return value.
//!
//! Contexts: each call in flight owns one of 255 slots. Its context value is
//! `seq << 16 | id << 8 | pd`, as in `drivers/misc/fastrpc.c`: `id` (1..255)
//! names the slot, `seq` is a per-channel sequence number so that a late
//! answer to a recycled slot is recognised as stale, and `pd` the protection
//! domain the firmware routes the call to (root PD 0, user PD 1). Responses
//! are matched by id and then checked against the whole value; unknown,
//! stale, duplicate, short and PD-exit messages are dropped and counted.
//!
//! Waiting: user calls wait interruptibly; on a signal the call is abandoned
//! with `EINTR`, its slot and payload kept until the DSP answers (it may still
//! write the payload) or the channel goes away. Calls the kernel makes by
//! itself (attach, release, ...) wait at most [`kernel_timeout_ms()`] and are
//! abandoned the same way with `ETIMEDOUT`. When the channel goes away every
//! call in flight fails at once with `EPIPE`, and so does every later call.
//!
//! Slot states (free, in flight, done, abandoned) and who moves a slot
//! between them are documented at [`Slot`], where they are declared.
//!
//! Wire format: every payload and every message of the calls the kernel
//! makes (attach, create, map, unmap, release, capability query) is
//! encoded by `qda_proto.rs` ([`KernelMethod`], `CreateMsg`, ...); this
//! file only decides what to send and keeps what the DSP may still use.
//!
//! Kernel-made calls with an unknown outcome leave state the DSP may hold:
//! see `qda_cb.rs` for how sessions handle it (release, quarantine), and
//! [`release`] for a release that needs no allocation.
//!
//! The response callback may run in hard-IRQ context (glink does that): it
//! only takes the IRQ-safe table lock and completes a completion.

#![deny(unsafe_code)]

use crate::{
    cb::{CallToken, Pd, PdState, Session},
    gem::Object,
    memory_manager::{dsp_addr, Memory},
    proto::{self, KernelMethod, PayloadLayout, Request, Response, Scalars},
    sys::{
        rpmsg::Sender,
        sync::{Completion, Wait},
    },
};
use kernel::{
    new_mutex, new_spinlock_irq,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc, Mutex, SpinLockIrq,
    },
};

/// Longest wait of a call the kernel makes by itself, in milliseconds: the
/// `kernel_timeout_ms` module parameter (default 5000, at least 1).
pub(crate) fn kernel_timeout_ms() -> u32 {
    crate::module_parameters::kernel_timeout_ms.value().max(1)
}

/// Number of context slots (ids 1..=255).
const SLOTS: usize = 255;

/// State of a [`Call`]; it only ever moves forward, under the table lock:
///
/// ```text
///   PENDING --answer (handle_message)--> ANSWERED
///      \------channel gone (shutdown)---> FAILED
/// ```
///
/// Whoever moves it completes `done` (all waiters). A call that is not
/// `PENDING` never changes again, so its caller reads `retval` without the
/// lock once it saw the state.
const PENDING: u32 = 0;
/// The DSP answered; `retval` holds its return value.
const ANSWERED: u32 = 1;
/// The channel went away before an answer (`EPIPE`).
const FAILED: u32 = 2;

/// One remote call in flight.
#[pin_data]
pub(crate) struct Call {
    ctx: Atomic<u64>,
    state: Atomic<u32>,
    retval: Atomic<i32>,
    #[pin]
    done: Completion,
}

impl Call {
    /// A call not sent yet.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Call {
                ctx: Atomic::new(0),
                state: Atomic::new(PENDING),
                retval: Atomic::new(0),
                done <- Completion::new(),
            }),
            GFP_KERNEL,
        )
    }

    /// Whether the DSP answered it (possibly after its caller gave up).
    pub(crate) fn answered(&self) -> bool {
        self.state.load(Relaxed) == ANSWERED
    }

    /// Makes a finished call ready to be sent again, if nothing else
    /// holds it (a slot, a remembered release): the session keeps a few
    /// for its next calls, so a call allocates nothing. `None` if it is
    /// still shared (it is then just dropped).
    pub(crate) fn renew(this: Arc<Self>) -> Option<Arc<Self>> {
        let mut unique = Arc::into_unique_or_drop(this)?;
        let c = unique.as_mut().project();
        c.ctx.store(0, Relaxed);
        c.state.store(PENDING, Relaxed);
        c.retval.store(0, Relaxed);
        c.done.reinit();
        Some(unique.into())
    }
}

/// GEM buffers a call passes by reference: on the stack (in the call's
/// [`Keep`]) for up to [`SMALL_ARGS`] of them.
pub(crate) type GemRefs = Scratch<Option<ARef<Object>>, SMALL_ARGS>;

/// What a call keeps alive until the DSP is done with it, besides its
/// payload: GEM buffers passed by reference, and the caller's place in its
/// in-flight limit.
#[derive(Default)]
pub(crate) struct Keep {
    /// Buffers the DSP may access.
    pub(crate) _buffers: GemRefs,
    /// The caller's in-flight token (user calls).
    pub(crate) _token: Option<CallToken>,
}

/// What an abandoned call leaves behind: memory the DSP may still access.
struct Leftover {
    _payload: KBox<dyn Memory>,
    _keep: Keep,
}

/// One context id (slot index + 1). Its states and who moves it between
/// them, all under the table lock:
///
/// ```text
///            claim (Engine::call)              answer / shutdown
///   free ----------------------------> in flight ------------------> done
///    ^  call = Some, PENDING               |                           |
///    |                                     | caller gave up (signal,   | caller
///    |                                     | timeout) while PENDING    | retires
///    |                                     v                           |
///    |                                 abandoned --answer/shutdown-->  |
///    |                                 (abandoned = Some, counted     |
///    |                                  in Table::abandoned)           |
///    +------- retire (the caller, or Engine::reap for abandoned) ------+
/// ```
///
/// - *free*: `call` is `None`; the slot can be claimed. `last_ctx` is the
///   context of the call it held last: a second answer to that context is
///   a duplicate, any other one for this id is unknown.
/// - *in flight*: `call` is `Some` and `PENDING`; the caller sleeps on
///   `done`. A matching answer (the whole context, sequence included)
///   moves it to `ANSWERED`; a context with this id but another sequence is
///   stale and dropped.
/// - *done*: the call is `ANSWERED` or `FAILED` and its caller, woken, is
///   about to retire the slot; answers meanwhile count as duplicates.
/// - *abandoned*: the caller returned (`EINTR`, `ETIMEDOUT`) while the call
///   was `PENDING`. The slot stays claimed, so its id is not reused while
///   the DSP may still answer, and `abandoned` owns the payload and the
///   [`Keep`] (GEM buffers, in-flight token), so nothing the DSP may still
///   write is freed or reused (a payload from the session pool included:
///   it goes back to the pool only from a finished call). Once the call is
///   finished (answered, or the channel is dead), [`Engine::reap`] retires
///   the slot and drops the leftovers outside the lock; `reap` runs at the
///   start of every call and at shutdown, and does nothing while
///   `Table::abandoned` is 0.
///
/// Retiring moves the call's context to `last_ctx` and frees the slot.
struct Slot {
    call: Option<Arc<Call>>,
    /// Context of the last call the slot held, to tell a duplicate answer
    /// to it from an unknown or stale one.
    last_ctx: u64,
    /// Memory of an abandoned call, freed once the call is finished.
    abandoned: Option<Leftover>,
}

impl Slot {
    /// Frees the slot, remembering its call's context.
    fn retire(&mut self) {
        if let Some(c) = self.call.take() {
            self.last_ctx = c.ctx.load(Relaxed);
        }
    }
}

/// The context table of a channel (see [`Slot`] for the state machine).
/// Slots are claimed cyclically from `next`, like `idr_alloc_cyclic()`, so
/// a context id is reused as late as possible; `seq` (48 bits) is bumped
/// per claim and makes every context value unique across reuse. Once
/// `dead` is set (the channel went away) nothing is claimed again.
struct Table {
    slots: KVec<Slot>,
    /// Slots holding an abandoned call's leftovers: [`Engine::reap`] has
    /// nothing to do while this is 0.
    abandoned: usize,
    /// Where the search for a free slot starts.
    next: usize,
    seq: u64,
    dead: bool,
}

/// Counters of dropped responses.
pub(crate) struct Stats {
    unknown: Atomic<u64>,
    stale: Atomic<u64>,
    duplicate: Atomic<u64>,
    short: Atomic<u64>,
    pd_exit: Atomic<u64>,
}

impl Stats {
    fn new() -> Self {
        Self {
            unknown: Atomic::new(0),
            stale: Atomic::new(0),
            duplicate: Atomic::new(0),
            short: Atomic::new(0),
            pd_exit: Atomic::new(0),
        }
    }

    /// `(unknown, stale, duplicate, short, pd_exit)`.
    pub(crate) fn get(&self) -> (u64, u64, u64, u64, u64) {
        (
            self.unknown.load(Relaxed),
            self.stale.load(Relaxed),
            self.duplicate.load(Relaxed),
            self.short.load(Relaxed),
            self.pd_exit.load(Relaxed),
        )
    }
}

/// How a call waits for its answer.
#[derive(Clone, Copy)]
pub(crate) enum WaitMode {
    /// A user call: until answered or a signal.
    Interruptible,
    /// A kernel call: at most [`kernel_timeout_ms()`].
    Kernel,
}

/// The engine of one channel.
///
/// Locks: `table` is IRQ-safe and innermost: nothing else is taken, nothing
/// allocated or freed and nothing sent under it (the receive callback takes
/// it in hard-IRQ context). The rpmsg sender's SRCU read-side section (no
/// lock: senders run side by side) is entered without it, after a slot was
/// claimed. `attributes` and `static_pd` are leaf mutexes,
/// taken inside a session's state lock at most. The outer order is in
/// `qda_cb.rs`: file mappings, session state, pool, then these.
#[pin_data]
pub(crate) struct Engine {
    sender: Arc<Sender>,
    #[pin]
    table: SpinLockIrq<Table>,
    stats: Stats,
    /// `Table::abandoned`, readable without the lock: lets [`Engine::reap`]
    /// return without taking the table lock on every call. Written under
    /// the lock; a stale 0 only delays reaping to a later call.
    abandoned_hint: Atomic<usize>,
    /// The DSP's attribute table once queried (`None` inside: unsupported).
    #[pin]
    attributes: Mutex<Option<Option<KVec<u32>>>>,
    /// The channel's static PD.
    #[pin]
    static_pd: Mutex<StaticPd>,
}

impl Engine {
    /// An engine sending through `sender`, for a channel with remote heap
    /// `heap` (see [`StaticPd`]).
    pub(crate) fn new(sender: Arc<Sender>, heap: Option<(u64, u64)>) -> Result<Arc<Self>> {
        let mut slots = KVec::with_capacity(SLOTS, GFP_KERNEL)?;
        for _ in 0..SLOTS {
            slots.push(
                Slot {
                    call: None,
                    last_ctx: 0,
                    abandoned: None,
                },
                GFP_KERNEL,
            )?;
        }
        Arc::pin_init(
            pin_init!(Self {
                sender,
                table <- new_spinlock_irq!(Table {
                    slots,
                    abandoned: 0,
                    next: 0,
                    seq: 0,
                    dead: false
                }),
                stats: Stats::new(),
                abandoned_hint: Atomic::new(0),
                attributes <- new_mutex!(None),
                static_pd <- new_mutex!(StaticPd {
                    heap,
                    heap_sent: false,
                    owner: 0,
                    warned: false,
                }),
            }),
            GFP_KERNEL,
        )
    }

    fn cached_attribute(&self, id: usize) -> Option<Result<u32>> {
        self.attributes.lock().as_ref().map(|t| {
            t.as_ref()
                .ok_or(EOPNOTSUPP)
                .and_then(|t| t.get(id).copied().ok_or(EOVERFLOW))
        })
    }

    fn cache_attributes(&self, table: Option<KVec<u32>>) {
        *self.attributes.lock() = Some(table);
    }

    /// The channel's static PD, locked (taken inside a session's state
    /// lock, never around it).
    pub(crate) fn static_pd(&self) -> kernel::sync::MutexGuard<'_, StaticPd> {
        self.static_pd.lock()
    }

    /// Dropped-response counters.
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether the channel is gone.
    pub(crate) fn is_dead(&self) -> bool {
        self.table.lock().dead
    }

    /// Frees the payloads of abandoned calls that have finished, outside
    /// the lock (freeing DMA memory may sleep).
    fn reap(&self) {
        loop {
            if self.abandoned_hint.load(Relaxed) == 0 {
                return;
            }
            let payload = {
                let mut t = self.table.lock();
                if t.abandoned == 0 {
                    return;
                }
                let dead = t.dead;
                let found = t.slots.iter_mut().find_map(|s| {
                    let finished = s
                        .call
                        .as_ref()
                        .is_none_or(|c| dead || c.state.load(Relaxed) != PENDING);
                    if s.abandoned.is_some() && finished {
                        s.retire();
                        s.abandoned.take()
                    } else {
                        None
                    }
                });
                if found.is_some() {
                    t.abandoned -= 1;
                    self.abandoned_hint.store(t.abandoned, Relaxed);
                }
                found
            };
            match payload {
                Some(leftover) => drop(leftover),
                None => return,
            }
        }
    }

    /// Sends `call` (not sent before) and waits for its answer; returns
    /// the DSP's return value and gives the payload back. Allocates nothing.
    #[expect(clippy::too_many_arguments)]
    pub(crate) fn call(
        &self,
        call: Arc<Call>,
        client_id: i32,
        handle: u32,
        sc: Scalars,
        pd: u8,
        payload: KBox<dyn Memory>,
        payload_dsp: u64,
        keep: Keep,
        mode: WaitMode,
    ) -> Result<(i32, KBox<dyn Memory>)> {
        self.reap();
        let (idx, ctx) = {
            let mut t = self.table.lock();
            if t.dead {
                return Err(EPIPE);
            }
            // Cyclic, like an IDR allocated with idr_alloc_cyclic(): a slot
            // is reused as late as possible, so a late or duplicate answer
            // rarely meets a new call in it.
            let start = t.next;
            let idx = (0..SLOTS)
                .map(|k| (start + k) % SLOTS)
                .find(|&i| t.slots.get(i).is_some_and(|s| s.call.is_none()))
                .ok_or(EAGAIN)?;
            t.next = (idx + 1) % SLOTS;
            t.seq = t.seq.wrapping_add(1) & (proto::CTX_SEQ_MASK >> proto::CTX_SEQ_SHIFT);
            let id = u8::try_from(idx + 1).map_err(|_| EINVAL)?;
            let ctx = proto::ctx_encode(id, pd, t.seq).ok_or(EINVAL)?;
            call.ctx.store(ctx, Relaxed);
            if let Some(slot) = t.slots.get_mut(idx) {
                slot.call = Some(call.clone());
            }
            (idx, ctx)
        };
        let req = Request {
            client_id,
            tid: kernel::current!().pid(),
            ctx,
            handle,
            sc,
            addr: payload_dsp,
            size: proto::page_align(payload.size()).ok_or(EINVAL)? as u64,
        };
        if let Err(e) = self.sender.send(&req.encode()) {
            self.free_slot(idx);
            return Err(e);
        }
        let wait = match mode {
            WaitMode::Interruptible => call.done.wait_interruptible(),
            WaitMode::Kernel => call.done.wait_timeout(kernel_timeout_ms()),
        };
        let mut t = self.table.lock();
        let state = call.state.load(Relaxed);
        if wait != Wait::Done && state == PENDING && !t.dead {
            // Abandon: the DSP may still write the payload; keep it.
            if let Some(slot) = t.slots.get_mut(idx) {
                slot.abandoned = Some(Leftover {
                    _payload: payload,
                    _keep: keep,
                });
                t.abandoned += 1;
                self.abandoned_hint.store(t.abandoned, Relaxed);
            }
            return Err(if wait == Wait::Interrupted {
                EINTR
            } else {
                ETIMEDOUT
            });
        }
        if let Some(slot) = t.slots.get_mut(idx) {
            slot.retire();
        }
        drop(t);
        drop(keep);
        match state {
            ANSWERED => Ok((call.retval.load(Relaxed), payload)),
            _ => Err(EPIPE),
        }
    }

    fn free_slot(&self, idx: usize) {
        if let Some(slot) = self.table.lock().slots.get_mut(idx) {
            slot.retire();
        }
    }

    /// Handles a message from the DSP. Runs in the transport's receive
    /// context, possibly hard IRQ.
    pub(crate) fn handle_message(&self, msg: &[u8]) {
        let rsp = match Response::decode(msg) {
            Ok(rsp) => rsp,
            Err(_) => {
                self.stats.short.fetch_add(1, Relaxed);
                return;
            }
        };
        if rsp.is_pd_exit() {
            self.stats.pd_exit.fetch_add(1, Relaxed);
            return;
        }
        let (id, _pd) = proto::ctx_decode(rsp.ctx);
        let t = self.table.lock();
        let Some(slot) = usize::from(id).checked_sub(1).and_then(|i| t.slots.get(i)) else {
            self.stats.unknown.fetch_add(1, Relaxed);
            return;
        };
        let counter = match slot.call.as_ref() {
            // A second answer to a call already completed and retired.
            _ if rsp.ctx != 0 && slot.last_ctx == rsp.ctx => &self.stats.duplicate,
            None => &self.stats.unknown,
            Some(c) if c.ctx.load(Relaxed) != rsp.ctx => &self.stats.stale,
            Some(c) if c.state.load(Relaxed) != PENDING => &self.stats.duplicate,
            Some(c) => {
                c.retval.store(rsp.retval, Relaxed);
                c.state.store(ANSWERED, Relaxed);
                c.done.complete_all();
                return;
            }
        };
        counter.fetch_add(1, Relaxed);
    }

    /// The channel is going away: fail every call in flight and every later
    /// one with `EPIPE`, and free the payloads of abandoned calls.
    pub(crate) fn shutdown(&self) {
        {
            let mut t = self.table.lock();
            t.dead = true;
            for c in t.slots.iter().filter_map(|s| s.call.as_ref()) {
                if c.state.load(Relaxed) == PENDING {
                    c.state.store(FAILED, Relaxed);
                    c.done.complete_all();
                }
            }
        }
        self.reap();
    }
}

/// Where an argument's bytes are.
pub(crate) enum ArgData {
    /// Plain memory copied through the payload: at user address `user`, or
    /// (for calls the kernel makes) the bytes in `data`, which receive the
    /// output of an output buffer.
    Inline {
        /// User address, if from user space.
        user: Option<u64>,
        /// Kernel input bytes, or room for kernel output.
        data: KVec<u8>,
        /// Length in bytes.
        len: usize,
    },
    /// A GEM buffer passed by reference: `len` bytes at `offset` in `obj`,
    /// mapped in user space at `user`.
    Gem {
        /// The buffer.
        obj: ARef<Object>,
        /// Offset of the argument in the buffer.
        offset: u64,
        /// Length in bytes.
        len: u64,
        /// User address (sent as the argument's `pv`, as the C driver does).
        user: u64,
        /// GEM handle (sent as the `fd` of handle arguments).
        handle: u32,
    },
}

impl Default for ArgData {
    /// An empty inline argument (allocates nothing).
    fn default() -> Self {
        ArgData::Inline {
            user: None,
            data: KVec::new(),
            len: 0,
        }
    }
}

impl ArgData {
    /// A kernel input buffer holding `bytes`.
    pub(crate) fn kernel_in(bytes: &[u8]) -> Result<Self> {
        let mut data = KVec::with_capacity(bytes.len(), GFP_KERNEL)?;
        data.extend_from_slice(bytes, GFP_KERNEL)?;
        Ok(ArgData::Inline {
            user: None,
            len: bytes.len(),
            data,
        })
    }

    /// A kernel output buffer of `len` bytes.
    pub(crate) fn kernel_out(len: usize) -> Result<Self> {
        let mut data = KVec::with_capacity(len, GFP_KERNEL)?;
        data.resize(len, 0, GFP_KERNEL)?;
        Ok(ArgData::Inline {
            user: None,
            len,
            data,
        })
    }

    /// The output bytes of a kernel buffer.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            ArgData::Inline { data, .. } => data,
            ArgData::Gem { .. } => &[],
        }
    }

    fn len(&self) -> u64 {
        match self {
            ArgData::Inline { len, .. } => *len as u64,
            ArgData::Gem { len, .. } => *len,
        }
    }
}

/// Page span `(first page address, size)` of `len` bytes at `addr`.
pub(crate) fn page_span(addr: u64, len: u64) -> Result<(u64, u64)> {
    let page = kernel::page::PAGE_SIZE as u64;
    let start = addr & !(page - 1);
    let end = addr
        .checked_add(len.max(1))
        .and_then(|e| e.checked_next_multiple_of(page))
        .ok_or(EINVAL)?;
    Ok((start, end - start))
}

/// Arguments a call can have before its scratch space leaves the stack.
pub(crate) const SMALL_ARGS: usize = 8;

/// Metadata bytes of [`SMALL_ARGS`] arguments (`40 * n + 388`), rounded up.
const SMALL_META: usize = 1024;

/// Scratch space for `len` elements: on the stack up to `N`, else on the
/// heap. Keeps the common call (a handful of arguments) free of
/// allocations.
pub(crate) enum Scratch<T: Default, const N: usize> {
    Stack([T; N], usize),
    Heap(KVec<T>),
}

impl<T: Default, const N: usize> Default for Scratch<T, N> {
    fn default() -> Self {
        Scratch::Stack(core::array::from_fn(|_| T::default()), 0)
    }
}

impl<T: Default, const N: usize> Scratch<T, N> {
    /// `len` default elements.
    pub(crate) fn new(len: usize) -> Result<Self> {
        if len <= N {
            return Ok(Scratch::Stack(core::array::from_fn(|_| T::default()), len));
        }
        let mut v = KVec::with_capacity(len, GFP_KERNEL)?;
        for _ in 0..len {
            v.push(T::default(), GFP_KERNEL)?;
        }
        Ok(Scratch::Heap(v))
    }

    fn as_slice(&self) -> &[T] {
        match self {
            Scratch::Stack(a, n) => a.get(..*n).unwrap_or(&[]),
            Scratch::Heap(v) => v,
        }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Scratch::Stack(a, n) => a.get_mut(..*n).unwrap_or(&mut []),
            Scratch::Heap(v) => v,
        }
    }
}

/// Zeroes `len` bytes of `mem` at `off`.
fn zero(mem: &dyn Memory, off: usize, len: usize) -> Result {
    static ZEROES: [u8; 4096] = [0; 4096];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(ZEROES.len());
        mem.write(off + done, ZEROES.get(..n).ok_or(EINVAL)?)?;
        done += n;
    }
    Ok(())
}

/// A call's payload, built and ready to send.
struct Prepared {
    payload: KBox<dyn Memory>,
    /// The call to send it with, from the session's pool.
    call: Arc<Call>,
    /// DSP address of the payload.
    base: u64,
    /// Offset of each inline argument in the payload.
    offsets: Scratch<usize, SMALL_ARGS>,
    /// GEM buffers the call passes by reference.
    buffers: GemRefs,
}

/// Builds the payload of a call of method `sc` for `session` with `args`
/// (in-buffers, out-buffers, in-handles, out-handles, in the order of the
/// scalars): metadata and inline inputs.
fn prepare(session: &Session, sc: Scalars, args: &[ArgData]) -> Result<Prepared> {
    let n = sc.nscalars();
    if args.len() != n {
        return Err(EINVAL);
    }
    let nbufs = sc.nbufs();
    let inbufs = usize::from(sc.in_bufs());
    let layout = PayloadLayout::new(n).ok_or(EINVAL)?;
    let mut lens = Scratch::<usize, SMALL_ARGS>::new(n)?;
    for (i, (a, l)) in args.iter().zip(lens.as_mut_slice()).enumerate() {
        *l = match a {
            ArgData::Inline { len, .. } if i < nbufs => *len,
            _ => 0,
        };
    }
    let mut offsets = Scratch::<usize, SMALL_ARGS>::new(n)?;
    let total = layout
        .inline_offsets(lens.as_slice(), offsets.as_mut_slice())
        .ok_or(EINVAL)?;
    if total > INLINE_MAX {
        return Err(E2BIG);
    }
    let size = proto::page_align(total.max(1)).ok_or(EINVAL)?;
    let s = session;
    // From the session's pool when it has a buffer that fits.
    let (payload, pooled, call) = s.payload(size)?;
    let base = dsp_addr(s.sid(), payload.dma_addr());
    let offsets_of = offsets.as_slice();

    // Metadata, built in a (stack, for a few arguments) buffer and copied
    // in one go; all of it is written, so a pooled payload keeps nothing of
    // its last call there.
    let mut meta_buf = Scratch::<u8, SMALL_META>::new(layout.metalen())?;
    let meta = meta_buf.as_mut_slice();
    let bad = |_| EINVAL;
    for (i, a) in args.iter().enumerate() {
        let ra = layout.remote_arg(i).ok_or(EINVAL)?;
        let ib = layout.invoke_buf(i).ok_or(EINVAL)?;
        let pp = layout.phy_page(i).ok_or(EINVAL)?;
        let len = a.len();
        let num = u32::from(len != 0);
        let (pv, page) = match a {
            ArgData::Inline { .. } => {
                let off = *offsets_of.get(i).ok_or(EINVAL)? as u64;
                let addr = base + off;
                (addr, page_span(addr, len)?)
            }
            ArgData::Gem {
                obj, offset, user, ..
            } => {
                // The page span of the argument, in DSP addresses: the
                // pages of the buffer holding `offset..offset + len`.
                let page = kernel::page::PAGE_SIZE as u64;
                let in_page = offset % page;
                let first = obj.data().dsp_addr_at(*offset - in_page, in_page + len)?;
                let (_, size) = page_span(in_page, len)?;
                (*user, (first, size))
            }
        };
        if i < nbufs {
            proto::RemoteBuf { pv, len }
                .write_to(meta, ra)
                .map_err(bad)?;
        } else {
            let ArgData::Gem { handle, obj, .. } = a else {
                return Err(EINVAL);
            };
            proto::RemoteDmaHandle {
                fd: i32::try_from(*handle).map_err(|_| EINVAL)?,
                offset: 0,
                len: u32::try_from(obj.size()).map_err(|_| EINVAL)?,
            }
            .write_to(meta, ra)
            .map_err(bad)?;
        }
        proto::InvokeBuf {
            num,
            pgidx: i as u32,
        }
        .write_to(meta, ib)
        .map_err(bad)?;
        if len != 0 {
            proto::PhyPage {
                addr: page.0,
                size: page.1,
            }
            .write_to(meta, pp)
            .map_err(bad)?;
        }
    }
    payload.write(0, meta)?;

    // Inline inputs.
    for (i, a) in args.iter().enumerate().take(inbufs) {
        if let ArgData::Inline { user, data, len } = a {
            let off = *offsets_of.get(i).ok_or(EINVAL)?;
            match user {
                // Straight from user memory into the payload.
                Some(u) => payload.copy_from_user(off, *u, *len)?,
                None => payload.write(off, data)?,
            }
        }
    }

    // Inline outputs start zeroed, as in a fresh buffer: a pooled payload
    // holds its last call's bytes, and what the DSP does not write must
    // not come back as stale data.
    if pooled {
        for (i, a) in args.iter().enumerate().take(nbufs).skip(inbufs) {
            if let ArgData::Inline { len, .. } = a {
                let off = *offsets_of.get(i).ok_or(EINVAL)?;
                zero(&*payload, off, *len)?;
            }
        }
    }

    // GEM buffers stay alive while the DSP may use them, even if the call
    // is abandoned.
    let gems = args.iter().filter_map(|a| match a {
        ArgData::Gem { obj, .. } => Some(obj),
        ArgData::Inline { .. } => None,
    });
    let mut buffers = GemRefs::new(gems.clone().count())?;
    for (dst, obj) in buffers.as_mut_slice().iter_mut().zip(gems) {
        *dst = Some(obj.clone());
    }
    Ok(Prepared {
        payload,
        call,
        base,
        offsets,
        buffers,
    })
}

/// Performs a remote call of method `sc` on `handle` for `session` with
/// `args` (see [`prepare`]). Outputs are copied back to user space or into
/// the kernel buffers of `args`. Returns the DSP's return value. `token`
/// counts a user call against its process's in-flight limit until the DSP
/// is done with it.
#[expect(clippy::too_many_arguments)]
pub(crate) fn invoke(
    session: &Session,
    client_id: i32,
    handle: u32,
    sc: Scalars,
    pd: u8,
    args: &mut [ArgData],
    mode: WaitMode,
    token: Option<CallToken>,
) -> Result<i32> {
    let nbufs = sc.nbufs();
    let inbufs = usize::from(sc.in_bufs());
    let p = prepare(session, sc, args)?;
    let keep = Keep {
        _buffers: p.buffers,
        _token: token,
    };
    // The engine drops its reference before it returns (unless the call
    // is abandoned, and then the slot keeps one): the call can be reused.
    let (retval, payload) = session.engine().call(
        p.call.clone(),
        client_id,
        handle,
        sc,
        pd,
        p.payload,
        p.base,
        keep,
        mode,
    )?;
    let offsets = p.offsets;

    // Inline outputs.
    let copied = copy_outputs(&*payload, offsets.as_slice(), args, inbufs, nbufs);
    // The DSP is done with the payload and the call: back to the pool.
    session.recycle(payload, p.call);
    copied?;
    Ok(retval)
}

/// Copies the inline outputs of a finished call out of its payload.
fn copy_outputs(
    payload: &dyn Memory,
    offsets: &[usize],
    args: &mut [ArgData],
    inbufs: usize,
    nbufs: usize,
) -> Result {
    for (i, a) in args.iter_mut().enumerate().take(nbufs).skip(inbufs) {
        if let ArgData::Inline { user, data, len } = a {
            let off = *offsets.get(i).ok_or(EINVAL)?;
            match user {
                Some(u) => payload.copy_to_user(off, *u, *len)?,
                None => {
                    data.resize(*len, 0u8, GFP_KERNEL)?;
                    payload.read(off, data)?;
                }
            }
        }
    }
    Ok(())
}

/// Largest shell ELF `INIT_CREATE` accepts, as the C driver.
pub(crate) const INIT_FILELEN_MAX: u32 = 2 * 1024 * 1024;

/// Memory given to a new user PD: 2 MiB, or four times the shell, rounded to
/// whole MiB (as the C driver).
pub(crate) fn init_memlen(filelen: u32) -> Result<usize> {
    let len = usize::try_from(filelen).map_err(|_| EINVAL)?;
    let want = len
        .checked_mul(4)
        .ok_or(EINVAL)?
        .max(INIT_FILELEN_MAX as usize);
    want.checked_next_multiple_of(1 << 20).ok_or(EINVAL)
}

/// A call the kernel makes for `session`: `client_id` 0, session id (if
/// any) in the arguments, bounded wait. Fails only with `ETIMEDOUT` or
/// `EPIPE` once the request went out (the DSP may then hold state of it on
/// `ETIMEDOUT`); any other error means nothing was sent.
fn kernel_call(
    session: &Session,
    method: KernelMethod,
    pd: u8,
    args: &mut [ArgData],
) -> Result<i32> {
    invoke(
        session,
        0,
        method.handle(),
        method.scalars(),
        pd,
        args,
        WaitMode::Kernel,
        None,
    )
}

/// The session's client id, as the DSP knows it.
fn client_id(session: &Session) -> Result<i32> {
    i32::try_from(session.id()).map_err(|_| EINVAL)
}

/// One page-list entry, encoded.
fn phy_page_msg(page: proto::PhyPage) -> Result<[u8; proto::PHY_PAGE_SIZE]> {
    let mut bytes = [0u8; proto::PHY_PAGE_SIZE];
    page.write_to(&mut bytes, 0).map_err(|_| EINVAL)?;
    Ok(bytes)
}

/// Whether a kernel call's error leaves the DSP's state unknown.
fn outcome_unknown(e: Error) -> bool {
    e == ETIMEDOUT
}

/// The PD value of a session's DSP process (the static PD is a user PD on
/// the wire, as in `fastrpc.c`).
fn pd_value(pd: Pd) -> Option<u8> {
    match pd {
        Pd::None => None,
        Pd::Root => Some(proto::ROOT_PD),
        Pd::User | Pd::Static => Some(proto::USER_PD),
        Pd::Sensors => Some(proto::SENSORS_PD),
    }
}

/// One release request of a session, built in advance: sending it
/// allocates nothing.
struct Shot {
    call: Arc<Call>,
    payload: KBox<dyn Memory>,
    base: u64,
}

impl Shot {
    fn new(session: &Session) -> Result<Self> {
        let args = [ArgData::kernel_in(&proto::client_id_msg(client_id(
            session,
        )?))?];
        let p = prepare(session, KernelMethod::Release.scalars(), &args)?;
        Ok(Self {
            call: p.call,
            payload: p.payload,
            base: p.base,
        })
    }

    /// Sends it to PD `pd` and waits (bounded) for the answer.
    fn fire(self, session: &Session, pd: u8) -> Result<i32> {
        let m = KernelMethod::Release;
        session
            .engine()
            .call(
                self.call,
                0,
                m.handle(),
                m.scalars(),
                pd,
                self.payload,
                self.base,
                Keep::default(),
                WaitMode::Kernel,
            )
            .map(|(ret, _payload)| ret)
    }
}

/// Prepared release requests of a session with a DSP process, made before
/// the process is set up: closing a file never depends on an allocation.
/// Two, for a release and one retry.
pub(crate) struct ReleaseKit {
    shots: KVec<Shot>,
}

impl ReleaseKit {
    fn new(session: &Session, st: &mut PdState) -> Result<Self> {
        let mut shots = KVec::with_capacity(2, GFP_KERNEL)?;
        for _ in 0..2 {
            shots.push(Shot::new(session)?, GFP_KERNEL)?;
        }
        // Room to remember the releases sent, for late answers.
        st.release_sent.reserve(2, GFP_KERNEL)?;
        // Room for every mapping to be kept until the release.
        st.deferred.reserve(st.maps_live, GFP_KERNEL)?;
        Ok(Self { shots })
    }
}

/// Makes sure the DSP holds no process of `session` that its state does not
/// know about: releases a doubtful one. `EBUSY` if that release is not
/// confirmed either.
fn clear_doubt(session: &Session, st: &mut PdState) -> Result {
    if st.doubtful.is_none() {
        return Ok(());
    }
    // Mappings released with the process stay in `deferred` until the
    // next drain (not under this lock: dropping a buffer may end its
    // session); the DSP no longer uses them.
    if release_locked(session, st) {
        Ok(())
    } else {
        Err(EBUSY)
    }
}

/// `INIT_ATTACH` (`pd` [`Pd::Root`]) and `INIT_ATTACH_SNS` ([`Pd::Sensors`]):
/// attaches the session to that DSP PD. Returns the DSP's return value;
/// `EALREADY` if a PD is already set up. On a lost answer (`ETIMEDOUT`) the
/// attach is undone on the DSP at once.
pub(crate) fn attach(session: &Session, pd: Pd) -> Result<i32> {
    let ctx_pd = match pd {
        Pd::Root | Pd::Sensors => pd_value(pd).ok_or(EINVAL)?,
        _ => return Err(EINVAL),
    };
    let mut st = session.state();
    clear_doubt(session, &mut st)?;
    if st.pd != Pd::None {
        return Err(EALREADY);
    }
    let kit = ReleaseKit::new(session, &mut st)?;
    let mut args = [ArgData::kernel_in(&proto::client_id_msg(client_id(
        session,
    )?))?];
    session.set_dsp_held(true);
    match kernel_call(session, KernelMethod::Attach, ctx_pd, &mut args) {
        Ok(0) => {
            st.pd = pd;
            st.kit = Some(kit);
            Ok(0)
        }
        Ok(ret) => {
            session.set_dsp_held(false);
            Ok(ret)
        }
        Err(e) if outcome_unknown(e) => {
            st.doubtful = Some(ctx_pd);
            st.kit = Some(kit);
            release_locked(session, &mut st);
            drop(st);
            session.drain_deferred(false);
            Err(e)
        }
        Err(e) => {
            session.set_dsp_held(false);
            Err(e)
        }
    }
}

/// The lengths of an `INIT_CREATE` shell file and of its signature: the
/// one place their limits are checked.
#[derive(Clone, Copy)]
pub(crate) struct ShellLen {
    file: u32,
    sig: u32,
}

impl ShellLen {
    /// `EFBIG` for a file over [`INIT_FILELEN_MAX`], `EINVAL` for a
    /// signature longer than the file.
    pub(crate) fn new(file: u32, sig: u32) -> Result<Self> {
        if file > INIT_FILELEN_MAX {
            return Err(EFBIG);
        }
        if sig > file {
            return Err(EINVAL);
        }
        Ok(Self { file, sig })
    }

    /// Length of the file; 0 for none.
    pub(crate) fn file(self) -> u32 {
        self.file
    }
}

/// Where the shell ELF of `INIT_CREATE` is (its lengths: [`ShellLen`]).
pub(crate) enum Shell {
    /// No shell file.
    None,
    /// At a user address.
    User(u64),
    /// At the start of a GEM buffer, by its handle.
    Gem(ARef<Object>, u32),
}

/// `INIT_CREATE`: creates the session's user PD with `shell`, process
/// attributes `attrs` (non-zero selects the create-with-attributes method)
/// and signature length `siglen`. Returns the DSP's return value. On a lost
/// answer (`ETIMEDOUT`) the process the DSP may have created is released
/// at once; its init memory stays allocated until that is confirmed.
pub(crate) fn create(session: &Session, shell: Shell, len: ShellLen, attrs: u32) -> Result<i32> {
    let mut st = session.state();
    clear_doubt(session, &mut st)?;
    if st.pd != Pd::None {
        return Err(EALREADY);
    }
    let (filelen, siglen) = match &shell {
        Shell::None => (0, 0),
        Shell::User(_) => (len.file, len.sig),
        Shell::Gem(obj, _) => {
            // The file must lie in the buffer.
            if u64::from(len.file) > obj.size() as u64 {
                return Err(EINVAL);
            }
            (len.file, len.sig)
        }
    };
    let mem = session.alloc(init_memlen(filelen)?)?;
    let kit = ReleaseKit::new(session, &mut st)?;
    let comm = crate::sys::current_comm();
    let end = comm
        .iter()
        .position(|&b| b == 0)
        .map_or(comm.len(), |p| p + 1);
    let name = comm.get(..end).ok_or(EINVAL)?;
    let namelen = u32::try_from(name.len()).map_err(|_| EINVAL)?;
    let inbuf = proto::CreateMsg {
        client_id: client_id(session)?,
        namelen,
        filelen,
        pageslen: 1,
        attrs,
        siglen,
    }
    .encode();
    let page_bytes = phy_page_msg(proto::PhyPage {
        addr: dsp_addr(session.sid(), mem.dma_addr()),
        size: mem.size() as u64,
    })?;
    let file = match shell {
        Shell::None => ArgData::kernel_in(&[])?,
        Shell::User(addr) => ArgData::Inline {
            user: Some(addr),
            data: KVec::new(),
            len: filelen as usize,
        },
        Shell::Gem(obj, handle) => ArgData::Gem {
            obj,
            offset: 0,
            len: u64::from(filelen),
            user: 0,
            handle,
        },
    };
    let mut args = [
        ArgData::kernel_in(&inbuf)?,
        ArgData::kernel_in(name)?,
        file,
        ArgData::kernel_in(&page_bytes)?,
    ];
    let method = if attrs != 0 {
        KernelMethod::CreateAttr
    } else {
        KernelMethod::Create
    };
    session.set_dsp_held(true);
    match kernel_call(session, method, proto::USER_PD, &mut args) {
        Ok(0) => {
            st.pd = Pd::User;
            st.init_mem = Some(mem);
            st.kit = Some(kit);
            Ok(0)
        }
        Ok(ret) => {
            session.set_dsp_held(false);
            Ok(ret)
        }
        Err(e) if outcome_unknown(e) => {
            // The DSP may run the process and use its memory.
            st.doubtful = Some(proto::USER_PD);
            st.init_mem = Some(mem);
            st.kit = Some(kit);
            release_locked(session, &mut st);
            drop(st);
            session.drain_deferred(false);
            Err(e)
        }
        Err(e) => {
            session.set_dsp_held(false);
            Err(e)
        }
    }
}

/// Longest static PD name, NUL included (`fastrpc.c`'s
/// `INIT_FILE_NAMELEN_MAX`).
pub(crate) const INIT_NAME_MAX: usize = 128;

/// The channel's static (audio) PD: its remote heap, whether the DSP has
/// been given it since the channel came up, and which session holds the PD.
pub(crate) struct StaticPd {
    /// The channel's `memory-region`, if it has one.
    pub(crate) heap: Option<(u64, u64)>,
    /// The heap went to the DSP with a create that succeeded (it keeps it
    /// across daemon restarts: later creates send an empty page list).
    pub(crate) heap_sent: bool,
    /// Session id of the PD's holder, 0 for none.
    pub(crate) owner: u32,
    /// The missing heap was reported (once per channel).
    pub(crate) warned: bool,
}

/// `INIT_CREATE_STATIC`: creates the channel's static PD `name` (with its
/// NUL) for the session, giving the DSP the channel's remote heap on the
/// first create since the channel came up. `EOPNOTSUPP` without a remote
/// heap, `EBUSY` while another session holds the static PD, `EALREADY` if
/// this one already has a PD. A lost answer is handled as for `create`.
pub(crate) fn create_static(session: &Session, name: &[u8]) -> Result<i32> {
    let mut st = session.state();
    clear_doubt(session, &mut st)?;
    if st.pd != Pd::None {
        return Err(EALREADY);
    }
    let engine = session.engine();
    let (heap, pageslen) = {
        let mut sp = engine.static_pd();
        let heap = sp.heap.ok_or(EOPNOTSUPP)?;
        if sp.owner != 0 {
            return Err(EBUSY);
        }
        sp.owner = session.id();
        if sp.heap_sent {
            ((0, 0), 0u32)
        } else {
            (heap, 1u32)
        }
    };
    let res = create_static_send(session, &mut st, name, heap, pageslen);
    let mut sp = engine.static_pd();
    match &res {
        Ok(0) => {
            if pageslen == 1 {
                sp.heap_sent = true;
            }
        }
        // The DSP may have taken the heap: never send it twice.
        Err(e) if outcome_unknown(*e) => {
            if pageslen == 1 {
                sp.heap_sent = true;
            }
            if st.doubtful.is_none() {
                sp.owner = 0;
            }
        }
        _ => sp.owner = 0,
    }
    res
}

fn create_static_send(
    session: &Session,
    st: &mut PdState,
    name: &[u8],
    heap: (u64, u64),
    pageslen: u32,
) -> Result<i32> {
    let namelen = u32::try_from(name.len()).map_err(|_| EINVAL)?;
    let kit = ReleaseKit::new(session, st)?;
    let inbuf = proto::CreateStaticMsg {
        client_id: client_id(session)?,
        namelen,
        pageslen,
    }
    .encode();
    let page_bytes = phy_page_msg(proto::PhyPage {
        addr: heap.0,
        size: heap.1,
    })?;
    let mut args = [
        ArgData::kernel_in(&inbuf)?,
        ArgData::kernel_in(name)?,
        ArgData::kernel_in(&page_bytes)?,
    ];
    session.set_dsp_held(true);
    match kernel_call(
        session,
        KernelMethod::CreateStatic,
        proto::USER_PD,
        &mut args,
    ) {
        Ok(0) => {
            st.pd = Pd::Static;
            st.kit = Some(kit);
            Ok(0)
        }
        Ok(ret) => {
            session.set_dsp_held(false);
            Ok(ret)
        }
        Err(e) if outcome_unknown(e) => {
            st.doubtful = Some(proto::USER_PD);
            st.kit = Some(kit);
            release_locked(session, st);
            Err(e)
        }
        Err(e) => {
            session.set_dsp_held(false);
            Err(e)
        }
    }
}

/// Releases the session's DSP process, if it has one (or may have one) and
/// `idle()` confirms no file uses the session, and returns whether the DSP
/// is known to hold nothing of the session any more: the release was
/// answered (now or, late, since an earlier try), or the channel is gone.
/// Tries twice, with the requests prepared when the process was set up, so
/// it needs no allocation. Init memory and the buffers of mappings the DSP
/// may hold are freed only once it is known to hold nothing.
pub(crate) fn release(session: &Session, idle: impl Fn() -> bool) -> bool {
    let mut st = session.state();
    if !idle() {
        return pd_value(st.pd).is_none() && st.doubtful.is_none();
    }
    let clean = release_locked(session, &mut st);
    drop(st);
    // Outside the state lock: dropping a buffer may end its session.
    if clean {
        session.drain_deferred(false);
    }
    clean
}

/// [`release`] with the state locked. On success the mappings kept in
/// `deferred` may go: the caller drains them once the lock is released
/// ([`Session::drain_deferred`]).
fn release_locked(session: &Session, st: &mut PdState) -> bool {
    let Some(pd) = st.doubtful.or(pd_value(st.pd)) else {
        session.set_dsp_held(!st.deferred.is_empty());
        return true;
    };
    let mut clean = session.engine().is_dead() || st.release_sent.iter().any(|c| c.answered());
    for _ in 0..2 {
        if clean {
            break;
        }
        let shot = match st.kit.as_mut().and_then(|k| k.shots.pop()) {
            Some(shot) => shot,
            None => match Shot::new(session) {
                Ok(shot) => shot,
                Err(_) => continue,
            },
        };
        // Room was reserved by the kit; best effort beyond it.
        let _ = st.release_sent.push(shot.call.clone(), GFP_KERNEL);
        match shot.fire(session, pd) {
            // Any answer: the DSP handled the release (a non-zero value
            // says it had no such process).
            Ok(_) => clean = true,
            Err(e) if e == EPIPE => clean = true,
            Err(_) => {}
        }
    }
    st.pd = Pd::None;
    if !clean {
        st.doubtful = Some(pd);
        return false;
    }
    st.doubtful = None;
    st.kit = None;
    st.release_sent.clear();
    // A static PD held by the session is gone too.
    let mut sp = session.engine().static_pd();
    if sp.owner == session.id() {
        sp.owner = 0;
    }
    drop(sp);
    // The DSP is done with the process's memory.
    drop(st.init_mem.take());
    // Still set while `deferred` holds mappings, so that the drain runs.
    session.set_dsp_held(!st.deferred.is_empty());
    true
}

/// A user remote call: `INVOKE`. The init handle is refused (`EPERM`), as
/// is a session with no DSP process (`ENOTCONN`); `EAGAIN` when the process
/// has its limit of calls in flight.
pub(crate) fn user_invoke(
    session: &Session,
    handle: u32,
    sc: Scalars,
    args: &mut [ArgData],
) -> Result<i32> {
    if handle == proto::INIT_HANDLE {
        return Err(EPERM);
    }
    let pd = pd_value(session.state().pd).ok_or(ENOTCONN)?;
    let token = CallToken::take(session.quota())?;
    let client_id = i32::try_from(session.id()).map_err(|_| EINVAL)?;
    invoke(
        session,
        client_id,
        handle,
        sc,
        pd,
        args,
        WaitMode::Interruptible,
        Some(token),
    )
}

/// What the DSP's return value `ret` of a call means for user space: 0 and
/// DSP status codes (positive, or below -4095, such as `0x8000040d`) come
/// back unchanged as the ioctl's value; a negative errno the DSP sent
/// (-1..-133) becomes that error; anything else in the errno range
/// (-134..-4095, where the kernel keeps its internal codes such as
/// `-ERESTARTSYS`) becomes `EIO`, so that no kernel-internal code reaches
/// user space.
pub(crate) fn dsp_result(ret: i32) -> Result<i32> {
    match ret {
        -133..=-1 => Err(Error::from_errno(ret)),
        -4095..=-134 => Err(EIO),
        _ => Ok(ret),
    }
}

/// Number of DSP attribute ids (the C driver's `FASTRPC_MAX_DSP_ATTRIBUTES`).
pub(crate) const DSP_ATTRIBUTES: usize = 256;

/// Largest payload (metadata and inline arguments) of one call: buffers
/// beyond it belong in GEM objects, which the DSP reads in place. Checked
/// before anything is allocated; more fails the call with `E2BIG`.
pub(crate) const INLINE_MAX: usize = 64 << 20;

/// The DSP's "unsupported API" status.
const DSP_UNSUPPORTED_API: i32 = 0x8000_0414_u32 as i32;

/// A DSP attribute id, below [`DSP_ATTRIBUTES`]: the one place that limit
/// is checked.
#[derive(Clone, Copy)]
pub(crate) struct AttrId(usize);

impl AttrId {
    /// `EOVERFLOW` for an id the DSP has no attribute for.
    pub(crate) fn new(id: u64) -> Result<Self> {
        match usize::try_from(id) {
            Ok(id) if id < DSP_ATTRIBUTES => Ok(Self(id)),
            _ => Err(EOVERFLOW),
        }
    }
}

/// Returns DSP attribute `id`, querying the DSP's attribute table (handle 2,
/// method 0) on first use and caching it for the channel. `EOPNOTSUPP` if
/// the DSP has no such query.
pub(crate) fn dsp_attribute(session: &Session, id: AttrId) -> Result<u32> {
    let AttrId(id) = id;
    let engine = session.engine();
    if let Some(v) = engine.cached_attribute(id) {
        return v;
    }
    let count = (DSP_ATTRIBUTES - 1) as u32;
    let mut args = [
        ArgData::kernel_in(&proto::capabilities_msg(count))?,
        ArgData::kernel_out((DSP_ATTRIBUTES - 1) * 4)?,
    ];
    let ret = kernel_call(
        session,
        KernelMethod::Capabilities,
        proto::ROOT_PD,
        &mut args,
    )?;
    let mut table = KVec::with_capacity(DSP_ATTRIBUTES, GFP_KERNEL)?;
    // Attribute 0 is user space's to fill in; the DSP's answer fills the
    // rest (an answer shorter than asked leaves zeroes).
    table.resize(DSP_ATTRIBUTES, 0u32, GFP_KERNEL)?;
    if ret == 0 {
        if let Some(rest) = table.get_mut(1..) {
            proto::capabilities_decode(args[1].bytes(), rest);
        }
    } else if ret != DSP_UNSUPPORTED_API {
        return dsp_result(ret).and(Err(EIO));
    }
    engine.cache_attributes(if ret == 0 { Some(table) } else { None });
    engine.cached_attribute(id).unwrap_or(Err(EOPNOTSUPP))
}

/// A buffer mapped into the DSP process by `MAP`.
pub(crate) struct Mapping {
    /// 1: legacy mmap (methods 4/5), 2: memory map with attributes (10/11).
    pub(crate) request: u32,
    /// The GEM handle it was mapped by.
    pub(crate) handle: u32,
    /// The buffer, kept alive while mapped.
    pub(crate) _obj: ARef<Object>,
    /// DSP virtual address returned by the DSP.
    pub(crate) dsp_vaddr: u64,
    /// User address given at map time.
    pub(crate) vaddrin: u64,
    /// Mapped length.
    pub(crate) size: u64,
    /// The DSP's answer to the map or an unmap was lost: it may or may not
    /// hold the mapping, at an unknown address. Kept (with its buffer)
    /// until the DSP process is released.
    pub(crate) lost: bool,
}

/// The page-granular range `MAP` hands the DSP for `size` bytes at
/// `offset` of an object of `obj_size` bytes: `offset` must be page
/// aligned, `size` 0 means up to the end of the object, and the size is
/// rounded up to whole pages (the DSP maps pages); the range must lie in
/// the object. `EINVAL` otherwise. Returns the rounded size.
pub(crate) fn map_range(offset: u64, size: u64, obj_size: u64) -> Result<u64> {
    let page = kernel::page::PAGE_SIZE as u64;
    if offset % page != 0 || offset >= obj_size {
        return Err(EINVAL);
    }
    let size = if size == 0 { obj_size - offset } else { size };
    let size = size.checked_next_multiple_of(page).ok_or(EINVAL)?;
    match offset.checked_add(size) {
        Some(end) if end <= obj_size => Ok(size),
        _ => Err(EINVAL),
    }
}

/// `MAP`: maps `size` bytes at `offset` of `obj` into the session's DSP
/// process; the range was checked with [`map_range`]. Returns the DSP's return value or the
/// error, and the mapping: made, or `lost` if the DSP's answer was lost
/// (the error is then `ETIMEDOUT`), which the caller must keep.
#[expect(clippy::too_many_arguments)]
pub(crate) fn map(
    session: &Session,
    request: u32,
    flags: u32,
    handle: u32,
    obj: ARef<Object>,
    offset: u32,
    vaddrin: u64,
    size: u64,
) -> (Result<i32>, Option<Mapping>) {
    let pd = {
        let mut st = session.state();
        let Some(pd) = pd_value(st.pd) else {
            return (Err(ENOTCONN), None);
        };
        // Room to keep this mapping until the release, whatever happens.
        let want = st.maps_live + 1;
        if let Err(e) = st.deferred.reserve(want, GFP_KERNEL) {
            return (Err(e.into()), None);
        }
        st.maps_live = want;
        pd
    };
    let res = map_send(
        session, request, flags, handle, &obj, offset, vaddrin, size, pd,
    );
    match res {
        Ok((0, dsp_vaddr, size)) => (
            Ok(0),
            Some(Mapping {
                request,
                handle,
                _obj: obj,
                dsp_vaddr,
                vaddrin,
                size,
                lost: false,
            }),
        ),
        Err(e) if outcome_unknown(e) => (
            Err(e),
            Some(Mapping {
                request,
                handle,
                _obj: obj,
                dsp_vaddr: 0,
                vaddrin,
                size,
                lost: true,
            }),
        ),
        other => {
            session.state().maps_live -= 1;
            (other.map(|(ret, _, _)| ret), None)
        }
    }
}

/// Sends the map request; returns the DSP's return value, the DSP address
/// and the mapped size.
#[expect(clippy::too_many_arguments)]
fn map_send(
    session: &Session,
    request: u32,
    flags: u32,
    handle: u32,
    obj: &Object,
    offset: u32,
    vaddrin: u64,
    size: u64,
    pd: u8,
) -> Result<(i32, u64, u64)> {
    let page = proto::PhyPage {
        addr: obj.data().dsp_addr_at(u64::from(offset), size)?,
        size,
    };
    let page_bytes = phy_page_msg(page)?;
    let client_id = client_id(session)?;
    // `num` counts the page list in bytes, as `fastrpc.c` sends it.
    let num = proto::PHY_PAGE_SIZE as i32;
    let (ret, out) = match request {
        1 => {
            let msg = proto::MmapMsg {
                client_id,
                flags,
                vaddr: vaddrin,
                num,
            };
            let mut args = [
                ArgData::kernel_in(&msg.encode())?,
                ArgData::kernel_in(&page_bytes)?,
                ArgData::kernel_out(proto::MmapRsp::SIZE)?,
            ];
            let ret = kernel_call(session, KernelMethod::Mmap, pd, &mut args)?;
            (ret, proto::MmapRsp::decode(args[2].bytes()))
        }
        2 => {
            let msg = proto::MemMapMsg {
                client_id,
                fd: i32::try_from(handle).map_err(|_| EINVAL)?,
                // An s32 on the wire; the bits of the u32 offset, as the
                // C driver's implicit conversion sends them.
                offset: offset as i32,
                flags,
                vaddrin,
                num,
                data_len: 0,
            };
            let mut args = [
                ArgData::kernel_in(&msg.encode())?,
                ArgData::kernel_in(&page_bytes)?,
                ArgData::kernel_in(&[])?,
                ArgData::kernel_out(proto::MmapRsp::SIZE)?,
            ];
            let ret = kernel_call(session, KernelMethod::MemMap, pd, &mut args)?;
            (ret, proto::MmapRsp::decode(args[3].bytes()))
        }
        _ => return Err(EINVAL),
    };
    if ret != 0 {
        return Ok((ret, 0, size));
    }
    Ok((0, out.map_err(|_| EINVAL)?.vaddr, size))
}

/// `MUNMAP`: unmaps `m` from the session's DSP process. Returns the DSP's
/// return value; on 0 the mapping is gone (the caller drops it). On a lost
/// answer (`ETIMEDOUT`) `m` becomes `lost`.
pub(crate) fn unmap(session: &Session, m: &mut Mapping) -> Result<i32> {
    if m.lost {
        return Err(ENOENT);
    }
    let Some(pd) = pd_value(session.state().pd) else {
        // The process is gone, and its mappings with it.
        session.state().maps_live -= 1;
        return Ok(0);
    };
    let client_id = client_id(session)?;
    let res = if m.request == 1 {
        let msg = proto::MunmapMsg {
            client_id,
            vaddr: m.dsp_vaddr,
            size: m.size,
        };
        let mut args = [ArgData::kernel_in(&msg.encode())?];
        kernel_call(session, KernelMethod::Munmap, pd, &mut args)
    } else {
        let msg = proto::MemUnmapMsg {
            client_id,
            fd: i32::try_from(m.handle).map_err(|_| EINVAL)?,
            vaddrin: m.dsp_vaddr,
            len: m.size,
        };
        let mut args = [ArgData::kernel_in(&msg.encode())?];
        kernel_call(session, KernelMethod::MemUnmap, pd, &mut args)
    };
    match res {
        Ok(0) => session.state().maps_live -= 1,
        Err(e) if outcome_unknown(e) => m.lost = true,
        _ => {}
    }
    res
}

/// Hands a mapping its file no longer tracks (the file is closing) to the
/// session: `m` is unmapped if it can be, and otherwise kept, with its
/// buffer, until the DSP process is released.
pub(crate) fn drop_mapping(session: &Session, mut m: Mapping) {
    if !m.lost && matches!(unmap(session, &mut m), Ok(0)) {
        return;
    }
    let mut st = session.state();
    if pd_value(st.pd).is_none() && st.doubtful.is_none() {
        // Released meanwhile: the DSP holds nothing any more.
        st.maps_live = st.maps_live.saturating_sub(1);
        drop(st);
        drop(m);
        return;
    }
    st.maps_live = st.maps_live.saturating_sub(1);
    // Room was reserved at map time (see `map`).
    if let Err(kernel::alloc::kvec::PushError(m)) = st.deferred.push_within_capacity(m) {
        drop(st);
        // Unreachable by construction; never free memory the DSP may use.
        kernel::pr_warn!("qda: keeping a mapped buffer without room to track it\n");
        core::mem::forget(m);
    }
}
