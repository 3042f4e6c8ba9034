//! The one error type of the engine. Every variant displays as a sentence a person understands.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// What went wrong, either when calling the [`Client`](crate::Client) (misuse, returned at once)
/// or with the connection (reported through [`Client::last_error`](crate::Client::last_error)).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    // ---- The caller's input or misuse: returned at once, nothing happens on the network.
    /// The URL could not be parsed or has no host.
    InvalidUrl { url: String, reason: String },
    /// The URL's scheme is neither `ws` nor `wss`.
    UnsupportedScheme { scheme: String },
    /// A custom header line is not `Name: value` or is one the handshake sets itself.
    InvalidHeader { line: String, reason: String },
    /// A sub-protocol name is empty or holds characters HTTP tokens cannot carry.
    InvalidProtocol { protocol: String },
    /// `connect` was called while a connection is still connecting, open or closing.
    AlreadyConnected,
    /// Sending or closing while the connection is not open.
    NotOpen,
    /// A close code that may not be sent (only 1000 and 3000–4999 may be).
    InvalidCloseCode { code: i64 },
    /// A close reason longer than the 123 bytes a close frame can carry.
    CloseReasonTooLong { len: usize },

    // ---- The connection attempt: reported through `connection_error`.
    /// Name resolution failed.
    Resolve { host: String, detail: String },
    /// Every address of the host refused or failed the TCP connection.
    Connect {
        host: String,
        addr: SocketAddr,
        source: io::Error,
    },
    /// The connection was not open within the handshake timeout.
    HandshakeTimeout {
        host: String,
        port: u16,
        timeout: Duration,
        /// The step that did not finish, e.g. "the TLS handshake".
        stage: &'static str,
    },
    /// The TLS handshake failed.
    Tls { host: String, detail: String },
    /// The server answered the upgrade request with another HTTP status than 101.
    UpgradeRefused { status: u16, reason: String },
    /// The server's upgrade response broke RFC 6455.
    Handshake { detail: String },
    /// The server picked a sub-protocol that was not offered, or none of those offered.
    SubProtocol {
        offered: Vec<String>,
        server_chose_one: bool,
    },

    /// The server did not open the way Godot's `WebSocketMultiplayerPeer` does.
    MultiplayerHandshake { detail: String },

    // ---- An open connection: reported with `connection_closed`.
    /// The server sent a message larger than [`Config::max_message_size`](crate::Config).
    MessageTooBig { size: usize, max_size: usize },
    /// The server broke the WebSocket protocol; the connection was failed with `close_code`.
    Protocol { detail: String, close_code: u16 },
    /// The TCP connection ended without a close handshake.
    ConnectionLost { detail: String },
    /// The server did not finish the close handshake within the close timeout.
    CloseTimeout { timeout: Duration },
    /// Nothing arrived from the server within the heartbeat timeout after a ping.
    HeartbeatTimeout { timeout: Duration },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { url, reason } => write!(f, "invalid URL \"{url}\": {reason}"),
            Error::UnsupportedScheme { scheme } => {
                write!(
                    f,
                    "unsupported URL scheme \"{scheme}\": use ws:// or wss://"
                )
            }
            Error::InvalidHeader { line, reason } => {
                write!(
                    f,
                    "invalid custom header \"{}\": {reason}",
                    line.escape_debug()
                )
            }
            Error::InvalidProtocol { protocol } => write!(
                f,
                "invalid sub-protocol \"{}\": it must be a non-empty HTTP token \
                 (letters, digits and !#$%&'*+-.^_`|~)",
                protocol.escape_debug()
            ),
            Error::AlreadyConnected => write!(
                f,
                "a connection is already in progress: call disconnect_from_host() and wait for \
                 connection_closed first"
            ),
            Error::NotOpen => write!(f, "the connection is not open"),
            Error::InvalidCloseCode { code } => write!(
                f,
                "close code {code} may not be sent: use 1000 or a code from 3000 to 4999"
            ),
            Error::CloseReasonTooLong { len } => {
                write!(
                    f,
                    "close reason is {len} bytes long; at most 123 bytes fit in a close frame"
                )
            }
            Error::Resolve { host, detail } => write!(f, "cannot resolve host {host}: {detail}"),
            Error::Connect { host, addr, source } => match source.kind() {
                io::ErrorKind::ConnectionRefused => write!(f, "connection refused by {addr}"),
                _ if host == &addr.ip().to_string() => {
                    write!(f, "cannot connect to {addr}: {source}")
                }
                _ => write!(f, "cannot connect to {host} ({addr}): {source}"),
            },
            Error::HandshakeTimeout {
                host,
                port,
                timeout,
                stage,
            } => write!(
                f,
                "connection to {host}:{port} was not open after {:.1} s (handshake timeout, \
                 during {stage})",
                timeout.as_secs_f64()
            ),
            Error::Tls { host, detail } => write!(f, "TLS handshake with {host} failed: {detail}"),
            Error::UpgradeRefused { status, reason } => write!(
                f,
                "server refused the WebSocket upgrade with HTTP {status}{}{reason}",
                if reason.is_empty() { "" } else { " " }
            ),
            Error::Handshake { detail } => {
                write!(f, "invalid WebSocket handshake response: {detail}")
            }
            Error::SubProtocol {
                offered,
                server_chose_one: true,
            } if offered.is_empty() => {
                write!(
                    f,
                    "server selected a sub-protocol although none was requested"
                )
            }
            Error::SubProtocol {
                offered,
                server_chose_one: true,
            } => write!(
                f,
                "server selected a sub-protocol that is not one of those requested: {}",
                offered.join(", ")
            ),
            Error::SubProtocol {
                offered,
                server_chose_one: false,
            } => {
                write!(
                    f,
                    "server accepted none of the requested sub-protocols: {}",
                    offered.join(", ")
                )
            }
            Error::MultiplayerHandshake { detail } => write!(
                f,
                "the server does not speak Godot's WebSocketMultiplayerPeer protocol: {detail}"
            ),
            Error::MessageTooBig { size, max_size } => write!(
                f,
                "server sent a message of {size} bytes, over the limit of {max_size} bytes \
                 (max_message_size); closed with code 1009"
            ),
            Error::Protocol { detail, close_code } => {
                write!(
                    f,
                    "server broke the WebSocket protocol: {detail}; closed with code {close_code}"
                )
            }
            Error::ConnectionLost { detail } => {
                write!(f, "connection lost without a close handshake: {detail}")
            }
            Error::CloseTimeout { timeout } => write!(
                f,
                "server did not finish the close handshake within {:.1} s (close timeout)",
                timeout.as_secs_f64()
            ),
            Error::HeartbeatTimeout { timeout } => write!(
                f,
                "connection lost: the server sent nothing for {:.1} s after a ping \
                 (heartbeat timeout)",
                timeout.as_secs_f64()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source, .. } => Some(source),
            _ => None,
        }
    }
}
