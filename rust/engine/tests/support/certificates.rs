//! Certificates as users make them, with the `openssl` command line, and Python's `ssl` serving
//! them (tests/peers/py_server.py), for the TLS tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use rust_websocket_engine::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;

/// A certificate (chain) and its private key, in PEM.
#[derive(Clone)]
pub struct PemIdentity {
    pub chain: String,
    pub key: String,
}

impl PemIdentity {
    /// The chain's certificates, DER.
    pub fn certificates(&self) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(self.chain.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap()
    }

    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::from_pem_slice(self.key.as_bytes()).unwrap()
    }
}

/// A fresh empty directory under the system's temporary directory.
pub fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rust_websocket-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What everyone copies: `openssl req -x509 -newkey rsa:2048 -nodes -subj SUBJECT [ARGS]`.
/// OpenSSL 3 marks it CA:TRUE; without `-addext subjectAltName=...` the host is only in its CN.
pub fn openssl_self_signed(subject: &str, args: &[&str]) -> PemIdentity {
    let dir = scratch_dir("openssl");
    let (certificate, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let output = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", subject])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .args(args)
        .output()
        .expect("the openssl command line runs (Debian: apt-get install openssl)");
    assert!(
        output.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let identity = PemIdentity {
        chain: std::fs::read_to_string(certificate).unwrap(),
        key: std::fs::read_to_string(key).unwrap(),
    };
    let _ = std::fs::remove_dir_all(dir);
    identity
}

/// The three kinds of development certificate for `localhost` users bring: Godot's
/// `Crypto.generate_self_signed_certificate(key, "CN=localhost,O=Game,C=US")` (made the same way
/// here: CN only), `openssl req` without and with a subjectAltName.
pub fn user_made_certificates() -> Vec<(&'static str, PemIdentity)> {
    vec![
        (
            "Godot-style CN=localhost,O=Game,C=US",
            openssl_self_signed("/CN=localhost/O=Game/C=US", &[]),
        ),
        (
            "openssl without subjectAltName",
            openssl_self_signed("/CN=localhost", &[]),
        ),
        (
            "openssl with subjectAltName",
            openssl_self_signed(
                "/CN=localhost",
                &["-addext", "subjectAltName=DNS:localhost"],
            ),
        ),
    ]
}

/// Python's `ssl` serving wss:// echo (tests/peers/py_server.py) with `server` as `localhost`,
/// on a port that requires a client certificate issued by one in `client_ca` (`CERT_REQUIRED`).
/// Returns the port and the process (killed when dropped).
pub fn python_mutual_tls_server(server: &PemIdentity, client_ca: &str) -> (u16, PythonPeer) {
    let dir = scratch_dir("mtls");
    std::fs::write(dir.join("localhost.crt"), &server.chain).unwrap();
    std::fs::write(dir.join("localhost.key"), &server.key).unwrap();
    std::fs::write(dir.join("client_ca.crt"), client_ca).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join("target/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: `cargo xtask suite` (or `cargo xtask test`) creates it",
        python.display()
    );
    let mut child = Command::new(python)
        .arg(root.join("tests/peers/py_server.py"))
        .args(["--stdin-lifeline", "--lifetime", "120", "--tls-dir"])
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the Python server starts");
    // Read through READY: the server prints it after the TLS lines, and exits if it cannot.
    let mut port = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(mtls) = line.strip_prefix("TLS mtls ") {
            port = Some(mtls.parse::<u16>().unwrap());
        }
        if line.starts_with("READY ") {
            break;
        }
    }
    let port = port.expect("the Python server prints TLS mtls <port>");
    (port, PythonPeer { child, dir })
}

/// A running Python peer; dropping it ends it and removes its files.
pub struct PythonPeer {
    child: Child,
    dir: PathBuf,
}

impl Drop for PythonPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
