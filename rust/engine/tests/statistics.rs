//! Statistics: messages and bytes as the user sent and received them, and as they went over
//! the socket.

mod support;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rust_websocket_engine::{Event, Message};
use support::*;

/// A stream that counts the bytes read from and written to it.
struct Counting {
    stream: TcpStream,
    read: u64,
    written: u64,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.stream.read(buf)?;
        self.read += read as u64;
        Ok(read)
    }
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.stream.write(buf)?;
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

#[test]
fn counts_exactly_what_was_exchanged() {
    // An echo server that reports the bytes it read and wrote once the connection ended.
    let (report, reports) = mpsc::channel::<(u64, u64)>();
    let report = Arc::new(Mutex::new(report));
    let server = serve_raw(move |stream| {
        let counting = Counting {
            stream,
            read: 0,
            written: 0,
        };
        let Ok(mut socket) = tungstenite::accept(counting) else {
            return;
        };
        loop {
            match socket.read() {
                Ok(message @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))) => {
                    if socket.send(message).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let counting = socket.get_ref();
        let _ = report
            .lock()
            .unwrap()
            .send((counting.read, counting.written));
    });
    let mut client = connect(server, "/");
    open(&mut client);
    let sent = [
        Message::from("a"),
        Message::from("bb"),
        Message::from(vec![7u8; 1000]),
        Message::from("ccc"),
    ];
    for message in &sent {
        client.send(message.clone()).unwrap();
    }
    assert_eq!(receive(&mut client, sent.len()), sent);
    let live = client.statistics();
    assert_eq!((live.messages_sent, live.messages_received), (4, 4));
    assert_eq!(
        (live.payload_bytes_sent, live.payload_bytes_received),
        (1006, 1006)
    );

    client.close(1000, "").unwrap();
    let events = poll_until(&mut client, |event| matches!(event, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: true }));
    let (server_read, server_written) = reports.recv_timeout(WATCHDOG).unwrap();
    let ended = client.statistics();
    let mut expected = live;
    expected.wire_bytes_sent = server_read;
    expected.wire_bytes_received = server_written;
    assert_eq!(
        ended, expected,
        "kept after the close; wire bytes are exactly what the server read and wrote"
    );
    // Masked client frames: 2 + 4 header bytes each (4 for the 1000-byte length), plus the
    // upgrade request and an 8-byte close frame.
    assert!(ended.wire_bytes_sent > 1006 + 4 * 6 + 2 + 8);
    assert!(ended.compression_ratio().unwrap() < 1.0);
}

#[test]
fn a_new_connection_starts_from_zero() {
    let server = echo_server();
    let mut client = connect(server, "/");
    open(&mut client);
    client.send(Message::from("one")).unwrap();
    receive(&mut client, 1);
    client.close(1000, "").unwrap();
    poll_until(&mut client, |event| matches!(event, Event::Closed { .. }));
    let ended = client.statistics();
    assert_eq!(ended.messages_sent, 1);

    client
        .connect(rust_websocket_engine::ConnectRequest::new(&format!("ws://{server}")).unwrap())
        .unwrap();
    // Nothing carries over. (Its upgrade may already be counted: the I/O thread starts it at
    // once, so the wire bytes can be the new request's.)
    let fresh = client.statistics();
    assert_eq!(
        (
            fresh.messages_sent,
            fresh.payload_bytes_sent,
            fresh.messages_received
        ),
        (0, 0, 0)
    );
    assert!(fresh.wire_bytes_sent < ended.wire_bytes_sent, "{fresh:?}");
    open(&mut client);
    assert_eq!(client.statistics().messages_sent, 0);
    assert!(
        client.statistics().wire_bytes_sent > 0,
        "the upgrade request"
    );
}
