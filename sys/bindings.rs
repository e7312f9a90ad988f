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
