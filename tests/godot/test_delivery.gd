extends "test_case.gd"
## Delivery: every message reaches the game whichever way it reads them, including the
## `await socket.message_received` idiom with other awaits in between.


## The client is polled by the SceneTree every frame, as a game's _process would, while the test
## only awaits signals: messages 2 and 3 arrive while the test awaits a timer (nothing connected
## to message_received), and the next awaits still get them, in order.
func test_await_message_received_between_other_awaits_misses_nothing() -> void:
	var client := make_client()
	var poll := Callable(client, "poll")
	tree.process_frame.connect(poll)
	assert_eq(client.connect_to_url(py_url("/push?count=3&size=16")), OK, "connect_to_url()")
	var indexes: Array[int] = []
	var first: Array = await client.message_received
	indexes.append(index_of(first[0]))
	# The other messages arrive meanwhile; before, they went to the get_packet() queue and the
	# awaits below waited forever.
	await tree.create_timer(0.5).timeout
	var queued_meanwhile := client.get_available_packet_count()
	for i in 2:
		var next: Array = await client.message_received
		indexes.append(index_of(next[0]))
	tree.process_frame.disconnect(poll)
	assert_eq(indexes, [0, 1, 2] as Array[int], "indexes of the awaited messages")
	assert_eq(client.get_available_packet_count(), 0, "messages left in the queue")
	note("await, timer (%d arrived meanwhile), await, await: messages %s, none left queued" % [queued_meanwhile, indexes])


## Every sending path sends every message, empty ones included (Godot's own put_packet returned
## OK for an empty buffer and sent nothing); the Python peer's /record lists what arrived.
func test_every_sending_path_sends_every_message_empty_ones_included() -> void:
	var id := unique_id("send-paths")
	var ws := await open(py_url("/record?id=" + id))
	if not ws.is_open():
		return
	# Declared as Object, so each call reaches the class's own put_packet and put_var on both
	# paths (declared as MultiplayerPeer, GDScript would bind PacketPeer's: README "Typing").
	var client: Object = ws.client
	var calls := [
		["put_packet(empty)", func(): return client.put_packet(PackedByteArray())],
		["put_packet", func(): return client.put_packet(PackedByteArray([1, 2, 3]))],
		["get_peer(1).put_packet(empty)", func(): return client.get_peer(1).put_packet(PackedByteArray())],
		["get_peer(1).put_packet", func(): return client.get_peer(1).put_packet(PackedByteArray([4, 5]))],
		["put_var", func(): return client.put_var("hi")],
		["send(empty)", func(): return client.send(PackedByteArray())],
		["send(empty, WRITE_MODE_TEXT)", func(): return client.send(PackedByteArray(), RustWebSocketClient.WRITE_MODE_TEXT)],
		["send_text(\"\")", func(): return client.send_text("")],
		["send_text", func(): return client.send_text("abc")],
		["send_messages", func(): return client.send_messages(["", PackedByteArray(), "x"])],
	]
	for call in calls:
		assert_eq(error_string(call[1].call()), error_string(OK), "%s result" % call[0])
	client.disconnect_from_host()
	await wait_until_ended(ws)
	var report: Dictionary = await recorded(id)
	if report.is_empty():
		return
	var put_var_bytes := var_to_bytes("hi").size()
	assert_eq(report["messages"], [
		"binary:0", "binary:3", "binary:0", "binary:2", "binary:%d" % put_var_bytes,
		"binary:0", "text:", "text:", "text:abc", "text:", "binary:0", "text:x",
	], "messages the server received, in order")
	note("the server got all %d messages, the 6 empty ones included" % report["messages"].size())


## A sending path that cannot send returns an error and leaves a sentence, never OK.
func test_every_sending_path_refuses_with_a_sentence_when_not_open() -> void:
	var calls := {
		"put_packet": func(c: Object): return c.put_packet(PackedByteArray([1])),
		"put_packet(empty)": func(c: Object): return c.put_packet(PackedByteArray()),
		"get_peer(1).put_packet": func(c: Object): return c.get_peer(1).put_packet(PackedByteArray([1])),
		"put_var": func(c: Object): return c.put_var(42),
		"send": func(c: Object): return c.send(PackedByteArray([1])),
		"send_text": func(c: Object): return c.send_text("x"),
		"send_messages": func(c: Object): return c.send_messages(["x"]),
	}
	for name: String in calls:
		var client := make_client()
		var result: int = calls[name].call(client)
		assert_eq(error_string(result), error_string(ERR_UNCONFIGURED), "%s on a closed client" % name)
		assert_true(client.get_last_error() != "", "%s on a closed client left a get_last_error()" % name)
	note("each of %d sending paths refused with ERR_UNCONFIGURED and a sentence" % calls.size())


## put_var / get_var round trip through the echo server, including a value larger than
## PacketPeer.encode_buffer_max_size (8 MiB), which Godot's own put_var refused.
func test_put_var_and_get_var_round_trip_any_size() -> void:
	var ws := await open(py_url("/echo"), PackedStringArray(), PackedStringArray(), false)
	if not ws.is_open():
		return
	var client: Object = ws.client
	var big := PackedByteArray()
	big.resize(9 * 1024 * 1024)
	big[big.size() - 1] = 7
	var values := [{"a": 1, "b": [2.5, "three"]}, "text", big]
	for value in values:
		assert_eq(error_string(client.put_var(value)), error_string(OK), "put_var(%s)" % type_string(typeof(value)))
	await wait_for(func(): return client.get_available_packet_count() >= values.size(), 20.0)
	for value in values:
		var echoed = client.get_var()
		assert_true(echoed == value, "get_var() returned the %s put_var() sent" % type_string(typeof(value)))
	note("put_var/get_var round trip of a Dictionary, a String and a 9 MiB PackedByteArray")


## get_last_error() belongs to the latest event: a call refused earlier (an invalid write_mode)
## does not linger into the connection_closed of a clean close.
func test_last_error_is_never_stale_at_connection_closed() -> void:
	var ws := await open(py_url("/echo"))
	if not ws.is_open():
		return
	var client := ws.client
	var at_closed := []
	client.connection_closed.connect(func(_clean): at_closed.append(client.get_last_error()), CONNECT_ONE_SHOT)
	assert_eq(client.send(PackedByteArray([1]), 7), ERR_INVALID_PARAMETER, "send() with write_mode 7")
	assert_true(client.get_last_error() != "", "the refused send left a sentence")
	client.disconnect_from_host()
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_closed", [true])
	assert_eq(at_closed, [""], "get_last_error() during connection_closed of a clean close")
	note("refused send, then clean close: get_last_error() at connection_closed was %s" % [at_closed])
