//! Payload layout, checked against `fastrpc_get_meta_size`,
//! `fastrpc_get_payload_size` and `fastrpc_get_args` in fastrpc.c.

use qda_proto::*;

fn layout(n: usize) -> PayloadLayout {
    PayloadLayout::new(n).expect("layout")
}

#[test]
fn record_sizes() {
    assert_eq!(REMOTE_ARG_SIZE, 16);
    assert_eq!(INVOKE_BUF_SIZE, 8);
    assert_eq!(PHY_PAGE_SIZE, 16);
    assert_eq!(FDLIST_LEN, 16);
    assert_eq!(CRCLIST_LEN, 64);
    assert_eq!(POLL_WORD_SIZE, 4);
    assert_eq!(PAYLOAD_ALIGN, 128);
}

/// metalen = (16 + 8 + 16) * n + 8 * 16 + 4 * 64 + 4 = 40n + 388.
#[test]
fn metalen() {
    for (n, metalen, inline) in [(0, 388, 512), (1, 428, 512), (2, 468, 512), (5, 588, 640)] {
        let l = layout(n);
        assert_eq!(l.nscalars(), n);
        assert_eq!(l.metalen(), metalen, "n = {n}");
        assert_eq!(l.inline_start(), inline, "n = {n}");
    }
    assert_eq!(layout(540).metalen(), 21_988);
    assert_eq!(layout(540).inline_start(), 22_016);
}

#[test]
fn offsets() {
    let l = layout(2);
    assert_eq!(
        (
            l.invoke_bufs(),
            l.phy_pages(),
            l.fdlist(),
            l.crclist(),
            l.poll()
        ),
        (32, 48, 80, 208, 464)
    );
    let l = layout(5);
    assert_eq!(
        (
            l.invoke_bufs(),
            l.phy_pages(),
            l.fdlist(),
            l.crclist(),
            l.poll()
        ),
        (80, 120, 200, 328, 584)
    );
    assert_eq!(l.remote_arg(0), Some(0));
    assert_eq!(l.remote_arg(4), Some(64));
    assert_eq!(l.remote_arg(5), None);
    assert_eq!(l.invoke_buf(4), Some(112));
    assert_eq!(l.invoke_buf(5), None);
    assert_eq!(l.phy_page(4), Some(184));
    assert_eq!(l.phy_page(5), None);
    assert_eq!(l.fdlist_entry(15), Some(320));
    assert_eq!(l.fdlist_entry(16), None);
    assert_eq!(l.crclist_entry(63), Some(580));
    assert_eq!(l.crclist_entry(64), None);
    assert_eq!(l.remote_arg(usize::MAX), None);

    let l = layout(0);
    assert_eq!((l.fdlist(), l.poll(), l.metalen()), (0, 384, 388));
    assert_eq!(l.remote_arg(0), None);
}

#[test]
fn layout_overflow() {
    assert_eq!(PayloadLayout::new(usize::MAX), None);
    assert_eq!(PayloadLayout::new(usize::MAX / 16 + 1), None);
    // 40 * n fits but + 388 does not.
    assert_eq!(PayloadLayout::new(usize::MAX / 40), None);
}

/// The attach call: one 4-byte input buffer.
#[test]
fn attach_payload() {
    let l = layout(1);
    let mut offs = [0; 1];
    assert_eq!(l.inline_offsets(&[4], &mut offs), Some(516));
    assert_eq!(offs, [512]);
    assert_eq!(page_align(516), Some(4096));
}

/// Worked out with fastrpc_get_payload_size: size = ALIGN(548, 128) = 640;
/// +4 -> 644; ALIGN -> 768, +130 -> 898; ALIGN -> 1024, +0; ALIGN -> 1024, +1.
#[test]
fn inline_offsets() {
    let l = layout(4);
    assert_eq!(l.metalen(), 548);
    let mut offs = [0; 4];
    assert_eq!(l.inline_offsets(&[4, 130, 0, 1], &mut offs), Some(1025));
    assert_eq!(offs, [640, 768, 1024, 1024]);

    // Exactly aligned lengths leave no gaps.
    let mut offs = [0; 3];
    assert_eq!(l.inline_offsets(&[128, 256, 128], &mut offs), Some(1152));
    assert_eq!(offs, [640, 768, 1024]);

    // No buffers: the payload is the aligned metadata.
    assert_eq!(l.inline_offsets(&[], &mut []), Some(640));

    // A longer offsets slice is fine; the tail is untouched.
    let mut offs = [7; 3];
    assert_eq!(l.inline_offsets(&[1], &mut offs), Some(641));
    assert_eq!(offs, [640, 7, 7]);
}

#[test]
fn inline_offsets_errors() {
    let l = layout(2);
    let mut offs = [0; 2];
    assert_eq!(l.inline_offsets(&[1, 2, 3], &mut offs), None);
    assert_eq!(l.inline_offsets(&[usize::MAX], &mut offs), None);
    // 512 + 1 -> ALIGN 640, + (MAX - 600) overflows.
    assert_eq!(l.inline_offsets(&[1, usize::MAX - 600], &mut offs), None);
    // The cursor fits, but aligning it for the next buffer overflows.
    assert_eq!(l.inline_offsets(&[usize::MAX - 522, 1], &mut offs), None);
    assert_eq!(
        l.inline_offsets(&[usize::MAX - 522], &mut offs),
        Some(usize::MAX - 10)
    );
}

#[test]
fn align_helpers() {
    assert_eq!(PAGE_SIZE, 4096);
    assert_eq!(page_align(0), Some(0));
    assert_eq!(page_align(1), Some(4096));
    assert_eq!(page_align(4096), Some(4096));
    assert_eq!(page_align(4097), Some(8192));
    assert_eq!(page_align(usize::MAX), None);
    assert_eq!(page_align(usize::MAX - 4095), Some(usize::MAX - 4095));
    assert_eq!(align_up(388, 128), Some(512));
    assert_eq!(align_up(5, 1), Some(5));
    assert_eq!(align_up(5, 0), None);
    assert_eq!(align_up(5, 96), None);
}

#[test]
fn remote_buf() {
    let mut buf = [0xaau8; 20];
    let rec = RemoteBuf {
        pv: 0x1122_3344_5566_7788,
        len: 0x10,
    };
    assert_eq!(rec.write_to(&mut buf, 2), Ok(()));
    #[rustfmt::skip]
    let expect = [
        0xaa, 0xaa,
        0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xaa, 0xaa,
    ];
    assert_eq!(buf, expect);
    assert_eq!(RemoteBuf::read_from(&buf, 2), Ok(rec));
    assert_eq!(RemoteBuf::read_from(&buf, 5), Err(ProtoError::OutOfBounds));
}

#[test]
fn remote_dma_handle() {
    let mut buf = [0xaau8; 16];
    let rec = RemoteDmaHandle {
        fd: -1,
        offset: 0x100,
        len: 0x2000,
    };
    assert_eq!(rec.write_to(&mut buf, 0), Ok(()));
    #[rustfmt::skip]
    let expect = [
        0xff, 0xff, 0xff, 0xff,
        0x00, 0x01, 0x00, 0x00,
        0x00, 0x20, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
    ];
    assert_eq!(buf, expect);
    assert_eq!(RemoteDmaHandle::read_from(&buf, 0), Ok(rec));
    // The whole 16-byte slot must be in bounds.
    assert_eq!(
        RemoteDmaHandle::read_from(&buf[..12], 0),
        Err(ProtoError::OutOfBounds)
    );
}

#[test]
fn invoke_buf_and_phy_page() {
    let l = layout(2);
    let mut buf = [0u8; 512];
    let ib = InvokeBuf { num: 1, pgidx: 1 };
    let pp = PhyPage {
        addr: 0x1_8000_0000,
        size: 0x3000,
    };
    let ib_off = l.invoke_buf(1).expect("index");
    let pp_off = l.phy_page(1).expect("index");
    assert_eq!(ib.write_to(&mut buf, ib_off), Ok(()));
    assert_eq!(pp.write_to(&mut buf, pp_off), Ok(()));
    assert_eq!(&buf[40..48], &[1, 0, 0, 0, 1, 0, 0, 0]);
    #[rustfmt::skip]
    let pp_bytes = [
        0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    assert_eq!(&buf[64..80], &pp_bytes);
    assert_eq!(InvokeBuf::read_from(&buf, ib_off), Ok(ib));
    assert_eq!(PhyPage::read_from(&buf, pp_off), Ok(pp));
}

#[test]
fn record_bounds() {
    let mut buf = [0x55u8; 31];
    let rec = PhyPage { addr: 1, size: 2 };
    assert_eq!(rec.write_to(&mut buf, 16), Err(ProtoError::OutOfBounds));
    assert_eq!(rec.write_to(&mut buf, 40), Err(ProtoError::OutOfBounds));
    assert_eq!(
        rec.write_to(&mut buf, usize::MAX),
        Err(ProtoError::Overflow)
    );
    assert_eq!(
        InvokeBuf { num: 1, pgidx: 0 }.write_to(&mut buf, 24),
        Err(ProtoError::OutOfBounds)
    );
    // Nothing was written by the failed calls.
    assert_eq!(buf, [0x55; 31]);
    assert_eq!(
        PhyPage::read_from(&buf, usize::MAX),
        Err(ProtoError::Overflow)
    );
    assert_eq!(
        InvokeBuf::read_from(&buf, 23),
        Ok(InvokeBuf {
            num: 0x5555_5555,
            pgidx: 0x5555_5555
        })
    );
}

#[test]
fn words() {
    let l = layout(1);
    let mut buf = [0u8; 512];
    assert_eq!(write_u32(&mut buf, l.poll(), POLL_RESPONSE), Ok(()));
    assert_eq!(&buf[424..428], &[0xaf, 0xec, 0x0d, 0x00]);
    assert_eq!(read_u32(&buf, l.poll()), Ok(0xdecaf));
    let fd1 = l.fdlist_entry(1).expect("index");
    assert_eq!(write_u64(&mut buf, fd1, 42), Ok(()));
    assert_eq!(read_u64(&buf, 48), Ok(42));
    assert_eq!(read_u32(&buf, 509), Err(ProtoError::OutOfBounds));
    assert_eq!(read_u64(&buf, usize::MAX - 3), Err(ProtoError::Overflow));
    assert_eq!(write_u64(&mut buf, 505, 1), Err(ProtoError::OutOfBounds));
}
