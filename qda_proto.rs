// SPDX-License-Identifier: GPL-2.0

//! FastRPC wire protocol: messages, scalars and payload layout.
//!
//! This module is pure data handling over byte slices. It uses only `core`, so the
//! kernel module includes it as a submodule and the host builds it as the
//! `qda-proto` crate for unit tests and fuzzing. Every layout here is the one
//! `drivers/misc/fastrpc.c` (Linux 7.3) puts on the wire; all multi-byte fields
//! are little-endian.
//!
//! Decoders never trust their input: offsets are bounds-checked, arithmetic is
//! checked, and failures are reported as [`ProtoError`] or `None`.

#![deny(unsafe_code)]

use core::fmt;

/// Static handle of the DSP process-management interface (`FASTRPC_INIT_HANDLE`).
pub const INIT_HANDLE: u32 = 1;
/// Static handle of the DSP utilities interface (`FASTRPC_DSP_UTILITIES_HANDLE`);
/// method 0 with one input and one output buffer queries the DSP capabilities.
pub const CAPABILITY_HANDLE: u32 = 2;

/// Init-handle method: attach to an existing PD (root or sensors).
pub const RMID_INIT_ATTACH: u8 = 0;
/// Init-handle method: release the caller's process on the DSP.
pub const RMID_INIT_RELEASE: u8 = 1;
/// Init-handle method: legacy map of a buffer into the DSP process.
pub const RMID_INIT_MMAP: u8 = 4;
/// Init-handle method: legacy unmap of a buffer mapped by [`RMID_INIT_MMAP`].
pub const RMID_INIT_MUNMAP: u8 = 5;
/// Init-handle method: create a dynamic user PD.
pub const RMID_INIT_CREATE: u8 = 6;
/// Init-handle method: create a dynamic user PD with attributes.
pub const RMID_INIT_CREATE_ATTR: u8 = 7;
/// Init-handle method: create a static PD.
pub const RMID_INIT_CREATE_STATIC: u8 = 8;
/// Init-handle method: map a buffer with attributes.
pub const RMID_INIT_MEM_MAP: u8 = 10;
/// Init-handle method: unmap a buffer mapped by [`RMID_INIT_MEM_MAP`].
pub const RMID_INIT_MEM_UNMAP: u8 = 11;

/// Protection domain id of the DSP's root PD.
pub const ROOT_PD: u8 = 0;
/// Protection domain id of a dynamic user PD.
pub const USER_PD: u8 = 1;
/// Protection domain id of the sensors PD.
pub const SENSORS_PD: u8 = 2;

/// Context value of a PD-exit notification (`FASTRPC_DSP_PD_NOTIFY_CTX`); such a
/// message answers no request and must be dropped.
pub const PD_EXIT_CTX: u64 = 0xABCD_ABCD;
/// Value the DSP writes into the poll word when a polled call completes.
pub const POLL_RESPONSE: u32 = 0xdecaf;

/// Size of an encoded [`Request`] (`struct fastrpc_msg`).
pub const REQUEST_SIZE: usize = 40;
/// Size of an encoded [`Response`] (`struct fastrpc_invoke_rsp`, with padding).
pub const RESPONSE_SIZE: usize = 16;
/// Size of one `union fastrpc_remote_arg` slot ([`RemoteBuf`] or [`RemoteDmaHandle`]).
pub const REMOTE_ARG_SIZE: usize = 16;
/// Size of one [`InvokeBuf`] record.
pub const INVOKE_BUF_SIZE: usize = 8;
/// Size of one [`PhyPage`] record.
pub const PHY_PAGE_SIZE: usize = 16;
/// Number of `u64` entries in the fd list (`FASTRPC_MAX_FDLIST`).
pub const FDLIST_LEN: usize = 16;
/// Number of `u32` entries in the CRC list (`FASTRPC_MAX_CRCLIST`).
pub const CRCLIST_LEN: usize = 64;
/// Size of the poll word that ends the metadata.
pub const POLL_WORD_SIZE: usize = 4;
/// Alignment of the inline area and of each inline buffer (`FASTRPC_ALIGN`).
pub const PAYLOAD_ALIGN: usize = 128;
/// Page size used by [`page_align`]. The C driver uses the kernel's `PAGE_SIZE`.
pub const PAGE_SIZE: usize = 4096;

// `fastrpc_get_meta_size()`: 40 bytes per scalar plus 388 fixed bytes.
const _: () = assert!(REMOTE_ARG_SIZE + INVOKE_BUF_SIZE + PHY_PAGE_SIZE == 40);
const _: () = assert!(FDLIST_LEN * 8 + CRCLIST_LEN * 4 + POLL_WORD_SIZE == 388);

/// Errors of the protocol codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoError {
    /// The message is shorter than its wire format.
    Short,
    /// An offset or size computation overflowed.
    Overflow,
    /// A record does not fit in the buffer at the given offset.
    OutOfBounds,
    /// A scalars value does not describe the call it is used for.
    BadScalars,
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Self::Short => "message too short",
            Self::Overflow => "arithmetic overflow",
            Self::OutOfBounds => "record out of bounds",
            Self::BadScalars => "bad scalars",
        };
        f.write_str(msg)
    }
}

/// Rounds `value` up to a multiple of `align`, a power of two.
///
/// Returns `None` if `align` is not a power of two or the result overflows.
pub const fn align_up(value: usize, align: usize) -> Option<usize> {
    if !align.is_power_of_two() {
        return None;
    }
    // `align >= 1` as it is a power of two.
    let mask = align - 1;
    match value.checked_add(mask) {
        Some(v) => Some(v & !mask),
        None => None,
    }
}

/// Rounds a payload size up to [`PAGE_SIZE`], as the request's `size` field is.
pub const fn page_align(size: usize) -> Option<usize> {
    align_up(size, PAGE_SIZE)
}

/// The scalars word describing a remote call (`sc`).
///
/// Bits 31:29 attributes, 28:24 method, 23:16 input buffers, 15:8 output
/// buffers, 7:4 input handles, 3:0 output handles (`FASTRPC_BUILD_SCALARS`).
/// Every `u32` is a valid scalars word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scalars(u32);

impl Scalars {
    /// Builds the scalars of a call with only buffers (`FASTRPC_SCALARS`).
    ///
    /// Returns `None` if `method` does not fit in 5 bits.
    pub const fn new(method: u8, in_bufs: u8, out_bufs: u8) -> Option<Self> {
        Self::build(0, method, in_bufs, out_bufs, 0, 0)
    }

    /// Builds a scalars word from all its fields (`FASTRPC_BUILD_SCALARS`).
    ///
    /// Returns `None` if `attr` exceeds 3 bits, `method` 5 bits, or either
    /// handle count 4 bits; unlike the C macro, nothing is silently masked.
    pub const fn build(
        attr: u8,
        method: u8,
        in_bufs: u8,
        out_bufs: u8,
        in_handles: u8,
        out_handles: u8,
    ) -> Option<Self> {
        if attr > 0x7 || method > 0x1f || in_handles > 0xf || out_handles > 0xf {
            return None;
        }
        Some(Self(
            (attr as u32) << 29
                | (method as u32) << 24
                | (in_bufs as u32) << 16
                | (out_bufs as u32) << 8
                | (in_handles as u32) << 4
                | out_handles as u32,
        ))
    }

    /// Wraps a raw scalars word, e.g. one received from userspace.
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }

    /// Returns the raw scalars word.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// Returns the attribute bits (31:29).
    pub const fn attr(self) -> u8 {
        (self.0 >> 29) as u8 & 0x7
    }

    /// Returns the method id (28:24).
    pub const fn method(self) -> u8 {
        (self.0 >> 24) as u8 & 0x1f
    }

    /// Returns the number of input buffers (23:16).
    pub const fn in_bufs(self) -> u8 {
        (self.0 >> 16) as u8
    }

    /// Returns the number of output buffers (15:8).
    pub const fn out_bufs(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// Returns the number of input handles (7:4).
    pub const fn in_handles(self) -> u8 {
        (self.0 >> 4) as u8 & 0xf
    }

    /// Returns the number of output handles (3:0).
    pub const fn out_handles(self) -> u8 {
        self.0 as u8 & 0xf
    }

    /// Returns the number of buffers, input and output.
    pub const fn nbufs(self) -> usize {
        // At most 2 * 255: cannot overflow.
        self.in_bufs() as usize + self.out_bufs() as usize
    }

    /// Returns the number of handles, input and output.
    pub const fn nhandles(self) -> usize {
        // At most 2 * 15: cannot overflow.
        self.in_handles() as usize + self.out_handles() as usize
    }

    /// Returns the number of arguments, all four counts summed
    /// (`REMOTE_SCALARS_LENGTH`); buffers come first, then handles.
    pub const fn nscalars(self) -> usize {
        // At most 540: cannot overflow.
        self.nbufs() + self.nhandles()
    }
}

/// Mask of the context id (`FASTRPC_CTXID_MASK`, `GENMASK(15, 8)`).
pub const CTX_ID_MASK: u64 = 0xff00;
/// Shift of the context id.
pub const CTX_ID_SHIFT: u32 = 8;
/// Mask of the sequence number (`FASTRPC_CTXID_SEQ_MASK`, `GENMASK_ULL(63, 16)`).
pub const CTX_SEQ_MASK: u64 = 0xffff_ffff_ffff_0000;
/// Shift of the sequence number (`FASTRPC_CTXID_SEQ_SHIFT`).
pub const CTX_SEQ_SHIFT: u32 = 16;
/// Mask of the PD type in a context.
pub const CTX_PD_MASK: u64 = 0xf;

/// Encodes the PD-tagged context of a request.
///
/// In 7.3 `fastrpc.c` builds the context as `FIELD_PREP(FASTRPC_CTXID_MASK, id)
/// | FIELD_PREP(FASTRPC_CTXID_SEQ_MASK, seq)` and sends `ctxid | fl->pd`:
/// bits 63:16 hold a per-channel sequence number, bits 15:8 the context id
/// (an IDR slot, 1..255), and the low bits the protection domain the call is
/// addressed to. The DSP echoes the whole value in its response; the PD bits
/// exist because one channel multiplexes the root, sensors and user PDs, and
/// the firmware routes the call by them. The driver matches a response by id
/// and then rejects it if the sequence number differs (a stale answer to a
/// recycled slot). PD values fit in bits 3:0; bits 7:4 are sent as zero.
///
/// Returns `None` if `pd` exceeds [`CTX_PD_MASK`] or `seq` exceeds 48 bits.
pub const fn ctx_encode(id: u8, pd: u8, seq: u64) -> Option<u64> {
    if pd as u64 > CTX_PD_MASK || seq > CTX_SEQ_MASK >> CTX_SEQ_SHIFT {
        return None;
    }
    Some(seq << CTX_SEQ_SHIFT | (id as u64) << CTX_ID_SHIFT | pd as u64)
}

/// Splits a context into its id and PD, the inverse of [`ctx_encode`].
///
/// Check [`PD_EXIT_CTX`] first: that sentinel decodes to meaningless fields.
pub const fn ctx_decode(ctx: u64) -> (u8, u8) {
    (
        ((ctx & CTX_ID_MASK) >> CTX_ID_SHIFT) as u8,
        (ctx & CTX_PD_MASK) as u8,
    )
}

/// Returns the sequence number of a context (bits 63:16).
pub const fn ctx_seq(ctx: u64) -> u64 {
    (ctx & CTX_SEQ_MASK) >> CTX_SEQ_SHIFT
}

/// A cursor reading little-endian fields from the front of a slice.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], ProtoError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(ProtoError::OutOfBounds)?;
        self.0 = rest;
        Ok(*head)
    }

    /// Passes over `n` bytes of padding.
    fn skip(&mut self, n: usize) -> Result<(), ProtoError> {
        self.0 = self.0.get(n..).ok_or(ProtoError::OutOfBounds)?;
        Ok(())
    }
}

/// A little-endian field of a record laid out by `wire_layout!`.
trait Field: Sized {
    /// Reads the field at the front of `r`.
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError>;
    /// Appends the field to `w`.
    fn put<const N: usize>(self, w: Writer<N>) -> Writer<N>;
}

/// Implements [`Field`] for integers, as their little-endian bytes.
macro_rules! le_field {
    ($($t:ty),+) => {
        $(
            impl Field for $t {
                fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
                    r.take().map(<$t>::from_le_bytes)
                }

                fn put<const N: usize>(self, w: Writer<N>) -> Writer<N> {
                    w.put(self.to_le_bytes())
                }
            }
        )+
    };
}

le_field!(u32, i32, u64);

impl Field for Scalars {
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        u32::get(r).map(Scalars::from_raw)
    }

    fn put<const N: usize>(self, w: Writer<N>) -> Writer<N> {
        self.raw().put(w)
    }
}

/// Implements the wire format of a record: every field of the struct in the
/// order given, each little-endian, and `field pad N` for a field that N
/// bytes of padding follow (zero on the wire, ignored when read). The
/// decoder builds `Self` from the list, so it cannot leave a field out;
/// the tests check each layout byte by byte.
///
/// - `@codec SIZE; fields`: the private `wire_encode()` and `wire_decode()`;
/// - `message SIZE; fields`: the public `SIZE`, `encode()` and `decode()` of
///   a kernel message (decoded from the front of a buffer, too short a
///   buffer being [`ProtoError::Short`]);
/// - `record SIZE; fields`: the public `read_from()` and `write_to()` of a
///   record at an offset in the payload.
///
/// It is invoked inside the record's `impl` block.
macro_rules! wire_layout {
    (@codec $size:expr; $($field:ident $(pad $pad:literal)?),+) => {
        /// Encodes the fields into the record's wire format.
        fn wire_encode(&self) -> [u8; $size] {
            let w = Writer::new();
            $(let w = Field::put(self.$field, w)$(.pad($pad))?;)+
            w.done()
        }

        /// Decodes the record from the front of `r`.
        fn wire_decode(mut r: Reader<'_>) -> Result<Self, ProtoError> {
            $(
                let $field = Field::get(&mut r)?;
                $(r.skip($pad)?;)?
            )+
            Ok(Self { $($field),+ })
        }
    };
    (message $size:literal; $($fields:tt)+) => {
        /// Encoded size.
        pub const SIZE: usize = $size;

        /// Encodes the message.
        pub fn encode(&self) -> [u8; Self::SIZE] {
            self.wire_encode()
        }

        /// Decodes the message from the front of `bytes`.
        pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
            Self::wire_decode(reader_at(bytes, 0, Self::SIZE).map_err(|_| ProtoError::Short)?)
        }

        wire_layout!(@codec Self::SIZE; $($fields)+);
    };
    (record $size:expr; $($fields:tt)+) => {
        /// Reads the record at `off` in `buf` (the whole record must be in
        /// bounds).
        pub fn read_from(buf: &[u8], off: usize) -> Result<Self, ProtoError> {
            Self::wire_decode(reader_at(buf, off, $size)?)
        }

        /// Writes the record at `off` in `buf`; nothing is written on error.
        pub fn write_to(&self, buf: &mut [u8], off: usize) -> Result<(), ProtoError> {
            write_at(buf, off, self.wire_encode())
        }

        wire_layout!(@codec $size; $($fields)+);
    };
}

/// Returns a reader over the `len` bytes of `buf` at `off`.
fn reader_at(buf: &[u8], off: usize, len: usize) -> Result<Reader<'_>, ProtoError> {
    let end = off.checked_add(len).ok_or(ProtoError::Overflow)?;
    buf.get(off..end).map(Reader).ok_or(ProtoError::OutOfBounds)
}

/// Writes `bytes` into `buf` at `off`; nothing is written on error.
fn write_at<const N: usize>(buf: &mut [u8], off: usize, bytes: [u8; N]) -> Result<(), ProtoError> {
    let end = off.checked_add(N).ok_or(ProtoError::Overflow)?;
    buf.get_mut(off..end)
        .ok_or(ProtoError::OutOfBounds)?
        .copy_from_slice(&bytes);
    Ok(())
}

/// Reads a little-endian `u32` (e.g. the poll word or a CRC) at `off`.
pub fn read_u32(buf: &[u8], off: usize) -> Result<u32, ProtoError> {
    u32::get(&mut reader_at(buf, off, 4)?)
}

/// Reads a little-endian `u64` (e.g. an fd list entry) at `off`.
pub fn read_u64(buf: &[u8], off: usize) -> Result<u64, ProtoError> {
    u64::get(&mut reader_at(buf, off, 8)?)
}

/// Writes a little-endian `u32` at `off`.
pub fn write_u32(buf: &mut [u8], off: usize, value: u32) -> Result<(), ProtoError> {
    write_at(buf, off, value.to_le_bytes())
}

/// Writes a little-endian `u64` at `off`.
pub fn write_u64(buf: &mut [u8], off: usize, value: u64) -> Result<(), ProtoError> {
    write_at(buf, off, value.to_le_bytes())
}

/// A request sent to the DSP over RPMsg (`struct fastrpc_msg`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Request {
    /// Client id of the session; 0 for kernel-originated calls.
    pub client_id: i32,
    /// Id of the calling thread.
    pub tid: i32,
    /// PD-tagged context, see [`ctx_encode`].
    pub ctx: u64,
    /// Remote handle invoked.
    pub handle: u32,
    /// Scalars describing the arguments.
    pub sc: Scalars,
    /// DSP address of the payload, SID prefix included; 0 if there is none.
    pub addr: u64,
    /// Payload size rounded up to the page size, see [`page_align`].
    pub size: u64,
}

impl Request {
    /// Encodes the request into its 40-byte wire format.
    pub fn encode(&self) -> [u8; REQUEST_SIZE] {
        self.wire_encode()
    }

    /// Decodes a request from the front of `bytes`; trailing bytes are ignored.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        Self::wire_decode(reader_at(bytes, 0, REQUEST_SIZE).map_err(|_| ProtoError::Short)?)
    }

    wire_layout!(@codec REQUEST_SIZE; client_id, tid, ctx, handle, sc, addr, size);
}

/// A message received from the DSP (`struct fastrpc_invoke_rsp`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Response {
    /// Context of the request answered, or [`PD_EXIT_CTX`].
    pub ctx: u64,
    /// Return value of the remote call.
    pub retval: i32,
}

impl Response {
    /// Encodes the response into its 16-byte wire format (4 bytes of padding).
    pub fn encode(&self) -> [u8; RESPONSE_SIZE] {
        self.wire_encode()
    }

    /// Decodes a response. Like `fastrpc.c`, messages shorter than
    /// [`RESPONSE_SIZE`] are rejected and longer ones are accepted.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        Self::wire_decode(reader_at(bytes, 0, RESPONSE_SIZE).map_err(|_| ProtoError::Short)?)
    }

    wire_layout!(@codec RESPONSE_SIZE; ctx, retval pad 4);

    /// Returns whether this is a PD-exit notification rather than a response.
    pub fn is_pd_exit(&self) -> bool {
        self.ctx == PD_EXIT_CTX
    }
}

/// A buffer argument in the remote_arg array (`struct fastrpc_remote_buf`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteBuf {
    /// Address of the buffer as the DSP sees it.
    pub pv: u64,
    /// Length of the buffer.
    pub len: u64,
}

impl RemoteBuf {
    wire_layout!(record REMOTE_ARG_SIZE; pv, len);
}

/// A handle argument in the remote_arg array (`struct fastrpc_remote_dmahandle`).
///
/// It occupies a whole 16-byte slot; the last 4 bytes are written as zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteDmaHandle {
    /// File descriptor of the buffer.
    pub fd: i32,
    /// Offset into the buffer.
    pub offset: u32,
    /// Length of the buffer.
    pub len: u32,
}

impl RemoteDmaHandle {
    wire_layout!(record REMOTE_ARG_SIZE; fd, offset, len pad 4);
}

/// An entry of the invoke_buf array (`struct fastrpc_invoke_buf`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvokeBuf {
    /// Number of contiguous regions (0 for an empty argument, else 1).
    pub num: u32,
    /// Index of the first region in the phy_page array.
    pub pgidx: u32,
}

impl InvokeBuf {
    wire_layout!(record INVOKE_BUF_SIZE; num, pgidx);
}

/// An entry of the phy_page array (`struct fastrpc_phy_page`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhyPage {
    /// Page-aligned DSP address of the region, SID prefix included.
    pub addr: u64,
    /// Size of the region.
    pub size: u64,
}

impl PhyPage {
    wire_layout!(record PHY_PAGE_SIZE; addr, size);
}

/// Byte offsets of the metadata at the start of a payload with `n` scalars.
///
/// remote_arg\[n\] at 0, invoke_buf\[n\] at 16n, phy_page\[n\] at 24n, fd list at
/// 40n, CRC list at 40n + 128, poll word at 40n + 384, and metadata length
/// 40n + 388 (`fastrpc_get_meta_size`). Inline buffers follow at
/// `ALIGN(metalen, 128)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadLayout {
    nscalars: usize,
    invoke_bufs: usize,
    phy_pages: usize,
    fdlist: usize,
    crclist: usize,
    poll: usize,
    metalen: usize,
    inline_start: usize,
}

impl PayloadLayout {
    /// Computes the layout for `nscalars` arguments; `None` on overflow.
    pub fn new(nscalars: usize) -> Option<Self> {
        let invoke_bufs = nscalars.checked_mul(REMOTE_ARG_SIZE)?;
        let phy_pages = invoke_bufs.checked_add(nscalars.checked_mul(INVOKE_BUF_SIZE)?)?;
        let fdlist = phy_pages.checked_add(nscalars.checked_mul(PHY_PAGE_SIZE)?)?;
        let crclist = fdlist.checked_add(FDLIST_LEN * 8)?;
        let poll = crclist.checked_add(CRCLIST_LEN * 4)?;
        let metalen = poll.checked_add(POLL_WORD_SIZE)?;
        Some(Self {
            nscalars,
            invoke_bufs,
            phy_pages,
            fdlist,
            crclist,
            poll,
            metalen,
            inline_start: align_up(metalen, PAYLOAD_ALIGN)?,
        })
    }

    /// Returns the number of scalars the layout was computed for.
    pub fn nscalars(&self) -> usize {
        self.nscalars
    }

    /// Returns the offset of the invoke_buf array.
    pub fn invoke_bufs(&self) -> usize {
        self.invoke_bufs
    }

    /// Returns the offset of the phy_page array.
    pub fn phy_pages(&self) -> usize {
        self.phy_pages
    }

    /// Returns the offset of the fd list (`u64[FDLIST_LEN]`).
    pub fn fdlist(&self) -> usize {
        self.fdlist
    }

    /// Returns the offset of the CRC list (`u32[CRCLIST_LEN]`).
    pub fn crclist(&self) -> usize {
        self.crclist
    }

    /// Returns the offset of the poll word.
    pub fn poll(&self) -> usize {
        self.poll
    }

    /// Returns the metadata length, `40 * nscalars + 388`.
    pub fn metalen(&self) -> usize {
        self.metalen
    }

    /// Returns the offset of the inline area, `ALIGN(metalen, 128)`.
    pub fn inline_start(&self) -> usize {
        self.inline_start
    }

    /// Returns the offset of remote_arg `i`, or `None` if `i >= nscalars`.
    pub fn remote_arg(&self, i: usize) -> Option<usize> {
        Self::entry(0, i, self.nscalars, REMOTE_ARG_SIZE)
    }

    /// Returns the offset of invoke_buf `i`, or `None` if `i >= nscalars`.
    pub fn invoke_buf(&self, i: usize) -> Option<usize> {
        Self::entry(self.invoke_bufs, i, self.nscalars, INVOKE_BUF_SIZE)
    }

    /// Returns the offset of phy_page `i`, or `None` if `i >= nscalars`.
    pub fn phy_page(&self, i: usize) -> Option<usize> {
        Self::entry(self.phy_pages, i, self.nscalars, PHY_PAGE_SIZE)
    }

    /// Returns the offset of fd list entry `i`, or `None` if `i >= FDLIST_LEN`.
    pub fn fdlist_entry(&self, i: usize) -> Option<usize> {
        Self::entry(self.fdlist, i, FDLIST_LEN, 8)
    }

    /// Returns the offset of CRC list entry `i`, or `None` if `i >= CRCLIST_LEN`.
    pub fn crclist_entry(&self, i: usize) -> Option<usize> {
        Self::entry(self.crclist, i, CRCLIST_LEN, 4)
    }

    fn entry(base: usize, i: usize, count: usize, size: usize) -> Option<usize> {
        if i >= count {
            return None;
        }
        base.checked_add(i.checked_mul(size)?)
    }

    /// Lays out inline buffers of the given lengths after the metadata.
    ///
    /// Each buffer starts at a 128-byte boundary, as in
    /// `fastrpc_get_payload_size` (zero-length buffers included, for which the
    /// C driver sends `pv = 0`). Writes the offset of `lens[i]` into
    /// `offsets[i]` and returns the total payload size, which the request's
    /// `size` rounds up with [`page_align`]. Returns `None` if `offsets` is
    /// shorter than `lens` or on overflow; `offsets` is then unspecified.
    pub fn inline_offsets(&self, lens: &[usize], offsets: &mut [usize]) -> Option<usize> {
        let offsets = offsets.get_mut(..lens.len())?;
        let mut cursor = self.inline_start;
        for (len, off) in lens.iter().zip(offsets.iter_mut()) {
            cursor = align_up(cursor, PAYLOAD_ALIGN)?;
            *off = cursor;
            cursor = cursor.checked_add(*len)?;
        }
        Some(cursor)
    }
}

/// A little-endian field writer over a fixed-size message.
struct Writer<const N: usize> {
    buf: [u8; N],
    at: usize,
}

impl<const N: usize> Writer<N> {
    fn new() -> Self {
        Self { buf: [0; N], at: 0 }
    }

    fn put<const M: usize>(mut self, bytes: [u8; M]) -> Self {
        // The message layouts below are fixed and covered by the tests: a
        // field that does not fit would be a bug in this file, and is then
        // left out rather than panicking.
        if let Some(dst) = self
            .at
            .checked_add(M)
            .and_then(|end| self.buf.get_mut(self.at..end))
        {
            dst.copy_from_slice(&bytes);
        }
        self.at = self.at.saturating_add(M);
        self
    }

    /// Padding the C compiler inserts (always zero on the wire).
    fn pad(self, n: usize) -> Self {
        let at = self.at.saturating_add(n);
        Self { at, ..self }
    }

    fn done(self) -> [u8; N] {
        self.buf
    }
}

/// The methods of the init handle ([`INIT_HANDLE`]) the kernel calls by
/// itself, and the capability query; each knows the scalars of its call,
/// as `fastrpc.c` builds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelMethod {
    /// Attach to the root or sensors PD: in the client id.
    Attach,
    /// Release the caller's process: in the client id.
    Release,
    /// Create a user PD: in [`CreateMsg`], the name, the shell file and
    /// one [`PhyPage`] of init memory.
    Create,
    /// [`KernelMethod::Create`] with process attributes.
    CreateAttr,
    /// Create a static PD: in [`CreateStaticMsg`], the name and one
    /// [`PhyPage`] (the remote heap, or empty).
    CreateStatic,
    /// Legacy map: in [`MmapMsg`] and one [`PhyPage`]; out [`MmapRsp`].
    Mmap,
    /// Legacy unmap: in [`MunmapMsg`].
    Munmap,
    /// Map with attributes: in [`MemMapMsg`], one [`PhyPage`] and an empty
    /// buffer; out [`MmapRsp`].
    MemMap,
    /// Unmap of [`KernelMethod::MemMap`]: in [`MemUnmapMsg`].
    MemUnmap,
    /// DSP capability query on [`CAPABILITY_HANDLE`] method 0: in the
    /// number of attributes wanted (a `u32`), out that many `u32`s.
    Capabilities,
}

impl KernelMethod {
    /// The handle the method is called on.
    pub const fn handle(self) -> u32 {
        match self {
            Self::Capabilities => CAPABILITY_HANDLE,
            _ => INIT_HANDLE,
        }
    }

    /// The scalars word of the call.
    pub const fn scalars(self) -> Scalars {
        let (method, inb, outb) = match self {
            Self::Attach => (RMID_INIT_ATTACH, 1, 0),
            Self::Release => (RMID_INIT_RELEASE, 1, 0),
            Self::Create => (RMID_INIT_CREATE, 4, 0),
            Self::CreateAttr => (RMID_INIT_CREATE_ATTR, 4, 0),
            Self::CreateStatic => (RMID_INIT_CREATE_STATIC, 3, 0),
            Self::Mmap => (RMID_INIT_MMAP, 2, 1),
            Self::Munmap => (RMID_INIT_MUNMAP, 1, 0),
            Self::MemMap => (RMID_INIT_MEM_MAP, 3, 1),
            Self::MemUnmap => (RMID_INIT_MEM_UNMAP, 1, 0),
            Self::Capabilities => (0, 1, 1),
        };
        // Every method above is below 32: `new` cannot fail.
        match Scalars::new(method, inb, outb) {
            Some(sc) => sc,
            None => Scalars(0),
        }
    }
}

/// The client id argument of [`KernelMethod::Attach`] and
/// [`KernelMethod::Release`] (an `int`).
pub fn client_id_msg(client_id: i32) -> [u8; 4] {
    client_id.to_le_bytes()
}

/// The first argument of a create (`struct fastrpc_create_process_inbuf`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreateMsg {
    /// Client id of the session.
    pub client_id: i32,
    /// Length of the process name, its NUL included.
    pub namelen: u32,
    /// Length of the shell file.
    pub filelen: u32,
    /// Number of [`PhyPage`]s of init memory (1).
    pub pageslen: u32,
    /// Process attributes (0 with [`KernelMethod::Create`]).
    pub attrs: u32,
    /// Length of the signature at the end of the shell file.
    pub siglen: u32,
}

impl CreateMsg {
    wire_layout!(message 24; client_id, namelen, filelen, pageslen, attrs, siglen);
}

/// The first argument of a static create (`fastrpc_init_create_static`'s
/// `inbuf`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreateStaticMsg {
    /// Client id of the session.
    pub client_id: i32,
    /// Length of the PD name, its NUL included.
    pub namelen: u32,
    /// Number of [`PhyPage`]s of remote heap that follow (0 or 1).
    pub pageslen: u32,
}

impl CreateStaticMsg {
    wire_layout!(message 12; client_id, namelen, pageslen);
}

/// The first argument of a legacy map (`struct fastrpc_mmap_req_msg`, 4
/// bytes of tail padding).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MmapMsg {
    /// Client id of the session.
    pub client_id: i32,
    /// Map flags.
    pub flags: u32,
    /// User address of the buffer.
    pub vaddr: u64,
    /// Number of [`PhyPage`]s that follow, as bytes (`fastrpc.c` sends
    /// `sizeof(struct fastrpc_phy_page)`).
    pub num: i32,
}

impl MmapMsg {
    wire_layout!(message 24; client_id, flags, vaddr, num pad 4);
}

/// The output of a map (`struct fastrpc_mmap_rsp_msg`): the DSP address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MmapRsp {
    /// The buffer's address in the DSP process.
    pub vaddr: u64,
}

impl MmapRsp {
    wire_layout!(message 8; vaddr);
}

/// The argument of a legacy unmap (`struct fastrpc_munmap_req_msg`, 4
/// bytes of padding after the client id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MunmapMsg {
    /// Client id of the session.
    pub client_id: i32,
    /// DSP address the map returned.
    pub vaddr: u64,
    /// Mapped size.
    pub size: u64,
}

impl MunmapMsg {
    wire_layout!(message 24; client_id pad 4, vaddr, size);
}

/// The first argument of a map with attributes
/// (`struct fastrpc_mem_map_req_msg`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemMapMsg {
    /// Client id of the session.
    pub client_id: i32,
    /// The buffer's fd (QDA sends its GEM handle).
    pub fd: i32,
    /// Offset of the mapping in the buffer.
    pub offset: i32,
    /// Map flags.
    pub flags: u32,
    /// User address of the buffer.
    pub vaddrin: u64,
    /// Number of [`PhyPage`]s that follow, as bytes (as for [`MmapMsg`]).
    pub num: i32,
    /// Length of the extra data buffer (0).
    pub data_len: i32,
}

impl MemMapMsg {
    wire_layout!(message 32; client_id, fd, offset, flags, vaddrin, num, data_len);
}

/// The argument of an unmap with attributes
/// (`struct fastrpc_mem_unmap_req_msg`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemUnmapMsg {
    /// Client id of the session.
    pub client_id: i32,
    /// The buffer's fd, as mapped.
    pub fd: i32,
    /// DSP address the map returned.
    pub vaddrin: u64,
    /// Mapped length.
    pub len: u64,
}

impl MemUnmapMsg {
    wire_layout!(message 24; client_id, fd, vaddrin, len);
}

/// The request of a capability query for `count` attributes.
pub fn capabilities_msg(count: u32) -> [u8; 4] {
    count.to_le_bytes()
}

/// Decodes the answer of a capability query: writes the attributes into
/// `out` in order and returns how many were read (whole `u32`s of
/// `bytes`, at most `out.len()`).
pub fn capabilities_decode(bytes: &[u8], out: &mut [u32]) -> usize {
    let mut n = 0;
    for dst in out.iter_mut() {
        let Ok(w) = read_u32(bytes, n * 4) else {
            break;
        };
        *dst = w;
        n += 1;
    }
    n
}
