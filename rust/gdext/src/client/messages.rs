//! Sending and taking messages: text, binary, Variants, and many at once.

use godot::global::Error as GodotError;
use godot::prelude::*;
use rust_websocket_engine::{Error, Message};

use super::settings::message_to_variant;
use super::{RustWebSocketClient, WriteMode};
use crate::convert::{encode_var, message_in_write_mode};
use crate::main_thread::main_thread_only;

#[godot_api(secondary)]
impl RustWebSocketClient {
    /// Sends a text message. Returns [constant ERR_UNCONFIGURED] and queues nothing unless the
    /// connection is open (also while reconnecting: [method get_last_error] says so), except
    /// that [member reconnect_queue_messages] keeps it while reconnecting ([constant ERR_BUSY]
    /// when that queue is full).
    #[func]
    fn send_text(&mut self, message: GString) -> GodotError {
        main_thread_only!("send_text", GodotError::ERR_UNAVAILABLE);
        self.send_message(Message::from(message.to_string()))
    }

    /// Sends [param message] as a binary message, or as text with
    /// [constant WRITE_MODE_TEXT] (then it must be UTF-8, else [constant ERR_INVALID_DATA]).
    /// Another [param write_mode] returns [constant ERR_INVALID_PARAMETER].
    #[func]
    fn send(
        &mut self,
        message: PackedByteArray,
        #[opt(default = 1)] write_mode: i64,
    ) -> GodotError {
        main_thread_only!("send", GodotError::ERR_UNAVAILABLE);
        match message_in_write_mode("send", message.to_vec(), write_mode) {
            Ok(message) => self.send_message(message),
            Err((code, reason)) => self.refuse_call(code, reason),
        }
    }

    /// Sends [param buffer] as one message, an empty one included (the
    /// [method PacketPeer.put_packet] this replaces returned [constant OK] for an empty buffer
    /// and sent nothing): a binary message, or a text message when [member write_mode] is
    /// [constant WRITE_MODE_TEXT]. Returns [constant ERR_UNCONFIGURED] and queues nothing unless
    /// the connection is open, with [method get_last_error] saying why; with
    /// [code]gd_mp_api[/code], [constant ERR_INVALID_PARAMETER] for an empty buffer, which
    /// Godot's multiplayer server would drop.
    #[func]
    fn put_packet(&mut self, buffer: PackedByteArray) -> GodotError {
        main_thread_only!("put_packet", GodotError::ERR_UNAVAILABLE);
        self.put_packet_bytes(buffer.to_vec())
    }

    /// Takes the next message: its bytes (a text message's UTF-8; [method was_string_packet]
    /// tells which), or an empty array when none is queued, [method get_packet_error] then
    /// being [constant ERR_UNAVAILABLE]. What [method PacketPeer.get_packet] does, in one copy
    /// where that copies a message a byte at a time (a 1 MB message: 81 µs instead of 309).
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

    /// Sends [param value] encoded as [method @GlobalScope.var_to_bytes] does (with
    /// [param full_objects], as [method @GlobalScope.var_to_bytes_with_objects]), as one binary
    /// message that [method PacketPeer.get_var] decodes, of any size (the
    /// [method PacketPeer.put_var] this replaces refused values over
    /// [member PacketPeer.encode_buffer_max_size] without a word).
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

    /// Takes every queued message at once, oldest first: a [String] for a text message, a
    /// [PackedByteArray] for a binary one (and for a text holding U+0000, which a [String]
    /// cannot hold; [method PacketPeer.get_packet] and [method was_string_packet] tell them
    /// apart). One call instead of a [method get_packet] per message
    /// when many arrive per frame.
    #[func]
    fn take_messages(&mut self) -> VarArray {
        main_thread_only!("take_messages");
        let mut messages = VarArray::new();
        while let Some(message) =
            self.guarded("take_messages", None, |this| this.client.take_message())
        {
            messages.push(&message_to_variant(&message));
        }
        messages
    }

    /// Sends every element of [param messages] in order: a [String] as a text message, a
    /// [PackedByteArray] as a binary one. One call instead of one per message. Stops at the first
    /// message it cannot send and returns that error ([constant ERR_INVALID_PARAMETER] for an
    /// element of another type), with the messages before it sent.
    #[func]
    fn send_messages(&mut self, messages: VarArray) -> GodotError {
        main_thread_only!("send_messages", GodotError::ERR_UNAVAILABLE);
        for element in messages.iter_shared() {
            let message = match element.get_type() {
                VariantType::STRING => Message::from(element.to::<GString>().to_string()),
                VariantType::PACKED_BYTE_ARRAY => {
                    Message::from(element.to::<PackedByteArray>().to_vec())
                }
                other => {
                    return self.refuse_call(
                        GodotError::ERR_INVALID_PARAMETER,
                        format!(
                            "send_messages() takes Strings and PackedByteArrays, not {other:?}"
                        ),
                    );
                }
            };
            let sent = self.send_message(message);
            if sent != GodotError::OK {
                return sent;
            }
        }
        GodotError::OK
    }
}

impl RustWebSocketClient {
    /// Sends a packet as [member write_mode] says (always binary as a multiplayer peer, whose
    /// packets are Godot's binary protocol).
    pub(super) fn put_packet_bytes(&mut self, bytes: Vec<u8>) -> GodotError {
        let mode = if self.multiplayer {
            WriteMode::Binary
        } else {
            self.write_mode
        };
        match message_in_write_mode("put_packet", bytes, mode as i64) {
            Ok(message) => self.send_message(message),
            Err((code, reason)) => self.refuse_call(code, reason),
        }
    }

    /// Sends one message for every sending entry point.
    pub(super) fn send_message(&mut self, message: Message) -> GodotError {
        if self.multiplayer && self.peer_id == 0 {
            return self.refuse_call(
                GodotError::ERR_UNCONFIGURED,
                "not connected to the multiplayer server yet".into(),
            );
        }
        self.debugger.sending(&message, &self.client);
        match self.guarded("send", Err(Error::NotOpen), |this| {
            this.client.send(message)
        }) {
            Ok(()) => GodotError::OK,
            Err(error) => self.refuse(error),
        }
    }
}
