//! Scalars encoding, checked against `FASTRPC_BUILD_SCALARS` in fastrpc.c.

use qda_proto::*;

/// `FASTRPC_SCALARS(method, in, out)` as fastrpc.c uses it, worked out by hand:
/// `method << 24 | in << 16 | out << 8`.
#[test]
fn init_methods_match_fastrpc_c() {
    let cases = [
        // fastrpc_init_attach: FASTRPC_SCALARS(FASTRPC_RMID_INIT_ATTACH, 1, 0)
        (RMID_INIT_ATTACH, 1, 0, 0x0001_0000),
        // fastrpc_release_current_dsp_process
        (RMID_INIT_RELEASE, 1, 0, 0x0101_0000),
        (RMID_INIT_MMAP, 2, 1, 0x0402_0100),
        (RMID_INIT_MUNMAP, 1, 0, 0x0501_0000),
        (RMID_INIT_CREATE, 4, 0, 0x0604_0000),
        (RMID_INIT_CREATE_ATTR, 4, 0, 0x0704_0000),
        (RMID_INIT_CREATE_STATIC, 3, 0, 0x0803_0000),
        (RMID_INIT_MEM_MAP, 3, 1, 0x0a03_0100),
        (RMID_INIT_MEM_UNMAP, 1, 0, 0x0b01_0000),
        // fastrpc_get_info_from_dsp: FASTRPC_SCALARS(0, 1, 1) on handle 2
        (0, 1, 1, 0x0001_0100),
    ];
    for (method, inb, outb, raw) in cases {
        let sc = Scalars::new(method, inb, outb);
        assert_eq!(sc.map(Scalars::raw), Some(raw), "method {method}");
    }
}

#[test]
fn method_ids() {
    assert_eq!(
        [
            RMID_INIT_ATTACH,
            RMID_INIT_RELEASE,
            RMID_INIT_MMAP,
            RMID_INIT_MUNMAP,
            RMID_INIT_CREATE,
            RMID_INIT_CREATE_ATTR,
            RMID_INIT_CREATE_STATIC,
            RMID_INIT_MEM_MAP,
            RMID_INIT_MEM_UNMAP,
        ],
        [0, 1, 4, 5, 6, 7, 8, 10, 11]
    );
    assert_eq!((INIT_HANDLE, CAPABILITY_HANDLE), (1, 2));
}

#[test]
fn bit_positions() {
    assert_eq!(
        Scalars::build(1, 0, 0, 0, 0, 0).map(Scalars::raw),
        Some(0x2000_0000)
    );
    assert_eq!(
        Scalars::build(0, 1, 0, 0, 0, 0).map(Scalars::raw),
        Some(0x0100_0000)
    );
    assert_eq!(
        Scalars::build(0, 0, 1, 0, 0, 0).map(Scalars::raw),
        Some(0x0001_0000)
    );
    assert_eq!(
        Scalars::build(0, 0, 0, 1, 0, 0).map(Scalars::raw),
        Some(0x0000_0100)
    );
    assert_eq!(
        Scalars::build(0, 0, 0, 0, 1, 0).map(Scalars::raw),
        Some(0x0000_0010)
    );
    assert_eq!(
        Scalars::build(0, 0, 0, 0, 0, 1).map(Scalars::raw),
        Some(0x0000_0001)
    );
    // (1 << 29) | (2 << 24) | (3 << 16) | (4 << 8) | (5 << 4) | 6
    assert_eq!(
        Scalars::build(1, 2, 3, 4, 5, 6).map(Scalars::raw),
        Some(0x2203_0456)
    );
    assert_eq!(
        Scalars::build(7, 31, 255, 255, 15, 15).map(Scalars::raw),
        Some(0xffff_ffff)
    );
}

#[test]
fn out_of_range_fields_rejected() {
    assert_eq!(Scalars::build(8, 0, 0, 0, 0, 0), None);
    assert_eq!(Scalars::build(0, 32, 0, 0, 0, 0), None);
    assert_eq!(Scalars::build(0, 0, 0, 0, 16, 0), None);
    assert_eq!(Scalars::build(0, 0, 0, 0, 0, 16), None);
    assert_eq!(Scalars::new(32, 1, 0), None);
    assert_eq!(Scalars::new(255, 1, 0), None);
}

#[test]
fn accessors() {
    let sc = Scalars::from_raw(0x2203_0456);
    assert_eq!(sc.raw(), 0x2203_0456);
    assert_eq!(sc.attr(), 1);
    assert_eq!(sc.method(), 2);
    assert_eq!(sc.in_bufs(), 3);
    assert_eq!(sc.out_bufs(), 4);
    assert_eq!(sc.in_handles(), 5);
    assert_eq!(sc.out_handles(), 6);
    assert_eq!(sc.nbufs(), 7);
    assert_eq!(sc.nhandles(), 11);
    assert_eq!(sc.nscalars(), 18);

    let max = Scalars::from_raw(u32::MAX);
    assert_eq!(
        (max.attr(), max.method(), max.in_bufs(), max.out_bufs()),
        (7, 31, 255, 255)
    );
    assert_eq!((max.in_handles(), max.out_handles()), (15, 15));
    assert_eq!(max.nscalars(), 540);
}

/// Scalars the userspace library sends (design.md), decoded.
#[test]
fn library_scalars() {
    // next2: handle 7 method 6, 2 in, 2 out.
    let sc = Scalars::from_raw(0x0602_0200);
    assert_eq!((sc.method(), sc.in_bufs(), sc.out_bufs()), (6, 2, 2));
    // calculator sum: method 2, 2 in, 1 out.
    assert_eq!(Scalars::new(2, 2, 1).map(Scalars::raw), Some(0x0202_0100));
}

#[test]
fn round_trip_all_fields() {
    for attr in 0..8 {
        for method in [0, 1, 17, 31] {
            for (inb, outb) in [(0, 0), (1, 255), (255, 1), (128, 7)] {
                for (ih, oh) in [(0, 0), (15, 0), (0, 15), (9, 6)] {
                    let sc = Scalars::build(attr, method, inb, outb, ih, oh);
                    let sc = sc.map(|s| Scalars::from_raw(s.raw()));
                    let fields = sc.map(|s| {
                        (
                            s.attr(),
                            s.method(),
                            s.in_bufs(),
                            s.out_bufs(),
                            s.in_handles(),
                            s.out_handles(),
                        )
                    });
                    assert_eq!(fields, Some((attr, method, inb, outb, ih, oh)));
                }
            }
        }
    }
}
