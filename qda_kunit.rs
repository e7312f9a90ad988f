// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the protocol module as built into the kernel.
//!
//! The host suite in `proto/tests` covers `qda_proto.rs` in depth; these
//! cases check that the kernel build of the same code agrees on the
//! messages the upstream C driver was seen to send (see
//! `Documentation/accel/qda/testing.rst`).

#![deny(unsafe_code)]

use kernel::prelude::*;

#[kunit_tests(qda_proto)]
mod tests {
    use crate::proto::{
        PayloadLayout, ProtoError, Request, Response, Scalars, INIT_HANDLE, RMID_INIT_ATTACH,
        RMID_INIT_RELEASE,
    };

    #[test]
    fn attach_request_matches_fastrpc_c() {
        // The request fastrpc.ko sent to the mock DSP for INIT_ATTACH.
        let sc = Scalars::new(RMID_INIT_ATTACH, 1, 0);
        assert_eq!(sc.map(Scalars::raw), Some(0x0001_0000));
        let rel = Scalars::new(RMID_INIT_RELEASE, 1, 0);
        assert_eq!(rel.map(Scalars::raw), Some(0x0101_0000));
        let req = Request {
            client_id: 0,
            tid: 0,
            ctx: 0x10100,
            handle: INIT_HANDLE,
            sc: Scalars::from_raw(0x0001_0000),
            addr: 0x1_008c_5000,
            size: 4096,
        };
        let bytes = req.encode();
        assert_eq!(bytes[8..16], 0x10100u64.to_le_bytes());
        assert_eq!(bytes[16..20], 1u32.to_le_bytes());
        assert_eq!(bytes[20..24], 0x0001_0000u32.to_le_bytes());
        assert_eq!(bytes[24..32], 0x1_008c_5000u64.to_le_bytes());
        assert_eq!(Request::decode(&bytes), Ok(req));
    }

    #[test]
    fn metadata_sizes() {
        for (n, metalen, inline) in [(0, 388, 512), (1, 428, 512), (5, 588, 640)] {
            let layout = PayloadLayout::new(n);
            assert_eq!(layout.map(|l| l.metalen()), Some(metalen));
            assert_eq!(layout.map(|l| l.inline_start()), Some(inline));
        }
    }

    #[test]
    fn short_response_rejected() {
        assert_eq!(Response::decode(&[0u8; 15]), Err(ProtoError::Short));
        let rsp = Response {
            ctx: 0x10100,
            retval: -22,
        };
        assert_eq!(Response::decode(&rsp.encode()), Ok(rsp));
    }
}

#[kunit_tests(qda_fastrpc)]
mod fastrpc_tests {
    use crate::{
        fastrpc::{dsp_result, init_memlen, map_range, page_span, AttrId, Call, ShellLen},
        memory_manager::dsp_addr,
        proto::{CreateMsg, KernelMethod, MunmapMsg},
    };
    use kernel::prelude::*;

    #[test]
    fn calls_are_reused_only_when_unshared() {
        let Ok(call) = Call::new() else {
            return;
        };
        let shared = call.clone();
        // A slot (or a remembered release) still holds it: not reused.
        assert!(Call::renew(call).is_none());
        // The last holder gets it back, ready to be sent again.
        let renewed = Call::renew(shared);
        assert!(renewed.as_ref().is_some_and(|c| !c.answered()));
    }

    #[test]
    fn limits_checked_once() {
        assert!(ShellLen::new(2 << 20, 0).is_ok());
        assert_eq!(ShellLen::new((2 << 20) + 1, 0).err(), Some(EFBIG));
        assert_eq!(ShellLen::new(100, 101).err(), Some(EINVAL));
        assert_eq!(ShellLen::new(100, 100).ok().map(ShellLen::file), Some(100));
        assert!(AttrId::new(255).is_ok());
        assert_eq!(AttrId::new(256).err(), Some(EOVERFLOW));
        assert_eq!(AttrId::new(u64::MAX).err(), Some(EOVERFLOW));
    }

    #[test]
    fn kernel_messages_in_the_kernel_build() {
        // The same bytes as the host tests (proto/tests/kernel_msgs.rs).
        assert_eq!(KernelMethod::Create.scalars().raw(), 0x0604_0000);
        assert_eq!(KernelMethod::MemMap.scalars().raw(), 0x0a03_0100);
        let m = CreateMsg {
            client_id: 1,
            namelen: 5,
            filelen: 0,
            pageslen: 1,
            attrs: 0,
            siglen: 0,
        };
        assert_eq!(
            m.encode()[..16],
            [1, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
        );
        let u = MunmapMsg {
            client_id: 2,
            vaddr: 0x1000,
            size: 0x2000,
        };
        assert_eq!(u.encode()[4..8], [0; 4]);
    }

    #[test]
    fn page_spans() {
        // As fastrpc.c: the pages holding the bytes, at least one.
        assert_eq!(page_span(0x1000, 0).ok(), Some((0x1000, 0x1000)));
        assert_eq!(page_span(0x1fff, 1).ok(), Some((0x1000, 0x1000)));
        assert_eq!(page_span(0x1fff, 2).ok(), Some((0x1000, 0x2000)));
        assert_eq!(page_span(0x1080, 0x3000).ok(), Some((0x1000, 0x4000)));
        assert!(page_span(u64::MAX - 10, 100).is_err());
    }

    #[test]
    fn init_memory_sizes() {
        // max(2 MiB, 4 * filelen) rounded up to whole MiB.
        assert_eq!(init_memlen(0).ok(), Some(2 << 20));
        assert_eq!(init_memlen(512 << 10).ok(), Some(2 << 20));
        assert_eq!(init_memlen((1 << 20) + 1).ok(), Some(5 << 20));
        assert_eq!(init_memlen(2 << 20).ok(), Some(8 << 20));
    }

    #[test]
    fn sid_prefix() {
        // The SID sits in bits 32 and up, as fastrpc.c adds `sid << 32`.
        assert_eq!(dsp_addr(4, 0x37c0_0000), 0x4_37c0_0000);
        assert_eq!(dsp_addr(0, 0x1000), 0x1000);
    }

    #[test]
    fn dsp_return_values() {
        // DSP status codes and 0 pass unchanged, real errnos become errors,
        // the rest of the errno range (kernel-internal codes) becomes EIO.
        assert_eq!(dsp_result(0).ok(), Some(0));
        assert_eq!(
            dsp_result(0x8000_040d_u32 as i32).ok(),
            Some(0x8000_040d_u32 as i32)
        );
        assert_eq!(dsp_result(42).ok(), Some(42));
        assert_eq!(dsp_result(-4096).ok(), Some(-4096));
        assert_eq!(dsp_result(-22).err(), Some(EINVAL));
        assert_eq!(dsp_result(-133).map_err(|e| e.to_errno()).err(), Some(-133));
        for internal in [-512, -513, -516, -517, -524, -530, -134, -4095] {
            assert_eq!(dsp_result(internal).err(), Some(EIO));
        }
    }

    #[test]
    fn map_page_rules() {
        let page = kernel::page::PAGE_SIZE as u64;
        // Size 0: to the end; sizes round up to pages; offsets must be
        // page-aligned; the range must stay inside the object.
        assert_eq!(map_range(0, 0, 4 * page).ok(), Some(4 * page));
        assert_eq!(map_range(page, 0, 4 * page).ok(), Some(3 * page));
        assert_eq!(map_range(0, 0x3271, 4 * page).ok(), Some(0x4000));
        assert_eq!(map_range(0, 1, page).ok(), Some(page));
        assert_eq!(map_range(0xb5f, page, 4 * page).err(), Some(EINVAL));
        assert_eq!(map_range(0, 4 * page + 1, 4 * page).err(), Some(EINVAL));
        assert_eq!(map_range(4 * page, 0, 4 * page).err(), Some(EINVAL));
        assert_eq!(map_range(page, u64::MAX, 4 * page).err(), Some(EINVAL));
    }
}
