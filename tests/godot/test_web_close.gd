extends "test_close.gd"
## test_close.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer, as a
## web export runs them): the same assertions, except the browser limits overridden below.


func _init() -> void:
	web_path = true


# ---- Browser limits ------------------------------------------------------------------------------
# Each override below tests what the web path does instead, and README "Web export" lists it.

## The signals of a connection WebSocketPeer closed with 1009 for a message over max_message_size.
const OVERSIZED_LIFECYCLE: Array[String] = ["connection_established", "server_close_request", "connection_closed"]


## Desktop WebSocketPeer limit: the messages still unread when it completes the close handshake
## are discarded, and here the server's five messages and its close arrive in the same frame. So
## the web path asserts the close and that what did arrive is intact and in order. (In a browser
## Godot keeps them: its WebSocket writes each message to the buffer as it arrives.)
func test_messages_before_a_server_close_stay_readable_with_python_server() -> void:
	var ws := start(py_url("/push?count=5&size=64&close_code=4001&close_reason=bye"), PackedStringArray(), PackedStringArray(), false)
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_closed", [true])
	assert_eq(ws.client.get_close_code(), 4001, "get_close_code()")
	assert_eq(ws.client.get_close_reason(), "bye", "get_close_reason()")
	var readable: int = ws.client.get_available_packet_count()
	assert_eq(ws.count("data_received"), readable, "data_received emissions (one per readable message)")
	for i in readable:
		var packet: PackedByteArray = ws.client.get_packet()
		assert_eq(packet.size(), 64, "size of message %d" % i)
		assert_eq(index_of(packet), i, "index in message %d" % i)
	note("web path: %d of 5 messages pushed in the close's frame were readable (desktop WebSocketPeer discards the rest)" % readable)


## The messages read from WebSocketPeer before the close stay readable after it, as on native:
## here the echoes arrive in frames before the close is asked for.
func test_messages_before_a_server_close_stay_readable_with_godot_server() -> void:
	var ws := await open(godot_url("/"), PackedStringArray(), PackedStringArray(), false)
	if not ws.is_open():
		return
	ws.client.send_text("one")
	ws.client.send(PackedByteArray([2]))
	ws.client.send_text("three")
	await wait_for(func() -> bool: return ws.count("data_received") >= 3)
	ws.client.send_text("please close 4002 bye")
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_closed", [true])
	if not assert_eq(ws.client.get_available_packet_count(), 3, "get_available_packet_count() after connection_closed"):
		fail(DROPPED_MESSAGES_BUG)
		return
	assert_eq(ws.client.get_packet().get_string_from_utf8(), "one", "1st message")
	assert_eq(ws.client.was_string_packet(), true, "1st was_string_packet()")
	assert_eq(ws.client.get_packet(), PackedByteArray([2]), "2nd message")
	assert_eq(ws.client.was_string_packet(), false, "2nd was_string_packet()")
	assert_eq(ws.client.get_packet().get_string_from_utf8(), "three", "3rd message")
	assert_eq(ws.client.get_available_packet_count(), 0, "get_available_packet_count() after reading them")


## A server that drops the TCP connection in the same frame as the handshake: WebSocketPeer shows
## only "closed, no close frame", as for a refused attempt, so the web path reports a failed
## attempt (connection_error), not connection_established + connection_closed(false).
func test_dropped_tcp_connection_is_an_unclean_close() -> void:
	var ws := start(py_url("/drop"))
	if not await wait_until_ended(ws):
		return
	var lifecycle := ws.lifecycle()
	if lifecycle == (["connection_established", "connection_closed"] as Array[String]):
		# It opened in an earlier frame than the drop: as on native.
		assert_signal(ws, "connection_closed", [false])
		assert_begins(ws.client.get_last_error(), "connection lost without a close handshake", "get_last_error()")
	else:
		assert_eq(lifecycle, ["connection_error"] as Array[String], "signals when open and drop came in one frame")
		assert_begins(ws.client.get_last_error(), "cannot connect to ws://", "get_last_error()")
	assert_eq(ws.client.get_close_code(), -1, "get_close_code()")
	note("web path: %s, %s" % [lifecycle, ws.client.get_last_error()])


## WebSocketPeer enforces the size (its receive buffer is max_message_size): on the desktop it
## closes with 1009 as native does, but WebSocketPeer does not say why, so get_last_error() does
## not name the sizes; the message is not delivered.
func test_message_over_max_message_size_with_godot_server() -> void:
	var client := make_client()
	var ws := watch(client)
	client.max_message_size = 1000
	client.connect_to_url(godot_url("/"))
	if not await wait_until_open(ws):
		return
	client.send(_bytes(1000))
	await wait_for(func() -> bool: return ws.payloads.size() >= 1 or ws.ended())
	assert_eq(ws.payloads.size(), 1, "echo of exactly max_message_size bytes received")
	client.send(_bytes(2000))
	if not await wait_until_ended(ws):
		return
	assert_eq(client.get_close_code(), 1009, "get_close_code()")
	assert_eq(ws.lifecycle(), OVERSIZED_LIFECYCLE, "signals (WebSocketPeer's own 1009, echoed by the server, reads as the server's close)")
	assert_eq(ws.payloads.size(), 1, "payloads delivered from the oversized message")
	note("web path: 2000 bytes with max_message_size = 1000 → close 1009, %s" % [ws.lifecycle()])


func test_message_over_max_message_size_with_python_server() -> void:
	var client := make_client()
	var ws := watch(client)
	client.max_message_size = 1000
	client.connect_to_url(py_url("/push?count=1&size=2000"))
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.payloads.size(), 0, "payloads delivered from the oversized message")
	assert_eq(client.get_close_code(), 1009, "get_close_code()")
	assert_eq(ws.lifecycle(), OVERSIZED_LIFECYCLE, "signals (WebSocketPeer's own 1009, echoed by the server, reads as the server's close)")
	note("web path: 2000 bytes with max_message_size = 1000 → close 1009, %s" % [ws.lifecycle()])
