//! The thread rule: `RustWebSocketClient` and `RustWebSocketPeer` are used from Godot's main
//! thread only, and a call from another thread is refused in words instead of racing.
//!
//! The crate is built without gdext's `experimental-threads` feature, so an object's Rust state
//! is guarded by a single-threaded cell: a method running on a worker while the main thread polls
//! would race on it. The network work needs no other thread anyway: it already runs on the
//! engine's I/O thread, and every call only hands work over or reads what is ready. Each entry
//! point that reads or changes the connection therefore starts with [`main_thread_only!`], which
//! on another thread prints one error and returns before any field is read or written.
//!
//! What it cannot cover: gdext takes its borrow of the object before the method runs, so a
//! worker's call that overlaps a main-thread call still touches that borrow flag, and it checks
//! the thread itself (with a panic naming the method) when an argument, a default value or
//! `poll()`'s `Gd<Self>` needs the engine. Only `experimental-threads` would make calls from
//! several threads sound; the refusal keeps a stray call from doing anything.

use std::thread::{self, ThreadId};

use godot::global::godot_error;
use godot::init::main_thread_id;

thread_local! {
    /// The calling thread's id, read once per thread: `thread::current()` counts a reference
    /// each time, which made the check a visible part of an idle `poll()`.
    static CURRENT_THREAD: ThreadId = thread::current().id();
}

/// Whether the caller runs on Godot's main thread. If not, prints the error saying that
/// `class.entry()` must be called from the main thread, and how. A comparison of thread ids,
/// cheap enough for `poll()`'s idle path; `godot_error!` may be called from any thread.
pub(crate) fn on_main_thread(class: &str, entry: &str) -> bool {
    if CURRENT_THREAD.with(|current| *current == main_thread_id()) {
        return true;
    }
    godot_error!(
        "{class}.{entry}() was called from a thread other than the main thread, which is not \
         supported: call it from the main thread, e.g. with call_deferred(\"{entry}\", ...). \
         The network work already runs on a background thread."
    );
    false
}

/// Returns from the enclosing entry point of a class with a `CLASS_NAME` constant when it runs
/// on another thread than the main thread, with `$refused` (default: the return type's default
/// value), after printing why (see [`on_main_thread`]).
macro_rules! main_thread_only {
    ($entry:literal) => {
        main_thread_only!($entry, Default::default())
    };
    ($entry:literal, $refused:expr) => {
        if !$crate::main_thread::on_main_thread(Self::CLASS_NAME, $entry) {
            return $refused;
        }
    };
}
pub(crate) use main_thread_only;
