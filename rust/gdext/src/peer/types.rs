//! The types of `RustWebSocketPeer`'s parameters and returns that gdext 0.5 cannot express
//! directly: `RustWebSocketPeer.State` and `RustWebSocketPeer.WriteMode`, class enums with
//! `WebSocketPeer`'s names and values (so typed GDScript ports by renaming the class), and the
//! `tls_client_options` parameter with its `null` default.
//!
//! gdext 0.5 registers a `#[constant]` only as a plain integer, and a user type's `#[func]`
//! parameters and returns without an enum's name. So the enumerators are registered as Godot's
//! own are (an enum name per constant, with the `ExportConstant` the `#[constant]` attribute
//! expands to), and [`State`] and [`WriteMode`] carry the qualified enum name in their shape, as
//! gdext's engine enums do; GDScript then types `get_ready_state()` as
//! `RustWebSocketPeer.State`.

use std::borrow::Cow;

use godot::classes::TlsOptions;
use godot::meta::shape::{EnumeratorShape, GodotShape};
use godot::meta::{FromGodot, GodotConvert, GodotImmutable, ToGodot};
use godot::prelude::*;
use godot::register::private::constant::{ConstantKind, ExportConstant, IntegerConstant};
use rust_websocket_engine::ReadyState;

use super::RustWebSocketPeer;
use crate::convert::{WRITE_MODE_BINARY, WRITE_MODE_TEXT};

/// The enumerators of `State`, numbered as Godot's `WebSocketPeer.State` (and the engine's
/// [`ReadyState`]).
const STATE_ENUMERATORS: &[EnumeratorShape] = &[
    EnumeratorShape::new_int("STATE_CONNECTING", ReadyState::Connecting as i64),
    EnumeratorShape::new_int("STATE_OPEN", ReadyState::Open as i64),
    EnumeratorShape::new_int("STATE_CLOSING", ReadyState::Closing as i64),
    EnumeratorShape::new_int("STATE_CLOSED", ReadyState::Closed as i64),
];

/// The enumerators of `WriteMode`, numbered as Godot's `WebSocketPeer.WriteMode`.
const WRITE_MODE_ENUMERATORS: &[EnumeratorShape] = &[
    EnumeratorShape::new_int("WRITE_MODE_TEXT", WriteMode::TEXT.0),
    EnumeratorShape::new_int("WRITE_MODE_BINARY", WriteMode::BINARY.0),
];

/// Registers both enums with Godot's ClassDB; called once the class itself is registered.
pub(crate) fn register_enums() {
    let class = RustWebSocketPeer::class_id();
    for (name, enumerators) in [
        ("State", STATE_ENUMERATORS),
        ("WriteMode", WRITE_MODE_ENUMERATORS),
    ] {
        let enumerators = enumerators
            .iter()
            .map(|shape| IntegerConstant::new(&shape.name, shape.value.unwrap_or_default()))
            .collect();
        ExportConstant::new(
            class,
            ConstantKind::Enum {
                name: StringName::from(name),
                enumerators,
            },
        )
        .register();
    }
}

/// The shape of an int enum of `RustWebSocketPeer` named `qualified_name`.
fn enum_shape(qualified_name: &'static str, enumerators: &'static [EnumeratorShape]) -> GodotShape {
    GodotShape::Enum {
        variant_type: VariantType::INT,
        enumerators: Cow::Borrowed(enumerators),
        godot_name: Some(Cow::Borrowed(qualified_name)),
        is_bitfield: false,
    }
}

/// `RustWebSocketPeer.State`, what `get_ready_state()` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct State(ReadyState);

impl From<ReadyState> for State {
    fn from(state: ReadyState) -> Self {
        Self(state)
    }
}

impl GodotConvert for State {
    type Via = i64;

    fn godot_shape() -> GodotShape {
        enum_shape("RustWebSocketPeer.State", STATE_ENUMERATORS)
    }
}

impl ToGodot for State {
    type Pass = godot::meta::conv::ByValue;

    fn to_godot(&self) -> i64 {
        self.0 as i64
    }
}

/// `RustWebSocketPeer.WriteMode`, what `send()` takes. Any integer converts, so that a wrong
/// one reaches `send()`, which refuses it in words, instead of failing the call's conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WriteMode(pub(crate) i64);

impl WriteMode {
    pub(crate) const TEXT: Self = Self(WRITE_MODE_TEXT);
    pub(crate) const BINARY: Self = Self(WRITE_MODE_BINARY);
}

impl GodotConvert for WriteMode {
    type Via = i64;

    fn godot_shape() -> GodotShape {
        enum_shape("RustWebSocketPeer.WriteMode", WRITE_MODE_ENUMERATORS)
    }
}

impl ToGodot for WriteMode {
    type Pass = godot::meta::conv::ByValue;

    fn to_godot(&self) -> i64 {
        self.0
    }
}

impl FromGodot for WriteMode {
    fn try_from_godot(via: i64) -> Result<Self, godot::meta::error::ConvertError> {
        Ok(Self(via))
    }
}

// SAFETY: a plain integer, `Copy`.
unsafe impl GodotImmutable for WriteMode {}

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
