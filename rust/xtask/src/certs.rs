//! Certificates for the TLS tests and the demo, made fresh (never committed): with rcgen, and as
//! users make them, with the `openssl` command line (and Godot's `Crypto`, see
//! tests/godot/make_godot_certificate.gd).

use std::path::Path;
use std::process::Command;

use crate::debian;
use crate::process::{copy, create_dir, say, write as write_file};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
};

/// A server identity: certificate chain and private key, in PEM.
struct Identity {
    chain_pem: String,
    key_pem: String,
}

fn params(names: &[&str]) -> Result<CertificateParams, String> {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    CertificateParams::new(names).map_err(|e| e.to_string())
}

fn self_signed(params: CertificateParams) -> Result<Identity, String> {
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let certificate = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(Identity {
        chain_pem: certificate.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn certificate_authority(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>, String> {
    let mut params = params(&[])?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    CertifiedIssuer::self_signed(params, key).map_err(|e| e.to_string())
}

fn write(dir: &Path, name: &str, contents: &str) -> Result<(), String> {
    write_file(&dir.join(name), contents)
}

fn write_identity(dir: &Path, name: &str, identity: &Identity) -> Result<(), String> {
    write(dir, &format!("{name}.crt"), &identity.chain_pem)?;
    write(dir, &format!("{name}.key"), &identity.key_pem)
}

/// Writes the test identities into `dir`, each as `NAME.crt` (chain) and `NAME.key`:
/// - `localhost`: self-signed for `localhost` and `127.0.0.1`;
/// - `expired`: like `localhost`, but expired on 2020-01-01;
/// - `example`: self-signed for `example.com` only (a name mismatch on `localhost`);
/// - `ca_server`: for `localhost`, issued by the private CA in `ca.crt` (chain: leaf, CA).
///
/// Plus `anchors.crt`: an unrelated CA followed by `ca.crt`, a trust list of several. And with
/// `openssl req -x509 -newkey rsa:2048 -nodes` (OpenSSL 3 marks them CA:TRUE):
/// - `openssl_cn`: `-subj /CN=localhost`, the host only in the common name;
/// - `openssl_san`: the same with `-addext subjectAltName=DNS:localhost`;
/// - `client` (CN=player one), also as `client_ca.crt`, the client certificate the Python
///   server's `mtls` port requires, and `stranger` (CN=stranger), one it does not trust.
pub fn write_test_certificates(dir: &Path) -> Result<(), String> {
    create_dir(dir)?;
    write_identity(
        dir,
        "localhost",
        &self_signed(params(&["localhost", "127.0.0.1"])?)?,
    )?;
    let mut expired = params(&["localhost", "127.0.0.1"])?;
    expired.not_before = date_time_ymd(2019, 1, 1);
    expired.not_after = date_time_ymd(2020, 1, 1);
    write_identity(dir, "expired", &self_signed(expired)?)?;
    write_identity(dir, "example", &self_signed(params(&["example.com"])?)?)?;

    let ca = certificate_authority("rust_websocket test CA")?;
    let leaf_key = KeyPair::generate().map_err(|e| e.to_string())?;
    let leaf = params(&["localhost", "127.0.0.1"])?
        .signed_by(&leaf_key, &ca)
        .map_err(|e| e.to_string())?;
    let ca_server = Identity {
        chain_pem: format!("{}{}", leaf.pem(), ca.pem()),
        key_pem: leaf_key.serialize_pem(),
    };
    write_identity(dir, "ca_server", &ca_server)?;
    write(dir, "ca.crt", &ca.pem())?;
    let unrelated = certificate_authority("unrelated test CA")?;
    write(
        dir,
        "anchors.crt",
        &format!("{}{}", unrelated.pem(), ca.pem()),
    )?;

    ensure_openssl()?;
    openssl_self_signed(dir, "openssl_cn", "/CN=localhost", &[])?;
    let san = ["-addext", "subjectAltName=DNS:localhost"];
    openssl_self_signed(dir, "openssl_san", "/CN=localhost", &san)?;
    openssl_self_signed(dir, "client", "/CN=player one", &[])?;
    copy(&dir.join("client.crt"), &dir.join("client_ca.crt"))?;
    openssl_self_signed(dir, "stranger", "/CN=stranger", &[])
}

fn openssl_present() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// `openssl req -x509 -newkey rsa:2048 -nodes -subj SUBJECT ARGS`, into `NAME.crt` and
/// `NAME.key` of `dir`.
fn openssl_self_signed(dir: &Path, name: &str, subject: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", subject])
        .arg("-keyout")
        .arg(dir.join(format!("{name}.key")))
        .arg("-out")
        .arg(dir.join(format!("{name}.crt")))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "openssl req for {name} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(())
}

/// The `openssl` command line the TLS tests make certificates with: there on Debian with
/// ca-certificates; otherwise installed with apt-get.
fn ensure_openssl() -> Result<(), String> {
    if !openssl_present() {
        say("installing the openssl command line for the TLS tests");
        debian::install(&["openssl"])?;
    }
    if openssl_present() {
        Ok(())
    } else {
        Err(
            "the TLS tests need the openssl command line: install it (apt-get install openssl)"
                .into(),
        )
    }
}

/// Writes the demo's identity into `dir`: `demo.crt` and `demo.key`, self-signed for
/// `localhost` and `127.0.0.1`.
pub fn write_demo_certificate(dir: &Path) -> Result<(), String> {
    create_dir(dir)?;
    write_identity(
        dir,
        "demo",
        &self_signed(params(&["localhost", "127.0.0.1"])?)?,
    )
}
