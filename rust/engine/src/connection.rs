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
use tungstenite::util::NonBlockingResult;
use tungstenite::WebSocket;

use crate::deflate;
use crate::dialer::{addresses_without_resolver, DialFailure, Dialer, Dialing};
use crate::heartbeat::{Beat, Heartbeat};
use crate::link::{Incoming, Link, Outbound};
use crate::proxy::Tunnel;
use crate::tls::HandshakeWitness;
use crate::transport::Transport;
use crate::{
    Bytes, Config, ConnectRequest, Error, HandshakeResponse, Message, Statistics, Utf8Bytes,
};

mod ending;

use ending::{ending_from, handshake_error, CloseState, Ending};

/// Outgoing messages are encoded and written this many bytes at a time (tungstenite's own write
/// buffer, for its control frames, flushes at the same size).
const WRITE_BATCH_BYTES: usize = 64 * 1024;
/// tungstenite's read buffer (see `shared_read`).
const READ_BUFFER_BYTES: usize = crate::shared_read::FRAME_READ_BUFFER_BYTES;

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
    /// The close frames sent and received.
    close: CloseState,
    /// Pings while open, when the heartbeat is on.
    heartbeat: Option<Heartbeat>,
    /// Counted here and published to the link after each turn.
    statistics: Statistics,
    /// The bytes of encoded frames the link counts as outbound (see [`Link::add_outbound`]).
    frames_counted: usize,
    /// What the server asked during the TLS handshake, for the error when it then hangs up.
    tls_witness: Option<HandshakeWitness>,
    /// The game let go of the client (see [`Connection::release`]): nobody reads what arrives.
    released: bool,
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
            close: CloseState::None,
            heartbeat: None,
            statistics: Statistics::default(),
            frames_counted: 0,
            tls_witness: None,
            released: false,
        }
    }

    /// Starts the attempt at `now`. Returns the host and port to resolve when the host to dial
    /// (the server's, or the proxy's) is a name the resolver must answer.
    pub(crate) fn start(
        &mut self,
        registry: &Registry,
        id: u64,
        now: Instant,
    ) -> Option<(String, u16)> {
        self.set_deadline_after(self.config.handshake_timeout, now);
        self.resolve_or_dial(registry, id, now)
    }

    /// The next name to resolve: the server's first when a `socks5://` proxy is given its
    /// address, then the host to dial; once none is left, starts the TCP connects.
    fn resolve_or_dial(
        &mut self,
        registry: &Registry,
        id: u64,
        now: Instant,
    ) -> Option<(String, u16)> {
        if let Some(server) = self.request.server_to_resolve() {
            return Some(server);
        }
        let (host, port) = self.dial_target();
        match addresses_without_resolver(&host, port) {
            Some(addresses) => {
                self.connect(registry, id, addresses, now);
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

    /// The resolver answered at `now`. Returns the next name to resolve, if any.
    pub(crate) fn resolved(
        &mut self,
        registry: &Registry,
        id: u64,
        addresses: io::Result<Vec<SocketAddr>>,
        now: Instant,
    ) -> Option<(String, u16)> {
        if !matches!(self.phase, Phase::Resolving) {
            return None;
        }
        let server = self.request.server_to_resolve();
        let (host, _) = server.clone().unwrap_or_else(|| self.dial_target());
        let error = match addresses {
            Ok(addresses) if !addresses.is_empty() => {
                if server.is_none() {
                    self.connect(registry, id, addresses, now);
                    return None;
                }
                self.request.set_server_address(addresses[0]);
                return self.resolve_or_dial(registry, id, now);
            }
            Ok(_) => Error::Resolve {
                host,
                detail: "it has no address".into(),
            },
            Err(error) => Error::Resolve {
                host,
                detail: resolve_detail(&error),
            },
        };
        // The server's own name failing is not the proxy's fault.
        match server {
            Some(_) => self.fail(error),
            None => self.fail_dial(error),
        }
        None
    }

    /// Starts the TCP connects to `addresses` (happy eyeballs).
    fn connect(&mut self, registry: &Registry, id: u64, addresses: Vec<SocketAddr>, now: Instant) {
        let dialing = Dialer::start(
            addresses,
            registry,
            Token(id as usize),
            now,
            self.config.connect_timeout,
        );
        self.dialed(dialing, now);
    }

    /// Moves on from a dialing step: keep waiting, go on over the connected socket, or fail.
    fn dialed(&mut self, dialing: Dialing, now: Instant) {
        match dialing {
            Dialing::InProgress(dialer) => self.phase = Phase::Connecting(dialer),
            Dialing::Connected { tcp, addr } => match self.request.proxy() {
                Some(proxy) => {
                    let tunnel = Tunnel::new(proxy, &self.request);
                    self.drive_tunnel(tcp, tunnel, addr, now);
                }
                None => self.start_upgrade(tcp, addr, now),
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

    /// A scheduled wake-up came due; it is `now`: fails the attempt or ends the close once the
    /// deadline has passed, else lets the heartbeat act.
    pub(crate) fn handle_timeout(&mut self, registry: &Registry, now: Instant) {
        let deadline_passed = |connection: &Self| connection.deadline.is_some_and(|at| at <= now);
        // Driving runs the dialing timers. Past the deadline, it also takes in what the deadline
        // waits for if that arrived while the I/O thread was busy with other connections, its
        // readiness not handled yet, before giving up.
        if matches!(self.phase, Phase::Connecting(_)) || deadline_passed(self) {
            self.drive(registry, now);
        }
        if !deadline_passed(self) {
            return self.beat(now);
        }
        match self.phase {
            Phase::Resolving
            | Phase::Connecting(_)
            | Phase::Tunneling { .. }
            | Phase::Upgrading { .. } => {
                let stage = match &self.phase {
                    Phase::Resolving => "name resolution",
                    Phase::Connecting(_) => "the TCP connect",
                    Phase::Tunneling { tunnel, .. } => tunnel.stage(),
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
                let clean = self.close.is_exchanged();
                let error = (!clean).then_some(Error::CloseTimeout {
                    timeout: self.config.close_timeout,
                });
                self.finish(Ending::new(clean, error));
            }
            Phase::Finished => {}
        }
    }

    /// Takes what the game posted and makes whatever progress the socket allows; it is `now`.
    pub(crate) fn drive(&mut self, registry: &Registry, now: Instant) {
        self.link.take_outbox(&mut self.outbound);
        let opened = matches!(self.phase, Phase::Open(_) | Phase::Finished);
        if !opened
            && self
                .outbound
                .iter()
                .any(|item| matches!(item, Outbound::Close { .. }))
        {
            // Closing before the connection opened abandons the attempt.
            self.abandon(registry, now);
            return self.finish(Ending::new(false, None));
        }
        match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Connecting(dialer) => self.dialed(dialer.advance(registry, now), now),
            Phase::Tunneling { tcp, tunnel, peer } => self.drive_tunnel(tcp, tunnel, peer, now),
            Phase::Upgrading { handshake, peer } => {
                self.drive_upgrade((*handshake).handshake(), peer, now)
            }
            Phase::Open(socket) => self.serve_open(socket, now),
            other => self.phase = other,
        }
    }

    /// Goes on with the proxy's answer to `CONNECT`, then with the upgrade through the tunnel.
    fn drive_tunnel(
        &mut self,
        mut tcp: TcpStream,
        mut tunnel: Tunnel,
        peer: SocketAddr,
        now: Instant,
    ) {
        match tunnel.advance(&mut tcp) {
            Ok(true) => self.start_upgrade(tcp, peer, now),
            Ok(false) => self.phase = Phase::Tunneling { tcp, tunnel, peer },
            Err(error) => self.fail(error),
        }
    }

    /// Starts TLS (for `wss://`) and the HTTP upgrade over a connected socket; `addr` is the
    /// server's address, or the proxy's when tunneling.
    fn start_upgrade(&mut self, tcp: TcpStream, addr: SocketAddr, now: Instant) {
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
        self.tls_witness = transport.handshake_witness();
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
            Ok(handshake) => self.drive_upgrade(handshake.handshake(), addr, now),
            Err(error) => self.fail_upgrade(error),
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
        now: Instant,
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
                    .open(negotiated, self.config.max_message_size);
                let protocol = response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                self.deadline = None;
                self.heartbeat = Heartbeat::new(
                    self.config.heartbeat_interval,
                    self.config.heartbeat_timeout,
                    now,
                );
                let tls = socket.get_ref().tls_info();
                // The upgrade's bytes are published before the game hears of the opening, so a
                // game reading the statistics then sees them.
                self.count_transport(socket.get_ref());
                self.link.statistics.publish(&self.statistics);
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
                self.serve_open(Box::new(socket), now);
            }
            Err(HandshakeError::Interrupted(handshake)) => {
                self.phase = Phase::Upgrading {
                    handshake: Box::new(handshake),
                    peer,
                }
            }
            Err(HandshakeError::Failure(error)) => self.fail_upgrade(error),
        }
    }

    /// Fails the attempt for the upgrade's `error`, handing a refusal's response to the game.
    fn fail_upgrade(&mut self, error: tungstenite::Error) {
        if let tungstenite::Error::Http(response) = &error {
            let response = HandshakeResponse::new(response);
            self.link
                .push(Incoming::HandshakeResponse(Box::new(response)));
        }
        let witness = self.tls_witness.clone().unwrap_or_default();
        self.fail(handshake_error(
            error,
            &self.request,
            &self.config,
            &witness,
        ));
    }

    /// Drives an open connection and keeps it in `phase`, finishing it if it ended.
    fn serve_open(&mut self, mut socket: Box<WebSocket<Transport>>, now: Instant) {
        let ended = self.drive_open(&mut socket, now).err();
        self.count_transport(socket.get_ref());
        self.link.statistics.publish(&self.statistics);
        // Written frames leave the outbound count only now, after the statistics counting them
        // as sent were published.
        let unwritten = socket.get_ref().unwritten_bytes();
        self.link
            .remove_outbound(self.frames_counted.saturating_sub(unwritten));
        self.frames_counted = unwritten;
        self.phase = Phase::Open(socket);
        if let Some(ending) = ended {
            self.finish(ending);
        }
    }

    /// Writes what the game queued, then reads what the server sent.
    fn drive_open(
        &mut self,
        socket: &mut WebSocket<Transport>,
        now: Instant,
    ) -> Result<(), Ending> {
        self.write_queued(socket, now)?;
        self.read_available(socket, now)?;
        // Replies tungstenite queued while reading (pongs, the close reply) go out now.
        socket
            .flush()
            .no_block()
            .map_err(|error| self.ending_from(error))?;
        Ok(())
    }

    /// Encodes what the game queued into the transport, a batch at a time, and writes it.
    fn write_queued(
        &mut self,
        socket: &mut WebSocket<Transport>,
        now: Instant,
    ) -> Result<(), Ending> {
        loop {
            // Encode more only once everything before is on the wire, so outgoing data waits
            // in our queue, where the game sees it counted, and frames never interleave with
            // tungstenite's own.
            let flushed = socket.flush().no_block();
            if flushed.as_ref().is_ok_and(Option::is_none) {
                return Ok(());
            }
            flushed.map_err(|error| self.ending_from(error))?;
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
                        let payload = message.len();
                        self.statistics.messages_sent += 1;
                        self.statistics.payload_bytes_sent += payload as u64;
                        let frame = socket.get_mut().queue_message(message);
                        // The frame is counted until written; see `serve_open`.
                        self.link.add_outbound(frame);
                        self.link.remove_outbound(payload);
                        self.frames_counted += frame;
                        batch += frame;
                    }
                    Some(Outbound::Close { code, reason }) => {
                        let code = CloseCode::from(code);
                        self.close.send(code);
                        // A released connection keeps the deadline it got when released.
                        if !self.released {
                            self.set_deadline_after(self.config.close_timeout, now);
                        }
                        let frame = CloseFrame {
                            code,
                            reason: reason.into(),
                        };
                        // Written after the frames queued before it.
                        socket
                            .close(Some(frame))
                            .no_block()
                            .map_err(|error| self.ending_from(error))?;
                        break;
                    }
                    None => break,
                }
            }
        }
    }

    fn read_available(
        &mut self,
        socket: &mut WebSocket<Transport>,
        now: Instant,
    ) -> Result<(), Ending> {
        // The message read last, held through the next read: tungstenite's buffer, if it grew
        // for that message, is then still shared when it next reserves, so it takes a new
        // small one, and the large one is freed with the message (see `shared_read`).
        let mut just_read = None;
        loop {
            if self
                .link
                .should_pause_reading(self.config.inbound_queue_limit)
            {
                return Ok(());
            }
            let read = socket.read().no_block();
            let previous = std::mem::replace(&mut just_read, read.as_ref().ok().cloned().flatten());
            drop(previous);
            // A large message was read past tungstenite, which returned it empty.
            let large = socket.get_mut().take_large_payload();
            match read {
                Ok(Some(tungstenite::Message::Text(text))) => match large {
                    None => self.receive(Message::Text(text)),
                    Some(payload) => match Utf8Bytes::try_from(payload) {
                        Ok(text) => self.receive(Message::Text(text)),
                        Err(error) => return Err(self.ending_from(error.into())),
                    },
                },
                Ok(Some(tungstenite::Message::Binary(data))) => {
                    self.receive(Message::Binary(large.unwrap_or(data)))
                }
                Ok(Some(tungstenite::Message::Pong(payload))) => {
                    if let Some(heartbeat) = &mut self.heartbeat {
                        if let Some(rtt) = heartbeat.pong(&payload, now) {
                            self.statistics.round_trip_time = Some(rtt);
                        }
                    }
                }
                Ok(Some(tungstenite::Message::Close(frame))) => {
                    if let Some(invalid) = socket
                        .get_ref()
                        .received_close_code()
                        .filter(|&code| !CloseCode::from(code).is_allowed())
                    {
                        // RFC 6455 7.4: such a frame fails the connection. tungstenite has
                        // queued its 1002 answer already; the game gets no close request.
                        self.drop_outbound();
                        return Err(Ending {
                            clean: false,
                            error: Some(Error::Protocol {
                                detail: format!(
                                    "its close frame carried status code {invalid}, which RFC \
                                     6455 does not allow (report this to the server's developers)"
                                ),
                                close_code: CloseCode::Protocol.into(),
                            }),
                            fail_with: Some(CloseCode::Protocol),
                        });
                    }
                    // A close frame without a code reports 1005, "no status received".
                    let (code, reason) = frame
                        .map(|frame| (frame.code, frame.reason.to_string()))
                        .unwrap_or((CloseCode::Status, String::new()));
                    if self.close.sent().is_none() {
                        self.link.push(Incoming::CloseRequested {
                            code: code.into(),
                            reason: reason.clone(),
                        });
                        self.set_deadline_after(self.config.close_timeout, now);
                        // tungstenite answers the close itself, echoing its code (written
                        // with the flush after reading); nothing more can be sent.
                        self.drop_outbound();
                        self.close.receive(code, reason);
                        self.close.send(code);
                    } else {
                        self.close.receive(code, reason);
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => return Ok(()),
                Err(tungstenite::Error::Io(error))
                    if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(self.ending_from(error)),
            }
        }
    }

    fn receive(&mut self, message: Message) {
        if self.released {
            return;
        }
        self.statistics.messages_received += 1;
        self.statistics.payload_bytes_received += message.len() as u64;
        self.link.push(Incoming::Message(message));
    }

    /// Takes the transport's byte counts; bytes received prove the server alive.
    fn count_transport(&mut self, transport: &Transport) {
        let (sent, received) = transport.wire_bytes();
        if received != self.statistics.wire_bytes_received {
            if let Some(heartbeat) = &mut self.heartbeat {
                heartbeat.heard();
            }
        }
        self.statistics.wire_bytes_sent = sent;
        self.statistics.wire_bytes_received = received;
        self.statistics.compression = transport.compression_totals();
    }

    /// Whether the heartbeat runs: the connection is open and no close frame was exchanged
    /// (from then on the close timeout applies).
    fn is_beating(&self) -> bool {
        matches!(self.phase, Phase::Open(_)) && matches!(self.close, CloseState::None)
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
            self.serve_open(socket, now);
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
            Beat::TimedOut => self.finish(Ending::new(
                false,
                Some(Error::HeartbeatTimeout {
                    timeout: self.config.heartbeat_timeout,
                }),
            )),
            Beat::Ping(payload) => {
                let Phase::Open(mut socket) = std::mem::replace(&mut self.phase, Phase::Finished)
                else {
                    return;
                };
                let ping = tungstenite::Message::Ping(Bytes::copy_from_slice(&payload));
                // On WouldBlock it waits in tungstenite's buffer until the socket takes it.
                if let Err(error) = socket.write(ping).no_block() {
                    let ending = self.ending_from(error);
                    self.phase = Phase::Open(socket);
                    return self.finish(ending);
                }
                self.serve_open(socket, now);
            }
        }
    }

    /// How `error` ends the open connection (see [`ending_from`]).
    fn ending_from(&self, error: tungstenite::Error) -> Ending {
        ending_from(error, &self.close)
    }

    fn drop_outbound(&mut self) {
        for item in self.outbound.drain(..) {
            if let Outbound::Message(message) = item {
                self.link.remove_outbound(message.len());
            }
        }
    }

    /// Sets the deadline `timeout` from now; a timeout too large to fall on the clock (e.g.
    /// `Duration::MAX`) means no deadline.
    fn set_deadline_after(&mut self, timeout: Duration, now: Instant) {
        self.deadline = now.checked_add(timeout);
    }

    /// The attempt failed before the connection opened.
    fn fail(&mut self, error: Error) {
        self.phase = Phase::Finished;
        self.link.push(Incoming::Failed(error));
    }

    /// The open connection ended (or an attempt was abandoned by the game).
    fn finish(&mut self, ending: Ending) {
        if let Some(code) = ending.fail_with {
            self.close.send(code);
        }
        if let Phase::Open(socket) = &mut self.phase {
            if let (Some(code), false) = (self.close.sent(), ending.clean) {
                // Fail the connection: best-effort close frame, no waiting.
                let _ = socket.close(Some(CloseFrame {
                    code,
                    reason: "".into(),
                }));
                let _ = socket.flush();
            }
        }
        let (code, reason) = match (self.close.received(), self.close.sent()) {
            (Some((code, reason)), _) => (Some(code.into()), reason.to_owned()),
            (None, Some(code)) if ending.error.is_some() => (Some(code.into()), String::new()),
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

    /// The game let go of the client (it was freed, or the game is quitting) at `now`. An open
    /// connection goes on in the background until what the game queued is written and the
    /// close handshake is done (code 1001 unless the game closed first), all within
    /// `close_timeout` from now; what arrives meanwhile is discarded. Any other phase ends now.
    pub(crate) fn release(&mut self, registry: &Registry, now: Instant) {
        if !matches!(self.phase, Phase::Open(_)) {
            return self.abandon(registry, now);
        }
        self.released = true;
        self.link.take_outbox(&mut self.outbound);
        let closing = !matches!(self.close, CloseState::None)
            || self
                .outbound
                .iter()
                .any(|item| matches!(item, Outbound::Close { .. }));
        if !closing {
            self.outbound.push_back(Outbound::Close {
                code: CloseCode::Away.into(),
                reason: String::new(),
            });
        }
        self.set_deadline_after(self.config.close_timeout, now);
        self.drive(registry, now);
    }

    /// Releases the socket of a connection that has not finished, at once (see
    /// [`Connection::release`] for the patient way). An open connection first writes what the
    /// game queued before (its messages and close frame, as far as the socket takes them
    /// without waiting), then a best-effort close frame unless one was sent or received. It is
    /// `now`.
    pub(crate) fn abandon(&mut self, registry: &Registry, now: Instant) {
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
                if let Err(Ending {
                    fail_with: Some(code),
                    ..
                }) = self.write_queued(&mut socket, now)
                {
                    self.close.send(code);
                }
                if matches!(self.close, CloseState::None) {
                    let frame = CloseFrame {
                        code: CloseCode::Away,
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

#[cfg(test)]
mod tests;
