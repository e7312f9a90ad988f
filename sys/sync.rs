// SPDX-License-Identifier: GPL-2.0

//! A completion with the waits the kernel crate's `Completion` lacks:
//! interruptible, and with a timeout. Upstream home: an extension of
//! `rust/kernel/sync/completion.rs`.
//!
//! C header: [`include/linux/completion.h`].

use super::bindings;
use kernel::{prelude::*, time::msecs_to_jiffies, types::Opaque};

/// How a wait on a [`Completion`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The completion was completed.
    Done,
    /// A signal interrupted the wait.
    Interrupted,
    /// The timeout expired.
    TimedOut,
}

/// A `struct completion`, completed once with `complete_all()`.
#[pin_data]
pub(crate) struct Completion {
    #[pin]
    inner: Opaque<bindings::completion>,
}

// SAFETY: `struct completion` is designed for use from any thread, including
// completing it from interrupt context.
unsafe impl Send for Completion {}
// SAFETY: See above.
unsafe impl Sync for Completion {}

impl Completion {
    /// A new, not yet completed completion.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `init_completion()` initialises the slot in place.
            inner <- Opaque::ffi_init(|slot| unsafe { bindings::qda_init_completion(slot) }),
        })
    }

    /// Makes it not completed again, for reuse. Taking it by unique
    /// reference proves nobody waits on it or completes it meanwhile.
    pub(crate) fn reinit(self: Pin<&mut Self>) {
        // SAFETY: Initialised in `new`; the unique reference excludes
        // concurrent waiters and completers, as `reinit_completion()`
        // requires.
        unsafe { bindings::qda_reinit_completion(self.inner.get()) };
    }

    /// Completes it, waking every waiter; callable from hard-IRQ context.
    pub(crate) fn complete_all(&self) {
        // SAFETY: Initialised in `new`.
        unsafe { bindings::complete_all(self.inner.get()) };
    }

    /// Waits until completed or a signal arrives.
    pub(crate) fn wait_interruptible(&self) -> Wait {
        // SAFETY: Initialised in `new`; we are in task context.
        match unsafe { bindings::wait_for_completion_interruptible(self.inner.get()) } {
            0 => Wait::Done,
            _ => Wait::Interrupted,
        }
    }

    /// Waits, ignoring signals, at most `ms` milliseconds.
    pub(crate) fn wait_timeout(&self, ms: u32) -> Wait {
        // SAFETY: Initialised in `new`; we are in task context.
        match unsafe {
            bindings::wait_for_completion_timeout(self.inner.get(), msecs_to_jiffies(ms))
        } {
            0 => Wait::TimedOut,
            _ => Wait::Done,
        }
    }
}
