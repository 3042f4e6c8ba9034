//! The game's handle on a connection: non-blocking calls and a queue of events to poll.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::link::{Incoming, Link, Outbound};
use crate::reactor::{self, Command, Reactor};
use crate::{Config, ConnectRequest, Error, HandshakeResponse, Message, Statistics, TlsInfo};

/// Close code for a protocol error, sent by [`Client::fail`].
const CLOSE_PROTOCOL_ERROR: u16 = 1002;

/// Longest close reason a close frame can carry, in bytes (RFC 6455 section 5.5).
pub const MAX_CLOSE_REASON_BYTES: usize = 123;

/// The connection's state, numbered as Godot's `WebSocketPeer.State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadyState {
    /// Resolving, connecting, TLS or HTTP upgrade in progress.
    Connecting = 0,
    /// Messages can be sent and received.
    Open = 1,
    /// A close handshake is in progress.
    Closing = 2,
    /// Not connected (never connected, closed, or the attempt failed).
    Closed = 3,
}

/// What happened, returned by [`Client::poll_event`] in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The connection is open; `protocol` is the sub-protocol the server selected, or empty.
    Opened { protocol: String },
    /// A message arrived; [`Client::take_message`] returns it (messages queue in order).
    MessageReceived,
    /// The server started the close handshake with this code and reason.
    CloseRequested { code: u16, reason: String },
    /// The connection ended; `clean` when the close handshake completed.
    Closed { clean: bool },
    /// The connection attempt failed before it opened; see [`Client::last_error`].
    Failed,
}

/// A WebSocket client whose every call returns at once.
///
/// Name resolution, TCP connect, TLS, the HTTP upgrade and all socket I/O happen on a shared I/O
/// thread. The caller drives the client from its own thread in this order:
/// [`connect`](Client::connect), then [`poll_event`](Client::poll_event) regularly (e.g. once per
/// frame) until it returns [`Event::Closed`] or [`Event::Failed`], taking messages with
/// [`take_message`](Client::take_message) and sending with [`send`](Client::send).
/// Received messages stay readable after the connection closed.
pub struct Client {
    config: Config,
    session: Option<Session>,
    state: ReadyState,
    /// Events moved over from the link, not yet returned by `poll_event`.
    incoming: VecDeque<Incoming>,
    received: VecDeque<Message>,
    url: String,
    protocol: String,
    peer: Option<SocketAddr>,
    tls: Option<TlsInfo>,
    close_code: Option<u16>,
    close_reason: String,
    last_error: Option<Error>,
    /// The server's answer to the last upgrade request.
    handshake_response: Option<HandshakeResponse>,
    /// The counters of the last connection, kept when it ended.
    final_statistics: Statistics,
}

/// The live connection behind a client. Dropping it releases the connection on the I/O thread.
struct Session {
    id: u64,
    link: Arc<Link>,
    reactor: Reactor,
    inbound_queue_limit: usize,
}

impl Session {
    /// Hands `item` to the I/O thread, waking it unless it was already told.
    fn post(&self, item: Outbound) {
        if self.link.post(item) {
            self.reactor.submit(Command::Serve { id: self.id });
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.reactor.submit(Command::Drop { id: self.id });
    }
}

static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(0);

impl Default for Client {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl Client {
    /// A closed client that will use `config` for its connections.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            session: None,
            state: ReadyState::Closed,
            incoming: VecDeque::new(),
            received: VecDeque::new(),
            url: String::new(),
            protocol: String::new(),
            peer: None,
            tls: None,
            close_code: None,
            close_reason: String::new(),
            last_error: None,
            handshake_response: None,
            final_statistics: Statistics::default(),
        }
    }

    /// The settings the next connection uses.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Changes the settings for the next connection (an open one keeps its own).
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// Starts connecting and returns at once. Unread messages of an earlier connection are
    /// discarded. Fails with [`Error::AlreadyConnected`] unless the client is closed.
    pub fn connect(&mut self, request: ConnectRequest) -> Result<(), Error> {
        if self.state != ReadyState::Closed {
            return Err(Error::AlreadyConnected);
        }
        let reactor = reactor::reactor().map_err(|e| Error::Handshake {
            detail: format!("cannot start the I/O thread: {e}"),
        })?;
        let id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
        let link = Arc::new(Link::default());
        self.url = request.url().to_owned();
        self.protocol.clear();
        self.peer = None;
        self.tls = None;
        self.close_code = None;
        self.close_reason.clear();
        self.last_error = None;
        self.incoming.clear();
        self.received.clear();
        self.handshake_response = None;
        self.final_statistics = Statistics::default();
        self.state = ReadyState::Connecting;
        reactor.submit(Command::Connect {
            id,
            request: Box::new(request),
            config: Box::new(self.config.clone()),
            link: Arc::clone(&link),
        });
        self.session = Some(Session {
            id,
            link,
            reactor,
            inbound_queue_limit: self.config.inbound_queue_limit,
        });
        Ok(())
    }

    /// Queues a message for sending. Fails with [`Error::NotOpen`] (and queues nothing) unless
    /// the connection is open.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        match (&self.session, self.state) {
            (Some(session), ReadyState::Open) => {
                session.post(Outbound::Message(message));
                Ok(())
            }
            _ => Err(Error::NotOpen),
        }
    }

    /// Starts the close handshake after every message queued so far is sent. While connecting,
    /// abandons the attempt. The code must be 1000 or 3000–4999 and the reason at most
    /// [`MAX_CLOSE_REASON_BYTES`] long.
    pub fn close(&mut self, code: i64, reason: &str) -> Result<(), Error> {
        if code != 1000 && !(3000..=4999).contains(&code) {
            return Err(Error::InvalidCloseCode { code });
        }
        if reason.len() > MAX_CLOSE_REASON_BYTES {
            return Err(Error::CloseReasonTooLong { len: reason.len() });
        }
        match (&self.session, self.state) {
            (Some(session), ReadyState::Connecting | ReadyState::Open) => {
                session.post(Outbound::Close {
                    code: code as u16,
                    reason: reason.to_owned(),
                });
                self.state = ReadyState::Closing;
                Ok(())
            }
            _ => Err(Error::NotOpen),
        }
    }

    /// Fails an open connection for a reason found above the WebSocket layer (e.g. the handshake
    /// of a protocol spoken over it): closes with code 1002 (protocol error) and keeps `error` as
    /// the last error.
    pub fn fail(&mut self, error: Error) {
        if let (Some(session), ReadyState::Connecting | ReadyState::Open) =
            (&self.session, self.state)
        {
            session.post(Outbound::Close {
                code: CLOSE_PROTOCOL_ERROR,
                reason: String::new(),
            });
            self.state = ReadyState::Closing;
        }
        self.last_error = Some(error);
    }

    /// The next thing that happened, if any. Costs one atomic load when nothing did.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.incoming.is_empty() {
            self.session.as_ref()?.link.drain_into(&mut self.incoming);
        }
        Some(match self.incoming.pop_front()? {
            Incoming::Opened {
                protocol,
                peer,
                tls,
            } => {
                self.tls = tls;
                if self.state == ReadyState::Connecting {
                    self.state = ReadyState::Open;
                }
                self.protocol = protocol.clone();
                self.peer = Some(peer);
                Event::Opened { protocol }
            }
            Incoming::Message(message) => {
                self.received.push_back(message);
                Event::MessageReceived
            }
            Incoming::CloseRequested { code, reason } => {
                self.state = ReadyState::Closing;
                self.close_code = Some(code);
                self.close_reason = reason.clone();
                Event::CloseRequested { code, reason }
            }
            Incoming::Closed {
                clean,
                code,
                reason,
                error,
            } => {
                self.state = ReadyState::Closed;
                self.close_code = code;
                self.close_reason = reason;
                // A reason given to `fail()` stays when the close itself went fine.
                if error.is_some() {
                    self.last_error = error;
                }
                self.end_session();
                Event::Closed { clean }
            }
            Incoming::Failed(error) => {
                self.state = ReadyState::Closed;
                self.last_error = Some(error);
                self.end_session();
                Event::Failed
            }
            Incoming::HandshakeResponse(response) => {
                self.handshake_response = Some(*response);
                return self.poll_event();
            }
        })
    }

    /// Takes the oldest received message. Messages stay available after the connection closed.
    pub fn take_message(&mut self) -> Option<Message> {
        let message = self.received.pop_front()?;
        if let Some(session) = &self.session {
            if session
                .link
                .release_inbound(message.len(), session.inbound_queue_limit)
            {
                session.reactor.submit(Command::Serve { id: session.id });
            }
        }
        Some(message)
    }

    /// Received messages waiting for [`take_message`](Client::take_message).
    pub fn queued_message_count(&self) -> usize {
        self.received.len()
    }

    /// The oldest received message, without taking it.
    pub fn peek_message(&self) -> Option<&Message> {
        self.received.front()
    }

    /// Payload bytes sent by the game and not yet handed to the socket.
    pub fn buffered_outbound_bytes(&self) -> usize {
        self.session
            .as_ref()
            .map_or(0, |session| session.link.outbound_bytes())
    }

    /// The connection's state as the game has seen it through [`poll_event`](Client::poll_event).
    pub fn state(&self) -> ReadyState {
        self.state
    }

    /// The URL of the last connection attempt.
    pub fn requested_url(&self) -> &str {
        &self.url
    }

    /// The sub-protocol the server selected, or empty.
    pub fn selected_protocol(&self) -> &str {
        &self.protocol
    }

    /// The server's address once connected.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The negotiated TLS version and cipher suite of a `wss://` connection once open.
    pub fn tls_info(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// The code of the close frame that ended the connection: the server's, or ours when we
    /// failed the connection. `None` when it ended without a close frame.
    pub fn close_code(&self) -> Option<u16> {
        self.close_code
    }

    /// The reason of the server's close frame, or empty.
    pub fn close_reason(&self) -> &str {
        &self.close_reason
    }

    /// Why the last connection failed or ended abnormally, if it did.
    pub fn last_error(&self) -> Option<&Error> {
        self.last_error.as_ref()
    }

    /// The server's HTTP answer to the last upgrade request, once the game has polled the
    /// connection's opening or failure: 101 and its headers, or a refusal's status, headers and
    /// body. `None` when no answer came (e.g. the TCP connect failed).
    pub fn handshake_response(&self) -> Option<&HandshakeResponse> {
        self.handshake_response.as_ref()
    }

    /// The traffic counters and round-trip time of the current or last connection, counted from
    /// its [`connect`](Client::connect); live while it is open, kept once it ended.
    pub fn statistics(&self) -> Statistics {
        self.session
            .as_ref()
            .map_or(self.final_statistics, |session| {
                session.link.statistics.snapshot()
            })
    }

    /// The smoothed round-trip time of the heartbeat's pings (RFC 6298, α = 1/8), or `None`
    /// before the first pong (or with the heartbeat off).
    pub fn round_trip_time(&self) -> Option<std::time::Duration> {
        self.statistics().round_trip_time
    }

    /// Drops the connection's session, keeping its final counters.
    fn end_session(&mut self) {
        if let Some(session) = self.session.take() {
            self.final_statistics = session.link.statistics.snapshot();
        }
    }
}
