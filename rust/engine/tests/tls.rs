//! `wss://` against a real rustls server on loopback, with certificates made by the test.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rust_websocket_engine::{
    CertificateDer, Client, Config, ConnectRequest, Event, Message, TlsConfig,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::ServerConfig;
use support::*;

/// A server certificate (and the chain to present) with its key.
struct ServerIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn self_signed(names: &[&str], expired: bool) -> ServerIdentity {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    if expired {
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    }
    let key = KeyPair::generate().unwrap();
    let certificate = params.self_signed(&key).unwrap();
    ServerIdentity {
        chain: vec![certificate.der().clone()],
        key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    }
}

/// A private CA called `name` and a server certificate for `localhost` issued by it.
fn private_ca(name: &str) -> (CertificateDer<'static>, ServerIdentity) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let identity = ServerIdentity {
        chain: vec![leaf.der().clone(), ca.der().clone()],
        key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    };
    (ca.der().clone(), identity)
}

/// A TLS WebSocket echo server on 127.0.0.1 presenting `identity`.
fn tls_echo_server(identity: ServerIdentity) -> SocketAddr {
    tls_echo_server_with_versions(identity, rustls::DEFAULT_VERSIONS)
}

/// A TLS WebSocket echo server that only speaks the given TLS versions.
fn tls_echo_server_with_versions(
    identity: ServerIdentity,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)
        .unwrap();
    serve_tls(config, |tls| {
        let Ok(mut socket) = tungstenite::accept(tls) else {
            return;
        };
        while let Ok(message) = socket.read() {
            if (message.is_text() || message.is_binary()) && socket.send(message).is_err() {
                return;
            }
        }
    })
}

fn connect_tls(url: &str, tls: TlsConfig) -> Client {
    let mut client = Client::new(Config::default().with_tls(tls));
    client.connect(ConnectRequest::new(url).unwrap()).unwrap();
    client
}

fn trusting(certificates: Vec<CertificateDer<'static>>) -> TlsConfig {
    TlsConfig::default().with_trusted_certificates(certificates)
}

#[test]
fn a_trusted_self_signed_certificate_opens_with_tls_1_3_and_echoes_a_mib_both_ways() {
    let identity = self_signed(&["localhost"], false);
    let certificate = identity.chain[0].clone();
    let server = tls_echo_server(identity);
    let mut client = connect_tls(
        &format!("wss://localhost:{}/", server.port()),
        trusting(vec![certificate]),
    );
    open(&mut client);
    let tls = client.tls_info().expect("a wss:// connection has TLS info");
    assert_eq!(tls.version, "TLS 1.3");
    assert!(
        tls.cipher_suite.starts_with("TLS13_"),
        "{}",
        tls.cipher_suite
    );
    let payload: Vec<u8> = (0..1usize << 20).map(|i| (i % 253) as u8).collect();
    client.send(Message::from(payload.clone())).unwrap();
    assert_eq!(receive(&mut client, 1)[0].as_bytes(), payload.as_slice());
}

/// Many TLS servers close TCP right after the close handshake without TLS's `close_notify`
/// (this one does: rustls does not send it on drop); the close is still clean.
#[test]
fn a_close_handshake_then_tcp_closed_without_close_notify_is_clean() {
    let identity = self_signed(&["localhost"], false);
    let certificate = identity.chain[0].clone();
    let server = tls_echo_server(identity);
    let mut client = connect_tls(
        &format!("wss://localhost:{}/", server.port()),
        trusting(vec![certificate]),
    );
    open(&mut client);
    client.close(1000, "bye").unwrap();
    let events = poll_until(&mut client, |event| matches!(event, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: true }));
    assert!(client.last_error().is_none(), "{:?}", client.last_error());
    assert_eq!(client.close_code(), Some(1000));
}

#[test]
fn a_self_signed_certificate_is_rejected_by_default_and_the_error_says_so() {
    let server = tls_echo_server(self_signed(&["localhost"], false));
    let mut client = connect_tls(
        &format!("wss://localhost:{}/", server.port()),
        TlsConfig::default(),
    );
    assert_eq!(
        failure(&mut client),
        "TLS handshake with localhost failed: the certificate for localhost is not trusted (self-signed)"
    );
}

#[test]
fn a_certificate_for_another_name_is_rejected_naming_both() {
    let identity = self_signed(&["example.com"], false);
    let certificate = identity.chain[0].clone();
    let server = tls_echo_server(identity);
    let mut client = connect_tls(
        &format!("wss://127.0.0.1:{}/", server.port()),
        trusting(vec![certificate]),
    );
    assert_eq!(
        failure(&mut client),
        "TLS handshake with 127.0.0.1 failed: the certificate is valid for example.com, not 127.0.0.1"
    );
}

#[test]
fn the_server_name_override_checks_the_certificate_for_that_name() {
    let identity = self_signed(&["example.com"], false);
    let certificate = identity.chain[0].clone();
    let server = tls_echo_server(identity);
    let tls = trusting(vec![certificate]).with_server_name(Some("example.com".into()));
    let mut client = connect_tls(&format!("wss://127.0.0.1:{}/", server.port()), tls);
    open(&mut client);
}

#[test]
fn an_expired_certificate_is_rejected_with_its_date() {
    let identity = self_signed(&["localhost"], true);
    let certificate = identity.chain[0].clone();
    let server = tls_echo_server(identity);
    let mut client = connect_tls(
        &format!("wss://localhost:{}/", server.port()),
        trusting(vec![certificate]),
    );
    assert_eq!(
        failure(&mut client),
        "TLS handshake with localhost failed: the certificate for localhost expired on 2020-01-01"
    );
}

#[test]
fn verification_off_accepts_any_certificate() {
    let server = tls_echo_server(self_signed(&["example.com"], true));
    let mut client = connect_tls(
        &format!("wss://127.0.0.1:{}/", server.port()),
        TlsConfig::default().with_verify(false),
    );
    open(&mut client);
    client.send(Message::from("still encrypted")).unwrap();
    assert_eq!(
        receive(&mut client, 1),
        vec![Message::from("still encrypted")]
    );
}

#[test]
fn a_private_ca_among_several_trusted_certificates_verifies_its_server() {
    let (ca, identity) = private_ca("game studio CA");
    let (unrelated_ca, _) = private_ca("unrelated CA");
    let server = tls_echo_server(identity);
    let mut client = connect_tls(
        &format!("wss://localhost:{}/", server.port()),
        trusting(vec![unrelated_ca, ca]),
    );
    open(&mut client);
    let (_, other_identity) = private_ca("other studio CA");
    let other_server = tls_echo_server(other_identity);
    let mut untrusted = connect_tls(
        &format!("wss://localhost:{}/", other_server.port()),
        trusting(vec![private_ca("game studio CA").0]),
    );
    assert_eq!(
        failure(&mut untrusted),
        "TLS handshake with localhost failed: the certificate for localhost is not trusted (unknown issuer)"
    );
}

#[test]
fn a_plain_server_answering_a_wss_url_is_named_as_such() {
    let server = echo_server();
    let mut client = connect_tls(
        &format!("wss://127.0.0.1:{}/", server.port()),
        TlsConfig::default(),
    );
    let error = failure(&mut client);
    assert!(
        error.starts_with("TLS handshake with 127.0.0.1 failed: "),
        "{error}"
    );
    assert!(error.ends_with("(is it a plain ws:// server?)"), "{error}");
}

#[test]
fn a_server_that_never_answers_the_tls_handshake_times_out_saying_where() {
    let server =
        serve_raw(|stream| write_and_linger(stream, b"", std::time::Duration::from_secs(3)));
    let config = Config::default().with_handshake_timeout(std::time::Duration::from_millis(300));
    let mut client = Client::new(config);
    client
        .connect(ConnectRequest::new(&format!("wss://127.0.0.1:{}/", server.port())).unwrap())
        .unwrap();
    assert_eq!(
        failure(&mut client),
        format!(
            "connection to 127.0.0.1:{} was not open after 0.3 s (handshake timeout, during the TLS handshake)",
            server.port()
        )
    );
}

#[test]
fn a_tls_1_2_only_server_is_served_with_tls_1_2() {
    let identity = self_signed(&["localhost"], false);
    let certificate = identity.chain[0].clone();
    let server = tls_echo_server_with_versions(identity, &[&rustls::version::TLS12]);
    let mut client = connect_tls(
        &format!("wss://localhost:{}/", server.port()),
        trusting(vec![certificate]),
    );
    open(&mut client);
    assert_eq!(client.tls_info().unwrap().version, "TLS 1.2");
    client.send(Message::from("over TLS 1.2")).unwrap();
    assert_eq!(receive(&mut client, 1), vec![Message::from("over TLS 1.2")]);
}
