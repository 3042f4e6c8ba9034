//! What the connection is: its state, the server, TLS, the close, the last error, and the
//! server's answer to the upgrade request.

use godot::prelude::*;
use rust_websocket_engine::multiplayer::SERVER_PEER_ID;

use super::{RustWebSocketClient, State};
use crate::convert::{close_code, connected_host, connected_port, count_to_int};
use crate::main_thread::main_thread_only;

#[godot_api(secondary)]
impl RustWebSocketClient {
    /// Returns this client for [param peer_id] 1 (the server), as Godot 4.0's
    /// [code]WebSocketClient.get_peer(1)[/code] did, so [code]get_peer(1).put_packet(data)[/code]
    /// works; [code]null[/code] for any other id.
    #[func]
    fn get_peer(&self, peer_id: i32) -> Option<Gd<RustWebSocketClient>> {
        (peer_id == SERVER_PEER_ID).then(|| self.to_gd())
    }

    /// The connection state, a [enum State] value (also readable as the [code]STATE_*[/code]
    /// constants).
    #[func]
    fn get_ready_state(&self) -> State {
        main_thread_only!("get_ready_state", State::Closed);
        self.client.state().into()
    }

    /// Whether the message last read by [method get_packet] or [method PacketPeer.get_var] was a
    /// text message.
    #[func]
    fn was_string_packet(&self) -> bool {
        main_thread_only!("was_string_packet");
        self.reads.was_text()
    }

    /// The code of the close frame that ended the connection (the server's, or ours when the
    /// client failed the connection, e.g. 1009), or -1 when it ended without a close frame.
    #[func]
    fn get_close_code(&self) -> i64 {
        main_thread_only!("get_close_code", -1);
        i64::from(close_code(&self.client))
    }

    /// The reason the server gave in its close frame, or empty.
    #[func]
    fn get_close_reason(&self) -> GString {
        main_thread_only!("get_close_reason");
        self.client.close_reason().into()
    }

    /// The sub-protocol the server selected, or empty.
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

    /// What went wrong last, as a sentence (e.g. "connection refused by 127.0.0.1:9"), or empty.
    /// Set by every refused call and by every failure or abnormal ending. Cleared by a successful
    /// [method connect_to_url] and by every ending without an error (a clean close, or an attempt
    /// the game abandoned), so in the handlers of [signal connection_closed],
    /// [signal connection_error] and [signal reconnect_failed] it always describes that ending.
    #[func]
    fn get_last_error(&self) -> GString {
        main_thread_only!("get_last_error");
        self.last_error.as_str().into()
    }

    /// The IP address of the server once connected, or empty.
    #[func]
    fn get_connected_host(&self) -> GString {
        main_thread_only!("get_connected_host");
        connected_host(&self.client)
    }

    /// The port of the server once connected, or 0.
    #[func]
    fn get_connected_port(&self) -> i64 {
        main_thread_only!("get_connected_port");
        i64::from(connected_port(&self.client))
    }

    /// The TLS version of a [code]wss://[/code] connection once open ("TLS 1.3" or "TLS 1.2"),
    /// or empty.
    #[func]
    fn get_tls_version(&self) -> GString {
        main_thread_only!("get_tls_version");
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
        main_thread_only!("get_tls_cipher_suite");
        self.client
            .tls_info()
            .map(|tls| tls.cipher_suite.as_str())
            .unwrap_or_default()
            .into()
    }

    /// Bytes sent with [method send] and friends that are not yet handed to the network: each
    /// message counts (its payload, then its frame) until the socket took all of it. While
    /// reconnecting, the payloads kept in the reconnect queue ([member reconnect_queue_messages])
    /// count too, until they are sent on the new connection.
    #[func]
    fn get_current_outbound_buffered_amount(&self) -> i64 {
        main_thread_only!("get_current_outbound_buffered_amount");
        self.client.buffered_outbound_bytes() as i64
    }

    /// How many times [member auto_reconnect] opened the connection again since the last
    /// [method connect_to_url].
    #[func]
    fn get_reconnect_count(&self) -> i64 {
        main_thread_only!("get_reconnect_count");
        count_to_int(self.client.reconnect_count())
    }

    /// The HTTP or SOCKS5 proxy ([code]"host:port"[/code], never its password) the last connection
    /// attempt went through, or empty when it went directly. Through a proxy,
    /// [method get_connected_host] and [method get_connected_port] are the proxy's.
    #[func]
    fn get_proxy_in_use(&self) -> GString {
        main_thread_only!("get_proxy_in_use");
        self.client.proxy().unwrap_or_default().into()
    }

    /// The extensions the server accepted, as its [code]Sec-WebSocket-Extensions[/code] header
    /// says once the connection is open (e.g.
    /// [code]permessage-deflate; client_max_window_bits=12[/code]), or empty when messages are
    /// not compressed (see [member compression_enabled]).
    #[func]
    fn get_negotiated_extensions(&self) -> GString {
        main_thread_only!("get_negotiated_extensions");
        GString::from(&self.client.negotiated_extensions())
    }

    /// The HTTP status the server answered the last upgrade request with: [code]101[/code] once
    /// open, or the refusal's status (e.g. [code]401[/code]) after [signal connection_error];
    /// [code]0[/code] when no answer came (e.g. the connection was refused).
    #[func]
    fn get_handshake_response_status(&self) -> i64 {
        main_thread_only!("get_handshake_response_status");
        self.client
            .handshake_response()
            .map_or(0, |response| i64::from(response.status))
    }

    /// The headers of the server's answer to the last upgrade request, one
    /// [code]"name: value"[/code] line per header (names in lower case), as
    /// [method HTTPClient.get_response_headers] gives them; empty when no answer came.
    #[func]
    fn get_handshake_response_headers(&self) -> PackedStringArray {
        main_thread_only!("get_handshake_response_headers");
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
        main_thread_only!("get_handshake_response_body");
        self.client
            .handshake_response()
            .map(|response| PackedByteArray::from(&response.body[..]))
            .unwrap_or_default()
    }
}
