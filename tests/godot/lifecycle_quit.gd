extends SceneTree
## Quits Godot while connections are open and one is still connecting; `cargo xtask test`
## (rust/xtask/src/lifecycle.rs) runs it as its own process and checks that it exits by itself,
## cleanly, and that the Python peer saw each open connection end with what was sent before:
##
##   godot --headless --path <project> --script res://tests/godot/lifecycle_quit.gd -- \
##       --py-port=<port of tests/peers/py_server.py> --id=<prefix of the /record ids>
##
## Opens OPEN_CONNECTIONS clients to /record?id=<prefix>-<n> and one to a raw TCP server of its own
## that never answers the upgrade; once all are open (and the last one stuck connecting), sends
## "before quit" on each and 32 MiB on the first two, frees the first, prints `QUITTING ...` and
## calls quit() with the other clients still held.

## Connections open when Godot quits.
const OPEN_CONNECTIONS := 3
## The first LARGE_MESSAGE_CONNECTIONS connections also send a message of this size just
## before the quit.
const LARGE_MESSAGE_BYTES := 32 * 1024 * 1024
const LARGE_MESSAGE_CONNECTIONS := 2
## Longest the setup may take before the script gives up (prints FAIL, exits 1).
const SETUP_TIMEOUT_MS := 20000

var _clients: Array[RustWebSocketClient] = []
var _connecting: RustWebSocketClient
var _silent_server := TCPServer.new()
var _silent_peer: StreamPeerTCP
var _deadline := 0


func _initialize() -> void:
	var py_port := 0
	var id := ""
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--py-port="):
			py_port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--id="):
			id = arg.get_slice("=", 1)
	if py_port == 0 or id.is_empty():
		print("FAIL setup: --py-port and --id are needed")
		quit(1)
		return
	_silent_server.listen(0, "127.0.0.1")
	for n in OPEN_CONNECTIONS:
		var client := RustWebSocketClient.new()
		client.connect_to_url("ws://127.0.0.1:%d/record?id=%s-%d" % [py_port, id, n])
		_clients.append(client)
	_connecting = RustWebSocketClient.new()
	_connecting.connect_to_url("ws://127.0.0.1:%d/" % _silent_server.get_local_port())
	_deadline = Time.get_ticks_msec() + SETUP_TIMEOUT_MS


func _process(_delta: float) -> bool:
	if _deadline == 0:
		return false
	var open := 0
	for client in _clients:
		client.poll()
		if client.get_ready_state() == RustWebSocketClient.STATE_OPEN:
			open += 1
	_connecting.poll()
	if _silent_peer == null and _silent_server.is_connection_available():
		_silent_peer = _silent_server.take_connection()
	if open == OPEN_CONNECTIONS and _silent_peer != null:
		for client in _clients:
			client.send_text("before quit")
		# Far more than a socket takes at once: it is written after the quit, before the close.
		var large := PackedByteArray()
		large.resize(LARGE_MESSAGE_BYTES)
		for n in LARGE_MESSAGE_CONNECTIONS:
			_clients[n].send(large)
		# The first is freed before the quit rather than held through it.
		_clients.remove_at(0)
		print("QUITTING with %d open connections and 1 connecting (state %d)" % [open, _connecting.get_ready_state()])
		_deadline = 0
		quit(0)
	elif Time.get_ticks_msec() > _deadline:
		print("FAIL setup: %d of %d connections open, silent server connected: %s" % [open, OPEN_CONNECTIONS, _silent_peer != null])
		_deadline = 0
		quit(1)
	return false
