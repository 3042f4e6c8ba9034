//! Whom `wss://` trusts and how it says no: the rustls client configuration (trusted and pinned
//! certificates, the public roots with the operating system's store, the client certificate),
//! the server certificate verifier (with the date code its messages need), the TLS session of
//! a connection, and every TLS failure as a sentence.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{
    AlertDescription, CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct,
    InconsistentKeys, OtherError, RootCertStore, SignatureScheme,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::time::ASN1Time;

use crate::config::{parse_pem_certificates, TlsConfig};
use crate::Error;

// ---- Client certificate -------------------------------------------------------------------------

/// A client certificate chain with its private key, for servers that ask for one (mutual TLS).
/// Made with [`ClientCertificate::from_pem`], which checks that the key belongs to the
/// certificate.
#[derive(Clone, Debug)]
pub struct ClientCertificate(Arc<CertifiedKey>);

/// The same chain and the same key (known by its public half, which `from_pem` checked against
/// the certificate), so connections made with equal settings share one client configuration.
impl PartialEq for ClientCertificate {
    fn eq(&self, other: &Self) -> bool {
        let public_key = self.0.key.public_key();
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.cert == other.0.cert
                && public_key.is_some()
                && public_key == other.0.key.public_key())
    }
}

impl ClientCertificate {
    /// The chain (PEM, the client's own certificate first) and its private key (PEM: PKCS#8,
    /// PKCS#1 RSA or SEC1 EC, as Godot's `CryptoKey.save_to_string()` gives). Fails with a
    /// sentence when either does not parse or the key is not the certificate's.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self, String> {
        use rustls::pki_types::pem::PemObject;
        let chain = parse_pem_certificates(chain_pem)
            .map_err(|reason| format!("tls_client_certificate is unusable: {reason}"))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| {
            "tls_client_key holds no private key in PEM (PKCS#8, RSA or EC)".to_owned()
        })?;
        let provider = crypto_provider();
        match CertifiedKey::from_der(chain, key, &provider) {
            Ok(certified) => Ok(Self(Arc::new(certified))),
            Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => Err(
                "tls_client_key is not the private key of tls_client_certificate: set the key \
                 the certificate was made with"
                    .into(),
            ),
            Err(_) => Err(
                "tls_client_key is a kind of private key TLS cannot sign with here \
                 (use RSA, ECDSA P-256 or P-384, or Ed25519)"
                    .into(),
            ),
        }
    }
}

// ---- Client configuration ------------------------------------------------------------------------

fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration of the last TLS settings used. Building one parses every trusted
/// certificate, so connections with the same settings share it.
type CachedConfig = (TlsConfig, Arc<ClientConfig>);
static LAST_CLIENT_CONFIG: Mutex<Option<CachedConfig>> = Mutex::new(None);

/// The rustls configuration for these settings, shared with earlier connections that used the
/// same ones.
pub(crate) fn shared_client_config(tls: &TlsConfig) -> Result<Arc<ClientConfig>, String> {
    let mut last = LAST_CLIENT_CONFIG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((settings, config)) = last.as_ref() {
        if same_trust(settings, tls) {
            return Ok(config.clone());
        }
    }
    let config = client_config(tls)?;
    *last = Some((tls.clone(), config.clone()));
    Ok(config)
}

/// Whether two settings make the same rustls configuration (the server name is not part of it).
fn same_trust(a: &TlsConfig, b: &TlsConfig) -> bool {
    a.verify == b.verify
        && a.trusted_certificates == b.trusted_certificates
        && a.system_trust_store == b.system_trust_store
        && a.client_certificate == b.client_certificate
}

/// The rustls configuration for these settings.
fn client_config(tls: &TlsConfig) -> Result<Arc<ClientConfig>, String> {
    let provider = crypto_provider();
    let trust = match (tls.verify, tls.trusted_certificates.is_empty()) {
        (false, _) => Trust::Anything,
        (true, true) => Trust::Public(public_verifier(tls.system_trust_store)?),
        (true, false) => {
            let mut roots = RootCertStore::empty();
            for certificate in &tls.trusted_certificates {
                // A certificate webpki cannot take as an anchor may still be pinned.
                let _ = roots.add(certificate.clone());
            }
            Trust::Only {
                pinned: tls.trusted_certificates.clone(),
                issuers: verifier(roots).ok(),
            }
        }
    };
    let check = CertificateCheck {
        trust,
        provider: provider.clone(),
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| "rustls supports no TLS version with its default provider".to_owned())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(check));
    let resolver = WitnessedClientCertificate(tls.client_certificate.clone());
    Ok(Arc::new(
        builder.with_client_cert_resolver(Arc::new(resolver)),
    ))
}

// ---- What the server asked for ----------------------------------------------------------------

thread_local! {
    /// The witness of the connection whose TLS I/O this thread is running, if any.
    static CURRENT_WITNESS: RefCell<Option<HandshakeWitness>> = const { RefCell::new(None) };
}

/// Whether the server asked one connection for a client certificate. Some servers (Python's
/// asyncio among them) close TCP without a TLS alert when a required client certificate is
/// missing or refused; this tells such a close apart from a plain server's. The client
/// configuration is shared between connections (so sessions resume), so the resolver learns
/// which connection asks from [`HandshakeWitness::during`].
#[derive(Clone, Debug, Default)]
pub(crate) struct HandshakeWitness(Arc<AtomicBool>);

impl HandshakeWitness {
    /// Runs `io`, TLS I/O of this witness's connection, so a certificate request during it is
    /// recorded.
    pub(crate) fn during<R>(&self, io: impl FnOnce() -> R) -> R {
        let previous = CURRENT_WITNESS.with(|current| current.replace(Some(self.clone())));
        let result = io();
        CURRENT_WITNESS.with(|current| *current.borrow_mut() = previous);
        result
    }

    /// Whether the server asked for a client certificate.
    pub(crate) fn client_certificate_requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Presents the configured client certificate, if any, and records that the server asked.
#[derive(Debug)]
struct WitnessedClientCertificate(Option<ClientCertificate>);

impl ResolvesClientCert for WitnessedClientCertificate {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        CURRENT_WITNESS.with(|current| {
            if let Some(witness) = current.borrow().as_ref() {
                witness.0.store(true, Ordering::Relaxed);
            }
        });
        self.0.as_ref().map(|identity| identity.0.clone())
    }

    fn has_certs(&self) -> bool {
        self.0.is_some()
    }
}

fn verifier(roots: RootCertStore) -> Result<Arc<WebPkiServerVerifier>, String> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), crypto_provider())
        .build()
        .map_err(|_| "none of the trusted certificates can be used as a trust anchor".to_owned())
}

/// The verifier for public servers: the Mozilla roots of `webpki-roots`, plus the operating
/// system's trust store when `system_store` is set. Each is built once per process: reading the
/// system's store costs milliseconds.
fn public_verifier(system_store: bool) -> Result<Arc<WebPkiServerVerifier>, String> {
    static WEBPKI_ONLY: OnceLock<Result<Arc<WebPkiServerVerifier>, String>> = OnceLock::new();
    static WITH_SYSTEM: OnceLock<Result<Arc<WebPkiServerVerifier>, String>> = OnceLock::new();
    let (cell, system_store) = if system_store {
        (&WITH_SYSTEM, true)
    } else {
        (&WEBPKI_ONLY, false)
    };
    cell.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if system_store {
            // A store that cannot be read, or certificates in it webpki cannot use, leave the
            // Mozilla roots alone, as Godot falls back to its bundled ones.
            let system = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(system.certs);
        }
        verifier(roots)
    })
    .clone()
}

// ---- Server certificate check ----------------------------------------------------------------

/// Checks the server's certificate as `trust` says. The handshake's signatures, which prove the
/// server holds the certificate's key, are checked in every case.
#[derive(Debug)]
struct CertificateCheck {
    trust: Trust,
    provider: Arc<CryptoProvider>,
}

/// Which server certificates are accepted.
#[derive(Debug)]
enum Trust {
    /// Any (`verify = false`).
    Anything,
    /// Those webpki verifies up to a public root (or one of the system's store).
    Public(Arc<WebPkiServerVerifier>),
    /// The trusted certificates only: a pinned one (the server's certificate is byte for byte
    /// one of them) by its validity period and host name alone, any other by webpki up to one
    /// of them (`issuers`; `None` when none of them can be an anchor).
    Only {
        pinned: Vec<CertificateDer<'static>>,
        issuers: Option<Arc<WebPkiServerVerifier>>,
    },
}

/// Marks an untrusted certificate that is self-signed.
#[derive(Debug)]
struct SelfSigned;

impl std::fmt::Display for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("self-signed certificate")
    }
}

impl std::error::Error for SelfSigned {}

impl ServerCertVerifier for CertificateCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let webpki = match &self.trust {
            Trust::Anything => return Ok(ServerCertVerified::assertion()),
            Trust::Public(webpki) => Some(webpki),
            Trust::Only { pinned, .. }
                if pinned
                    .iter()
                    .any(|pinned| pinned.as_ref() == end_entity.as_ref()) =>
            {
                return verify_pinned(end_entity, server_name, now);
            }
            Trust::Only { issuers, .. } => issuers.as_ref(),
        };
        let verified = match webpki {
            Some(webpki) => webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
            None => Err(CertificateError::UnknownIssuer.into()),
        };
        verified.map_err(|error| match error {
            rustls::Error::InvalidCertificate(ref kind)
                if is_untrusted(kind) && is_self_signed(end_entity) =>
            {
                let marker = OtherError(Arc::new(SelfSigned));
                rustls::Error::InvalidCertificate(CertificateError::Other(marker))
            }
            other => other,
        })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Whether webpki's refusal means "nobody vouches for it" (rather than, say, expired), for a
/// self-signed certificate: no issuer found, or a CA certificate presented by the server.
fn is_untrusted(kind: &CertificateError) -> bool {
    match kind {
        CertificateError::UnknownIssuer => true,
        CertificateError::Other(other) => matches!(
            other.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}

/// Whether `certificate` names itself as its issuer and its signature verifies with its own key.
fn is_self_signed(certificate: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(certificate).is_ok_and(|(_, parsed)| {
        parsed.subject().as_raw() == parsed.issuer().as_raw()
            && parsed.verify_signature(None).is_ok()
    })
}

/// The checks of a pinned certificate, as mbedTLS makes them for a trusted certificate presented
/// as the server's own (what Godot's `TLSOptions.client(certificate)` does): within its validity
/// period, and valid for the host: by its subjectAltNames, or by its common name when it has
/// none. Being CA:TRUE does not matter: the certificate is trusted as it is.
fn verify_pinned(
    end_entity: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<ServerCertVerified, rustls::Error> {
    let (_, parsed) = x509_parser::parse_x509_certificate(end_entity)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let validity = parsed.validity();
    let seconds = |time: &ASN1Time| UnixTime::since_unix_epoch(unix_duration(time.timestamp()));
    let now_seconds = now.as_secs() as i64;
    if now_seconds > validity.not_after.timestamp() {
        return Err(CertificateError::ExpiredContext {
            time: now,
            not_after: seconds(&validity.not_after),
        }
        .into());
    }
    if now_seconds < validity.not_before.timestamp() {
        return Err(CertificateError::NotValidYetContext {
            time: now,
            not_before: seconds(&validity.not_before),
        }
        .into());
    }
    let has_alternative_names = parsed
        .subject_alternative_name()
        .ok()
        .flatten()
        .is_some_and(|names| !names.value.general_names.is_empty());
    if has_alternative_names {
        let certificate = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        return match certificate.verify_is_valid_for_subject_name(server_name) {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(webpki::Error::CertNotValidForName(context)) => {
                Err(CertificateError::NotValidForNameContext {
                    expected: context.expected,
                    presented: context.presented,
                }
                .into())
            }
            Err(_) => Err(CertificateError::NotValidForName.into()),
        };
    }
    let common_names = common_names(&parsed);
    let host = server_name.to_str();
    if common_names
        .iter()
        .any(|common_name| common_name_matches(common_name, &host))
    {
        return Ok(ServerCertVerified::assertion());
    }
    Err(CertificateError::NotValidForNameContext {
        expected: server_name.to_owned(),
        // As webpki presents a DNS name.
        presented: common_names
            .iter()
            .map(|name| format!("DnsName({name:?})"))
            .collect(),
    }
    .into())
}

fn unix_duration(seconds: i64) -> std::time::Duration {
    std::time::Duration::from_secs(seconds.max(0) as u64)
}

/// The subject's common names (CN) of a certificate.
fn common_names(certificate: &X509Certificate<'_>) -> Vec<String> {
    certificate
        .subject()
        .iter_common_name()
        .filter_map(|name| name.as_str().ok())
        .map(str::to_owned)
        .collect()
}

/// Whether a common name names `host`, as mbedTLS compares them: equal ignoring ASCII case, or
/// a `*.` wildcard standing for exactly the first label.
fn common_name_matches(common_name: &str, host: &str) -> bool {
    if common_name.eq_ignore_ascii_case(host) {
        return true;
    }
    match (common_name.strip_prefix("*."), host.split_once('.')) {
        (Some(domain), Some((label, rest))) => {
            !label.is_empty() && domain.eq_ignore_ascii_case(rest)
        }
        _ => false,
    }
}

/// The names a certificate was presented for, in words (webpki gives `DnsName("example.com")`
/// and `IpAddress(127.0.0.1)`; other kinds of names are left out).
fn presented_names(presented: &[String]) -> Vec<&str> {
    presented
        .iter()
        .filter_map(|name| {
            if let Some(dns) = name.strip_prefix("DnsName(\"") {
                dns.strip_suffix("\")")
            } else {
                name.strip_prefix("IpAddress(")?.strip_suffix(')')
            }
        })
        .collect()
}

// ---- A connection's TLS session ---------------------------------------------------------------

/// The negotiated parameters of a `wss://` connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsInfo {
    /// "TLS 1.3" or "TLS 1.2".
    pub version: String,
    /// The cipher suite's IANA name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
}

impl TlsInfo {
    /// What `connection` negotiated, once its handshake is done.
    pub(crate) fn of(connection: &ClientConnection) -> Option<Self> {
        let version = match connection.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_owned(),
            rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_owned(),
            other => format!("{other:?}"),
        };
        let cipher_suite = format!("{:?}", connection.negotiated_cipher_suite()?.suite());
        Some(TlsInfo {
            version,
            cipher_suite,
        })
    }
}

/// A TLS session to `host` with the settings `tls` (its handshake runs as the connection first
/// reads and writes).
pub(crate) fn client_connection(host: &str, tls: &TlsConfig) -> Result<ClientConnection, Error> {
    let tls_error = |detail: String| Error::Tls {
        host: host.to_owned(),
        detail,
    };
    let name = tls.server_name.as_deref().unwrap_or(host);
    let server_name = ServerName::try_from(name.to_owned())
        .map_err(|_| tls_error(format!("\"{name}\" is not a valid TLS server name")))?;
    ClientConnection::new(shared_client_config(tls).map_err(tls_error)?, server_name)
        .map_err(|e| tls_error(describe_tls_error(&e, name, tls)))
}

// ---- Errors in words --------------------------------------------------------------------------

/// A rustls error in plain words, saying what to do; `host` is the name the certificate was
/// checked for, `tls` the settings of the attempt.
pub(crate) fn describe_tls_error(error: &rustls::Error, host: &str, tls: &TlsConfig) -> String {
    use rustls::Error as E;
    match error {
        E::InvalidCertificate(certificate) => describe_certificate_error(certificate, host, tls),
        E::InvalidMessage(_) => {
            "the server did not answer with TLS (is it a plain ws:// server?)".into()
        }
        E::AlertReceived(alert) => describe_alert(*alert, tls),
        E::NoCertificatesPresented => format!(
            "{host} presented no certificate; configure the server with a certificate and its key"
        ),
        E::PeerIncompatible(_) => format!(
            "{host} and this client have no TLS version or cipher suite in common (this client \
             speaks TLS 1.2 and 1.3 with current cipher suites); update the server's TLS settings"
        ),
        E::PeerMisbehaved(_)
        | E::InappropriateMessage { .. }
        | E::InappropriateHandshakeMessage { .. } => format!(
            "{host} broke the TLS protocol during the handshake; check the server's TLS software"
        ),
        E::DecryptError => format!(
            "a TLS record from {host} could not be decrypted (altered in transit, or a faulty \
             TLS server); try again, or check what stands between you and the server"
        ),
        E::PeerSentOversizedRecord => {
            format!("{host} sent a TLS record over the size TLS allows; check the server's TLS software")
        }
        E::InconsistentKeys(_) => "tls_client_key is not the private key of \
                                   tls_client_certificate: set the key the certificate was made with"
            .into(),
        E::UnsupportedNameType => format!(
            "\"{host}\" cannot be checked against a certificate; connect by host name or set \
             tls_server_name"
        ),
        E::FailedToGetCurrentTime => "the system clock could not be read to check the server's \
                                      certificate dates"
            .into(),
        E::FailedToGetRandomBytes => "the operating system gave no random numbers for TLS".into(),
        E::InvalidCertRevocationList(_) => {
            "a certificate revocation list is invalid; remove it or get a current one".into()
        }
        E::NoApplicationProtocol => {
            format!("{host} accepts none of the application protocols offered over TLS (ALPN)")
        }
        E::InvalidEncryptedClientHello(_) => {
            format!("{host} refused the encrypted client hello (ECH) of this connection")
        }
        _ => format!(
            "the TLS handshake with {host} failed for a reason this version of rust_websocket \
             cannot name in words; check the server's TLS setup, or update rust_websocket"
        ),
    }
}

fn describe_certificate_error(error: &CertificateError, host: &str, tls: &TlsConfig) -> String {
    use CertificateError as C;
    let pin_advice = "to accept it, set trusted_tls_certificate to this certificate";
    match error {
        C::Other(other) if other.0.is::<SelfSigned>() => {
            format!("the certificate for {host} is not trusted (self-signed); {pin_advice}")
        }
        C::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki) => describe_webpki_error(webpki, host),
            None => format!(
                "the certificate for {host} was refused for a reason this version of \
                 rust_websocket cannot name in words; check the certificate, or update \
                 rust_websocket"
            ),
        },
        C::UnknownIssuer if tls.trusted_certificates.is_empty() => format!(
            "the certificate for {host} is not trusted (unknown issuer): its issuer is neither a \
             public root nor in the system's trust store; set trusted_tls_certificate to the CA \
             that issued it"
        ),
        C::UnknownIssuer => format!(
            "the certificate for {host} is not trusted (unknown issuer): neither it nor its \
             issuer is in trusted_tls_certificate; add the CA that issued it, or the certificate \
             itself"
        ),
        C::NotValidForNameContext { presented, .. } if !presented_names(presented).is_empty() => {
            format!(
                "the certificate is valid for {}, not {host}; connect to one of those names, or \
                 set tls_server_name to one",
                presented_names(presented).join(", ")
            )
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => format!(
            "the certificate is not valid for {host} (it names no host); make a certificate with \
             {host} as its subjectAltName or common name"
        ),
        C::ExpiredContext { not_after, .. } => format!(
            "the certificate for {host} expired on {}; renew it on the server (or check this \
             computer's clock)",
            utc_date(not_after.as_secs())
        ),
        C::Expired => format!(
            "the certificate for {host} has expired; renew it on the server (or check this \
             computer's clock)"
        ),
        C::NotValidYetContext { not_before, .. } => format!(
            "the certificate for {host} is not valid before {}; check this computer's clock",
            utc_date(not_before.as_secs())
        ),
        C::NotValidYet => {
            format!("the certificate for {host} is not valid yet; check this computer's clock")
        }
        C::BadSignature => format!(
            "the certificate for {host} is not trusted: its signature does not match its \
             issuer's key; the server presents a wrong or damaged chain"
        ),
        C::BadEncoding => format!(
            "the certificate for {host} is malformed; the server must present a valid X.509 \
             certificate"
        ),
        C::Revoked => format!("the certificate for {host} has been revoked by its issuer"),
        C::UnknownRevocationStatus
        | C::ExpiredRevocationList
        | C::ExpiredRevocationListContext { .. } => format!(
            "whether the certificate for {host} was revoked cannot be told (no current \
             revocation list)"
        ),
        C::UnhandledCriticalExtension => format!(
            "the certificate for {host} has a critical extension TLS does not know; make a \
             certificate without it"
        ),
        #[allow(deprecated)]
        C::UnsupportedSignatureAlgorithm
        | C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => format!(
            "the certificate for {host} is signed with an algorithm this client does not accept; \
             use RSA (2048 bits or more), ECDSA P-256/P-384 or Ed25519 with SHA-256 or better"
        ),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => format!(
            "the certificate for {host} is not meant for TLS servers (its extended key usage \
             lacks serverAuth); make a server certificate"
        ),
        C::InvalidOcspResponse => {
            format!("the revocation status {host} stapled to its certificate is invalid")
        }
        C::ApplicationVerificationFailure => {
            format!("the certificate for {host} was refused by the application")
        }
        _ => format!(
            "the certificate for {host} was refused for a reason this version of rust_websocket \
             cannot name in words; check the certificate, or update rust_websocket"
        ),
    }
}

/// webpki's refusals that rustls passes on without a kind of its own.
fn describe_webpki_error(error: &webpki::Error, host: &str) -> String {
    use webpki::Error as W;
    match error {
        W::CaUsedAsEndEntity => format!(
            "the certificate for {host} is a CA certificate used as a server certificate \
             (CA:TRUE, as OpenSSL 3 and Godot's Crypto make by default); pin it with \
             trusted_tls_certificate or make a server certificate"
        ),
        W::EndEntityUsedAsCa => format!(
            "the chain for {host} has a server certificate where a CA certificate should be; fix \
             the chain the server presents"
        ),
        W::CertDistrusted => {
            format!("the certificate for {host} was issued by a CA that is no longer trusted")
        }
        W::PathLenConstraintViolated | W::NameConstraintViolation => format!(
            "the certificate for {host} was issued outside what its CA may issue (path length \
             or name constraints)"
        ),
        W::MaximumPathDepthExceeded
        | W::MaximumPathBuildCallsExceeded
        | W::MaximumSignatureChecksExceeded
        | W::MaximumNameConstraintComparisonsExceeded => format!(
            "the certificate chain for {host} is too long or too tangled to verify; present a \
             shorter chain"
        ),
        W::UnsupportedCriticalExtension => format!(
            "the certificate for {host} has a critical extension TLS does not know; make a \
             certificate without it"
        ),
        W::UnsupportedCertVersion => format!(
            "the certificate for {host} is not an X.509 version 3 certificate; make a version 3 \
             one"
        ),
        W::SignatureAlgorithmMismatch => format!(
            "the certificate for {host} names two different signature algorithms; it is malformed"
        ),
        _ => format!(
            "the certificate for {host} is malformed or uses a feature TLS does not accept; make \
             it again with current tools"
        ),
    }
}

/// The server closed TCP during the TLS handshake (or right after it) without an alert.
pub(crate) fn describe_closed_handshake(witness: &HandshakeWitness, tls: &TlsConfig) -> String {
    match (
        witness.client_certificate_requested(),
        &tls.client_certificate,
    ) {
        (true, None) => CLIENT_CERTIFICATE_REQUIRED.into(),
        (true, Some(_)) => format!(
            "the server rejected the client certificate (it closed the connection); \
             {CLIENT_CERTIFICATE_ADVICE}"
        ),
        (false, _) => "the server closed the connection during the TLS handshake (is it a plain \
                       ws:// server?)"
            .into(),
    }
}

const CLIENT_CERTIFICATE_ADVICE: &str =
    "check that the server trusts tls_client_certificate's issuer and that it is valid";

const CLIENT_CERTIFICATE_REQUIRED: &str =
    "the server requires a client certificate: set tls_client_certificate and tls_client_key";

/// A TLS alert the server sent, in words.
fn describe_alert(alert: AlertDescription, tls: &TlsConfig) -> String {
    use AlertDescription as A;
    let sent_certificate = tls.client_certificate.is_some();
    match alert {
        A::CertificateRequired => CLIENT_CERTIFICATE_REQUIRED.into(),
        A::HandshakeFailure if !sent_certificate => "the server refused the TLS handshake \
             (handshake failure): it may require a client certificate (tls_client_certificate \
             and tls_client_key) or a TLS version or cipher suite this client does not speak"
            .into(),
        A::BadCertificate
        | A::UnsupportedCertificate
        | A::CertificateUnknown
        | A::UnknownCA
        | A::AccessDenied
        | A::CertificateExpired
        | A::CertificateRevoked
        | A::HandshakeFailure
            if sent_certificate =>
        {
            format!(
                "the server rejected the client certificate ({}); {CLIENT_CERTIFICATE_ADVICE}",
                alert_words(alert)
            )
        }
        A::ProtocolVersion | A::InsufficientSecurity => format!(
            "the server refused the TLS handshake ({}): it wants a TLS version or cipher suite \
             this client does not speak",
            alert_words(alert)
        ),
        A::UnrecognisedName => {
            "the server has no certificate for the host name asked for (unrecognised name); \
             check the URL's host or tls_server_name"
                .into()
        }
        _ => format!(
            "the server refused the TLS handshake ({})",
            alert_words(alert)
        ),
    }
}

/// An alert's name as RFC 8446 and RFC 5246 write it, in words.
fn alert_words(alert: AlertDescription) -> String {
    use AlertDescription as A;
    let words = match alert {
        A::CloseNotify => "close notify",
        A::UnexpectedMessage => "unexpected message",
        A::BadRecordMac => "bad record MAC",
        A::DecryptionFailed => "decryption failed",
        A::RecordOverflow => "record overflow",
        A::DecompressionFailure => "decompression failure",
        A::HandshakeFailure => "handshake failure",
        A::NoCertificate => "no certificate",
        A::BadCertificate => "bad certificate",
        A::UnsupportedCertificate => "unsupported certificate",
        A::CertificateRevoked => "certificate revoked",
        A::CertificateExpired => "certificate expired",
        A::CertificateUnknown => "certificate unknown",
        A::IllegalParameter => "illegal parameter",
        A::UnknownCA => "unknown CA",
        A::AccessDenied => "access denied",
        A::DecodeError => "decode error",
        A::DecryptError => "decrypt error",
        A::ExportRestriction => "export restriction",
        A::ProtocolVersion => "protocol version",
        A::InsufficientSecurity => "insufficient security",
        A::InternalError => "internal error",
        A::InappropriateFallback => "inappropriate fallback",
        A::UserCanceled => "user canceled",
        A::NoRenegotiation => "no renegotiation",
        A::MissingExtension => "missing extension",
        A::UnsupportedExtension => "unsupported extension",
        A::CertificateUnobtainable => "certificate unobtainable",
        A::UnrecognisedName => "unrecognised name",
        A::BadCertificateStatusResponse => "bad certificate status response",
        A::BadCertificateHashValue => "bad certificate hash value",
        A::UnknownPSKIdentity => "unknown PSK identity",
        A::CertificateRequired => "certificate required",
        A::NoApplicationProtocol => "no application protocol",
        A::EncryptedClientHelloRequired => "encrypted client hello required",
        _ => return format!("TLS alert {}", u8::from(alert)),
    };
    format!("TLS alert \"{words}\"")
}

/// A Unix time as a UTC date, `YYYY-MM-DD`.
fn utc_date(unix_seconds: u64) -> String {
    let seconds = i64::try_from(unix_seconds).unwrap_or(i64::MAX);
    match ASN1Time::from_timestamp(seconds) {
        Ok(time) => time.to_datetime().date().to_string(),
        Err(_) => "a date past year 9999".into(),
    }
}

#[cfg(test)]
mod tests;
