//! Feeds arbitrary bytes to every decoder of `qda_proto` (`cargo fuzz run decode`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use qda_proto::*;

fuzz_target!(|data: &[u8]| {
    // The first 8 bytes, if present, pick an offset and a scalars count.
    let (head, body) = data.split_at(data.len().min(8));
    let mut word = [0u8; 8];
    word[..head.len()].copy_from_slice(head);
    let word = u64::from_le_bytes(word);
    let off = (word & 0xff) as usize;
    let n = ((word >> 8) & 0x3ff) as usize;

    if let Ok(req) = Request::decode(body) {
        assert_eq!(&req.encode()[..], &body[..REQUEST_SIZE]);
    }
    if let Ok(rsp) = Response::decode(body) {
        let _ = rsp.is_pd_exit();
        let (id, pd) = ctx_decode(rsp.ctx);
        let _ = ctx_encode(id, pd, ctx_seq(rsp.ctx));
    }
    let _ = RemoteBuf::read_from(body, off);
    let _ = RemoteDmaHandle::read_from(body, off);
    let _ = InvokeBuf::read_from(body, off);
    let _ = PhyPage::read_from(body, off);
    let _ = read_u32(body, off);
    let _ = read_u64(body, off);

    let sc = Scalars::from_raw(word as u32);
    let _ = (sc.nbufs(), sc.nhandles(), sc.nscalars());
    if let Some(layout) = PayloadLayout::new(n) {
        let lens: [usize; 4] = core::array::from_fn(|i| {
            body.get(i * 2..i * 2 + 2)
                .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])))
        });
        let mut offsets = [0usize; 4];
        if let Some(total) = layout.inline_offsets(&lens, &mut offsets) {
            let _ = page_align(total);
        }
        let _ = layout.poll();
        let _ = read_u32(body, layout.poll());
    }
});
