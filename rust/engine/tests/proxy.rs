//! Connections through a real HTTP `CONNECT` proxy on loopback, set in the config.
//! (The environment variables are tested in `proxy_env.rs`, a process of their own.)

mod support;

use std::net::SocketAddr;

use rust_websocket_engine::{Client, Config, ConnectRequest, Message, ProxySetting, TlsConfig};
use rustls::pki_types::CertificateDer;
use support::net::{ConnectProxy, RefusingPort, PROXY_ONLY_HOST};
use support::*;

fn through(proxy_url: &str) -> Client {
    Client::new(Config::default().with_proxy(ProxySetting::Url(proxy_url.to_owned())))
}

fn echo_once(client: &mut Client) {
    client.send(Message::from("through the tunnel")).unwrap();
    assert_eq!(
        receive(client, 1),
        vec![Message::from("through the tunnel")]
    );
}

#[test]
fn ws_goes_through_the_proxy_which_resolves_the_host() {
    let server = echo_server();
    let proxy = ConnectProxy::start(None);
    let mut client = through(&proxy.url(""));
    let url = format!("ws://{PROXY_ONLY_HOST}:{}/", server.port());
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    open(&mut client);
    echo_once(&mut client);
    assert_eq!(
        proxy.seen(),
        vec![format!(
            "CONNECT {PROXY_ONLY_HOST}:{} HTTP/1.1",
            server.port()
        )]
    );
    assert_eq!(client.proxy(), Some(proxy.addr.to_string().as_str()));
    assert_eq!(client.peer_addr(), Some(proxy.addr));
}

/// A `wss://` echo server on 127.0.0.1 with a self-signed certificate for [`PROXY_ONLY_HOST`].
fn tls_echo_server() -> (SocketAddr, CertificateDer<'static>) {
    let (config, certificate) = self_signed_server_config(PROXY_ONLY_HOST);
    let addr = serve_tls(config, |tls| {
        let Ok(mut socket) = tungstenite::accept(tls) else {
            return;
        };
        while let Ok(message) = socket.read() {
            if message.is_text() && socket.send(message).is_err() {
                return;
            }
        }
    });
    (addr, certificate)
}

#[test]
fn wss_goes_through_the_proxy_and_checks_the_servers_name() {
    let (server, certificate) = tls_echo_server();
    let proxy = ConnectProxy::start(None);
    let config = Config::default()
        .with_proxy(ProxySetting::Url(proxy.url("")))
        .with_tls(TlsConfig::default().with_trusted_certificates(vec![certificate]));
    let mut client = Client::new(config);
    let url = format!("wss://{PROXY_ONLY_HOST}:{}/", server.port());
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    open(&mut client);
    assert!(client.tls_info().is_some());
    echo_once(&mut client);
    assert_eq!(
        proxy.seen(),
        vec![format!(
            "CONNECT {PROXY_ONLY_HOST}:{} HTTP/1.1",
            server.port()
        )]
    );
}

#[test]
fn basic_credentials_from_the_proxy_url_are_sent() {
    let server = echo_server();
    let proxy = ConnectProxy::start(Some("alice:s3cr=t:x"));
    let mut client = through(&proxy.url("alice:s3cr%3Dt%3Ax@"));
    let url = format!("ws://{PROXY_ONLY_HOST}:{}/", server.port());
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    open(&mut client);
    echo_once(&mut client);
}

#[test]
fn wrong_or_missing_credentials_give_a_407_error_without_the_password() {
    let server = echo_server();
    let proxy = ConnectProxy::start(Some("alice:right"));
    let url = format!("ws://{PROXY_ONLY_HOST}:{}/", server.port());

    let mut client = through(&proxy.url("alice:hunter2@"));
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    let error = failure(&mut client);
    assert_eq!(
        error,
        format!(
            "proxy {} refused the tunnel to {PROXY_ONLY_HOST}:{} with HTTP 407 Proxy \
             Authentication Required: it did not accept the user name and password of the \
             proxy URL",
            proxy.addr,
            server.port()
        )
    );
    assert!(!error.contains("hunter2"));

    let mut client = through(&proxy.url(""));
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    assert!(failure(&mut client).ends_with(
        "407 Proxy Authentication Required: it wants a user name and password \
         (http://user:password@host:port in the proxy URL)"
    ));
}

#[test]
fn a_proxy_that_cannot_reach_the_server_says_so() {
    let proxy = ConnectProxy::start(None);
    let refusing = RefusingPort::new();
    let closed_port = refusing.port();
    let mut client = through(&proxy.url(""));
    let url = format!("ws://{PROXY_ONLY_HOST}:{closed_port}/");
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    assert_eq!(
        failure(&mut client),
        format!(
            "proxy {} refused the tunnel to {PROXY_ONLY_HOST}:{closed_port} with HTTP 502 Bad \
             Gateway",
            proxy.addr
        )
    );
}

#[test]
fn an_unreachable_proxy_is_named_as_the_proxy() {
    let refusing = RefusingPort::new();
    let closed = refusing.addr;
    let mut client = through(&format!("http://bob:hunter2@{closed}"));
    client
        .connect(ConnectRequest::new("ws://game.test/").unwrap())
        .unwrap();
    let error = failure(&mut client);
    assert_eq!(
        error,
        format!("cannot reach the proxy {closed}: connection refused by {closed}")
    );
    assert_eq!(client.proxy(), Some(closed.to_string().as_str()));

    let mut client = through("http://proxy.invalid:3128");
    client
        .connect(ConnectRequest::new("ws://game.test/").unwrap())
        .unwrap();
    assert!(failure(&mut client).starts_with(
        "cannot reach the proxy proxy.invalid:3128: cannot resolve host proxy.invalid"
    ));
}

#[test]
fn a_bad_proxy_url_is_refused_at_once() {
    let mut client = through("https://proxy.lan:443");
    let error = client
        .connect(ConnectRequest::new("ws://game.test/").unwrap())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid proxy URL in the proxy setting: \"https://\" proxies are not supported, only \
         http:// (HTTP CONNECT), socks5:// and socks5h:// proxies"
    );
}

#[test]
fn a_proxy_that_is_not_http_fails_with_its_answer() {
    let proxy = serve_raw(|mut stream| {
        read_request_head(&mut stream);
        write_and_linger(
            stream,
            b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
            std::time::Duration::from_millis(500),
        );
    });
    let mut client = through(&format!("http://{proxy}"));
    client
        .connect(ConnectRequest::new("ws://game.test/").unwrap())
        .unwrap();
    assert_eq!(
        failure(&mut client),
        format!(
            "proxy {proxy} gave an invalid answer to CONNECT: its status line is \
             \"SSH-2.0-OpenSSH_9.6\""
        )
    );
}
