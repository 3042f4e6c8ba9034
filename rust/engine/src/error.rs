//! The one error type of the engine. Every variant displays as a sentence a person understands.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::reconnect::QueueLimit;

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
    /// The proxy URL (from the setting or an environment variable, named by `origin`) is not a
    /// usable `http://`, `socks5://` or `socks5h://` proxy.
    InvalidProxy { origin: String, reason: String },
    /// The TLS settings cannot be used (a certificate or key that does not parse, a client
    /// certificate without its key).
    TlsSettings { detail: String },
    /// `connect` was called while a connection is still connecting, open or closing.
    AlreadyConnected,
    /// Sending or closing while the connection is not open.
    NotOpen,
    /// Sending while auto-reconnect is connecting again, with its queue off (nothing is queued).
    Reconnecting { attempt: u32 },
    /// Sending while auto-reconnect is connecting again, with its queue on but full: the message
    /// was not taken.
    ReconnectQueueFull { limit: QueueLimit },
    /// Changing the reconnect target while auto-reconnect is not on for the connection (it was
    /// off at `connect`, the connection is a Godot multiplayer peer, or the client is closed).
    ReconnectOff,
    /// Sending an empty message with [`Config::godot_multiplayer`](crate::Config): Godot's
    /// `WebSocketMultiplayerPeer` drops empty packets with an error.
    EmptyMultiplayerPacket,
    /// A close code that may not be sent (only 1000 and 3000–4999 may be).
    InvalidCloseCode { code: i64 },
    /// A close reason longer than the 123 bytes a close frame can carry.
    CloseReasonTooLong { len: usize },

    // ---- The connection attempt, in the order it goes: reported through `connection_error`.
    /// Name resolution failed.
    Resolve { host: String, detail: String },
    /// Every address of the host refused or failed the TCP connection; `attempts` holds each
    /// address tried with its error, in order (never empty).
    Connect {
        host: String,
        attempts: Vec<(SocketAddr, io::Error)>,
    },
    /// No TCP connect succeeded within [`Config::connect_timeout`](crate::Config).
    ConnectTimeout {
        host: String,
        port: u16,
        timeout: Duration,
        /// The addresses tried, in order.
        tried: Vec<SocketAddr>,
    },
    /// The proxy could not be resolved or reached; `cause` says why.
    ProxyConnect { proxy: String, cause: Box<Error> },
    /// The proxy answered `CONNECT` with another status than 2xx (407: credentials).
    ProxyRefused {
        proxy: String,
        target: String,
        status: u16,
        reason: String,
        sent_credentials: bool,
    },
    /// The proxy's answer to `CONNECT` was not a valid HTTP response.
    ProxyResponse { proxy: String, detail: String },
    /// The SOCKS5 proxy accepts none of the authentication methods offered (none, and user
    /// name and password when the proxy URL has them).
    SocksNoAcceptableMethod {
        proxy: String,
        sent_credentials: bool,
    },
    /// The SOCKS5 proxy refused the user name and password of the proxy URL (RFC 1929).
    SocksAuthRefused { proxy: String },
    /// The SOCKS5 proxy could not connect to the server; `reply` is its RFC 1928 reply code.
    SocksRefused {
        proxy: String,
        target: String,
        reply: u8,
    },
    /// The SOCKS5 proxy's answer broke RFC 1928 (or it is not a SOCKS5 proxy).
    SocksResponse { proxy: String, detail: String },
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
    /// The server's `Sec-WebSocket-Extensions` answer names an extension that was not offered,
    /// or invalid or repeated parameters (RFC 7692 section 5): the attempt failed.
    Extension { detail: String },
    /// The connection was not open within the handshake timeout.
    HandshakeTimeout {
        host: String,
        port: u16,
        timeout: Duration,
        /// The step that did not finish, e.g. "the TLS handshake".
        stage: &'static str,
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
    /// Nothing arrived from the server within the heartbeat timeout after a ping.
    HeartbeatTimeout { timeout: Duration },
    /// The server did not finish the close handshake within the close timeout.
    CloseTimeout { timeout: Duration },

    // ---- Auto-reconnect: reported when it gives up.
    /// Every reconnect attempt allowed failed; `last` is why the last one did. `discarded`
    /// messages of the reconnect queue were dropped unsent.
    ReconnectGaveUp {
        attempts: u32,
        discarded: usize,
        last: Box<Error>,
    },

    // ---- A bug in this library: reported like the failure of the phase it happened in.
    /// Code of this library panicked while serving the connection; the connection was closed and
    /// every other connection keeps running. `detail` is the panic message.
    Internal { detail: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { url, reason } => {
                write!(f, "invalid URL \"{}\": {reason}", url.escape_debug())
            }
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
            Error::InvalidProxy { origin, reason } => {
                write!(f, "invalid proxy URL in {origin}: {reason}")
            }
            Error::TlsSettings { detail } => write!(f, "invalid TLS settings: {detail}"),
            Error::AlreadyConnected => write!(
                f,
                "a connection is already in progress: call disconnect_from_host() and wait for \
                 connection_closed first"
            ),
            Error::NotOpen => write!(f, "the connection is not open"),
            Error::Reconnecting { attempt } => write!(
                f,
                "the connection is being re-established (auto-reconnect, attempt {attempt}); \
                 nothing was sent: send again once it is open"
            ),
            Error::ReconnectQueueFull {
                limit: QueueLimit::Messages { max },
            } => write!(
                f,
                "the reconnect queue is full ({max} message{}, reconnect_queue_messages): the \
                 message was not sent; send it again once reconnected",
                if *max == 1 { "" } else { "s" }
            ),
            Error::ReconnectQueueFull {
                limit: QueueLimit::Bytes { size, queued, max },
            } => write!(
                f,
                "the reconnect queue has no room for a message of {size} bytes ({queued} of \
                 {max} bytes queued, reconnect_queue_bytes): the message was not sent; send it \
                 again once reconnected"
            ),
            Error::ReconnectOff => write!(
                f,
                "auto-reconnect is not on for this connection, so there is no next attempt to \
                 change: set auto_reconnect = true before connect_to_url(), or call \
                 connect_to_url() with the new URL"
            ),
            Error::EmptyMultiplayerPacket => write!(
                f,
                "an empty packet cannot go to a Godot multiplayer server: its \
                 WebSocketMultiplayerPeer drops empty packets with an error; send at least one byte"
            ),
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
            Error::Connect { host, attempts } => match attempts.as_slice() {
                [(addr, source)] => match source.kind() {
                    io::ErrorKind::ConnectionRefused => write!(f, "connection refused by {addr}"),
                    _ if host == &addr.ip().to_string() => {
                        write!(f, "cannot connect to {addr}: {source}")
                    }
                    _ => write!(f, "cannot connect to {host} ({addr}): {source}"),
                },
                attempts => {
                    write!(f, "cannot connect to {host}: ")?;
                    for (index, (addr, source)) in attempts.iter().enumerate() {
                        let separator = if index == 0 { "" } else { "; " };
                        match source.kind() {
                            io::ErrorKind::ConnectionRefused => {
                                write!(f, "{separator}connection refused by {addr}")?
                            }
                            _ => write!(f, "{separator}{addr}: {source}")?,
                        }
                    }
                    Ok(())
                }
            },
            Error::ConnectTimeout {
                host,
                port,
                timeout,
                tried,
            } => {
                let tried: Vec<String> = tried.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "cannot connect to {host}:{port}: no answer within {:.1} s (connect \
                     timeout) from {}",
                    timeout.as_secs_f64(),
                    tried.join(", ")
                )
            }
            Error::ProxyConnect { proxy, cause } => {
                write!(f, "cannot reach the proxy {proxy}: {cause}")
            }
            Error::ProxyRefused {
                proxy,
                target,
                status,
                reason,
                sent_credentials,
            } => {
                write!(
                    f,
                    "proxy {proxy} refused the tunnel to {target} with HTTP {status}{}{reason}",
                    if reason.is_empty() { "" } else { " " }
                )?;
                match (status, sent_credentials) {
                    (407, true) => write!(
                        f,
                        ": it did not accept the user name and password of the proxy URL"
                    ),
                    (407, false) => write!(
                        f,
                        ": it wants a user name and password \
                         (http://user:password@host:port in the proxy URL)"
                    ),
                    _ => Ok(()),
                }
            }
            Error::ProxyResponse { proxy, detail } => {
                write!(
                    f,
                    "proxy {proxy} gave an invalid answer to CONNECT: {detail}"
                )
            }
            Error::SocksNoAcceptableMethod {
                proxy,
                sent_credentials: false,
            } => write!(
                f,
                "SOCKS5 proxy {proxy} wants a user name and password \
                 (socks5://user:password@host:port in the proxy URL)"
            ),
            Error::SocksNoAcceptableMethod {
                proxy,
                sent_credentials: true,
            } => write!(
                f,
                "SOCKS5 proxy {proxy} accepts neither of the authentication methods offered (none, \
                 and user name and password): it wants one this client does not support"
            ),
            Error::SocksAuthRefused { proxy } => write!(
                f,
                "SOCKS5 proxy {proxy} did not accept the user name and password of the proxy URL"
            ),
            Error::SocksRefused {
                proxy,
                target,
                reply,
            } => write!(
                f,
                "SOCKS5 proxy {proxy} could not connect to {target}: {} (SOCKS reply {reply})",
                crate::socks::reply_in_words(*reply)
            ),
            Error::SocksResponse { proxy, detail } => {
                write!(f, "SOCKS5 proxy {proxy} gave an invalid answer: {detail}")
            }
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
            Error::Extension { detail } => write!(
                f,
                "invalid Sec-WebSocket-Extensions in the server's handshake response: {detail}"
            ),
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
            Error::HeartbeatTimeout { timeout } => write!(
                f,
                "connection lost: the server sent nothing for {:.1} s after a ping \
                 (heartbeat timeout)",
                timeout.as_secs_f64()
            ),
            Error::CloseTimeout { timeout } => write!(
                f,
                "server did not finish the close handshake within {:.1} s (close timeout)",
                timeout.as_secs_f64()
            ),
            Error::ReconnectGaveUp {
                attempts,
                discarded,
                last,
            } => {
                write!(
                    f,
                    "gave up reconnecting after {attempts} attempt{}; the last one failed: {last}",
                    if *attempts == 1 { "" } else { "s" }
                )?;
                match discarded {
                    0 => Ok(()),
                    1 => write!(f, "; the message queued meanwhile was not sent"),
                    _ => write!(
                        f,
                        "; the {discarded} messages queued meanwhile were not sent"
                    ),
                }
            }
            Error::Internal { detail } => write!(
                f,
                "internal error in rust_websocket (a bug, please report it): {detail}; the \
                 connection was closed"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::ReconnectGaveUp { last, .. } => Some(last.as_ref()),
            Error::Connect { attempts, .. } => attempts
                .first()
                .map(|(_, source)| source as &(dyn std::error::Error + 'static)),
            Error::ProxyConnect { cause, .. } => Some(cause.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant, with values as a connection would give them.
    fn one_of_each() -> Vec<Error> {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let refused = || io::Error::from(io::ErrorKind::ConnectionRefused);
        let proxy = "http://127.0.0.1:3128".to_owned();
        vec![
            Error::InvalidUrl {
                url: "ws//x".into(),
                reason: "relative URL without a base".into(),
            },
            Error::UnsupportedScheme {
                scheme: "http".into(),
            },
            Error::InvalidHeader {
                line: "no colon".into(),
                reason: "expected \"Name: value\"".into(),
            },
            Error::InvalidProtocol {
                protocol: "a b".into(),
            },
            Error::InvalidProxy {
                origin: "proxy_url".into(),
                reason: "unknown scheme ftp".into(),
            },
            Error::TlsSettings {
                detail: "the client certificate has no key".into(),
            },
            Error::AlreadyConnected,
            Error::NotOpen,
            Error::Reconnecting { attempt: 2 },
            Error::EmptyMultiplayerPacket,
            Error::ReconnectOff,
            Error::ReconnectQueueFull {
                limit: QueueLimit::Bytes {
                    size: 3,
                    queued: 8,
                    max: 10,
                },
            },
            Error::InvalidCloseCode { code: 999 },
            Error::CloseReasonTooLong { len: 200 },
            Error::Resolve {
                host: "nowhere.invalid".into(),
                detail: "no such host".into(),
            },
            Error::Connect {
                host: "localhost".into(),
                attempts: vec![(addr, refused())],
            },
            Error::ConnectTimeout {
                host: "localhost".into(),
                port: 9,
                timeout: Duration::from_secs(5),
                tried: vec![addr],
            },
            Error::ProxyConnect {
                proxy: proxy.clone(),
                cause: Box::new(Error::Connect {
                    host: "127.0.0.1".into(),
                    attempts: vec![(addr, refused())],
                }),
            },
            Error::ProxyRefused {
                proxy: proxy.clone(),
                target: "example.com:443".into(),
                status: 407,
                reason: "Proxy Authentication Required".into(),
                sent_credentials: false,
            },
            Error::ProxyResponse {
                proxy: proxy.clone(),
                detail: "its answer is not HTTP".into(),
            },
            Error::SocksNoAcceptableMethod {
                proxy: "socks5://127.0.0.1:1080".into(),
                sent_credentials: true,
            },
            Error::SocksAuthRefused {
                proxy: "socks5://127.0.0.1:1080".into(),
            },
            Error::SocksRefused {
                proxy: "socks5://127.0.0.1:1080".into(),
                target: "example.com:443".into(),
                reply: 5,
            },
            Error::SocksResponse {
                proxy: "socks5://127.0.0.1:1080".into(),
                detail: "version 4 in its answer".into(),
            },
            Error::Tls {
                host: "localhost".into(),
                detail: "the certificate expired on 2020-01-01".into(),
            },
            Error::UpgradeRefused {
                status: 403,
                reason: "Forbidden".into(),
            },
            Error::Handshake {
                detail: "the Sec-WebSocket-Accept header is wrong".into(),
            },
            Error::SubProtocol {
                offered: vec!["chat".into()],
                server_chose_one: false,
            },
            Error::Extension {
                detail: "x-unknown was not offered".into(),
            },
            Error::HandshakeTimeout {
                host: "localhost".into(),
                port: 9,
                timeout: Duration::from_secs(5),
                stage: "the TLS handshake",
            },
            Error::MultiplayerHandshake {
                detail: "its first message is text, not a peer id".into(),
            },
            Error::MessageTooBig {
                size: 2 << 20,
                max_size: 1 << 20,
            },
            Error::Protocol {
                detail: "a masked frame".into(),
                close_code: 1002,
            },
            Error::ConnectionLost {
                detail: "Connection reset by peer (os error 104)".into(),
            },
            Error::HeartbeatTimeout {
                timeout: Duration::from_secs(10),
            },
            Error::CloseTimeout {
                timeout: Duration::from_secs(5),
            },
            Error::ReconnectGaveUp {
                attempts: 3,
                discarded: 2,
                last: Box::new(Error::NotOpen),
            },
            Error::Internal {
                detail: "index out of bounds".into(),
            },
        ]
    }

    /// Which variant `error` is; the match has no wildcard, so a new variant does not compile
    /// until it is added here and to [`one_of_each`].
    fn variant_index(error: &Error) -> usize {
        match error {
            Error::InvalidUrl { .. } => 0,
            Error::UnsupportedScheme { .. } => 1,
            Error::InvalidHeader { .. } => 2,
            Error::InvalidProtocol { .. } => 3,
            Error::InvalidProxy { .. } => 4,
            Error::TlsSettings { .. } => 5,
            Error::AlreadyConnected => 6,
            Error::NotOpen => 7,
            Error::Reconnecting { .. } => 8,
            Error::EmptyMultiplayerPacket => 9,
            Error::InvalidCloseCode { .. } => 10,
            Error::CloseReasonTooLong { .. } => 11,
            Error::Resolve { .. } => 12,
            Error::Connect { .. } => 13,
            Error::ConnectTimeout { .. } => 14,
            Error::ProxyConnect { .. } => 15,
            Error::ProxyRefused { .. } => 16,
            Error::ProxyResponse { .. } => 17,
            Error::SocksNoAcceptableMethod { .. } => 18,
            Error::SocksAuthRefused { .. } => 19,
            Error::SocksRefused { .. } => 20,
            Error::SocksResponse { .. } => 21,
            Error::Tls { .. } => 22,
            Error::UpgradeRefused { .. } => 23,
            Error::Handshake { .. } => 24,
            Error::SubProtocol { .. } => 25,
            Error::Extension { .. } => 26,
            Error::HandshakeTimeout { .. } => 27,
            Error::MultiplayerHandshake { .. } => 28,
            Error::MessageTooBig { .. } => 29,
            Error::Protocol { .. } => 30,
            Error::ConnectionLost { .. } => 31,
            Error::HeartbeatTimeout { .. } => 32,
            Error::CloseTimeout { .. } => 33,
            Error::ReconnectGaveUp { .. } => 34,
            Error::Internal { .. } => 35,
            Error::ReconnectOff => 36,
            Error::ReconnectQueueFull { .. } => 37,
        }
    }

    #[test]
    fn every_error_reads_as_a_sentence_without_debug_formatting() {
        let errors = one_of_each();
        let mut seen: Vec<usize> = errors.iter().map(variant_index).collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..errors.len()).collect::<Vec<_>>(),
            "one of each variant"
        );
        for error in errors {
            let text = error.to_string();
            let debug_marks = [
                "Some(", "None", "Other(", "Kind(", "::", "{ ", " }", "Error {",
            ];
            for mark in debug_marks {
                assert!(!text.contains(mark), "{mark:?} in {text:?}");
            }
            assert!(
                text.split_whitespace().count() >= 4,
                "not a sentence: {text:?}"
            );
            assert!(
                !text.ends_with('.'),
                "a message ends without a full stop: {text:?}"
            );
            // Lowercase, as it follows "connection_error: " or similar; an acronym may lead.
            let first_word = text.split_whitespace().next().unwrap_or_default();
            let acronym = first_word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            assert!(
                acronym || !first_word.starts_with(char::is_uppercase),
                "starts lowercase: {text:?}"
            );
            eprintln!("{text}");
        }
    }
}
