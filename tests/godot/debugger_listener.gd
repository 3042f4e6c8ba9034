## Stands in for the editor in test_debugger.gd: listens where a game started with
## `--remote-debug tcp://127.0.0.1:<port>` connects, and decodes what it sends as the editor does
## (Godot's RemoteDebuggerPeerTCP: each message a 32-bit little-endian length, then an Array
## [name, thread id, data] in Godot's binary Variant encoding, which bytes_to_var() reads).
## A Node: it reads in _process while the test waits.
extends Node

## Every message received, in order: [name, data].
var messages: Array = []
## The port the game connects to.
var port := 0

var _server := TCPServer.new()
var _peer: StreamPeerTCP
var _buffer := PackedByteArray()


func _init() -> void:
	_server.listen(0, "127.0.0.1")
	port = _server.get_local_port()


func _process(_delta: float) -> void:
	if _peer == null and _server.is_connection_available():
		_peer = _server.take_connection()
	if _peer == null:
		return
	_peer.poll()
	if _peer.get_status() != StreamPeerTCP.STATUS_CONNECTED:
		return
	var available := _peer.get_available_bytes()
	if available > 0:
		_buffer.append_array(_peer.get_data(available)[1])
	while _buffer.size() >= 4:
		var length := _buffer.decode_u32(0)
		if _buffer.size() < 4 + length:
			break
		var message = bytes_to_var(_buffer.slice(4, 4 + length))
		_buffer = _buffer.slice(4 + length)
		if message is Array and message.size() == 3:
			messages.append([message[0], message[2]])


## The details (the data's Dictionary) of every `rust_websocket:<what>` message, in order, each
## with its `what` added.
func reports() -> Array[Dictionary]:
	var found: Array[Dictionary] = []
	for message in messages:
		var name: String = message[0]
		if name.begins_with("rust_websocket:"):
			var details: Dictionary = message[1][0].duplicate()
			details["what"] = name.trim_prefix("rust_websocket:")
			found.append(details)
	return found
