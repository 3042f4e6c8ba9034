//! The heartbeat: pings from the I/O thread measure the round-trip time, and a server that
//! stops answering is dropped as lost.

mod support;

use std::thread;
use std::time::Duration;

use rust_websocket_engine::{Client, Config, ConnectRequest, Event, Message, ReadyState};
use support::*;
use tungstenite::Message as Frame;

fn heartbeat_client(addr: std::net::SocketAddr, interval: Duration, timeout: Duration) -> Client {
    let config = Config::default()
        .with_heartbeat_interval(interval)
        .with_heartbeat_timeout(timeout);
    let mut client = Client::new(config);
    client
        .connect(ConnectRequest::new(&format!("ws://{addr}")).unwrap())
        .unwrap();
    client
}

/// Waits, without polling the client, until `done` holds; panics after the watchdog.
fn wait_without_polling(client: &Client, done: impl Fn(&Client) -> bool) {
    let started = std::time::Instant::now();
    while !done(client) {
        assert!(started.elapsed() < WATCHDOG, "watchdog: condition not met");
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_round_trip_time_is_measured_without_the_game_polling() {
    let server = echo_server();
    let mut client = heartbeat_client(server, Duration::from_millis(50), Duration::ZERO);
    open(&mut client);
    assert_eq!(
        client.round_trip_time(),
        None,
        "no pong before the first ping"
    );
    // The I/O thread pings and takes the pong while the game does not poll at all.
    wait_without_polling(&client, |client| client.round_trip_time().is_some());
    let rtt = client.round_trip_time().unwrap();
    assert!(rtt > Duration::ZERO && rtt < WATCHDOG, "round trip {rtt:?}");
    assert_eq!(client.statistics().round_trip_time, Some(rtt));
    // The pings did not disturb the messages.
    client.send(Message::from("still here")).unwrap();
    assert_eq!(receive(&mut client, 1), vec![Message::from("still here")]);
    assert_eq!(client.state(), ReadyState::Open);
}

#[test]
fn a_server_that_stops_answering_is_dropped_as_lost() {
    // The server completes the upgrade, then never reads again: no pong ever comes back.
    let server = serve(no_protocol, |socket, _| {
        thread::sleep(WATCHDOG);
        drop(socket);
    });
    let mut client = heartbeat_client(
        server,
        Duration::from_millis(100),
        Duration::from_millis(300),
    );
    open(&mut client);
    let events = poll_until(&mut client, |event| matches!(event, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: false }));
    assert_eq!(
        client.last_error().map(ToString::to_string).as_deref(),
        Some("connection lost: the server sent nothing for 0.3 s after a ping (heartbeat timeout)")
    );
    assert_eq!(client.close_code(), None, "dropped without a close frame");
    assert_eq!(client.state(), ReadyState::Closed);
}

#[test]
fn unsolicited_pongs_keep_the_connection_alive_but_give_no_round_trip() {
    // The server never reads (so never answers a ping) but sends pongs of its own, then "done".
    let server = serve(no_protocol, |mut socket, _| {
        for index in 0..40u8 {
            if socket.send(Frame::Pong(vec![index; 12].into())).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = socket.send(Frame::text("done"));
        thread::sleep(WATCHDOG);
    });
    let mut client = heartbeat_client(server, Duration::from_millis(20), Duration::from_secs(5));
    open(&mut client);
    assert_eq!(receive(&mut client, 1), vec![Message::from("done")]);
    assert_eq!(client.state(), ReadyState::Open);
    assert_eq!(client.round_trip_time(), None);
}

#[test]
fn the_heartbeat_is_off_by_default() {
    assert_eq!(Config::default().heartbeat_interval, Duration::ZERO);
    let server = echo_server();
    let mut client = connect(server, "/");
    open(&mut client);
    client.send(Message::from("ping?")).unwrap();
    assert_eq!(receive(&mut client, 1), vec![Message::from("ping?")]);
    assert_eq!(client.round_trip_time(), None);
}

#[test]
fn a_game_that_stopped_reading_is_not_taken_for_a_dead_server() {
    // The server sends more than the inbound limit at once, then waits: the client pauses
    // reading until the game takes messages, so the server's pongs stay unread meanwhile.
    const MESSAGES: usize = 64;
    let server = serve(no_protocol, |mut socket, _| {
        for _ in 0..MESSAGES {
            if socket.send(Frame::binary(vec![1u8; 1024])).is_err() {
                return;
            }
        }
        loop {
            if socket.read().is_err() {
                return;
            }
        }
    });
    let config = Config::default()
        .with_inbound_queue_limit(4 * 1024)
        .with_heartbeat_interval(Duration::from_millis(20))
        .with_heartbeat_timeout(Duration::from_millis(100));
    let mut client = Client::new(config);
    client
        .connect(ConnectRequest::new(&format!("ws://{server}")).unwrap())
        .unwrap();
    open(&mut client);
    // Many heartbeat timeouts long, the game takes nothing.
    thread::sleep(Duration::from_secs(1));
    let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, Event::Closed { .. })),
        "closed while the game was not reading: {:?}",
        client.last_error().map(ToString::to_string)
    );
    assert_eq!(receive(&mut client, MESSAGES).len(), MESSAGES);
    assert_eq!(client.state(), ReadyState::Open);
}
