//! The `PacketPeer` calls `RustWebSocketPeer` answers itself, and the kind of the last message
//! read: reading in one copy, and sending empty messages and values of any size, which
//! `WebSocketPeer` cannot.

use godot::global::Error as GodotError;
use godot::prelude::*;
use rust_websocket_engine::Message;

use super::RustWebSocketPeer;
use crate::convert::encode_var;
use crate::main_thread::main_thread_only;

#[godot_api(secondary)]
impl RustWebSocketPeer {
    /// Whether the message last read by [method get_packet] or [method PacketPeer.get_var] was a
    /// text message.
    #[func]
    fn was_string_packet(&self) -> bool {
        main_thread_only!("was_string_packet");
        self.reads.was_text()
    }

    /// Takes the next message: its bytes (a text message's UTF-8), or an empty array when none
    /// is queued, [method get_packet_error] then being [constant ERR_UNAVAILABLE]. What
    /// [method PacketPeer.get_packet] does, in one copy where that copies a message a byte at a
    /// time (a 1 MB message: 81 µs instead of 309).
    #[func]
    fn get_packet(&mut self) -> PackedByteArray {
        main_thread_only!("get_packet");
        self.guarded("get_packet", PackedByteArray::new(), |this| {
            this.reads.copy_next(&mut this.client)
        })
    }

    /// The error of the last read by [method get_packet] or [method PacketPeer.get_var]:
    /// [constant OK], or [constant ERR_UNAVAILABLE] when no message was queued.
    #[func]
    fn get_packet_error(&self) -> GodotError {
        main_thread_only!("get_packet_error", GodotError::ERR_UNAVAILABLE);
        self.reads.error()
    }

    /// Sends [param buffer] as one binary message, an empty one included: the
    /// [method PacketPeer.put_packet] this replaces (and [WebSocketPeer]'s) returns
    /// [constant OK] for an empty buffer and sends nothing. Returns [constant ERR_UNCONFIGURED]
    /// and queues nothing unless the connection is open.
    #[func]
    fn put_packet(&mut self, buffer: PackedByteArray) -> GodotError {
        main_thread_only!("put_packet", GodotError::ERR_UNAVAILABLE);
        self.send_message(Message::from(buffer.to_vec()))
    }

    /// Sends [param value] encoded as [method @GlobalScope.var_to_bytes] does (with
    /// [param full_objects], as [method @GlobalScope.var_to_bytes_with_objects]), as one binary
    /// message that [method PacketPeer.get_var] decodes, of any size: the
    /// [method PacketPeer.put_var] this replaces (and [WebSocketPeer]'s) refuses values over
    /// [member PacketPeer.encode_buffer_max_size].
    #[func]
    fn put_var(
        &mut self,
        value: Variant,
        #[opt(default = false)] full_objects: bool,
    ) -> GodotError {
        main_thread_only!("put_var", GodotError::ERR_UNAVAILABLE);
        match encode_var(&value, full_objects) {
            Ok(message) => self.send_message(message),
            Err((code, reason)) => self.refuse_call(code, reason),
        }
    }
}
