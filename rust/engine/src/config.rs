//! Tunable limits and timeouts of a connection.

use std::time::Duration;

use rustls::pki_types::CertificateDer;

use crate::tls::ClientCertificate;
use crate::ProxySetting;
use crate::ReconnectConfig;

/// Periodic and backoff timers (heartbeat, reconnect delay) longer than this are taken as this
/// long (a year), so the instants computed from them always fall on the clock (e.g. for an
/// infinite value from GDScript).
pub(crate) const LONGEST_TIMER: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Default for [`Config::max_message_size`]: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;
/// Default for [`Config::inbound_queue_limit`]: 16 MiB.
pub const DEFAULT_INBOUND_QUEUE_LIMIT: usize = 16 << 20;
/// Default for [`Config::handshake_timeout`]: 10 seconds.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`Config::close_timeout`]: 5 seconds.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default for [`Config::connect_timeout`]: 5 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default for [`Config::heartbeat_interval`]: zero, no heartbeat (as Godot's `WebSocketPeer`).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::ZERO;
/// Default for [`Config::heartbeat_timeout`]: 10 seconds.
pub const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

/// Limits, timeouts and TLS settings of one connection, read when it starts.
///
/// Every default is generous: there is no 64 KiB message ceiling as in Godot's
/// `WebSocketPeer`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Largest message (and single frame) accepted from the server, in bytes. A larger one fails
    /// the connection with close code 1009. Default [`DEFAULT_MAX_MESSAGE_SIZE`].
    pub max_message_size: usize,
    /// Bytes of received messages the game has not taken yet at which the engine stops reading
    /// from the socket, so TCP pushes back on the server. Nothing is ever dropped: reading
    /// resumes once the game takes messages. Default [`DEFAULT_INBOUND_QUEUE_LIMIT`].
    pub inbound_queue_limit: usize,
    /// Time allowed from `connect` until the connection is open: name resolution, TCP connect,
    /// TLS and the HTTP upgrade together. Default [`DEFAULT_HANDSHAKE_TIMEOUT`].
    pub handshake_timeout: Duration,
    /// Time allowed for the server to finish the close handshake and close TCP once a close
    /// frame was sent or received. Default [`DEFAULT_CLOSE_TIMEOUT`].
    pub close_timeout: Duration,
    /// Certificate checks for `wss://`.
    pub tls: TlsConfig,
    /// Whether and how a dropped connection is connected again. Off by default.
    pub reconnect: ReconnectConfig,
    /// The proxy to go through (HTTP `CONNECT` or SOCKS5). Default
    /// [`ProxySetting::FromEnvironment`].
    pub proxy: ProxySetting,
    /// Time allowed for the TCP connect (to the server, or to the proxy), all addresses raced
    /// together (happy eyeballs); the handshake timeout still bounds the whole handshake.
    /// Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Duration,
    /// Offer permessage-deflate (RFC 7692), as browsers do: when the server accepts, messages
    /// from [`MIN_COMPRESSED_MESSAGE_BYTES`](crate::MIN_COMPRESSED_MESSAGE_BYTES) on are sent
    /// compressed and compressed messages are inflated, unseen by the game. Default `true`.
    pub compression: bool,
    /// Time between the pings the I/O thread sends while the connection is open; each pong
    /// updates the smoothed round-trip time. Zero turns the heartbeat off.
    /// Default [`DEFAULT_HEARTBEAT_INTERVAL`].
    pub heartbeat_interval: Duration,
    /// With the heartbeat on: time allowed after a ping for anything at all (a pong or any other
    /// frame) to arrive before the connection is dropped as lost ([`Error::HeartbeatTimeout`],
    /// unclean close). It does not run while reading is paused by
    /// [`Config::inbound_queue_limit`]. Zero: never time out, only measure the round trip.
    /// Default [`DEFAULT_HEARTBEAT_TIMEOUT`].
    ///
    /// [`Error::HeartbeatTimeout`]: crate::Error::HeartbeatTimeout
    pub heartbeat_timeout: Duration,
    /// Join a server of Godot's `WebSocketMultiplayerPeer`: the server's first message is then
    /// the client's peer id, reported as [`Event::PeerIdAssigned`] and not queued as a message;
    /// a server that sends none within [`Config::handshake_timeout`] of the opening, or sends
    /// something else, fails the connection ([`Event::MultiplayerHandshakeFailed`]). Never
    /// reconnects (the server would assign a new id). Default `false`.
    ///
    /// [`Event::PeerIdAssigned`]: crate::Event::PeerIdAssigned
    /// [`Event::MultiplayerHandshakeFailed`]: crate::Event::MultiplayerHandshakeFailed
    pub godot_multiplayer: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            inbound_queue_limit: DEFAULT_INBOUND_QUEUE_LIMIT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            tls: TlsConfig::default(),
            reconnect: ReconnectConfig::default(),
            proxy: ProxySetting::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            compression: true,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            heartbeat_timeout: DEFAULT_HEARTBEAT_TIMEOUT,
            godot_multiplayer: false,
        }
    }
}

impl Config {
    /// Sets [`Config::max_message_size`].
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`Config::inbound_queue_limit`].
    pub fn with_inbound_queue_limit(mut self, bytes: usize) -> Self {
        self.inbound_queue_limit = bytes;
        self
    }

    /// Sets [`Config::handshake_timeout`].
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`Config::close_timeout`].
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`Config::tls`].
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }

    /// Sets [`Config::reconnect`].
    pub fn with_reconnect(mut self, reconnect: ReconnectConfig) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// Sets [`Config::godot_multiplayer`].
    pub fn with_godot_multiplayer(mut self, enabled: bool) -> Self {
        self.godot_multiplayer = enabled;
        self
    }

    /// Sets [`Config::proxy`].
    pub fn with_proxy(mut self, proxy: ProxySetting) -> Self {
        self.proxy = proxy;
        self
    }

    /// Sets [`Config::connect_timeout`].
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`Config::compression`].
    pub fn with_compression(mut self, compression: bool) -> Self {
        self.compression = compression;
        self
    }

    /// Sets [`Config::heartbeat_interval`].
    pub fn with_heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// Sets [`Config::heartbeat_timeout`].
    pub fn with_heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = timeout;
        self
    }
}

/// How a `wss://` server's certificate is checked.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TlsConfig {
    /// Check the server's certificate chain and name. When `false`, any certificate is accepted
    /// (for development only). Default `true`.
    pub verify: bool,
    /// When not empty, these certificates (DER) are the only ones trusted, as with Godot's
    /// `TLSOptions.client(certificate)`: a server presenting one of them byte for byte is
    /// accepted when it is within its validity period and names the host (CA:TRUE and a host
    /// named only in the common name are fine, as mbedTLS has it), and any other server needs a
    /// chain to one of them. When empty, the Mozilla roots from `webpki-roots` (and the system's
    /// store, see [`TlsConfig::system_trust_store`]) are trusted. Default empty.
    pub trusted_certificates: Vec<CertificateDer<'static>>,
    /// The name the server's certificate is checked for, when it differs from the URL's host
    /// (e.g. connecting to an IP address whose certificate names a host). Default `None`.
    pub server_name: Option<String>,
    /// With no [`TlsConfig::trusted_certificates`]: trust the operating system's certificate
    /// store as well as the Mozilla roots (as Godot 4.1+ does), so a root a company or the user
    /// installed works. Read once per process. Default `true`.
    pub system_trust_store: bool,
    /// The certificate and key to present when the server asks for one (mutual TLS). Default
    /// `None`.
    pub client_certificate: Option<ClientCertificate>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            verify: true,
            trusted_certificates: Vec::new(),
            server_name: None,
            system_trust_store: true,
            client_certificate: None,
        }
    }
}

impl TlsConfig {
    /// Sets [`TlsConfig::verify`].
    pub fn with_verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    /// Sets [`TlsConfig::server_name`].
    pub fn with_server_name(mut self, server_name: Option<String>) -> Self {
        self.server_name = server_name;
        self
    }

    /// Sets [`TlsConfig::system_trust_store`].
    pub fn with_system_trust_store(mut self, system_trust_store: bool) -> Self {
        self.system_trust_store = system_trust_store;
        self
    }

    /// Sets [`TlsConfig::client_certificate`].
    pub fn with_client_certificate(mut self, certificate: Option<ClientCertificate>) -> Self {
        self.client_certificate = certificate;
        self
    }

    /// Sets [`TlsConfig::trusted_certificates`].
    pub fn with_trusted_certificates(mut self, certificates: Vec<CertificateDer<'static>>) -> Self {
        self.trusted_certificates = certificates;
        self
    }
}

/// Parses every certificate in a PEM text (e.g. what Godot's `X509Certificate.save_to_string()`
/// returns for a chain). Fails when the text holds none or one is malformed.
pub fn parse_pem_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the certificate is not valid PEM: {e}"))?;
    if certificates.is_empty() {
        return Err("the certificate holds no PEM certificate".into());
    }
    Ok(certificates)
}
