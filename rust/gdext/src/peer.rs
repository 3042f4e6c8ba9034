//! `RustWebSocketPeer`: the engine's [`Client`] with exactly the API of Godot 4's
//! `WebSocketPeer`, so that `WebSocketPeer.new()` → `RustWebSocketPeer.new()` is the whole port.
//!
//! It shares the engine and the binding's conversions (`crate::convert`) with
//! `RustWebSocketClient`; what is its own is WebSocketPeer's surface: its properties mapped onto
//! the engine's [`Config`], [`TLSOptions`] read into the engine's TLS settings, a `poll()` that
//! only drives the state (no signals), its two class enums (`types`), and the `PacketPeer` calls
//! it answers itself (`packets`).

mod packets;
mod types;

use godot::classes::{
    IPacketPeerExtension, PacketPeerExtension, StreamPeer, TlsOptions as TLSOptions,
};
use godot::global::Error as GodotError;
use godot::prelude::*;
use godot_core::meta::RawPtr;
use rust_websocket_engine::{
    Client, Config, Error, Event, Message, ProxySetting, TlsConfig, DEFAULT_MAX_MESSAGE_SIZE,
};

use crate::convert::{
    available_packet_count, clamp_to_usize, close_code, connect_request, connected_host,
    connected_port, message_in_write_mode, packet_bytes, refusal_code, seconds_or_zero,
    trusted_certificates, WRITE_MODE_BINARY,
};
use crate::main_thread::main_thread_only;
use crate::packet_reads::PacketReads;
use crate::panic_guard;
pub(crate) use types::register_enums;
use types::{SendMode, State, TlsClientOptions};

/// Godot's `WebSocketPeer`, on rustls and tungstenite: change [code]WebSocketPeer.new()[/code]
/// to [code]RustWebSocketPeer.new()[/code] and the rest of your code stays as it is, typed
/// GDScript included ([code]RustWebSocketPeer.State[/code], [code]RustWebSocketPeer.STATE_OPEN[/code]).
///
/// Same calls, same order: [method connect_to_url], then [method poll] every frame and
/// [method get_ready_state]; read with [method PacketPeer.get_packet] (or
/// [method PacketPeer.get_var]) while [method PacketPeer.get_available_packet_count] is above
/// zero, send with [method send_text], [method send] or [method PacketPeer.put_packet], and
/// [method close]. No signals, as with [WebSocketPeer]. What differs is underneath: no 64 KiB
/// message ceiling (messages up to 64 MiB), nothing dropped when the game reads slowly (the
/// server is slowed down instead), all network work on a background thread (so [method poll]
/// never blocks), and [method get_last_error] saying in words why a connection failed. As
/// [WebSocketPeer], it connects directly, never through a proxy.
///
/// The enums are those of [WebSocketPeer], with the same values: [code]State[/code]
/// ([constant STATE_CONNECTING] = 0, [constant STATE_OPEN] = 1, [constant STATE_CLOSING] = 2,
/// [constant STATE_CLOSED] = 3) and [code]WriteMode[/code] ([constant WRITE_MODE_TEXT] = 0,
/// [constant WRITE_MODE_BINARY] = 1).
///
/// Only the client side exists: [method accept_stream] (a server's side) returns
/// [constant ERR_UNAVAILABLE].
///
/// Call every method from the main thread; the network work already runs in the background. A
/// call from another thread is refused with an error naming the method (use
/// [method Object.call_deferred] to send from a worker thread).
#[derive(GodotClass)]
#[class(init, tool, base = PacketPeerExtension)]
pub struct RustWebSocketPeer {
    /// The sub-protocols offered to the server by the next [method connect_to_url]; it must
    /// select one of them ([method get_selected_protocol]) or the connection fails.
    #[var(get = get_supported_protocols, set = set_supported_protocols)]
    supported_protocols: PackedStringArray,
    /// Extra [code]"Name: value"[/code] lines added to the next upgrade request (e.g.
    /// [code]"Authorization: Bearer ..."[/code]). A malformed line makes
    /// [method connect_to_url] return [constant ERR_INVALID_PARAMETER].
    #[var(get = get_handshake_headers, set = set_handshake_headers)]
    handshake_headers: PackedStringArray,
    /// Bytes of received messages not yet read at which reading from the socket pauses (default
    /// 65535, as Godot's). Unlike Godot's buffer, it is not a ceiling: a message of any size
    /// up to 64 MiB still arrives whole, and when
    /// unread messages reach this size the server is slowed down by TCP instead of the
    /// connection failing. Reading resumes as messages are read. Applies to the next connection.
    #[var(get = get_inbound_buffer_size, set = set_inbound_buffer_size)]
    #[init(val = 65535)]
    inbound_buffer_size: i32,
    /// Kept for compatibility with [WebSocketPeer], without effect: sending is never refused
    /// for size here, messages wait in order until the network takes them (see
    /// [method get_current_outbound_buffered_amount]).
    #[var(get = get_outbound_buffer_size, set = set_outbound_buffer_size)]
    #[init(val = 65535)]
    outbound_buffer_size: i32,
    /// Kept for compatibility with [WebSocketPeer], without effect: there is no cap on the
    /// number of unread messages, whose size [member inbound_buffer_size] bounds instead (by
    /// pausing reading, never by dropping). Default 4096, as Godot 4.4+.
    #[var(get = get_max_queued_packets, set = set_max_queued_packets)]
    #[init(val = 4096)]
    max_queued_packets: i32,
    /// Seconds between the pings sent while the connection is open, from the background thread
    /// (so they go on while the main thread is busy); [code]0[/code] (default) sends none. As
    /// with [WebSocketPeer], a missing pong does not close the connection. Applies to the next
    /// connection.
    #[var(get = get_heartbeat_interval, set = set_heartbeat_interval)]
    #[init(val = 0.0)]
    heartbeat_interval: f64,

    /// The engine's client: the connection itself.
    client: Client,
    /// The last message read, by `get_packet()` or by Godot through `_get_packet`.
    reads: PacketReads,
    /// What `get_last_error()` returns: why the last call was refused or the connection failed.
    last_error: String,
    base: Base<PacketPeerExtension>,
}

// --- WebSocketPeer's methods ---
#[godot_api]
impl RustWebSocketPeer {
    /// Starts connecting to a [code]ws://[/code] or [code]wss://[/code] URL, offering
    /// [member supported_protocols] and sending [member handshake_headers], and returns at once;
    /// [method poll] then drives the connection. [param tls_client_options] decides whom
    /// [code]wss://[/code] trusts, as for [WebSocketPeer]: [code]null[/code] or
    /// [method TLSOptions.client] without a certificate trusts the well-known roots and the
    /// system's store; [method TLSOptions.client] with a certificate trusts only it (a
    /// self-signed server certificate or a private CA); its common-name override checks the
    /// server's certificate for that name; [method TLSOptions.client_unsafe] checks nothing
    /// (development only). A [method TLSOptions.server] options object is refused. Returns
    /// [constant OK], [constant ERR_INVALID_PARAMETER] (malformed URL or header, unsupported
    /// scheme, unusable TLS options) or [constant ERR_ALREADY_IN_USE] (a connection in
    /// progress); [method get_last_error] says which.
    #[func]
    fn connect_to_url(
        &mut self,
        url: GString,
        #[opt(default = TlsClientOptions::NULL)] tls_client_options: TlsClientOptions,
    ) -> GodotError {
        main_thread_only!("connect_to_url", GodotError::ERR_UNAVAILABLE);
        self.guarded("connect_to_url", GodotError::ERR_BUG, |this| {
            let result = connect_request(&url, &this.supported_protocols, &this.handshake_headers)
                .and_then(|request| {
                    *this.client.config_mut() = this.connection_config(tls_client_options.0)?;
                    this.client.connect(request)
                });
            match result {
                Ok(()) => {
                    this.last_error.clear();
                    this.reads.clear();
                    GodotError::OK
                }
                Err(error) => this.refuse(error),
            }
        })
    }

    /// Not available: this is a client, and accepting a server's connections is out of its
    /// scope. Always returns [constant ERR_UNAVAILABLE] with an error saying so; use Godot's
    /// [WebSocketPeer] for a server.
    #[func]
    fn accept_stream(&mut self, stream: Option<Gd<StreamPeer>>) -> GodotError {
        let _ = stream;
        let reason = "RustWebSocketPeer.accept_stream() is not available: RustWebSocketPeer \
                      is a client only; use Godot's WebSocketPeer for the server side.";
        godot_error!("{reason}");
        self.refuse_call(GodotError::ERR_UNAVAILABLE, reason.into())
    }

    /// Sends [param message] as a binary message, or as text with [constant WRITE_MODE_TEXT]
    /// (then it must be UTF-8, else [constant ERR_INVALID_DATA]); another [param write_mode]
    /// returns [constant ERR_INVALID_PARAMETER]. Returns [constant ERR_UNCONFIGURED] and queues
    /// nothing unless the connection is open.
    #[func]
    fn send(
        &mut self,
        message: PackedByteArray,
        #[opt(default = SendMode::new(WRITE_MODE_BINARY))] write_mode: SendMode,
    ) -> GodotError {
        main_thread_only!("send", GodotError::ERR_UNAVAILABLE);
        match message_in_write_mode("send", message.to_vec(), write_mode.0) {
            Ok(message) => self.send_message(message),
            Err((code, reason)) => self.refuse_call(code, reason),
        }
    }

    /// Sends a text message. Returns [constant ERR_UNCONFIGURED] and queues nothing unless the
    /// connection is open.
    #[func]
    fn send_text(&mut self, message: GString) -> GodotError {
        main_thread_only!("send_text", GodotError::ERR_UNAVAILABLE);
        self.send_message(Message::from(message.to_string()))
    }

    /// Updates the connection's state ([method get_ready_state]) and makes the messages
    /// received since the last call readable. Call it every frame, also while
    /// [constant STATE_CLOSING] until [constant STATE_CLOSED]. Never blocks: the network work
    /// happens on a background thread.
    #[func]
    fn poll(&mut self) {
        main_thread_only!("poll");
        self.guarded("poll", (), |this| {
            while let Some(event) = this.client.poll_event() {
                if matches!(event, Event::Failed | Event::Closed { .. }) {
                    this.last_error = this
                        .client
                        .last_error()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                }
            }
        })
    }

    /// Starts the close handshake with [param code] (1000, or 3000–4999) and [param reason]
    /// (at most 123 bytes of UTF-8); messages sent before are delivered first. Keep calling
    /// [method poll] until [constant STATE_CLOSED]. Does nothing when closed already. Unlike
    /// [WebSocketPeer], [code]-1[/code] (drop without a close handshake) and other codes are
    /// refused with an error and [method get_last_error] saying why: the close handshake is
    /// always made.
    #[func]
    fn close(&mut self, #[opt(default = 1000)] code: i32, #[opt(default = "")] reason: GString) {
        main_thread_only!("close");
        self.guarded("close", (), |this| {
            match this.client.close(i64::from(code), &reason.to_string()) {
                // Already closed or closing: nothing to do, as Godot's.
                Ok(()) | Err(Error::NotOpen) => {}
                Err(error) => {
                    godot_error!("RustWebSocketPeer.close(): {error}");
                    this.refuse(error);
                }
            }
        })
    }

    /// The IP address of the server once connected, or empty.
    #[func]
    fn get_connected_host(&self) -> GString {
        main_thread_only!("get_connected_host");
        connected_host(&self.client)
    }

    /// The port of the server once connected, or 0.
    #[func]
    fn get_connected_port(&self) -> i32 {
        main_thread_only!("get_connected_port");
        i32::from(connected_port(&self.client))
    }

    /// The sub-protocol the server selected from [member supported_protocols], or empty.
    #[func]
    fn get_selected_protocol(&self) -> GString {
        main_thread_only!("get_selected_protocol");
        self.client.selected_protocol().into()
    }

    /// The URL passed to the last successful [method connect_to_url].
    #[func]
    fn get_requested_url(&self) -> GString {
        main_thread_only!("get_requested_url");
        self.client.requested_url().into()
    }

    /// Kept for compatibility with [WebSocketPeer]: Nagle's algorithm is always disabled (the
    /// default of [WebSocketPeer] too), so small messages leave at once;
    /// [code]set_no_delay(false)[/code] has no effect.
    #[func]
    fn set_no_delay(&mut self, enabled: bool) {
        let _ = enabled;
    }

    /// Bytes sent with [method send] and friends not yet handed to the network.
    #[func]
    fn get_current_outbound_buffered_amount(&self) -> i32 {
        main_thread_only!("get_current_outbound_buffered_amount");
        i32::try_from(self.client.buffered_outbound_bytes()).unwrap_or(i32::MAX)
    }

    /// The connection's state, as of the last [method poll].
    #[func]
    fn get_ready_state(&self) -> State {
        main_thread_only!("get_ready_state", State::Closed);
        State::from(self.client.state())
    }

    /// The close code the connection ended with (the server's, or ours when the client failed
    /// the connection, e.g. 1009), or -1 when it ended without a close frame.
    #[func]
    fn get_close_code(&self) -> i32 {
        main_thread_only!("get_close_code", -1);
        close_code(&self.client)
    }

    /// The reason the server gave in its close frame, or empty.
    #[func]
    fn get_close_reason(&self) -> GString {
        main_thread_only!("get_close_reason");
        self.client.close_reason().into()
    }

    // --- Property accessors (with WebSocketPeer's parameter names) ---

    /// The getter of [member supported_protocols].
    #[func]
    fn get_supported_protocols(&self) -> PackedStringArray {
        self.supported_protocols.clone()
    }

    /// The setter of [member supported_protocols].
    #[func]
    fn set_supported_protocols(&mut self, protocols: PackedStringArray) {
        self.supported_protocols = protocols;
    }

    /// The getter of [member handshake_headers].
    #[func]
    fn get_handshake_headers(&self) -> PackedStringArray {
        self.handshake_headers.clone()
    }

    /// The setter of [member handshake_headers] (named [param protocols], as Godot's).
    #[func]
    fn set_handshake_headers(&mut self, protocols: PackedStringArray) {
        self.handshake_headers = protocols;
    }

    /// The getter of [member inbound_buffer_size].
    #[func]
    fn get_inbound_buffer_size(&self) -> i32 {
        self.inbound_buffer_size
    }

    /// The setter of [member inbound_buffer_size].
    #[func]
    fn set_inbound_buffer_size(&mut self, buffer_size: i32) {
        self.inbound_buffer_size = buffer_size;
    }

    /// The getter of [member outbound_buffer_size].
    #[func]
    fn get_outbound_buffer_size(&self) -> i32 {
        self.outbound_buffer_size
    }

    /// The setter of [member outbound_buffer_size].
    #[func]
    fn set_outbound_buffer_size(&mut self, buffer_size: i32) {
        self.outbound_buffer_size = buffer_size;
    }

    /// The getter of [member max_queued_packets].
    #[func]
    fn get_max_queued_packets(&self) -> i32 {
        self.max_queued_packets
    }

    /// The setter of [member max_queued_packets].
    #[func]
    fn set_max_queued_packets(&mut self, buffer_size: i32) {
        self.max_queued_packets = buffer_size;
    }

    /// The getter of [member heartbeat_interval].
    #[func]
    fn get_heartbeat_interval(&self) -> f64 {
        self.heartbeat_interval
    }

    /// The setter of [member heartbeat_interval].
    #[func]
    fn set_heartbeat_interval(&mut self, interval: f64) {
        self.heartbeat_interval = interval;
    }

    // --- Additions ---

    /// What went wrong last, as a sentence (e.g. "connection refused by 127.0.0.1:9"), or
    /// empty: set by a refused call and by a failed or abnormally ended connection, cleared by
    /// a successful [method connect_to_url] and by a clean close. Not in [WebSocketPeer].
    #[func]
    fn get_last_error(&self) -> GString {
        main_thread_only!("get_last_error");
        self.last_error.as_str().into()
    }
}

#[godot_api]
impl IPacketPeerExtension for RustWebSocketPeer {
    unsafe fn get_packet_rawptr(
        &mut self,
        r_buffer: RawPtr<*mut RawPtr<*const u8>>,
        r_buffer_size: RawPtr<*mut i32>,
    ) -> GodotError {
        main_thread_only!("get_packet", GodotError::ERR_UNAVAILABLE);
        // SAFETY: Godot passes valid out-pointers; `reads` keeps the buffer until the next call,
        // which is as long as Godot reads it.
        unsafe {
            self.reads
                .lend_next(&mut self.client, r_buffer, r_buffer_size)
        }
    }

    /// Sends the buffer as one binary message, as [WebSocketPeer] does.
    unsafe fn put_packet_rawptr(
        &mut self,
        p_buffer: RawPtr<*const u8>,
        p_buffer_size: i32,
    ) -> GodotError {
        main_thread_only!("put_packet", GodotError::ERR_UNAVAILABLE);
        // SAFETY: Godot passes a buffer of `p_buffer_size` bytes, valid for this call.
        let data = unsafe { packet_bytes(p_buffer, p_buffer_size) };
        self.send_message(Message::from(data))
    }

    fn get_available_packet_count(&self) -> i32 {
        main_thread_only!("get_available_packet_count");
        available_packet_count(&self.client)
    }

    fn get_max_packet_size(&self) -> i32 {
        i32::try_from(DEFAULT_MAX_MESSAGE_SIZE).unwrap_or(i32::MAX)
    }
}

// --- Settings, sending and refused calls ---
impl RustWebSocketPeer {
    /// The class name in printed errors.
    const CLASS_NAME: &'static str = "RustWebSocketPeer";

    /// The engine settings from the properties and `tls_client_options`.
    fn connection_config(&self, tls_options: Option<Gd<TLSOptions>>) -> Result<Config, Error> {
        Ok(Config::default()
            .with_inbound_queue_limit(clamp_to_usize(i64::from(self.inbound_buffer_size)))
            .with_heartbeat_interval(seconds_or_zero(self.heartbeat_interval))
            // WebSocketPeer only pings; it never drops a connection for a missing pong.
            .with_heartbeat_timeout(std::time::Duration::ZERO)
            // WebSocketPeer connects directly; proxies are RustWebSocketClient's.
            .with_proxy(ProxySetting::Direct)
            .with_tls(tls_config(tls_options)?))
    }

    fn send_message(&mut self, message: Message) -> GodotError {
        match self.guarded("send", Err(Error::NotOpen), |this| {
            this.client.send(message)
        }) {
            Ok(()) => GodotError::OK,
            Err(error) => self.refuse(error),
        }
    }

    /// Records why the engine refused a call and returns the matching Godot error.
    fn refuse(&mut self, error: Error) -> GodotError {
        self.refuse_call(refusal_code(&error), error.to_string())
    }

    fn refuse_call(&mut self, code: GodotError, reason: String) -> GodotError {
        self.last_error = reason;
        code
    }

    /// Runs `body`, the part of the entry point `entry` that changes the connection; a panic
    /// ends the connection (see [`Client::abort`]) and is printed and kept as the last error,
    /// and `fallback` is returned.
    fn guarded<R>(&mut self, entry: &str, fallback: R, body: impl FnOnce(&mut Self) -> R) -> R {
        match panic_guard::catch(self, body) {
            Ok(result) => result,
            Err(message) => {
                let error = panic_guard::internal_error(Self::CLASS_NAME, entry, &message);
                self.last_error = error.to_string();
                self.client.abort(error);
                self.reads.clear();
                fallback
            }
        }
    }
}

/// The engine's TLS settings from Godot's [TLSOptions]: [code]null[/code] is the default
/// (well-known roots and the system's store); a trusted CA chain is the only trust; a
/// common-name override is the name checked; `client_unsafe` verifies nothing.
fn tls_config(options: Option<Gd<TLSOptions>>) -> Result<TlsConfig, Error> {
    let Some(options) = options else {
        return Ok(TlsConfig::default());
    };
    if options.is_server() {
        return Err(Error::TlsSettings {
            detail: "tls_client_options holds server options (TLSOptions.server()); pass \
                     TLSOptions.client() or TLSOptions.client_unsafe()"
                .into(),
        });
    }
    let server_name =
        Some(options.get_common_name_override().to_string()).filter(|name| !name.is_empty());
    let mut tls = TlsConfig::default()
        .with_verify(!options.is_unsafe_client())
        .with_server_name(server_name);
    if let Some(chain) = options.get_trusted_ca_chain() {
        tls = tls.with_trusted_certificates(trusted_certificates(
            &chain,
            "tls_client_options' trusted chain",
        )?);
    }
    Ok(tls)
}
