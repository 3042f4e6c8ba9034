@tool
class_name RustWebSocketWebClient
extends MultiplayerPeerExtension
## The web path of [code]RustWebSocketClient[/code]: the same signals, methods, properties and
## errors, on Godot's [WebSocketPeer], which in a web export is the browser's WebSocket.
##
## Get one from [method RustWebSocket.create_client], which returns the native class where the
## extension is loaded and this one elsewhere, so the same script runs on both. What a browser
## does not let a page do is refused by [method connect_to_url] with
## [constant ERR_UNAVAILABLE] and a [method get_last_error] saying why: custom headers, a proxy,
## TLS certificates or server name, [code]verify_tls = false[/code]. A
## [member heartbeat_interval] is ignored with a warning (the browser answers the server's pings
## itself but sends none for a page). This class refuses them on every platform, so a game tried
## on the desktop with it meets the limits it will meet in a browser.

## The connection is being set up.
const STATE_CONNECTING := 0
## The connection is open: messages can be sent and received.
const STATE_OPEN := 1
## The close handshake is in progress; keep polling until [signal connection_closed].
const STATE_CLOSING := 2
## Not connected: never connected, closed, or the attempt failed.
const STATE_CLOSED := 3
## [method send] sends the data as a text message (it must be UTF-8).
const WRITE_MODE_TEXT := 0
## [method send] sends the data as a binary message.
const WRITE_MODE_BINARY := 1

## The peer id of the server in multiplayer mode.
const SERVER_PEER_ID := 1
## The codes [method disconnect_from_host] may send besides 1000 (RFC 6455 section 7.4.2).
const FIRST_APPLICATION_CLOSE_CODE := 3000
const LAST_APPLICATION_CLOSE_CODE := 4999
## The longest close reason, in bytes, that fits in a close frame.
const MAX_CLOSE_REASON_BYTES := 123
## The longest timeout or delay a deadline is set for (about 31,700 years): larger ones, INF
## included, never come.
const LONGEST_TIMEOUT_S := 1e12
## Packets WebSocketPeer may hold between two polls (its default, 4096, is reached by a burst of
## small messages in one frame; the packets are moved to this class's queue at every poll).
const MAX_QUEUED_PACKETS := 65536
## Largest receive buffer asked of WebSocketPeer, whatever the properties say: Godot's ring
## buffer takes the power of two above its size, and 2^30 is its largest.
const MAX_RECEIVE_BUFFER_BYTES := 1 << 29
## The close code a browser reports for a connection that ended without a close frame (RFC 6455
## section 7.1.5); Godot's desktop WebSocketPeer reports -1 instead.
const CLOSE_CODE_ABNORMAL := 1006
## Bytes WebSocketPeer may hold unsent (its default, 64 KiB, refuses a bigger message): the native
## class sets no such limit, so this one only guards against a runaway sender.
const MAX_OUTBOUND_BUFFER_BYTES := 1 << 30

## Emitted when the connection is open; [param protocol] is the sub-protocol the server selected.
signal connection_established(protocol: String)
## Emitted once per received message while nothing is connected to [signal message_received].
signal data_received
## Emitted once per received message with its payload: a String for text, a PackedByteArray for
## binary (and for a text holding U+0000).
signal message_received(message: Variant, is_text: bool)
## Emitted when the connection ended; [param was_clean_close] if the close handshake completed.
signal connection_closed(was_clean_close: bool)
## Emitted when the server starts the close handshake.
signal server_close_request(code: int, reason: String)
## Emitted when the connection attempt failed; [method get_last_error] says so.
signal connection_error
## Emitted when [member auto_reconnect] connects again after [param delay] seconds.
signal reconnecting(attempt: int, delay: float)
## Emitted when the connection is open again after a drop, right after connection_established.
signal reconnected
## Emitted when [member auto_reconnect] gave up after [member reconnect_max_attempts] attempts.
signal reconnect_failed
## Emitted when the reconnect queue ([member reconnect_queue_messages]) was emptied without sending
## its [param count] messages: after reconnect_failed, or after disconnect_from_host() while
## reconnecting. Only when something was queued.
signal reconnect_queue_discarded(count: int)

## A browser always verifies certificates: [code]false[/code] makes [method connect_to_url] to a
## [code]wss://[/code] URL refuse.
var verify_tls := true:
	get = is_verify_tls_enabled,
	set = set_verify_tls_enabled
## Not possible in a browser: when set, [method connect_to_url] refuses.
var trusted_tls_certificate: X509Certificate = null
## Not possible in a browser: when set, [method connect_to_url] refuses.
var tls_server_name := ""
## Not possible in a browser: when set, [method connect_to_url] refuses.
var tls_client_certificate: X509Certificate = null
## Not possible in a browser: when set, [method connect_to_url] refuses.
var tls_client_key: CryptoKey = null
## The browser trusts what it trusts; kept for the same API, without effect.
var use_system_trust_store := true
## Largest message accepted, in bytes (default 64 MiB). WebSocketPeer's receive buffer is the
## smaller of this and [member inbound_queue_limit], allocated at connect (in a browser, in the
## page's memory). A larger message: in a browser Godot drops it with an error; on the desktop
## the connection closes with 1009.
var max_message_size := 64 << 20
## Bytes of received messages WebSocketPeer holds between two polls (default 16 MiB), see
## [member max_message_size]. The browser reads everything the server sends (no backpressure).
var inbound_queue_limit := 16 << 20
## Seconds allowed for the connection to open (default 10).
var handshake_timeout := 10.0
## Kept for the same API: the browser bounds the close handshake itself.
var close_timeout := 5.0
## Kept for the same API: the browser decides on compression.
var compression_enabled := true
## If [code]true[/code], a dropped connection or failed attempt connects again, as on native.
var auto_reconnect := false
## Seconds before the first reconnect attempt (default 0.5), doubled per attempt.
var reconnect_delay_initial := 0.5
## The longest delay between reconnect attempts, in seconds (default 30).
var reconnect_delay_max := 30.0
## Failed attempts in a row after which the client gives up (default 10); 0 never gives up.
var reconnect_max_attempts := 10
## Close codes after which the client does not reconnect.
var reconnect_final_close_codes := PackedInt32Array([1000, 1002, 1003, 1007, 1008, 1009])
## Messages kept while auto_reconnect connects again, sent in order once the connection is open
## again; 0 (the default) turns the queue off. A send over this or [member reconnect_queue_bytes]
## returns [constant ERR_BUSY] and is not kept, as on native.
var reconnect_queue_messages := 0
## Payload bytes the reconnect queue holds at most (default 1 MiB).
var reconnect_queue_bytes := 1048576
## Not possible in a browser: when set, [method connect_to_url] refuses.
var proxy_url := ""
## The browser uses the system's proxy settings; kept for the same API, without effect.
var use_environment_proxy := true
## Kept for the same API: the browser bounds the TCP connect itself.
var connect_timeout := 5.0
## Not possible in a browser (a page cannot send pings): a value above 0 is ignored with a warning.
var heartbeat_interval := 0.0
## Kept for the same API; without pings it has no effect.
var heartbeat_timeout := 10.0
## Extra upgrade request headers when connect_to_url() passes none; a browser cannot send any,
## so a non-empty value makes connect_to_url() refuse, as custom headers do.
var handshake_headers := PackedStringArray()
## How put_packet() sends: [constant WRITE_MODE_BINARY] (default) or [constant WRITE_MODE_TEXT]
## (UTF-8 only); always binary as a multiplayer peer.
var write_mode := WRITE_MODE_BINARY

var _peer: WebSocketPeer = null
## The state this class reports, which changes only as its signals are emitted.
var _state := STATE_CLOSED
## Received messages not yet read, oldest first: [PackedByteArray payload, bool is_text].
var _queue: Array[Array] = []
var _current_packet_is_text := false
var _last_error := ""
var _url := ""
var _protocols := PackedStringArray()
var _multiplayer := false
var _peer_id := 0
var _opened := false
## Set when the game called disconnect_from_host(): no reconnect follows that ending.
var _closed_by_game := false
## Set when the game stopped a reconnect wait: the next poll ends it with connection_closed.
var _abandoned_wait := false
## Messages drained into the queue by disconnect_from_host(), announced at the next poll.
var _unannounced := 0
## The error that ends the connection being closed (a failed multiplayer handshake), or empty.
var _ending_error := ""
var _close_code := -1
var _close_reason := ""
var _selected_protocol := ""
var _connected_host := ""
var _connected_port := 0
## When the current attempt must have opened (ticks in ms), or 0.
var _handshake_deadline_ms := 0
## When the multiplayer server must have sent the peer id (ticks in ms), or 0.
var _peer_id_deadline_ms := 0
## Failed reconnect attempts in a row (0 while open).
var _reconnect_attempt := 0
## When the scheduled reconnect attempt starts (ticks in ms), or 0 when none is scheduled.
var _reconnect_at_ms := 0
var _reconnect_count := 0
## Messages sent while reconnecting, for the next connection: [PackedByteArray payload, bool is_text].
var _reconnect_queue: Array[Array] = []
## The payload bytes of _reconnect_queue.
var _reconnect_queue_size := 0
var _transfer_channel := 0
var _transfer_mode := MultiplayerPeer.TRANSFER_MODE_RELIABLE
var _statistics := {}
var _performance_monitors: Array[StringName] = []


func _init() -> void:
	_reset_statistics()


func _notification(what: int) -> void:
	# A freed client says goodbye as the native one does, and takes its monitors with it.
	if what == NOTIFICATION_PREDELETE:
		# Methods of this object cannot be called any more: the cleanup is written out here.
		if _peer != null and _peer.get_ready_state() == WebSocketPeer.STATE_OPEN:
			_peer.close(1001, "")
		for id in _performance_monitors:
			if Performance.has_custom_monitor(id):
				Performance.remove_custom_monitor(id)


# ---- Connecting and closing ----------------------------------------------------------------------


## Starts connecting to a [code]ws://[/code] or [code]wss://[/code] URL and returns at once, as
## the native class does. [param custom_headers] cannot be sent by a browser: any makes it refuse.
func connect_to_url(url: String, protocols := PackedStringArray(), gd_mp_api := false, custom_headers := PackedStringArray()) -> Error:
	if _state != STATE_CLOSED or _reconnect_at_ms != 0:
		return _refuse(ERR_ALREADY_IN_USE, "a connection is already in progress: call disconnect_from_host() and wait for connection_closed first")
	var refused := _check_request(url, protocols, custom_headers)
	if refused != OK:
		return refused
	if heartbeat_interval > 0.0:
		push_warning("RustWebSocketWebClient: heartbeat_interval is ignored: a browser does not let a page send pings (it answers the server's pings itself).")
	_url = url
	_protocols = protocols
	_multiplayer = gd_mp_api
	_closed_by_game = false
	_reconnect_attempt = 0
	_reconnect_count = 0
	_queue.clear()
	_unannounced = 0
	_current_packet_is_text = false
	var error := _open()
	if error != OK:
		return _refuse(error, "cannot connect to %s: %s" % [url, error_string(error)])
	_last_error = ""
	return OK


## Makes auto-reconnect's next attempt, and those after it, connect to [param url] with
## [param protocols] instead of what [method connect_to_url] was given, as the native class does.
## [param custom_headers] cannot be sent by a browser: any makes it refuse.
func set_reconnect_url(url: String, protocols := PackedStringArray(), custom_headers := PackedStringArray()) -> Error:
	var refused := _check_request(url, protocols, custom_headers)
	if refused != OK:
		return refused
	if not auto_reconnect or _multiplayer or (_state == STATE_CLOSED and _reconnect_at_ms == 0):
		return _refuse(ERR_UNCONFIGURED, "auto-reconnect is not on for this connection, so there is no next attempt to change: set auto_reconnect = true before connect_to_url(), or call connect_to_url() with the new URL")
	_url = url
	_protocols = protocols
	return OK


## Starts the close handshake with [param code] (1000, or 3000–4999) and [param reason] (at most
## 123 bytes), as the native class does.
func disconnect_from_host(code := 1000, reason := "") -> void:
	if _reconnect_at_ms != 0:
		_reconnect_at_ms = 0
		_closed_by_game = true
		_abandoned_wait = true
		_state = STATE_CLOSING
		return
	if _state == STATE_CLOSED or _state == STATE_CLOSING:
		return
	if code != 1000 and (code < FIRST_APPLICATION_CLOSE_CODE or code > LAST_APPLICATION_CLOSE_CODE):
		_last_error = "close code %d may not be sent: use 1000 or a code from 3000 to 4999" % code
		return
	var reason_bytes := reason.to_utf8_buffer().size()
	if reason_bytes > MAX_CLOSE_REASON_BYTES:
		_last_error = "close reason is %d bytes long; at most 123 bytes fit in a close frame" % reason_bytes
		return
	_closed_by_game = true
	_state = STATE_CLOSING
	# WebSocketPeer.close() discards the packets not read yet: keep them, announced at next poll.
	_drain_packets(false)
	_peer.close(code, reason)


## Returns this client for [param peer_id] 1 (the server), [code]null[/code] for any other id.
func get_peer(peer_id: int) -> RustWebSocketWebClient:
	return self if peer_id == SERVER_PEER_ID else null


## The getter of [member verify_tls].
func is_verify_tls_enabled() -> bool:
	return verify_tls


## The setter of [member verify_tls].
func set_verify_tls_enabled(enabled: bool) -> void:
	verify_tls = enabled


## How put_packet() sends (the getter of [member write_mode]).
func get_write_mode() -> int:
	return write_mode


## Makes put_packet() send text or binary messages (the setter of [member write_mode]).
func set_write_mode(mode: int) -> void:
	write_mode = mode


func _open() -> Error:
	_peer = WebSocketPeer.new()
	_peer.supported_protocols = _protocols
	_peer.inbound_buffer_size = clampi(mini(max_message_size, inbound_queue_limit), 1, MAX_RECEIVE_BUFFER_BYTES)
	_peer.outbound_buffer_size = MAX_OUTBOUND_BUFFER_BYTES
	_peer.max_queued_packets = MAX_QUEUED_PACKETS
	_state = STATE_CONNECTING
	_opened = false
	_peer_id = 0
	_peer_id_deadline_ms = 0
	_close_code = -1
	_close_reason = ""
	_ending_error = ""
	_selected_protocol = ""
	_connected_host = ""
	_connected_port = 0
	_reset_statistics()
	_handshake_deadline_ms = _deadline_ms(handshake_timeout)
	var error := _peer.connect_to_url(_url)
	if error != OK:
		_state = STATE_CLOSED
	return error


## Checks a URL, sub-protocols and headers (when empty, [member handshake_headers]) as
## connect_to_url() and set_reconnect_url() take them: OK, or the refusal, with get_last_error()
## saying why ([constant ERR_INVALID_PARAMETER] for a malformed one, [constant ERR_UNAVAILABLE]
## for what a browser cannot do).
func _check_request(url: String, protocols: PackedStringArray, custom_headers: PackedStringArray) -> Error:
	var problem := _url_problem(url)
	if problem.is_empty():
		problem = _protocols_problem(protocols)
	if not problem.is_empty():
		return _refuse(ERR_INVALID_PARAMETER, problem)
	problem = _browser_limit(url, custom_headers if not custom_headers.is_empty() else handshake_headers)
	if not problem.is_empty():
		return _refuse(ERR_UNAVAILABLE, problem)
	return OK


## Why the URL cannot be connected to, in the native class's words (those of the WHATWG URL
## parser it uses, which a browser's WebSocket follows too), or empty.
func _url_problem(url: String) -> String:
	var colon := url.find(":")
	var scheme := url.left(colon).to_lower() if colon > 0 else ""
	if RegEx.create_from_string("^[a-z][a-z0-9+.-]*$").search(scheme) == null:
		return "invalid URL \"%s\": relative URL without a base" % url.c_escape()
	if scheme != "ws" and scheme != "wss":
		return "unsupported URL scheme \"%s\": use ws:// or wss://" % scheme
	# ws: and wss: are special schemes: any slashes after the colon may be left out.
	var authority := url.substr(colon + 1).lstrip("/\\")
	for end in ["/", "\\", "?", "#"]:
		authority = authority.get_slice(end, 0)
	var host := authority.substr(authority.rfind("@") + 1)
	var port := ""
	if host.begins_with("["):
		if not host.contains("]"):
			return "invalid URL \"%s\": invalid IPv6 address" % url.c_escape()
		port = host.substr(host.find("]") + 1)
		host = host.left(host.find("]") + 1)
	elif host.contains(":"):
		port = host.substr(host.find(":"))
		host = host.left(host.find(":"))
	if host.is_empty():
		return "invalid URL \"%s\": empty host" % url.c_escape()
	if url.substr(colon, 3) != "://":
		return "invalid URL \"%s\": write %s:// before the host (WebSocketPeer reads no other form)" % [url.c_escape(), scheme]
	if not port.is_empty() and (not port.begins_with(":") or RegEx.create_from_string("^[0-9]*$").search(port.substr(1)) == null or port.substr(1).to_int() > 65535):
		return "invalid URL \"%s\": invalid port number" % url.c_escape()
	if not host.begins_with("[") and RegEx.create_from_string("[\\x00-\\x20<>\\\\^|\\x7f]").search(host) != null:
		return "invalid URL \"%s\": invalid international domain name" % url.c_escape()
	return ""


## Why a sub-protocol cannot be offered, in the native class's words, or empty.
func _protocols_problem(protocols: PackedStringArray) -> String:
	var token := RegEx.create_from_string("^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$")
	for protocol in protocols:
		if token.search(protocol) == null:
			return "invalid sub-protocol \"%s\": it must be a non-empty HTTP token (letters, digits and !#$%%&'*+-.^_`|~)" % protocol.c_escape()
	return ""


## Why a browser cannot make this connection as configured, or empty.
func _browser_limit(url: String, custom_headers: PackedStringArray) -> String:
	var secure := url.to_lower().begins_with("wss://")
	if not custom_headers.is_empty():
		return "custom headers (%s) cannot be sent from a browser: its WebSocket sends only its own; pass a token in the URL's query or in the first message instead" % ", ".join(custom_headers)
	if not proxy_url.is_empty():
		return "proxy_url cannot be used in a browser: it connects through the system's proxy settings; leave proxy_url empty"
	if secure and not verify_tls:
		return "verify_tls = false is not possible in a browser: it always verifies the server's certificate; give the server a certificate the browser trusts"
	for setting in ["trusted_tls_certificate", "tls_client_certificate", "tls_client_key"]:
		if get(setting) != null:
			return "%s cannot be used in a browser: it trusts only its own certificate store and picks client certificates itself; set %s to null" % [setting, setting]
	if not tls_server_name.is_empty():
		return "tls_server_name cannot be used in a browser: it checks the certificate against the URL's host; connect to that host name instead"
	return ""


func _refuse(error: Error, sentence: String) -> Error:
	_last_error = sentence
	return error


# ---- Polling: one signal per thing that happened -------------------------------------------------


## Emits the signals for everything that happened since the last call (Godot's poll()).
func _poll() -> void:
	while _unannounced > 0:
		_unannounced -= 1
		if message_received.get_connections().is_empty():
			data_received.emit()
	_deliver_queue()
	if _abandoned_wait:
		# The game stopped a reconnect wait: it ends like an abandoned attempt.
		_abandoned_wait = false
		_last_error = ""
		_end(false)
		return
	if _reconnect_at_ms != 0:
		if Time.get_ticks_msec() < _reconnect_at_ms:
			return
		_start_reconnect_attempt()
	if _peer != null and _state != STATE_CLOSED:
		_peer.poll()
		_read_transitions()


## Turns what WebSocketPeer did since the last poll into signals, in the order it happened.
func _read_transitions() -> void:
	# A handler may close, or connect anew: what follows is then about a connection that is gone.
	var peer := _peer
	var peer_state := peer.get_ready_state()
	# Opened, and maybe closed already within the same poll: a close frame comes only after the
	# handshake succeeded.
	var opened_and_closed := peer_state == WebSocketPeer.STATE_CLOSED and _peer_close_code() != -1
	if _state == STATE_CONNECTING and (peer_state == WebSocketPeer.STATE_OPEN or peer_state == WebSocketPeer.STATE_CLOSING or opened_and_closed):
		_on_opened()
		if _peer != peer:
			return
	if _state == STATE_CONNECTING and peer_state == WebSocketPeer.STATE_CONNECTING and Time.get_ticks_msec() >= _handshake_deadline_ms:
		_peer.close()
		_fail("the connection to %s did not open within %.1f s (handshake_timeout)" % [_url, _effective_seconds(handshake_timeout)])
		return
	_drain_packets()
	_deliver_queue()
	if _peer != peer:
		return
	if _state == STATE_OPEN and _multiplayer and _peer_id == 0 and _peer_id_deadline_ms != 0 and Time.get_ticks_msec() >= _peer_id_deadline_ms:
		_fail_multiplayer_handshake("it sent no peer id within %.1f s" % handshake_timeout)
		return
	if peer_state == WebSocketPeer.STATE_CLOSING or peer_state == WebSocketPeer.STATE_CLOSED:
		if _state == STATE_OPEN:
			_close_code = _peer_close_code()
			_close_reason = _peer.get_close_reason()
			if _close_code != -1:
				_state = STATE_CLOSING
				server_close_request.emit(_close_code, _close_reason)
				if _peer != peer:
					return
		if peer_state == WebSocketPeer.STATE_CLOSED and _state != STATE_CLOSED:
			if not _opened and not _closed_by_game:
				_fail("cannot connect to %s: the connection failed (a browser does not say why: the server may be down, the address wrong, or the upgrade refused)" % _url)
				return
			_close_code = _peer_close_code()
			_close_reason = _peer.get_close_reason()
			if not _ending_error.is_empty():
				_last_error = _ending_error
			elif _close_code == -1 and not _closed_by_game:
				_last_error = "connection lost without a close handshake: the connection to %s ended without a close frame" % _url
			else:
				_last_error = ""
			_end(_close_code != -1)


## The code of the close frame WebSocketPeer received, or -1 without one (a browser's 1006).
func _peer_close_code() -> int:
	var code := _peer.get_close_code()
	return -1 if code == CLOSE_CODE_ABNORMAL else code


func _on_opened() -> void:
	_state = STATE_OPEN
	_opened = true
	_handshake_deadline_ms = 0
	_selected_protocol = _peer.get_selected_protocol()
	# A browser does not tell, nor a closed WebSocketPeer (Godot prints an error when asked).
	if not OS.has_feature("web") and _peer.get_ready_state() != WebSocketPeer.STATE_CLOSED:
		_connected_host = _peer.get_connected_host()
		_connected_port = _peer.get_connected_port()
	if _multiplayer:
		_peer_id_deadline_ms = _deadline_ms(handshake_timeout)
	var reconnect := _reconnect_attempt > 0
	_reconnect_attempt = 0
	if reconnect:
		# Before anything the game sends once it hears of the opening.
		for entry in _take_reconnect_queue():
			_send_now(entry[0], entry[1])
	connection_established.emit(_selected_protocol)
	if reconnect and _state == STATE_OPEN:
		_reconnect_count += 1
		_statistics["reconnects"] = _reconnect_count
		reconnected.emit()


## Moves every packet WebSocketPeer holds into the queue; announces each unless message_received
## has a listener (then _deliver_queue hands it over).
func _drain_packets(announce := true) -> void:
	while _peer != null and _peer.get_available_packet_count() > 0:
		var payload := _peer.get_packet()
		var is_text := _peer.was_string_packet()
		_statistics["messages_received"] += 1
		_statistics["payload_bytes_received"] += payload.size()
		if _multiplayer:
			if _peer_id == 0:
				_take_assigned_peer_id(payload, is_text)
			else:
				_queue.append([payload, is_text])
			continue
		_queue.append([payload, is_text])
		if not announce:
			_unannounced += 1
		elif message_received.get_connections().is_empty():
			data_received.emit()


## Hands queued messages to message_received while it has a listener, oldest first.
func _deliver_queue() -> void:
	while not _multiplayer and not _queue.is_empty() and not message_received.get_connections().is_empty():
		var entry: Array = _queue.pop_front()
		message_received.emit(_payload_variant(entry[0], entry[1]), entry[1])


func _take_assigned_peer_id(payload: PackedByteArray, is_text: bool) -> void:
	if is_text:
		_fail_multiplayer_handshake("its first message is text, not a peer id")
	elif payload.size() != 4:
		_fail_multiplayer_handshake("its first message has %d bytes, not the 4 of a peer id" % payload.size())
	elif payload.decode_s32(0) <= SERVER_PEER_ID:
		_fail_multiplayer_handshake("it assigned peer id %d; client ids start at 2" % payload.decode_s32(0))
	else:
		_peer_id = payload.decode_s32(0)
		_peer_id_deadline_ms = 0
		peer_connected.emit(SERVER_PEER_ID)


func _fail_multiplayer_handshake(detail: String) -> void:
	_peer_id_deadline_ms = 0
	_closed_by_game = true
	_peer.close(1002, "")
	_state = STATE_CLOSING
	_last_error = "the server does not speak Godot's WebSocketMultiplayerPeer protocol: " + detail
	_ending_error = _last_error
	connection_error.emit()


## An attempt that never opened failed: connection_error, then maybe a reconnect.
func _fail(sentence: String) -> void:
	_last_error = sentence
	_state = STATE_CLOSED
	var follows := _schedule_reconnect()
	connection_error.emit()
	_after_ending(follows)


## The connection ended: connection_closed, then maybe a reconnect.
func _end(clean: bool) -> void:
	var was_peer := _peer_id != 0
	_peer_id = 0
	_peer_id_deadline_ms = 0
	_state = STATE_CLOSED
	var follows := _schedule_reconnect()
	connection_closed.emit(clean)
	if was_peer:
		peer_disconnected.emit(SERVER_PEER_ID)
	_after_ending(follows)


## Schedules the next attempt when auto_reconnect applies to this ending; returns the
## reconnecting signal's arguments, [] when none follows, or [-1] when it gives up.
func _schedule_reconnect() -> Array:
	if not auto_reconnect or _multiplayer or _closed_by_game:
		return []
	if _close_code != -1 and _close_code in reconnect_final_close_codes:
		return []
	if reconnect_max_attempts > 0 and _reconnect_attempt >= reconnect_max_attempts:
		_last_error = "gave up reconnecting after %d attempt%s; the last one failed: %s" % [
			_reconnect_attempt, "" if _reconnect_attempt == 1 else "s", _last_error]
		match _reconnect_queue.size():
			0:
				pass
			1:
				_last_error += "; the message queued meanwhile was not sent"
			var queued:
				_last_error += "; the %d messages queued meanwhile were not sent" % queued
		return [-1]
	_reconnect_attempt += 1
	var full := minf(reconnect_delay_initial * pow(2.0, _reconnect_attempt - 1), reconnect_delay_max)
	var delay := randf_range(full / 2.0, full)
	_reconnect_at_ms = _deadline_ms(delay)
	_state = STATE_CONNECTING
	return [_reconnect_attempt, delay]


func _after_ending(follows: Array) -> void:
	if follows.size() == 2:
		reconnecting.emit(follows[0], follows[1])
		return
	if follows.size() == 1:
		reconnect_failed.emit()
	# No attempt follows: what was kept for one is dropped.
	var discarded := _take_reconnect_queue().size()
	if discarded > 0:
		reconnect_queue_discarded.emit(discarded)


## Takes every message of the reconnect queue, oldest first.
func _take_reconnect_queue() -> Array[Array]:
	var taken := _reconnect_queue
	_reconnect_queue = []
	_reconnect_queue_size = 0
	return taken


func _start_reconnect_attempt() -> void:
	_reconnect_at_ms = 0
	if _open() != OK:
		_fail("cannot connect to %s" % _url)


# ---- Sending -------------------------------------------------------------------------------------


## Sends a text message; [constant ERR_UNCONFIGURED] unless the connection is open.
func send_text(message: String) -> Error:
	return _send(message.to_utf8_buffer(), true)


## Sends [param message] as binary, or as text with [constant WRITE_MODE_TEXT] (UTF-8 only).
func send(message: PackedByteArray, write_mode := WRITE_MODE_BINARY) -> Error:
	if write_mode != WRITE_MODE_TEXT and write_mode != WRITE_MODE_BINARY:
		return _refuse(ERR_INVALID_PARAMETER, "send() takes WRITE_MODE_TEXT (0) or WRITE_MODE_BINARY (1) as write_mode, not %d" % write_mode)
	if write_mode == WRITE_MODE_TEXT and not _is_utf8(message):
		return _refuse(ERR_INVALID_DATA, "send() in WRITE_MODE_TEXT needs UTF-8 data")
	return _send(message, write_mode == WRITE_MODE_TEXT)


## Sends every element of [param messages] in order (String as text, PackedByteArray as binary).
func send_messages(messages: Array) -> Error:
	for element in messages:
		var error: Error
		match typeof(element):
			TYPE_STRING, TYPE_STRING_NAME:
				error = send_text(String(element))
			TYPE_PACKED_BYTE_ARRAY:
				error = send(element)
			_:
				return _refuse(ERR_INVALID_PARAMETER, "send_messages() takes Strings and PackedByteArrays, not %s" % type_string(typeof(element)))
		if error != OK:
			return error
	return OK


## Sends [param buffer] as one message, an empty one included (the [method PacketPeer.put_packet]
## this replaces, which a variable declared as [MultiplayerPeer] still calls, returns
## [constant OK] for an empty buffer and sends nothing): binary, or text when [member write_mode]
## is [constant WRITE_MODE_TEXT].
@warning_ignore("native_method_override")
func put_packet(buffer: PackedByteArray) -> Error:
	return _put_packet_script(buffer)


## Sends [param value] encoded as [method @GlobalScope.var_to_bytes] does (with
## [param full_objects], as [method @GlobalScope.var_to_bytes_with_objects]), as one binary
## message that [method PacketPeer.get_var] decodes, of any size (the [method PacketPeer.put_var]
## this replaces refuses values over [member PacketPeer.encode_buffer_max_size]).
@warning_ignore("native_method_override")
func put_var(value: Variant, full_objects := false) -> Error:
	var encoded := var_to_bytes_with_objects(value) if full_objects else var_to_bytes(value)
	if encoded.is_empty():
		return _refuse(ERR_INVALID_DATA, "put_var() cannot encode a value of type %s" % type_string(typeof(value)))
	return _send(encoded, false)


## Takes every queued message at once, oldest first (String for text, PackedByteArray for binary).
func take_messages() -> Array:
	var messages := []
	for entry in _queue:
		messages.append(_payload_variant(entry[0], entry[1]))
	_queue.clear()
	return messages


func _send(payload: PackedByteArray, is_text: bool) -> Error:
	if _multiplayer and _peer_id == 0:
		return _refuse(ERR_UNCONFIGURED, "not connected to the multiplayer server yet")
	if _multiplayer and payload.is_empty():
		return _refuse(ERR_INVALID_PARAMETER, "an empty packet cannot go to a Godot multiplayer server: its WebSocketMultiplayerPeer drops empty packets with an error; send at least one byte")
	if _state != STATE_OPEN:
		if _reconnect_at_ms != 0 or (_state == STATE_CONNECTING and _reconnect_attempt > 0):
			if reconnect_queue_messages > 0:
				return _keep_for_reconnect(payload, is_text)
			return _refuse(ERR_UNCONFIGURED, "the connection is being re-established (auto-reconnect, attempt %d); nothing was sent: send again once it is open" % _reconnect_attempt)
		return _refuse(ERR_UNCONFIGURED, "the connection is not open")
	return _send_now(payload, is_text)


## Keeps a message sent while reconnecting if the reconnect queue's limits allow it.
func _keep_for_reconnect(payload: PackedByteArray, is_text: bool) -> Error:
	if _reconnect_queue.size() >= reconnect_queue_messages:
		return _refuse(ERR_BUSY, "the reconnect queue is full (%d message%s, reconnect_queue_messages): the message was not sent; send it again once reconnected" % [
			reconnect_queue_messages, "" if reconnect_queue_messages == 1 else "s"])
	if _reconnect_queue_size + payload.size() > reconnect_queue_bytes:
		return _refuse(ERR_BUSY, "the reconnect queue has no room for a message of %d bytes (%d of %d bytes queued, reconnect_queue_bytes): the message was not sent; send it again once reconnected" % [
			payload.size(), _reconnect_queue_size, reconnect_queue_bytes])
	_reconnect_queue.append([payload, is_text])
	_reconnect_queue_size += payload.size()
	return OK


## Hands a message to the open WebSocketPeer.
func _send_now(payload: PackedByteArray, is_text: bool) -> Error:
	var error := _peer.send(payload, WebSocketPeer.WRITE_MODE_TEXT if is_text else WebSocketPeer.WRITE_MODE_BINARY)
	if error != OK:
		return _refuse(error, "WebSocketPeer refused the message of %d bytes: %s" % [payload.size(), error_string(error)])
	_statistics["messages_sent"] += 1
	_statistics["payload_bytes_sent"] += payload.size()
	return OK


## The tick, in milliseconds, [param seconds] from now (see [method _effective_seconds]).
static func _deadline_ms(seconds: float) -> int:
	return Time.get_ticks_msec() + int(_effective_seconds(seconds) * 1000.0)


## The timeout or delay a deadline is set for: at least a millisecond, as on the native client,
## and at most [constant LONGEST_TIMEOUT_S], so [constant INF] or a huge value is a deadline that
## never comes (int(INF * 1000) would be in the past).
static func _effective_seconds(seconds: float) -> float:
	return clampf(seconds, 0.001, LONGEST_TIMEOUT_S) if not is_nan(seconds) else 0.001


## Whether bytes are valid UTF-8, checked without Godot's decoder (which prints an error for each
## invalid sequence).
static func _is_utf8(bytes: PackedByteArray) -> bool:
	var i := 0
	var size := bytes.size()
	while i < size:
		var lead := bytes[i]
		var length := 1
		var smallest := 0
		if lead < 0x80:
			i += 1
			continue
		elif lead >= 0xc2 and lead <= 0xdf:
			length = 2
			smallest = 0x80
		elif lead >= 0xe0 and lead <= 0xef:
			length = 3
			smallest = 0x800
		elif lead >= 0xf0 and lead <= 0xf4:
			length = 4
			smallest = 0x10000
		else:
			return false
		if i + length > size:
			return false
		var code_point := lead & (0xff >> (length + 1))
		for k in range(1, length):
			var next := bytes[i + k]
			if next & 0xc0 != 0x80:
				return false
			code_point = (code_point << 6) | (next & 0x3f)
		if code_point < smallest or code_point > 0x10ffff or (code_point >= 0xd800 and code_point <= 0xdfff):
			return false
		i += length
	return true


## A payload as message_received gives it: a String for text without U+0000, else the bytes.
static func _payload_variant(payload: PackedByteArray, is_text: bool) -> Variant:
	if is_text and not payload.has(0):
		return payload.get_string_from_utf8()
	return payload


# ---- What the connection is and was ----------------------------------------------------------------


## The connection state: one of the [code]STATE_*[/code] constants.
func get_ready_state() -> int:
	return _state


## Whether the packet last returned by get_packet() was a text message.
func was_string_packet() -> bool:
	return _current_packet_is_text


## The code of the close frame that ended the connection, or -1 without one.
func get_close_code() -> int:
	return _close_code


## The reason the server gave in its close frame, or empty.
func get_close_reason() -> String:
	return _close_reason


## The sub-protocol the server selected, or empty.
func get_selected_protocol() -> String:
	return _selected_protocol


## The URL passed to the last successful connect_to_url().
func get_requested_url() -> String:
	return _url


## What went wrong last, as a sentence, or empty. A browser does not say why a connection
## failed, so its sentences say less than the native class's.
func get_last_error() -> String:
	return _last_error


## The server's IP address once connected (empty in a browser, which does not tell).
func get_connected_host() -> String:
	return _connected_host


## The server's port once connected (0 in a browser, which does not tell).
func get_connected_port() -> int:
	return _connected_port


## Empty: a browser does not tell a page the TLS version.
func get_tls_version() -> String:
	return ""


## Empty: a browser does not tell a page the cipher suite.
func get_tls_cipher_suite() -> String:
	return ""


## Bytes sent but not yet handed to the network (the browser's bufferedAmount on the web), and
## while reconnecting the payloads kept in the reconnect queue.
func get_current_outbound_buffered_amount() -> int:
	var posted := _peer.get_current_outbound_buffered_amount() if _peer != null and _state == STATE_OPEN else 0
	return posted + _reconnect_queue_size


## How many times auto_reconnect opened the connection again since the last connect_to_url().
func get_reconnect_count() -> int:
	return _reconnect_count


## Empty: a browser chooses its proxy itself and does not tell.
func get_proxy_in_use() -> String:
	return ""


## Empty: a browser does not tell a page which extensions the server accepted.
func get_negotiated_extensions() -> String:
	return ""


## 0.0: a page cannot send pings, so no round trip is measured.
func get_round_trip_time() -> float:
	return 0.0


## 101 once open, else 0: a browser does not show a page the refusal's HTTP status.
func get_handshake_response_status() -> int:
	return 101 if _opened else 0


## Empty: a browser does not show a page the response headers.
func get_handshake_response_headers() -> PackedStringArray:
	return PackedStringArray()


## Empty: a browser does not show a page the refusal's body.
func get_handshake_response_body() -> PackedByteArray:
	return PackedByteArray()


## The native class's statistics; the wire bytes and compression ratio stay 0 (a browser does not
## tell them), and so does the round trip.
func get_statistics() -> Dictionary:
	return _statistics.duplicate()


## One entry of get_statistics() by its key, or null for an unknown key.
func get_statistic(key: String) -> Variant:
	return _statistics.get(key)


## Shows get_statistics() in the debugger's Monitors tab, as the native class does.
func add_performance_monitors(category := "RustWebSocket") -> Error:
	remove_performance_monitors()
	var ids: Array[StringName] = []
	for key in _statistics:
		ids.append(StringName("%s/%s" % [category, key]))
	for id in ids:
		if Performance.has_custom_monitor(id):
			return _refuse(ERR_ALREADY_EXISTS, "a Performance monitor named %s already exists" % id)
	for id in ids:
		Performance.add_custom_monitor(id, get_statistic, [String(id).get_file()])
	_performance_monitors = ids
	return OK


## Removes the monitors add_performance_monitors() added, if any.
func remove_performance_monitors() -> void:
	for id in _performance_monitors:
		if Performance.has_custom_monitor(id):
			Performance.remove_custom_monitor(id)
	_performance_monitors.clear()


func _reset_statistics() -> void:
	_statistics = {
		"messages_sent": 0,
		"messages_received": 0,
		"payload_bytes_sent": 0,
		"payload_bytes_received": 0,
		"wire_bytes_sent": 0,
		"wire_bytes_received": 0,
		"compression_ratio": 0.0,
		"round_trip_time": 0.0,
		"reconnects": _reconnect_count,
	}


# ---- PacketPeer and MultiplayerPeer --------------------------------------------------------------


func _get_packet_script() -> PackedByteArray:
	if _queue.is_empty():
		_current_packet_is_text = false
		return PackedByteArray()
	var entry: Array = _queue.pop_front()
	_current_packet_is_text = entry[1]
	return entry[0]


func _put_packet_script(buffer: PackedByteArray) -> Error:
	if write_mode == WRITE_MODE_TEXT and not _multiplayer:
		if not _is_utf8(buffer):
			return _refuse(ERR_INVALID_DATA, "put_packet() in WRITE_MODE_TEXT needs UTF-8 data")
		return _send(buffer, true)
	return _send(buffer, false)


func _get_available_packet_count() -> int:
	return _queue.size()


func _get_max_packet_size() -> int:
	return max_message_size


func _get_packet_channel() -> int:
	return 0


func _get_packet_mode() -> MultiplayerPeer.TransferMode:
	return MultiplayerPeer.TRANSFER_MODE_RELIABLE


func _set_transfer_channel(channel: int) -> void:
	_transfer_channel = channel


func _get_transfer_channel() -> int:
	return _transfer_channel


func _set_transfer_mode(mode: MultiplayerPeer.TransferMode) -> void:
	_transfer_mode = mode


func _get_transfer_mode() -> MultiplayerPeer.TransferMode:
	return _transfer_mode


func _set_target_peer(_peer_id_to_target: int) -> void:
	pass


func _get_packet_peer() -> int:
	return SERVER_PEER_ID


func _is_server() -> bool:
	return false


## MultiplayerPeer.close(): disconnects at once; as a multiplayer peer, without peer_disconnected.
func _close() -> void:
	disconnect_from_host()
	_peer_id = 0
	_peer_id_deadline_ms = 0


func _disconnect_peer(peer: int, _force: bool) -> void:
	if peer == SERVER_PEER_ID:
		disconnect_from_host()


func _get_unique_id() -> int:
	return _peer_id


func _get_connection_status() -> MultiplayerPeer.ConnectionStatus:
	if _state == STATE_CONNECTING:
		return MultiplayerPeer.CONNECTION_CONNECTING
	if not _multiplayer:
		return MultiplayerPeer.CONNECTION_CONNECTED if _state == STATE_OPEN else MultiplayerPeer.CONNECTION_DISCONNECTED
	# Connected once the server assigned the id, and through the close handshake (as native).
	if _peer_id != 0 and _state != STATE_CLOSED:
		return MultiplayerPeer.CONNECTION_CONNECTED
	return MultiplayerPeer.CONNECTION_CONNECTING if _state == STATE_OPEN else MultiplayerPeer.CONNECTION_DISCONNECTED


func _is_server_relay_supported() -> bool:
	return true
