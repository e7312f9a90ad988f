// SPDX-License-Identifier: GPL-2.0

//! Processes named by reference: a counted `struct pid` of a thread group.
//!
//! A numeric tgid can be recycled once its process is gone; a reference on
//! the process's `struct pid` cannot: while it is held, the `struct pid` is
//! not freed and no other process can ever compare equal to it. The kernel
//! crate has `Pid` (a number) and `PidNamespace` but no `struct pid`
//! reference yet (upstream home: `rust/kernel/pid.rs`).
//!
//! C header: [`include/linux/pid.h`].

use super::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// A reference on the `struct pid` of a thread group (a process).
///
/// # Invariants
///
/// `0` points to a `struct pid` on which this value owns one reference.
pub(crate) struct Process(NonNull<bindings::pid>);

// SAFETY: `struct pid` references may be dropped from any thread.
unsafe impl Send for Process {}
// SAFETY: `&Process` only compares pointers and reads the pid number, which
// the pid API allows from any thread.
unsafe impl Sync for Process {}

impl Process {
    /// The calling task's process. `ESRCH` if the task has already left
    /// its thread group (it is exiting).
    pub(crate) fn current() -> Result<Self> {
        // SAFETY: Always callable from task context; returns a new
        // reference or NULL.
        let raw = unsafe { bindings::qda_get_current_tgid_pid() };
        // INVARIANT: the helper took a reference for us.
        NonNull::new(raw).map(Self).ok_or(ESRCH)
    }

    /// The process id as seen from the caller's pid namespace, 0 if the
    /// process is not visible there.
    pub(crate) fn nr(&self) -> i32 {
        // SAFETY: The `struct pid` is alive (type invariant).
        unsafe { bindings::qda_pid_vnr(self.0.as_ptr()) }
    }
}

impl PartialEq for Process {
    fn eq(&self, other: &Self) -> bool {
        // The same process while both references are held: a `struct pid`
        // is never reused while referenced.
        self.0 == other.0
    }
}

impl Eq for Process {}

impl Drop for Process {
    fn drop(&mut self) {
        // SAFETY: We own one reference (type invariant).
        unsafe { bindings::qda_put_pid(self.0.as_ptr()) };
    }
}
