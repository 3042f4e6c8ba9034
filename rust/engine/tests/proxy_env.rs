//! The proxy from `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY`, read at each connect.
//!
//! One test function: the environment is process-wide, so the steps run in order, each while no
//! connection is in flight.

mod support;

use std::env;

use rust_websocket_engine::{Client, ConnectRequest, Message};
use support::net::{ConnectProxy, PROXY_ONLY_HOST};
use support::*;

fn clear_proxy_environment() {
    for name in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        env::remove_var(name);
    }
}

#[test]
fn the_environment_chooses_the_proxy_at_each_connect() {
    clear_proxy_environment();
    let server = echo_server();
    let proxy = ConnectProxy::start(None);
    let url = format!("ws://{PROXY_ONLY_HOST}:{}/", server.port());
    // The default config follows the environment.
    let mut client = Client::default();

    // HTTP_PROXY carries ws:// through the proxy, which resolves the name.
    env::set_var("HTTP_PROXY", proxy.url(""));
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    open(&mut client);
    client.send(Message::from("hi")).unwrap();
    assert_eq!(receive(&mut client, 1), vec![Message::from("hi")]);
    assert_eq!(client.proxy(), Some(proxy.addr.to_string().as_str()));
    client.close(1000, "").unwrap();
    poll_until(&mut client, |e| {
        matches!(e, rust_websocket_engine::Event::Closed { .. })
    });
    assert_eq!(proxy.seen().len(), 1);

    // HTTPS_PROXY alone is not used for ws://: the name is then resolved locally, and fails.
    env::remove_var("HTTP_PROXY");
    env::set_var("HTTPS_PROXY", proxy.url(""));
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    assert!(failure(&mut client).starts_with(&format!("cannot resolve host {PROXY_ONLY_HOST}")));
    assert_eq!(client.proxy(), None);

    // NO_PROXY (a domain suffix with a leading dot) sends the host directly.
    env::set_var("http_proxy", proxy.url(""));
    env::set_var("NO_PROXY", "other.lan, .test");
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    assert!(failure(&mut client).starts_with(&format!("cannot resolve host {PROXY_ONLY_HOST}")));
    env::set_var("NO_PROXY", format!("{PROXY_ONLY_HOST}:1"));
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    open(&mut client);
    client.close(1000, "").unwrap();
    poll_until(&mut client, |e| {
        matches!(e, rust_websocket_engine::Event::Closed { .. })
    });
    assert_eq!(proxy.seen().len(), 2);

    // Loopback hosts never go through a proxy from the environment.
    env::set_var("NO_PROXY", "");
    let mut direct = connect(server, "/");
    open(&mut direct);
    assert_eq!(direct.proxy(), None);
    assert_eq!(direct.peer_addr(), Some(server));
    assert_eq!(proxy.seen().len(), 2);

    // A malformed proxy variable is refused at once, naming the variable, not its value.
    env::set_var("http_proxy", "socks4://me:hunter2@proxy.lan");
    let error = Client::default()
        .connect(ConnectRequest::new(&url).unwrap())
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("invalid proxy URL in http_proxy: \"socks4://\""));
    assert!(!error.contains("hunter2"));
    clear_proxy_environment();
}
