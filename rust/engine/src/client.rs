//! The game's handle on a connection: non-blocking calls and a queue of events to poll.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::link::{Incoming, Link, Outbound};
use crate::multiplayer::{parse_assigned_peer_id, PeerIdHandshake};
use crate::reactor::{self, Command, Reactor};
use crate::reconnect::{Decision, Ending, ReconnectQueue, Reconnector};
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
    /// Auto-reconnect connects again after `delay`: follows the [`Event::Closed`] or
    /// [`Event::Failed`] that ended the previous connection or attempt. `attempt` counts from 1
    /// since the last connection opened.
    Reconnecting { attempt: u32, delay: Duration },
    /// Follows [`Event::Opened`] when the connection opened again after a drop.
    Reconnected,
    /// Auto-reconnect gave up after `attempts` failed attempts in a row: follows their last
    /// [`Event::Failed`]; [`Client::last_error`] says why the last one failed.
    ReconnectFailed { attempts: u32 },
    /// The reconnect queue ([`ReconnectConfig::queue_messages`](crate::ReconnectConfig)) was
    /// emptied without sending its `count` messages: auto-reconnect gave up (follows
    /// [`Event::ReconnectFailed`]) or the game closed the client while it reconnected (follows
    /// the [`Event::Closed`] that ends the attempt, if any). Only when something was queued.
    ReconnectQueueDiscarded { count: usize },
    /// With [`Config::godot_multiplayer`]: the server assigned this peer id with its first
    /// message (which is not queued). Follows [`Event::Opened`].
    PeerIdAssigned { id: i32 },
    /// With [`Config::godot_multiplayer`]: the server sent no peer id in time, or something
    /// else first. The connection is failed as by [`Client::fail`] (close code 1002), so
    /// [`Event::Closed`] follows; [`Client::last_error`] says why.
    MultiplayerHandshakeFailed,
}

/// A WebSocket client whose every call returns at once.
///
/// Name resolution, TCP connect, TLS, the HTTP upgrade and all socket I/O happen on a shared I/O
/// thread. The caller drives the client from its own thread in this order:
/// [`connect`](Client::connect), then [`poll_event`](Client::poll_event) regularly (e.g. once per
/// frame) until it returns [`Event::Closed`] or [`Event::Failed`], taking messages with
/// [`take_message`](Client::take_message) and sending with [`send`](Client::send).
/// Received messages stay readable after the connection closed.
///
/// With [`ReconnectConfig::enabled`](crate::ReconnectConfig::enabled), a connection that drops
/// (or an attempt that fails) is followed by [`Event::Reconnecting`] and, after the backoff
/// delay, a new attempt to the same request with the same settings; meanwhile the state is
/// [`ReadyState::Connecting`] and [`send`](Client::send) fails with [`Error::Reconnecting`], or,
/// with [`ReconnectConfig::queue_messages`](crate::ReconnectConfig::queue_messages), keeps the
/// message to send it first once the connection is open again.
/// Never after [`close`](Client::close) or [`fail`](Client::fail), nor after a close code of
/// [`ReconnectConfig::final_close_codes`](crate::ReconnectConfig::final_close_codes). Messages
/// received before a drop stay readable, in order, ahead of those received after it.
pub struct Client {
    config: Config,
    session: Option<Session>,
    state: ReadyState,
    /// Events moved over from the link, not yet returned by `poll_event`.
    incoming: VecDeque<Incoming>,
    received: VecDeque<Message>,
    /// What the game can ask about the current (or last) connection.
    details: ConnectionDetails,
    /// What auto-reconnect connects to again: the last request and its settings, when enabled.
    reconnect_target: Option<(ConnectRequest, Config)>,
    reconnector: Reconnector,
    /// Messages sent while reconnecting, for the next connection.
    reconnect_queue: ReconnectQueue,
    /// Events that follow the one `poll_event` just returned (e.g. `Reconnecting`), in order.
    follow_ups: VecDeque<Event>,
    /// Whether the game closed or failed the connection, so it is not reconnected.
    closed_by_game: bool,
}

/// The details of one connection (or attempt), forgotten when the next one starts.
#[derive(Default)]
struct ConnectionDetails {
    url: String,
    protocol: String,
    peer: Option<SocketAddr>,
    tls: Option<TlsInfo>,
    close_code: Option<u16>,
    close_reason: String,
    last_error: Option<Error>,
    /// The proxy (`host:port`) the connection goes through, if any.
    proxy: Option<String>,
    /// The server's answer to the upgrade request.
    handshake_response: Option<HandshakeResponse>,
    /// The counters of the connection, kept when it ended.
    final_statistics: Statistics,
    /// With [`Config::godot_multiplayer`], until the server assigned the peer id.
    peer_id_handshake: Option<PeerIdHandshake>,
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

    /// The game took `message` from the queue: reading resumes if it was paused for it.
    fn release_inbound(&self, message: &Message) {
        if self
            .link
            .release_inbound(message.len(), self.inbound_queue_limit)
        {
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
            details: ConnectionDetails::default(),
            reconnect_target: None,
            reconnector: Reconnector::default(),
            reconnect_queue: ReconnectQueue::default(),
            follow_ups: VecDeque::new(),
            closed_by_game: false,
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
    /// discarded. Fails with [`Error::AlreadyConnected`] unless the client is closed, and with
    /// [`Error::InvalidProxy`] when the proxy URL (from [`Config::proxy`] or the environment it
    /// names) is unusable.
    pub fn connect(&mut self, request: ConnectRequest) -> Result<(), Error> {
        if self.state != ReadyState::Closed {
            return Err(Error::AlreadyConnected);
        }
        let config = self.config.clone();
        // A Godot multiplayer server would assign a new peer id: never reconnect to it.
        let reconnect_target = (config.reconnect.enabled && !config.godot_multiplayer)
            .then(|| (request.clone(), config.clone()));
        let peer_id_handshake = config
            .godot_multiplayer
            .then(|| PeerIdHandshake::new(config.handshake_timeout));
        self.start_connection(request, config)?;
        self.details.peer_id_handshake = peer_id_handshake;
        self.incoming.clear();
        self.received.clear();
        self.reconnect_target = reconnect_target;
        self.reconnector = Reconnector::default();
        self.follow_ups.clear();
        self.closed_by_game = false;
        Ok(())
    }

    /// Makes auto-reconnect's next attempt, and those after it, connect with `request` (another
    /// URL, sub-protocols or headers: a resume URL the server handed out, a refreshed token)
    /// instead of the request they used so far; the settings stay those of `connect`. Fails with
    /// [`Error::ReconnectOff`] unless auto-reconnect is on for a connection that is not closed.
    pub fn set_reconnect_request(&mut self, request: ConnectRequest) -> Result<(), Error> {
        match &mut self.reconnect_target {
            Some((target, _)) if self.state != ReadyState::Closed => {
                *target = request;
                Ok(())
            }
            _ => Err(Error::ReconnectOff),
        }
    }

    /// Opens a session for `request` with `config`, forgetting the last connection's details.
    fn start_connection(
        &mut self,
        mut request: ConnectRequest,
        config: Config,
    ) -> Result<(), Error> {
        // The environment is read here, on the caller's thread, at each connect.
        let proxy = crate::proxy::choose(&config.proxy, &request)?;
        let reactor = reactor::reactor().map_err(|e| Error::Handshake {
            detail: format!("cannot start the I/O thread: {e}"),
        })?;
        let id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
        let link = Arc::new(Link::default());
        self.details = ConnectionDetails {
            url: request.url().to_owned(),
            proxy: proxy.as_ref().map(|proxy| proxy.address()),
            ..ConnectionDetails::default()
        };
        self.state = ReadyState::Connecting;
        let inbound_queue_limit = config.inbound_queue_limit;
        request.set_proxy(proxy);
        reactor.submit(Command::Connect {
            id,
            request: Box::new(request),
            config: Box::new(config),
            link: Arc::clone(&link),
        });
        self.session = Some(Session {
            id,
            link,
            reactor,
            inbound_queue_limit,
        });
        Ok(())
    }

    /// Starts the scheduled reconnect attempt once it is due at `now`.
    fn start_due_reconnect(&mut self, now: Instant) {
        if !self.reconnector.take_due(now) {
            return;
        }
        let Some((request, config)) = self.reconnect_target.clone() else {
            return;
        };
        match self.start_connection(request, config) {
            // Messages from before the drop are taken through the new link: they count there.
            Ok(()) => {
                if let Some(session) = &self.session {
                    session.link.charge_unread(&self.received);
                }
            }
            Err(error) => self.incoming.push_back(Incoming::Failed(error)),
        }
    }

    /// Decides, once a connection or attempt ended, whether auto-reconnect tries again; the
    /// decision's event follows the ending's; a retry's delay counts from `now`.
    fn after_ending(&mut self, ending: Ending, now: Instant) {
        let Some((_, config)) = &self.reconnect_target else {
            return;
        };
        let ending = if self.closed_by_game {
            Ending::ByGame
        } else {
            ending
        };
        let jitter = rand::random::<f64>();
        match self
            .reconnector
            .on_ended(&config.reconnect, ending, now, jitter)
        {
            Decision::StayClosed => self.discard_reconnect_queue(),
            Decision::Retry { attempt, delay } => {
                self.state = ReadyState::Connecting;
                self.follow_ups
                    .push_back(Event::Reconnecting { attempt, delay });
            }
            Decision::GiveUp { attempts } => {
                let discarded = self.reconnect_queue.discard();
                if let Some(last) = self.details.last_error.take() {
                    self.details.last_error = Some(Error::ReconnectGaveUp {
                        attempts,
                        discarded,
                        last: Box::new(last),
                    });
                }
                self.follow_ups
                    .push_back(Event::ReconnectFailed { attempts });
                self.announce_discarded(discarded);
            }
        }
    }

    /// Empties the reconnect queue, telling the game how many messages it dropped.
    fn discard_reconnect_queue(&mut self) {
        let discarded = self.reconnect_queue.discard();
        self.announce_discarded(discarded);
    }

    /// Follows the current event with [`Event::ReconnectQueueDiscarded`] if `count` is not 0.
    fn announce_discarded(&mut self, count: usize) {
        if count > 0 {
            self.follow_ups
                .push_back(Event::ReconnectQueueDiscarded { count });
        }
    }

    /// Queues a message for sending. Fails with [`Error::NotOpen`] (and queues nothing) unless
    /// the connection is open; with [`Error::EmptyMultiplayerPacket`] for an empty message in
    /// Godot's multiplayer protocol. While auto-reconnect connects again it fails with
    /// [`Error::Reconnecting`], or, with [`ReconnectConfig::queue_messages`](crate::ReconnectConfig)
    /// on, keeps the message for the next connection (sent there first, in order) unless the
    /// queue is full ([`Error::ReconnectQueueFull`], the message is not kept).
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        if self.config.godot_multiplayer && message.is_empty() {
            return Err(Error::EmptyMultiplayerPacket);
        }
        match (&self.session, self.state) {
            (Some(session), ReadyState::Open) => {
                session.post(Outbound::Message(message));
                Ok(())
            }
            _ if self.reconnector.attempt() > 0 => self.queue_while_reconnecting(message),
            _ => Err(Error::NotOpen),
        }
    }

    /// Keeps `message` in the reconnect queue when it is on and the game has not closed the
    /// client; else refuses it with [`Error::Reconnecting`].
    fn queue_while_reconnecting(&mut self, message: Message) -> Result<(), Error> {
        match &self.reconnect_target {
            Some((_, config)) if config.reconnect.queue_messages > 0 && !self.closed_by_game => {
                self.reconnect_queue.offer(&config.reconnect, message)
            }
            _ => Err(Error::Reconnecting {
                attempt: self.reconnector.attempt(),
            }),
        }
    }

    /// Starts the close handshake after every message queued so far is sent. While connecting,
    /// abandons the attempt; while waiting to reconnect, stops reconnecting. Either way no
    /// reconnect follows, and the reconnect queue is emptied
    /// ([`Event::ReconnectQueueDiscarded`]). The code must be 1000 or 3000–4999 and the reason
    /// at most [`MAX_CLOSE_REASON_BYTES`] long.
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
                self.closed_by_game = true;
                self.details.peer_id_handshake = None;
                Ok(())
            }
            (None, ReadyState::Connecting) => {
                self.stop_reconnecting();
                Ok(())
            }
            _ => Err(Error::NotOpen),
        }
    }

    /// Cancels the scheduled reconnect attempt. When the game already heard of it
    /// ([`Event::Reconnecting`]), the wait ends like an abandoned attempt, with
    /// [`Event::Closed`]; otherwise (called right after the drop's event) the drop's event was
    /// the last. Either way the reconnect queue is emptied with
    /// [`Event::ReconnectQueueDiscarded`] (after that `Closed`, if any).
    fn stop_reconnecting(&mut self) {
        self.reconnector.cancel();
        self.closed_by_game = true;
        let unheard = matches!(self.follow_ups.front(), Some(Event::Reconnecting { .. }));
        self.follow_ups.clear();
        if unheard {
            self.state = ReadyState::Closed;
            self.discard_reconnect_queue();
        } else {
            self.state = ReadyState::Closing;
            self.incoming.push_back(Incoming::Closed {
                clean: false,
                code: None,
                reason: String::new(),
                error: None,
            });
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
            self.closed_by_game = true;
        }
        self.details.peer_id_handshake = None;
        self.details.last_error = Some(error);
    }

    /// The next thing that happened, if any. Costs one atomic load when nothing did. While
    /// waiting to reconnect, it starts the attempt once its delay passed; while waiting for a
    /// Godot multiplayer server's peer id, it fails the connection once the id is late.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.poll_event_with(Instant::now)
    }

    /// [`poll_event`](Client::poll_event) with the time read from `now`, only when a timer needs
    /// it: tests move the clock instead of waiting.
    pub fn poll_event_with(&mut self, now: impl Fn() -> Instant) -> Option<Event> {
        if let Some(event) = self.follow_ups.pop_front() {
            return Some(event);
        }
        if self.reconnector.is_waiting() {
            self.start_due_reconnect(now());
        }
        if self.incoming.is_empty() {
            if let Some(session) = &self.session {
                session.link.drain_into(&mut self.incoming);
            }
        }
        let Some(incoming) = self.incoming.pop_front() else {
            return self.check_peer_id_deadline(now);
        };
        Some(match incoming {
            Incoming::Opened {
                protocol,
                peer,
                tls,
            } => {
                if let Some(handshake) = &mut self.details.peer_id_handshake {
                    handshake.opened(now());
                }
                self.details.tls = tls;
                if self.state == ReadyState::Connecting {
                    self.state = ReadyState::Open;
                }
                self.details.protocol = protocol.clone();
                self.details.peer = Some(peer);
                if self.reconnector.on_opened() {
                    self.follow_ups.push_back(Event::Reconnected);
                    // Before anything the game sends once it hears of the opening.
                    if let Some(session) = &self.session {
                        for message in self.reconnect_queue.take_all() {
                            session.post(Outbound::Message(message));
                        }
                    }
                }
                Event::Opened { protocol }
            }
            Incoming::Message(message) if self.details.peer_id_handshake.is_some() => {
                self.take_peer_id(message)
            }
            Incoming::Message(message) => {
                self.received.push_back(message);
                Event::MessageReceived
            }
            Incoming::CloseRequested { code, reason } => {
                self.state = ReadyState::Closing;
                self.details.close_code = Some(code);
                self.details.close_reason = reason.clone();
                Event::CloseRequested { code, reason }
            }
            Incoming::Closed {
                clean,
                code,
                reason,
                error,
            } => {
                self.state = ReadyState::Closed;
                self.details.close_code = code;
                self.details.close_reason = reason;
                // A reason given to `fail()` stays when the close itself went fine.
                if error.is_some() {
                    self.details.last_error = error;
                }
                self.end_session();
                self.after_ending(Ending::Dropped { close_code: code }, now());
                Event::Closed { clean }
            }
            Incoming::Failed(error) => {
                // Only an internal error fails a connection that had opened: then it ends as an
                // unclean close.
                let opened = self.state != ReadyState::Connecting;
                self.state = ReadyState::Closed;
                self.details.last_error = Some(error);
                self.end_session();
                if opened {
                    self.after_ending(Ending::Dropped { close_code: None }, now());
                    Event::Closed { clean: false }
                } else {
                    self.after_ending(Ending::AttemptFailed, now());
                    Event::Failed
                }
            }
            Incoming::HandshakeResponse(response) => {
                self.details.handshake_response = Some(*response);
                return self.poll_event_with(now);
            }
        })
    }

    /// Reads the peer id from a Godot multiplayer server's first message, which is not queued;
    /// anything else fails the connection.
    fn take_peer_id(&mut self, message: Message) -> Event {
        self.details.peer_id_handshake = None;
        if let Some(session) = &self.session {
            session.release_inbound(&message);
        }
        match parse_assigned_peer_id(&message) {
            Ok(id) => Event::PeerIdAssigned { id },
            Err(error) => {
                self.fail(error);
                Event::MultiplayerHandshakeFailed
            }
        }
    }

    /// Fails a Godot multiplayer connection whose server sent no peer id in time; reads the
    /// clock only while waiting for one.
    fn check_peer_id_deadline(&mut self, now: impl Fn() -> Instant) -> Option<Event> {
        let handshake = self.details.peer_id_handshake.as_ref()?;
        let error = handshake.check_deadline(now()).err()?;
        self.fail(error);
        Some(Event::MultiplayerHandshakeFailed)
    }

    /// Takes the oldest received message. Messages stay available after the connection closed.
    pub fn take_message(&mut self) -> Option<Message> {
        let message = self.received.pop_front()?;
        if let Some(session) = &self.session {
            session.release_inbound(&message);
        }
        Some(message)
    }

    /// Received messages waiting for [`take_message`](Client::take_message).
    pub fn queued_message_count(&self) -> usize {
        self.received.len()
    }

    /// The newest received message not taken yet: after [`Event::MessageReceived`], its message.
    pub fn newest_message(&self) -> Option<&Message> {
        self.received.back()
    }

    /// Bytes sent by the game and not yet handed to the socket: the payloads of messages not
    /// encoded yet, then their frames (headers included, after compression) until written.
    /// While reconnecting, the payloads in the reconnect queue count too: they are sent once
    /// the connection is open again.
    pub fn buffered_outbound_bytes(&self) -> usize {
        let posted = self
            .session
            .as_ref()
            .map_or(0, |session| session.link.outbound_bytes());
        posted + self.reconnect_queue.bytes()
    }

    /// The connection's state as the game has seen it through [`poll_event`](Client::poll_event).
    pub fn state(&self) -> ReadyState {
        self.state
    }

    /// The URL of the last connection attempt.
    pub fn requested_url(&self) -> &str {
        &self.details.url
    }

    /// The sub-protocol the server selected, or empty.
    pub fn selected_protocol(&self) -> &str {
        &self.details.protocol
    }

    /// The server's address once connected.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.details.peer
    }

    /// The negotiated TLS version and cipher suite of a `wss://` connection once open.
    pub fn tls_info(&self) -> Option<&TlsInfo> {
        self.details.tls.as_ref()
    }

    /// The server's `Sec-WebSocket-Extensions` answer once open (e.g.
    /// `permessage-deflate; client_max_window_bits=12`), or empty when it accepted none.
    pub fn negotiated_extensions(&self) -> String {
        let Some(response) = self
            .details
            .handshake_response
            .as_ref()
            .filter(|r| r.status == 101)
        else {
            return String::new();
        };
        let answers: Vec<&str> = response
            .headers
            .iter()
            .filter(|(name, _)| name == "sec-websocket-extensions")
            .map(|(_, value)| value.as_str())
            .collect();
        answers.join(", ")
    }

    /// The code of the close frame that ended the connection: the server's, or ours when we
    /// failed the connection. `None` when it ended without a close frame.
    pub fn close_code(&self) -> Option<u16> {
        self.details.close_code
    }

    /// The reason of the server's close frame, or empty.
    pub fn close_reason(&self) -> &str {
        &self.details.close_reason
    }

    /// Why the last connection failed or ended abnormally, if it did.
    pub fn last_error(&self) -> Option<&Error> {
        self.details.last_error.as_ref()
    }

    /// How many times auto-reconnect opened the connection again since the last
    /// [`connect`](Client::connect).
    pub fn reconnect_count(&self) -> u64 {
        self.reconnector.reconnects()
    }

    /// The HTTP or SOCKS5 proxy (`host:port`, never its credentials) the last connection attempt went
    /// through, or `None` when it went directly. Through a proxy,
    /// [`peer_addr`](Client::peer_addr) is the proxy's address.
    pub fn proxy(&self) -> Option<&str> {
        self.details.proxy.as_deref()
    }

    /// Ends the connection at once, without the close handshake, for a failure outside the
    /// engine (e.g. a panic in the code driving this client): the I/O thread releases it,
    /// sending close code 1001 if it was open. The next [`poll_event`](Client::poll_event)s
    /// return what had already arrived, then [`Event::Failed`] (not open yet) or
    /// `Event::Closed { clean: false }`, with `error` as the last error. Does nothing when the
    /// client is closed or its end is already on the way.
    pub fn abort(&mut self, error: Error) {
        let Some(session) = self.session.take() else {
            return;
        };
        self.details.final_statistics = session.link.statistics.snapshot();
        // A panic is a bug that would likely strike again: no auto-reconnect.
        self.closed_by_game = true;
        session.link.drain_into(&mut self.incoming);
        let ending_queued = self
            .incoming
            .iter()
            .any(|item| matches!(item, Incoming::Closed { .. } | Incoming::Failed(_)));
        if !ending_queued {
            self.incoming.push_back(Incoming::Failed(error));
        }
    }

    /// The server's HTTP answer to the last upgrade request, once the game has polled the
    /// connection's opening or failure: 101 and its headers, or a refusal's status, headers and
    /// body. `None` when no answer came (e.g. the TCP connect failed).
    pub fn handshake_response(&self) -> Option<&HandshakeResponse> {
        self.details.handshake_response.as_ref()
    }

    /// The traffic counters and round-trip time of the current or last connection, counted from
    /// its [`connect`](Client::connect); live while it is open, kept once it ended.
    pub fn statistics(&self) -> Statistics {
        self.session
            .as_ref()
            .map_or(self.details.final_statistics, |session| {
                session.link.statistics.snapshot()
            })
    }

    /// The smoothed round-trip time of the heartbeat's pings (RFC 6298, α = 1/8), or `None`
    /// before the first pong (or with the heartbeat off).
    pub fn round_trip_time(&self) -> Option<std::time::Duration> {
        self.statistics().round_trip_time
    }

    /// Drops the connection's session, keeping its final counters, and its peer-id handshake.
    fn end_session(&mut self) {
        self.details.peer_id_handshake = None;
        if let Some(session) = self.session.take() {
            self.details.final_statistics = session.link.statistics.snapshot();
        }
    }
}
