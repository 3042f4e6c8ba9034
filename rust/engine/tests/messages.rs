//! Messages of every kind and size arrive intact and in order, and stay readable after a close.

mod support;

use rust_websocket_engine::{Event, Message, ReadyState};
use support::*;

#[test]
fn text_and_binary_messages_echo_back_with_their_kind() {
    let mut client = connect(echo_server(), "/");
    open(&mut client);
    client.send(Message::from("hello")).unwrap();
    client.send(Message::from(vec![0u8, 1, 2, 255])).unwrap();
    client.send(Message::from("")).unwrap();
    let echoed = receive(&mut client, 3);
    assert_eq!(
        echoed,
        vec![
            Message::from("hello"),
            Message::from(vec![0u8, 1, 2, 255]),
            Message::from("")
        ]
    );
    assert!(echoed[0].is_text() && !echoed[1].is_text());
}

#[test]
fn ten_thousand_small_messages_arrive_in_order() {
    let mut client = connect(echo_server(), "/");
    open(&mut client);
    for index in 0..10_000 {
        client
            .send(Message::from(format!("message {index}")))
            .unwrap();
    }
    let echoed = receive(&mut client, 10_000);
    for (index, message) in echoed.iter().enumerate() {
        assert_eq!(message, &Message::from(format!("message {index}")));
    }
}

#[test]
fn sixteen_mib_messages_travel_both_ways_intact() {
    let mut client = connect(echo_server(), "/");
    open(&mut client);
    let payload: Vec<u8> = (0..16usize << 20).map(|i| (i * 31 % 251) as u8).collect();
    client.send(Message::from(payload.clone())).unwrap();
    let echoed = receive(&mut client, 1);
    assert_eq!(echoed[0].as_bytes(), payload.as_slice());
}

#[test]
fn messages_received_before_a_close_stay_readable_after_it() {
    let server = serve(no_protocol, |mut socket, _| {
        for index in 0..3 {
            socket
                .send(tungstenite::Message::text(format!("last words {index}")))
                .unwrap();
        }
        socket.close(None).unwrap();
        while socket.read().is_ok() {}
    });
    let mut client = connect(server, "/");
    poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(client.state(), ReadyState::Closed);
    assert_eq!(client.queued_message_count(), 3);
    assert_eq!(client.take_message(), Some(Message::from("last words 0")));
    assert_eq!(client.take_message(), Some(Message::from("last words 1")));
    assert_eq!(client.take_message(), Some(Message::from("last words 2")));
}

#[test]
fn sending_while_not_open_is_refused_and_queues_nothing() {
    let mut client = rust_websocket_engine::Client::default();
    assert!(client.send(Message::from("too early")).is_err());
    assert_eq!(client.buffered_outbound_bytes(), 0);
}
