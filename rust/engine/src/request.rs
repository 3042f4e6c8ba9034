//! What to connect to: the URL, the sub-protocols offered and extra upgrade headers, validated
//! before anything touches the network.

use std::net::SocketAddr;

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::Request;
use tungstenite::http::header::{HeaderName, HeaderValue};
use url::{Host, Url};

use crate::dialer::addresses_without_resolver;
use crate::proxy::Proxy;
use crate::Error;

/// Headers the WebSocket handshake sets itself; a custom header may not replace them.
const HANDSHAKE_HEADERS: [&str; 6] = [
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
];

/// A validated connection target. Building one never blocks and never touches the network.
#[derive(Clone, Debug)]
pub struct ConnectRequest {
    url: Url,
    host: String,
    port: u16,
    secure: bool,
    protocols: Vec<String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The proxy chosen when the connection starts.
    proxy: Option<Proxy>,
    /// The server's address, for a proxy that is given addresses (`socks5://`): resolved by
    /// the connection, or the URL's IP address (`localhost`: `::1`, as a direct connection
    /// tries first).
    server_address: Option<SocketAddr>,
}

impl ConnectRequest {
    /// Parses and checks a `ws://` or `wss://` URL.
    pub fn new(url: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parsed = Url::parse(url.trim()).map_err(|e| invalid(&e.to_string()))?;
        let secure = match parsed.scheme() {
            "ws" => false,
            "wss" => true,
            other => {
                return Err(Error::UnsupportedScheme {
                    scheme: other.to_owned(),
                })
            }
        };
        let host = match parsed.host() {
            Some(Host::Domain(domain)) if !domain.is_empty() => domain.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(invalid("it has no host")),
        };
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| invalid("it has no port"))?;
        // Fragments are never sent (RFC 6455 section 3).
        parsed.set_fragment(None);
        Ok(Self {
            url: parsed,
            host,
            port,
            secure,
            protocols: Vec::new(),
            headers: Vec::new(),
            proxy: None,
            server_address: None,
        })
    }

    /// Offers these sub-protocols, in order of preference, in `Sec-WebSocket-Protocol`.
    pub fn with_protocols<I, S>(mut self, protocols: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for protocol in protocols {
            let protocol = protocol.into();
            if protocol.is_empty() || !protocol.bytes().all(is_token_byte) {
                return Err(Error::InvalidProtocol { protocol });
            }
            self.protocols.push(protocol);
        }
        Ok(self)
    }

    /// Adds a header line `Name: value` to the upgrade request.
    pub fn with_header_line(mut self, line: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidHeader {
            line: line.to_owned(),
            reason: reason.to_owned(),
        };
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid("expected \"Name: value\""))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| invalid("the name is not a valid HTTP header name"))?;
        if HANDSHAKE_HEADERS.contains(&name.as_str()) {
            return Err(invalid(
                "this header is set by the WebSocket handshake itself",
            ));
        }
        let value = value.trim();
        if !value
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        {
            return Err(invalid(
                "the value must be printable ASCII without line breaks",
            ));
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| invalid("the value is not a valid HTTP header value"))?;
        self.headers.push((name, value));
        Ok(self)
    }

    /// The URL as it will be requested.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The host name or IP address from the URL, without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port from the URL, or 80 / 443 by default.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the URL is `wss://`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The sub-protocols offered.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The proxy the connection goes through, once chosen.
    pub(crate) fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    /// Sends the connection through `proxy`.
    pub(crate) fn set_proxy(&mut self, proxy: Option<Proxy>) {
        self.server_address = proxy
            .as_ref()
            .filter(|proxy| proxy.wants_server_address())
            .and_then(|_| addresses_without_resolver(&self.host, self.port))
            .and_then(|addresses| addresses.first().copied());
        self.proxy = proxy;
    }

    /// The server's name and port when the proxy is to be given its address and it has not
    /// been resolved yet.
    pub(crate) fn server_to_resolve(&self) -> Option<(String, u16)> {
        let wants_address = self.proxy.as_ref().is_some_and(Proxy::wants_server_address);
        (wants_address && self.server_address.is_none()).then(|| (self.host.clone(), self.port))
    }

    /// The server's address, once known (see [`ConnectRequest::server_to_resolve`]).
    pub(crate) fn server_address(&self) -> Option<SocketAddr> {
        self.server_address
    }

    /// Records the server's address the resolver answered.
    pub(crate) fn set_server_address(&mut self, address: SocketAddr) {
        self.server_address = Some(address);
    }

    /// The HTTP upgrade request tungstenite sends.
    pub(crate) fn to_http_request(&self) -> Result<Request, Error> {
        let mut request =
            self.url
                .as_str()
                .into_client_request()
                .map_err(|e| Error::InvalidUrl {
                    url: self.url.to_string(),
                    reason: e.to_string(),
                })?;
        let headers = request.headers_mut();
        if !self.protocols.is_empty() {
            let offered = HeaderValue::from_str(&self.protocols.join(", "))
                .expect("protocols are HTTP tokens");
            headers.insert("sec-websocket-protocol", offered);
        }
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        Ok(request)
    }
}

/// Whether `byte` may appear in an HTTP token (RFC 7230 section 3.2.6).
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ws_and_wss_with_default_ports() {
        let plain = ConnectRequest::new("ws://example.com/chat#frag").unwrap();
        assert_eq!(
            (plain.host(), plain.port(), plain.is_secure()),
            ("example.com", 80, false)
        );
        assert_eq!(plain.url(), "ws://example.com/chat");
        let secure = ConnectRequest::new("wss://[::1]:9443").unwrap();
        assert_eq!(
            (secure.host(), secure.port(), secure.is_secure()),
            ("::1", 9443, true)
        );
    }

    #[test]
    fn refuses_bad_urls_with_a_reason() {
        let err = ConnectRequest::new("http://example.com")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "unsupported URL scheme \"http\": use ws:// or wss://");
        assert!(ConnectRequest::new("not a url")
            .unwrap_err()
            .to_string()
            .starts_with("invalid URL"));
        assert!(ConnectRequest::new("ws://").is_err());
    }

    #[test]
    fn refuses_header_injection_and_handshake_headers() {
        let base = ConnectRequest::new("ws://localhost").unwrap();
        assert!(base.clone().with_header_line("X-Token: abc").is_ok());
        assert!(base
            .clone()
            .with_header_line("X-Token: a\r\nEvil: 1")
            .is_err());
        assert!(base.clone().with_header_line("no colon").is_err());
        assert!(base
            .clone()
            .with_header_line("Sec-WebSocket-Key: x")
            .is_err());
        assert!(base.clone().with_header_line("X-Name: caf\u{e9}").is_err());
    }

    #[test]
    fn refuses_protocols_with_separators() {
        let base = ConnectRequest::new("ws://localhost").unwrap();
        assert!(base.clone().with_protocols(["chat.v1", "json"]).is_ok());
        assert!(base.clone().with_protocols(["a, b"]).is_err());
        assert!(base.with_protocols([""]).is_err());
    }
}
