## End-to-end check of the release zip as a user installs it: unzipped into an empty project
## and imported, the extension loads and a RustWebSocketClient exchanges a text and a binary
## message with an echo server (Godot's own TCPServer + WebSocketPeer, in this process, on
## 127.0.0.1), then closes cleanly.
##
## `godot --headless --path <project> --script res://install_check.gd` prints
## `PASS <check>` / `FAIL <check>: <why>`, then `N passed, M failed`; exits 1 if any failed.
extends SceneTree

const CLASS := "RustWebSocketClient"
const EXTENSION := "res://addons/rust_websocket/rust_websocket.gdextension"
const PORTABLE_ENTRY_POINT := "res://addons/rust_websocket/web/rust_websocket.gd"
const TEXT := "hello from the installed package"
const BINARY := [1, 2, 3, 255]
## A run not over after this many seconds has hung; it fails instead of blocking the suite.
const WATCHDOG_S := 30.0

var _tcp := TCPServer.new()
var _server_peers: Array[WebSocketPeer] = []
## The client, made through ClassDB so this script still parses when the class is missing.
var _client: Object
var _received: Array = []
var _deadline_ms := 0
var _done := false
var _passed := 0
var _failed := 0


func _initialize() -> void:
	_check("extension loaded", EXTENSION in GDExtensionManager.get_loaded_extensions(), EXTENSION)
	_check("class registered", ClassDB.class_exists(CLASS), CLASS)
	# The web path ships in the zip too: its entry point picks the native class where it is loaded.
	var portable: Script = load(PORTABLE_ENTRY_POINT)
	_check("web path entry point", portable != null and portable.create_client().get_class() == CLASS, PORTABLE_ENTRY_POINT)
	if not ClassDB.class_exists(CLASS) or _tcp.listen(0, "127.0.0.1") != OK:
		_finish()
		return
	_client = ClassDB.instantiate(CLASS)
	_client.connection_established.connect(_on_connection_established)
	_client.message_received.connect(_on_message_received)
	_client.connection_closed.connect(_on_connection_closed)
	_client.connection_error.connect(_on_connection_error)
	var url := "ws://127.0.0.1:%d" % _tcp.get_local_port()
	_check("connect_to_url", _client.connect_to_url(url) == OK, _client.get_last_error())
	_deadline_ms = Time.get_ticks_msec() + int(WATCHDOG_S * 1000.0)


func _process(_delta: float) -> bool:
	if _done:
		return true
	while _tcp.is_connection_available():
		var peer := WebSocketPeer.new()
		peer.accept_stream(_tcp.take_connection())
		_server_peers.append(peer)
	for peer in _server_peers:
		peer.poll()
		while peer.get_available_packet_count() > 0:
			var packet := peer.get_packet()
			if peer.was_string_packet():
				peer.send_text(packet.get_string_from_utf8())
			else:
				peer.send(packet)
	_client.poll()
	if not _done and Time.get_ticks_msec() > _deadline_ms:
		_check("finished", false, "no clean close within %d s" % WATCHDOG_S)
		_finish()
	return _done


func _on_connection_established(_protocol: String) -> void:
	_check("connection_established", true, "")
	_client.send_text(TEXT)
	_client.send(PackedByteArray(BINARY))


func _on_message_received(message: Variant, is_text: bool) -> void:
	_received.append([message, is_text])
	if _received.size() == 2:
		_check("text echoed", _received[0] == [TEXT, true], str(_received[0]))
		_check("binary echoed", _received[1] == [PackedByteArray(BINARY), false], str(_received[1]))
		_client.disconnect_from_host(1000, "done")


func _on_connection_closed(was_clean_close: bool) -> void:
	_check("clean close", was_clean_close and _client.get_close_code() == 1000,
			"clean: %s, code %d" % [was_clean_close, _client.get_close_code()])
	_finish()


func _on_connection_error() -> void:
	_check("connection", false, _client.get_last_error())
	_finish()


func _check(check: String, ok: bool, detail: String) -> void:
	if ok:
		_passed += 1
		print("PASS %s" % check)
	else:
		_failed += 1
		print("FAIL %s: %s" % [check, detail])


func _finish() -> void:
	_done = true
	for peer in _server_peers:
		peer.close()
	_server_peers.clear()
	_tcp.stop()
	print("%d passed, %d failed" % [_passed, _failed])
	quit(0 if _failed == 0 else 1)


func _finalize() -> void:
	# Released here, not in _finish(), which may run inside the client's own poll().
	_client = null
