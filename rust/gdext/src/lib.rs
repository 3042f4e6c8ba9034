use godot::prelude::*;
struct RustWebSocketExtension;
#[gdextension]
unsafe impl ExtensionLibrary for RustWebSocketExtension {}
