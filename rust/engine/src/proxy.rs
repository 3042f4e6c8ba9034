//! Proxies: which proxy a connection goes through (a setting, or the usual environment
//! variables with `NO_PROXY`), and the way through it: an HTTP `CONNECT` tunnel (its request
//! and the proxy's answer here) or a SOCKS5 handshake (see `socks.rs`).

use std::io::{self, Read, Write};

use url::{Host, Url};

use crate::dialer::is_localhost_name;
use crate::socks::{SocksHandshake, SocksTarget, MAX_FIELD_BYTES};
use crate::{ConnectRequest, Error};

/// Most bytes of the proxy's answer to `CONNECT` (status line and headers) that are read; a
/// longer answer fails the connection instead of growing a buffer without bound.
pub const MAX_PROXY_RESPONSE_BYTES: usize = 8 * 1024;

/// The port of a SOCKS proxy whose URL names none (RFC 1928).
const DEFAULT_SOCKS_PORT: u16 = 1080;

/// Which proxy connections go through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxySetting {
    /// Connect directly to the server.
    Direct,
    /// Follow the environment, read at each connect: `HTTPS_PROXY` for `wss://`, `HTTP_PROXY`
    /// for `ws://`, then `ALL_PROXY` for both (the lowercase names win when both are set, as in
    /// curl), except for hosts listed in `NO_PROXY` and for loopback hosts (`localhost`,
    /// `*.localhost`, 127.0.0.0/8, `::1`), which are always reached directly (as Go's
    /// `net/http` does). The default.
    #[default]
    FromEnvironment,
    /// Every connection goes through this proxy: an HTTP `CONNECT` proxy, e.g.
    /// `http://user:password@proxy.lan:3128` (`http://` is assumed when the scheme is missing;
    /// the port defaults to 80), or a SOCKS5 proxy, `socks5://` (this client resolves the
    /// server's name) or `socks5h://` (the proxy resolves it), with an optional user name and
    /// password (RFC 1929; the port defaults to 1080).
    Url(String),
}

/// How a connection gets through a proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProxyProtocol {
    /// An HTTP `CONNECT` tunnel; the proxy resolves the server's name.
    HttpConnect,
    /// A SOCKS5 `CONNECT`; `proxy_resolves` (`socks5h://`) sends the server's name, otherwise
    /// its address, resolved here.
    Socks5 { proxy_resolves: bool },
}

/// A proxy chosen for one connection.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    protocol: ProxyProtocol,
    host: String,
    port: u16,
    /// The user name and password from the proxy URL, percent-decoded.
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for Proxy {
    // Never shows the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Proxy({:?} {})", self.protocol, self.address())
    }
}

impl Proxy {
    /// Parses a proxy URL; `origin` names where it came from in the error (never its text,
    /// which may hold a password).
    pub(crate) fn parse(text: &str, origin: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidProxy {
            origin: origin.to_owned(),
            reason: reason.to_owned(),
        };
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("http://{text}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
        let protocol = match url.scheme() {
            "http" => ProxyProtocol::HttpConnect,
            "socks5" => ProxyProtocol::Socks5 {
                proxy_resolves: false,
            },
            "socks5h" => ProxyProtocol::Socks5 {
                proxy_resolves: true,
            },
            other => {
                return Err(invalid(&format!(
                    "\"{other}://\" proxies are not supported, only http:// (HTTP CONNECT), \
                     socks5:// and socks5h:// proxies"
                )))
            }
        };
        let host = match url.host() {
            Some(Host::Domain(domain)) if !domain.is_empty() => domain.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(invalid("it has no host")),
        };
        let port = url.port_or_known_default().unwrap_or(match protocol {
            ProxyProtocol::HttpConnect => 80,
            ProxyProtocol::Socks5 { .. } => DEFAULT_SOCKS_PORT,
        });
        let decode = |part: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .map(|decoded| decoded.into_owned())
                .map_err(|_| invalid("the user name or password is not valid UTF-8"))
        };
        let credentials = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            Some((
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ))
        };
        let too_long = credentials.as_ref().is_some_and(|(user, password)| {
            user.len() > MAX_FIELD_BYTES || password.len() > MAX_FIELD_BYTES
        });
        if too_long && protocol != ProxyProtocol::HttpConnect {
            return Err(invalid(&format!(
                "a SOCKS5 user name and password are each at most {MAX_FIELD_BYTES} bytes long"
            )));
        }
        Ok(Self {
            protocol,
            host,
            port,
            credentials,
        })
    }

    /// The proxy's host name or IP address, without brackets.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, for messages: never the credentials.
    pub(crate) fn address(&self) -> String {
        host_port(&self.host, self.port)
    }

    /// Whether the proxy is given the server's address, which this client resolves first
    /// (`socks5://`), rather than its name.
    pub(crate) fn wants_server_address(&self) -> bool {
        self.protocol
            == ProxyProtocol::Socks5 {
                proxy_resolves: false,
            }
    }

    /// The `Proxy-Authorization` value of an HTTP proxy, from the user name and password.
    fn authorization(&self) -> Option<String> {
        self.credentials.as_ref().map(|(user, password)| {
            format!(
                "Basic {}",
                data_encoding::BASE64.encode(format!("{user}:{password}").as_bytes())
            )
        })
    }
}

/// The proxy `request` goes through under `setting`, reading the environment now.
pub(crate) fn choose(
    setting: &ProxySetting,
    request: &ConnectRequest,
) -> Result<Option<Proxy>, Error> {
    match setting {
        ProxySetting::Direct => Ok(None),
        ProxySetting::Url(url) if url.trim().is_empty() => Ok(None),
        ProxySetting::Url(url) => Proxy::parse(url, "the proxy setting").map(Some),
        ProxySetting::FromEnvironment => from_environment(request, |name| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
        }),
    }
}

/// The proxy the environment (as `lookup` reads it) names for `request`.
fn from_environment(
    request: &ConnectRequest,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, Error> {
    if is_loopback(request.host()) {
        return Ok(None);
    }
    let names: [&str; 4] = if request.is_secure() {
        ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
    };
    let Some((name, url)) = names
        .into_iter()
        .find_map(|name| lookup(name).map(|url| (name, url)))
    else {
        return Ok(None);
    };
    let no_proxy = lookup("no_proxy").or_else(|| lookup("NO_PROXY"));
    if no_proxy.is_some_and(|list| is_excluded(&list, request.host(), request.port())) {
        return Ok(None);
    }
    Proxy::parse(&url, name).map(Some)
}

/// Whether `host` is on this machine: such hosts never go through a proxy from the environment.
fn is_loopback(host: &str) -> bool {
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => is_localhost_name(host),
    }
}

/// Whether a `NO_PROXY` list excludes `host` (on `port`). Entries are separated by commas: `*`
/// (every host), a domain (it and its subdomains, with or without a leading dot, as curl does),
/// an IP address, each optionally with `:port`.
fn is_excluded(no_proxy: &str, host: &str, port: u16) -> bool {
    let host = normalize_host(host);
    no_proxy.split(',').any(|entry| {
        let entry = entry.trim();
        if entry == "*" {
            return true;
        }
        let (name, entry_port) = split_port(entry);
        if entry_port.is_some_and(|entry_port| entry_port != port) {
            return false;
        }
        let name = normalize_host(name);
        let name = name.trim_start_matches('.');
        !name.is_empty()
            && (host == name
                || host
                    .strip_suffix(name)
                    .is_some_and(|prefix| prefix.ends_with('.')))
    })
}

/// `entry` split into host and port when it ends with `:port` (IPv6 addresses in brackets).
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((ip, after)) = rest.split_once(']') {
            return (ip, after.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match entry.rsplit_once(':') {
        // More than one colon without brackets: a bare IPv6 address.
        Some((name, port)) if !name.contains(':') => match port.parse() {
            Ok(port) => (name, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

/// Lowercase, without a trailing dot, IP addresses in their canonical form.
fn normalize_host(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host,
    }
}

/// `host:port`, with brackets around an IPv6 address.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The way through a proxy to the server, from connected to the proxy until the server is
/// reached.
pub(crate) enum Tunnel {
    HttpConnect(ConnectTunnel),
    Socks5(SocksHandshake),
}

impl Tunnel {
    /// The way through `proxy` to the server of `request`.
    pub(crate) fn new(proxy: &Proxy, request: &ConnectRequest) -> Self {
        let (host, port) = (request.host(), request.port());
        match proxy.protocol {
            ProxyProtocol::HttpConnect => Self::HttpConnect(ConnectTunnel::new(proxy, host, port)),
            ProxyProtocol::Socks5 { .. } => {
                // Only known for `socks5://`, which resolves the name here.
                let target = match request.server_address() {
                    Some(address) => SocksTarget::Address(address),
                    None => SocksTarget::for_host(host, port),
                };
                Self::Socks5(SocksHandshake::new(
                    proxy.address(),
                    target,
                    proxy.credentials.clone(),
                ))
            }
        }
    }

    /// Goes on as far as `stream` allows: `Ok(true)` once the server is reached, `Ok(false)`
    /// while waiting for the socket.
    pub(crate) fn advance(&mut self, stream: &mut (impl Read + Write)) -> Result<bool, Error> {
        match self {
            Self::HttpConnect(tunnel) => tunnel.advance(stream),
            Self::Socks5(handshake) => handshake.advance(stream),
        }
    }

    /// The step in progress, for the handshake timeout's error.
    pub(crate) fn stage(&self) -> &'static str {
        match self {
            Self::HttpConnect(_) => "the proxy's CONNECT",
            Self::Socks5(_) => "the SOCKS5 handshake with the proxy",
        }
    }
}

/// A `CONNECT` request on its way to an HTTP proxy, then the proxy's answer being read.
pub(crate) struct ConnectTunnel {
    proxy: String,
    target: String,
    sent_credentials: bool,
    request: Vec<u8>,
    written: usize,
    response: Vec<u8>,
}

impl ConnectTunnel {
    /// A tunnel through `proxy` to `host:port`, named (not resolved) so the proxy resolves it.
    fn new(proxy: &Proxy, host: &str, port: u16) -> Self {
        let target = host_port(host, port);
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        let authorization = proxy.authorization();
        if let Some(authorization) = &authorization {
            request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
        }
        request.push_str("\r\n");
        Self {
            proxy: proxy.address(),
            target,
            sent_credentials: authorization.is_some(),
            request: request.into_bytes(),
            written: 0,
            response: Vec::new(),
        }
    }

    /// Writes the request and reads the answer as far as `stream` allows: `Ok(true)` once the
    /// proxy opened the tunnel, `Ok(false)` while waiting for the socket.
    pub(crate) fn advance(&mut self, stream: &mut (impl Read + Write)) -> Result<bool, Error> {
        while self.written < self.request.len() {
            match stream.write(&self.request[self.written..]) {
                Ok(0) => return Err(self.lost(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.lost(e)),
            }
        }
        let mut buffer = [0u8; 1024];
        loop {
            if let Some(end) = find_head_end(&self.response) {
                return self.answer(end);
            }
            if self.response.len() >= MAX_PROXY_RESPONSE_BYTES {
                return Err(self.invalid(format!(
                    "its response headers are longer than {MAX_PROXY_RESPONSE_BYTES} bytes"
                )));
            }
            let room = (MAX_PROXY_RESPONSE_BYTES - self.response.len()).min(buffer.len());
            match stream.read(&mut buffer[..room]) {
                Ok(0) => {
                    return Err(
                        self.invalid("it closed the connection before answering CONNECT".into())
                    )
                }
                Ok(n) => self.response.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.lost(e)),
            }
        }
    }

    /// Reads the status of the complete answer head ending at `end`.
    fn answer(&self, end: usize) -> Result<bool, Error> {
        let head = String::from_utf8_lossy(&self.response[..end]);
        let status_line = head.lines().next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let status = parts.next().and_then(|code| code.parse::<u16>().ok());
        let reason = parts.next().unwrap_or_default().trim().to_owned();
        let Some(status) = status.filter(|_| version.starts_with("HTTP/1.")) else {
            return Err(self.invalid(format!(
                "its status line is \"{}\"",
                status_line.escape_debug()
            )));
        };
        if !(200..300).contains(&status) {
            return Err(Error::ProxyRefused {
                proxy: self.proxy.clone(),
                target: self.target.clone(),
                status,
                reason,
                sent_credentials: self.sent_credentials,
            });
        }
        if self.response.len() > end {
            // The server speaks only after the client, so these bytes came from the proxy.
            return Err(self.invalid("it sent data after its response".into()));
        }
        Ok(true)
    }

    fn invalid(&self, detail: String) -> Error {
        Error::ProxyResponse {
            proxy: self.proxy.clone(),
            detail,
        }
    }

    fn lost(&self, error: io::Error) -> Error {
        self.invalid(format!("the connection failed: {error}"))
    }
}

/// The length of an HTTP head (through its blank line), once `bytes` hold all of it.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_proxy(url: &str, vars: &[(&str, &str)]) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let request = ConnectRequest::new(url).unwrap();
        from_environment(&request, |name| vars.get(name).cloned())
            .unwrap()
            .map(|proxy| proxy.address())
    }

    #[test]
    fn the_scheme_picks_the_variable_and_lowercase_wins() {
        let vars = [
            ("HTTP_PROXY", "plain.lan:3128"),
            ("https_proxy", "http://secure.lan:8080"),
            ("HTTPS_PROXY", "http://upper.lan:8080"),
        ];
        assert_eq!(
            env_proxy("ws://game.example", &vars).as_deref(),
            Some("plain.lan:3128")
        );
        assert_eq!(
            env_proxy("wss://game.example", &vars).as_deref(),
            Some("secure.lan:8080")
        );
        assert_eq!(env_proxy("wss://game.example", &vars[..1]), None);
    }

    #[test]
    fn all_proxy_comes_after_the_schemes_variable_and_no_proxy_applies() {
        let vars = [
            ("ALL_PROXY", "socks5h://upper.lan"),
            ("all_proxy", "socks5://lower.lan:9050"),
            ("HTTPS_PROXY", "http://secure.lan:8080"),
        ];
        assert_eq!(
            env_proxy("ws://game.example", &vars).as_deref(),
            Some("lower.lan:9050")
        );
        assert_eq!(
            env_proxy("wss://game.example", &vars).as_deref(),
            Some("secure.lan:8080")
        );
        assert_eq!(
            env_proxy("ws://game.example", &vars[..1]).as_deref(),
            Some("upper.lan:1080")
        );
        let excluded = [
            ("ALL_PROXY", "socks5h://upper.lan"),
            ("NO_PROXY", "example"),
        ];
        assert_eq!(env_proxy("ws://game.example", &excluded), None);
        assert_eq!(env_proxy("ws://localhost", &vars), None);
    }

    #[test]
    fn socks_urls_say_who_resolves_and_keep_the_credentials() {
        let local = Proxy::parse("socks5://al%40ice:s%3Acret@[::1]", "test").unwrap();
        assert_eq!(local.address(), "[::1]:1080");
        assert!(local.wants_server_address());
        assert_eq!(
            local.credentials,
            Some(("al@ice".to_owned(), "s:cret".to_owned()))
        );
        assert!(!format!("{local:?}").contains("cret"));
        let remote = Proxy::parse("SOCKS5H://proxy.lan:9050", "test").unwrap();
        assert!(!remote.wants_server_address());
        assert_eq!(remote.credentials, None);
        let long = format!("socks5://me:{}@proxy.lan", "p".repeat(256));
        let error = Proxy::parse(&long, "test").unwrap_err().to_string();
        assert_eq!(
            error,
            "invalid proxy URL in test: a SOCKS5 user name and password are each at most 255 \
             bytes long"
        );
    }

    #[test]
    fn loopback_hosts_never_use_the_environment() {
        let vars = [("HTTP_PROXY", "proxy.lan:3128")];
        for url in [
            "ws://localhost:9000",
            "ws://LocalHost.:9000",
            "ws://game.localhost",
            "ws://127.0.0.2",
            "ws://[::1]:80",
        ] {
            assert_eq!(env_proxy(url, &vars), None, "{url}");
        }
        assert!(env_proxy("ws://10.0.0.1", &vars).is_some());
    }

    #[test]
    fn no_proxy_matches_domains_ips_ports_and_star() {
        assert!(is_excluded("*", "anything.example", 80));
        assert!(is_excluded("example.com", "example.com", 80));
        assert!(is_excluded("example.com", "game.example.com", 80));
        assert!(is_excluded(" .example.com ", "game.EXAMPLE.com.", 80));
        assert!(is_excluded(".example.com", "example.com", 80));
        assert!(!is_excluded("example.com", "badexample.com", 80));
        assert!(!is_excluded("", "example.com", 80));
        assert!(is_excluded("other.lan, 10.1.2.3", "10.1.2.3", 443));
        assert!(is_excluded("example.com:443", "example.com", 443));
        assert!(!is_excluded("example.com:443", "example.com", 80));
        assert!(is_excluded("2001:db8::1", "2001:db8:0::1", 80));
        assert!(is_excluded("[2001:db8::1]:80", "2001:db8::1", 80));
        assert!(!is_excluded("[2001:db8::1]:80", "2001:db8::1", 81));
    }

    #[test]
    fn proxy_urls_give_host_port_and_basic_credentials() {
        let proxy = Proxy::parse("http://al%40ice:s%3Acret@proxy.lan:3128/", "test").unwrap();
        assert_eq!(proxy.address(), "proxy.lan:3128");
        // base64("al@ice:s:cret")
        assert_eq!(
            proxy.authorization().as_deref(),
            Some("Basic YWxAaWNlOnM6Y3JldA==")
        );
        assert!(!format!("{proxy:?}").contains("cret"));
        let bare = Proxy::parse("[::1]:8080", "test").unwrap();
        assert_eq!((bare.host(), bare.port()), ("::1", 8080));
        assert_eq!(bare.address(), "[::1]:8080");
        assert_eq!(Proxy::parse("http://proxy.lan", "test").unwrap().port(), 80);
    }

    #[test]
    fn unsupported_proxies_are_refused_without_showing_the_url() {
        let error = Proxy::parse("socks4://user:hunter2@proxy.lan:1080", "ALL_PROXY")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "invalid proxy URL in ALL_PROXY: \"socks4://\" proxies are not supported, only \
             http:// (HTTP CONNECT), socks5:// and socks5h:// proxies"
        );
        assert!(Proxy::parse("http://", "test").is_err());
    }

    /// A byte stream that hands out `input` in pieces of `piece` bytes, then would block.
    pub(crate) struct Scripted {
        pub(crate) input: Vec<u8>,
        pub(crate) piece: usize,
        pub(crate) written: Vec<u8>,
    }

    impl Read for Scripted {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.input.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = self.piece.min(buf.len()).min(self.input.len());
            buf[..n].copy_from_slice(&self.input[..n]);
            self.input.drain(..n);
            Ok(n)
        }
    }

    impl Write for Scripted {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn tunnel_through(answer: &[u8], proxy_url: &str) -> (Result<bool, Error>, String) {
        let proxy = Proxy::parse(proxy_url, "test").unwrap();
        let mut tunnel = ConnectTunnel::new(&proxy, "::1", 443);
        let mut stream = Scripted {
            input: answer.to_vec(),
            piece: 7,
            written: Vec::new(),
        };
        let result = tunnel.advance(&mut stream);
        (result, String::from_utf8(stream.written).unwrap())
    }

    #[test]
    fn a_tunnel_sends_connect_and_accepts_any_2xx() {
        let (result, sent) = tunnel_through(
            b"HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n",
            "http://u:p@proxy.lan:3128",
        );
        assert!(result.unwrap());
        assert_eq!(
            sent,
            "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\
             Proxy-Authorization: Basic dTpw\r\n\r\n"
        );
        let (partial, _) = tunnel_through(b"HTTP/1.0 200 OK\r\n", "proxy.lan:1");
        assert!(!partial.unwrap(), "waits for the rest of the head");
    }

    #[test]
    fn a_tunnel_reports_refusals_and_bad_answers() {
        let (result, _) = tunnel_through(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
            "http://u:hunter2@proxy.lan:3128",
        );
        let text = result.unwrap_err().to_string();
        assert_eq!(
            text,
            "proxy proxy.lan:3128 refused the tunnel to [::1]:443 with HTTP 407 Proxy \
             Authentication Required: it did not accept the user name and password of the proxy URL"
        );
        let (result, _) = tunnel_through(b"SSH-2.0-OpenSSH\r\n\r\n", "proxy.lan:1");
        assert!(result
            .unwrap_err()
            .to_string()
            .starts_with("proxy proxy.lan:1 gave an invalid answer to CONNECT"));
        let endless = vec![b'x'; MAX_PROXY_RESPONSE_BYTES * 2];
        let (result, _) = tunnel_through(&endless, "proxy.lan:1");
        assert!(result
            .unwrap_err()
            .to_string()
            .ends_with("its response headers are longer than 8192 bytes"));
    }
}
