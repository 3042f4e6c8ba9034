//! Upgrade responses that arrive slowly or never end: a slow one still opens, an endless one is
//! cut off at the response head limit.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use rust_websocket_engine::Message;
use support::*;
use tungstenite::handshake::derive_accept_key;

/// The key of a raw request head.
fn request_key(head: &str) -> String {
    head.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_owned())
        })
        .expect("the request has a Sec-WebSocket-Key")
}

/// Writes `bytes` one at a time with a pause between them.
fn trickle(stream: &mut TcpStream, bytes: &[u8]) {
    for byte in bytes {
        if stream.write_all(&[*byte]).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn an_upgrade_response_trickled_a_byte_at_a_time_opens_and_delivers() {
    let server = serve_raw(|mut stream| {
        let key = request_key(&read_request_head(&mut stream));
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             X-Padding: {}\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            "p".repeat(200),
            derive_accept_key(key.as_bytes())
        );
        // tungstenite alone gives up after 64 reads under 128 bytes each.
        trickle(&mut stream, response.as_bytes());
        write_and_linger(stream, b"\x81\x05hello", Duration::from_secs(5));
    });
    let mut client = connect(server, "/");
    open(&mut client);
    assert_eq!(receive(&mut client, 1), vec![Message::from("hello")]);
}

#[test]
fn endless_response_headers_are_cut_off_at_64_kib() {
    let server = serve_raw(|mut stream| {
        read_request_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 101 Switching Protocols\r\n");
        let line = format!("X-Filler: {}\r\n", "a".repeat(1000));
        for _ in 0..1024 {
            if stream.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
    });
    let mut client = connect(server, "/");
    assert_eq!(
        failure(&mut client),
        "invalid WebSocket handshake response: the response head is over 64 KiB"
    );
}
