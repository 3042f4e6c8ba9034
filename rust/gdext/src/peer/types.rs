//! The types of `RustWebSocketPeer`'s parameters and returns that gdext 0.5 cannot express
//! directly: `RustWebSocketPeer.State` and `RustWebSocketPeer.WriteMode`, class enums with
//! `WebSocketPeer`'s names and values (so typed GDScript ports by renaming the class), and the
//! `tls_client_options` parameter with its `null` default.
//!
//! The enums are defined with [`class_enum!`](crate::class_enum::class_enum), as
//! `RustWebSocketClient`'s are; GDScript then types `get_ready_state()` as
//! `RustWebSocketPeer.State`.

use godot::classes::TlsOptions;
use godot::meta::shape::GodotShape;
use godot::meta::{FromGodot, GodotConvert, GodotImmutable, ToGodot};
use godot::prelude::*;
use rust_websocket_engine::ReadyState;

use super::RustWebSocketPeer;
use crate::class_enum::{class_enum, AnyValueOf};

class_enum! {
    /// `RustWebSocketPeer.State`, what `get_ready_state()` returns, numbered as Godot's
    /// `WebSocketPeer.State` (and the engine's [`ReadyState`]).
    RustWebSocketPeer.State {
        /// The connection is being set up: resolving, connecting, TLS or HTTP upgrade.
        Connecting = STATE_CONNECTING = 0,
        /// The connection is open: packets can be sent and received.
        Open = STATE_OPEN = 1,
        /// The close handshake is in progress; keep polling until [constant STATE_CLOSED].
        Closing = STATE_CLOSING = 2,
        /// Not connected: never connected, closed, or the attempt failed.
        Closed = STATE_CLOSED = 3,
    }
}

class_enum! {
    /// `RustWebSocketPeer.WriteMode`, numbered as Godot's `WebSocketPeer.WriteMode`.
    RustWebSocketPeer.WriteMode {
        /// [method send] sends the data as a text message (it must be UTF-8).
        Text = WRITE_MODE_TEXT = 0,
        /// [method send] sends the data as a binary message.
        Binary = WRITE_MODE_BINARY = 1,
    }
}

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

/// `send()`'s `write_mode`: typed `RustWebSocketPeer.WriteMode` in GDScript, any integer
/// accepted so that `send()` refuses a wrong one in words.
pub(crate) type SendMode = AnyValueOf<WriteMode>;

/// Registers both enums with Godot's ClassDB; called once the class itself is registered.
pub(crate) fn register_enums() {
    State::register();
    WriteMode::register();
}

/// `connect_to_url()`'s `tls_client_options: TLSOptions = null`. gdext 0.5 takes no default for
/// an object parameter, so this wrapper stands for it; the only default it ever holds is `null`.
#[derive(Clone, Debug)]
pub(crate) struct TlsClientOptions(pub(crate) Option<Gd<TlsOptions>>);

impl TlsClientOptions {
    pub(crate) const NULL: Self = Self(None);
}

impl GodotConvert for TlsClientOptions {
    type Via = Option<Gd<TlsOptions>>;

    fn godot_shape() -> GodotShape {
        <Option<Gd<TlsOptions>> as GodotConvert>::godot_shape()
    }
}

impl ToGodot for TlsClientOptions {
    type Pass = godot::meta::conv::ByValue;

    fn to_godot(&self) -> Option<Gd<TlsOptions>> {
        self.0.clone()
    }
}

impl FromGodot for TlsClientOptions {
    fn try_from_godot(
        via: Option<Gd<TlsOptions>>,
    ) -> Result<Self, godot::meta::error::ConvertError> {
        Ok(Self(via))
    }
}

// SAFETY: only used for the `null` default, which holds no object to share or mutate.
unsafe impl GodotImmutable for TlsClientOptions {}
