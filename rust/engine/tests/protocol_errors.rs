//! Frames that break RFC 6455 fail the connection with the matching close code and say what
//! the server did, in the protocol error's own words.

mod support;

use std::time::Duration;

use rust_websocket_engine::Event;
use support::*;
use tungstenite::handshake::derive_accept_key;

/// A raw server that completes the upgrade, then writes `frames` and keeps the connection open.
fn opening_then_sending(frames: &'static [u8]) -> std::net::SocketAddr {
    serve_raw(move |mut stream| {
        let head = read_request_head(&mut stream);
        let key = head
            .lines()
            .find_map(|line| line.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap_or_default()
            .trim()
            .to_owned();
        let mut reply = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            derive_accept_key(key.as_bytes())
        )
        .into_bytes();
        reply.extend_from_slice(frames);
        write_and_linger(stream, &reply, Duration::from_secs(5));
    })
}

/// Connects, waits for the end, and returns the close code and the last error.
fn failure_after_open(frames: &'static [u8]) -> (Option<u16>, String) {
    let mut client = connect(opening_then_sending(frames), "/");
    let events = poll_until(&mut client, |e| {
        matches!(e, Event::Closed { .. } | Event::Failed)
    });
    assert_eq!(events.last(), Some(&Event::Closed { clean: false }));
    let error = client.last_error().map(ToString::to_string);
    (client.close_code(), error.unwrap_or_default())
}

#[test]
fn a_masked_server_frame_fails_with_1002() {
    assert_eq!(
        failure_after_open(b"\x81\x82\x01\x02\x03\x04ik"),
        (
            Some(1002),
            "server broke the WebSocket protocol: Received a masked frame from server; closed \
             with code 1002"
                .to_owned()
        )
    );
}

#[test]
fn invalid_utf8_in_a_text_message_fails_with_1007() {
    assert_eq!(
        failure_after_open(b"\x81\x02\xff\xfe"),
        (
            Some(1007),
            "server broke the WebSocket protocol: a text message is not valid UTF-8; closed with \
             code 1007"
                .to_owned()
        )
    );
}
