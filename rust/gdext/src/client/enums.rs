//! The class's enums, `RustWebSocketClient.State` and `RustWebSocketClient.WriteMode`, as Godot
//! 3's and 4's `WebSocketPeer` have them: typed in GDScript (`var s: RustWebSocketClient.State`),
//! with their enumerators still readable as the class's integer constants (`STATE_OPEN`).
//!
//! Defined with [`class_enum!`](crate::class_enum::class_enum), as `RustWebSocketPeer`'s are.

use rust_websocket_engine::ReadyState;

use super::RustWebSocketClient;
use crate::class_enum::class_enum;

class_enum! {
    /// The connection state, as [`ReadyState`] (`WebSocketPeer.State`).
    RustWebSocketClient.State {
        /// The connection is being set up: resolving, connecting, TLS or HTTP upgrade.
        Connecting = STATE_CONNECTING = 0,
        /// The connection is open: messages can be sent and received.
        Open = STATE_OPEN = 1,
        /// The close handshake is in progress; keep polling until [signal connection_closed].
        Closing = STATE_CLOSING = 2,
        /// Not connected: never connected, closed, or the attempt failed.
        Closed = STATE_CLOSED = 3,
    }
}

class_enum! {
    /// How [method send] and [member write_mode] send data (`WebSocketPeer.WriteMode`).
    RustWebSocketClient.WriteMode {
        /// As a text message (the data must be UTF-8).
        Text = WRITE_MODE_TEXT = 0,
        /// As a binary message.
        Binary = WRITE_MODE_BINARY = 1,
    }
}

/// [`WriteMode::Binary`] under the name GDScript gives it, for `#[init(val = …)]`, whose
/// expression the editor help shows as the property's default.
pub const WRITE_MODE_BINARY: WriteMode = WriteMode::Binary;

impl From<ReadyState> for State {
    fn from(state: ReadyState) -> Self {
        match state {
            ReadyState::Connecting => State::Connecting,
            ReadyState::Open => State::Open,
            ReadyState::Closing => State::Closing,
            ReadyState::Closed => State::Closed,
        }
    }
}

/// Registers the class's enums; called once the class itself is registered.
pub fn register_enums() {
    State::register();
    WriteMode::register();
}
