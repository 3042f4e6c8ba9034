//! Sub-protocol negotiation follows browsers: the server must pick one of those offered.

mod support;

use rust_websocket_engine::{Client, ConnectRequest, Event};
use support::*;

fn first_offered(offered: &[String]) -> Option<String> {
    offered.first().cloned()
}

fn always_chat_v1(_: &[String]) -> Option<String> {
    Some("chat.v1".into())
}

fn connect_offering(server: std::net::SocketAddr, protocols: &[&str]) -> Client {
    let mut client = Client::default();
    let request = ConnectRequest::new(&format!("ws://{server}"))
        .unwrap()
        .with_protocols(protocols.iter().copied())
        .unwrap();
    client.connect(request).unwrap();
    client
}

fn idle(
    _: tungstenite::WebSocket<std::net::TcpStream>,
    _: tungstenite::handshake::server::Request,
) {
    std::thread::sleep(std::time::Duration::from_secs(1));
}

#[test]
fn the_selected_protocol_is_reported() {
    let mut client = connect_offering(serve(first_offered, idle), &["chat.v2", "chat.v1"]);
    let events = poll_until(&mut client, |e| {
        matches!(e, Event::Opened { .. } | Event::Failed)
    });
    assert_eq!(
        events.last(),
        Some(&Event::Opened {
            protocol: "chat.v2".into()
        })
    );
    assert_eq!(client.selected_protocol(), "chat.v2");
}

#[test]
fn a_server_that_accepts_none_of_the_offered_protocols_fails_the_connection() {
    let mut client = connect_offering(serve(no_protocol, idle), &["chat.v2"]);
    poll_until(&mut client, |e| matches!(e, Event::Failed));
    assert_eq!(
        client.last_error().unwrap().to_string(),
        "server accepted none of the requested sub-protocols: chat.v2"
    );
}

#[test]
fn a_server_that_picks_a_protocol_nobody_offered_fails_the_connection() {
    let mut client = connect_offering(serve(always_chat_v1, idle), &[]);
    poll_until(&mut client, |e| matches!(e, Event::Failed));
    assert_eq!(
        client.last_error().unwrap().to_string(),
        "server selected a sub-protocol although none was requested"
    );
}

#[test]
fn custom_headers_reach_the_server() {
    let server = serve(no_protocol, |mut socket, request| {
        let token = request
            .headers()
            .get("x-token")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        socket.send(tungstenite::Message::text(token)).unwrap();
        while socket.read().is_ok() {}
    });
    let mut client = Client::default();
    let request = ConnectRequest::new(&format!("ws://{server}"))
        .unwrap()
        .with_header_line("X-Token: s3cret")
        .unwrap();
    client.connect(request).unwrap();
    assert_eq!(receive(&mut client, 1)[0].as_bytes(), b"s3cret");
}
