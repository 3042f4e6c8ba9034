//! `RustWebSocketClient`: the engine's [`Client`] as a Godot class with the API of Godot 4.0's
//! `WebSocketClient` and `WebSocketPeer`.

use std::time::{Duration, Instant};

use crate::panic_guard;
use godot::classes::multiplayer_peer::{ConnectionStatus, TransferMode};
use godot::classes::{
    FileAccess, IMultiplayerPeerExtension, MultiplayerPeerExtension, Performance, X509Certificate,
};
use godot::global::Error as GodotError;
use godot::prelude::*;
use godot_core::meta::RawPtr;
use rust_websocket_engine::multiplayer::{parse_assigned_peer_id, SERVER_PEER_ID};
use rust_websocket_engine::ProxySetting;
use rust_websocket_engine::{
    parse_pem_certificates, Client, Config, ConnectRequest, Error, Event, Message, ReadyState,
    ReconnectConfig, Statistics, TlsConfig,
};

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
#[class(tool, base = MultiplayerPeerExtension)]
pub struct RustWebSocketClient {
    /// If [code]true[/code], the [code]wss://[/code] server's certificate and host name are
    /// verified. Set it to [code]false[/code] only for development: any certificate is then
    /// accepted, and a warning naming the host is printed. Applies to the next connection.
    #[var(get = is_verify_tls_enabled, set = set_verify_tls_enabled)]
    verify_tls: bool,
    /// If set, the certificate (or chain) it holds is the only trust anchor for
    /// [code]wss://[/code]: a self-signed server certificate or a private CA works with it.
    /// If [code]null[/code], the well-known public roots are trusted. Applies to the next
    /// connection. For a file of several certificates, load it as a resource
    /// ([code]load("res://ca_chain.crt")[/code]) so all of them are read: Godot's
    /// [method X509Certificate.save_to_string] returns only the first.
    #[var]
    trusted_tls_certificate: Option<Gd<X509Certificate>>,
    /// The host name the server's certificate must be valid for, when it differs from the URL's
    /// host: e.g. connect to [code]wss://203.0.113.7[/code] and verify the certificate for
    /// [code]game.example.com[/code] (Godot's common-name override). Empty (default) means the
    /// URL's host. Applies to the next connection.
    #[var]
    tls_server_name: GString,
    /// Largest message accepted from the server, in bytes (default 64 MiB). A larger message
    /// closes the connection with code 1009 and a [method get_last_error] saying so.
    #[var]
    max_message_size: i64,
    /// Bytes of received messages not yet read at which the client stops reading from the
    /// socket (default 16 MiB), so the server is slowed down by TCP instead of data being
    /// dropped. Reading resumes as messages are read.
    #[var]
    inbound_queue_limit: i64,
    /// Seconds allowed for resolving, connecting, TLS and the HTTP upgrade (default 10).
    #[var]
    handshake_timeout: f64,
    /// Seconds allowed for the server to finish the close handshake (default 5).
    #[var]
    close_timeout: f64,
    // --- Compression ---
    /// If [code]true[/code] (default), permessage-deflate compression is offered, as browsers
    /// do; when the server accepts it, messages are compressed and inflated without anything to
    /// do on your side (see [method get_negotiated_extensions]). Set it to [code]false[/code]
    /// to save the CPU time when messages are small or already compressed. Applies to the next
    /// connection.
    #[var]
    compression_enabled: bool,

    // --- Auto-reconnect ---
    /// If [code]true[/code], a connection that drops, or an attempt that fails, is connected
    /// again to the same URL with the same protocols, headers and TLS settings, after a delay
    /// that grows from [member reconnect_delay_initial] to [member reconnect_delay_max]; see
    /// [signal reconnecting]. Never after [method disconnect_from_host], after a close code in
    /// [member reconnect_final_close_codes], or as a multiplayer peer
    /// ([code]gd_mp_api = true[/code]: the server would assign a new peer id). Default
    /// [code]false[/code]. Applies to the next [method connect_to_url].
    #[var]
    auto_reconnect: bool,
    /// Seconds before the first reconnect attempt (default 0.5); each further attempt doubles
    /// it, up to [member reconnect_delay_max]. The actual delay is chosen at random between half
    /// and all of that, so many clients dropped at once do not return at once.
    #[var]
    reconnect_delay_initial: f64,
    /// The longest delay between reconnect attempts, in seconds (default 30).
    #[var]
    reconnect_delay_max: f64,
    /// Failed attempts in a row after which the client gives up with
    /// [signal reconnect_failed] (default 10); 0 means it never gives up. The count starts again
    /// once the connection is open.
    #[var]
    reconnect_max_attempts: i64,
    /// Close codes after which the client does not reconnect, whoever sent the close frame.
    /// Default [code][1000, 1002, 1003, 1007, 1008, 1009][/code]: a normal closure (the server
    /// ended the session on purpose), and protocol error, unsupported data, invalid payload,
    /// policy violation and message too big, which would happen again. Add your server's own
    /// codes (e.g. 4003 for "banned"); 1001 (going away), 1011, 1012, 1013 and an ending without
    /// a close frame reconnect.
    #[var]
    reconnect_final_close_codes: PackedInt32Array,
    // --- Proxy and connect timeout ---
    /// The HTTP proxy every connection goes through (it must support [code]CONNECT[/code]), e.g.
    /// [code]"http://proxy.lan:3128"[/code] or, with basic authentication,
    /// [code]"http://user:password@proxy.lan:3128"[/code] (percent-encode special characters).
    /// Empty (default): the environment decides, see [member use_environment_proxy]. The proxy
    /// resolves the server's name; [code]wss://[/code] certificates are still checked for the
    /// server. Errors never show the password. Applies to the next connection.
    #[var]
    proxy_url: GString,
    /// If [code]true[/code] (default, as curl and most HTTP clients do) and [member proxy_url]
    /// is empty, the proxy comes from the environment, read at each connect (so
    /// [method OS.set_environment] works): [code]HTTPS_PROXY[/code] for [code]wss://[/code],
    /// [code]HTTP_PROXY[/code] for [code]ws://[/code] (lowercase names win), except for hosts in
    /// [code]NO_PROXY[/code] (comma-separated: [code]*[/code], domains with their subdomains,
    /// IP addresses, optionally with [code]:port[/code]). Loopback hosts ([code]localhost[/code],
    /// 127.0.0.1, ::1) are always reached directly.
    #[var]
    use_environment_proxy: bool,
    /// Seconds allowed for the TCP connect (default 5), to the server or to the proxy. The
    /// host's IPv6 and IPv4 addresses are raced (happy eyeballs, RFC 8305): the next address is
    /// tried 0.25 s after the previous one unless it answered, and the first to connect wins, so
    /// a family that does not answer costs 0.25 s, not a timeout. [code]localhost[/code] is
    /// tried as both ::1 and 127.0.0.1. [member handshake_timeout] still bounds the whole
    /// handshake.
    #[var]
    connect_timeout: f64,

    // --- Heartbeat ---
    /// Seconds between the pings the client sends while the connection is open, from its
    /// background thread (so they go on while the main thread is busy); each pong updates
    /// [method get_round_trip_time]. [code]0[/code] (default) turns the heartbeat off. Applies to
    /// the next connection.
    #[var]
    heartbeat_interval: f64,
    /// With [member heartbeat_interval] set: seconds allowed after a ping for anything at all
    /// (a pong or any message) to arrive from the server. Past it the connection is dropped as
    /// lost: [signal connection_closed] with [code]false[/code] and a [method get_last_error]
    /// saying so (default 10). It does not run while reading is paused by
    /// [member inbound_queue_limit]. [code]0[/code]: never drop, only measure the round trip.
    /// Applies to the next connection.
    #[var]
    heartbeat_timeout: f64,

    client: Client,
    /// The packet last returned by [method PacketPeer.get_packet]; Godot reads it through a
    /// pointer until the next call.
    current_packet: Option<Message>,
    last_error: String,
    /// Whether the connection speaks Godot's multiplayer protocol (`gd_mp_api = true`).
    multiplayer: bool,
    /// The peer id the multiplayer server assigned, or 0 before it did.
    peer_id: i32,
    /// When the multiplayer server must have sent the peer id.
    peer_id_deadline: Option<Instant>,
    transfer_channel: i32,
    transfer_mode: TransferMode,
    /// The ids of the Performance monitors this client added, removed when it is freed.
    performance_monitors: Vec<StringName>,
    base: Base<MultiplayerPeerExtension>,
}

#[godot_api]
impl IMultiplayerPeerExtension for RustWebSocketClient {
    fn init(base: Base<MultiplayerPeerExtension>) -> Self {
        let defaults = Config::default();
        Self {
            verify_tls: true,
            trusted_tls_certificate: None,
            tls_server_name: GString::new(),
            max_message_size: defaults.max_message_size as i64,
            inbound_queue_limit: defaults.inbound_queue_limit as i64,
            handshake_timeout: defaults.handshake_timeout.as_secs_f64(),
            close_timeout: defaults.close_timeout.as_secs_f64(),
            auto_reconnect: defaults.reconnect.enabled,
            reconnect_delay_initial: defaults.reconnect.initial_delay.as_secs_f64(),
            reconnect_delay_max: defaults.reconnect.max_delay.as_secs_f64(),
            reconnect_max_attempts: i64::from(defaults.reconnect.max_attempts),
            reconnect_final_close_codes: defaults
                .reconnect
                .final_close_codes
                .iter()
                .map(|&code| i32::from(code))
                .collect(),
            proxy_url: GString::new(),
            use_environment_proxy: defaults.proxy == ProxySetting::FromEnvironment,
            connect_timeout: defaults.connect_timeout.as_secs_f64(),
            compression_enabled: defaults.compression,
            heartbeat_interval: defaults.heartbeat_interval.as_secs_f64(),
            heartbeat_timeout: defaults.heartbeat_timeout.as_secs_f64(),
            client: Client::new(defaults),
            current_packet: None,
            last_error: String::new(),
            multiplayer: false,
            peer_id: 0,
            peer_id_deadline: None,
            transfer_channel: 0,
            transfer_mode: TransferMode::RELIABLE,
            performance_monitors: Vec::new(),
            base,
        }
    }

    /// Emits the signals for everything that happened since the last call. Never blocks.
    fn poll(&mut self) {
        self.guarded("poll", (), Self::emit_events);
    }

    unsafe fn get_packet_rawptr(
        &mut self,
        r_buffer: RawPtr<*mut RawPtr<*const u8>>,
        r_buffer_size: RawPtr<*mut i32>,
    ) -> GodotError {
        self.current_packet = self.guarded("get_packet", None, |this| this.client.take_message());
        let Some(message) = &self.current_packet else {
            return GodotError::ERR_UNAVAILABLE;
        };
        let Ok(len) = i32::try_from(message.len()) else {
            return GodotError::ERR_OUT_OF_MEMORY;
        };
        // SAFETY: Godot passes valid out-pointers; the buffer stays alive in `current_packet`
        // until the next call, which is as long as Godot reads it.
        unsafe {
            *r_buffer.ptr() = RawPtr::new(message.as_bytes().as_ptr());
            *r_buffer_size.ptr() = len;
        }
        GodotError::OK
    }

    unsafe fn put_packet_rawptr(
        &mut self,
        p_buffer: RawPtr<*const u8>,
        p_buffer_size: i32,
    ) -> GodotError {
        let len = usize::try_from(p_buffer_size).unwrap_or(0);
        let data = if len == 0 {
            Vec::new()
        } else {
            // SAFETY: Godot passes a buffer of `p_buffer_size` bytes, valid for this call.
            unsafe { std::slice::from_raw_parts(p_buffer.ptr(), len) }.to_vec()
        };
        self.send_message(Message::from(data))
    }

    fn get_available_packet_count(&self) -> i32 {
        i32::try_from(self.client.queued_message_count()).unwrap_or(i32::MAX)
    }

    fn get_max_packet_size(&self) -> i32 {
        i32::try_from(self.max_message_size).unwrap_or(i32::MAX)
    }

    fn get_packet_channel(&self) -> i32 {
        0
    }

    fn get_packet_mode(&self) -> TransferMode {
        TransferMode::RELIABLE
    }

    fn set_transfer_channel(&mut self, channel: i32) {
        self.transfer_channel = channel;
    }

    fn get_transfer_channel(&self) -> i32 {
        self.transfer_channel
    }

    fn set_transfer_mode(&mut self, mode: TransferMode) {
        self.transfer_mode = mode;
    }

    fn get_transfer_mode(&self) -> TransferMode {
        self.transfer_mode
    }

    fn set_target_peer(&mut self, _peer: i32) {}

    fn get_packet_peer(&self) -> i32 {
        SERVER_PEER_ID
    }

    fn is_server(&self) -> bool {
        false
    }

    /// [method MultiplayerPeer.close]: disconnects at once (the close handshake finishes in the
    /// background); as a multiplayer peer, without [signal MultiplayerPeer.peer_disconnected].
    fn close(&mut self) {
        self.guarded("close", (), |this| {
            this.disconnect_from_host(1000, GString::new());
            this.peer_id = 0;
            this.peer_id_deadline = None;
        })
    }

    fn disconnect_peer(&mut self, peer: i32, _force: bool) {
        if peer == SERVER_PEER_ID {
            self.disconnect_from_host(1000, GString::new());
        }
    }

    fn get_unique_id(&self) -> i32 {
        self.peer_id
    }

    fn get_connection_status(&self) -> ConnectionStatus {
        match (self.client.state(), self.multiplayer) {
            (ReadyState::Connecting, _) => ConnectionStatus::CONNECTING,
            (ReadyState::Open, false) => ConnectionStatus::CONNECTED,
            (ReadyState::Closing | ReadyState::Closed, false) => ConnectionStatus::DISCONNECTED,
            // A multiplayer peer is connected once the server assigned its id, and stays so
            // through the close handshake: SceneMultiplayer stops polling a disconnected peer,
            // and must still see peer_disconnected(1) when the close completes.
            (ReadyState::Open | ReadyState::Closing, true) if self.peer_id != 0 => {
                ConnectionStatus::CONNECTED
            }
            (ReadyState::Open, true) => ConnectionStatus::CONNECTING,
            (ReadyState::Closing | ReadyState::Closed, true) => ConnectionStatus::DISCONNECTED,
        }
    }

    /// Godot's WebSocketMultiplayerPeer server relays packets between its clients.
    fn is_server_relay_supported(&self) -> bool {
        true
    }
}

#[godot_api]
impl RustWebSocketClient {
    /// The connection is being set up: resolving, connecting, TLS or HTTP upgrade.
    #[constant]
    const STATE_CONNECTING: i32 = ReadyState::Connecting as i32;
    /// The connection is open: messages can be sent and received.
    #[constant]
    const STATE_OPEN: i32 = ReadyState::Open as i32;
    /// The close handshake is in progress; keep polling until [signal connection_closed].
    #[constant]
    const STATE_CLOSING: i32 = ReadyState::Closing as i32;
    /// Not connected: never connected, closed, or the attempt failed.
    #[constant]
    const STATE_CLOSED: i32 = ReadyState::Closed as i32;
    /// [method send] sends the data as a text message (it must be UTF-8).
    #[constant]
    const WRITE_MODE_TEXT: i32 = 0;
    /// [method send] sends the data as a binary message.
    #[constant]
    const WRITE_MODE_BINARY: i32 = 1;

    /// Emitted when the connection is open; [param protocol] is the sub-protocol the server
    /// selected, or empty.
    #[signal]
    fn connection_established(protocol: GString);

    /// Emitted once per received message when nothing is connected to [signal message_received].
    /// Read the message with [method PacketPeer.get_packet] (or [code]get_peer(1).get_packet()[/code]).
    /// Not emitted when used as a multiplayer peer.
    #[signal]
    fn data_received();

    /// Emitted once per received message with its payload: a [String] for a text message, a
    /// [PackedByteArray] for a binary one. While anything is connected to this signal, messages
    /// are delivered here and not queued for [method PacketPeer.get_packet], so nothing piles up.
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

    /// Starts connecting to a [code]ws://[/code] or [code]wss://[/code] URL and returns at once.
    /// [param protocols] are offered as sub-protocols (the server must pick one of them).
    /// [param custom_headers] entries are [code]"Name: value"[/code] lines added to the upgrade
    /// request. Returns [constant OK], or an error for a malformed URL or header, an unsupported
    /// scheme or an unusable proxy URL ([constant ERR_INVALID_PARAMETER]) or a connection
    /// already in progress ([constant ERR_ALREADY_IN_USE]); [method get_last_error] says which.
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
        self.guarded("connect_to_url", GodotError::ERR_BUG, |this| {
            this.connect_to_url_unguarded(url, protocols, gd_mp_api, custom_headers)
        })
    }

    fn connect_to_url_unguarded(
        &mut self,
        url: GString,
        protocols: PackedStringArray,
        gd_mp_api: bool,
        custom_headers: PackedStringArray,
    ) -> GodotError {
        let request = ConnectRequest::new(&url.to_string())
            .and_then(|request| {
                request.with_protocols(protocols.as_slice().iter().map(GString::to_string))
            })
            .and_then(|request| {
                custom_headers
                    .as_slice()
                    .iter()
                    .try_fold(request, |request, line| {
                        request.with_header_line(&line.to_string())
                    })
            });
        let result = request.and_then(|request| {
            let config = self
                .connection_config()?
                .with_reconnect(self.reconnect_config(gd_mp_api));
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
                self.last_error.clear();
                self.current_packet = None;
                self.multiplayer = gd_mp_api;
                self.peer_id = 0;
                self.peer_id_deadline = None;
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
        self.guarded("disconnect_from_host", (), |this| {
            match this.client.close(code, &reason.to_string()) {
                // Already closed or closing: nothing to do, and the last error stays readable.
                Ok(()) | Err(Error::NotOpen) => {}
                Err(error) => this.last_error = error.to_string(),
            }
        })
    }

    /// Sends a text message. Returns [constant ERR_UNCONFIGURED] and queues nothing unless the
    /// connection is open (also while reconnecting: [method get_last_error] says so).
    #[func]
    fn send_text(&mut self, message: GString) -> GodotError {
        self.send_message(Message::from(message.to_string()))
    }

    /// Sends [param message] as a binary message, or as text with
    /// [constant WRITE_MODE_TEXT] (then it must be UTF-8, else [constant ERR_INVALID_DATA]).
    /// Another [param write_mode] returns [constant ERR_INVALID_PARAMETER].
    #[func]
    fn send(
        &mut self,
        message: PackedByteArray,
        #[opt(default = 1)] write_mode: i32,
    ) -> GodotError {
        if write_mode != Self::WRITE_MODE_TEXT && write_mode != Self::WRITE_MODE_BINARY {
            self.last_error = format!(
                "send() takes WRITE_MODE_TEXT (0) or WRITE_MODE_BINARY (1) as write_mode, not \
                 {write_mode}"
            );
            return GodotError::ERR_INVALID_PARAMETER;
        }
        let bytes = message.to_vec();
        if write_mode == Self::WRITE_MODE_TEXT {
            return match String::from_utf8(bytes) {
                Ok(text) => self.send_message(Message::from(text)),
                Err(_) => {
                    self.last_error = "send() in WRITE_MODE_TEXT needs UTF-8 data".into();
                    GodotError::ERR_INVALID_DATA
                }
            };
        }
        self.send_message(Message::from(bytes))
    }

    /// Takes every queued message at once, oldest first: a [String] for a text message, a
    /// [PackedByteArray] for a binary one. One call instead of a [method get_packet] per message
    /// when many arrive per frame.
    #[func]
    fn take_messages(&mut self) -> VarArray {
        let mut messages = VarArray::new();
        while let Some(message) =
            self.guarded("take_messages", None, |this| this.client.take_message())
        {
            messages.push(&message_to_variant(&message));
        }
        messages
    }

    /// Sends every element of [param messages] in order: a [String] as a text message, a
    /// [PackedByteArray] as a binary one. One call instead of one per message. Stops at the first
    /// message it cannot send and returns that error ([constant ERR_INVALID_PARAMETER] for an
    /// element of another type), with the messages before it sent.
    #[func]
    fn send_messages(&mut self, messages: VarArray) -> GodotError {
        for element in messages.iter_shared() {
            let message = match element.get_type() {
                VariantType::STRING => Message::from(element.to::<GString>().to_string()),
                VariantType::PACKED_BYTE_ARRAY => {
                    Message::from(element.to::<PackedByteArray>().to_vec())
                }
                other => {
                    self.last_error = format!(
                        "send_messages() takes Strings and PackedByteArrays, not {other:?}"
                    );
                    return GodotError::ERR_INVALID_PARAMETER;
                }
            };
            let sent = self.send_message(message);
            if sent != GodotError::OK {
                return sent;
            }
        }
        GodotError::OK
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

    /// Returns this client for [param peer_id] 1 (the server), as Godot 4.0's
    /// [code]WebSocketClient.get_peer(1)[/code] did, so [code]get_peer(1).put_packet(data)[/code]
    /// works; [code]null[/code] for any other id.
    #[func]
    fn get_peer(&self, peer_id: i32) -> Option<Gd<RustWebSocketClient>> {
        (peer_id == SERVER_PEER_ID).then(|| self.to_gd())
    }

    /// The connection state: one of the [code]STATE_*[/code] constants.
    #[func]
    fn get_ready_state(&self) -> i32 {
        self.client.state() as i32
    }

    /// Whether the packet last returned by [method PacketPeer.get_packet] was a text message.
    #[func]
    fn was_string_packet(&self) -> bool {
        self.current_packet.as_ref().is_some_and(Message::is_text)
    }

    /// The code of the close frame that ended the connection (the server's, or ours when the
    /// client failed the connection, e.g. 1009), or -1 when it ended without a close frame.
    #[func]
    fn get_close_code(&self) -> i64 {
        self.client.close_code().map_or(-1, i64::from)
    }

    /// The reason the server gave in its close frame, or empty.
    #[func]
    fn get_close_reason(&self) -> GString {
        self.client.close_reason().into()
    }

    /// The sub-protocol the server selected, or empty.
    #[func]
    fn get_selected_protocol(&self) -> GString {
        self.client.selected_protocol().into()
    }

    /// The URL passed to the last successful [method connect_to_url].
    #[func]
    fn get_requested_url(&self) -> GString {
        self.client.requested_url().into()
    }

    /// What went wrong last, as a sentence (e.g. "connection refused by 127.0.0.1:9"), or empty.
    #[func]
    fn get_last_error(&self) -> GString {
        self.last_error.as_str().into()
    }

    /// The IP address of the server once connected, or empty.
    #[func]
    fn get_connected_host(&self) -> GString {
        GString::from(
            &self
                .client
                .peer_addr()
                .map(|addr| addr.ip().to_string())
                .unwrap_or_default(),
        )
    }

    /// The port of the server once connected, or 0.
    #[func]
    fn get_connected_port(&self) -> i64 {
        self.client
            .peer_addr()
            .map_or(0, |addr| i64::from(addr.port()))
    }

    /// The TLS version of a [code]wss://[/code] connection once open ("TLS 1.3" or "TLS 1.2"),
    /// or empty.
    #[func]
    fn get_tls_version(&self) -> GString {
        self.client
            .tls_info()
            .map(|tls| tls.version.as_str())
            .unwrap_or_default()
            .into()
    }

    /// The cipher suite of a [code]wss://[/code] connection once open (e.g.
    /// "TLS13_AES_256_GCM_SHA384"), or empty.
    #[func]
    fn get_tls_cipher_suite(&self) -> GString {
        self.client
            .tls_info()
            .map(|tls| tls.cipher_suite.as_str())
            .unwrap_or_default()
            .into()
    }

    /// Bytes sent with [method send] and friends that are not yet handed to the network.
    #[func]
    fn get_current_outbound_buffered_amount(&self) -> i64 {
        self.client.buffered_outbound_bytes() as i64
    }

    // --- Auto-reconnect ---
    /// Emitted when [member auto_reconnect] connects again after [param delay] seconds; this is
    /// attempt number [param attempt] (from 1) since the connection was last open. It follows
    /// the [signal connection_closed] or [signal connection_error] that ended the previous
    /// connection or attempt (in their handlers [method get_ready_state] is already
    /// [constant STATE_CONNECTING] when an attempt follows). Until the connection is open again,
    /// sending returns [constant ERR_UNCONFIGURED] and queues nothing; messages received before
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

    /// How many times [member auto_reconnect] opened the connection again since the last
    /// [method connect_to_url].
    #[func]
    fn get_reconnect_count(&self) -> i64 {
        i64::try_from(self.client.reconnect_count()).unwrap_or(i64::MAX)
    }

    // --- Proxy and connect timeout ---

    /// The HTTP proxy ([code]"host:port"[/code], never its password) the last connection
    /// attempt went through, or empty when it went directly. Through a proxy,
    /// [method get_connected_host] and [method get_connected_port] are the proxy's.
    #[func]
    fn get_proxy_in_use(&self) -> GString {
        self.client.proxy().unwrap_or_default().into()
    }

    // --- Compression ---

    /// The extensions the server accepted, as its [code]Sec-WebSocket-Extensions[/code] header
    /// says once the connection is open (e.g.
    /// [code]permessage-deflate; client_max_window_bits=12[/code]), or empty when messages are
    /// not compressed (see [member compression_enabled]).
    #[func]
    fn get_negotiated_extensions(&self) -> GString {
        GString::from(&self.client.negotiated_extensions())
    }
}

// --- Auto-reconnect ---
impl RustWebSocketClient {
    /// The auto-reconnect settings from this object's properties; never as a multiplayer peer,
    /// whose peer id would change.
    fn reconnect_config(&self, multiplayer: bool) -> ReconnectConfig {
        let final_close_codes = self
            .reconnect_final_close_codes
            .as_slice()
            .iter()
            .filter_map(|&code| u16::try_from(code).ok())
            .collect();
        ReconnectConfig::default()
            .with_enabled(self.auto_reconnect && !multiplayer)
            .with_initial_delay(seconds(self.reconnect_delay_initial))
            .with_max_delay(seconds(self.reconnect_delay_max))
            .with_max_attempts(
                u32::try_from(self.reconnect_max_attempts.max(0)).unwrap_or(u32::MAX),
            )
            .with_final_close_codes(final_close_codes)
    }
}

// --- Round-trip time, handshake response and statistics ---
#[godot_api(secondary)]
impl RustWebSocketClient {
    /// The smoothed round-trip time of the heartbeat's pings in seconds (as TCP's SRTT,
    /// RFC 6298: each pong moves it 1/8 of the way to the new sample), or [code]0.0[/code] before
    /// the first pong. Needs [member heartbeat_interval]. Only the pong answering one of this
    /// client's pings counts; pongs the server sends on its own are ignored.
    #[func]
    fn get_round_trip_time(&self) -> f64 {
        self.client
            .round_trip_time()
            .map_or(0.0, |rtt| rtt.as_secs_f64())
    }

    /// The HTTP status the server answered the last upgrade request with: [code]101[/code] once
    /// open, or the refusal's status (e.g. [code]401[/code]) after [signal connection_error];
    /// [code]0[/code] when no answer came (e.g. the connection was refused).
    #[func]
    fn get_handshake_response_status(&self) -> i64 {
        self.client
            .handshake_response()
            .map_or(0, |response| i64::from(response.status))
    }

    /// The headers of the server's answer to the last upgrade request, one
    /// [code]"name: value"[/code] line per header (names in lower case), as
    /// [method HTTPClient.get_response_headers] gives them; empty when no answer came.
    #[func]
    fn get_handshake_response_headers(&self) -> PackedStringArray {
        self.client
            .handshake_response()
            .map(|response| {
                response
                    .headers
                    .iter()
                    .map(|(name, value)| GString::from(&format!("{name}: {value}")))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The start of the body of a refused upgrade (e.g. the server's explanation of a 401):
    /// what arrived with the response head, at most 4 KiB. Empty once open or when no answer
    /// came. [code]get_string_from_utf8()[/code] reads a text body.
    #[func]
    fn get_handshake_response_body(&self) -> PackedByteArray {
        self.client
            .handshake_response()
            .map(|response| PackedByteArray::from(&response.body[..]))
            .unwrap_or_default()
    }

    /// What the current (or last) connection carried since [method connect_to_url], live while
    /// it is open and kept after it ended:
    /// [code]messages_sent[/code], [code]messages_received[/code] (messages);
    /// [code]payload_bytes_sent[/code], [code]payload_bytes_received[/code] (bytes of the
    /// messages themselves); [code]wire_bytes_sent[/code], [code]wire_bytes_received[/code]
    /// (bytes of the WebSocket stream: the HTTP upgrade and every frame with its header, after
    /// compression and before TLS encryption); [code]compression_ratio[/code] (payload bytes per
    /// wire byte, both directions: below 1 without compression, [code]0.0[/code] before any
    /// byte); [code]round_trip_time[/code] (seconds, as [method get_round_trip_time]). These
    /// count the current (or last) connection only; [code]reconnects[/code] counts the
    /// connections [member auto_reconnect] opened again since [method connect_to_url].
    #[func]
    fn get_statistics(&self) -> VarDictionary {
        let mut dictionary = VarDictionary::new();
        for (key, value) in
            statistics_entries(&self.client.statistics(), self.client.reconnect_count())
        {
            dictionary.set(key, &value);
        }
        dictionary
    }

    /// One entry of [method get_statistics] by its key, or [code]null[/code] for an unknown key.
    /// The [Performance] monitors call it.
    #[func]
    fn get_statistic(&self, key: GString) -> Variant {
        let key = key.to_string();
        statistics_entries(&self.client.statistics(), self.client.reconnect_count())
            .into_iter()
            .find(|(name, _)| *name == key)
            .map_or(Variant::nil(), |(_, value)| value)
    }

    /// Shows every entry of [method get_statistics] in the editor debugger's Monitors tab, as
    /// [Performance] custom monitors named [code]<category>/<key>[/code] (e.g.
    /// [code]"RustWebSocket/messages_received"[/code]). They are removed when the client is freed
    /// or by [method remove_performance_monitors], and replace those this client added before.
    /// Give each client its own [param category]: returns [constant ERR_ALREADY_EXISTS] (and
    /// adds nothing) when one of the names is taken.
    #[func]
    fn add_performance_monitors(
        &mut self,
        #[opt(default = "RustWebSocket")] category: GString,
    ) -> GodotError {
        self.remove_performance_monitors();
        let keys = statistics_entries(&Statistics::default(), 0).map(|(key, _)| key);
        let ids: Vec<StringName> = keys
            .iter()
            .map(|key| StringName::from(&format!("{category}/{key}")))
            .collect();
        let mut performance = Performance::singleton();
        if let Some(taken) = ids.iter().find(|id| performance.has_custom_monitor(*id)) {
            self.last_error = format!("a Performance monitor named {taken} already exists");
            return GodotError::ERR_ALREADY_EXISTS;
        }
        let reader = Callable::from_object_method(&self.to_gd(), "get_statistic");
        for (id, key) in ids.iter().zip(keys) {
            let arguments: VarArray = [key.to_variant()].into_iter().collect();
            performance
                .add_custom_monitor_ex(id, &reader)
                .arguments(&arguments)
                .done();
        }
        self.performance_monitors = ids;
        GodotError::OK
    }

    /// Removes the monitors [method add_performance_monitors] added, if any.
    #[func]
    fn remove_performance_monitors(&mut self) {
        if self.performance_monitors.is_empty() {
            return;
        }
        let mut performance = Performance::singleton();
        for id in self.performance_monitors.drain(..) {
            if performance.has_custom_monitor(&id) {
                performance.remove_custom_monitor(&id);
            }
        }
    }
}

impl Drop for RustWebSocketClient {
    /// A freed client takes its Performance monitors with it, so the debugger never calls a
    /// freed object.
    fn drop(&mut self) {
        self.remove_performance_monitors();
    }
}

/// The entries of [method get_statistics], in order: counters as ints, ratio and round-trip
/// time (seconds) as floats, 0 when not known yet; `reconnects` last.
fn statistics_entries(statistics: &Statistics, reconnects: u64) -> [(&'static str, Variant); 9] {
    let count = |value: u64| i64::try_from(value).unwrap_or(i64::MAX).to_variant();
    [
        ("messages_sent", count(statistics.messages_sent)),
        ("messages_received", count(statistics.messages_received)),
        ("payload_bytes_sent", count(statistics.payload_bytes_sent)),
        (
            "payload_bytes_received",
            count(statistics.payload_bytes_received),
        ),
        ("wire_bytes_sent", count(statistics.wire_bytes_sent)),
        ("wire_bytes_received", count(statistics.wire_bytes_received)),
        (
            "compression_ratio",
            statistics.compression_ratio().unwrap_or(0.0).to_variant(),
        ),
        (
            "round_trip_time",
            statistics
                .round_trip_time
                .map_or(0.0, |rtt| rtt.as_secs_f64())
                .to_variant(),
        ),
        ("reconnects", count(reconnects)),
    ]
}

impl RustWebSocketClient {
    /// The body of [`poll`](IMultiplayerPeerExtension::poll): emits a signal per engine event.
    fn emit_events(&mut self) {
        let mut listeners = None;
        while let Some(event) = self.client.poll_event() {
            match event {
                Event::Opened { protocol } => {
                    if self.multiplayer {
                        self.peer_id_deadline =
                            Instant::now().checked_add(seconds(self.handshake_timeout));
                    }
                    self.emit("connection_established", &[protocol.to_variant()]);
                }
                // Multiplayer packets wait in the queue for SceneMultiplayer; the first is the id.
                Event::MessageReceived if self.multiplayer => {
                    if self.peer_id == 0 {
                        self.take_assigned_peer_id();
                    }
                }
                Event::MessageReceived => {
                    // Looked up once per poll, and only when a message came.
                    let (to_message_received, to_data_received) =
                        *listeners.get_or_insert_with(|| {
                            (
                                self.has_listeners("message_received"),
                                self.has_listeners("data_received"),
                            )
                        });
                    if to_message_received {
                        if let Some(message) = self.client.take_message() {
                            let is_text = message.is_text();
                            let args = [message_to_variant(&message), is_text.to_variant()];
                            self.emit("message_received", &args);
                        }
                    } else if to_data_received {
                        self.emit("data_received", &[]);
                    }
                }
                Event::CloseRequested { code, reason } => self.emit(
                    "server_close_request",
                    &[code.to_variant(), reason.to_variant()],
                ),
                Event::Closed { clean } => {
                    self.remember_engine_error();
                    let was_multiplayer_peer = std::mem::take(&mut self.peer_id) != 0;
                    self.peer_id_deadline = None;
                    self.emit("connection_closed", &[clean.to_variant()]);
                    if was_multiplayer_peer {
                        self.emit("peer_disconnected", &[SERVER_PEER_ID.to_variant()]);
                    }
                }
                Event::Failed => {
                    self.remember_engine_error();
                    self.peer_id_deadline = None;
                    self.emit("connection_error", &[]);
                }
                Event::Reconnecting { attempt, delay } => self.emit(
                    "reconnecting",
                    &[attempt.to_variant(), delay.as_secs_f64().to_variant()],
                ),
                Event::Reconnected => self.emit("reconnected", &[]),
                Event::ReconnectFailed { .. } => {
                    self.remember_engine_error();
                    self.emit("reconnect_failed", &[]);
                }
            }
        }
        if self
            .peer_id_deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            let detail = format!("it sent no peer id within {:.1} s", self.handshake_timeout);
            self.fail_multiplayer_handshake(Error::MultiplayerHandshake { detail });
        }
    }

    fn has_listeners(&self, signal: &str) -> bool {
        !self.base().get_signal_connection_list(signal).is_empty()
    }

    fn emit(&mut self, signal: &str, args: &[Variant]) {
        // `base_mut()` lets signal handlers call back into this object (e.g. `get_packet()`).
        self.base_mut().emit_signal(signal, args);
    }

    /// Sends one message for every sending entry point.
    fn send_message(&mut self, message: Message) -> GodotError {
        if self.multiplayer && self.peer_id == 0 {
            self.last_error = "not connected to the multiplayer server yet".into();
            return GodotError::ERR_UNCONFIGURED;
        }
        match self.guarded("send", Err(Error::NotOpen), |this| {
            this.client.send(message)
        }) {
            Ok(()) => GodotError::OK,
            Err(error) => self.refuse(error),
        }
    }

    /// Records why a call was refused and returns the matching Godot error.
    fn refuse(&mut self, error: Error) -> GodotError {
        let code = match error {
            Error::AlreadyConnected => GodotError::ERR_ALREADY_IN_USE,
            Error::NotOpen | Error::Reconnecting { .. } => GodotError::ERR_UNCONFIGURED,
            _ => GodotError::ERR_INVALID_PARAMETER,
        };
        self.last_error = error.to_string();
        code
    }

    /// Reads the peer id the multiplayer server sends first, or fails the connection.
    fn take_assigned_peer_id(&mut self) {
        let Some(message) = self.client.take_message() else {
            return;
        };
        match parse_assigned_peer_id(&message) {
            Ok(id) => {
                self.peer_id = id;
                self.peer_id_deadline = None;
                self.emit("peer_connected", &[SERVER_PEER_ID.to_variant()]);
            }
            Err(error) => self.fail_multiplayer_handshake(error),
        }
    }

    fn fail_multiplayer_handshake(&mut self, error: Error) {
        self.peer_id_deadline = None;
        self.last_error = error.to_string();
        self.client.fail(error);
        self.emit("connection_error", &[]);
    }

    fn remember_engine_error(&mut self) {
        if let Some(error) = self.client.last_error() {
            self.last_error = error.to_string();
        }
    }

    /// The engine settings from this object's properties.
    fn connection_config(&self) -> Result<Config, Error> {
        let server_name = Some(self.tls_server_name.to_string()).filter(|name| !name.is_empty());
        let mut tls = TlsConfig::default()
            .with_verify(self.verify_tls)
            .with_server_name(server_name);
        if let Some(certificate) = &self.trusted_tls_certificate {
            let certificates =
                parse_pem_certificates(&certificate_pem(certificate)).map_err(|reason| {
                    Error::Tls {
                        host: "trusted_tls_certificate".into(),
                        detail: reason,
                    }
                })?;
            tls = tls.with_trusted_certificates(certificates);
        }
        Ok(Config::default()
            .with_max_message_size(clamp_to_usize(self.max_message_size))
            .with_inbound_queue_limit(clamp_to_usize(self.inbound_queue_limit))
            .with_handshake_timeout(seconds(self.handshake_timeout))
            .with_close_timeout(seconds(self.close_timeout))
            .with_tls(tls)
            .with_connect_timeout(seconds(self.connect_timeout))
            .with_proxy(self.proxy_setting())
            .with_compression(self.compression_enabled)
            .with_heartbeat_interval(seconds_or_zero(self.heartbeat_interval))
            .with_heartbeat_timeout(seconds_or_zero(self.heartbeat_timeout)))
    }
}

// --- Proxy and connect timeout ---
impl RustWebSocketClient {
    /// The proxy setting from [member proxy_url] and [member use_environment_proxy].
    fn proxy_setting(&self) -> ProxySetting {
        match (self.proxy_url.is_empty(), self.use_environment_proxy) {
            (false, _) => ProxySetting::Url(self.proxy_url.to_string()),
            (true, true) => ProxySetting::FromEnvironment,
            (true, false) => ProxySetting::Direct,
        }
    }
}

/// The PEM text of every certificate an [X509Certificate] holds.
///
/// Godot's `save_to_string()` repeats the first certificate of a chain for every certificate in
/// it (4.6 also appends a NUL), so when the certificate was loaded from a file, e.g.
/// `load("res://ca_chain.crt")`, the file itself is read instead.
fn certificate_pem(certificate: &Gd<X509Certificate>) -> String {
    let path = certificate.get_path();
    if !path.is_empty() {
        let pem = FileAccess::get_file_as_string(&path).to_string();
        if pem.contains("-----BEGIN CERTIFICATE-----") {
            return pem;
        }
    }
    let pem = certificate.clone().save_to_string().to_string();
    let blocks: Vec<&str> = pem.split("-----BEGIN CERTIFICATE-----").skip(1).collect();
    if blocks.len() > 1 && blocks.iter().all(|block| *block == blocks[0]) {
        godot_warn!(
            "RustWebSocketClient: trusted_tls_certificate holds {} certificates, but Godot only \
             exposes the first of them; load the file with load(\"res://...crt\") so every \
             certificate in it is trusted.",
            blocks.len()
        );
    }
    pem
}

fn clamp_to_usize(value: i64) -> usize {
    usize::try_from(value.max(1)).unwrap_or(usize::MAX)
}

fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.max(0.001)).unwrap_or(Duration::MAX)
}

/// `value` seconds, where 0 or less means zero (off).
fn seconds_or_zero(value: f64) -> Duration {
    if value > 0.0 {
        seconds(value)
    } else {
        Duration::ZERO
    }
}

/// A message's payload as GDScript sees it: a String for text, a PackedByteArray for binary.
fn message_to_variant(message: &Message) -> Variant {
    match message {
        Message::Text(text) => GString::from(text.as_str()).to_variant(),
        Message::Binary(data) => PackedByteArray::from(&data[..]).to_variant(),
    }
}

// --- Panic guard ---

impl RustWebSocketClient {
    /// Runs `body`, the part of the entry point `entry` that changes the connection. If it
    /// panics, the connection ends (see [`Client::abort`]), the error is printed and kept for
    /// `get_last_error()`, the next `poll()` emits `connection_error` or
    /// `connection_closed(false)`, and `fallback` is returned.
    fn guarded<R>(&mut self, entry: &str, fallback: R, body: impl FnOnce(&mut Self) -> R) -> R {
        match panic_guard::catch(self, body) {
            Ok(result) => result,
            Err(message) => {
                let error = Error::Internal {
                    detail: format!("{entry}() panicked: {message}"),
                };
                self.last_error = error.to_string();
                godot_error!("RustWebSocketClient: {}", self.last_error);
                self.client.abort(error);
                self.current_packet = None;
                fallback
            }
        }
    }
}
