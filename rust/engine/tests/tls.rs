//! `wss://` against a real rustls server on loopback, with certificates made by the test.
//!
//! The tests of certificates made by the `openssl` command line (and of mutual TLS against a
//! Python peer) are ignored on Windows: under Wine, where `cargo xtask platforms` runs them, a
//! test cannot start the Linux `openssl`. Their checks are rustls and x509-parser code that
//! does not differ by platform, and the Linux and arm64 runs cover them.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rust_websocket_engine::{
    CertificateDer, Client, ClientCertificate, Config, ConnectRequest, Event, Message, TlsConfig,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::ServerConfig;
use support::certificates::*;
use support::*;

const SELF_SIGNED_LOCALHOST: &str = "TLS handshake with localhost failed: the certificate for \
     localhost is not trusted (self-signed); to accept it, set trusted_tls_certificate to this \
     certificate";

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
    support::tls_echo_server(server_config(versions, identity.chain, identity.key))
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
    assert_eq!(failure(&mut client), SELF_SIGNED_LOCALHOST);
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
        "TLS handshake with 127.0.0.1 failed: the certificate is valid for example.com, not \
         127.0.0.1; connect to one of those names, or set tls_server_name to one"
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
        "TLS handshake with localhost failed: the certificate for localhost expired on \
         2020-01-01; renew it on the server (or check this computer's clock)"
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
        "TLS handshake with localhost failed: the certificate for localhost is not trusted \
         (unknown issuer): neither it nor its issuer is in trusted_tls_certificate; add the CA \
         that issued it, or the certificate itself"
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

// ---- Certificates as users make them (openssl, Godot's Crypto) ---------------------------------

fn identity_of(pem: &PemIdentity) -> ServerIdentity {
    ServerIdentity {
        chain: pem.certificates(),
        key: pem.private_key(),
    }
}

/// Pinned (trusted_tls_certificate = the server's own certificate), each of them opens although
/// OpenSSL 3 made it CA:TRUE and two of them name localhost only in the common name.
#[test]
#[cfg_attr(windows, ignore = "needs the openssl command line")]
fn user_made_self_signed_certificates_open_when_pinned() {
    for (kind, pem) in user_made_certificates() {
        let server = tls_echo_server(identity_of(&pem));
        let mut client = connect_tls(
            &format!("wss://localhost:{}/", server.port()),
            trusting(pem.certificates()),
        );
        open(&mut client);
        client.send(Message::from(kind)).unwrap();
        assert_eq!(receive(&mut client, 1), vec![Message::from(kind)], "{kind}");
    }
}

#[test]
#[cfg_attr(windows, ignore = "needs the openssl command line")]
fn user_made_self_signed_certificates_are_not_trusted_unpinned_or_pinned_to_another() {
    let another = openssl_self_signed("/CN=localhost", &[]);
    for (kind, pem) in user_made_certificates() {
        let server = tls_echo_server(identity_of(&pem));
        let url = format!("wss://localhost:{}/", server.port());
        let mut unpinned = connect_tls(&url, TlsConfig::default());
        assert_eq!(
            failure(&mut unpinned),
            SELF_SIGNED_LOCALHOST,
            "{kind}, unpinned"
        );
        let mut pinned_to_another = connect_tls(&url, trusting(another.certificates()));
        assert_eq!(
            failure(&mut pinned_to_another),
            SELF_SIGNED_LOCALHOST,
            "{kind}, pinned to another certificate"
        );
    }
}

#[test]
#[cfg_attr(windows, ignore = "needs the openssl command line")]
fn a_pinned_certificate_is_still_checked_for_the_host() {
    for (kind, pem) in user_made_certificates() {
        let server = tls_echo_server(identity_of(&pem));
        let mut client = connect_tls(
            &format!("wss://127.0.0.1:{}/", server.port()),
            trusting(pem.certificates()),
        );
        assert_eq!(
            failure(&mut client),
            "TLS handshake with 127.0.0.1 failed: the certificate is valid for localhost, not \
             127.0.0.1; connect to one of those names, or set tls_server_name to one",
            "{kind}"
        );
        let override_name = trusting(pem.certificates()).with_server_name(Some("localhost".into()));
        let mut overridden = connect_tls(
            &format!("wss://127.0.0.1:{}/", server.port()),
            override_name,
        );
        open(&mut overridden);
    }
}

/// A CA certificate issued by a trusted CA and presented as a server certificate is what
/// webpki's "CA used as end entity" means; pinning it would accept it.
#[test]
fn a_ca_certificate_used_as_a_server_certificate_is_named_as_such() {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "studio CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let leaf = leaf_params.signed_by(&key, &ca).unwrap();
    let identity = ServerIdentity {
        chain: vec![leaf.der().clone(), ca.der().clone()],
        key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    };
    let server = tls_echo_server(identity);
    let url = format!("wss://localhost:{}/", server.port());
    let mut client = connect_tls(&url, trusting(vec![ca.der().clone()]));
    assert_eq!(
        failure(&mut client),
        "TLS handshake with localhost failed: the certificate for localhost is a CA certificate \
         used as a server certificate (CA:TRUE, as OpenSSL 3 and Godot's Crypto make by \
         default); pin it with trusted_tls_certificate or make a server certificate"
    );
    let mut pinned = connect_tls(&url, trusting(vec![leaf.der().clone()]));
    open(&mut pinned);
}

#[test]
fn a_pinned_certificate_not_yet_valid_is_rejected_with_its_date() {
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2999, 1, 1);
    params.not_after = rcgen::date_time_ymd(3000, 1, 1);
    let key = KeyPair::generate().unwrap();
    let certificate = params.self_signed(&key).unwrap();
    let server = tls_echo_server(ServerIdentity {
        chain: vec![certificate.der().clone()],
        key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    });
    let mut client = connect_tls(
        &format!("wss://localhost:{}/", server.port()),
        trusting(vec![certificate.der().clone()]),
    );
    assert_eq!(
        failure(&mut client),
        "TLS handshake with localhost failed: the certificate for localhost is not valid before \
         2999-01-01; check this computer's clock"
    );
}

/// The server presents a pinned certificate without holding its key: the handshake signature
/// gives it away.
#[test]
#[cfg_attr(windows, ignore = "needs the openssl command line")]
fn a_server_without_the_pinned_certificates_key_is_rejected() {
    let pem = openssl_self_signed("/CN=localhost", &[]);
    let impostor = openssl_self_signed("/CN=localhost", &[]);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signing_key = provider
        .key_provider
        .load_private_key(impostor.private_key())
        .unwrap();
    // CertifiedKey::new does not check that the key is the certificate's (from_der would).
    let certified = rustls::sign::CertifiedKey::new(pem.certificates(), signing_key);
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    let server = serve_tls(config, |tls| {
        let _ = tungstenite::accept(tls);
    });
    let mut client = connect_tls(
        &format!("wss://localhost:{}/", server.port()),
        trusting(pem.certificates()),
    );
    let error = failure(&mut client);
    assert!(
        error.starts_with("TLS handshake with localhost failed: "),
        "{error}"
    );
    assert!(!error.contains('('), "{error}");
}

// ---- Client certificates (mutual TLS), against Python's ssl with CERT_REQUIRED -----------------

fn client_certificate(pem: &PemIdentity) -> ClientCertificate {
    ClientCertificate::from_pem(&pem.chain, &pem.key).unwrap()
}

#[test]
#[cfg_attr(windows, ignore = "needs the openssl command line")]
fn a_server_requiring_a_client_certificate_accepts_the_one_it_trusts() {
    let server = openssl_self_signed(
        "/CN=localhost",
        &["-addext", "subjectAltName=DNS:localhost"],
    );
    let client_identity = openssl_self_signed("/CN=player one", &[]);
    let (port, _peer) = python_mutual_tls_server(&server, &client_identity.chain);
    let tls = trusting(server.certificates())
        .with_client_certificate(Some(client_certificate(&client_identity)));
    let mut client = connect_tls(&format!("wss://localhost:{port}/echo"), tls);
    open(&mut client);
    client.send(Message::from("mutual")).unwrap();
    assert_eq!(receive(&mut client, 1), vec![Message::from("mutual")]);
}

#[test]
#[cfg_attr(windows, ignore = "needs the openssl command line")]
fn a_server_requiring_a_client_certificate_says_so_when_none_is_set() {
    let server = openssl_self_signed("/CN=localhost", &[]);
    let client_identity = openssl_self_signed("/CN=player one", &[]);
    let (port, _peer) = python_mutual_tls_server(&server, &client_identity.chain);
    let mut client = connect_tls(
        &format!("wss://localhost:{port}/echo"),
        trusting(server.certificates()),
    );
    assert_eq!(
        failure(&mut client),
        "TLS handshake with localhost failed: the server requires a client certificate: set \
         tls_client_certificate and tls_client_key"
    );
}

#[test]
#[cfg_attr(windows, ignore = "needs the openssl command line")]
fn a_server_rejecting_the_client_certificate_says_so() {
    let server = openssl_self_signed("/CN=localhost", &[]);
    let trusted_client = openssl_self_signed("/CN=player one", &[]);
    let stranger = openssl_self_signed("/CN=stranger", &[]);
    let (port, _peer) = python_mutual_tls_server(&server, &trusted_client.chain);
    let tls = trusting(server.certificates())
        .with_client_certificate(Some(client_certificate(&stranger)));
    let mut client = connect_tls(&format!("wss://localhost:{port}/echo"), tls);
    let error = failure(&mut client);
    assert!(
        error.starts_with(
            "TLS handshake with localhost failed: the server rejected the client certificate ("
        ),
        "{error}"
    );
    assert!(
        error.ends_with(
            "); check that the server trusts tls_client_certificate's issuer and that it is valid"
        ),
        "{error}"
    );
}

#[test]
#[cfg_attr(windows, ignore = "needs the openssl command line")]
fn a_client_key_that_is_not_the_certificates_is_refused_before_connecting() {
    let certificate = openssl_self_signed("/CN=player one", &[]);
    let other = openssl_self_signed("/CN=player two", &[]);
    assert_eq!(
        ClientCertificate::from_pem(&certificate.chain, &other.key).unwrap_err(),
        "tls_client_key is not the private key of tls_client_certificate: set the key the \
         certificate was made with"
    );
}
