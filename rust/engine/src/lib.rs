//! The WebSocket client engine behind the `rust_websocket` Godot addon, in plain Rust.
//!
//! [`Client`] is driven by polling from the game's thread and never blocks it: one shared I/O
//! thread (a `mio` event loop) does name resolution hand-off, TCP connect, TLS (rustls) and the
//! WebSocket protocol (tungstenite) for every connection of the process. Messages flow through
//! per-connection queues with byte limits that push back on the server instead of dropping data.

mod client;
mod config;
mod connection;
mod deflate;
mod dialer;
mod error;
mod handshake_response;
mod heartbeat;
mod link;
mod message;
pub mod multiplayer;
mod proxy;
mod reactor;
mod reconnect;
mod request;
mod resolver;
mod response_head;
mod statistics;
mod transport;

pub use client::{Client, Event, ReadyState, MAX_CLOSE_REASON_BYTES};
pub use config::DEFAULT_CONNECT_TIMEOUT;
pub use config::{
    parse_pem_certificates, Config, TlsConfig, DEFAULT_CLOSE_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_INBOUND_QUEUE_LIMIT, DEFAULT_MAX_MESSAGE_SIZE,
};
pub use config::{DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_TIMEOUT};
pub use deflate::{CompressionTotals, MIN_COMPRESSED_MESSAGE_BYTES};
pub use dialer::CONNECTION_ATTEMPT_DELAY;
pub use error::Error;
pub use handshake_response::{HandshakeResponse, MAX_HANDSHAKE_BODY_BYTES};
pub use message::{Bytes, Message, Utf8Bytes};
pub use proxy::{ProxySetting, MAX_PROXY_RESPONSE_BYTES};
pub use reactor::shutdown;
pub use reconnect::{
    ReconnectConfig, DEFAULT_FINAL_CLOSE_CODES, DEFAULT_RECONNECT_INITIAL_DELAY,
    DEFAULT_RECONNECT_MAX_ATTEMPTS, DEFAULT_RECONNECT_MAX_DELAY,
};
pub use request::ConnectRequest;
pub use rustls::pki_types::CertificateDer;
pub use statistics::Statistics;
pub use transport::TlsInfo;
