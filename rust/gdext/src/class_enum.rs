//! Class enums, such as `RustWebSocketClient.State` and `RustWebSocketPeer.WriteMode`, as Godot's
//! own classes have them: typed in GDScript (`var s: RustWebSocketPeer.State`), with their
//! enumerators still readable as the class's integer constants (`STATE_OPEN`) and described in
//! the editor help.
//!
//! Hand-written because gdext 0.5 registers no user enum with `ClassDB` (its derive leaves
//! `godot_name` empty, "future: register via classdb FFI"): [`class_enum!`] registers the
//! enumerators under the enum's name, gives the type the qualified name GDScript resolves, and
//! adds their descriptions to the editor help, through the hooks `#[constant]` itself uses.
//! Replace with gdext's own derive once it registers enums.

use std::marker::PhantomData;

use godot::meta::error::ConvertError;
use godot::meta::shape::GodotShape;
use godot::meta::{FromGodot, GodotConvert, GodotImmutable, ToGodot};

/// Defines the class enum `$class.$name`: the Rust enum, its conversions, its registration
/// (`register()`, called once the class is registered) and its descriptions in the editor help.
macro_rules! class_enum {
    (
        $(#[doc = $doc:literal])*
        $class:ident.$name:ident {
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

        const _: () = {
            use godot::meta::error::ConvertError;
            use godot::meta::shape::{EnumeratorShape, GodotShape};
            use godot::meta::{FromGodot, GodotConvert, ToGodot};
            use godot::prelude::*;
            use godot::register::private::constant::{
                ConstantKind, ExportConstant, IntegerConstant,
            };

            impl $name {
                /// Registers the enumerators with Godot as the class's constants of this enum.
                pub fn register() {
                    let enumerators =
                        vec![$(IntegerConstant::new(stringify!($constant), $value),)+];
                    ExportConstant::new(
                        $class::class_id(),
                        ConstantKind::Enum {
                            name: StringName::from(stringify!($name)),
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
                        godot_name: Some(
                            concat!(stringify!($class), ".", stringify!($name)).into(),
                        ),
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
                        "{via} is not a {}.{} value",
                        stringify!($class),
                        stringify!($name)
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
        };

        godot::sys::shard_add!(godot::private::__GODOT_DOCS_REGISTRY;
            godot::private::DocsShard::new::<$class>(
                godot::private::DocsItem::InherentImpl(godot::private::InherentImplDocs {
                    methods_xml: "",
                    signals_xml: "",
                    constants_xml: concat!($(
                        "<constant name=\"", stringify!($constant), "\" value=\"",
                        stringify!($value), "\" enum=\"", stringify!($name), "\">",
                        $($variant_doc,)+ "</constant>",
                    )+),
                }),
            )
        );
    };
}

pub(crate) use class_enum;

/// A parameter that GDScript sees typed as the class enum `E` but that takes any integer, so a
/// wrong value reaches the method, which refuses it in words, instead of failing the call's
/// conversion with an engine error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AnyValueOf<E>(pub(crate) i64, PhantomData<E>);

impl<E> AnyValueOf<E> {
    /// The parameter holding `value` (for `#[opt(default = …)]`).
    pub(crate) const fn new(value: i64) -> Self {
        Self(value, PhantomData)
    }
}

impl<E: GodotConvert<Via = i64>> GodotConvert for AnyValueOf<E> {
    type Via = i64;

    fn godot_shape() -> GodotShape {
        E::godot_shape()
    }
}

impl<E: GodotConvert<Via = i64>> ToGodot for AnyValueOf<E> {
    type Pass = godot::meta::conv::ByValue;

    fn to_godot(&self) -> i64 {
        self.0
    }
}

impl<E: GodotConvert<Via = i64>> FromGodot for AnyValueOf<E> {
    fn try_from_godot(via: i64) -> Result<Self, ConvertError> {
        Ok(Self::new(via))
    }
}

// SAFETY: a plain integer, `Copy`.
unsafe impl<E: GodotConvert<Via = i64>> GodotImmutable for AnyValueOf<E> {}
