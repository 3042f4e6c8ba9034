//! Limits say so when they are hit, and the inbound limit pushes back instead of dropping.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rust_websocket_engine::{Client, Config, ConnectRequest, Event};
use support::*;

#[test]
fn a_message_over_the_limit_closes_with_1009_and_says_why() {
    let server = serve(no_protocol, |mut socket, _| {
        let _ = socket.send(tungstenite::Message::binary(vec![7u8; 2000]));
        while socket.read().is_ok() {}
    });
    let mut client = Client::new(Config::default().with_max_message_size(1000));
    client
        .connect(ConnectRequest::new(&format!("ws://{server}")).unwrap())
        .unwrap();
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: false }));
    assert_eq!(client.close_code(), Some(1009));
    assert_eq!(
        client.last_error().unwrap().to_string(),
        "server sent a message of 2000 bytes, over the limit of 1000 bytes (max_message_size); closed with code 1009"
    );
}

#[test]
fn a_full_inbound_queue_stops_reading_and_loses_nothing() {
    const MESSAGES: usize = 400;
    const SIZE: usize = 64 * 1024;
    let sent = Arc::new(AtomicUsize::new(0));
    let server_sent = Arc::clone(&sent);
    let server = serve(no_protocol, move |mut socket, _| {
        for index in 0..MESSAGES {
            let mut payload = vec![0u8; SIZE];
            payload[..8].copy_from_slice(&(index as u64).to_le_bytes());
            if socket.send(tungstenite::Message::binary(payload)).is_err() {
                return;
            }
            server_sent.fetch_add(1, Ordering::SeqCst);
        }
        while socket.read().is_ok() {}
    });
    let limit = 1 << 20;
    let mut client = Client::new(Config::default().with_inbound_queue_limit(limit));
    client
        .connect(ConnectRequest::new(&format!("ws://{server}")).unwrap())
        .unwrap();
    open(&mut client);
    // Let the server push as much as it can while the game takes nothing.
    thread::sleep(Duration::from_millis(500));
    while client.poll_event().is_some() {}
    let queued = client.queued_message_count();
    assert!(
        queued * SIZE <= limit + SIZE,
        "{queued} messages queued past the {limit}-byte limit"
    );
    assert!(
        sent.load(Ordering::SeqCst) < MESSAGES,
        "TCP did not push back on the server"
    );
    let received = receive(&mut client, MESSAGES);
    for (index, message) in received.iter().enumerate() {
        assert_eq!(
            message.as_bytes()[..8],
            (index as u64).to_le_bytes(),
            "message {index} out of order"
        );
    }
}

#[test]
fn timeouts_too_large_for_the_clock_mean_no_timeout() {
    // `Instant::now() + Duration::MAX` overflows: it once panicked the I/O thread.
    let config = Config::default()
        .with_handshake_timeout(Duration::MAX)
        .with_close_timeout(Duration::MAX);
    let mut client = Client::new(config);
    client
        .connect(ConnectRequest::new(&format!("ws://{}", echo_server())).unwrap())
        .unwrap();
    poll_until(&mut client, |e| matches!(e, Event::Opened { .. }));
    client.close(1000, "").unwrap();
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: true }));
}
