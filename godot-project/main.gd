## The rust_websocket demo: a chat/echo client, made the portable way
## ([method RustWebSocket.create_client]): the native RustWebSocketClient where the extension is
## loaded, the web client (RustWebSocketWebClient, on WebSocketPeer) where it is not, as in a web
## export. The script names neither class, so it parses in both.
##
## With a window, type a URL (the local echo server by default), connect, and send messages.
## Run headless (`cargo xtask demo`), it plays a scripted session against its own echo server:
## text, binary, a 1 MiB message and a clean close, prints the transcript, and exits 0.
##
## When `cargo xtask demo` has generated certs/demo.crt and certs/demo.key, the echo server
## speaks wss:// with that self-signed certificate, and the native client trusts exactly it
## through its trusted_tls_certificate. The web client stays on ws:// (a browser takes no TLS
## settings from a page).
extends Control

const ECHO_PORT := 9080
const DEMO_CERTIFICATE := "res://certs/demo.crt"
const DEMO_KEY := "res://certs/demo.key"
const BIG_MESSAGE_BYTES := 1024 * 1024
## A headless session that is not over after this many seconds has failed.
const SESSION_TIMEOUT_S := 30.0

var socket: MultiplayerPeer = RustWebSocket.create_client()
var _echo_server := EchoServer.new()
var _script_step := 0
var _big_message := PackedByteArray()

@onready var _url: LineEdit = %Url
@onready var _connect_button: Button = %ConnectButton
@onready var _log: RichTextLabel = %Log
@onready var _message: LineEdit = %Message


func _ready() -> void:
	add_child(_echo_server)
	var tls_options := _demo_tls() if not RustWebSocket.is_web_client(socket) else null
	var err := _echo_server.listen(ECHO_PORT, tls_options)
	if err != OK:
		_say("could not start the local echo server on port %d (error %d)" % [ECHO_PORT, err])
	_url.text = ("wss://localhost:%d" if tls_options else "ws://127.0.0.1:%d") % ECHO_PORT
	socket.heartbeat_interval = 1.0  # pings the server every second; measures the round trip
	socket.connection_established.connect(_on_connection_established)
	socket.message_received.connect(_on_message_received)
	socket.server_close_request.connect(_on_server_close_request)
	socket.connection_closed.connect(_on_connection_closed)
	socket.connection_error.connect(_on_connection_error)
	# A dropped chat connects again by itself (disconnect_from_host() stops it).
	socket.auto_reconnect = true
	socket.reconnecting.connect(_on_reconnecting)
	socket.reconnect_failed.connect(func() -> void: _say("gave up reconnecting: %s" % socket.get_last_error()))
	_connect_button.pressed.connect(_on_connect_pressed)
	%SendButton.pressed.connect(_on_send_pressed)
	_message.text_submitted.connect(func(_text: String) -> void: _on_send_pressed())
	if DisplayServer.get_name() == "headless":
		_run_headless_session()


func _process(_delta: float) -> void:
	socket.poll()


## Server TLS options from the generated demo certificate, which the client then trusts; null
## (plain ws://) when there is none.
func _demo_tls() -> TLSOptions:
	if not FileAccess.file_exists(DEMO_CERTIFICATE) or not FileAccess.file_exists(DEMO_KEY):
		return null
	# load() (not X509Certificate.new().load()) keeps the file's path, from which the addon
	# reads every certificate in it.
	var certificate: X509Certificate = load(DEMO_CERTIFICATE)
	var key := CryptoKey.new()
	if certificate == null or key.load(DEMO_KEY) != OK:
		return null
	socket.trusted_tls_certificate = certificate
	return TLSOptions.server(key, certificate)


func _on_connect_pressed() -> void:
	if socket.get_connection_status() == MultiplayerPeer.CONNECTION_DISCONNECTED:
		var err: Error = socket.connect_to_url(_url.text)
		if err == OK:
			_say("connecting to %s" % _url.text)
			_connect_button.text = "Disconnect"
		else:
			_say("cannot connect: %s" % socket.get_last_error())
	else:
		socket.disconnect_from_host(1000, "bye")


func _on_send_pressed() -> void:
	if _message.text.is_empty():
		return
	if socket.send_text(_message.text) == OK:
		_say("> %s" % _message.text)
		_message.clear()
	else:
		_say("not sent: %s" % socket.get_last_error())


func _on_connection_established(protocol: String) -> void:
	_say("connected to %s:%d (protocol: \"%s\")" % [socket.get_connected_host(), socket.get_connected_port(), protocol])
	if RustWebSocket.is_web_client(socket):
		_say("on the web client (no extension loaded, as in a web export)")
	elif not socket.get_proxy_in_use().is_empty():
		_say("through the HTTP proxy %s (set by proxy_url or HTTP_PROXY / HTTPS_PROXY)" % socket.get_proxy_in_use())
	if not socket.get_tls_version().is_empty():
		_say("encrypted with %s, %s; certificate trusted via trusted_tls_certificate" % [socket.get_tls_version(), socket.get_tls_cipher_suite()])
	var extensions: String = socket.get_negotiated_extensions()
	_say("compression: %s" % (extensions if not extensions.is_empty() else "none negotiated"))
	_advance_script()


func _on_message_received(message: Variant, is_text: bool) -> void:
	if is_text:
		_say("< %s" % message)
	elif message.size() == BIG_MESSAGE_BYTES:
		_say("< binary, %d bytes, intact: %s" % [message.size(), message == _big_message])
	else:
		_say("< binary %s" % message)
	_advance_script()


func _on_server_close_request(code: int, reason: String) -> void:
	_say("server asks to close: %d \"%s\"" % [code, reason])


func _on_connection_closed(was_clean_close: bool) -> void:
	_say("closed (clean: %s, code %d)" % [was_clean_close, socket.get_close_code()])
	var stats: Dictionary = socket.get_statistics()
	var rtt := "%.2f ms" % (stats.round_trip_time * 1000.0) if stats.round_trip_time > 0.0 else "not measured (no pong yet)"
	_say("sent %d messages, received %d (%d payload / %d wire bytes in), round trip %s" % [stats.messages_sent, stats.messages_received, stats.payload_bytes_received, stats.wire_bytes_received, rtt])
	_connect_button.text = "Connect"
	if _script_step > 0:
		_finish_headless_session(was_clean_close)


func _on_connection_error() -> void:
	_say("connection failed: %s" % socket.get_last_error())
	var status: int = socket.get_handshake_response_status()
	if status > 0:  # the server answered the upgrade, but not with 101: show why
		_say("HTTP %d %s: %s" % [status, socket.get_handshake_response_headers(), socket.get_handshake_response_body().get_string_from_utf8().left(200)])
	_connect_button.text = "Connect"
	if _script_step > 0:
		_finish_headless_session(false)


func _on_reconnecting(attempt: int, delay: float) -> void:
	_say("reconnecting in %.1f s (attempt %d)" % [delay, attempt])
	_connect_button.text = "Disconnect"


func _say(line: String) -> void:
	print(line)
	_log.append_text(line + "\n")


# ---- The scripted headless session -------------------------------------------------------------

func _run_headless_session() -> void:
	_say("rust_websocket demo: scripted session against the local echo server")
	_script_step = 1
	for i in BIG_MESSAGE_BYTES:
		_big_message.append(i % 251)
	# A Timer node (not a SceneTreeTimer) so nothing is left pending when the session quits.
	var watchdog := Timer.new()
	watchdog.one_shot = true
	watchdog.timeout.connect(_on_session_timeout)
	add_child(watchdog)
	watchdog.start(SESSION_TIMEOUT_S)
	_on_connect_pressed()


func _on_session_timeout() -> void:
	_say("the session did not finish within %d s" % SESSION_TIMEOUT_S)
	get_tree().quit(1)


## Each step sends one thing; the echo moves the script on.
func _advance_script() -> void:
	if _script_step == 0:
		return
	_script_step += 1
	match _script_step:
		2:
			_message.text = "Hello from RustWebSocketClient!"
			_on_send_pressed()
		3:
			_say("> binary [1, 2, 3, 255]")
			socket.send(PackedByteArray([1, 2, 3, 255]))
		4:
			_say("> binary, %d bytes" % BIG_MESSAGE_BYTES)
			socket.send(_big_message)
		5:
			_say("disconnecting")
			socket.disconnect_from_host(1000, "demo over")


func _finish_headless_session(success: bool) -> void:
	var complete := success and _script_step == 5
	_say("session %s" % ("complete" if complete else "FAILED"))
	get_tree().quit(0 if complete else 1)
