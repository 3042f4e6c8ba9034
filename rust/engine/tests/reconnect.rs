//! Auto-reconnect against real servers that drop, close, refuse, or go away and come back.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rust_websocket_engine::{
    Client, Config, ConnectRequest, Error, Event, Message, QueueLimit, ReadyState, ReconnectConfig,
};
use support::net::RefusingPort;
use support::*;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;

/// Short delays: the tests check what happens, never how fast.
fn reconnecting(max_attempts: u32) -> Config {
    Config::default().with_reconnect(
        ReconnectConfig::default()
            .with_enabled(true)
            .with_initial_delay(Duration::from_millis(20))
            .with_max_delay(Duration::from_millis(100))
            .with_max_attempts(max_attempts),
    )
}

fn connect_with(config: Config, addr: SocketAddr, path: &str) -> Client {
    let mut client = Client::new(config);
    client
        .connect(ConnectRequest::new(&format!("ws://{addr}{path}")).unwrap())
        .unwrap();
    client
}

/// The events as short names, without the random delays.
fn names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            Event::Opened { .. } => "opened".into(),
            Event::MessageReceived => "message".into(),
            Event::CloseRequested { code, .. } => format!("close requested {code}"),
            Event::Closed { clean } => format!("closed clean={clean}"),
            Event::Failed => "failed".into(),
            Event::Reconnecting { attempt, .. } => format!("reconnecting {attempt}"),
            Event::Reconnected => "reconnected".into(),
            Event::ReconnectFailed { attempts } => format!("gave up after {attempts}"),
            Event::PeerIdAssigned { id } => format!("peer id {id}"),
            Event::MultiplayerHandshakeFailed => "multiplayer handshake failed".into(),
            Event::ReconnectQueueDiscarded { count } => format!("discarded {count}"),
        })
        .collect()
}

/// A server whose first connection runs `first`, and every later one echoes.
fn first_connection_then_echo(
    first: fn(&mut tungstenite::WebSocket<std::net::TcpStream>),
) -> SocketAddr {
    let connections = Arc::new(AtomicUsize::new(0));
    serve(no_protocol, move |mut socket, _| {
        if connections.fetch_add(1, Ordering::SeqCst) == 0 {
            return first(&mut socket);
        }
        while let Ok(message) = socket.read() {
            if (message.is_text() || message.is_binary()) && socket.send(message).is_err() {
                return;
            }
        }
    })
}

fn text(message: Message) -> String {
    match message {
        Message::Text(text) => text.to_string(),
        Message::Binary(_) => panic!("expected a text message"),
    }
}

#[test]
fn a_dropped_connection_opens_again_and_earlier_messages_stay_first() {
    let server = first_connection_then_echo(|socket| {
        socket.send("before 1".into()).unwrap();
        socket.send("before 2".into()).unwrap();
        // Returning drops the TCP connection without a close frame.
    });
    let mut client = connect_with(reconnecting(3), server, "/");
    let mut events = poll_until(&mut client, |e| matches!(e, Event::Reconnecting { .. }));
    assert_eq!(client.state(), ReadyState::Connecting);
    assert_eq!(client.close_code(), None);

    // Sends while reconnecting are refused and nothing is queued.
    let refused = client.send(Message::from("lost")).unwrap_err();
    assert!(matches!(refused, Error::Reconnecting { attempt: 1 }));
    assert_eq!(
        refused.to_string(),
        "the connection is being re-established (auto-reconnect, attempt 1); nothing was sent: \
         send again once it is open"
    );

    events.extend(poll_until(&mut client, |e| matches!(e, Event::Reconnected)));
    assert_eq!(
        names(&events),
        [
            "opened",
            "message",
            "message",
            "closed clean=false",
            "reconnecting 1",
            "opened",
            "reconnected"
        ]
    );
    assert_eq!(client.state(), ReadyState::Open);
    assert_eq!(client.reconnect_count(), 1);

    client.send(Message::from("after")).unwrap();
    let messages: Vec<String> = receive(&mut client, 3).into_iter().map(text).collect();
    assert_eq!(messages, ["before 1", "before 2", "after"]);
}

#[test]
fn the_next_attempt_starts_once_its_delay_passed_on_the_clients_clock() {
    let server = first_connection_then_echo(|_| {});
    let mut config = reconnecting(3);
    // Far longer than the test: only the moved clock can make the attempt due.
    config.reconnect.initial_delay = Duration::from_secs(600);
    config.reconnect.max_delay = Duration::from_secs(600);
    let mut client = connect_with(config, server, "/");
    let events = poll_until(&mut client, |e| matches!(e, Event::Reconnecting { .. }));
    let Some(&Event::Reconnecting { attempt: 1, delay }) = events.last() else {
        panic!("expected the first reconnect, saw {events:?}");
    };
    let decided_by = Instant::now();

    assert_eq!(client.poll_event_with(|| decided_by + delay / 2), None);
    assert_eq!(client.state(), ReadyState::Connecting);
    let due = decided_by + delay + Duration::from_secs(1);
    let mut later = Vec::new();
    while !matches!(later.last(), Some(Event::Reconnected)) {
        later.extend(client.poll_event_with(|| due));
        assert!(decided_by.elapsed() < watchdog(), "watchdog; saw {later:?}");
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(names(&later), ["opened", "reconnected"]);
    client.send(Message::from("after")).unwrap();
    assert_eq!(text(receive(&mut client, 1).remove(0)), "after");
}

#[test]
fn a_server_that_comes_back_on_the_same_port_is_reached() {
    let refusing = RefusingPort::new();
    let port = refusing.port();
    let mut client = Client::new(reconnecting(0));
    client
        .connect(ConnectRequest::new(&format!("ws://127.0.0.1:{port}/")).unwrap())
        .unwrap();
    let events = poll_until(
        &mut client,
        |e| matches!(e, Event::Reconnecting { attempt, .. } if *attempt == 3),
    );
    assert_eq!(
        names(&events),
        [
            "failed",
            "reconnecting 1",
            "failed",
            "reconnecting 2",
            "failed",
            "reconnecting 3"
        ]
    );
    let listener = refusing.listen();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut socket = tungstenite::accept(stream).unwrap();
        let message = socket.read().unwrap();
        socket.send(message).unwrap();
        while socket.read().is_ok() {}
    });
    let events = poll_until(&mut client, |e| {
        matches!(e, Event::Reconnected | Event::ReconnectFailed { .. })
    });
    assert_eq!(names(&events).last().unwrap(), "reconnected");
    client.send(Message::from("hello again")).unwrap();
    assert_eq!(text(receive(&mut client, 1).remove(0)), "hello again");
    client.close(1000, "").unwrap();
    poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    server.join().unwrap();
}

#[test]
fn the_games_own_close_never_reconnects() {
    let mut client = connect_with(reconnecting(3), echo_server(), "/");
    open(&mut client);
    client.close(1000, "").unwrap();
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(names(&events).last().unwrap(), "closed clean=true");
    // The decision to reconnect comes with the close, so no event at all follows.
    assert_eq!(client.poll_event(), None);
    assert_eq!(client.state(), ReadyState::Closed);
}

#[test]
fn a_final_close_code_never_reconnects() {
    let server = first_connection_then_echo(|socket| {
        socket
            .close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "session over".into(),
            }))
            .unwrap();
        while socket.read().is_ok() {}
    });
    let mut client = connect_with(reconnecting(3), server, "/");
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(
        names(&events),
        ["opened", "close requested 1000", "closed clean=true"]
    );
    assert_eq!(client.poll_event(), None);
    assert_eq!(client.state(), ReadyState::Closed);
    assert_eq!(client.close_code(), Some(1000));
}

#[test]
fn a_close_code_that_is_not_final_reconnects() {
    let server = first_connection_then_echo(|socket| {
        socket
            .close(Some(CloseFrame {
                code: CloseCode::Away,
                reason: "restarting".into(),
            }))
            .unwrap();
        while socket.read().is_ok() {}
    });
    let mut client = connect_with(reconnecting(3), server, "/");
    let events = poll_until(&mut client, |e| matches!(e, Event::Reconnected));
    assert_eq!(
        names(&events),
        [
            "opened",
            "close requested 1001",
            "closed clean=true",
            "reconnecting 1",
            "opened",
            "reconnected"
        ]
    );
}

#[test]
fn a_listed_close_code_is_final() {
    let server = first_connection_then_echo(|socket| {
        socket
            .close(Some(CloseFrame {
                code: CloseCode::from(4001),
                reason: "banned".into(),
            }))
            .unwrap();
        while socket.read().is_ok() {}
    });
    let mut config = reconnecting(3);
    config.reconnect.final_close_codes.push(4001);
    let mut client = connect_with(config, server, "/");
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(names(&events).last().unwrap(), "closed clean=true");
    assert_eq!(client.poll_event(), None);
}

#[test]
fn a_refused_port_gives_up_after_max_attempts_and_says_why() {
    let refusing = RefusingPort::new();
    let port = refusing.port();
    let mut client = Client::new(reconnecting(3));
    client
        .connect(ConnectRequest::new(&format!("ws://127.0.0.1:{port}/")).unwrap())
        .unwrap();
    let events = poll_until(&mut client, |e| matches!(e, Event::ReconnectFailed { .. }));
    assert_eq!(
        names(&events),
        [
            "failed",
            "reconnecting 1",
            "failed",
            "reconnecting 2",
            "failed",
            "reconnecting 3",
            "failed",
            "gave up after 3"
        ]
    );
    assert_eq!(client.state(), ReadyState::Closed);
    assert_eq!(
        client.last_error().unwrap().to_string(),
        format!(
            "gave up reconnecting after 3 attempts; the last one failed: connection refused by \
             127.0.0.1:{port}"
        )
    );
    assert!(matches!(
        client.send(Message::from("x")),
        Err(Error::NotOpen)
    ));
    assert_eq!(client.poll_event(), None);
}

#[test]
fn closing_while_waiting_stops_reconnecting() {
    let refusing = RefusingPort::new();
    let port = refusing.port();
    let mut config = reconnecting(0);
    // Long enough that the attempt cannot start during the test.
    config.reconnect.initial_delay = Duration::from_secs(600);
    config.reconnect.max_delay = Duration::from_secs(600);
    let mut client = Client::new(config);
    client
        .connect(ConnectRequest::new(&format!("ws://127.0.0.1:{port}/")).unwrap())
        .unwrap();
    poll_until(&mut client, |e| matches!(e, Event::Reconnecting { .. }));
    assert_eq!(client.state(), ReadyState::Connecting);
    client.close(1000, "").unwrap();
    assert_eq!(client.state(), ReadyState::Closing);
    assert_eq!(client.poll_event(), Some(Event::Closed { clean: false }));
    assert_eq!(client.state(), ReadyState::Closed);
    assert_eq!(client.poll_event(), None);
}

#[test]
fn closing_right_after_the_drop_event_ends_quietly() {
    let refusing = RefusingPort::new();
    let port = refusing.port();
    let mut client = Client::new(reconnecting(0));
    client
        .connect(ConnectRequest::new(&format!("ws://127.0.0.1:{port}/")).unwrap())
        .unwrap();
    poll_until(&mut client, |e| matches!(e, Event::Failed));
    // As from a connection_error handler: the Reconnecting event is not out yet.
    assert_eq!(client.state(), ReadyState::Connecting);
    client.close(1000, "").unwrap();
    assert_eq!(client.state(), ReadyState::Closed);
    assert_eq!(client.poll_event(), None);
}

#[test]
fn off_by_default() {
    let server = serve(no_protocol, |socket, _| drop(socket));
    let mut client = connect(server, "/");
    let events = poll_until(&mut client, |e| matches!(e, Event::Closed { .. }));
    assert_eq!(names(&events), ["opened", "closed clean=false"]);
    assert_eq!(client.poll_event(), None);
    assert_eq!(client.state(), ReadyState::Closed);
}

#[test]
fn taking_messages_from_before_the_drop_keeps_the_new_connection_reading() {
    let server = first_connection_then_echo(|socket| {
        socket.send(vec![7u8; 100_000].into()).unwrap();
    });
    let mut client = connect_with(reconnecting(3), server, "/");
    poll_until(&mut client, |e| matches!(e, Event::Reconnected));
    // Taken through the new connection, whose inbound byte count must include it.
    assert_eq!(
        client.take_message().map(|message| message.len()),
        Some(100_000)
    );
    for round in 0..3 {
        let message = format!("round {round}");
        client.send(Message::from(message.as_str())).unwrap();
        assert_eq!(text(receive(&mut client, 1).remove(0)), message);
    }
}

/// [`reconnecting`] with the reconnect queue on, holding `messages` and `bytes` at most.
fn queueing(max_attempts: u32, messages: usize, bytes: usize) -> Config {
    let mut config = reconnecting(max_attempts);
    config.reconnect = config
        .reconnect
        .with_queue_messages(messages)
        .with_queue_bytes(bytes);
    config
}

/// A client with `config` connecting to a port that refuses; keep the port until the test ends.
fn connect_to_refusing_port(config: Config) -> (Client, RefusingPort) {
    let refusing = RefusingPort::new();
    let mut client = Client::new(config);
    client
        .connect(ConnectRequest::new(&format!("ws://127.0.0.1:{}/", refusing.port())).unwrap())
        .unwrap();
    (client, refusing)
}

#[test]
fn queued_sends_go_out_first_and_in_order_once_reconnected() {
    let server = first_connection_then_echo(|_| {});
    let mut client = connect_with(queueing(3, 10, 1 << 20), server, "/");
    poll_until(&mut client, |e| matches!(e, Event::Reconnecting { .. }));
    for text in ["one", "two", "three"] {
        client.send(Message::from(text)).unwrap();
    }
    // Queued, not sent: they count as buffered, and not as sent.
    assert_eq!(client.buffered_outbound_bytes(), 11);
    assert_eq!(client.statistics().messages_sent, 0);
    poll_until(&mut client, |e| matches!(e, Event::Reconnected));
    client.send(Message::from("four")).unwrap();
    let messages: Vec<String> = receive(&mut client, 4).into_iter().map(text).collect();
    assert_eq!(messages, ["one", "two", "three", "four"]);
}

#[test]
fn a_full_queue_refuses_and_closing_while_waiting_discards_it() {
    let mut config = queueing(0, 2, 5);
    // Long enough that the attempt cannot start during the test.
    config.reconnect.initial_delay = Duration::from_secs(600);
    config.reconnect.max_delay = Duration::from_secs(600);
    let (mut client, _refusing) = connect_to_refusing_port(config);
    poll_until(&mut client, |e| matches!(e, Event::Reconnecting { .. }));
    client.send(Message::from("abc")).unwrap();
    let too_big = client.send(Message::from("def")).unwrap_err();
    assert!(matches!(
        too_big,
        Error::ReconnectQueueFull {
            limit: QueueLimit::Bytes {
                size: 3,
                queued: 3,
                max: 5
            }
        }
    ));
    assert_eq!(
        too_big.to_string(),
        "the reconnect queue has no room for a message of 3 bytes (3 of 5 bytes queued, \
         reconnect_queue_bytes): the message was not sent; send it again once reconnected"
    );
    client.send(Message::from("de")).unwrap();
    assert_eq!(client.buffered_outbound_bytes(), 5, "what the queue holds");
    let full = client.send(Message::from("")).unwrap_err();
    assert_eq!(
        full.to_string(),
        "the reconnect queue is full (2 messages, reconnect_queue_messages): the message was \
         not sent; send it again once reconnected"
    );
    client.close(1000, "").unwrap();
    let events = poll_until(&mut client, |e| {
        matches!(e, Event::ReconnectQueueDiscarded { .. })
    });
    assert_eq!(names(&events), ["closed clean=false", "discarded 2"]);
    assert_eq!(client.buffered_outbound_bytes(), 0, "the discarded queue");
    assert_eq!(client.poll_event(), None);
}

#[test]
fn giving_up_discards_the_queue_and_says_how_many() {
    let (mut client, refusing) = connect_to_refusing_port(queueing(2, 10, 1 << 20));
    let port = refusing.port();
    poll_until(&mut client, |e| matches!(e, Event::Reconnecting { .. }));
    client.send(Message::from("a")).unwrap();
    client.send(Message::from("b")).unwrap();
    let events = poll_until(&mut client, |e| {
        matches!(e, Event::ReconnectQueueDiscarded { .. })
    });
    assert_eq!(
        names(&events[events.len() - 3..]),
        ["failed", "gave up after 2", "discarded 2"]
    );
    assert_eq!(
        client.last_error().unwrap().to_string(),
        format!(
            "gave up reconnecting after 2 attempts; the last one failed: connection refused by \
             127.0.0.1:{port}; the 2 messages queued meanwhile were not sent"
        )
    );
    assert_eq!(client.poll_event(), None);
}

#[test]
fn closing_right_after_the_drop_event_discards_the_queue() {
    let (mut client, _refusing) = connect_to_refusing_port(queueing(0, 10, 1 << 20));
    poll_until(&mut client, |e| matches!(e, Event::Failed));
    // As from a connection_error handler: the Reconnecting event is not out yet.
    client.send(Message::from("early")).unwrap();
    client.close(1000, "").unwrap();
    assert_eq!(client.state(), ReadyState::Closed);
    assert_eq!(
        client.poll_event(),
        Some(Event::ReconnectQueueDiscarded { count: 1 })
    );
    assert_eq!(client.poll_event(), None);
}
