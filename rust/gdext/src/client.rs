//! `RustWebSocketClient`: the engine's [`Client`] as a Godot class with the API of Godot 4.0's
//! `WebSocketClient` and `WebSocketPeer`.
//!
//! This file holds the class: its properties with their defaults, its constants and signals, the
//! calls that connect and close, and the last error. The rest of the class, by role:
//! - `enums`: the `State` and `WriteMode` enums and their constants;
//! - `connection_info`: what the connection is (state, server, TLS, the upgrade's answer);
//! - `messages`: sending and taking messages;
//! - `events`: [`poll`](IMultiplayerPeerExtension::poll) turning engine events into signals;
//! - `multiplayer_peer`: the [`IMultiplayerPeerExtension`] implementation;
//! - `refusals`: refused calls, the last error and the panic guard;
//! - `statistics`: the traffic counters and their Performance monitors;
//! - `settings`: the properties turned into the engine's
//!   [`Config`](rust_websocket_engine::Config), and the conversions.

mod connection_info;
mod enums;
mod events;
mod messages;
mod multiplayer_peer;
mod refusals;
mod settings;
mod statistics;

use crate::convert::connect_request;
use crate::debugger::DebuggerReporter;
use godot::classes::multiplayer_peer::TransferMode;
#[cfg(doc)]
use godot::classes::IMultiplayerPeerExtension;
use godot::classes::{CryptoKey, MultiplayerPeerExtension, X509Certificate};
use godot::global::Error as GodotError;
use godot::prelude::*;
use rust_websocket_engine::{Client, ConnectRequest, Error};

use crate::main_thread::main_thread_only;
use crate::packet_reads::PacketReads;
use enums::WRITE_MODE_BINARY;
pub use enums::{register_enums, State, WriteMode};

/// A WebSocket client for any RFC 6455 server, with TLS by rustls, no 64 KiB message ceiling, no
/// silently dropped data, and errors that say what went wrong.
///
/// It keeps the API of Godot 4.0's `WebSocketClient` (signals, [method connect_to_url],
/// [method disconnect_from_host]) and of [WebSocketPeer] ([method get_ready_state],
/// [method send_text], [method get_packet], [method was_string_packet]). Every call returns at
/// once: name resolution, connecting, TLS and all socket I/O run on a shared background thread,
/// which keeps answering pings and reading data (up to [member inbound_queue_limit]) even while
/// the game's main thread is busy.
///
/// Call [method MultiplayerPeer.poll] regularly (e.g. in [method Node._process]): it emits the
/// signals for everything that happened since the last call. Read messages either by connecting
/// [signal message_received], which hands you each payload, or with [signal data_received] and
/// [method PacketPeer.get_packet]. Messages received before a close stay readable after it.
/// With [member auto_reconnect], a dropped connection connects again by itself (see
/// [signal reconnecting]).
///
/// Call every method, [method MultiplayerPeer.poll] included, from the main thread; the network
/// work already runs in the background. A call from another thread is refused with an error
/// naming the method (use [method Object.call_deferred] to send from a worker thread).
///
/// ```gdscript
/// var socket := RustWebSocketClient.new()
///
/// func _ready():
///     socket.message_received.connect(func(message, is_text): print("got ", message))
///     socket.connect_to_url("wss://example.com/chat")
///
/// func _process(_delta):
///     socket.poll()
///     if socket.get_ready_state() == RustWebSocketClient.STATE_OPEN:
///         socket.send_text("hello")
/// ```
#[derive(GodotClass)]
#[class(init, tool, base = MultiplayerPeerExtension)]
pub struct RustWebSocketClient {
    // --- TLS ---
    /// If [code]true[/code], the [code]wss://[/code] server's certificate and host name are
    /// verified. Set it to [code]false[/code] only for development: any certificate is then
    /// accepted, and a warning naming the host is printed. Applies to the next connection.
    #[var(get = is_verify_tls_enabled, set = set_verify_tls_enabled)]
    #[export]
    #[init(val = true)]
    verify_tls: bool,
    /// If set, the certificate (or chain) it holds is the only one trusted for
    /// [code]wss://[/code], as with Godot's [method TLSOptions.client]: a server presenting one
    /// of them as its own certificate is accepted when it is within its validity period, proves
    /// it holds the key, and names the host (a self-signed certificate from
    /// [method Crypto.generate_self_signed_certificate] or [code]openssl req -x509[/code] works);
    /// a server whose certificate one of them issued (a private CA) is verified in full.
    /// If [code]null[/code], the well-known public roots and the system's trust store are
    /// trusted (see [member use_system_trust_store]). Applies to the next connection. For a file
    /// of several certificates, load it as a resource
    /// ([code]load("res://ca_chain.crt")[/code]) so all of them are read: Godot's
    /// [method X509Certificate.save_to_string] returns only the first.
    #[export]
    trusted_tls_certificate: Option<Gd<X509Certificate>>,
    /// The host name the server's certificate must be valid for, when it differs from the URL's
    /// host: e.g. connect to [code]wss://203.0.113.7[/code] and verify the certificate for
    /// [code]game.example.com[/code] (Godot's common-name override). Empty (default) means the
    /// URL's host. Applies to the next connection.
    #[export]
    tls_server_name: GString,
    /// The certificate (or chain: yours first) to present when the server asks for one (mutual
    /// TLS), with its key in [member tls_client_key]; set both or neither. Applies to the next
    /// connection.
    #[export]
    tls_client_certificate: Option<Gd<X509Certificate>>,
    /// The private key of [member tls_client_certificate]. Applies to the next connection.
    #[export]
    tls_client_key: Option<Gd<CryptoKey>>,
    /// If [code]true[/code] (default) and [member trusted_tls_certificate] is [code]null[/code],
    /// the operating system's trusted certificates are trusted along with the bundled Mozilla
    /// roots, as Godot 4.1+ does: a root your company or the player installed (e.g. for a
    /// network that inspects TLS) works. Read once per run of the game. Applies to the next
    /// connection.
    #[export]
    #[init(val = true)]
    use_system_trust_store: bool,

    // --- Limits and timeouts ---
    /// Largest message accepted from the server, in bytes (default 64 MiB). A larger message
    /// closes the connection with code 1009 and a [method get_last_error] saying so.
    #[export]
    #[init(val = 67108864)]
    max_message_size: i64,
    /// Bytes of received messages not yet read at which the client stops reading from the
    /// socket (default 16 MiB), so the server is slowed down by TCP instead of data being
    /// dropped. Reading resumes as messages are read.
    #[export]
    #[init(val = 16777216)]
    inbound_queue_limit: i64,
    /// Seconds allowed for resolving, connecting, TLS and the HTTP upgrade (default 10).
    #[export]
    #[init(val = 10.0)]
    handshake_timeout: f64,
    /// Seconds allowed for the server to finish the close handshake (default 5).
    #[export]
    #[init(val = 5.0)]
    close_timeout: f64,
    // --- Compression ---
    /// If [code]true[/code] (default), permessage-deflate compression is offered, as browsers
    /// do; when the server accepts it, messages are compressed and inflated without anything to
    /// do on your side (see [method get_negotiated_extensions]). Set it to [code]false[/code]
    /// to save the CPU time when messages are small or already compressed. Applies to the next
    /// connection.
    #[export]
    #[init(val = true)]
    compression_enabled: bool,

    // --- Auto-reconnect ---
    /// If [code]true[/code], a connection that drops, or an attempt that fails, is connected
    /// again to the same URL with the same protocols, headers and TLS settings, after a delay
    /// that grows from [member reconnect_delay_initial] to [member reconnect_delay_max]; see
    /// [signal reconnecting]. Never after [method disconnect_from_host], after a close code in
    /// [member reconnect_final_close_codes], or as a multiplayer peer
    /// ([code]gd_mp_api = true[/code]: the server would assign a new peer id). Default
    /// [code]false[/code]. Applies to the next [method connect_to_url].
    #[export]
    #[init(val = false)]
    auto_reconnect: bool,
    /// Seconds before the first reconnect attempt (default 0.5); each further attempt doubles
    /// it, up to [member reconnect_delay_max]. The actual delay is chosen at random between half
    /// and all of that, so many clients dropped at once do not return at once.
    #[export]
    #[init(val = 0.5)]
    reconnect_delay_initial: f64,
    /// The longest delay between reconnect attempts, in seconds (default 30).
    #[export]
    #[init(val = 30.0)]
    reconnect_delay_max: f64,
    /// Failed attempts in a row after which the client gives up with
    /// [signal reconnect_failed] (default 10); 0 means it never gives up. The count starts again
    /// once the connection is open.
    #[export]
    #[init(val = 10)]
    reconnect_max_attempts: i64,
    /// Close codes after which the client does not reconnect, whoever sent the close frame.
    /// Default [code][1000, 1002, 1003, 1007, 1008, 1009][/code]: a normal closure (the server
    /// ended the session on purpose), and protocol error, unsupported data, invalid payload,
    /// policy violation and message too big, which would happen again. Add your server's own
    /// codes (e.g. 4003 for "banned"); 1001 (going away), 1011, 1012, 1013 and an ending without
    /// a close frame reconnect.
    #[export]
    #[init(val = PackedInt32Array::from([1000, 1002, 1003, 1007, 1008, 1009]))]
    reconnect_final_close_codes: PackedInt32Array,
    /// Messages kept while [member auto_reconnect] connects again, sent in order once the
    /// connection is open again and before anything sent after [signal reconnected]. Default
    /// [code]0[/code]: the queue is off and sends while reconnecting return
    /// [constant ERR_UNCONFIGURED], since a server may have moved on (a new session, a new
    /// room). A send that would go over this or [member reconnect_queue_bytes] returns
    /// [constant ERR_BUSY] and is not kept; [method get_last_error] names the limit. When the
    /// client gives up or [method disconnect_from_host] is called while reconnecting, the queue
    /// is emptied with [signal reconnect_queue_discarded]. Applies to the next
    /// [method connect_to_url].
    #[export]
    #[init(val = 0)]
    reconnect_queue_messages: i64,
    /// Payload bytes the reconnect queue ([member reconnect_queue_messages]) holds at most
    /// (default 1 MiB).
    #[export]
    #[init(val = 1048576)]
    reconnect_queue_bytes: i64,
    // --- Proxy and connect timeout ---
    /// The proxy every connection goes through: an HTTP proxy (it must support
    /// [code]CONNECT[/code]), e.g. [code]"http://proxy.lan:3128"[/code] or, with basic
    /// authentication, [code]"http://user:password@proxy.lan:3128"[/code] (percent-encode special
    /// characters), or a SOCKS5 proxy, [code]"socks5h://user:password@proxy.lan:1080"[/code]
    /// (the proxy resolves the server's name) or [code]"socks5://..."[/code] (resolved here).
    /// Empty (default): the environment decides, see [member use_environment_proxy].
    /// [code]wss://[/code] certificates are still checked for the server. Errors never show the
    /// password. Applies to the next connection.
    #[export]
    proxy_url: GString,
    /// If [code]true[/code] (default, as curl and most HTTP clients do) and [member proxy_url]
    /// is empty, the proxy comes from the environment, read at each connect (so
    /// [method OS.set_environment] works): [code]HTTPS_PROXY[/code] for [code]wss://[/code],
    /// [code]HTTP_PROXY[/code] for [code]ws://[/code] (lowercase names win), then
    /// [code]all_proxy[/code] / [code]ALL_PROXY[/code]; each may name an HTTP or SOCKS5 proxy.
    /// Hosts in [code]NO_PROXY[/code] are reached directly (comma-separated: [code]*[/code],
    /// domains with their subdomains, IP addresses, optionally with [code]:port[/code]).
    /// Loopback hosts ([code]localhost[/code], 127.0.0.1, ::1) are always reached directly.
    #[export]
    #[init(val = true)]
    use_environment_proxy: bool,
    /// Seconds allowed for the TCP connect (default 5), to the server or to the proxy. The
    /// host's IPv6 and IPv4 addresses are raced (happy eyeballs, RFC 8305): the next address is
    /// tried 0.25 s after the previous one unless it answered, and the first to connect wins, so
    /// a family that does not answer costs 0.25 s, not a timeout. [code]localhost[/code] is
    /// tried as both ::1 and 127.0.0.1. [member handshake_timeout] still bounds the whole
    /// handshake.
    #[export]
    #[init(val = 5.0)]
    connect_timeout: f64,

    // --- Heartbeat ---
    /// Seconds between the pings the client sends while the connection is open, from its
    /// background thread (so they go on while the main thread is busy); each pong updates
    /// [method get_round_trip_time]. [code]0[/code] (default) turns the heartbeat off. Applies to
    /// the next connection.
    #[export]
    #[init(val = 0.0)]
    heartbeat_interval: f64,
    /// With [member heartbeat_interval] set: seconds allowed after a ping for anything at all
    /// (a pong or any message) to arrive from the server. Past it the connection is dropped as
    /// lost: [signal connection_closed] with [code]false[/code] and a [method get_last_error]
    /// saying so (default 10). It does not run while reading is paused by
    /// [member inbound_queue_limit]. [code]0[/code]: never drop, only measure the round trip.
    /// Applies to the next connection.
    #[export]
    #[init(val = 10.0)]
    heartbeat_timeout: f64,

    // --- Upgrade request and write mode ---
    /// Extra [code]"Name: value"[/code] lines sent with the upgrade request of every
    /// [method connect_to_url] that passes no [param custom_headers] of its own (as
    /// [member WebSocketPeer.handshake_headers]); a non-empty [param custom_headers] argument is
    /// used instead of this, not added to it. Applies to the next connection.
    #[export]
    handshake_headers: PackedStringArray,
    /// How [method put_packet] sends its data, as Godot 3's [code]WebSocketPeer.set_write_mode()[/code]:
    /// [constant WRITE_MODE_BINARY] (default) as a binary message, [constant WRITE_MODE_TEXT] as
    /// a text message (then the data must be UTF-8, else [constant ERR_INVALID_DATA]). As a
    /// multiplayer peer ([code]gd_mp_api = true[/code]) packets are always binary.
    /// [method send] and [method send_text] do not read it.
    #[var(get = get_write_mode, set = set_write_mode)]
    #[export]
    #[init(val = WRITE_MODE_BINARY)]
    write_mode: WriteMode,

    // --- State (not properties) ---
    /// The engine's client: the connection itself.
    client: Client,
    /// The last message read, by [method get_packet] or by Godot through `_get_packet`.
    reads: PacketReads,
    /// What [method get_last_error] returns. Written only by `refuse_call` (a refused or
    /// panicked call) and `remember_engine_error` (an ending, with the engine's error), and
    /// cleared by a successful [method connect_to_url].
    last_error: String,
    /// Whether the connection speaks Godot's multiplayer protocol (`gd_mp_api = true`).
    multiplayer: bool,
    /// The peer id the multiplayer server assigned, or 0 before it did.
    peer_id: i32,
    transfer_channel: i32,
    #[init(val = TransferMode::RELIABLE)]
    transfer_mode: TransferMode,
    /// The ids of the Performance monitors this client added, removed when it is freed.
    performance_monitors: Vec<StringName>,
    debugger: DebuggerReporter,
    base: Base<MultiplayerPeerExtension>,
}

#[godot_api]
impl RustWebSocketClient {
    // --- Constants: the enums `State` and `WriteMode`, in `enums` ---

    // --- Signals (secondary blocks cannot declare any) ---

    /// Emitted when the connection is open; [param protocol] is the sub-protocol the server
    /// selected, or empty.
    #[signal]
    fn connection_established(protocol: GString);

    /// Emitted once per received message that arrives while nothing is connected to
    /// [signal message_received]. Read the message with [method PacketPeer.get_packet] (or
    /// [code]get_peer(1).get_packet()[/code]); one left unread goes to
    /// [signal message_received] once something is connected to it.
    /// Not emitted when used as a multiplayer peer.
    #[signal]
    fn data_received();

    /// Emitted once per received message with its payload: a [String] for a text message, a
    /// [PackedByteArray] for a binary one (and for a text holding U+0000, which a [String]
    /// cannot hold: [param is_text] is then [code]true[/code]). While anything is connected to
    /// this signal,
    /// [method MultiplayerPeer.poll] hands it every queued message, oldest first, so nothing piles
    /// up for [method PacketPeer.get_packet]; that includes messages that arrived while nothing was
    /// connected, e.g. between two [code]await socket.message_received[/code], so an
    /// [code]await[/code] never misses one.
    #[signal]
    fn message_received(message: Variant, is_text: bool);

    /// Emitted when the connection ended. [param was_clean_close] is [code]true[/code] if the close
    /// handshake completed. See [method get_close_code] and [method get_last_error].
    #[signal]
    fn connection_closed(was_clean_close: bool);

    /// Emitted when the server starts the close handshake. Keep polling until
    /// [signal connection_closed].
    #[signal]
    fn server_close_request(code: i64, reason: GString);

    /// Emitted when the connection attempt failed; [method get_last_error] says why.
    #[signal]
    fn connection_error();

    /// Emitted when [member auto_reconnect] connects again after [param delay] seconds; this is
    /// attempt number [param attempt] (from 1) since the connection was last open. It follows
    /// the [signal connection_closed] or [signal connection_error] that ended the previous
    /// connection or attempt (in their handlers [method get_ready_state] is already
    /// [constant STATE_CONNECTING] when an attempt follows). Until the connection is open again,
    /// sending returns [constant ERR_UNCONFIGURED] and queues nothing, unless
    /// [member reconnect_queue_messages] turns the reconnect queue on; messages received before
    /// the drop stay readable.
    #[signal]
    fn reconnecting(attempt: i64, delay: f64);

    /// Emitted when the connection is open again after a drop, right after
    /// [signal connection_established] (which fires for every connection, so handlers that
    /// log in or join a room run again).
    #[signal]
    fn reconnected();

    /// Emitted when [member auto_reconnect] gave up after [member reconnect_max_attempts]
    /// failed attempts in a row, after the last [signal connection_error]. The client is then
    /// closed; [method get_last_error] says why the last attempt failed.
    #[signal]
    fn reconnect_failed();

    /// Emitted when the reconnect queue ([member reconnect_queue_messages]) was emptied without
    /// sending its [param count] messages: after [signal reconnect_failed] (then
    /// [method get_last_error] gives the count too), or after [method disconnect_from_host]
    /// while reconnecting. Only when something was queued.
    #[signal]
    fn reconnect_queue_discarded(count: i64);

    // --- Connecting and closing ---

    /// Starts connecting to a [code]ws://[/code] or [code]wss://[/code] URL and returns at once.
    /// [param protocols] are offered as sub-protocols (the server must pick one of them).
    /// [param custom_headers] entries are [code]"Name: value"[/code] lines added to the upgrade
    /// request; when it is empty, those of [member handshake_headers] are sent instead. Returns
    /// [constant OK], or an error for a malformed URL or header, an unsupported scheme or an
    /// unusable proxy URL ([constant ERR_INVALID_PARAMETER]) or a connection already in progress
    /// ([constant ERR_ALREADY_IN_USE]); [method get_last_error] says which.
    ///
    /// With [param gd_mp_api] [code]true[/code], the client joins a Godot
    /// [WebSocketMultiplayerPeer] server as a [MultiplayerPeer]: assign it to
    /// [member MultiplayerAPI.multiplayer_peer] and RPCs, [MultiplayerSpawner] and
    /// [MultiplayerSynchronizer] work as with Godot's own client. It is connected once the server
    /// assigned its peer id ([signal MultiplayerPeer.peer_connected] with id 1); a server that
    /// sends no id within [member handshake_timeout] fails with [signal connection_error].
    /// [signal data_received] and [signal message_received] are not emitted in this mode.
    #[func]
    fn connect_to_url(
        &mut self,
        url: GString,
        #[opt(default = &PackedStringArray::new())] protocols: PackedStringArray,
        #[opt(default = false)] gd_mp_api: bool,
        #[opt(default = &PackedStringArray::new())] custom_headers: PackedStringArray,
    ) -> GodotError {
        main_thread_only!("connect_to_url", GodotError::ERR_UNAVAILABLE);
        self.guarded("connect_to_url", GodotError::ERR_BUG, |this| {
            this.connect_to_url_unguarded(url, protocols, gd_mp_api, custom_headers)
        })
    }

    /// Makes auto-reconnect's next attempt, and those after it, connect to [param url] with
    /// [param protocols] and [param custom_headers] (when empty, [member handshake_headers])
    /// instead of what [method connect_to_url] was given: a resume URL a server handed out, or a
    /// header with a refreshed token. Call it from the handler of [signal reconnecting], or ahead
    /// of time while connected; the other settings stay as they were. Returns [constant OK],
    /// [constant ERR_INVALID_PARAMETER] for a malformed URL, header or sub-protocol, and
    /// [constant ERR_UNCONFIGURED] when [member auto_reconnect] was off at
    /// [method connect_to_url], for a multiplayer peer, or once closed; [method get_last_error]
    /// says which.
    #[func]
    fn set_reconnect_url(
        &mut self,
        url: GString,
        #[opt(default = &PackedStringArray::new())] protocols: PackedStringArray,
        #[opt(default = &PackedStringArray::new())] custom_headers: PackedStringArray,
    ) -> GodotError {
        main_thread_only!("set_reconnect_url", GodotError::ERR_UNAVAILABLE);
        let result = self
            .connect_request(&url, &protocols, &custom_headers)
            .and_then(|request| self.client.set_reconnect_request(request));
        match result {
            Ok(()) => GodotError::OK,
            Err(error) => self.refuse(error),
        }
    }

    /// The engine's request for [param url], [param protocols] and [param custom_headers] (when
    /// empty, [member handshake_headers]).
    fn connect_request(
        &self,
        url: &GString,
        protocols: &PackedStringArray,
        custom_headers: &PackedStringArray,
    ) -> Result<ConnectRequest, Error> {
        let headers = if custom_headers.is_empty() {
            &self.handshake_headers
        } else {
            custom_headers
        };
        connect_request(url, protocols, headers)
    }

    fn connect_to_url_unguarded(
        &mut self,
        url: GString,
        protocols: PackedStringArray,
        gd_mp_api: bool,
        custom_headers: PackedStringArray,
    ) -> GodotError {
        let request = self.connect_request(&url, &protocols, &custom_headers);
        let result = request.and_then(|request| {
            let config = self
                .connection_config()?
                .with_godot_multiplayer(gd_mp_api);
            if request.is_secure() && !config.tls.verify {
                godot_warn!(
                    "RustWebSocketClient: TLS certificates are not verified for {} (verify_tls = false). Use this for development only.",
                    request.host()
                );
            }
            *self.client.config_mut() = config;
            self.client.connect(request)
        });
        match result {
            Ok(()) => {
                self.debugger
                    .connecting(self.base().instance_id(), &self.client);
                self.last_error.clear();
                self.reads.clear();
                self.multiplayer = gd_mp_api;
                self.peer_id = 0;
                GodotError::OK
            }
            Err(error) => self.refuse(error),
        }
    }

    /// Starts the close handshake with [param code] (1000, or 3000–4999) and [param reason]
    /// (at most 123 bytes). Messages sent before are delivered first. While connecting, abandons
    /// the attempt; while waiting to reconnect, stops reconnecting. Keep polling until
    /// [signal connection_closed] (unless called from the handler of the
    /// [signal connection_closed] or [signal connection_error] that ended the connection). Does
    /// nothing when already closed or closing; an invalid code or reason is refused, with
    /// [method get_last_error] saying why.
    #[func]
    fn disconnect_from_host(
        &mut self,
        #[opt(default = 1000)] code: i64,
        #[opt(default = "")] reason: GString,
    ) {
        main_thread_only!("disconnect_from_host");
        self.guarded("disconnect_from_host", (), |this| {
            match this.client.close(code, &reason.to_string()) {
                Ok(()) => this.debugger.closing(code, &reason, &this.client),
                // Already closed or closing: nothing to do, and the last error stays readable.
                Err(Error::NotOpen) => {}
                Err(error) => {
                    this.refuse(error);
                }
            }
        })
    }

    /// If [code]true[/code], TLS certificates are verified (the getter of [member verify_tls]).
    #[func]
    fn is_verify_tls_enabled(&self) -> bool {
        self.verify_tls
    }

    /// Turns TLS certificate verification on or off (the setter of [member verify_tls]).
    #[func]
    fn set_verify_tls_enabled(&mut self, enabled: bool) {
        self.verify_tls = enabled;
    }

    /// How [method put_packet] sends its data (the getter of [member write_mode]).
    #[func]
    fn get_write_mode(&self) -> WriteMode {
        self.write_mode
    }

    /// Makes [method put_packet] send text or binary messages (the setter of
    /// [member write_mode]), as Godot 3's [code]WebSocketPeer.set_write_mode()[/code].
    #[func]
    fn set_write_mode(&mut self, mode: WriteMode) {
        self.write_mode = mode;
    }
}
