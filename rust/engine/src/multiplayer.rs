//! The wire protocol of Godot 4's `WebSocketMultiplayerPeer`, as its clients speak it (Godot 4.0
//! to 4.6): after the upgrade, the server's first message is the client's peer id, and every
//! later message in either direction is one opaque multiplayer packet to or from the server.
//!
//! [`Config::godot_multiplayer`](crate::Config::godot_multiplayer) makes the
//! [`Client`](crate::Client) speak it: `PeerIdHandshake` decides when the server has failed to
//! send the id.

use std::time::{Duration, Instant};

use crate::config::LONGEST_TIMER;
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

/// The client's side of the peer-id handshake: once the connection is open, the server has the
/// handshake timeout to send the client's peer id as its first message.
///
/// It has no clock: the client hands it `now`, so the deadline is tested without sleeping.
#[derive(Debug)]
pub(crate) struct PeerIdHandshake {
    timeout: Duration,
    /// When the id must have arrived; `None` until the connection opened.
    deadline: Option<Instant>,
}

impl PeerIdHandshake {
    /// The handshake of a connection that is still connecting: the server gets `timeout` from
    /// the moment it opens.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            deadline: None,
        }
    }

    /// The connection opened at `now`: the server's peer id is due within the timeout.
    pub(crate) fn opened(&mut self, now: Instant) {
        self.deadline = Some(now + self.timeout.min(LONGEST_TIMER));
    }

    /// Fails once `now` reached the deadline: the server sent no peer id in time.
    pub(crate) fn check_deadline(&self, now: Instant) -> Result<(), Error> {
        match self.deadline {
            Some(deadline) if now >= deadline => Err(Error::MultiplayerHandshake {
                detail: format!(
                    "it sent no peer id within {:.1} s",
                    self.timeout.as_secs_f64()
                ),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(10);

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

    #[test]
    fn the_deadline_counts_from_the_opening() {
        let start = Instant::now();
        let mut handshake = PeerIdHandshake::new(TIMEOUT);
        // While connecting, the handshake timeout of the upgrade applies instead.
        assert!(handshake.check_deadline(start + TIMEOUT * 3).is_ok());
        let opened = start + TIMEOUT;
        handshake.opened(opened);
        assert!(handshake
            .check_deadline(opened + TIMEOUT - Duration::from_millis(1))
            .is_ok());
        assert_eq!(
            handshake
                .check_deadline(opened + TIMEOUT)
                .unwrap_err()
                .to_string(),
            "the server does not speak Godot's WebSocketMultiplayerPeer protocol: it sent no \
             peer id within 10.0 s"
        );
    }

    #[test]
    fn an_endless_timeout_still_has_a_deadline_on_the_clock() {
        let now = Instant::now();
        let mut handshake = PeerIdHandshake::new(Duration::MAX);
        handshake.opened(now);
        assert!(handshake.check_deadline(now + LONGEST_TIMER / 2).is_ok());
    }
}
