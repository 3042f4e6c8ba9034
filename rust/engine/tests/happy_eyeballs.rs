//! Happy eyeballs (RFC 8305) with `localhost`, which the engine answers with both `::1` and
//! `127.0.0.1`: the first family to connect wins, a refusing or silent family costs at most
//! the stagger, and the connect timeout ends attempts that all hang.

mod support;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::time::Duration;

use rust_websocket_engine::{Client, Config, ConnectRequest, Message};
use support::net::{echo_server_on, unanswered_listener};
use support::*;

fn connect_localhost(config: Config, port: u16) -> Client {
    let mut client = Client::new(config);
    client
        .connect(ConnectRequest::new(&format!("ws://localhost:{port}/")).unwrap())
        .unwrap();
    client
}

fn echo_once(client: &mut Client) {
    client.send(Message::from("hello")).unwrap();
    assert_eq!(receive(client, 1), vec![Message::from("hello")]);
}

/// A free port on both `::1` and `127.0.0.1` at the time of the call.
fn port_free_on_both() -> u16 {
    loop {
        let v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
        let port = v6.local_addr().unwrap().port();
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

#[test]
fn a_server_only_on_ipv6_is_reached_over_ipv6() {
    let server = echo_server_on(SocketAddr::from((Ipv6Addr::LOCALHOST, 0))).unwrap();
    let mut client = connect_localhost(Config::default(), server.port());
    open(&mut client);
    assert_eq!(client.peer_addr(), Some(server));
    echo_once(&mut client);
}

#[test]
fn a_server_only_on_ipv4_is_reached_after_ipv6_refuses() {
    let server =
        echo_server_on(SocketAddr::from((Ipv4Addr::LOCALHOST, port_free_on_both()))).unwrap();
    let mut client = connect_localhost(Config::default(), server.port());
    open(&mut client);
    assert_eq!(client.peer_addr(), Some(server));
    echo_once(&mut client);
}

/// Runs `on_ipv4` with the port of a silent listener on `::1` until that port is free on
/// `127.0.0.1` too; returns the silent listener (keep it alive) and what `on_ipv4` made.
fn silent_ipv6_and<T>(on_ipv4: impl Fn(SocketAddr) -> std::io::Result<T>) -> (impl Sized, T) {
    loop {
        let silent = unanswered_listener(SocketAddr::from((Ipv6Addr::LOCALHOST, 0))).unwrap();
        let port = silent.0.local_addr().unwrap().port();
        if let Ok(made) = on_ipv4(SocketAddr::from((Ipv4Addr::LOCALHOST, port))) {
            return (silent, made);
        }
    }
}

#[test]
fn a_silent_ipv6_loses_the_race_to_ipv4() {
    // ::1 takes no connection (SYNs dropped); 127.0.0.1 on the same port answers.
    let (_silent, server) = silent_ipv6_and(echo_server_on);
    let mut client = connect_localhost(Config::default(), server.port());
    open(&mut client);
    assert_eq!(client.peer_addr(), Some(server));
    echo_once(&mut client);
}

#[test]
fn attempts_that_all_hang_end_with_the_connect_timeout() {
    let (_silent, silent_v4) = silent_ipv6_and(unanswered_listener);
    let port = silent_v4.0.local_addr().unwrap().port();
    let config = Config::default()
        .with_connect_timeout(Duration::from_millis(500))
        .with_handshake_timeout(Duration::from_secs(30));
    let mut client = connect_localhost(config, port);
    assert_eq!(
        failure(&mut client),
        format!(
            "cannot connect to localhost:{port}: no answer within 0.5 s (connect timeout) from \
             [::1]:{port}, 127.0.0.1:{port}"
        )
    );
}

#[test]
fn every_family_refusing_names_every_address() {
    let port = port_free_on_both();
    let mut client = connect_localhost(Config::default(), port);
    assert_eq!(
        failure(&mut client),
        format!(
            "cannot connect to localhost: connection refused by [::1]:{port}; connection \
             refused by 127.0.0.1:{port}"
        )
    );
}
