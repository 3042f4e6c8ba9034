//! The wire protocol of Godot 4's `WebSocketMultiplayerPeer`, as its clients speak it (Godot 4.0
//! to 4.6): after the upgrade, the server's first message is the client's peer id, and every
//! later message in either direction is one opaque multiplayer packet to or from the server.

use crate::{Error, Message};

/// The peer id of the server.
pub const SERVER_PEER_ID: i32 = 1;

/// Reads the server's first message: the client's peer id, a little-endian int32 of at least 2.
pub fn parse_assigned_peer_id(message: &Message) -> Result<i32, Error> {
    let not_godot = |detail: String| Error::MultiplayerHandshake { detail };
    let bytes: [u8; 4] = match message {
        Message::Binary(data) => data.as_ref().try_into().map_err(|_| {
            not_godot(format!(
                "its first message has {} bytes, not the 4 of a peer id",
                data.len()
            ))
        })?,
        Message::Text(_) => {
            return Err(not_godot("its first message is text, not a peer id".into()))
        }
    };
    let id = i32::from_le_bytes(bytes);
    if id <= SERVER_PEER_ID {
        return Err(not_godot(format!(
            "it assigned peer id {id}; client ids start at 2"
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_four_byte_little_endian_id_is_read() {
        let message = Message::from(1_234_567_i32.to_le_bytes().to_vec());
        assert_eq!(parse_assigned_peer_id(&message).unwrap(), 1_234_567);
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        let text = parse_assigned_peer_id(&Message::from("hello"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            text,
            "the server does not speak Godot's WebSocketMultiplayerPeer protocol: its first \
             message is text, not a peer id"
        );
        assert!(parse_assigned_peer_id(&Message::from(vec![1, 2, 3])).is_err());
        assert!(parse_assigned_peer_id(&Message::from(1_i32.to_le_bytes().to_vec())).is_err());
        assert!(parse_assigned_peer_id(&Message::from((-5_i32).to_le_bytes().to_vec())).is_err());
    }
}
