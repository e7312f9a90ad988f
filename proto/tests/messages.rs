//! Request and response wire formats (`struct fastrpc_msg`, `struct fastrpc_invoke_rsp`).

use qda_proto::*;

/// The attach request the C driver sent to a mock DSP (toolchain notes).
fn attach_request() -> Request {
    Request {
        client_id: 0,
        tid: 0x1234,
        ctx: 0x1_0100,
        handle: INIT_HANDLE,
        sc: Scalars::from_raw(0x0001_0000),
        addr: 0x1_008c_5000,
        size: 4096,
    }
}

#[rustfmt::skip]
const ATTACH_BYTES: [u8; 40] = [
    0x00, 0x00, 0x00, 0x00,                         // client_id 0
    0x34, 0x12, 0x00, 0x00,                         // tid 0x1234
    0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // ctx 0x10100
    0x01, 0x00, 0x00, 0x00,                         // handle 1
    0x00, 0x00, 0x01, 0x00,                         // sc 0x00010000
    0x00, 0x50, 0x8c, 0x00, 0x01, 0x00, 0x00, 0x00, // addr 0x1_008c5000
    0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // size 4096
];

#[test]
fn sizes() {
    assert_eq!(REQUEST_SIZE, 40);
    assert_eq!(RESPONSE_SIZE, 16);
    assert_eq!(PD_EXIT_CTX, 0xABCD_ABCD);
}

#[test]
fn request_encode_bytes() {
    assert_eq!(attach_request().encode(), ATTACH_BYTES);
}

#[test]
fn request_encode_all_fields_distinct() {
    let req = Request {
        client_id: -2,
        tid: 0x0708_090a,
        ctx: 0x1112_1314_1516_1718,
        handle: 0x2122_2324,
        sc: Scalars::from_raw(0x3132_3334),
        addr: 0x4142_4344_4546_4748,
        size: 0x5152_5354_5556_5758,
    };
    #[rustfmt::skip]
    let expect: [u8; 40] = [
        0xfe, 0xff, 0xff, 0xff,
        0x0a, 0x09, 0x08, 0x07,
        0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
        0x24, 0x23, 0x22, 0x21,
        0x34, 0x33, 0x32, 0x31,
        0x48, 0x47, 0x46, 0x45, 0x44, 0x43, 0x42, 0x41,
        0x58, 0x57, 0x56, 0x55, 0x54, 0x53, 0x52, 0x51,
    ];
    assert_eq!(req.encode(), expect);
    assert_eq!(Request::decode(&expect), Ok(req));
}

#[test]
fn request_decode() {
    assert_eq!(Request::decode(&ATTACH_BYTES), Ok(attach_request()));
    let mut long = [0u8; 48];
    long[..40].copy_from_slice(&ATTACH_BYTES);
    long[40..].fill(0xff);
    assert_eq!(Request::decode(&long), Ok(attach_request()));
    assert_eq!(Request::decode(&ATTACH_BYTES[..39]), Err(ProtoError::Short));
    assert_eq!(Request::decode(&[]), Err(ProtoError::Short));
}

#[test]
fn response_decode() {
    #[rustfmt::skip]
    let bytes = [
        0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // ctx 0x10100
        0xea, 0xff, 0xff, 0xff,                         // retval -22
        0x00, 0x00, 0x00, 0x00,                         // padding
    ];
    let rsp = Response {
        ctx: 0x1_0100,
        retval: -22,
    };
    assert_eq!(Response::decode(&bytes), Ok(rsp));
    assert!(!rsp.is_pd_exit());
    assert_eq!(rsp.encode(), bytes);

    // Padding is not interpreted; longer messages are accepted like in C.
    let mut long = [0xaau8; 20];
    long[..12].copy_from_slice(&bytes[..12]);
    assert_eq!(Response::decode(&long), Ok(rsp));

    // fastrpc.c drops len < sizeof(struct fastrpc_invoke_rsp) == 16, so even
    // a message holding both fields but no padding is too short.
    assert_eq!(Response::decode(&bytes[..12]), Err(ProtoError::Short));
    assert_eq!(Response::decode(&bytes[..15]), Err(ProtoError::Short));
    assert_eq!(Response::decode(&[]), Err(ProtoError::Short));
}

#[test]
fn response_retval_is_raw() {
    // DSP error codes such as 0x8000040D come back unchanged.
    let bytes = Response {
        ctx: 7,
        retval: 0x8000_040du32 as i32,
    }
    .encode();
    assert_eq!(&bytes[8..12], &[0x0d, 0x04, 0x00, 0x80]);
    assert_eq!(
        Response::decode(&bytes).map(|r| r.retval as u32),
        Ok(0x8000_040d)
    );
}

#[test]
fn pd_exit() {
    #[rustfmt::skip]
    let bytes = [
        0xcd, 0xab, 0xcd, 0xab, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
    ];
    assert_eq!(Response::decode(&bytes).map(|r| r.is_pd_exit()), Ok(true));
    // fastrpc.c compares the whole u64.
    let other = Response {
        ctx: 0x1_ABCD_ABCD,
        retval: 0,
    };
    assert!(!other.is_pd_exit());
}
