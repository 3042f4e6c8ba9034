//! Failed connection attempts end in `Event::Failed` with an error a person can act on.

mod support;

use std::time::Duration;

use rust_websocket_engine::{Client, Config, ConnectRequest, MAX_HANDSHAKE_BODY_BYTES};
use support::net::RefusingPort;
use support::*;

#[test]
fn a_refused_port_names_the_address() {
    let refusing = RefusingPort::new();
    let port = refusing.port();
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

#[test]
fn a_refused_upgrade_keeps_status_headers_and_body() {
    let server = serve_raw(|mut stream| {
        read_request_head(&mut stream);
        let reply = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"game\"\r\n\
                      X-Reason: one\r\nX-Reason: two\r\nContent-Length: 14\r\n\r\ntoken expired\n";
        write_and_linger(stream, reply, Duration::from_millis(500));
    });
    let mut client = connect(server, "/login");
    assert_eq!(
        failure(&mut client),
        "server refused the WebSocket upgrade with HTTP 401 Unauthorized"
    );
    let response = client.handshake_response().expect("the refusal is kept");
    assert_eq!(
        (response.status, response.reason.as_str()),
        (401, "Unauthorized")
    );
    let header = |name: &str| -> Vec<&str> {
        response
            .headers
            .iter()
            .filter(|(each, _)| each == name)
            .map(|(_, value)| value.as_str())
            .collect()
    };
    assert_eq!(header("www-authenticate"), ["Bearer realm=\"game\""]);
    assert_eq!(header("x-reason"), ["one", "two"]);
    assert_eq!(response.body, b"token expired\n");
}

#[test]
fn a_refusal_body_is_bounded() {
    let server = serve_raw(|mut stream| {
        read_request_head(&mut stream);
        let body = "x".repeat(3 * MAX_HANDSHAKE_BODY_BYTES);
        let reply = format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        write_and_linger(stream, reply.as_bytes(), Duration::from_millis(500));
    });
    let mut client = connect(server, "/");
    failure(&mut client);
    let response = client.handshake_response().expect("the refusal is kept");
    assert_eq!(response.status, 403);
    assert!(!response.body.is_empty() && response.body.len() <= MAX_HANDSHAKE_BODY_BYTES);
    assert!(response.body.iter().all(|byte| *byte == b'x'));
}

#[test]
fn an_accepted_upgrade_keeps_the_101_response() {
    let server = echo_server();
    let mut client = connect(server, "/");
    assert!(client.handshake_response().is_none());
    open(&mut client);
    let response = client
        .handshake_response()
        .expect("the 101 response is kept");
    assert_eq!(response.status, 101);
    assert!(response
        .headers
        .iter()
        .any(|(name, value)| name == "upgrade" && value.eq_ignore_ascii_case("websocket")));
    assert!(response.body.is_empty());
}
