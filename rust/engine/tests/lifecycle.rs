//! Dropping a client in every state closes its socket (after what it had queued), and one client
//! reconnects after each way a connection can end.

mod support;

use std::io::Read;
use std::sync::mpsc;

use rust_websocket_engine::{Client, ConnectRequest, Event, Message, ReadyState};
use support::net::RefusingPort;
use support::*;

/// What a recording server saw on one connection: its messages (as text) and how it ended.
#[derive(Debug, PartialEq)]
struct Seen {
    messages: Vec<String>,
    close_code: Option<u16>,
}

/// A server that records each connection and reports it once the connection ended.
fn recording_server() -> (std::net::SocketAddr, mpsc::Receiver<Seen>) {
    let (seen_tx, seen_rx) = mpsc::channel();
    let seen_tx = std::sync::Arc::new(std::sync::Mutex::new(seen_tx));
    let addr = serve(no_protocol, move |mut socket, _| {
        let mut seen = Seen {
            messages: Vec::new(),
            close_code: None,
        };
        loop {
            match socket.read() {
                Ok(tungstenite::Message::Text(text)) => seen.messages.push(text.to_string()),
                Ok(tungstenite::Message::Binary(data)) => {
                    seen.messages.push(format!("{} binary bytes", data.len()))
                }
                Ok(tungstenite::Message::Close(frame)) => {
                    seen.close_code = frame.map(|frame| u16::from(frame.code));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = seen_tx.lock().unwrap().send(seen);
    });
    (addr, seen_rx)
}

#[test]
fn dropping_an_open_client_sends_what_it_queued_then_going_away() {
    let (server, seen) = recording_server();
    let mut client = connect(server, "/");
    open(&mut client);
    client
        .send(Message::from("queued just before the drop"))
        .unwrap();
    drop(client);
    assert_eq!(
        seen.recv_timeout(WATCHDOG).unwrap(),
        Seen {
            messages: vec!["queued just before the drop".into()],
            close_code: Some(1001),
        },
    );
}

#[test]
fn dropping_an_open_client_right_after_queueing_32_mib_still_delivers_it_then_going_away() {
    // Far more than a socket takes at once: the rest is written after the drop, in the
    // background, before the close frame.
    const SIZE: usize = 32 << 20;
    let (server, seen) = recording_server();
    let mut client = connect(server, "/");
    open(&mut client);
    client.send(Message::from(vec![7u8; SIZE])).unwrap();
    drop(client);
    assert_eq!(
        seen.recv_timeout(WATCHDOG).unwrap(),
        Seen {
            messages: vec![format!("{SIZE} binary bytes")],
            close_code: Some(1001),
        },
    );
}

#[test]
fn dropping_a_closing_client_still_sends_its_close_frame() {
    let (server, seen) = recording_server();
    let mut client = connect(server, "/");
    open(&mut client);
    client.send(Message::from("last words")).unwrap();
    client.close(4000, "bye").unwrap();
    assert_eq!(client.state(), ReadyState::Closing);
    drop(client);
    assert_eq!(
        seen.recv_timeout(WATCHDOG).unwrap(),
        Seen {
            messages: vec!["last words".into()],
            close_code: Some(4000),
        },
    );
}

#[test]
fn dropping_a_connecting_client_closes_its_socket() {
    // A server that reads the upgrade request, never answers, and reports when the socket ends.
    let (ended_tx, ended_rx) = mpsc::channel();
    let ended_tx = std::sync::Arc::new(std::sync::Mutex::new(ended_tx));
    let (head_tx, head_rx) = mpsc::channel();
    let head_tx = std::sync::Arc::new(std::sync::Mutex::new(head_tx));
    let server = serve_raw(move |mut stream| {
        let head = read_request_head(&mut stream);
        let _ = head_tx.lock().unwrap().send(head);
        let mut rest = Vec::new();
        let _ = stream.set_read_timeout(Some(WATCHDOG));
        let ended = stream.read_to_end(&mut rest).is_ok();
        let _ = ended_tx.lock().unwrap().send(ended);
    });
    let mut client = connect(server, "/");
    let head = head_rx.recv_timeout(WATCHDOG).unwrap();
    assert!(head.starts_with("GET / HTTP/1.1"), "{head}");
    assert_eq!(client.poll_event(), None);
    assert_eq!(client.state(), ReadyState::Connecting);
    drop(client);
    assert!(
        ended_rx.recv_timeout(WATCHDOG).unwrap(),
        "the server saw the socket end (EOF, not its read timeout)"
    );
}

#[test]
fn one_client_reconnects_after_its_close_a_server_close_and_a_failure() {
    let echo = echo_server();
    let mut client = Client::default();
    let request = |path: &str| ConnectRequest::new(&format!("ws://{echo}{path}")).unwrap();
    // Our close.
    client.connect(request("/")).unwrap();
    open(&mut client);
    client.close(1000, "").unwrap();
    poll_until(&mut client, |event| matches!(event, Event::Closed { .. }));
    // The server's close.
    let closing = serve(no_protocol, |mut socket, _| {
        let _ = socket.close(None);
        while socket.read().is_ok() {}
    });
    client
        .connect(ConnectRequest::new(&format!("ws://{closing}/")).unwrap())
        .unwrap();
    let events = poll_until(&mut client, |event| matches!(event, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: true }));
    // A failure.
    let refused = RefusingPort::new();
    let refused_addr = refused.addr;
    client
        .connect(ConnectRequest::new(&format!("ws://{refused_addr}/")).unwrap())
        .unwrap();
    failure(&mut client);
    // And open again, working.
    client.connect(request("/")).unwrap();
    open(&mut client);
    assert!(client.last_error().is_none());
    client.send(Message::from("again")).unwrap();
    assert_eq!(receive(&mut client, 1), vec![Message::from("again")]);
    client.close(1000, "").unwrap();
    let events = poll_until(&mut client, |event| matches!(event, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: true }));
}
