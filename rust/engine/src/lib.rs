//! The WebSocket client engine behind the `rust_websocket` Godot addon, in plain Rust.
//!
//! [`Client`] is driven by polling from the game's thread and never blocks it: one shared I/O
//! thread (a `mio` event loop) does name resolution hand-off, TCP connect, TLS (rustls) and the
//! WebSocket protocol (tungstenite) for every connection of the process. Messages flow through
//! per-connection queues with byte limits that push back on the server instead of dropping data.
//!
//! # Module map
//!
//! The game's side (its thread):
//! - `client`: [`Client`], the game's handle: non-blocking calls and the events it polls.
//!   `poll_event` is the game thread's only clock read, for auto-reconnect's delay and the
//!   multiplayer peer id's deadline; `poll_event_with` takes the time from its caller instead.
//! - `config`: [`Config`], limits and timeouts with their defaults.
//! - `request`: [`ConnectRequest`], the URL, sub-protocols and headers, validated up front.
//! - `reconnect`: auto-reconnect's backoff policy, driven with `now`.
//! - [`multiplayer`]: the wire protocol of Godot's `WebSocketMultiplayerPeer`.
//! - [`traffic_report`]: message previews and their budget for a debugger, driven with `now`.
//!
//! Between the two threads:
//! - `link`: one connection's mailbox and counters, shared by both threads.
//! - `message`, `statistics`, `handshake_response`, `error`: what the game receives.
//!
//! The I/O thread:
//! - `reactor`: the `mio` event loop serving every connection; the I/O thread's only clock read.
//! - `connection`: one connection's state machine, from resolving to the close handshake, driven
//!   with `now`.
//! - `resolver`: name resolution on a small thread pool.
//! - `dialer`: happy eyeballs TCP connects, driven with `now`.
//! - `proxy`: HTTP `CONNECT` proxies: which one, and the tunnel.
//! - `heartbeat`: pings, liveness and round-trip time, driven with `now`.
//! - `transport`: the plain or TLS byte stream and the data frames written on it.
//! - `tls`: whom `wss://` trusts, the certificate verifier, and TLS failures in words.
//! - `response_head`: the upgrade reader, which hands tungstenite the response head whole.
//! - `deflate`: permessage-deflate, on connections that negotiated it.
//! - `shared_read`: the I/O thread's one read buffer, and large messages read past tungstenite.

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
mod shared_read;
mod socks;
mod statistics;
mod tls;
pub mod traffic_report;
mod transport;

pub use client::{Client, Event, ReadyState, MAX_CLOSE_REASON_BYTES};
pub use config::DEFAULT_CONNECT_TIMEOUT;
pub use config::{
    parse_pem_certificates, Config, TlsConfig, DEFAULT_CLOSE_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_INBOUND_QUEUE_LIMIT, DEFAULT_MAX_MESSAGE_SIZE,
};
pub use config::{DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_TIMEOUT};
pub use deflate::MIN_COMPRESSED_MESSAGE_BYTES;
pub use dialer::CONNECTION_ATTEMPT_DELAY;
pub use error::Error;
pub use handshake_response::{HandshakeResponse, MAX_HANDSHAKE_BODY_BYTES};
pub use message::{Bytes, Message, Utf8Bytes};
pub use proxy::{ProxySetting, MAX_PROXY_RESPONSE_BYTES};
pub use reactor::shutdown;
pub use reconnect::{
    QueueLimit, ReconnectConfig, DEFAULT_FINAL_CLOSE_CODES, DEFAULT_RECONNECT_INITIAL_DELAY,
    DEFAULT_RECONNECT_MAX_ATTEMPTS, DEFAULT_RECONNECT_MAX_DELAY, DEFAULT_RECONNECT_QUEUE_BYTES,
};
pub use request::ConnectRequest;
pub use rustls::pki_types::CertificateDer;
pub use statistics::{CompressionTotals, Statistics};
pub use tls::{ClientCertificate, TlsInfo};
