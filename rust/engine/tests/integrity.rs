//! Data integrity: thousands of random text and binary messages of random sizes, from 0 B up to
//! 20 MB, each way over `ws://` and `wss://`; none may be lost, reordered, duplicated or altered.
//!
//! Both ends make message `i` from the same seed ([`expected_message`]), so each side checks every
//! message byte for byte (stronger than a checksum) and names the first bad one. Client → server:
//! the client sends them all (keeping at most [`OUTBOUND_WINDOW`] bytes queued) and the
//! server, which checks each one as it arrives, answers with one report. Server → client: the
//! server sends them all and closes; the client checks each one and that nothing else came.
//!
//! Sizes (see [`message_size`]): every [`LARGE_EVERY`]th message is large, log-uniform from
//! 1 MiB to [`LARGEST_MESSAGE`] (20 MB), and message [`LARGEST_AT`] is exactly 20 MB; the others
//! are log-uniform from 1 B to [`SMALL_MAX`] (64 KiB), with one in [`EMPTY_ONE_IN`] empty. For
//! 10,000 messages and the default seed that is 167 MB per direction and transport (about
//! 60 MB of it small messages); the four transfers take about a minute together in a debug build
//! on a loaded 2-core machine. Half the messages are
//! text: valid UTF-8 mixing 1- to 4-byte characters.
//!
//! `RUST_WEBSOCKET_INTEGRITY_MESSAGES` (default [`DEFAULT_MESSAGES`]) and
//! `RUST_WEBSOCKET_INTEGRITY_SEED` (default [`DEFAULT_SEED`], printed) change the run.

mod support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use rust_websocket_engine::{
    Bytes, CertificateDer, Client, Config, ConnectRequest, Event, Message, TlsConfig, Utf8Bytes,
};
use rustls::{ServerConnection, StreamOwned};
use support::*;
use tungstenite::handshake::server::{Request, Response};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::WebSocket;

/// Messages per direction and transport unless `RUST_WEBSOCKET_INTEGRITY_MESSAGES` says otherwise.
const DEFAULT_MESSAGES: usize = 10_000;
/// The seed unless `RUST_WEBSOCKET_INTEGRITY_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x5eed_2026;
/// The largest message: 20 MB.
const LARGEST_MESSAGE: usize = 20_000_000;
/// Smallest size of a large message: 1 MiB.
const LARGE_MIN: usize = 1 << 20;
/// Largest size of an ordinary message: 64 KiB.
const SMALL_MAX: usize = 64 << 10;
/// One message in this many is large.
const LARGE_EVERY: usize = 1_000;
/// The index of the message that is exactly [`LARGEST_MESSAGE`] long (or the last one, if fewer).
const LARGEST_AT: usize = 500;
/// One ordinary message in this many is empty.
const EMPTY_ONE_IN: u64 = 64;
/// Bytes the sending client keeps queued at most before waiting for the socket to take them.
const OUTBOUND_WINDOW: usize = 32 << 20;
/// Longest the transfer may go without any progress before the test fails (a hang check).
const STALL_WATCHDOG: Duration = Duration::from_secs(60);

/// splitmix64: small, fast, and the same on both ends.
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Log-uniform in [low, high] (low ≥ 1).
    fn log_uniform(&mut self, low: usize, high: usize) -> usize {
        let (low, high) = (low as f64, high as f64);
        let size = (low.ln() + self.unit() * (high.ln() - low.ln())).exp();
        (size as usize).clamp(low as usize, high as usize)
    }
}

/// The size of message `index` of a run of `count` (see the module docs).
fn message_size(random: &mut Random, index: usize, count: usize) -> usize {
    if index == LARGEST_AT.min(count - 1) {
        LARGEST_MESSAGE
    } else if index % LARGE_EVERY == LARGE_EVERY - 1 {
        random.log_uniform(LARGE_MIN, LARGEST_MESSAGE)
    } else if random.next() % EMPTY_ONE_IN == 0 {
        0
    } else {
        random.log_uniform(1, SMALL_MAX)
    }
}

/// Characters text messages are made of: 1, 2, 3 and 4 bytes long in UTF-8.
const TEXT_CHARACTERS: [char; 8] = ['a', 'Z', '7', ' ', 'é', 'Ж', '€', '🦀'];

/// The random stream that makes message `index` of the run `seed`.
fn message_random(seed: u64, index: usize) -> Random {
    Random::new(seed ^ (index as u64).wrapping_mul(0x2545_f491_4f6c_dd1d))
}

/// Message `index` of the run `seed` with `count` messages: its kind, size and bytes.
fn expected_message(seed: u64, index: usize, count: usize) -> Message {
    let mut random = message_random(seed, index);
    let size = message_size(&mut random, index, count);
    if random.next() % 2 == 0 {
        let mut bytes = Vec::with_capacity(size + 8);
        while bytes.len() < size {
            let word = random.next();
            for byte in word.to_le_bytes() {
                bytes.push(byte);
            }
        }
        bytes.truncate(size);
        Message::Binary(Bytes::from(bytes))
    } else {
        let mut text = String::with_capacity(size);
        'fill: loop {
            let mut word = random.next();
            for _ in 0..21 {
                let character = TEXT_CHARACTERS[(word & 7) as usize];
                word >>= 3;
                if text.len() + character.len_utf8() > size {
                    break 'fill;
                }
                text.push(character);
            }
        }
        // Top up with ASCII so the size is exact.
        while text.len() < size {
            text.push('.');
        }
        Message::Text(Utf8Bytes::from(text))
    }
}

/// Why `got` is not message `index`, if it is not.
fn difference(index: usize, got: &Message, expected: &Message) -> Option<String> {
    if got.is_text() != expected.is_text() {
        return Some(format!(
            "message {index}: expected {}, got {}",
            kind(expected),
            kind(got)
        ));
    }
    if got.as_bytes() == expected.as_bytes() {
        return None;
    }
    let first = got
        .as_bytes()
        .iter()
        .zip(expected.as_bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(expected.len()));
    Some(format!(
        "message {index} ({}): expected {} bytes, got {}, first difference at byte {first}",
        kind(expected),
        expected.len(),
        got.len()
    ))
}

fn kind(message: &Message) -> &'static str {
    if message.is_text() {
        "text"
    } else {
        "binary"
    }
}

/// The run's parameters, from the environment or the defaults; printed.
fn run_parameters(test: &str) -> (u64, usize) {
    let seed = std::env::var("RUST_WEBSOCKET_INTEGRITY_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let count = std::env::var("RUST_WEBSOCKET_INTEGRITY_MESSAGES")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(DEFAULT_MESSAGES)
        .max(1);
    eprintln!("{test}: seed {seed}, {count} messages");
    (seed, count)
}

/// What a server connection does, from its request path: `/to_server?seed=S&count=N` checks
/// the N messages it receives and sends one text report (`ok N` or what was wrong);
/// `/to_client?seed=S&count=N` sends the N messages and closes with 1000.
fn session<S: Read + Write + Ending>(mut socket: WebSocket<S>, request: &Request) {
    let query = request.uri().query().unwrap_or_default();
    let parameter = |name: &str| -> u64 {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    let (seed, count) = (parameter("seed"), parameter("count") as usize);
    match request.uri().path() {
        "/to_server" => {
            let mut problem = None;
            for index in 0..count {
                let got = match socket.read() {
                    Ok(tungstenite::Message::Text(text)) => Message::Text(text),
                    Ok(tungstenite::Message::Binary(data)) => Message::Binary(data),
                    Ok(other) => {
                        problem = Some(format!("message {index}: got {other:?}"));
                        break;
                    }
                    Err(error) => {
                        problem = Some(format!("message {index}: {error}"));
                        break;
                    }
                };
                if problem.is_none() {
                    problem = difference(index, &got, &expected_message(seed, index, count));
                }
            }
            let report = problem.unwrap_or_else(|| format!("ok {count}"));
            let _ = socket.send(tungstenite::Message::text(report));
            while socket.read().is_ok() {}
        }
        "/to_client" => {
            for index in 0..count {
                let message = match expected_message(seed, index, count) {
                    Message::Text(text) => tungstenite::Message::Text(text),
                    Message::Binary(data) => tungstenite::Message::Binary(data),
                };
                if socket.send(message).is_err() {
                    return;
                }
            }
            let _ = socket.close(None);
            while socket.read().is_ok() {}
            socket.get_mut().end();
        }
        _ => {}
    }
}

/// How a server stream ends once the close handshake is over.
trait Ending {
    fn end(&mut self);
}

impl Ending for std::net::TcpStream {
    /// Dropping the socket closes TCP.
    fn end(&mut self) {}
}

impl Ending for StreamOwned<ServerConnection, std::net::TcpStream> {
    /// TLS ends with `close_notify`, as a well-behaved TLS server does.
    fn end(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
    }
}

/// The tungstenite settings of the test servers: no size limits.
fn unlimited() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None)
}

/// A `ws://` server on 127.0.0.1 running [`session`].
fn plain_server() -> SocketAddr {
    serve(no_protocol, |socket, request| session(socket, &request))
}

/// A `wss://` server on 127.0.0.1 running [`session`], with a fresh self-signed certificate for
/// `localhost`, which it returns.
fn tls_server() -> (SocketAddr, CertificateDer<'static>) {
    let (config, certificate) = self_signed_server_config("localhost");
    let addr = serve_tls(config, |tls| {
        let mut seen = None;
        #[allow(clippy::result_large_err)] // tungstenite's callback type
        let callback = |request: &Request, response: Response| {
            seen = Some(request.clone());
            Ok(response)
        };
        if let Ok(socket) = tungstenite::accept_hdr_with_config(tls, callback, Some(unlimited())) {
            session(socket, &seen.unwrap());
        }
    });
    (addr, certificate)
}

/// A client for `scheme://addr/path?seed=..&count=..`, trusting `certificate` for `wss://`.
fn connect_to(
    scheme: &str,
    addr: SocketAddr,
    path: &str,
    certificate: Option<CertificateDer<'static>>,
    (seed, count): (u64, usize),
) -> Client {
    let tls = TlsConfig::default()
        .with_server_name(Some("localhost".to_owned()))
        .with_trusted_certificates(certificate.into_iter().collect());
    let mut client = Client::new(
        Config::default()
            .with_tls(tls)
            .with_max_message_size(LARGEST_MESSAGE),
    );
    let url = format!("{scheme}://{addr}{path}?seed={seed}&count={count}");
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    open(&mut client);
    client
}

/// Sends the run's messages and returns the server's report.
fn send_all(mut client: Client, (seed, count): (u64, usize)) -> String {
    let mut last_progress = Instant::now();
    for index in 0..count {
        while client.buffered_outbound_bytes() > OUTBOUND_WINDOW {
            if let Some(event) = client.poll_event() {
                panic!("message {index}: unexpected {event:?} while sending");
            }
            assert!(
                last_progress.elapsed() < STALL_WATCHDOG,
                "watchdog: the socket took nothing for {STALL_WATCHDOG:?} at message {index}"
            );
            thread::sleep(Duration::from_millis(1));
        }
        client
            .send(expected_message(seed, index, count))
            .unwrap_or_else(|e| panic!("message {index}: {e}"));
        last_progress = Instant::now();
    }
    let report = receive(&mut client, 1).remove(0);
    client.close(1000, "").unwrap();
    poll_until(&mut client, |event| matches!(event, Event::Closed { .. }));
    String::from_utf8_lossy(report.as_bytes()).into_owned()
}

/// Receives the run's messages, checking each, then the server's clean close.
fn receive_all(mut client: Client, (seed, count): (u64, usize)) {
    let mut last_progress = Instant::now();
    let mut index = 0;
    loop {
        let mut closed = None;
        while let Some(event) = client.poll_event() {
            if let Event::Closed { clean } = event {
                closed = Some(clean);
            }
        }
        while let Some(message) = client.take_message() {
            assert!(index < count, "a message after the last one: {message:?}");
            if let Some(problem) =
                difference(index, &message, &expected_message(seed, index, count))
            {
                panic!("{problem}");
            }
            index += 1;
            last_progress = Instant::now();
        }
        if let Some(clean) = closed {
            assert_eq!(index, count, "the connection ended after {index} messages");
            assert!(clean, "{:?}", client.last_error().map(ToString::to_string));
            return;
        }
        assert!(
            last_progress.elapsed() < STALL_WATCHDOG,
            "watchdog: nothing arrived for {STALL_WATCHDOG:?} after message {index}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn random_messages_client_to_server_over_ws_arrive_intact_and_in_order() {
    let run = run_parameters("ws client to server");
    let client = connect_to("ws", plain_server(), "/to_server", None, run);
    assert_eq!(send_all(client, run), format!("ok {}", run.1));
}

#[test]
fn random_messages_server_to_client_over_ws_arrive_intact_and_in_order() {
    let run = run_parameters("ws server to client");
    receive_all(
        connect_to("ws", plain_server(), "/to_client", None, run),
        run,
    );
}

#[test]
fn random_messages_client_to_server_over_wss_arrive_intact_and_in_order() {
    let run = run_parameters("wss client to server");
    let (server, certificate) = tls_server();
    let client = connect_to("wss", server, "/to_server", Some(certificate), run);
    assert_eq!(send_all(client, run), format!("ok {}", run.1));
}

#[test]
fn random_messages_server_to_client_over_wss_arrive_intact_and_in_order() {
    let run = run_parameters("wss server to client");
    let (server, certificate) = tls_server();
    receive_all(
        connect_to("wss", server, "/to_client", Some(certificate), run),
        run,
    );
}

#[test]
fn the_size_distribution_covers_empty_small_large_and_the_largest_message() {
    let count = DEFAULT_MESSAGES;
    let sizes: Vec<usize> = (0..count)
        .map(|index| message_size(&mut message_random(DEFAULT_SEED, index), index, count))
        .collect();
    assert!(sizes.contains(&0));
    assert!(sizes.contains(&LARGEST_MESSAGE));
    assert!(sizes.iter().filter(|&&size| size >= LARGE_MIN).count() >= count / LARGE_EVERY);
    let total: usize = sizes.iter().sum();
    eprintln!("{count} messages, {total} bytes in all");
}
