//! Property-style tests: every decoder on pseudo-random input, no panics,
//! and encode/decode round trips where they are defined.

use qda_proto::*;

/// xorshift64, fixed seed so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }

    fn offset(&mut self) -> usize {
        match self.next() % 8 {
            0 => usize::MAX - self.below(32),
            1 => self.next() as usize,
            _ => self.below(80),
        }
    }
}

const ITERATIONS: usize = 20_000;

#[test]
fn decoders_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut data = [0u8; 96];
    for _ in 0..ITERATIONS {
        let len = rng.below(data.len() as u64 + 1);
        for b in data.iter_mut() {
            *b = rng.next() as u8;
        }
        let bytes = &data[..len];

        match Request::decode(bytes) {
            Ok(req) => assert_eq!(&req.encode()[..], &bytes[..REQUEST_SIZE]),
            Err(e) => {
                assert_eq!(e, ProtoError::Short);
                assert!(len < REQUEST_SIZE);
            }
        }
        match Response::decode(bytes) {
            Ok(rsp) => {
                assert_eq!(&rsp.encode()[..12], &bytes[..12]);
                let _ = rsp.is_pd_exit();
            }
            Err(e) => {
                assert_eq!(e, ProtoError::Short);
                assert!(len < RESPONSE_SIZE);
            }
        }

        let off = rng.offset();
        check_read(
            bytes,
            off,
            REMOTE_ARG_SIZE,
            RemoteBuf::read_from(bytes, off),
        );
        check_read(
            bytes,
            off,
            REMOTE_ARG_SIZE,
            RemoteDmaHandle::read_from(bytes, off),
        );
        check_read(
            bytes,
            off,
            INVOKE_BUF_SIZE,
            InvokeBuf::read_from(bytes, off),
        );
        check_read(bytes, off, PHY_PAGE_SIZE, PhyPage::read_from(bytes, off));
        check_read(bytes, off, 4, read_u32(bytes, off));
        check_read(bytes, off, 8, read_u64(bytes, off));

        // Writers: all-or-nothing.
        let mut copy = data;
        let target = &mut copy[..len];
        let rec = PhyPage {
            addr: rng.next(),
            size: rng.next(),
        };
        if rec.write_to(target, off).is_ok() {
            assert_eq!(PhyPage::read_from(target, off), Ok(rec));
        } else {
            assert_eq!(target, &data[..len]);
        }

        let raw = rng.next() as u32;
        let sc = Scalars::from_raw(raw);
        let rebuilt = Scalars::build(
            sc.attr(),
            sc.method(),
            sc.in_bufs(),
            sc.out_bufs(),
            sc.in_handles(),
            sc.out_handles(),
        );
        assert_eq!(rebuilt, Some(sc));

        let ctx = rng.next();
        let (id, pd) = ctx_decode(ctx);
        assert_eq!(ctx_encode(id, pd, ctx_seq(ctx)), Some(ctx & !0xf0));
    }
}

fn check_read<T>(bytes: &[u8], off: usize, size: usize, res: Result<T, ProtoError>) {
    match off.checked_add(size) {
        None => assert!(matches!(res, Err(ProtoError::Overflow))),
        Some(end) if end > bytes.len() => assert!(matches!(res, Err(ProtoError::OutOfBounds))),
        Some(_) => assert!(res.is_ok()),
    }
}

#[test]
fn layouts_never_panic() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut lens = [0usize; 8];
    let mut offs = [0usize; 8];
    for _ in 0..ITERATIONS {
        let n = match rng.next() % 4 {
            0 => rng.next() as usize,
            _ => rng.below(600),
        };
        let Some(l) = PayloadLayout::new(n) else {
            assert!(n > 540);
            continue;
        };
        assert_eq!(l.metalen(), 40 * n + 388);
        assert_eq!(l.inline_start() % PAYLOAD_ALIGN, 0);
        let _ = l.remote_arg(rng.offset());
        let _ = l.phy_page(rng.offset());
        let count = rng.below(lens.len() as u64 + 1);
        for len in lens.iter_mut() {
            *len = match rng.next() % 4 {
                0 => rng.next() as usize,
                _ => rng.below(5000),
            };
        }
        if let Some(total) = l.inline_offsets(&lens[..count], &mut offs) {
            let mut prev_end = l.metalen();
            for (off, len) in offs.iter().zip(&lens).take(count) {
                assert_eq!(off % PAYLOAD_ALIGN, 0);
                assert!(*off >= prev_end);
                prev_end = off + len;
            }
            assert_eq!(total, prev_end.max(l.inline_start()));
            let _ = page_align(total);
        }
    }
}
