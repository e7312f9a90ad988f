//! Context layout, checked against `FASTRPC_CTXID_MASK`/`FASTRPC_CTXID_SEQ_MASK`.

use qda_proto::*;

#[test]
fn masks_match_fastrpc_c() {
    // GENMASK(15, 8)
    assert_eq!(CTX_ID_MASK, 0x0000_0000_0000_ff00);
    assert_eq!(CTX_ID_SHIFT, 8);
    // GENMASK_ULL(63, 16), FASTRPC_CTXID_SEQ_SHIFT
    assert_eq!(CTX_SEQ_MASK, 0xffff_ffff_ffff_0000);
    assert_eq!(CTX_SEQ_SHIFT, 16);
    assert_eq!(CTX_PD_MASK, 0xf);
    assert_eq!(CTX_ID_MASK & CTX_SEQ_MASK, 0);
    assert_eq!(CTX_PD_MASK & (CTX_ID_MASK | CTX_SEQ_MASK), 0);
    assert_eq!((ROOT_PD, USER_PD, SENSORS_PD), (0, 1, 2));
}

#[test]
fn encode() {
    // First call on a channel: idr slot 1, ctx_seq 1, root PD. The C driver
    // sent exactly this to the mock DSP (toolchain notes).
    assert_eq!(ctx_encode(1, ROOT_PD, 1), Some(0x1_0100));
    assert_eq!(ctx_encode(0xff, USER_PD, 5), Some(0x5_ff01));
    assert_eq!(ctx_encode(0x12, SENSORS_PD, 0x3456), Some(0x3456_1202));
    assert_eq!(
        ctx_encode(0xff, 0xf, 0xffff_ffff_ffff),
        Some(0xffff_ffff_ffff_ff0f)
    );
    assert_eq!(ctx_encode(1, 0x10, 1), None);
    assert_eq!(ctx_encode(1, 0, 1 << 48), None);
}

#[test]
fn decode() {
    assert_eq!(ctx_decode(0x1_0100), (1, ROOT_PD));
    assert_eq!(ctx_seq(0x1_0100), 1);
    assert_eq!(ctx_decode(0x5_ff01), (0xff, USER_PD));
    assert_eq!(ctx_seq(0x5_ff01), 5);
    // Bits 7:4 are not part of the PD.
    assert_eq!(ctx_decode(0xf2), (0, 2));
    // The PD-exit sentinel decodes to meaningless fields; it must be checked
    // before decoding.
    assert_eq!(ctx_decode(PD_EXIT_CTX), (0xab, 0xd));
    assert_eq!(ctx_seq(PD_EXIT_CTX), 0xabcd);
}

#[test]
fn round_trip() {
    for id in [0u8, 1, 0x80, 0xff] {
        for pd in 0..16u8 {
            for seq in [0u64, 1, 0xffff, 0x1_0000, 0xffff_ffff_ffff] {
                let ctx = ctx_encode(id, pd, seq);
                assert_eq!(ctx.map(ctx_decode), Some((id, pd)));
                assert_eq!(ctx.map(ctx_seq), Some(seq));
            }
        }
    }
}
