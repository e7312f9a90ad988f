// SPDX-License-Identifier: GPL-2.0

//! Raw bindings for the C items the kernel crate's `bindings` lack.
//!
//! Generated at build time by bindgen from `sys/qda_sys.h` (see `Kbuild`):
//! `linux/rpmsg.h`, `accel_open()`, QDA's UAPI header and the C helpers in
//! `sys/helpers.c`. Types those items refer to (`struct device`, `u32`, ...)
//! resolve to the kernel crate's own bindings through the glob import below;
//! local definitions shadow it.

#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    improper_ctypes,
    unreachable_pub,
    missing_docs,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]

pub(crate) use kernel::bindings::*;
use kernel::ffi;

include!("qda_sys_generated.rs");

/// Implements `FromBytes` and `AsBytes` for UAPI structs, whose fields are
/// listed with their types: the types are checked against the fields, each
/// must be plain data itself, and the fields must fill the struct without
/// padding, all at compile time.
macro_rules! uapi_plain_data {
    ($($t:ident { $($f:ident: $ft:ty),* $(,)? })*) => {$(
        const _: () = {
            const fn plain<T: FromBytes + AsBytes>() {}
            let mut end = 0;
            $(
                let _: fn(&$t) -> &$ft = |s| &s.$f;
                plain::<$ft>();
                assert!(
                    core::mem::offset_of!($t, $f) == end,
                    concat!("padding before ", stringify!($t), "::", stringify!($f))
                );
                end += core::mem::size_of::<$ft>();
            )*
            assert!(
                end == core::mem::size_of::<$t>(),
                concat!("padding at the end of ", stringify!($t))
            );
        };
        // SAFETY: Every field of `$t` is plain data (every bit pattern valid,
        // no uninitialised bytes) and the fields fill the struct without
        // padding (checked above), so the same holds for `$t`.
        unsafe impl FromBytes for $t {}
        // SAFETY: As above.
        unsafe impl AsBytes for $t {}
    )*};
}

use kernel::transmute::{AsBytes, FromBytes};

uapi_plain_data! {
    drm_qda_query { dsp_name: [u8; QDA_DSP_NAME_LEN as usize], capabilities: u32 }
    drm_qda_gem_create { size: u64, handle: u32, pad: u32 }
    drm_qda_gem_mmap_offset { handle: u32, pad: u32, offset: u64 }
    drm_qda_init_create { filelen: u32, filefd: i32, attrs: u32, siglen: u32, file: u64 }
    drm_qda_map {
        request: u32, flags: u32, fd: i32, attrs: u32, offset: u32, pad: u32,
        vaddrin: u64, size: u64, vaddrout: u64,
    }
    drm_qda_munmap { request: u32, fd: i32, vaddr: u64, vaddrout: u64, size: u64 }
    drm_qda_invoke_args { ptr: u64, length: u64, fd: i32, attr: u32 }
    drm_qda_invoke { handle: u32, sc: u32, args: u64 }
    drm_qda_get_param { param: u32, pad: u32, value: u64 }
    drm_qda_init_create_static { namelen: u32, memlen: u32, name: u64 }
}
