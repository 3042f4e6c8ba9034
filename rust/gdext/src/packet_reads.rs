//! `PacketPeer`'s reading side, for both classes: the message Godot reads through a pointer,
//! whether the last message read was text, and the error `get_packet_error()` reports.
//!
//! A message is read two ways. Godot's own calls typed as `PacketPeer` (its `get_packet()` and
//! `get_var()`, and the multiplayer API) go through the `_get_packet` virtual, which lends the
//! message through a pointer; `PacketPeer.get_packet()` then copies it a byte at a time (309 µs
//! of the main thread for 1 MB). The classes' own `get_packet()` copies it into the
//! `PackedByteArray` in one go instead (81 µs). Both record the read here, so
//! `was_string_packet()` and `get_packet_error()` answer for the last read whichever way it went.

use godot::global::Error as GodotError;
use godot::prelude::*;
use godot_core::meta::RawPtr;
use rust_websocket_engine::{Client, Message};

/// The last read of one object's messages.
pub(crate) struct PacketReads {
    /// The message last lent through `_get_packet`: Godot reads it through a pointer until the
    /// next call.
    lent: Option<Message>,
    /// Whether the last message read was text.
    was_text: bool,
    /// What the last read returned.
    error: GodotError,
}

impl Default for PacketReads {
    fn default() -> Self {
        Self {
            lent: None,
            was_text: false,
            error: GodotError::OK,
        }
    }
}

impl PacketReads {
    /// The next message's bytes (a text message's UTF-8) in one copy, or an empty array (and
    /// `ERR_UNAVAILABLE` as the last error) when none is queued.
    pub(crate) fn copy_next(&mut self, client: &mut Client) -> PackedByteArray {
        self.lent = None;
        let message = client.take_message();
        self.record(message.as_ref());
        message.map_or_else(PackedByteArray::new, |message| {
            PackedByteArray::from(message.as_bytes())
        })
    }

    /// Takes the next message and lends it to Godot through `_get_packet`'s out-pointers;
    /// `ERR_UNAVAILABLE` when none is queued.
    ///
    /// # Safety
    /// The pointers must be the valid out-pointers Godot passes, and `self` must not change
    /// before the next call on the same object (Godot reads the buffer until then).
    pub(crate) unsafe fn lend_next(
        &mut self,
        client: &mut Client,
        r_buffer: RawPtr<*mut RawPtr<*const u8>>,
        r_buffer_size: RawPtr<*mut i32>,
    ) -> GodotError {
        let message = client.take_message();
        self.record(message.as_ref());
        self.lent = message;
        let Some(message) = &self.lent else {
            return self.error;
        };
        let Ok(len) = i32::try_from(message.len()) else {
            self.error = GodotError::ERR_OUT_OF_MEMORY;
            return self.error;
        };
        // SAFETY: as the caller promised.
        unsafe {
            *r_buffer.ptr() = RawPtr::new(message.as_bytes().as_ptr());
            *r_buffer_size.ptr() = len;
        }
        self.error
    }

    /// Whether the last message read was text (`was_string_packet()`).
    pub(crate) fn was_text(&self) -> bool {
        self.was_text
    }

    /// What the last read returned (`get_packet_error()`).
    pub(crate) fn error(&self) -> GodotError {
        self.error
    }

    /// Forgets the last read: a new connection starts with none.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    fn record(&mut self, message: Option<&Message>) {
        self.was_text = message.is_some_and(Message::is_text);
        self.error = match message {
            Some(_) => GodotError::OK,
            None => GodotError::ERR_UNAVAILABLE,
        };
    }
}
