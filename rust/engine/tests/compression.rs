//! permessage-deflate (RFC 7692): negotiated with Python `websockets` (tests/peers/py_server.py)
//! in every variant of its parameters, messages intact both ways; servers that answer badly or
//! send bad compressed data fail the connection with a clear error.

mod support;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use flate2::{Compress, Compression, FlushCompress};
use rust_websocket_engine::{Client, Config, ConnectRequest, Event, Message};
use support::{failure, open, poll_until, read_request_head, receive, serve_raw, write_and_linger};

/// How long the Python server lives at most; it also exits when this test binary does (its stdin
/// closes).
const PYTHON_SERVER_LIFETIME_SECONDS: &str = "300";

/// Names the address of a Python server started by whoever runs the tests, used instead of
/// starting one (under Wine a test cannot read the output of a Linux process it starts).
const PYTHON_SERVER_ENV: &str = "RUST_WEBSOCKET_TEST_PYTHON_SERVER";

/// The venv's interpreter, in the layout of this platform's venvs.
const VENV_PYTHON: &str = if cfg!(windows) {
    "target/venv/Scripts/python.exe"
} else {
    "target/venv/bin/python"
};

/// The Python `websockets` server of the test peers, started once for this test binary (or the
/// one [`PYTHON_SERVER_ENV`] names).
fn python_server() -> SocketAddr {
    static SERVER: OnceLock<(SocketAddr, Option<Child>)> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            if let Ok(address) = std::env::var(PYTHON_SERVER_ENV) {
                let address = address.parse().unwrap_or_else(|_| {
                    panic!("{PYTHON_SERVER_ENV}={address} is not an address like 127.0.0.1:8080")
                });
                return (address, None);
            }
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let python = root.join(VENV_PYTHON);
            assert!(
                python.exists(),
                "{} is missing: `cargo xtask suite` (or `cargo xtask test`) creates it",
                python.display()
            );
            let mut child = Command::new(python)
                .arg(root.join("tests/peers/py_server.py"))
                .args([
                    "--stdin-lifeline",
                    "--lifetime",
                    PYTHON_SERVER_LIFETIME_SECONDS,
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("the Python server starts");
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let port = loop {
                let line = lines
                    .next()
                    .expect("the Python server prints READY")
                    .unwrap();
                if let Some(port) = line.strip_prefix("READY ") {
                    break port.parse::<u16>().unwrap();
                }
            };
            (SocketAddr::from(([127, 0, 0, 1], port)), Some(child))
        })
        .0
}

fn connect_with(config: Config, url: &str) -> Client {
    let mut client = Client::new(config);
    client.connect(ConnectRequest::new(url).unwrap()).unwrap();
    client
}

/// Compressible but not trivial bytes: words from a small vocabulary picked pseudo-randomly.
fn sample(len: usize, seed: u32) -> Vec<u8> {
    const WORDS: [&[u8]; 8] = [
        b"player ",
        b"position ",
        b"12.5 ",
        b"-3.75 ",
        b"health ",
        b"inventory ",
        b"{\"id\":",
        b"}, ",
    ];
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        out.extend_from_slice(WORDS[(state % 8) as usize]);
        out.push(b'a' + (state >> 8) as u8 % 26);
    }
    out.truncate(len);
    out
}

/// FNV-1a, to compare large payloads in assertion messages without printing them.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Sends `messages` to the echo server and checks each comes back intact and in order.
fn round_trip(client: &mut Client, messages: Vec<Message>) {
    for message in &messages {
        client.send(message.clone()).unwrap();
    }
    let echoed = receive(client, messages.len());
    for (sent, got) in messages.iter().zip(&echoed) {
        let (sent, got) = match (sent, got) {
            (Message::Text(a), Message::Text(b)) => (a.as_bytes(), b.as_bytes()),
            (Message::Binary(a), Message::Binary(b)) => (&a[..], &b[..]),
            _ => panic!("a message came back with another type"),
        };
        assert_eq!(
            (sent.len(), checksum(sent)),
            (got.len(), checksum(got)),
            "an echoed message differs"
        );
    }
}

#[test]
fn offered_by_default_and_transparent_small_and_large() {
    let url = format!("ws://{}/echo?deflate=default", python_server());
    let mut client = connect_with(Config::default(), &url);
    open(&mut client);
    let negotiated = client.negotiated_extensions().to_owned();
    assert!(
        negotiated.starts_with("permessage-deflate")
            && negotiated.contains("client_max_window_bits="),
        "negotiated: {negotiated:?}"
    );
    let large_text = String::from_utf8(sample(3 << 20, 1)).unwrap();
    round_trip(
        &mut client,
        vec![
            Message::from("hi"),
            Message::Text(String::from_utf8(sample(1000, 2)).unwrap().into()),
            Message::Binary(sample(5000, 3).into()),
            Message::Binary(vec![0; 10].into()),
            Message::Text(large_text.into()),
            Message::Binary(sample(4 << 20, 4).into()),
            Message::Text(String::new().into()),
        ],
    );
    let totals = client.statistics().compression;
    assert!(
        totals.sent_compressed_bytes * 2 < totals.sent_uncompressed_bytes,
        "{totals:?}"
    );
    assert!(totals.received_uncompressed_bytes > 7 << 20, "{totals:?}");
    assert!(totals.received_compressed_bytes * 2 < totals.received_uncompressed_bytes);
    client.close(1000, "").unwrap();
    poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(client.last_error().map(ToString::to_string), None);
    assert_eq!(
        client.statistics().compression,
        totals,
        "totals stay readable after close"
    );
}

#[test]
fn every_parameter_variant_keeps_many_messages_intact() {
    let variants = [
        "default",
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_no_context_takeover,client_no_context_takeover",
        "server_max_window_bits:9",
        "server_max_window_bits:11,client_max_window_bits:10",
        "client_max_window_bits:9",
        "client_max_window_bits:8",
        "client_max_window_bits:15,server_max_window_bits:15",
    ];
    for variant in variants {
        let url = format!("ws://{}/echo?deflate={variant}", python_server());
        let mut client = connect_with(Config::default(), &url);
        open(&mut client);
        assert!(
            client
                .negotiated_extensions()
                .starts_with("permessage-deflate"),
            "{variant}: {:?}",
            client.negotiated_extensions()
        );
        // Similar messages one after the other: context takeover refers back across them.
        let messages = (0..90u32)
            .map(|i| match i % 3 {
                0 => Message::Text(String::from_utf8(sample(300, i % 7)).unwrap().into()),
                1 => Message::Binary(sample(2000 + i as usize * 10, i % 5).into()),
                _ => Message::Binary(sample(40_000, i).into()),
            })
            .collect();
        round_trip(&mut client, messages);
        let totals = client.statistics().compression;
        assert!(
            totals.sent_compressed_bytes < totals.sent_uncompressed_bytes,
            "{variant}: {totals:?}"
        );
        client.close(1000, "").unwrap();
        poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
        assert_eq!(
            client.last_error().map(ToString::to_string),
            None,
            "{variant}"
        );
    }
}

#[test]
fn turned_off_offers_nothing_and_still_works() {
    let url = format!("ws://{}/headers?deflate=default", python_server());
    let mut client = connect_with(Config::default().with_compression(false), &url);
    open(&mut client);
    assert_eq!(client.negotiated_extensions(), "");
    let Message::Text(headers) = &receive(&mut client, 1)[0] else {
        panic!("the header report is text")
    };
    assert!(!headers.contains("sec-websocket-extensions"), "{headers}");
    round_trip(
        &mut client,
        vec![Message::Binary(sample(100_000, 9).into())],
    );
    assert_eq!(client.statistics().compression, Default::default());

    let mut offering = connect_with(Config::default(), &url);
    open(&mut offering);
    let Message::Text(headers) = &receive(&mut offering, 1)[0] else {
        panic!("the header report is text")
    };
    assert!(
        headers.contains(
            r#""sec-websocket-extensions": "permessage-deflate; client_max_window_bits""#
        ),
        "{headers}"
    );
}

#[test]
fn a_server_without_compression_still_works() {
    // The Python server without ?deflate, like Godot's own WebSocketPeer, ignores the offer.
    let url = format!("ws://{}/echo", python_server());
    let mut client = connect_with(Config::default(), &url);
    open(&mut client);
    assert_eq!(client.negotiated_extensions(), "");
    round_trip(
        &mut client,
        vec![Message::Binary(sample(200_000, 5).into())],
    );
}

/// A raw server that answers the upgrade with `extensions` (no header if empty), then writes
/// `frames` right behind the response (same write) and keeps the connection open a while.
fn raw_server(extensions: &'static str, frames: Vec<u8>) -> SocketAddr {
    serve_raw(move |mut stream: TcpStream| {
        let head = read_request_head(&mut stream);
        let key = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let mut response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n"
        );
        if !extensions.is_empty() {
            response.push_str(&format!("Sec-WebSocket-Extensions: {extensions}\r\n"));
        }
        response.push_str("\r\n");
        let mut bytes = response.into_bytes();
        bytes.extend_from_slice(&frames);
        write_and_linger(stream, &bytes, Duration::from_secs(5))
    })
}

fn raw_client(server: SocketAddr, config: Config) -> Client {
    connect_with(config, &format!("ws://{server}/"))
}

#[test]
fn bad_extension_answers_fail_the_attempt_with_a_reason() {
    let cases = [
        (
            "x-webkit-deflate-frame",
            Config::default(),
            "\"x-webkit-deflate-frame\", which was not offered",
        ),
        (
            "permessage-deflate",
            Config::default().with_compression(false),
            "not offered",
        ),
        (
            "permessage-deflate, permessage-deflate",
            Config::default(),
            "twice",
        ),
        (
            "permessage-deflate; server_max_window_bits=7",
            Config::default(),
            "from 8 to 15",
        ),
        (
            "permessage-deflate; client_max_window_bits=16",
            Config::default(),
            "from 8 to 15",
        ),
        (
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            Config::default(),
            "repeated",
        ),
        (
            "permessage-deflate; level=9",
            Config::default(),
            "unknown parameter",
        ),
    ];
    for (answer, config, expected) in cases {
        let mut client = raw_client(raw_server(answer, Vec::new()), config);
        let error = failure(&mut client);
        assert!(
            error
                .starts_with("invalid Sec-WebSocket-Extensions in the server's handshake response")
                && error.contains(expected),
            "{answer}: {error}"
        );
    }
}

/// A server's unmasked frame with `first_byte` (FIN, RSV, opcode).
fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![first_byte];
    if payload.len() < 126 {
        bytes.push(payload.len() as u8);
    } else {
        bytes.push(127);
        bytes.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    }
    bytes.extend_from_slice(payload);
    bytes
}

/// `data` compressed as one permessage-deflate message (raw deflate, tail stripped).
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut compress = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() / 100 + 1024);
    loop {
        let consumed = compress.total_in() as usize;
        if out.len() == out.capacity() {
            out.reserve(out.capacity());
        }
        compress
            .compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
            .unwrap();
        if compress.total_in() as usize == data.len() && out.len() < out.capacity() {
            break;
        }
    }
    out.truncate(out.len() - 4);
    out
}

/// Polls until closed and returns (close code, last error).
fn closed(client: &mut Client) -> (Option<u16>, String) {
    let events = poll_until(client, |e| {
        matches!(e, Event::Closed { .. } | Event::Failed)
    });
    assert_eq!(
        events.last(),
        Some(&Event::Closed { clean: false }),
        "{events:?}"
    );
    let error = client
        .last_error()
        .map(ToString::to_string)
        .unwrap_or_default();
    (client.close_code(), error)
}

#[test]
fn compressed_frames_right_behind_the_response_are_inflated() {
    let text = "right behind the 101 response ".repeat(20);
    let frames = [
        frame(0xc1, &deflate(text.as_bytes())),
        frame(0x82, b"plain"),
    ]
    .concat();
    let server = raw_server("permessage-deflate; server_no_context_takeover", frames);
    let mut client = raw_client(server, Config::default());
    let messages = receive(&mut client, 2);
    assert_eq!(
        messages,
        vec![
            Message::Text(text.into()),
            Message::Binary(b"plain"[..].into())
        ]
    );
}

#[test]
fn rsv1_without_the_extension_closes_with_1002() {
    let frames = frame(
        0xc1,
        &deflate(b"compressed although nothing was negotiated"),
    );
    for config in [Config::default(), Config::default().with_compression(false)] {
        let mut client = raw_client(raw_server("", frames.clone()), config);
        open(&mut client);
        let (code, error) = closed(&mut client);
        assert_eq!(code, Some(1002), "{error}");
        assert!(error.contains("closed with code 1002"), "{error}");
    }
}

#[test]
fn invalid_compressed_data_closes_with_1002() {
    let frames = frame(0xc2, &[0xff; 64]);
    let mut client = raw_client(raw_server("permessage-deflate", frames), Config::default());
    let (code, error) = closed(&mut client);
    assert_eq!(code, Some(1002), "{error}");
    assert!(error.contains("not valid deflate data"), "{error}");
}

#[test]
fn a_decompression_bomb_closes_with_1009() {
    // 200 MB of zeros deflate to about 200 KB; the limit is 1 MiB.
    let bomb = deflate(&vec![0; 200 << 20]);
    assert!(bomb.len() < 1 << 20);
    let server = raw_server("permessage-deflate", frame(0xc2, &bomb));
    let mut client = raw_client(server, Config::default().with_max_message_size(1 << 20));
    let (code, error) = closed(&mut client);
    assert_eq!(code, Some(1009), "{error}");
    assert!(error.contains("over the limit of 1048576 bytes"), "{error}");
    assert_eq!(client.queued_message_count(), 0);
}
