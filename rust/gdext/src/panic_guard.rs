//! Turns a panic in the binding into an ended connection and a message, not a half-updated
//! client.
//!
//! gdext 0.5 already catches a panic in every `#[func]` and virtual method (it prints it, and
//! the call returns a default value), so a panic never aborts the game. But the client may be
//! left half-updated, with its connection still open and nothing telling the game.
//! `RustWebSocketClient` therefore runs the bodies of the entry points that change its state
//! through [`catch`], and on a panic ends the connection with an internal error.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

use godot::global::godot_error;
use rust_websocket_engine::Error;

/// Runs `body` on `target`; returns its result, or the panic's message if it panicked.
pub(crate) fn catch<T, R>(target: &mut T, body: impl FnOnce(&mut T) -> R) -> Result<R, String> {
    panic::catch_unwind(AssertUnwindSafe(|| body(target))).map_err(|payload| message(&*payload))
}

/// The error a panic with `message` in the entry point `entry` of `class` ends the connection
/// with, printed as a Godot error.
pub(crate) fn internal_error(class: &str, entry: &str, message: &str) -> Error {
    let error = Error::Internal {
        detail: format!("{entry}() panicked: {message}"),
    };
    godot_error!("{class}: {error}");
    error
}

/// The message a panic was raised with.
fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_result_or_the_panic_message() {
        let mut count = 0;
        assert_eq!(catch(&mut count, |n| *n + 1), Ok(1));
        let fixed = catch(&mut count, |_| -> u8 { panic!("fixed text") });
        assert_eq!(fixed, Err("fixed text".to_owned()));
        let formatted = catch(&mut count, |n| -> u8 { panic!("formatted {}", *n) });
        assert_eq!(formatted, Err("formatted 0".to_owned()));
    }
}
