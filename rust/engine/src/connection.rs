//! One connection's life on the I/O thread: resolve, TCP connect, TLS, HTTP upgrade, open,
//! close handshake. Every step is non-blocking and resumes when the socket is ready again.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Registry, Token};
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::http::HeaderValue;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{error::ProtocolError, error::SubProtocolError, WebSocket};

use crate::deflate::{self, InvalidCompressedData};
use crate::dialer::{addresses_without_resolver, DialFailure, Dialer, Dialing};
use crate::heartbeat::{Beat, Heartbeat};
use crate::link::{Incoming, Link, Outbound};
use crate::proxy::Tunnel;
use crate::transport::Transport;
use crate::{Bytes, Config, ConnectRequest, Error, HandshakeResponse, Message, Statistics};

/// Close code sent when the game frees a client that is still open ("going away").
const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code for "no status received", reported when the server's close frame had no code.
const CLOSE_NO_STATUS: u16 = 1005;
/// Outgoing messages are encoded and written this many bytes at a time (tungstenite's own write
/// buffer, for its control frames, flushes at the same size).
const WRITE_BATCH_BYTES: usize = 64 * 1024;
/// tungstenite's read buffer: what one read system call can take in. It is allocated (and
/// touched) for every connection, so it is the bulk of a connection's memory; 128 KiB reads
/// carry 1 MB messages about twice as fast as 16 KiB ones (`cargo xtask bench`), and still
/// leave a connection smaller than Godot's own peer.
const READ_BUFFER_BYTES: usize = 128 * 1024;

enum Phase {
    /// Waiting for the resolver.
    Resolving,
    /// TCP connects are in flight to the server's (or the proxy's) addresses.
    Connecting(Dialer),
    /// Connected to the proxy (at `peer`), which is asked to open a tunnel to the server.
    Tunneling {
        tcp: TcpStream,
        tunnel: Tunnel,
        peer: SocketAddr,
    },
    /// TLS and the HTTP upgrade are in flight.
    Upgrading {
        // Boxed: it holds the whole transport, far larger than the other phases.
        handshake: Box<MidHandshake<ClientHandshake<Transport>>>,
        peer: SocketAddr,
    },
    Open(Box<WebSocket<Transport>>),
    Finished,
}

/// How an open connection ended.
struct Ending {
    clean: bool,
    error: Option<Error>,
}

pub(crate) struct Connection {
    request: ConnectRequest,
    config: Config,
    link: Arc<Link>,
    phase: Phase,
    outbound: VecDeque<Outbound>,
    /// When the current step (handshake or close handshake) must be over.
    deadline: Option<Instant>,
    /// The wake-up the event loop was last asked for (the deadline or a dialing timer).
    scheduled_wake: Option<Instant>,
    /// The code of the close frame we sent, if any.
    close_sent: Option<u16>,
    /// The code and reason of the close frame the server sent, if any.
    close_received: Option<(u16, String)>,
    /// Pings while open, when the heartbeat is on.
    heartbeat: Option<Heartbeat>,
    /// Counted here and published to the link after each turn.
    statistics: Statistics,
}

impl Connection {
    pub(crate) fn new(request: ConnectRequest, config: Config, link: Arc<Link>) -> Self {
        Self {
            request,
            config,
            link,
            phase: Phase::Resolving,
            outbound: VecDeque::new(),
            deadline: None,
            scheduled_wake: None,
            close_sent: None,
            close_received: None,
            heartbeat: None,
            statistics: Statistics::default(),
        }
    }

    /// Starts the attempt. Returns the host and port to resolve when the host to dial (the
    /// server's, or the proxy's) is a name the resolver must answer.
    pub(crate) fn start(&mut self, registry: &Registry, id: u64) -> Option<(String, u16)> {
        self.set_deadline_after(self.config.handshake_timeout);
        let (host, port) = self.dial_target();
        match addresses_without_resolver(&host, port) {
            Some(addresses) => {
                self.connect(registry, id, addresses);
                None
            }
            None => Some((host, port)),
        }
    }

    /// The host and port the TCP connection goes to: the proxy's when there is one (the proxy
    /// resolves the server's name itself).
    fn dial_target(&self) -> (String, u16) {
        match self.request.proxy() {
            Some(proxy) => (proxy.host().to_owned(), proxy.port()),
            None => (self.request.host().to_owned(), self.request.port()),
        }
    }

    /// The resolver answered.
    pub(crate) fn resolved(
        &mut self,
        registry: &Registry,
        id: u64,
        addresses: io::Result<Vec<SocketAddr>>,
    ) {
        if !matches!(self.phase, Phase::Resolving) {
            return;
        }
        let (host, _) = self.dial_target();
        match addresses {
            Ok(addresses) if !addresses.is_empty() => self.connect(registry, id, addresses),
            Ok(_) => self.fail_dial(Error::Resolve {
                host,
                detail: "it has no address".into(),
            }),
            Err(error) => self.fail_dial(Error::Resolve {
                host,
                detail: resolve_detail(&error),
            }),
        }
    }

    /// Starts the TCP connects to `addresses` (happy eyeballs).
    fn connect(&mut self, registry: &Registry, id: u64, addresses: Vec<SocketAddr>) {
        let dialing = Dialer::start(
            addresses,
            registry,
            Token(id as usize),
            Instant::now(),
            self.config.connect_timeout,
        );
        self.dialed(dialing);
    }

    /// Moves on from a dialing step: keep waiting, go on over the connected socket, or fail.
    fn dialed(&mut self, dialing: Dialing) {
        match dialing {
            Dialing::InProgress(dialer) => self.phase = Phase::Connecting(dialer),
            Dialing::Connected { tcp, addr } => match self.request.proxy() {
                Some(proxy) => {
                    let tunnel = Tunnel::new(proxy, self.request.host(), self.request.port());
                    self.drive_tunnel(tcp, tunnel, addr);
                }
                None => self.start_upgrade(tcp, addr),
            },
            Dialing::Failed(failure) => {
                let (host, port) = self.dial_target();
                self.fail_dial(match failure {
                    DialFailure::AllFailed(attempts) => Error::Connect { host, attempts },
                    DialFailure::TimedOut(tried) => Error::ConnectTimeout {
                        host,
                        port,
                        timeout: self.config.connect_timeout,
                        tried,
                    },
                })
            }
        }
    }

    /// Fails with an error of resolving or connecting, saying it was the proxy's when it was.
    fn fail_dial(&mut self, error: Error) {
        let error = match self.request.proxy() {
            Some(proxy) => Error::ProxyConnect {
                proxy: proxy.address(),
                cause: Box::new(error),
            },
            None => error,
        };
        self.fail(error);
    }

    /// Tells the game the connection failed after code serving it panicked (its state is
    /// unknown, so the connection ends here; dropping it closes the socket).
    pub(crate) fn fail_after_panic(self, error: Error) {
        self.link.push(Incoming::Failed(error));
    }

    /// The URL the connection was asked for (the I/O thread's tests pick a connection by it).
    #[cfg(test)]
    pub(crate) fn url(&self) -> &str {
        self.request.url()
    }

    pub(crate) fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished)
    }

    /// The next wake-up to schedule (the deadline, a dialing timer or the heartbeat), if it
    /// changed since the last call.
    pub(crate) fn take_new_deadline(&mut self) -> Option<Instant> {
        let dial_timer = match &self.phase {
            Phase::Connecting(dialer) => dialer.next_timer(),
            _ => None,
        };
        let heartbeat = self
            .heartbeat
            .as_ref()
            .filter(|_| self.is_beating())
            .map(Heartbeat::next_wakeup);
        let wake = self
            .deadline
            .into_iter()
            .chain(dial_timer)
            .chain(heartbeat)
            .min();
        if wake == self.scheduled_wake {
            return None;
        }
        self.scheduled_wake = wake;
        wake
    }

    /// A scheduled wake-up came due at `at`: runs the dialing timers, then acts if the deadline
    /// has passed, else lets the heartbeat act.
    pub(crate) fn deadline_passed(&mut self, registry: &Registry, at: Instant) {
        if matches!(self.phase, Phase::Connecting(_)) {
            if let Phase::Connecting(dialer) = std::mem::replace(&mut self.phase, Phase::Finished) {
                self.dialed(dialer.advance(registry, at));
            }
        }
        if self.deadline.is_none_or(|deadline| deadline > at) {
            return self.beat(Instant::now());
        }
        match self.phase {
            Phase::Resolving
            | Phase::Connecting(_)
            | Phase::Tunneling { .. }
            | Phase::Upgrading { .. } => {
                let stage = match &self.phase {
                    Phase::Resolving => "name resolution",
                    Phase::Connecting(_) => "the TCP connect",
                    Phase::Tunneling { .. } => "the proxy's CONNECT",
                    Phase::Upgrading { handshake, .. }
                        if handshake.get_ref().get_ref().is_tls_handshaking() =>
                    {
                        "the TLS handshake"
                    }
                    _ => "the HTTP upgrade",
                };
                self.fail(Error::HandshakeTimeout {
                    host: self.request.host().to_owned(),
                    port: self.request.port(),
                    timeout: self.config.handshake_timeout,
                    stage,
                })
            }
            Phase::Open(_) => {
                // Both close frames were exchanged and only the TCP close is missing: that is
                // still a clean close.
                let clean = self.close_sent.is_some() && self.close_received.is_some();
                let error = (!clean).then_some(Error::CloseTimeout {
                    timeout: self.config.close_timeout,
                });
                self.finish(Ending { clean, error });
            }
            Phase::Finished => {}
        }
    }

    /// Takes what the game posted and makes whatever progress the socket allows now.
    pub(crate) fn drive(&mut self, registry: &Registry) {
        self.link.take_outbox(&mut self.outbound);
        let opened = matches!(self.phase, Phase::Open(_) | Phase::Finished);
        if !opened
            && self
                .outbound
                .iter()
                .any(|item| matches!(item, Outbound::Close { .. }))
        {
            // Closing before the connection opened abandons the attempt.
            self.abandon(registry);
            return self.finish(Ending {
                clean: false,
                error: None,
            });
        }
        match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Connecting(dialer) => self.dialed(dialer.advance(registry, Instant::now())),
            Phase::Tunneling { tcp, tunnel, peer } => self.drive_tunnel(tcp, tunnel, peer),
            Phase::Upgrading { handshake, peer } => {
                self.drive_upgrade((*handshake).handshake(), peer)
            }
            Phase::Open(socket) => self.serve_open(socket),
            other => self.phase = other,
        }
    }

    /// Goes on with the proxy's answer to `CONNECT`, then with the upgrade through the tunnel.
    fn drive_tunnel(&mut self, mut tcp: TcpStream, mut tunnel: Tunnel, peer: SocketAddr) {
        match tunnel.advance(&mut tcp) {
            Ok(true) => self.start_upgrade(tcp, peer),
            Ok(false) => self.phase = Phase::Tunneling { tcp, tunnel, peer },
            Err(error) => self.fail(error),
        }
    }

    /// Starts TLS (for `wss://`) and the HTTP upgrade over a connected socket; `addr` is the
    /// server's address, or the proxy's when tunneling.
    fn start_upgrade(&mut self, tcp: TcpStream, addr: SocketAddr) {
        // Small messages go out at once; the write buffer already batches bursts.
        let _ = tcp.set_nodelay(true);
        let transport = if self.request.is_secure() {
            match Transport::tls(tcp, self.request.host(), &self.config.tls) {
                Ok(transport) => transport,
                Err(error) => return self.fail(error),
            }
        } else {
            Transport::plain(tcp)
        };
        let mut request = match self.request.to_http_request() {
            Ok(request) => request,
            Err(error) => return self.fail(error),
        };
        if self.config.compression {
            request.headers_mut().insert(
                "sec-websocket-extensions",
                HeaderValue::from_static(deflate::OFFER),
            );
        }
        let websocket_config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_BYTES)
            .write_buffer_size(WRITE_BATCH_BYTES)
            .max_message_size(Some(self.config.max_message_size))
            .max_frame_size(Some(self.config.max_message_size));
        match ClientHandshake::start(transport, request, Some(websocket_config)) {
            Ok(handshake) => self.drive_upgrade(handshake.handshake(), addr),
            Err(error) => self.fail(self.handshake_error(error)),
        }
    }

    fn drive_upgrade(
        &mut self,
        result: Result<
            (
                WebSocket<Transport>,
                tungstenite::handshake::client::Response,
            ),
            HandshakeError<ClientHandshake<Transport>>,
        >,
        peer: SocketAddr,
    ) {
        match result {
            Ok((mut socket, response)) => {
                let extensions: Vec<String> = response
                    .headers()
                    .get_all("sec-websocket-extensions")
                    .iter()
                    .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
                    .collect();
                let answer = extensions.iter().map(String::as_str);
                let negotiated = match deflate::negotiate(answer, self.config.compression) {
                    Ok(negotiated) => negotiated,
                    Err(detail) => return self.fail(Error::Extension { detail }),
                };
                socket
                    .get_mut()
                    .open(negotiated, Arc::clone(&self.link.compression));
                let protocol = response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                self.deadline = None;
                let now = Instant::now();
                self.heartbeat = Heartbeat::new(
                    self.config.heartbeat_interval,
                    self.config.heartbeat_timeout,
                    now,
                );
                let tls = socket.get_ref().tls_info();
                self.link.push(Incoming::HandshakeResponse(Box::new(
                    HandshakeResponse::new(&response),
                )));
                self.link.push(Incoming::Opened {
                    protocol,
                    peer,
                    tls,
                });
                // Data that arrived with the upgrade response is already buffered: read it now,
                // as no readiness event will announce it.
                self.serve_open(Box::new(socket));
            }
            Err(HandshakeError::Interrupted(handshake)) => {
                self.phase = Phase::Upgrading {
                    handshake: Box::new(handshake),
                    peer,
                }
            }
            Err(HandshakeError::Failure(error)) => self.fail(self.handshake_error(error)),
        }
    }

    /// Drives an open connection and keeps it in `phase`, finishing it if it ended.
    fn serve_open(&mut self, mut socket: Box<WebSocket<Transport>>) {
        let ended = self.drive_open(&mut socket).err();
        self.count_wire_bytes(socket.get_ref());
        self.link.statistics.publish(&self.statistics);
        self.phase = Phase::Open(socket);
        if let Some(ending) = ended {
            self.finish(ending);
        }
    }

    /// Writes what the game queued, then reads what the server sent.
    fn drive_open(&mut self, socket: &mut WebSocket<Transport>) -> Result<(), Ending> {
        self.write_queued(socket)?;
        self.read_available(socket)?;
        // Replies tungstenite queued while reading (pongs, the close reply) go out now.
        match socket.flush() {
            Err(tungstenite::Error::Io(error)) if error.kind() == io::ErrorKind::WouldBlock => {
                Ok(())
            }
            Err(error) => Err(self.ending_from(error)),
            Ok(()) => Ok(()),
        }
    }

    /// Encodes what the game queued into the transport, a batch at a time, and writes it.
    fn write_queued(&mut self, socket: &mut WebSocket<Transport>) -> Result<(), Ending> {
        loop {
            // Encode more only once everything before is on the wire, so outgoing data waits
            // in our queue, where the game sees it counted, and frames never interleave with
            // tungstenite's own.
            match socket.flush() {
                Ok(()) => {}
                Err(tungstenite::Error::Io(error)) if error.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(())
                }
                Err(error) => return Err(self.ending_from(error)),
            }
            if self.outbound.is_empty() {
                return Ok(());
            }
            if !socket.can_write() {
                // The server closed first: what is still queued can no longer be sent.
                self.drop_outbound();
                return Ok(());
            }
            let mut batch = 0;
            while batch < WRITE_BATCH_BYTES {
                match self.outbound.pop_front() {
                    Some(Outbound::Message(message)) => {
                        self.link.remove_outbound(message.len());
                        self.statistics.messages_sent += 1;
                        self.statistics.payload_bytes_sent += message.len() as u64;
                        batch += socket.get_mut().queue_message(message);
                    }
                    Some(Outbound::Close { code, reason }) => {
                        self.close_sent = Some(code);
                        self.set_deadline_after(self.config.close_timeout);
                        let frame = CloseFrame {
                            code: CloseCode::from(code),
                            reason: reason.into(),
                        };
                        // Written after the frames queued before it.
                        match socket.close(Some(frame)) {
                            Ok(()) => {}
                            Err(tungstenite::Error::Io(error))
                                if error.kind() == io::ErrorKind::WouldBlock => {}
                            Err(error) => return Err(self.ending_from(error)),
                        }
                        break;
                    }
                    None => break,
                }
            }
        }
    }

    fn read_available(&mut self, socket: &mut WebSocket<Transport>) -> Result<(), Ending> {
        loop {
            if self
                .link
                .should_pause_reading(self.config.inbound_queue_limit)
            {
                return Ok(());
            }
            match socket.read() {
                Ok(tungstenite::Message::Text(text)) => self.receive(Message::Text(text)),
                Ok(tungstenite::Message::Binary(data)) => self.receive(Message::Binary(data)),
                Ok(tungstenite::Message::Pong(payload)) => {
                    if let Some(heartbeat) = &mut self.heartbeat {
                        if let Some(rtt) = heartbeat.pong(&payload, Instant::now()) {
                            self.statistics.round_trip_time = Some(rtt);
                        }
                    }
                }
                Ok(tungstenite::Message::Close(frame)) => {
                    let (code, reason) = frame
                        .map(|frame| (u16::from(frame.code), frame.reason.to_string()))
                        .unwrap_or((CLOSE_NO_STATUS, String::new()));
                    if self.close_sent.is_none() {
                        self.link.push(Incoming::CloseRequested {
                            code,
                            reason: reason.clone(),
                        });
                        self.set_deadline_after(self.config.close_timeout);
                        // tungstenite answers the close itself; nothing more can be sent.
                        self.drop_outbound();
                    }
                    self.close_received = Some((code, reason));
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(error)) if error.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(())
                }
                Err(tungstenite::Error::Io(error))
                    if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(self.ending_from(error)),
            }
        }
    }

    fn receive(&mut self, message: Message) {
        self.statistics.messages_received += 1;
        self.statistics.payload_bytes_received += message.len() as u64;
        self.link.push(Incoming::Message(message));
    }

    /// Takes the transport's byte counts; bytes received prove the server alive.
    fn count_wire_bytes(&mut self, transport: &Transport) {
        let (sent, received) = transport.wire_bytes();
        if received != self.statistics.wire_bytes_received {
            if let Some(heartbeat) = &mut self.heartbeat {
                heartbeat.heard();
            }
        }
        self.statistics.wire_bytes_sent = sent;
        self.statistics.wire_bytes_received = received;
    }

    /// Whether the heartbeat runs: the connection is open and no close frame was exchanged
    /// (from then on the close timeout applies).
    fn is_beating(&self) -> bool {
        matches!(self.phase, Phase::Open(_))
            && self.close_sent.is_none()
            && self.close_received.is_none()
    }

    /// Sends a ping or drops the connection when the heartbeat says so.
    fn beat(&mut self, now: Instant) {
        let due = self
            .heartbeat
            .as_ref()
            .is_some_and(|heartbeat| heartbeat.next_wakeup() <= now);
        if !due || !self.is_beating() {
            return;
        }
        if let Phase::Open(socket) = std::mem::replace(&mut self.phase, Phase::Finished) {
            // Takes in what already arrived, so it is not taken for an answer to a ping sent now.
            self.serve_open(socket);
        }
        if !self.is_beating() {
            return;
        }
        let Some(heartbeat) = &mut self.heartbeat else {
            return;
        };
        if self.link.is_reading_paused() {
            // The game holds the data back, not the server: the server counts as alive.
            heartbeat.heard();
        }
        match heartbeat.poll(now) {
            Beat::Wait => {}
            Beat::TimedOut => self.finish(Ending {
                clean: false,
                error: Some(Error::HeartbeatTimeout {
                    timeout: self.config.heartbeat_timeout,
                }),
            }),
            Beat::Ping(payload) => {
                let Phase::Open(mut socket) = std::mem::replace(&mut self.phase, Phase::Finished)
                else {
                    return;
                };
                let ping = tungstenite::Message::Ping(Bytes::copy_from_slice(&payload));
                match socket.write(ping) {
                    Ok(()) => {}
                    // Waiting in tungstenite's buffer until the socket takes it.
                    Err(tungstenite::Error::Io(error))
                        if error.kind() == io::ErrorKind::WouldBlock => {}
                    Err(error) => {
                        let ending = self.ending_from(error);
                        self.phase = Phase::Open(socket);
                        return self.finish(ending);
                    }
                }
                self.serve_open(socket);
            }
        }
    }

    /// How a tungstenite error ends an open connection. Protocol and size violations fail the
    /// connection with the matching close code (RFC 6455 section 7.1.7).
    fn ending_from(&mut self, error: tungstenite::Error) -> Ending {
        use tungstenite::error::CapacityError;
        use tungstenite::Error as E;
        let (close_code, error) = match error {
            E::ConnectionClosed | E::AlreadyClosed => {
                let clean = self.close_received.is_some();
                let error = (!clean).then(|| Error::ConnectionLost {
                    detail: "the server closed the connection".into(),
                });
                return Ending { clean, error };
            }
            E::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                let detail = "the server closed the TCP connection".into();
                return Ending {
                    clean: false,
                    error: Some(Error::ConnectionLost { detail }),
                };
            }
            E::Io(error)
                if error
                    .get_ref()
                    .is_some_and(|inner| inner.is::<InvalidCompressedData>()) =>
            {
                (
                    1002,
                    Error::Protocol {
                        detail: error.to_string(),
                        close_code: 1002,
                    },
                )
            }
            // Both close frames were exchanged: how TCP (or TLS, many servers skip its
            // close_notify) ends after that no longer matters.
            E::Io(_) if self.close_sent.is_some() && self.close_received.is_some() => {
                return Ending {
                    clean: true,
                    error: None,
                }
            }
            E::Io(error) => {
                return Ending {
                    clean: false,
                    error: Some(Error::ConnectionLost {
                        detail: error.to_string(),
                    }),
                }
            }
            E::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
                (1009, Error::MessageTooBig { size, max_size })
            }
            E::Utf8(_) => (
                1007,
                Error::Protocol {
                    detail: "a text message is not valid UTF-8".into(),
                    close_code: 1007,
                },
            ),
            // The protocol error's own words, without tungstenite's "WebSocket protocol error:".
            E::Protocol(violation) => (
                1002,
                Error::Protocol {
                    detail: violation.to_string(),
                    close_code: 1002,
                },
            ),
            other => (
                1002,
                Error::Protocol {
                    detail: other.to_string(),
                    close_code: 1002,
                },
            ),
        };
        self.close_sent = Some(close_code);
        Ending {
            clean: false,
            error: Some(error),
        }
    }

    fn drop_outbound(&mut self) {
        for item in self.outbound.drain(..) {
            if let Outbound::Message(message) = item {
                self.link.remove_outbound(message.len());
            }
        }
    }

    /// Maps a failed upgrade to a sentence.
    fn handshake_error(&self, error: tungstenite::Error) -> Error {
        use tungstenite::Error as E;
        let host = self.request.host().to_owned();
        match error {
            E::Http(response) => {
                let response = HandshakeResponse::new(&response);
                let error = Error::UpgradeRefused {
                    status: response.status,
                    reason: response.reason.clone(),
                };
                self.link
                    .push(Incoming::HandshakeResponse(Box::new(response)));
                error
            }
            // tungstenite's word for TCP closing before the upgrade response was complete.
            E::Protocol(ProtocolError::HandshakeIncomplete) => Error::Handshake {
                detail: "the server closed the connection before answering the upgrade".into(),
            },
            E::Protocol(ProtocolError::SecWebSocketAcceptKeyMismatch) => Error::Handshake {
                detail: "its Sec-WebSocket-Accept does not match the request's key (is it a \
                         WebSocket server?)"
                    .into(),
            },
            // tungstenite's flood check; the transport hands it the response head whole, so
            // only a head over the limit trips it.
            E::AttackAttempt => Error::Handshake {
                detail: format!(
                    "the response head is over {} KiB",
                    crate::response_head::MAX_RESPONSE_HEAD_BYTES / 1024
                ),
            },
            E::Capacity(tungstenite::error::CapacityError::TooManyHeaders) => Error::Handshake {
                detail: format!(
                    "the response has more than {} header lines",
                    tungstenite::handshake::headers::MAX_HEADERS
                ),
            },
            E::Protocol(ProtocolError::SecWebSocketSubProtocolError(kind)) => Error::SubProtocol {
                offered: self.request.protocols().to_vec(),
                server_chose_one: !matches!(kind, SubProtocolError::NoSubProtocol),
            },
            E::Io(error) => match error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                Some(tls) => {
                    let checked_name = self.config.tls.server_name.as_deref().unwrap_or(&host);
                    let detail = crate::transport::describe_tls_error(tls, checked_name);
                    Error::Tls { host, detail }
                }
                None if self.request.is_secure()
                    && error.kind() == io::ErrorKind::UnexpectedEof =>
                {
                    Error::Tls {
                        host,
                        detail: "the server closed the connection during the TLS handshake \
                                 (is it a plain ws:// server?)"
                            .into(),
                    }
                }
                None => match error.kind() {
                    io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted => Error::Handshake {
                        detail: "the server closed the connection before answering the upgrade"
                            .into(),
                    },
                    _ => Error::Handshake {
                        detail: error.to_string(),
                    },
                },
            },
            E::Protocol(violation) => Error::Handshake {
                detail: violation.to_string(),
            },
            other => Error::Handshake {
                detail: other.to_string(),
            },
        }
    }

    /// Sets the deadline `timeout` from now; a timeout too large to fall on the clock (e.g.
    /// `Duration::MAX`) means no deadline.
    fn set_deadline_after(&mut self, timeout: Duration) {
        self.deadline = Instant::now().checked_add(timeout);
    }

    /// The attempt failed before the connection opened.
    fn fail(&mut self, error: Error) {
        self.phase = Phase::Finished;
        self.link.push(Incoming::Failed(error));
    }

    /// The open connection ended (or an attempt was abandoned by the game).
    fn finish(&mut self, ending: Ending) {
        if let Phase::Open(socket) = &mut self.phase {
            if let (Some(code), false) = (self.close_sent, ending.clean) {
                // Fail the connection: best-effort close frame, no waiting.
                let _ = socket.close(Some(CloseFrame {
                    code: CloseCode::from(code),
                    reason: "".into(),
                }));
                let _ = socket.flush();
            }
        }
        let (code, reason) = match (&self.close_received, self.close_sent) {
            (Some((code, reason)), _) => (Some(*code), reason.clone()),
            (None, Some(code)) if ending.error.is_some() => (Some(code), String::new()),
            _ => (None, String::new()),
        };
        self.phase = Phase::Finished;
        self.link.push(Incoming::Closed {
            clean: ending.clean,
            code,
            reason,
            error: ending.error,
        });
    }

    /// Releases the socket of a connection that has not finished, when the game dropped the
    /// client or at shutdown. An open connection first writes what the game queued before (its
    /// messages and close frame, as far as the socket takes them without waiting), then a
    /// best-effort close frame unless one was sent or received.
    pub(crate) fn abandon(&mut self, registry: &Registry) {
        match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Connecting(mut dialer) => dialer.abandon(registry),
            Phase::Tunneling { mut tcp, .. } => {
                let _ = registry.deregister(&mut tcp);
            }
            Phase::Upgrading { mut handshake, .. } => {
                let _ = registry.deregister(handshake.get_mut().get_mut().tcp_mut());
            }
            Phase::Open(mut socket) => {
                self.link.take_outbox(&mut self.outbound);
                let _ = self.write_queued(&mut socket);
                if self.close_sent.is_none() && self.close_received.is_none() {
                    let frame = CloseFrame {
                        code: CloseCode::from(CLOSE_GOING_AWAY),
                        reason: "".into(),
                    };
                    let _ = socket.close(Some(frame));
                }
                let _ = socket.flush();
                let _ = registry.deregister(socket.get_mut().tcp_mut());
            }
            Phase::Resolving | Phase::Finished => {}
        }
    }
}

/// The resolver's error, in words.
fn resolve_detail(error: &io::Error) -> String {
    let text = error.to_string();
    // glibc's messages, e.g. "failed to lookup address information: Name or service not known".
    match text.split_once(": ") {
        Some((_, detail)) => detail.to_owned(),
        None => text,
    }
}
