//! The operating system's trust store counts along with the Mozilla roots: a private root put
//! there (as a company installs its TLS-inspecting proxy's root) verifies its servers, unless
//! `system_trust_store` is off. The store is pointed at a file of the test's own with
//! `SSL_CERT_FILE`, which rustls-native-certs reads in place of the system's files; it is read
//! once per process, so this file holds one test.

mod support;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rust_websocket_engine::{Client, Config, ConnectRequest, Message, TlsConfig};
use rustls::pki_types::PrivateKeyDer;
use support::certificates::scratch_dir;
use support::*;

#[test]
fn a_root_in_the_system_store_verifies_its_server_unless_the_store_is_off() {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "company inspection root");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let store = scratch_dir("system-store");
    std::fs::write(store.join("roots.pem"), ca.pem()).unwrap();
    // Before any connection of this process reads the store (this file has no other test).
    std::env::set_var("SSL_CERT_FILE", store.join("roots.pem"));
    std::env::set_var("SSL_CERT_DIR", &store);

    let server = tls_echo_server(server_config(
        rustls::DEFAULT_VERSIONS,
        vec![leaf.der().clone(), ca.der().clone()],
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    ));
    let url = format!("wss://localhost:{}/", server.port());

    let mut client = Client::new(Config::default());
    client.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    open(&mut client);
    client
        .send(Message::from("through the system store"))
        .unwrap();
    assert_eq!(
        receive(&mut client, 1),
        vec![Message::from("through the system store")]
    );

    let store_off = TlsConfig::default().with_system_trust_store(false);
    let mut without = Client::new(Config::default().with_tls(store_off));
    without.connect(ConnectRequest::new(&url).unwrap()).unwrap();
    assert_eq!(
        failure(&mut without),
        "TLS handshake with localhost failed: the certificate for localhost is not trusted \
         (unknown issuer): its issuer is neither a public root nor in the system's trust store; \
         set trusted_tls_certificate to the CA that issued it"
    );
    let _ = std::fs::remove_dir_all(store);
}
