//! The [`IMultiplayerPeerExtension`] implementation: with `gd_mp_api = true`, the client is the
//! `MultiplayerPeer` of a game joining a Godot `WebSocketMultiplayerPeer` server, and
//! `PacketPeer`'s calls read and send its messages.

use godot::classes::multiplayer_peer::{ConnectionStatus, TransferMode};
use godot::classes::IMultiplayerPeerExtension;
use godot::global::Error as GodotError;
use godot::prelude::*;
use godot_core::meta::RawPtr;
use rust_websocket_engine::multiplayer::SERVER_PEER_ID;
use rust_websocket_engine::ReadyState;

use super::RustWebSocketClient;
use crate::convert::{available_packet_count, packet_bytes};
use crate::main_thread::main_thread_only;

#[godot_api]
impl IMultiplayerPeerExtension for RustWebSocketClient {
    /// Emits the signals for everything that happened since the last call. Never blocks.
    ///
    /// Takes `Gd<Self>` instead of `&mut self`, so no borrow of the object is held while a signal
    /// handler runs: a handler may call any method, or drop the last reference to the client.
    #[func(gd_self)]
    fn poll(this: Gd<Self>) {
        main_thread_only!("poll");
        Self::emit_events(this);
    }

    /// Required by the trait, but never called: the `gd_self` method above, registered first
    /// under the same name, answers Godot's `_poll`.
    fn poll(&mut self) {}

    unsafe fn get_packet_rawptr(
        &mut self,
        r_buffer: RawPtr<*mut RawPtr<*const u8>>,
        r_buffer_size: RawPtr<*mut i32>,
    ) -> GodotError {
        main_thread_only!("get_packet", GodotError::ERR_UNAVAILABLE);
        self.guarded("get_packet", GodotError::FAILED, |this| {
            // SAFETY: Godot passes valid out-pointers; `reads` keeps the buffer until the next
            // call, which is as long as Godot reads it.
            unsafe {
                this.reads
                    .lend_next(&mut this.client, r_buffer, r_buffer_size)
            }
        })
    }

    unsafe fn put_packet_rawptr(
        &mut self,
        p_buffer: RawPtr<*const u8>,
        p_buffer_size: i32,
    ) -> GodotError {
        main_thread_only!("put_packet", GodotError::ERR_UNAVAILABLE);
        // SAFETY: Godot passes a buffer of `p_buffer_size` bytes, valid for this call.
        let data = unsafe { packet_bytes(p_buffer, p_buffer_size) };
        self.put_packet_bytes(data)
    }

    fn get_available_packet_count(&self) -> i32 {
        main_thread_only!("get_available_packet_count");
        available_packet_count(&self.client)
    }

    fn get_max_packet_size(&self) -> i32 {
        i32::try_from(self.max_message_size).unwrap_or(i32::MAX)
    }

    fn get_packet_channel(&self) -> i32 {
        0
    }

    fn get_packet_mode(&self) -> TransferMode {
        TransferMode::RELIABLE
    }

    fn set_transfer_channel(&mut self, channel: i32) {
        self.transfer_channel = channel;
    }

    fn get_transfer_channel(&self) -> i32 {
        self.transfer_channel
    }

    fn set_transfer_mode(&mut self, mode: TransferMode) {
        self.transfer_mode = mode;
    }

    fn get_transfer_mode(&self) -> TransferMode {
        self.transfer_mode
    }

    fn set_target_peer(&mut self, _peer: i32) {}

    fn get_packet_peer(&self) -> i32 {
        SERVER_PEER_ID
    }

    fn is_server(&self) -> bool {
        false
    }

    /// [method MultiplayerPeer.close]: disconnects at once (the close handshake finishes in the
    /// background); as a multiplayer peer, without [signal MultiplayerPeer.peer_disconnected].
    fn close(&mut self) {
        main_thread_only!("close");
        self.guarded("close", (), |this| {
            this.disconnect_from_host(1000, GString::new());
            this.peer_id = 0;
        })
    }

    fn disconnect_peer(&mut self, peer: i32, _force: bool) {
        main_thread_only!("disconnect_peer");
        if peer == SERVER_PEER_ID {
            self.disconnect_from_host(1000, GString::new());
        }
    }

    fn get_unique_id(&self) -> i32 {
        main_thread_only!("get_unique_id");
        self.peer_id
    }

    fn get_connection_status(&self) -> ConnectionStatus {
        main_thread_only!("get_connection_status", ConnectionStatus::DISCONNECTED);
        match (self.client.state(), self.multiplayer) {
            (ReadyState::Connecting, _) => ConnectionStatus::CONNECTING,
            (ReadyState::Open, false) => ConnectionStatus::CONNECTED,
            (ReadyState::Closing | ReadyState::Closed, false) => ConnectionStatus::DISCONNECTED,
            // A multiplayer peer is connected once the server assigned its id, and stays so
            // through the close handshake: SceneMultiplayer stops polling a disconnected peer,
            // and must still see peer_disconnected(1) when the close completes.
            (ReadyState::Open | ReadyState::Closing, true) if self.peer_id != 0 => {
                ConnectionStatus::CONNECTED
            }
            (ReadyState::Open, true) => ConnectionStatus::CONNECTING,
            (ReadyState::Closing | ReadyState::Closed, true) => ConnectionStatus::DISCONNECTED,
        }
    }

    /// Godot's WebSocketMultiplayerPeer server relays packets between its clients.
    fn is_server_relay_supported(&self) -> bool {
        true
    }
}
