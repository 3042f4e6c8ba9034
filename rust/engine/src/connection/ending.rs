//! How a connection ends: the close frames exchanged, and tungstenite's errors in the engine's
//! words. Pure functions of what they are given: the connection records what they decide.

use std::io;

use tungstenite::error::{ProtocolError, SubProtocolError};
use tungstenite::protocol::frame::coding::CloseCode;

use crate::deflate::InvalidCompressedData;
use crate::tls::HandshakeWitness;
use crate::{Config, ConnectRequest, Error, HandshakeResponse};

/// How an open connection ended.
pub(super) struct Ending {
    pub(super) clean: bool,
    pub(super) error: Option<Error>,
    /// The code we fail the connection with (RFC 6455 section 7.1.7), when we fail it.
    pub(super) fail_with: Option<CloseCode>,
}

impl Ending {
    /// An ending that fails the connection with no close frame of ours.
    pub(super) fn new(clean: bool, error: Option<Error>) -> Self {
        Self {
            clean,
            error,
            fail_with: None,
        }
    }
}

/// The close frames exchanged so far.
#[derive(Default)]
pub(super) enum CloseState {
    /// Neither side sent one: the heartbeat runs.
    #[default]
    None,
    /// We sent ours with this code.
    Sent(CloseCode),
    /// The server sent its own with this code and reason (tungstenite answers it).
    Received { code: CloseCode, reason: String },
    /// Both were sent: only the TCP close is missing.
    Exchanged {
        sent: CloseCode,
        received: CloseCode,
        reason: String,
    },
}

impl CloseState {
    /// The code of the close frame we sent, if any.
    pub(super) fn sent(&self) -> Option<CloseCode> {
        match self {
            CloseState::Sent(code) | CloseState::Exchanged { sent: code, .. } => Some(*code),
            CloseState::None | CloseState::Received { .. } => None,
        }
    }

    /// The code and reason of the server's close frame, if any.
    pub(super) fn received(&self) -> Option<(CloseCode, &str)> {
        match self {
            CloseState::Received { code, reason }
            | CloseState::Exchanged {
                received: code,
                reason,
                ..
            } => Some((*code, reason)),
            CloseState::None | CloseState::Sent(_) => None,
        }
    }

    pub(super) fn is_exchanged(&self) -> bool {
        matches!(self, CloseState::Exchanged { .. })
    }

    /// We sent (or, failing the connection, send) a close frame with `code`.
    pub(super) fn send(&mut self, code: CloseCode) {
        *self = match std::mem::take(self) {
            CloseState::None | CloseState::Sent(_) => CloseState::Sent(code),
            CloseState::Received {
                code: received,
                reason,
            }
            | CloseState::Exchanged {
                received, reason, ..
            } => CloseState::Exchanged {
                sent: code,
                received,
                reason,
            },
        };
    }

    /// The server's close frame arrived.
    pub(super) fn receive(&mut self, code: CloseCode, reason: String) {
        *self = match self.sent() {
            None => CloseState::Received { code, reason },
            Some(sent) => CloseState::Exchanged {
                sent,
                received: code,
                reason,
            },
        };
    }
}

/// How a tungstenite error ends an open connection whose close frames are `close`. Protocol and
/// size violations fail the connection with the matching close code (RFC 6455 section 7.1.7).
pub(super) fn ending_from(error: tungstenite::Error, close: &CloseState) -> Ending {
    use tungstenite::error::CapacityError;
    use tungstenite::Error as E;
    let protocol_error = |detail: String| {
        let close_code = CloseCode::Protocol;
        let error = Error::Protocol {
            detail,
            close_code: close_code.into(),
        };
        (close_code, error)
    };
    let (close_code, error) = match error {
        E::ConnectionClosed | E::AlreadyClosed => {
            let clean = close.received().is_some();
            let error = (!clean).then(|| Error::ConnectionLost {
                detail: "the server closed the connection".into(),
            });
            return Ending::new(clean, error);
        }
        E::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            let detail = "the server closed the TCP connection".into();
            return Ending::new(false, Some(Error::ConnectionLost { detail }));
        }
        E::Io(error)
            if error
                .get_ref()
                .is_some_and(|inner| inner.is::<InvalidCompressedData>()) =>
        {
            protocol_error(error.to_string())
        }
        // Both close frames were exchanged: how TCP (or TLS, many servers skip its
        // close_notify) ends after that no longer matters.
        E::Io(_) if close.is_exchanged() => return Ending::new(true, None),
        E::Io(error) => {
            let detail = error.to_string();
            return Ending::new(false, Some(Error::ConnectionLost { detail }));
        }
        E::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
            (CloseCode::Size, Error::MessageTooBig { size, max_size })
        }
        E::Utf8(_) => {
            let close_code = CloseCode::Invalid;
            let error = Error::Protocol {
                detail: "a text message is not valid UTF-8".into(),
                close_code: close_code.into(),
            };
            (close_code, error)
        }
        // The protocol error's own words, without tungstenite's "WebSocket protocol error:".
        E::Protocol(violation) => protocol_error(violation.to_string()),
        other => protocol_error(other.to_string()),
    };
    Ending {
        clean: false,
        error: Some(error),
        fail_with: Some(close_code),
    }
}

/// Maps a failed upgrade to a sentence; `witness` is what the server asked during the TLS
/// handshake.
pub(super) fn handshake_error(
    error: tungstenite::Error,
    request: &ConnectRequest,
    config: &Config,
    witness: &HandshakeWitness,
) -> Error {
    use tungstenite::Error as E;
    let host = request.host().to_owned();
    match error {
        E::Http(response) => {
            let response = HandshakeResponse::new(&response);
            Error::UpgradeRefused {
                status: response.status,
                reason: response.reason,
            }
        }
        // tungstenite's word for TCP closing before the upgrade response was complete.
        E::Protocol(ProtocolError::HandshakeIncomplete) => Error::Handshake {
            detail: "the server closed the connection before answering the upgrade".into(),
        },
        E::Protocol(ProtocolError::SecWebSocketAcceptKeyMismatch) => Error::Handshake {
            detail: "its Sec-WebSocket-Accept does not match the request's key (is it a \
                     WebSocket server?)"
                .into(),
        },
        // tungstenite's flood check; the transport hands it the response head whole, so
        // only a head over the limit trips it.
        E::AttackAttempt => Error::Handshake {
            detail: format!(
                "the response head is over {} KiB",
                crate::response_head::MAX_RESPONSE_HEAD_BYTES / 1024
            ),
        },
        E::Capacity(tungstenite::error::CapacityError::TooManyHeaders) => Error::Handshake {
            detail: format!(
                "the response has more than {} header lines",
                tungstenite::handshake::headers::MAX_HEADERS
            ),
        },
        E::Protocol(ProtocolError::SecWebSocketSubProtocolError(kind)) => Error::SubProtocol {
            offered: request.protocols().to_vec(),
            server_chose_one: !matches!(kind, SubProtocolError::NoSubProtocol),
        },
        E::Io(error) => match error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => {
                let checked_name = config.tls.server_name.as_deref().unwrap_or(&host);
                let detail = crate::tls::describe_tls_error(tls, checked_name, &config.tls);
                Error::Tls { host, detail }
            }
            None if request.is_secure()
                && (error.kind() == io::ErrorKind::UnexpectedEof
                    || witness.client_certificate_requested()
                        && matches!(
                            error.kind(),
                            io::ErrorKind::ConnectionReset
                                | io::ErrorKind::BrokenPipe
                                | io::ErrorKind::ConnectionAborted
                        )) =>
            {
                Error::Tls {
                    host,
                    detail: crate::tls::describe_closed_handshake(witness, &config.tls),
                }
            }
            None => match error.kind() {
                io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted => Error::Handshake {
                    detail: "the server closed the connection before answering the upgrade".into(),
                },
                _ => Error::Handshake {
                    detail: error.to_string(),
                },
            },
        },
        E::Protocol(violation) => Error::Handshake {
            detail: violation.to_string(),
        },
        other => Error::Handshake {
            detail: other.to_string(),
        },
    }
}
