//! Failed connection attempts end in `Event::Failed` with an error a person can act on.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use rust_websocket_engine::{Client, Config, ConnectRequest};
use support::*;

#[test]
fn a_refused_port_names_the_address() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut client = Client::default();
    client
        .connect(ConnectRequest::new(&format!("ws://127.0.0.1:{port}")).unwrap())
        .unwrap();
    assert_eq!(
        failure(&mut client),
        format!("connection refused by 127.0.0.1:{port}")
    );
}

#[test]
fn an_unknown_host_names_the_host() {
    let mut client = Client::default();
    client
        .connect(ConnectRequest::new("ws://nosuch.invalid/").unwrap())
        .unwrap();
    assert!(failure(&mut client).starts_with("cannot resolve host nosuch.invalid"));
}

#[test]
fn a_silent_server_hits_the_handshake_timeout() {
    let server = serve_raw(|stream| write_and_linger(stream, b"", Duration::from_secs(5)));
    let mut client =
        Client::new(Config::default().with_handshake_timeout(Duration::from_millis(300)));
    client
        .connect(ConnectRequest::new(&format!("ws://{server}")).unwrap())
        .unwrap();
    let error = failure(&mut client);
    assert_eq!(
        error,
        format!(
            "connection to 127.0.0.1:{} was not open after 0.3 s (handshake timeout, during the HTTP upgrade)",
            server.port()
        )
    );
}

#[test]
fn a_refused_upgrade_reports_the_http_status() {
    let server = serve_raw(|mut stream| {
        read_request_head(&mut stream);
        let reply = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n";
        write_and_linger(stream, reply, Duration::from_millis(500));
    });
    let mut client = connect(server, "/missing");
    assert_eq!(
        failure(&mut client),
        "server refused the WebSocket upgrade with HTTP 404 Not Found"
    );
}

#[test]
fn a_wrong_accept_key_fails_the_handshake() {
    let server = serve_raw(|mut stream| {
        read_request_head(&mut stream);
        let reply =
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                      Sec-WebSocket-Accept: bm9wZQ==\r\n\r\n";
        write_and_linger(stream, reply, Duration::from_millis(500));
    });
    let mut client = connect(server, "/");
    assert!(failure(&mut client).starts_with("invalid WebSocket handshake response"));
}

#[test]
fn a_second_connect_while_connecting_is_refused() {
    let mut client = connect(echo_server(), "/");
    let again = client.connect(ConnectRequest::new("ws://127.0.0.1:1").unwrap());
    assert!(again
        .unwrap_err()
        .to_string()
        .starts_with("a connection is already in progress"));
    open(&mut client);
}

#[test]
fn a_server_that_hangs_up_during_the_upgrade_is_named_as_such() {
    let server = serve_raw(|mut stream| {
        read_request_head(&mut stream);
    });
    let mut client = connect(server, "/");
    assert_eq!(
        failure(&mut client),
        "invalid WebSocket handshake response: the server closed the connection before answering the upgrade"
    );
}
