//! The class's enums, `RustWebSocketClient.State` and `RustWebSocketClient.WriteMode`, as Godot
//! 3's and 4's `WebSocketPeer` have them: typed in GDScript (`var s: RustWebSocketClient.State`),
//! with their enumerators still readable as the class's integer constants (`STATE_OPEN`).
//!
//! Hand-written because gdext 0.5 registers no user enum with `ClassDB` (its derive leaves
//! `godot_name` empty, "future: register via classdb FFI"): [`class_enum!`] registers the
//! enumerators under the enum's name, gives the type the qualified name GDScript resolves, and
//! adds their descriptions to the editor help, through the hooks `#[constant]` itself uses.
//! Replace with gdext's own derive once it registers enums.

use godot::meta::error::ConvertError;
use godot::meta::shape::{EnumeratorShape, GodotShape};
use godot::meta::{FromGodot, GodotConvert, ToGodot};
use godot::prelude::*;
use godot::register::private::constant::{ConstantKind, ExportConstant, IntegerConstant};
use rust_websocket_engine::ReadyState;

use super::RustWebSocketClient;

/// Defines a class enum of `RustWebSocketClient`: the Rust enum, its conversions, its
/// registration (`register()`) and its descriptions in the editor help.
macro_rules! class_enum {
    (
        $(#[doc = $doc:literal])*
        $name:ident as $godot_name:literal {
            $(
                $(#[doc = $variant_doc:literal])*
                $variant:ident = $constant:ident = $value:expr,
            )+
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $(
                $(#[doc = $variant_doc])*
                $variant = $value,
            )+
        }

        impl $name {
            /// Registers the enumerators with Godot as the class's constants of this enum.
            pub fn register() {
                let enumerators = vec![$(IntegerConstant::new(stringify!($constant), $value),)+];
                ExportConstant::new(
                    RustWebSocketClient::class_id(),
                    ConstantKind::Enum {
                        name: StringName::from($godot_name),
                        enumerators,
                    },
                )
                .register();
            }
        }

        impl GodotConvert for $name {
            type Via = i64;

            fn godot_shape() -> GodotShape {
                const ENUMERATORS: &[EnumeratorShape] =
                    &[$(EnumeratorShape::new_int(stringify!($constant), $value),)+];
                GodotShape::Enum {
                    variant_type: VariantType::INT,
                    enumerators: std::borrow::Cow::Borrowed(ENUMERATORS),
                    godot_name: Some(concat!("RustWebSocketClient.", $godot_name).into()),
                    is_bitfield: false,
                }
            }
        }

        impl ToGodot for $name {
            type Pass = godot::meta::conv::ByValue;

            fn to_godot(&self) -> i64 {
                *self as i64
            }
        }

        impl FromGodot for $name {
            fn try_from_godot(via: i64) -> Result<Self, ConvertError> {
                $(
                    if via == $value {
                        return Ok(Self::$variant);
                    }
                )+
                Err(ConvertError::new(format!(
                    "{via} is not a RustWebSocketClient.{} value",
                    $godot_name
                )))
            }
        }

        impl godot::register::property::Var for $name {
            type PubType = Self;

            fn var_get(field: &Self) -> i64 {
                field.to_godot()
            }

            // Only reached through setters that take the enum, whose argument Godot has
            // already converted.
            fn var_set(field: &mut Self, value: i64) {
                if let Ok(value) = Self::try_from_godot(value) {
                    *field = value;
                }
            }

            fn var_pub_get(field: &Self) -> Self {
                *field
            }

            fn var_pub_set(field: &mut Self, value: Self) {
                *field = value;
            }
        }

        impl godot::register::property::Export for $name {}

        godot::sys::shard_add!(godot::private::__GODOT_DOCS_REGISTRY;
            godot::private::DocsShard::new::<RustWebSocketClient>(
                godot::private::DocsItem::InherentImpl(godot::private::InherentImplDocs {
                    methods_xml: "",
                    signals_xml: "",
                    constants_xml: concat!($(
                        "<constant name=\"", stringify!($constant), "\" value=\"",
                        stringify!($value), "\" enum=\"", $godot_name, "\">",
                        $($variant_doc,)+ "</constant>",
                    )+),
                }),
            )
        );
    };
}

class_enum! {
    /// The connection state, as [`ReadyState`] (`WebSocketPeer.State`).
    State as "State" {
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
    WriteMode as "WriteMode" {
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
