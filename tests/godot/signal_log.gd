extends RefCounted
## Records every signal of one RustWebSocketClient (or RustWebSocketWebClient), in order, with its arguments and the client's
## ready state at the time it was emitted.
##
## The log holds the client; the client's signals hold only the log's id (bound methods, no
## lambdas), so there is no reference cycle and both are freed when the test drops them.

## The client whose signals are recorded.
var client: MultiplayerPeer
## One entry per emitted signal: {"name": String, "args": Array, "state": int}.
var events: Array[Dictionary] = []
## Payloads in arrival order: from message_received, or read with get_packet() in data_received
## when read_packets is true.
var payloads: Array = []
## For each entry of payloads: whether it was a text message.
var is_text: Array[bool] = []
## If true, data_received handlers read the packet at once (get_packet + was_string_packet).
var read_packets := false


func _init(watched: MultiplayerPeer, deliver_payloads: bool) -> void:
	client = watched
	client.connection_established.connect(_on_connection_established)
	client.connection_error.connect(_on_connection_error)
	client.connection_closed.connect(_on_connection_closed)
	client.server_close_request.connect(_on_server_close_request)
	client.data_received.connect(_on_data_received)
	if deliver_payloads:
		client.message_received.connect(_on_message_received)


## Disconnects from the client's signals and lets go of it.
func release() -> void:
	if client == null:
		return
	for signal_name in [
		"connection_established",
		"connection_error",
		"connection_closed",
		"server_close_request",
		"data_received",
		"message_received",
	]:
		for connection in client.get_signal_connection_list(signal_name):
			if connection["callable"].get_object() == self:
				client.disconnect(signal_name, connection["callable"])
	client = null


## How many times the signal was emitted.
func count(signal_name: String) -> int:
	var n := 0
	for event in events:
		if event["name"] == signal_name:
			n += 1
	return n


func has(signal_name: String) -> bool:
	return count(signal_name) > 0


## The first emission of the signal ({"name", "args", "state"}), or an empty Dictionary.
func first(signal_name: String) -> Dictionary:
	for event in events:
		if event["name"] == signal_name:
			return event
	return {}


## The names of the emitted signals in order, without data_received / message_received.
func lifecycle() -> Array[String]:
	var names: Array[String] = []
	for event in events:
		if event["name"] != "data_received" and event["name"] != "message_received":
			names.append(event["name"])
	return names


## Whether the connection has ended (or never opened): connection_closed or connection_error.
func ended() -> bool:
	return has("connection_closed") or has("connection_error")


func is_open() -> bool:
	return client != null and client.get_ready_state() == RustWebSocketClient.STATE_OPEN


func _record(signal_name: String, args: Array) -> void:
	events.append({"name": signal_name, "args": args, "state": client.get_ready_state()})


func _on_connection_established(protocol) -> void:
	_record("connection_established", [protocol])


func _on_connection_error() -> void:
	_record("connection_error", [])


func _on_connection_closed(was_clean_close) -> void:
	_record("connection_closed", [was_clean_close])


func _on_server_close_request(code, reason) -> void:
	_record("server_close_request", [code, reason])


func _on_data_received() -> void:
	_record("data_received", [])
	if read_packets:
		payloads.append(client.get_packet())
		is_text.append(client.was_string_packet())


func _on_message_received(message, text) -> void:
	_record("message_received", [message, text])
	payloads.append(message)
	is_text.append(text)
