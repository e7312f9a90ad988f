//! The init-handle messages the kernel sends by itself, checked byte by
//! byte against the C structures of `drivers/misc/fastrpc.c` (Linux 7.3):
//! field order, sizes and the padding the C compiler inserts.

use qda_proto::*;

/// Checks that message `$m` of type `$ty` encodes to `$expect`, decodes back
/// from it, and that one byte less is too short to decode.
macro_rules! check_layout {
    ($ty:ident, $m:expr, $expect:expr) => {{
        let (m, expect): ($ty, [u8; $ty::SIZE]) = ($m, $expect);
        assert_eq!(m.encode(), expect);
        assert_eq!($ty::decode(&expect), Ok(m));
        assert_eq!(
            $ty::decode(&expect[..$ty::SIZE - 1]),
            Err(ProtoError::Short)
        );
    }};
}

#[test]
fn scalars_match_fastrpc_c() {
    // FASTRPC_SCALARS(method, in, out) as fastrpc.c builds each call.
    let cases = [
        (KernelMethod::Attach, 0x0001_0000u32),
        (KernelMethod::Release, 0x0101_0000),
        (KernelMethod::Create, 0x0604_0000),
        (KernelMethod::CreateAttr, 0x0704_0000),
        (KernelMethod::CreateStatic, 0x0803_0000),
        (KernelMethod::Mmap, 0x0402_0100),
        (KernelMethod::Munmap, 0x0501_0000),
        (KernelMethod::MemMap, 0x0a03_0100),
        (KernelMethod::MemUnmap, 0x0b01_0000),
        (KernelMethod::Capabilities, 0x0001_0100),
    ];
    for (m, raw) in cases {
        assert_eq!(m.scalars().raw(), raw, "{m:?}");
        let h = if m == KernelMethod::Capabilities {
            CAPABILITY_HANDLE
        } else {
            INIT_HANDLE
        };
        assert_eq!(m.handle(), h, "{m:?}");
    }
}

#[test]
fn create_msg_layout() {
    let m = CreateMsg {
        client_id: -3,
        namelen: 0x11,
        filelen: 0x2233,
        pageslen: 1,
        attrs: 0x44,
        siglen: 0x55,
    };
    #[rustfmt::skip]
    let expect: [u8; 24] = [
        0xfd, 0xff, 0xff, 0xff, // int client_id
        0x11, 0, 0, 0,          // u32 namelen
        0x33, 0x22, 0, 0,       // u32 filelen
        1, 0, 0, 0,             // u32 pageslen
        0x44, 0, 0, 0,          // u32 attrs
        0x55, 0, 0, 0,          // u32 siglen
    ];
    check_layout!(CreateMsg, m, expect);
}

#[test]
fn create_static_msg_layout() {
    let m = CreateStaticMsg {
        client_id: 7,
        namelen: 12,
        pageslen: 1,
    };
    check_layout!(CreateStaticMsg, m, [7, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0]);
}

#[test]
fn mmap_msg_layout() {
    let m = MmapMsg {
        client_id: 2,
        flags: 0x0304_0506,
        vaddr: 0x1122_3344_5566_7788,
        num: 16,
    };
    #[rustfmt::skip]
    let expect: [u8; 24] = [
        2, 0, 0, 0,                                     // s32 client_id
        0x06, 0x05, 0x04, 0x03,                         // u32 flags
        0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // u64 vaddr
        16, 0, 0, 0,                                    // s32 num
        0, 0, 0, 0,                                     // tail padding
    ];
    check_layout!(MmapMsg, m, expect);
}

#[test]
fn mmap_rsp_layout() {
    let r = MmapRsp {
        vaddr: 0x0102_0304_0506_0708,
    };
    check_layout!(MmapRsp, r, [8, 7, 6, 5, 4, 3, 2, 1]);
}

#[test]
fn munmap_msg_layout() {
    let m = MunmapMsg {
        client_id: 5,
        vaddr: 0xa000,
        size: 0x3000,
    };
    #[rustfmt::skip]
    let expect: [u8; 24] = [
        5, 0, 0, 0,                         // s32 client_id
        0, 0, 0, 0,                         // padding before the u64
        0x00, 0xa0, 0, 0, 0, 0, 0, 0,       // u64 vaddr
        0x00, 0x30, 0, 0, 0, 0, 0, 0,       // u64 size
    ];
    check_layout!(MunmapMsg, m, expect);
}

#[test]
fn mem_map_msg_layout() {
    let m = MemMapMsg {
        client_id: 9,
        fd: 4,
        offset: 0x1000,
        flags: 2,
        vaddrin: 0x7f00_0000_1000,
        num: 16,
        data_len: 0,
    };
    #[rustfmt::skip]
    let expect: [u8; 32] = [
        9, 0, 0, 0,                               // s32 client_id
        4, 0, 0, 0,                               // s32 fd
        0x00, 0x10, 0, 0,                         // s32 offset
        2, 0, 0, 0,                               // u32 flags
        0x00, 0x10, 0, 0, 0x00, 0x7f, 0, 0,       // u64 vaddrin
        16, 0, 0, 0,                              // s32 num
        0, 0, 0, 0,                               // s32 data_len
    ];
    check_layout!(MemMapMsg, m, expect);
}

#[test]
fn mem_unmap_msg_layout() {
    let m = MemUnmapMsg {
        client_id: 9,
        fd: 4,
        vaddrin: 0xb000_0000,
        len: 0x2000,
    };
    #[rustfmt::skip]
    let expect: [u8; 24] = [
        9, 0, 0, 0,                         // s32 client_id
        4, 0, 0, 0,                         // s32 fd
        0, 0, 0, 0xb0, 0, 0, 0, 0,          // u64 vaddrin
        0, 0x20, 0, 0, 0, 0, 0, 0,          // u64 len
    ];
    check_layout!(MemUnmapMsg, m, expect);
}

#[test]
fn client_id_and_capabilities() {
    assert_eq!(client_id_msg(-1), [0xff; 4]);
    assert_eq!(capabilities_msg(255), [255, 0, 0, 0]);
    let mut out = [0u32; 3];
    // Two whole words and a stray byte: two attributes read.
    assert_eq!(
        capabilities_decode(&[1, 0, 0, 0, 2, 0, 0, 0, 9], &mut out),
        2
    );
    assert_eq!(out, [1, 2, 0]);
    // More words than room: only the room is filled.
    let mut one = [0u32; 1];
    assert_eq!(capabilities_decode(&[5, 0, 0, 0, 6, 0, 0, 0], &mut one), 1);
    assert_eq!(one, [5]);
}

#[test]
fn decoders_never_panic_on_short_input() {
    for n in 0..40 {
        let b = vec![0xa5u8; n];
        let _ = CreateMsg::decode(&b);
        let _ = CreateStaticMsg::decode(&b);
        let _ = MmapMsg::decode(&b);
        let _ = MmapRsp::decode(&b);
        let _ = MunmapMsg::decode(&b);
        let _ = MemMapMsg::decode(&b);
        let _ = MemUnmapMsg::decode(&b);
    }
}
