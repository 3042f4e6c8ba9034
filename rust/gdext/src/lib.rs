//! The `rust_websocket` GDExtension: registers `RustWebSocketClient` and `RustWebSocketPeer`
//! with Godot.
//!
//! This crate is a thin binding: the WebSocket engine lives in `rust_websocket_engine`, which
//! has no Godot types.

mod class_enum;
mod client;
mod convert;
mod debugger;
#[cfg(test)]
mod docs_tests;
mod main_thread;
mod packet_reads;
mod panic_guard;
mod peer;

use godot::prelude::*;

struct RustWebSocketExtension;

#[gdextension]
unsafe impl ExtensionLibrary for RustWebSocketExtension {
    fn on_stage_init(stage: InitStage) {
        if stage == InitStage::Scene {
            // After gdext registered the classes of this stage, which the enums belong to (gdext
            // 0.5 cannot register them).
            client::register_enums();
            peer::register_enums();
        }
    }

    fn on_stage_deinit(stage: InitStage) {
        if stage == InitStage::Scene {
            // Close every connection and end the I/O thread before the library is unloaded.
            rust_websocket_engine::shutdown();
        }
    }
}
