//! Connections through a real SOCKS5 server (Debian's `microsocks`) on loopback: `socks5h://`
//! (the proxy resolves the name) and `socks5://` (the client does), with and without a user
//! name and password, for `ws://` and `wss://`, and the errors a user meets (also from raw
//! servers that misbehave as proxies).

mod support;

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use rust_websocket_engine::{Client, Config, ConnectRequest, Message, ProxySetting, TlsConfig};
use support::net::{echo_server_on, RefusingPort};
use support::socks::Microsocks;
use support::*;

fn through(proxy_url: &str) -> Client {
    Client::new(Config::default().with_proxy(ProxySetting::Url(proxy_url.to_owned())))
}

fn connect_to(client: &mut Client, url: &str) {
    client.connect(ConnectRequest::new(url).unwrap()).unwrap();
}

fn echo_once(client: &mut Client) {
    client.send(Message::from("through SOCKS5")).unwrap();
    assert_eq!(receive(client, 1), vec![Message::from("through SOCKS5")]);
}

#[test]
#[cfg_attr(windows, ignore = "needs Debian's microsocks")]
fn ws_through_socks5h_gives_the_proxy_the_name() {
    let server = echo_server();
    let proxy = Microsocks::start(None);
    let mut client = through(&proxy.url("socks5h", ""));
    connect_to(&mut client, &format!("ws://localhost:{}/", server.port()));
    open(&mut client);
    echo_once(&mut client);
    assert_eq!(proxy.first_target(), format!("localhost:{}", server.port()));
    assert_eq!(client.proxy(), Some(proxy.addr.to_string().as_str()));
    assert_eq!(client.peer_addr(), Some(proxy.addr));
}

#[test]
#[cfg_attr(windows, ignore = "needs Debian's microsocks")]
fn ws_through_socks5_gives_the_proxy_the_address_resolved_here() {
    // `localhost` is ::1 first here: the proxy must be handed that address, not the name.
    let server = echo_server_on("[::1]:0".parse().unwrap()).expect("a listener on ::1");
    let proxy = Microsocks::start(Some(("alice", "s3cr=t:x")));
    let mut client = through(&proxy.url("socks5", "alice:s3cr%3Dt%3Ax@"));
    connect_to(&mut client, &format!("ws://localhost:{}/", server.port()));
    open(&mut client);
    echo_once(&mut client);
    assert_eq!(proxy.first_target(), format!("::1:{}", server.port()));
}

/// A `wss://` echo server on 127.0.0.1 with a self-signed certificate for `name`, and the
/// config trusting it, through `proxy_url`.
fn tls_server_through(name: &str, proxy_url: &str) -> (SocketAddr, Config) {
    let (server_config, certificate) = self_signed_server_config(name);
    let server = tls_echo_server(server_config);
    let config = Config::default()
        .with_proxy(ProxySetting::Url(proxy_url.to_owned()))
        .with_tls(TlsConfig::default().with_trusted_certificates(vec![certificate]));
    (server, config)
}

#[test]
#[cfg_attr(windows, ignore = "needs Debian's microsocks")]
fn wss_through_socks5h_with_credentials_checks_the_servers_name() {
    let proxy = Microsocks::start(Some(("bob", "hunter2")));
    let (server, config) = tls_server_through("localhost", &proxy.url("socks5h", "bob:hunter2@"));
    let mut client = Client::new(config);
    connect_to(&mut client, &format!("wss://localhost:{}/", server.port()));
    open(&mut client);
    assert!(client.tls_info().is_some());
    echo_once(&mut client);
    assert_eq!(proxy.first_target(), format!("localhost:{}", server.port()));
}

#[test]
#[cfg_attr(windows, ignore = "needs Debian's microsocks")]
fn wss_through_socks5_to_an_ip_address() {
    let proxy = Microsocks::start(None);
    let (server, config) = tls_server_through("127.0.0.1", &proxy.url("socks5", ""));
    let mut client = Client::new(config);
    connect_to(&mut client, &format!("wss://{server}/"));
    open(&mut client);
    echo_once(&mut client);
    assert_eq!(proxy.first_target(), server.to_string());
}

#[test]
#[cfg_attr(windows, ignore = "needs Debian's microsocks")]
fn wrong_or_missing_credentials_are_refused_without_showing_the_password() {
    let server = echo_server();
    let proxy = Microsocks::start(Some(("alice", "right")));
    let url = format!("ws://127.0.0.1:{}/", server.port());

    let mut client = through(&proxy.url("socks5h", "alice:hunter2@"));
    connect_to(&mut client, &url);
    let error = failure(&mut client);
    assert_eq!(
        error,
        format!(
            "SOCKS5 proxy {} did not accept the user name and password of the proxy URL",
            proxy.addr
        )
    );
    assert!(!error.contains("hunter2"));

    let mut client = through(&proxy.url("socks5", ""));
    connect_to(&mut client, &url);
    assert_eq!(
        failure(&mut client),
        format!(
            "SOCKS5 proxy {} wants a user name and password \
             (socks5://user:password@host:port in the proxy URL)",
            proxy.addr
        )
    );
    assert!(proxy.targets().is_empty());
}

#[test]
#[cfg_attr(windows, ignore = "needs Debian's microsocks")]
fn an_unreachable_server_is_the_proxys_reply_in_words() {
    let proxy = Microsocks::start(None);
    let refusing = RefusingPort::new();
    let mut client = through(&proxy.url("socks5", ""));
    connect_to(&mut client, &format!("ws://{}/", refusing.addr));
    assert_eq!(
        failure(&mut client),
        format!(
            "SOCKS5 proxy {} could not connect to {}: the server refused the connection \
             (SOCKS reply 5)",
            proxy.addr, refusing.addr
        )
    );

    // socks5h: the proxy is given the name and cannot resolve it.
    let mut client = through(&proxy.url("socks5h", ""));
    connect_to(&mut client, "ws://game.invalid/");
    assert_eq!(
        failure(&mut client),
        format!(
            "SOCKS5 proxy {} could not connect to game.invalid:80: general failure of the \
             proxy (e.g. it could not resolve the name) (SOCKS reply 1)",
            proxy.addr
        )
    );

    // socks5: the name is resolved here, and that fails before the proxy is asked.
    let mut client = through(&proxy.url("socks5", ""));
    connect_to(&mut client, "ws://game.invalid/");
    assert!(failure(&mut client).starts_with("cannot resolve host game.invalid: "));
    assert!(proxy.targets().is_empty());
}

#[test]
fn an_unreachable_socks_proxy_is_named_as_the_proxy() {
    let refusing = RefusingPort::new();
    let closed = refusing.addr;
    let mut client = through(&format!("socks5h://bob:hunter2@{closed}"));
    connect_to(&mut client, "ws://game.test/");
    assert_eq!(
        failure(&mut client),
        format!("cannot reach the proxy {closed}: connection refused by {closed}")
    );
    assert_eq!(client.proxy(), Some(closed.to_string().as_str()));
}

/// `all_proxy` sends connections through a SOCKS5 proxy. (The other tests here set the proxy in
/// the config, so this environment variable does not touch them.)
#[test]
#[cfg_attr(windows, ignore = "needs Debian's microsocks")]
fn all_proxy_names_a_socks_proxy() {
    let proxy = Microsocks::start(None);
    std::env::set_var("all_proxy", proxy.url("socks5h", ""));
    let mut client = Client::default();
    // Loopback hosts never take a proxy from the environment, so the name is one only the
    // proxy is asked about: its failure to resolve it shows the way went through it.
    connect_to(&mut client, "ws://game.invalid:8080/");
    let error = failure(&mut client);
    std::env::remove_var("all_proxy");
    assert_eq!(
        error,
        format!(
            "SOCKS5 proxy {} could not connect to game.invalid:8080: general failure of the \
             proxy (e.g. it could not resolve the name) (SOCKS reply 1)",
            proxy.addr
        )
    );
}

#[test]
fn a_silent_socks_proxy_hits_the_handshake_timeout_naming_the_step() {
    let proxy = serve_raw(|stream| write_and_linger(stream, b"", Duration::from_secs(5)));
    let mut client = Client::new(
        Config::default()
            .with_proxy(ProxySetting::Url(format!("socks5h://{proxy}")))
            .with_handshake_timeout(Duration::from_millis(300)),
    );
    connect_to(&mut client, "ws://game.test:8080/");
    assert_eq!(
        failure(&mut client),
        "connection to game.test:8080 was not open after 0.3 s (handshake timeout, during the \
         SOCKS5 handshake with the proxy)"
    );
}

#[test]
fn an_http_server_given_as_socks_proxy_is_named_as_not_speaking_socks5() {
    let proxy = serve_raw(|mut stream| {
        let mut greeting = [0u8; 3];
        let _ = stream.read_exact(&mut greeting);
        write_and_linger(
            stream,
            b"HTTP/1.1 400 Bad Request\r\n\r\n",
            Duration::from_millis(500),
        );
    });
    let mut client = through(&format!("socks5://{proxy}"));
    connect_to(&mut client, "ws://127.0.0.1:8080/");
    assert_eq!(
        failure(&mut client),
        format!(
            "SOCKS5 proxy {proxy} gave an invalid answer: it does not speak SOCKS5 (its answer \
             starts with the byte 0x48)"
        )
    );
}
