//! Real WebSocket servers on loopback for the engine's tests, and a polling helper with a
//! watchdog so a hang fails fast instead of stalling the suite.

#![allow(dead_code)] // Each test file uses a different part of this module.

pub mod certificates;
pub mod net;
pub mod socks;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rcgen::{CertificateParams, KeyPair};
use rust_websocket_engine::{CertificateDer, Client, ConnectRequest, Event};
use rustls::pki_types::PrivateKeyDer;
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tungstenite::handshake::server::{Request, Response};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

/// How long any single wait in a test may take before the test fails.
pub const WATCHDOG: Duration = Duration::from_secs(20);
/// How many times longer the waits of [`poll_until`] and [`receive`] may take when the tests run
/// under a user-mode emulator (qemu-user; `RUST_WEBSOCKET_TEST_EMULATOR` names it), where code
/// runs many times slower: moving a 20 MB message there takes longer than [`WATCHDOG`].
const EMULATED_WATCHDOG_FACTOR: u32 = 10;

/// [`WATCHDOG`], or [`EMULATED_WATCHDOG_FACTOR`] times it under an emulator.
pub fn watchdog() -> Duration {
    if std::env::var_os("RUST_WEBSOCKET_TEST_EMULATOR").is_some() {
        WATCHDOG * EMULATED_WATCHDOG_FACTOR
    } else {
        WATCHDOG
    }
}

/// Starts a server on 127.0.0.1 that runs `session` for each accepted WebSocket connection,
/// on its own thread. `select_protocol` picks the sub-protocol to answer from the offered list.
pub fn serve<F>(select_protocol: fn(&[String]) -> Option<String>, session: F) -> SocketAddr
where
    F: Fn(WebSocket<TcpStream>, Request) + Send + Sync + Clone + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let session = session.clone();
            thread::spawn(move || {
                let mut seen = None;
                let config = WebSocketConfig::default()
                    .max_message_size(None)
                    .max_frame_size(None);
                #[allow(clippy::result_large_err)]
                // tungstenite's callback type returns its large error
                let callback = |request: &Request, mut response: Response| {
                    seen = Some(request.clone());
                    let offered: Vec<String> = request
                        .headers()
                        .get("sec-websocket-protocol")
                        .and_then(|v| v.to_str().ok())
                        .map(|v| v.split(',').map(|p| p.trim().to_owned()).collect())
                        .unwrap_or_default();
                    if let Some(protocol) = select_protocol(&offered) {
                        response
                            .headers_mut()
                            .insert("sec-websocket-protocol", protocol.parse().unwrap());
                    }
                    Ok(response)
                };
                if let Ok(socket) =
                    tungstenite::accept_hdr_with_config(stream, callback, Some(config))
                {
                    session(socket, seen.unwrap());
                }
            });
        }
    });
    addr
}

/// The sub-protocol policy of a server that supports none.
pub fn no_protocol(_: &[String]) -> Option<String> {
    None
}

/// An echo server: every text or binary message is sent back; closes when the client closes.
pub fn echo_server() -> SocketAddr {
    serve(no_protocol, |mut socket, _| loop {
        match socket.read() {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                if socket.send(message).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    })
}

/// A raw TCP server that runs `session` on each accepted stream (for servers that misbehave).
pub fn serve_raw<F>(session: F) -> SocketAddr
where
    F: Fn(TcpStream) + Send + Sync + Clone + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let session = session.clone();
            thread::spawn(move || session(stream));
        }
    });
    addr
}

/// Reads an HTTP request head from `stream` (for raw servers).
pub fn read_request_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Writes `bytes` and keeps the stream open for a while (for raw servers).
pub fn write_and_linger(mut stream: TcpStream, bytes: &[u8], linger: Duration) {
    let _ = stream.write_all(bytes);
    thread::sleep(linger);
}

/// A client connecting to `ws://{addr}{path}`.
pub fn connect(addr: SocketAddr, path: &str) -> Client {
    let mut client = Client::default();
    client
        .connect(ConnectRequest::new(&format!("ws://{addr}{path}")).unwrap())
        .unwrap();
    client
}

/// Polls until an event matching `wanted` arrives and returns every event seen on the way.
/// Panics after [`watchdog()`].
pub fn poll_until(client: &mut Client, wanted: impl Fn(&Event) -> bool) -> Vec<Event> {
    let started = Instant::now();
    let watchdog = watchdog();
    let mut seen = Vec::new();
    loop {
        while let Some(event) = client.poll_event() {
            let done = wanted(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
        assert!(
            started.elapsed() < watchdog,
            "watchdog: no matching event within {watchdog:?}; saw {seen:?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Polls until the attempt fails and returns the last error as text, panicking if it opens.
pub fn failure(client: &mut Client) -> String {
    let events = poll_until(client, |e| {
        matches!(e, Event::Failed | Event::Opened { .. })
    });
    assert_eq!(
        events.last(),
        Some(&Event::Failed),
        "expected a failure, got {events:?}"
    );
    assert_eq!(client.state(), rust_websocket_engine::ReadyState::Closed);
    client
        .last_error()
        .expect("a failure has a last error")
        .to_string()
}

/// Polls until the connection is open, panicking on failure.
pub fn open(client: &mut Client) {
    let events = poll_until(client, |e| {
        matches!(
            e,
            Event::Opened { .. } | Event::Failed | Event::Closed { .. }
        )
    });
    assert!(
        matches!(events.last(), Some(Event::Opened { .. })),
        "expected the connection to open, got {events:?}: {:?}",
        client.last_error().map(ToString::to_string)
    );
}

/// Polls until `count` messages are queued and returns them in order.
pub fn receive(client: &mut Client, count: usize) -> Vec<rust_websocket_engine::Message> {
    let started = Instant::now();
    let watchdog = watchdog();
    let mut messages = Vec::new();
    while messages.len() < count {
        while client.poll_event().is_some() {}
        while let Some(message) = client.take_message() {
            messages.push(message);
        }
        assert!(
            started.elapsed() < watchdog,
            "watchdog: got {} of {count} messages within {watchdog:?}",
            messages.len()
        );
        thread::sleep(Duration::from_millis(1));
    }
    messages
}

/// A TLS stream a [`serve_tls`] session gets.
pub type ServerTlsStream = StreamOwned<ServerConnection, TcpStream>;

/// A TLS server on 127.0.0.1 with `config`: every connection, wrapped in TLS (the handshake runs
/// as `session` first reads), goes to `session` on a thread of its own.
pub fn serve_tls<F>(config: ServerConfig, session: F) -> SocketAddr
where
    F: Fn(ServerTlsStream) + Send + Sync + 'static,
{
    let config = Arc::new(config);
    let session = Arc::new(session);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (config, session) = (Arc::clone(&config), Arc::clone(&session));
            thread::spawn(move || {
                session(StreamOwned::new(
                    ServerConnection::new(config).unwrap(),
                    stream,
                ))
            });
        }
    });
    addr
}

/// A server configuration presenting a fresh self-signed certificate for `name`, and that
/// certificate, for the client to trust.
pub fn self_signed_server_config(name: &str) -> (ServerConfig, CertificateDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let certificate = CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let config = server_config(
        rustls::DEFAULT_VERSIONS,
        vec![certificate.der().clone()],
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    );
    (config, certificate.der().clone())
}

/// A server configuration speaking `versions` (e.g. [`rustls::DEFAULT_VERSIONS`]) that presents
/// `chain` (the server's certificate first) with its `key`.
pub fn server_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> ServerConfig {
    ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap()
}

/// A TLS WebSocket server on 127.0.0.1 with `config` that sends back every text or binary
/// message.
pub fn tls_echo_server(config: ServerConfig) -> SocketAddr {
    serve_tls(config, |tls| {
        let Ok(mut socket) = tungstenite::accept(tls) else {
            return;
        };
        while let Ok(message) = socket.read() {
            if (message.is_text() || message.is_binary()) && socket.send(message).is_err() {
                return;
            }
        }
    })
}
