//! The close handshake from either side, and connections that end without one.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use rust_websocket_engine::{Client, Config, ConnectRequest, Event, Message, ReadyState};
use support::*;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;

#[test]
fn a_message_sent_just_before_close_arrives_and_the_server_sees_code_and_reason() {
    let (seen_tx, seen_rx) = mpsc::channel();
    let server = serve(no_protocol, move |mut socket, _| {
        let mut seen = Vec::new();
        loop {
            match socket.read() {
                Ok(tungstenite::Message::Text(text)) => seen.push(text.to_string()),
                Ok(tungstenite::Message::Close(Some(frame))) => {
                    seen.push(format!("close {} {}", u16::from(frame.code), frame.reason))
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        seen_tx.send(seen).unwrap();
    });
    let mut client = connect(server, "/");
    open(&mut client);
    client.send(Message::from("last message")).unwrap();
    client.close(4000, "bye now").unwrap();
    assert_eq!(client.state(), ReadyState::Closing);
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: true }));
    let seen = seen_rx.recv_timeout(WATCHDOG).unwrap();
    assert_eq!(
        seen,
        vec!["last message".to_owned(), "close 4000 bye now".to_owned()]
    );
    assert_eq!(client.close_code(), Some(4000));
}

#[test]
fn a_server_initiated_close_is_requested_then_clean() {
    let server = serve(no_protocol, |mut socket, _| {
        socket
            .close(Some(CloseFrame {
                code: CloseCode::from(4001),
                reason: "server says bye".into(),
            }))
            .unwrap();
        while socket.read().is_ok() {}
    });
    let mut client = connect(server, "/");
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(
        &events[1..],
        &[
            Event::CloseRequested {
                code: 4001,
                reason: "server says bye".into()
            },
            Event::Closed { clean: true }
        ]
    );
    assert_eq!(
        (client.close_code(), client.close_reason()),
        (Some(4001), "server says bye")
    );
}

#[test]
fn a_close_code_rfc_6455_does_not_allow_fails_the_connection_and_says_so() {
    let (answer_tx, answer_rx) = std::sync::mpsc::channel();
    let answer_tx = std::sync::Arc::new(std::sync::Mutex::new(answer_tx));
    let server = serve(no_protocol, move |mut socket, _| {
        socket.send("sent before".into()).unwrap();
        socket
            .close(Some(CloseFrame {
                code: CloseCode::from(999),
                reason: "".into(),
            }))
            .unwrap();
        let mut answer = None;
        while let Ok(message) = socket.read() {
            if let tungstenite::Message::Close(frame) = message {
                answer = frame.map(|frame| u16::from(frame.code));
            }
        }
        let _ = answer_tx.lock().unwrap().send(answer);
    });
    let mut client = connect(server, "/");
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, Event::CloseRequested { .. })),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&Event::Closed { clean: false }));
    assert_eq!(client.close_code(), Some(1002));
    let error = client.last_error().unwrap().to_string();
    assert!(error.contains("status code 999"), "{error}");
    assert_eq!(answer_rx.recv_timeout(WATCHDOG).unwrap(), Some(1002));
    assert_eq!(client.take_message(), Some(Message::from("sent before")));
}

#[test]
fn a_dropped_tcp_connection_is_an_unclean_close() {
    let server = serve(no_protocol, |socket, _| drop(socket));
    let mut client = connect(server, "/");
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: false }));
    assert_eq!(client.close_code(), None);
    assert!(client
        .last_error()
        .unwrap()
        .to_string()
        .starts_with("connection lost without a close handshake"));
}

#[test]
fn a_server_that_never_answers_our_close_hits_the_close_timeout() {
    let server = serve(no_protocol, |socket, _| {
        std::thread::sleep(Duration::from_secs(3));
        drop(socket);
    });
    let mut client = Client::new(Config::default().with_close_timeout(Duration::from_millis(200)));
    client
        .connect(ConnectRequest::new(&format!("ws://{server}")).unwrap())
        .unwrap();
    open(&mut client);
    client.close(1000, "").unwrap();
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: false }));
    assert_eq!(
        client.last_error().unwrap().to_string(),
        "server did not finish the close handshake within 0.2 s (close timeout)"
    );
}

#[test]
fn invalid_close_codes_and_long_reasons_are_refused() {
    let mut client = connect(echo_server(), "/");
    open(&mut client);
    assert!(client.close(1005, "").is_err());
    assert!(client.close(-1, "").is_err());
    assert!(client.close(1000, &"x".repeat(124)).is_err());
    assert_eq!(client.state(), ReadyState::Open);
}

#[test]
fn the_same_client_reconnects_after_a_close() {
    let server = echo_server();
    let mut client = connect(server, "/");
    for round in 0..3 {
        open(&mut client);
        client
            .send(Message::from(format!("round {round}")))
            .unwrap();
        assert_eq!(
            receive(&mut client, 1),
            vec![Message::from(format!("round {round}"))]
        );
        client.close(1000, "").unwrap();
        poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
        client
            .connect(ConnectRequest::new(&format!("ws://{server}")).unwrap())
            .unwrap();
    }
}

#[test]
fn failing_an_open_connection_closes_with_1002_and_keeps_the_reason() {
    let (seen_tx, seen_rx) = mpsc::channel();
    let server = serve(no_protocol, move |mut socket, _| loop {
        match socket.read() {
            Ok(tungstenite::Message::Close(frame)) => {
                let _ = seen_tx.send(frame.map(|f| u16::from(f.code)));
            }
            Ok(_) => {}
            Err(_) => return,
        }
    });
    let mut client = connect(server, "/");
    open(&mut client);
    let reason = rust_websocket_engine::Error::MultiplayerHandshake {
        detail: "a test said so".into(),
    };
    client.fail(reason);
    assert_eq!(client.state(), ReadyState::Closing);
    poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(seen_rx.recv_timeout(WATCHDOG).unwrap(), Some(1002));
    assert_eq!(
        client.last_error().unwrap().to_string(),
        "the server does not speak Godot's WebSocketMultiplayerPeer protocol: a test said so"
    );
}

#[test]
fn aborting_an_open_connection_keeps_what_arrived_and_ends_unclean_with_1001() {
    let (seen_tx, seen_rx) = mpsc::channel();
    let server = serve(no_protocol, move |mut socket, _| {
        let _ = socket.send(tungstenite::Message::text("before the abort"));
        loop {
            match socket.read() {
                Ok(tungstenite::Message::Close(frame)) => {
                    let _ = seen_tx.send(frame.map(|f| u16::from(f.code)));
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    let mut client = connect(server, "/");
    open(&mut client);
    poll_until(&mut client, |e| *e == Event::MessageReceived);
    client.abort(rust_websocket_engine::Error::Internal {
        detail: "a test said so".into(),
    });
    assert!(client.send(Message::from("after")).is_err());
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(events, vec![Event::Closed { clean: false }]);
    assert_eq!(client.state(), ReadyState::Closed);
    assert_eq!(
        client.take_message(),
        Some(Message::from("before the abort"))
    );
    assert_eq!(seen_rx.recv_timeout(WATCHDOG).unwrap(), Some(1001));
    assert_eq!(
        client.last_error().unwrap().to_string(),
        "internal error in rust_websocket (a bug, please report it): a test said so; the \
         connection was closed"
    );
}
