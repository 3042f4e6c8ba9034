//! Refused calls, the last error and the panic guard: how an entry point of
//! `RustWebSocketClient` reports what went wrong.

use godot::global::Error as GodotError;
use rust_websocket_engine::Error;

use super::RustWebSocketClient;
use crate::convert::refusal_code;
use crate::panic_guard;

impl RustWebSocketClient {
    /// The class name in printed errors.
    pub(crate) const CLASS_NAME: &'static str = "RustWebSocketClient";

    /// Records why the engine refused a call and returns the matching Godot error.
    pub(super) fn refuse(&mut self, error: Error) -> GodotError {
        self.refuse_call(refusal_code(&error), error.to_string())
    }

    /// Records `reason` as the last error of a refused call and returns `code`.
    pub(super) fn refuse_call(&mut self, code: GodotError, reason: String) -> GodotError {
        self.last_error = reason;
        code
    }

    /// Makes [method get_last_error] describe the ending the engine reported: its error, or
    /// nothing when it ended without one (so an earlier refused call does not linger).
    pub(super) fn remember_engine_error(&mut self) {
        self.last_error = self
            .client
            .last_error()
            .map(ToString::to_string)
            .unwrap_or_default();
    }

    /// Runs `body`, the part of the entry point `entry` that changes the connection. If it
    /// panics, the connection ends (see [`Client::abort`]), the error is printed and kept for
    /// `get_last_error()`, the next `poll()` emits `connection_error` or
    /// `connection_closed(false)`, and `fallback` is returned.
    pub(super) fn guarded<R>(
        &mut self,
        entry: &str,
        fallback: R,
        body: impl FnOnce(&mut Self) -> R,
    ) -> R {
        match panic_guard::catch(self, body) {
            Ok(result) => result,
            Err(message) => {
                let error = panic_guard::internal_error(Self::CLASS_NAME, entry, &message);
                self.refuse_call(GodotError::FAILED, error.to_string());
                self.client.abort(error);
                self.reads.clear();
                fallback
            }
        }
    }
}
