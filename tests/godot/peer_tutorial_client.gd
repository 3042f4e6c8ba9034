extends Node
## The minimal client of Godot 4's tutorial "Using WebSockets"
## (https://docs.godotengine.org/en/stable/tutorials/networking/websocket.html), statically
## typed, with `WebSocketPeer` renamed to `RustWebSocketPeer` and nothing else of its logic
## changed, except where a test needs it (each marked "Test:"): the URL and TLS options come
## from the test, the tutorial's `await get_tree().create_timer(2).timeout` before sending
## becomes "send once open" (no timing in tests), the echo is closed with close(1000, ...) once
## it came back, and what it prints is also kept in `lines` for the test to read.

# The URL we will connect to.
@export var websocket_url := "wss://echo.websocket.org"
## Test: the TLS options for connect_to_url(), null for the defaults.
var tls_options: TLSOptions = null
## Test: every line printed, in order.
var lines: PackedStringArray = []
## Test: whether the test packet was sent.
var sent := false

# Our WebSocketClient instance.
var socket := RustWebSocketPeer.new()


func _ready() -> void:
	# Initiate connection to the given URL.
	var err: Error = socket.connect_to_url(websocket_url, tls_options)
	if err == OK:
		_print("Connecting to %s..." % websocket_url)
	else:
		push_error("Unable to connect.")
		set_process(false)


func _process(_delta: float) -> void:
	# Call this in `_process()` or `_physics_process()`.
	# Data transfer and state updates will only happen when calling this function.
	socket.poll()

	# get_ready_state() tells you what state the socket is in.
	var state: RustWebSocketPeer.State = socket.get_ready_state()

	# `WebSocketPeer.STATE_OPEN` means the socket is connected and ready
	# to send and receive data.
	if state == RustWebSocketPeer.STATE_OPEN:
		if not sent:
			# Test: sent once open (the tutorial waits two seconds after connect_to_url()).
			_print("> Sending test packet.")
			socket.send_text("Test packet")
			sent = true
		while socket.get_available_packet_count():
			var packet: PackedByteArray = socket.get_packet()
			if socket.was_string_packet():
				var packet_text: String = packet.get_string_from_utf8()
				_print("< Got text data from server: %s" % packet_text)
			else:
				_print("< Got binary data from server: %d bytes" % packet.size())
			# Test: the echo came back; close cleanly.
			socket.close(1000, "Tutorial done")

	# `WebSocketPeer.STATE_CLOSING` means the socket is closing.
	# It is important to keep polling for a clean close.
	elif state == RustWebSocketPeer.STATE_CLOSING:
		pass

	# `WebSocketPeer.STATE_CLOSED` means the connection has fully closed.
	# It is now safe to stop polling.
	elif state == RustWebSocketPeer.STATE_CLOSED:
		# The code will be -1 if the disconnection was not properly notified by the remote peer.
		var code: int = socket.get_close_code()
		_print("WebSocket closed with code: %d. Clean: %s" % [code, code != -1])
		set_process(false) # Stop processing.


## Test: prints as the tutorial does, and keeps the line.
func _print(line: String) -> void:
	print(line)
	lines.append(line)
