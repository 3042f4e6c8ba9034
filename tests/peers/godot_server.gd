extends SceneTree
## A WebSocket echo server made of Godot's own TCPServer + WebSocketPeer, for the headless test
## suite (tests/godot/). Listens on 127.0.0.1; prints exactly `READY <port>` once listening.
##
## User arguments (after `--`):
##   --port=N       port to listen on; 0 (the default) picks a free one
##   --lifetime=S   quit by itself after S seconds (default 600)
##   --verbose      log connections and commands to stderr
##
## Every peer echoes text as text and binary as binary, except for the text commands:
##   "please close <code> <reason...>"   closes that peer with this code and reason (not echoed)

## Room for 16 MiB messages (and a few queued behind them) in both directions.
const BUFFER_SIZE := 64 << 20
## Room for 10,000 small messages queued at once.
const MAX_QUEUED_PACKETS := 65536

var _server := TCPServer.new()
var _peers: Array[WebSocketPeer] = []
var _deadline_ms := 0
var _verbose := false


func _initialize() -> void:
	var port := 0
	var lifetime := 600.0
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--port="):
			port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--lifetime="):
			lifetime = arg.get_slice("=", 1).to_float()
		elif arg == "--verbose":
			_verbose = true
		else:
			printerr("godot_server: unknown argument ", arg)
	var error := _server.listen(port, "127.0.0.1")
	if error != OK:
		printerr("godot_server: cannot listen on 127.0.0.1:%d: %s" % [port, error_string(error)])
		quit(1)
		return
	_deadline_ms = Time.get_ticks_msec() + int(lifetime * 1000.0)
	# Keep the idle loop from spinning a whole core; one poll reads everything that is available.
	Engine.max_fps = 1000
	print("READY %d" % _server.get_local_port())


func _process(_delta: float) -> bool:
	if not _server.is_listening():
		return false
	while _server.is_connection_available():
		var peer := WebSocketPeer.new()
		peer.inbound_buffer_size = BUFFER_SIZE
		peer.outbound_buffer_size = BUFFER_SIZE
		peer.max_queued_packets = MAX_QUEUED_PACKETS
		var error := peer.accept_stream(_server.take_connection())
		if error != OK:
			printerr("godot_server: accept_stream failed: ", error_string(error))
			continue
		_log("new connection")
		_peers.append(peer)
	for peer: WebSocketPeer in _peers.duplicate():
		peer.poll()
		while peer.get_available_packet_count() > 0:
			var data := peer.get_packet()
			var is_text := peer.was_string_packet()
			if peer.get_ready_state() != WebSocketPeer.STATE_OPEN:
				continue
			if is_text and data.get_string_from_utf8().begins_with("please close "):
				var words := data.get_string_from_utf8().split(" ", true, 3)
				var code := words[2].to_int() if words.size() > 2 else 1000
				var reason := words[3] if words.size() > 3 else ""
				_log("closing a peer with %d \"%s\"" % [code, reason])
				peer.close(code, reason)
				continue
			var mode := WebSocketPeer.WRITE_MODE_TEXT if is_text else WebSocketPeer.WRITE_MODE_BINARY
			var error := peer.send(data, mode)
			if error != OK:
				printerr("godot_server: echo of %d bytes failed: %s" % [data.size(), error_string(error)])
		if peer.get_ready_state() == WebSocketPeer.STATE_CLOSED:
			_log("connection closed with %d \"%s\"" % [peer.get_close_code(), peer.get_close_reason()])
			_peers.erase(peer)
	if Time.get_ticks_msec() >= _deadline_ms:
		print("godot_server: lifetime is over; exiting")
		_shutdown()
		return true
	return false


func _finalize() -> void:
	_shutdown()


func _shutdown() -> void:
	for peer in _peers:
		peer.close(1001, "server shutting down")
		peer.poll()
	_peers.clear()
	_server.stop()


func _log(message: String) -> void:
	if _verbose:
		printerr("godot_server: ", message)
