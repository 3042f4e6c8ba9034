//! The SOCKS5 handshake (RFC 1928) with user name and password authentication (RFC 1929), run
//! over a connected non-blocking socket: written and read as far as the socket allows, then
//! resumed on the next readiness.
//!
//! Hand-written: the crates that speak SOCKS5 (tokio-socks, fast-socks5, socks) drive their own
//! blocking or async sockets, and the protocol is four short messages.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};

use crate::Error;

/// The protocol version byte of every SOCKS5 message.
const VERSION: u8 = 5;
/// The version byte of the user name and password sub-negotiation (RFC 1929).
const AUTH_VERSION: u8 = 1;
/// Authentication methods (RFC 1928 section 3).
const METHOD_NONE: u8 = 0;
const METHOD_PASSWORD: u8 = 2;
const NO_ACCEPTABLE_METHOD: u8 = 0xff;
/// The `CONNECT` command and the address types of a request or reply.
const COMMAND_CONNECT: u8 = 1;
const ADDRESS_IPV4: u8 = 1;
const ADDRESS_NAME: u8 = 3;
const ADDRESS_IPV6: u8 = 4;
/// Longest user name, password and host name a SOCKS5 message can carry (a length byte).
pub(crate) const MAX_FIELD_BYTES: usize = 255;

/// Where the proxy is asked to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SocksTarget {
    /// A host name the proxy resolves (`socks5h://`).
    Name(String, u16),
    /// An address (`socks5://`, where the client resolved the name, or an IP address in the URL).
    Address(SocketAddr),
}

impl SocksTarget {
    /// A name, or an address when `host` is an IP address.
    pub(crate) fn for_host(host: &str, port: u16) -> Self {
        match host.parse::<IpAddr>() {
            Ok(ip) => Self::Address(SocketAddr::new(ip, port)),
            Err(_) => Self::Name(host.to_owned(), port),
        }
    }

    /// `host:port`, for messages.
    fn describe(&self) -> String {
        match self {
            Self::Name(host, port) => format!("{host}:{port}"),
            Self::Address(addr) => addr.to_string(),
        }
    }
}

/// The step of the handshake whose answer is awaited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// The method the proxy picked from those offered.
    MethodChoice,
    /// The verdict on the user name and password.
    Authentication,
    /// The reply to `CONNECT`.
    ConnectReply,
}

/// One SOCKS5 handshake: greeting, authentication when the proxy asks for it, then `CONNECT`.
pub(crate) struct SocksHandshake {
    /// The proxy's `host:port`, for errors (never the credentials).
    proxy: String,
    target: SocksTarget,
    credentials: Option<(String, String)>,
    step: Step,
    outgoing: Vec<u8>,
    written: usize,
    incoming: Vec<u8>,
}

impl SocksHandshake {
    /// A handshake with the proxy at `proxy` (`host:port`) for `target`, authenticating with
    /// `credentials` (user name, password) when the proxy asks.
    pub(crate) fn new(
        proxy: String,
        target: SocksTarget,
        credentials: Option<(String, String)>,
    ) -> Self {
        let methods: &[u8] = if credentials.is_some() {
            &[METHOD_NONE, METHOD_PASSWORD]
        } else {
            &[METHOD_NONE]
        };
        let mut greeting = vec![VERSION, methods.len() as u8];
        greeting.extend_from_slice(methods);
        Self {
            proxy,
            target,
            credentials,
            step: Step::MethodChoice,
            outgoing: greeting,
            written: 0,
            incoming: Vec::new(),
        }
    }

    /// Writes and reads as far as `stream` allows: `Ok(true)` once the proxy connected to the
    /// target, `Ok(false)` while waiting for the socket.
    pub(crate) fn advance(&mut self, stream: &mut (impl Read + Write)) -> Result<bool, Error> {
        loop {
            while self.written < self.outgoing.len() {
                match stream.write(&self.outgoing[self.written..]) {
                    Ok(0) => return Err(self.lost(io::ErrorKind::WriteZero.into())),
                    Ok(n) => self.written += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(self.lost(e)),
                }
            }
            let Some(wanted) = self.answer_length() else {
                return Err(self.invalid(format!(
                    "its reply has the unknown address type {}",
                    self.incoming[3]
                )));
            };
            while self.incoming.len() < wanted {
                let mut buffer = [0u8; 64];
                let room = (wanted - self.incoming.len()).min(buffer.len());
                match stream.read(&mut buffer[..room]) {
                    Ok(0) => {
                        return Err(
                            self.invalid(format!("it closed the connection {}", self.awaiting()))
                        )
                    }
                    Ok(n) => self.incoming.extend_from_slice(&buffer[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(self.lost(e)),
                }
            }
            // A reply's length shows only once its address type arrived.
            if self.answer_length() != Some(self.incoming.len()) {
                continue;
            }
            if self.take_answer()? {
                return finished(stream).map_err(|detail| self.invalid(detail));
            }
        }
    }

    /// What the current step waits for, for the error when the proxy hangs up.
    fn awaiting(&self) -> &'static str {
        match self.step {
            Step::MethodChoice => "instead of choosing an authentication method",
            Step::Authentication => "instead of answering the user name and password",
            Step::ConnectReply => "instead of answering CONNECT",
        }
    }

    /// The bytes the current answer takes, as far as they are known (`None`: a reply with an
    /// unknown address type).
    fn answer_length(&self) -> Option<usize> {
        match self.step {
            Step::MethodChoice | Step::Authentication => Some(2),
            Step::ConnectReply => match self.incoming.get(3) {
                None => Some(4),
                Some(&ADDRESS_IPV4) => Some(4 + 4 + 2),
                Some(&ADDRESS_IPV6) => Some(4 + 16 + 2),
                Some(&ADDRESS_NAME) => Some(
                    self.incoming
                        .get(4)
                        .map_or(5, |&length| 4 + 1 + usize::from(length) + 2),
                ),
                Some(_) => None,
            },
        }
    }

    /// Acts on a complete answer: the next request, or `true` once connected.
    fn take_answer(&mut self) -> Result<bool, Error> {
        let answer = std::mem::take(&mut self.incoming);
        if self.step != Step::Authentication && answer[0] != VERSION {
            return Err(self.invalid(format!(
                "it does not speak SOCKS5 (its answer starts with the byte {:#04x})",
                answer[0]
            )));
        }
        match self.step {
            Step::MethodChoice => match (answer[1], &self.credentials) {
                (METHOD_NONE, _) => self.send_connect()?,
                (METHOD_PASSWORD, Some((user, password))) => {
                    let mut request = vec![AUTH_VERSION, user.len() as u8];
                    request.extend_from_slice(user.as_bytes());
                    request.push(password.len() as u8);
                    request.extend_from_slice(password.as_bytes());
                    self.send(request, Step::Authentication);
                }
                (NO_ACCEPTABLE_METHOD, credentials) => {
                    return Err(Error::SocksNoAcceptableMethod {
                        proxy: self.proxy.clone(),
                        sent_credentials: credentials.is_some(),
                    })
                }
                (method, _) => {
                    return Err(self.invalid(format!(
                        "it chose the authentication method {method}, which was not offered"
                    )))
                }
            },
            Step::Authentication => match answer[1] {
                0 => self.send_connect()?,
                _ => {
                    return Err(Error::SocksAuthRefused {
                        proxy: self.proxy.clone(),
                    })
                }
            },
            Step::ConnectReply => match answer[1] {
                0 => return Ok(true),
                reply => {
                    return Err(Error::SocksRefused {
                        proxy: self.proxy.clone(),
                        target: self.target.describe(),
                        reply,
                    })
                }
            },
        }
        Ok(false)
    }

    /// Queues the `CONNECT` request for the target.
    fn send_connect(&mut self) -> Result<(), Error> {
        let mut request = vec![VERSION, COMMAND_CONNECT, 0];
        let port = match &self.target {
            SocksTarget::Address(addr) => {
                match addr.ip() {
                    IpAddr::V4(ip) => {
                        request.push(ADDRESS_IPV4);
                        request.extend_from_slice(&ip.octets());
                    }
                    IpAddr::V6(ip) => {
                        request.push(ADDRESS_IPV6);
                        request.extend_from_slice(&ip.octets());
                    }
                }
                addr.port()
            }
            SocksTarget::Name(host, port) => {
                if host.len() > MAX_FIELD_BYTES {
                    return Err(Error::Resolve {
                        host: host.clone(),
                        detail: format!(
                            "a SOCKS5 proxy takes names of at most {MAX_FIELD_BYTES} bytes"
                        ),
                    });
                }
                request.extend_from_slice(&[ADDRESS_NAME, host.len() as u8]);
                request.extend_from_slice(host.as_bytes());
                *port
            }
        };
        request.extend_from_slice(&port.to_be_bytes());
        self.send(request, Step::ConnectReply);
        Ok(())
    }

    fn send(&mut self, request: Vec<u8>, next: Step) {
        self.outgoing = request;
        self.written = 0;
        self.step = next;
    }

    fn invalid(&self, detail: String) -> Error {
        Error::SocksResponse {
            proxy: self.proxy.clone(),
            detail,
        }
    }

    fn lost(&self, error: io::Error) -> Error {
        self.invalid(format!("the connection failed: {error}"))
    }
}

/// Checks that nothing follows the proxy's last reply: the server speaks only after the client,
/// so such bytes came from the proxy.
fn finished(stream: &mut impl Read) -> Result<bool, String> {
    let mut extra = [0u8; 1];
    match stream.read(&mut extra) {
        Ok(0) => Err("it closed the connection right after connecting".into()),
        Ok(_) => Err("it sent data after its reply to CONNECT".into()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(true)
        }
        Err(e) => Err(format!("the connection failed: {e}")),
    }
}

/// The words for a SOCKS5 reply code other than success (RFC 1928 section 6).
pub(crate) fn reply_in_words(reply: u8) -> &'static str {
    match reply {
        1 => "general failure of the proxy (e.g. it could not resolve the name)",
        2 => "the proxy's rules do not allow this connection",
        3 => "the network is unreachable from the proxy",
        4 => "the host is unreachable from the proxy",
        5 => "the server refused the connection",
        6 => "no answer from the server in time (TTL expired)",
        7 => "the proxy does not support the CONNECT command",
        8 => "the proxy does not support this address type",
        _ => "an unknown reply code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::tests::Scripted;

    fn handshake(
        target: SocksTarget,
        credentials: Option<(&str, &str)>,
        answers: &[u8],
    ) -> (Result<bool, Error>, Vec<u8>) {
        let credentials = credentials.map(|(u, p)| (u.to_owned(), p.to_owned()));
        let mut handshake = SocksHandshake::new("proxy.lan:1080".into(), target, credentials);
        let mut stream = Scripted {
            input: answers.to_vec(),
            piece: 3,
            written: Vec::new(),
        };
        let result = handshake.advance(&mut stream);
        (result, stream.written)
    }

    #[test]
    fn a_name_is_sent_for_the_proxy_to_resolve_after_authenticating() {
        let (result, sent) = handshake(
            SocksTarget::for_host("game.example", 443),
            Some(("al", "pw")),
            b"\x05\x02\x01\x00\x05\x00\x00\x03\x04host\x01\xbb",
        );
        assert!(result.unwrap());
        assert_eq!(
            sent,
            b"\x05\x02\x00\x02\x01\x02al\x02pw\x05\x01\x00\x03\x0cgame.example\x01\xbb"
        );
    }

    #[test]
    fn addresses_are_sent_as_addresses_and_partial_replies_wait() {
        let target = SocksTarget::for_host("::1", 80);
        let (result, sent) = handshake(target.clone(), None, b"\x05\x00\x05\x00\x00\x04");
        assert!(!result.unwrap(), "waits for the rest of the reply");
        let mut expected = b"\x05\x01\x00\x05\x01\x00\x04".to_vec();
        expected.extend_from_slice(&[0; 15]);
        expected.extend_from_slice(&[1, 0, 80]);
        assert_eq!(sent, expected);
        let mut reply = b"\x05\x00\x05\x00\x00\x01".to_vec();
        reply.extend_from_slice(&[127, 0, 0, 1, 0, 80]);
        let (result, _) = handshake(SocksTarget::for_host("127.0.0.1", 80), None, &reply);
        assert!(result.unwrap());
    }

    #[test]
    fn refusals_and_bad_answers_are_sentences_without_the_password() {
        let target = || SocksTarget::for_host("game.example", 80);
        let text = |answers: &[u8], credentials| {
            handshake(target(), credentials, answers)
                .0
                .unwrap_err()
                .to_string()
        };
        let refused = text(b"\x05\x02\x01\x01", Some(("al", "hunter2")));
        assert_eq!(
            refused,
            "SOCKS5 proxy proxy.lan:1080 did not accept the user name and password of the proxy URL"
        );
        assert!(text(b"\x05\xff", None).contains("wants a user name and password"));
        assert_eq!(
            text(b"\x05\x00\x05\x05\x00\x01\0\0\0\0\0\0", None),
            "SOCKS5 proxy proxy.lan:1080 could not connect to game.example:80: the server \
             refused the connection (SOCKS reply 5)"
        );
        assert_eq!(
            text(b"HTTP/1.1 400 Bad Request\r\n\r\n", None),
            "SOCKS5 proxy proxy.lan:1080 gave an invalid answer: it does not speak SOCKS5 (its \
             answer starts with the byte 0x48)"
        );
        assert!(text(b"\x05\x02", None).ends_with("which was not offered"));
        assert!(text(b"\x05\x00\x05\x00\x00\x09", None).ends_with("unknown address type 9"));
    }
}
