//! The outbound counter: every byte the game sent counts until it is handed to the socket.

mod support;

use std::thread;
use std::time::Duration;

use rust_websocket_engine::Message;
use support::*;

/// Two 16 MiB sends to a server that never reads: at every moment, each byte is either still
/// counted by `buffered_outbound_bytes()` or was handed to the socket (`wire_bytes_sent`). Before,
/// a message left the count as soon as it was encoded: the count read 0, then 16 MiB, and stayed
/// there while most of both messages still waited in the client.
#[test]
fn every_sent_byte_counts_until_handed_to_the_socket() {
    const SIZE: usize = 16 * 1024 * 1024;
    let addr = serve(no_protocol, |socket, _| {
        // Holds the connection open without reading.
        thread::sleep(WATCHDOG);
        drop(socket);
    });
    let mut client = connect(addr, "/");
    open(&mut client);
    for _ in 0..2 {
        client.send(Message::from(vec![7u8; SIZE])).unwrap();
    }
    let mut lowest_buffered = usize::MAX;
    // Sampled while the I/O thread writes what the socket takes, then waits for it.
    for _ in 0..200 {
        // Read first: a byte that left the count was published as sent before.
        let buffered = client.buffered_outbound_bytes();
        let sent = client.statistics().wire_bytes_sent;
        assert!(
            buffered as u64 + sent >= 2 * SIZE as u64,
            "{buffered} bytes counted as buffered and {sent} handed to the socket, of {} sent",
            2 * SIZE
        );
        lowest_buffered = lowest_buffered.min(buffered);
        thread::sleep(Duration::from_millis(5));
    }
    assert!(
        lowest_buffered > 0,
        "the server reads nothing, yet nothing counted as buffered"
    );
}
