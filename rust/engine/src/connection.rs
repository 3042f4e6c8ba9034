//! One connection's life on the I/O thread: resolve, TCP connect, TLS, HTTP upgrade, open,
//! close handshake. Every step is non-blocking and resumes when the socket is ready again.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{error::ProtocolError, error::SubProtocolError, WebSocket};

use crate::heartbeat::{Beat, Heartbeat};
use crate::link::{Incoming, Link, Outbound};
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
    /// A TCP connect is in flight to `addr`; `untried` are the other addresses of the host.
    Connecting {
        tcp: TcpStream,
        addr: SocketAddr,
        untried: VecDeque<SocketAddr>,
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
    /// The earliest wake-up the event loop has scheduled for this connection and not yet
    /// delivered through [`Connection::deadline_passed`].
    scheduled_wakeup: Option<Instant>,
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
            scheduled_wakeup: None,
            close_sent: None,
            close_received: None,
            heartbeat: None,
            statistics: Statistics::default(),
        }
    }

    /// Starts the attempt. Returns the host and port to resolve when the URL's host is a name.
    pub(crate) fn start(&mut self, registry: &Registry, id: u64) -> Option<(String, u16)> {
        self.set_deadline(Instant::now() + self.config.handshake_timeout);
        match self.request.host().parse::<IpAddr>() {
            Ok(ip) => {
                self.connect(
                    registry,
                    id,
                    VecDeque::from([SocketAddr::new(ip, self.request.port())]),
                );
                None
            }
            Err(_) => Some((self.request.host().to_owned(), self.request.port())),
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
        match addresses {
            Ok(addresses) if !addresses.is_empty() => self.connect(registry, id, addresses.into()),
            Ok(_) => self.fail(Error::Resolve {
                host: self.request.host().to_owned(),
                detail: "it has no address".into(),
            }),
            Err(error) => self.fail(Error::Resolve {
                host: self.request.host().to_owned(),
                detail: resolve_detail(&error),
            }),
        }
    }

    /// Starts a TCP connect to the first address that accepts a socket.
    fn connect(&mut self, registry: &Registry, id: u64, mut untried: VecDeque<SocketAddr>) {
        let mut last_error = None;
        while let Some(addr) = untried.pop_front() {
            let attempt = TcpStream::connect(addr).and_then(|mut tcp| {
                registry.register(
                    &mut tcp,
                    Token(id as usize),
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                Ok(tcp)
            });
            match attempt {
                Ok(tcp) => {
                    self.phase = Phase::Connecting { tcp, addr, untried };
                    return;
                }
                Err(error) => last_error = Some((addr, error)),
            }
        }
        let (addr, source) = last_error.expect("connect is only called with at least one address");
        self.fail(Error::Connect {
            host: self.request.host().to_owned(),
            addr,
            source,
        });
    }

    pub(crate) fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished)
    }

    /// The wake-up to schedule, when the next one (the step's deadline or the heartbeat's) is
    /// earlier than any already scheduled. Later ones are scheduled once those came due, so an
    /// idle connection has at most a couple of entries in the event loop's timer queue.
    pub(crate) fn take_new_deadline(&mut self) -> Option<Instant> {
        let heartbeat = self
            .heartbeat
            .as_ref()
            .filter(|_| self.is_beating())
            .map(Heartbeat::next_wakeup);
        let wakeup = match (self.deadline, heartbeat) {
            (Some(deadline), Some(heartbeat)) => deadline.min(heartbeat),
            (deadline, heartbeat) => deadline.or(heartbeat)?,
        };
        if self
            .scheduled_wakeup
            .is_some_and(|scheduled| scheduled <= wakeup)
        {
            return None;
        }
        self.scheduled_wakeup = Some(wakeup);
        Some(wakeup)
    }

    /// A scheduled wake-up came due: acts on the step's deadline or the heartbeat if either is.
    pub(crate) fn deadline_passed(&mut self, at: Instant) {
        if self.scheduled_wakeup == Some(at) {
            self.scheduled_wakeup = None;
        }
        let now = Instant::now();
        if self.deadline.is_none_or(|deadline| deadline > now) {
            return self.beat(now);
        }
        match self.phase {
            Phase::Resolving | Phase::Connecting { .. } | Phase::Upgrading { .. } => {
                let stage = match &self.phase {
                    Phase::Resolving => "name resolution",
                    Phase::Connecting { .. } => "the TCP connect",
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
    pub(crate) fn drive(&mut self, registry: &Registry, id: u64) {
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
            Phase::Connecting { tcp, addr, untried } => {
                self.drive_connect(registry, id, tcp, addr, untried)
            }
            Phase::Upgrading { handshake, peer } => {
                self.drive_upgrade((*handshake).handshake(), peer)
            }
            Phase::Open(socket) => self.serve_open(socket),
            other => self.phase = other,
        }
    }

    fn drive_connect(
        &mut self,
        registry: &Registry,
        id: u64,
        mut tcp: TcpStream,
        addr: SocketAddr,
        untried: VecDeque<SocketAddr>,
    ) {
        let outcome = match tcp.take_error() {
            Ok(Some(error)) | Err(error) => Err(error),
            Ok(None) => match tcp.peer_addr() {
                Ok(_) => Ok(()),
                Err(error) if error.kind() == io::ErrorKind::NotConnected => {
                    // Not connected yet: wait for the next readiness event.
                    self.phase = Phase::Connecting { tcp, addr, untried };
                    return;
                }
                Err(error) => Err(error),
            },
        };
        if let Err(source) = outcome {
            let _ = registry.deregister(&mut tcp);
            if untried.is_empty() {
                self.fail(Error::Connect {
                    host: self.request.host().to_owned(),
                    addr,
                    source,
                });
            } else {
                self.connect(registry, id, untried);
            }
            return;
        }
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
        let request = match self.request.to_http_request() {
            Ok(request) => request,
            Err(error) => return self.fail(error),
        };
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
            Ok((socket, response)) => {
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
                        self.set_deadline(Instant::now() + self.config.close_timeout);
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
                        self.set_deadline(Instant::now() + self.config.close_timeout);
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
            other => Error::Handshake {
                detail: other.to_string(),
            },
        }
    }

    fn set_deadline(&mut self, at: Instant) {
        self.deadline = Some(at);
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
    /// client or at shutdown. An open connection gets a best-effort close frame first.
    pub(crate) fn abandon(&mut self, registry: &Registry) {
        match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Connecting { mut tcp, .. } => {
                let _ = registry.deregister(&mut tcp);
            }
            Phase::Upgrading { mut handshake, .. } => {
                let _ = registry.deregister(handshake.get_mut().get_mut().tcp_mut());
            }
            Phase::Open(mut socket) => {
                if self.close_sent.is_none() && self.close_received.is_none() {
                    let frame = CloseFrame {
                        code: CloseCode::from(CLOSE_GOING_AWAY),
                        reason: "".into(),
                    };
                    let _ = socket.close(Some(frame));
                    let _ = socket.flush();
                }
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
