//! The byte stream under the WebSocket: plain TCP or TLS over TCP, both non-blocking, and the
//! data frames the connection writes on it itself.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, OtherError,
    RootCertStore, SignatureScheme, StreamOwned,
};
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

use crate::config::TlsConfig;
use crate::deflate::{CompressionCounters, DeflateLayer, Parameters};
use crate::{Bytes, Error, Message};

/// Payloads from this size on are masked where they are and written from there; smaller frames
/// are copied together so a burst of them goes out in one system call.
const LARGE_PAYLOAD_BYTES: usize = 16 * 1024;
/// Chunks handed to one vectored write.
const CHUNKS_PER_WRITE: usize = 64;

/// A connected, non-blocking stream, plus data frames queued on it.
///
/// Data messages do not go through tungstenite's write buffer, which would copy each payload
/// once more and shift what is left of it after every partial write (quadratic for messages
/// larger than the socket's buffer). The connection encodes them here instead
/// ([`Transport::queue_message`]), masking large payloads in place, and they are written with
/// vectored writes. Everything tungstenite itself writes (pongs, the close frame) goes through
/// [`Write`], which first finishes the queued frames, so frames never interleave; the connection
/// queues new frames only once tungstenite's buffer is empty.
pub(crate) struct Transport {
    stream: Stream,
    /// Encoded frames not yet written, in order.
    frames: VecDeque<Bytes>,
    /// Small frames being gathered into the next chunk of `frames`.
    gathered: Vec<u8>,
    /// Gathers the upgrade response, then inflates permessage-deflate's messages if it was
    /// negotiated; `None` once it has nothing left to do: `stream` is read as it is.
    deflate: Option<Box<DeflateLayer>>,
    /// Bytes read from and written to the stream so far (before TLS), for the statistics.
    wire_bytes_received: u64,
    wire_bytes_sent: u64,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Transport {
    /// Plain TCP.
    pub(crate) fn plain(tcp: TcpStream) -> Self {
        Self::over(Stream::Plain(tcp))
    }

    fn over(stream: Stream) -> Self {
        Self {
            stream,
            frames: VecDeque::new(),
            gathered: Vec::new(),
            wire_bytes_received: 0,
            wire_bytes_sent: 0,
            deflate: Some(Box::new(DeflateLayer::upgrading())),
        }
    }

    /// The connection opened; `deflate` are permessage-deflate's parameters if negotiated.
    pub(crate) fn open(&mut self, deflate: Option<Parameters>, counters: Arc<CompressionCounters>) {
        if let Some(layer) = &mut self.deflate {
            if !layer.open(deflate, counters) {
                self.deflate = None;
            }
        }
    }

    /// Wraps a connected TCP stream in TLS for `host` (the TLS handshake itself runs as the
    /// WebSocket handshake first reads and writes).
    pub(crate) fn tls(tcp: TcpStream, host: &str, tls: &TlsConfig) -> Result<Self, Error> {
        let tls_error = |detail: String| Error::Tls {
            host: host.to_owned(),
            detail,
        };
        let name = tls.server_name.as_deref().unwrap_or(host);
        let server_name = ServerName::try_from(name.to_owned())
            .map_err(|_| tls_error(format!("\"{name}\" is not a valid TLS server name")))?;
        let connection =
            ClientConnection::new(shared_client_config(tls).map_err(tls_error)?, server_name)
                .map_err(|e| tls_error(e.to_string()))?;
        Ok(Self::over(Stream::Tls(Box::new(StreamOwned::new(
            connection, tcp,
        )))))
    }

    /// The negotiated TLS version and cipher suite, for `wss://` once the handshake is done.
    pub(crate) fn tls_info(&self) -> Option<TlsInfo> {
        let Stream::Tls(stream) = &self.stream else {
            return None;
        };
        let version = match stream.conn.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_owned(),
            rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_owned(),
            other => format!("{other:?}"),
        };
        let cipher_suite = format!("{:?}", stream.conn.negotiated_cipher_suite()?.suite());
        Some(TlsInfo {
            version,
            cipher_suite,
        })
    }

    /// Whether the TLS handshake is still in progress (false for plain TCP).
    pub(crate) fn is_tls_handshaking(&self) -> bool {
        matches!(&self.stream, Stream::Tls(stream) if stream.conn.is_handshaking())
    }

    /// The TCP stream, for the poller and socket options.
    pub(crate) fn tcp_mut(&mut self) -> &mut TcpStream {
        match &mut self.stream {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(stream) => &mut stream.sock,
        }
    }

    /// Bytes written to the stream so far and bytes read from it (before TLS encryption).
    pub(crate) fn wire_bytes(&self) -> (u64, u64) {
        (self.wire_bytes_sent, self.wire_bytes_received)
    }

    /// Encodes `message` as one masked, unfragmented frame (compressed with permessage-deflate
    /// when negotiated and worth it) and queues it; the next write or flush sends it. Returns
    /// the frame's size in bytes.
    pub(crate) fn queue_message(&mut self, message: Message) -> usize {
        let (data, payload) = match message {
            Message::Text(text) => (Data::Text, Bytes::from(text)),
            Message::Binary(data) => (Data::Binary, data),
        };
        let compressed = self
            .deflate
            .as_mut()
            .and_then(|deflate| deflate.compress(&payload));
        let rsv1 = compressed.is_some();
        let payload = compressed.unwrap_or(payload);
        let mask: [u8; 4] = rand::random();
        let header = FrameHeader {
            opcode: OpCode::Data(data),
            mask: Some(mask),
            rsv1,
            ..FrameHeader::default()
        };
        let size = header.len(payload.len() as u64) + payload.len();
        // Writing into a Vec cannot fail.
        let _ = header.format(payload.len() as u64, &mut self.gathered);
        if payload.len() < LARGE_PAYLOAD_BYTES {
            let start = self.gathered.len();
            self.gathered.extend_from_slice(&payload);
            apply_mask(&mut self.gathered[start..], mask);
        } else {
            // A payload nobody else holds (the usual case) is masked without a copy.
            let mut payload = payload
                .try_into_mut()
                .unwrap_or_else(|shared| shared.as_ref().into());
            apply_mask(&mut payload, mask);
            self.frames
                .push_back(Bytes::from(std::mem::take(&mut self.gathered)));
            self.frames.push_back(payload.freeze());
        }
        size
    }

    /// Writes queued frames until none is left (or the socket is full: `WouldBlock`).
    fn write_frames(&mut self) -> io::Result<()> {
        if !self.gathered.is_empty() {
            self.frames
                .push_back(Bytes::from(std::mem::take(&mut self.gathered)));
        }
        while !self.frames.is_empty() {
            let chunks: Vec<IoSlice> = self
                .frames
                .iter()
                .take(CHUNKS_PER_WRITE)
                .map(|chunk| IoSlice::new(chunk))
                .collect();
            let mut written = match &mut self.stream {
                Stream::Plain(tcp) => tcp.write_vectored(&chunks)?,
                Stream::Tls(stream) => stream.write_vectored(&chunks)?,
            };
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.wire_bytes_sent += written as u64;
            while written > 0 {
                let Some(chunk) = self.frames.front_mut() else {
                    break;
                };
                if written >= chunk.len() {
                    written -= chunk.len();
                    self.frames.pop_front();
                } else {
                    *chunk = chunk.slice(written..);
                    written = 0;
                }
            }
        }
        Ok(())
    }
}

/// Masks (or unmasks) `data` with `mask` (RFC 6455 section 5.3).
fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut words = data.chunks_exact_mut(4);
    for chunk in &mut words {
        let masked = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ word;
        chunk.copy_from_slice(&masked.to_ne_bytes());
    }
    for (byte, key) in words.into_remainder().iter_mut().zip(mask) {
        *byte ^= key;
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut wire = CountedReads {
            stream: &mut self.stream,
            bytes: &mut self.wire_bytes_received,
        };
        match &mut self.deflate {
            Some(layer) => layer.read(&mut wire, buf),
            None => wire.read(buf),
        }
    }
}

/// The stream as read through the deflate layer, counting the bytes that came off the wire.
struct CountedReads<'a> {
    stream: &'a mut Stream,
    bytes: &'a mut u64,
}

impl Read for CountedReads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.stream.read(buf)?;
        *self.bytes += read as u64;
        Ok(read)
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(stream) => stream.read(buf),
        }
    }
}

/// What tungstenite writes: queued frames go first.
impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_frames()?;
        let written = match &mut self.stream {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(stream) => stream.write(buf),
        }?;
        self.wire_bytes_sent += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_frames()?;
        match &mut self.stream {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(stream) => stream.flush(),
        }
    }
}

/// The rustls configuration of the last TLS settings used, with what decides it: whether to
/// verify, and the trusted certificates. Building one parses every root certificate, so
/// connections with the same settings share it.
type CachedConfig = (bool, Vec<CertificateDer<'static>>, Arc<ClientConfig>);
static LAST_CLIENT_CONFIG: std::sync::Mutex<Option<CachedConfig>> = std::sync::Mutex::new(None);

/// The rustls configuration for these settings, shared with earlier connections that used the
/// same ones.
fn shared_client_config(tls: &TlsConfig) -> Result<Arc<ClientConfig>, String> {
    let mut last = LAST_CLIENT_CONFIG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((verify, trusted, config)) = last.as_ref() {
        if *verify == tls.verify && *trusted == tls.trusted_certificates {
            return Ok(config.clone());
        }
    }
    let config = client_config(tls)?;
    *last = Some((tls.verify, tls.trusted_certificates.clone(), config.clone()));
    Ok(config)
}

/// The rustls configuration for these settings.
fn client_config(tls: &TlsConfig) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = if tls.verify {
        let mut roots = RootCertStore::empty();
        if tls.trusted_certificates.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        } else {
            for certificate in &tls.trusted_certificates {
                roots
                    .add(certificate.clone())
                    .map_err(|e| format!("trusted certificate is unusable: {e}"))?;
            }
        }
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build();
        Some(verifier.map_err(|e| e.to_string())?)
    } else {
        None
    };
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(CertificateCheck { webpki, provider }))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Checks the server's certificate with webpki, and finds out whether an untrusted one is
/// self-signed so the error can say so. Without `webpki` (`verify_tls = false`) any certificate
/// is accepted. The handshake's signatures are checked either way.
#[derive(Debug)]
struct CertificateCheck {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
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
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        let verified =
            webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        verified.map_err(|error| match error {
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
                if self.is_self_signed(end_entity, server_name, now) =>
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

impl CertificateCheck {
    /// Whether `certificate` verifies with itself as the only trust anchor.
    fn is_self_signed(
        &self,
        certificate: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> bool {
        let mut itself = RootCertStore::empty();
        if itself.add(certificate.clone().into_owned()).is_err() {
            return false;
        }
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(itself), self.provider.clone())
                .build();
        let Ok(verifier) = verifier else {
            return false;
        };
        !matches!(
            verifier.verify_server_cert(certificate, &[], server_name, &[], now),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::BadSignature
            ))
        )
    }
}

/// The negotiated parameters of a `wss://` connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsInfo {
    /// "TLS 1.3" or "TLS 1.2".
    pub version: String,
    /// The cipher suite's IANA name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
}

/// A rustls error in plain words; `host` is the name the certificate was checked for.
pub(crate) fn describe_tls_error(error: &rustls::Error, host: &str) -> String {
    use CertificateError as C;
    match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            C::Other(other) if other.0.is::<SelfSigned>() => {
                format!("the certificate for {host} is not trusted (self-signed)")
            }
            C::UnknownIssuer => {
                format!("the certificate for {host} is not trusted (unknown issuer)")
            }
            C::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                let names: Vec<&str> = presented.iter().map(|name| unquote_name(name)).collect();
                format!(
                    "the certificate is valid for {}, not {host}",
                    names.join(", ")
                )
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                format!("the certificate is not valid for {host}")
            }
            C::ExpiredContext { not_after, .. } => {
                format!(
                    "the certificate for {host} expired on {}",
                    utc_date(not_after.as_secs())
                )
            }
            C::Expired => format!("the certificate for {host} has expired"),
            C::NotValidYetContext { not_before, .. } => format!(
                "the certificate for {host} is not valid before {}",
                utc_date(not_before.as_secs())
            ),
            C::NotValidYet => format!("the certificate for {host} is not valid yet"),
            C::BadSignature => format!(
                "the certificate for {host} is not trusted (its signature does not match its issuer)"
            ),
            other => format!("the certificate for {host} is invalid: {other:?}"),
        },
        rustls::Error::InvalidMessage(_) => {
            "the server did not answer with TLS (is it a plain ws:// server?)".into()
        }
        rustls::Error::AlertReceived(alert) => {
            format!("the server refused the TLS handshake ({alert:?})")
        }
        other => other.to_string(),
    }
}

/// rustls presents names as `DnsName("example.com")`; this keeps `example.com`.
fn unquote_name(name: &str) -> &str {
    match (name.find('"'), name.rfind('"')) {
        (Some(start), Some(end)) if end > start => &name[start + 1..end],
        _ => name,
    }
}

/// A Unix time as a UTC date, `YYYY-MM-DD` (the days-to-civil algorithm of Howard Hinnant).
fn utc_date(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_formatted_in_utc() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_577_836_800), "2020-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
    }
}
