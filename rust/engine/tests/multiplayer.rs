//! Joining a server that speaks Godot's `WebSocketMultiplayerPeer` protocol
//! ([`Config::godot_multiplayer`]): the peer id it sends first, and servers that send something
//! else, or nothing at all (on a moved clock: the tests never wait for a deadline).

mod support;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rust_websocket_engine::{
    Client, Config, ConnectRequest, Event, Message, ReadyState, ReconnectConfig,
};
use support::*;

/// A Godot-like multiplayer server: sends `first` when the connection opens, then echoes.
fn multiplayer_server(first: tungstenite::Message) -> SocketAddr {
    serve(no_protocol, move |mut socket, _| {
        if socket.send(first.clone()).is_err() {
            return;
        }
        loop {
            match socket.read() {
                Ok(message @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))) => {
                    if socket.send(message).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    })
}

fn peer_id(id: i32) -> tungstenite::Message {
    tungstenite::Message::binary(id.to_le_bytes().to_vec())
}

/// A multiplayer client of `addr` with `config`, connecting.
fn join(addr: SocketAddr, config: Config) -> Client {
    let mut client = Client::new(config.with_godot_multiplayer(true));
    client
        .connect(ConnectRequest::new(&format!("ws://{addr}/")).unwrap())
        .unwrap();
    client
}

#[test]
fn the_servers_first_message_is_the_peer_id_and_not_a_message() {
    let server = multiplayer_server(peer_id(1_234_567));
    let mut client = join(server, Config::default());
    let events = poll_until(&mut client, |e| {
        matches!(
            e,
            Event::PeerIdAssigned { .. } | Event::MultiplayerHandshakeFailed
        )
    });
    assert_eq!(
        events,
        [
            Event::Opened {
                protocol: String::new()
            },
            Event::PeerIdAssigned { id: 1_234_567 }
        ]
    );
    assert_eq!(client.queued_message_count(), 0, "the id is not a packet");
    client.send(Message::from(vec![7, 8, 9])).unwrap();
    assert_eq!(receive(&mut client, 1), [Message::from(vec![7, 8, 9])]);
}

#[test]
fn a_server_that_sends_something_else_first_is_refused_with_a_reason() {
    for (first, reason) in [
        (
            tungstenite::Message::text("hello"),
            "its first message is text, not a peer id",
        ),
        (
            tungstenite::Message::binary(vec![1, 2, 3]),
            "its first message has 3 bytes, not the 4 of a peer id",
        ),
        (peer_id(1), "it assigned peer id 1; client ids start at 2"),
    ] {
        let server = multiplayer_server(first);
        let mut client = join(server, Config::default());
        let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
        assert_eq!(
            events[1..],
            [
                Event::MultiplayerHandshakeFailed,
                Event::Closed { clean: true }
            ],
            "{reason}"
        );
        assert_eq!(
            client.last_error().unwrap().to_string(),
            format!(
                "the server does not speak Godot's WebSocketMultiplayerPeer protocol: {reason}"
            )
        );
        assert_eq!(client.close_code(), Some(1002), "protocol error");
        assert_eq!(client.queued_message_count(), 0);
        assert_eq!(client.state(), ReadyState::Closed);
    }
}

#[test]
fn a_multiplayer_client_never_reconnects() {
    let (connections_tx, connections) = mpsc::channel();
    let server = serve(no_protocol, move |mut socket, _| {
        let _ = connections_tx.send(());
        let _ = socket.send(peer_id(2));
        // Gone without a close frame: a drop that reconnects any other client.
    });
    let reconnect = ReconnectConfig::default()
        .with_enabled(true)
        .with_initial_delay(Duration::from_millis(1));
    let mut client = join(server, Config::default().with_reconnect(reconnect));
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert!(
        events.contains(&Event::PeerIdAssigned { id: 2 }),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&Event::Closed { clean: false }));
    assert_eq!(client.poll_event(), None, "no Reconnecting");
    assert_eq!(client.state(), ReadyState::Closed);
    connections.recv_timeout(WATCHDOG).unwrap();
    assert!(connections.try_recv().is_err(), "one connection only");
}

#[test]
fn a_server_that_sends_no_peer_id_fails_once_the_handshake_timeout_passed() {
    let timeout = Duration::from_secs(3600);
    let (opened, connection_open) = mpsc::channel();
    let silent = serve(no_protocol, move |mut socket, _| {
        let _ = opened.send(());
        // Says nothing, answering only the client's close.
        while socket.read().is_ok() {}
    });
    let mut client = join(silent, Config::default().with_handshake_timeout(timeout));
    poll_until(&mut client, |e| matches!(e, Event::Opened { .. }));
    connection_open.recv().unwrap();
    let opened_at = Instant::now();

    let halfway = opened_at + timeout / 2;
    assert_eq!(client.poll_event_with(|| halfway), None, "not late yet");
    let late = opened_at + timeout + Duration::from_secs(1);
    assert_eq!(
        client.poll_event_with(|| late),
        Some(Event::MultiplayerHandshakeFailed)
    );
    assert_eq!(
        client.last_error().unwrap().to_string(),
        "the server does not speak Godot's WebSocketMultiplayerPeer protocol: it sent no peer id \
         within 3600.0 s"
    );
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: true }));
    assert_eq!(client.close_code(), Some(1002), "protocol error");
}
