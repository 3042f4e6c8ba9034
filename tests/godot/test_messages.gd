extends "test_case.gd"
## Messages: every way to send and read them, their kind, big ones and many small ones.


func test_every_send_and_read_api_with_godot_server() -> void:
	await _check_send_and_read_apis(godot_url("/"))


func test_every_send_and_read_api_with_python_server() -> void:
	await _check_send_and_read_apis(py_url("/echo"))


## With only data_received connected, messages queue for get_packet() & co.
func _check_send_and_read_apis(url: String) -> void:
	var ws := await open(url, PackedStringArray(), PackedStringArray(), false)
	if not ws.is_open():
		return
	var client := ws.client
	var variant := {"a": 1, "b": [1.5, "x"], "c": Vector2(3, 4)}
	assert_eq(client.send_text("hello"), OK, "send_text(\"hello\")")
	assert_eq(client.send(PackedByteArray([0, 1, 2, 255])), OK, "send(data)")
	assert_eq(client.send("héllo ✓".to_utf8_buffer(), RustWebSocketClient.WRITE_MODE_TEXT), OK, "send(data, WRITE_MODE_TEXT)")
	assert_eq(client.send(PackedByteArray([5, 6]), RustWebSocketClient.WRITE_MODE_BINARY), OK, "send(data, WRITE_MODE_BINARY)")
	assert_eq(client.put_packet(PackedByteArray([9, 8, 7])), OK, "put_packet()")
	assert_eq(client.put_var(variant), OK, "put_var()")
	assert_eq(client.get_peer(1).put_packet(PackedByteArray([42])), OK, "get_peer(1).put_packet()")
	assert_eq(client.send_text(""), OK, "send_text(\"\")")
	assert_true(client.get_peer(2) == null, "get_peer(2) must be null")
	var sent := 8
	await wait_for(func(): return ws.count("data_received") >= sent)
	await wait_frames(3)
	assert_eq(ws.count("data_received"), sent, "data_received emissions (one per message)")
	assert_eq(ws.count("message_received"), 0, "message_received emissions (not connected)")
	if not assert_eq(client.get_available_packet_count(), sent, "get_available_packet_count()"):
		fail(DROPPED_MESSAGES_BUG)
		return
	for event in ws.events:
		if event["name"] == "data_received":
			assert_eq(event["args"], [], "data_received arguments")
			break

	assert_eq(client.get_packet().get_string_from_utf8(), "hello", "1st message")
	assert_eq(client.was_string_packet(), true, "was_string_packet() after send_text()")
	assert_eq(client.get_packet(), PackedByteArray([0, 1, 2, 255]), "2nd message")
	assert_eq(client.was_string_packet(), false, "was_string_packet() after send(data)")
	assert_eq(client.get_packet().get_string_from_utf8(), "héllo ✓", "3rd message")
	assert_eq(client.was_string_packet(), true, "was_string_packet() after send(data, WRITE_MODE_TEXT)")
	assert_eq(client.get_packet(), PackedByteArray([5, 6]), "4th message")
	assert_eq(client.was_string_packet(), false, "was_string_packet() after send(data, WRITE_MODE_BINARY)")
	assert_eq(client.get_packet(), PackedByteArray([9, 8, 7]), "5th message")
	assert_eq(client.was_string_packet(), false, "was_string_packet() after put_packet()")
	assert_eq(client.get_var(), variant, "6th message, read with get_var()")
	assert_eq(client.was_string_packet(), false, "was_string_packet() after put_var()")
	assert_eq(client.get_peer(1).get_packet(), PackedByteArray([42]), "7th message, read with get_peer(1).get_packet()")
	assert_eq(client.get_peer(1).was_string_packet(), false, "get_peer(1).was_string_packet()")
	assert_eq(client.get_packet(), PackedByteArray(), "8th message (empty text)")
	assert_eq(client.was_string_packet(), true, "was_string_packet() after send_text(\"\")")
	assert_eq(client.get_available_packet_count(), 0, "get_available_packet_count() after reading all")
	assert_eq(client.get_packet(), PackedByteArray(), "get_packet() with nothing left")
	assert_eq(error_string(client.get_packet_error()), error_string(ERR_UNAVAILABLE), "get_packet_error() with nothing left")
	note("%d messages echoed through send_text/send/put_packet/put_var/get_peer(1); kinds kept" % sent)


## Typed as the class (or untyped), get_packet() is the class's own, which copies a message in
## one go; typed as MultiplayerPeer, it is PacketPeer's, through _get_packet. Both read the same
## queue alike: the bytes, the kind and get_packet_error(), a large message included.
func test_get_packet_reads_alike_through_the_class_and_through_packet_peer() -> void:
	var ws := await open(godot_url("/"), PackedStringArray(), PackedStringArray(), false)
	if not ws.is_open():
		return
	var as_class: Object = ws.client
	var as_base: MultiplayerPeer = ws.client
	var large := PackedByteArray()
	large.resize(3 << 20)
	for i in 3 << 8:
		large[i << 12] = i & 0xff
	for message: Variant in ["text ✓", large, "second text", PackedByteArray([7])]:
		var sent: Error = as_class.send_text(message) if message is String else as_class.send(message)
		assert_eq(error_string(sent), error_string(OK), "sending %s" % type_string(typeof(message)))
	await wait_for(func(): return ws.count("data_received") >= 4)
	assert_eq(as_class.get_packet().get_string_from_utf8(), "text ✓", "text, through the class's get_packet()")
	assert_eq(as_class.was_string_packet(), true, "was_string_packet() after it")
	assert_true(as_base.get_packet() == large, "3 MiB, through PacketPeer.get_packet(), arrive whole")
	assert_eq(as_class.was_string_packet(), false, "was_string_packet() after it")
	assert_eq(as_base.get_packet().get_string_from_utf8(), "second text", "text, through PacketPeer.get_packet()")
	assert_eq(as_class.was_string_packet(), true, "was_string_packet() after it")
	assert_eq(as_class.get_packet(), PackedByteArray([7]), "binary, through the class's get_packet()")
	assert_eq(error_string(as_class.get_packet_error()), error_string(OK), "get_packet_error() after it")
	assert_eq(as_base.get_packet(), PackedByteArray(), "PacketPeer.get_packet() with nothing left")
	assert_eq(error_string(as_class.get_packet_error()), error_string(ERR_UNAVAILABLE), "the class's get_packet_error() after it")
	assert_eq(as_class.send(large), OK, "sending 3 MiB again")
	await wait_for(func(): return ws.count("data_received") >= 5)
	assert_true(as_class.get_packet() == large, "3 MiB, through the class's get_packet(), arrive whole")
	assert_eq(error_string(as_class.get_packet_error()), error_string(OK), "get_packet_error() after it")


func test_invalid_utf8_in_text_mode_is_refused() -> void:
	var ws := await open(godot_url("/"))
	if not ws.is_open():
		return
	var error: Error = ws.client.send(PackedByteArray([0xff, 0xfe, 0x41]), RustWebSocketClient.WRITE_MODE_TEXT)
	assert_eq(error_string(error), error_string(ERR_INVALID_DATA), "send(invalid UTF-8, WRITE_MODE_TEXT)")
	assert_eq(ws.client.get_last_error(), "send() in WRITE_MODE_TEXT needs UTF-8 data", "get_last_error()")
	assert_eq(ws.client.send_text("after"), OK, "send_text() afterwards")
	await wait_for(func(): return ws.payloads.size() >= 1)
	await wait_frames(3)
	assert_eq(ws.payloads, ["after"], "what the server echoed")
	note("invalid UTF-8 in WRITE_MODE_TEXT → ERR_INVALID_DATA, nothing sent")


func test_message_received_signal_with_godot_server() -> void:
	await _check_message_received(godot_url("/"))


func test_message_received_signal_with_python_server() -> void:
	await _check_message_received(py_url("/echo"))


## With message_received connected, payloads come with the signal and nothing queues.
func _check_message_received(url: String) -> void:
	var ws := await open(url)
	if not ws.is_open():
		return
	var client := ws.client
	client.send_text("hi ✓")
	client.send(PackedByteArray([1, 2, 3]))
	client.send_text("")
	client.send(PackedByteArray())
	var most_queued := 0
	var deadline := Time.get_ticks_msec() + int(WAIT_S * 1000.0)
	while ws.payloads.size() < 4 and Time.get_ticks_msec() < deadline and not aborted:
		await wait_frames(1)
		most_queued = max(most_queued, client.get_available_packet_count())
	await wait_frames(3)
	var received := ws.events.filter(func(event): return event["name"] == "message_received")
	if not assert_eq(received.size(), 4, "message_received emissions"):
		return
	assert_eq(received[0]["args"], ["hi ✓", true], "1st message_received arguments")
	assert_eq(typeof(received[0]["args"][0]), TYPE_STRING, "type of a text payload")
	assert_eq(typeof(received[0]["args"][1]), TYPE_BOOL, "type of is_text")
	assert_eq(received[1]["args"][0], PackedByteArray([1, 2, 3]), "2nd payload")
	assert_eq(received[1]["args"][1], false, "2nd is_text")
	assert_eq(typeof(received[1]["args"][0]), TYPE_PACKED_BYTE_ARRAY, "type of a binary payload")
	assert_eq(received[2]["args"][0], "", "3rd payload (empty text)")
	assert_eq(received[2]["args"][1], true, "3rd is_text")
	assert_eq(received[3]["args"][0], PackedByteArray(), "4th payload (empty binary)")
	assert_eq(received[3]["args"][1], false, "4th is_text")
	assert_eq(ws.count("data_received"), 0, "data_received emissions while message_received is connected")
	assert_eq(most_queued, 0, "largest get_available_packet_count() seen while connected")
	assert_eq(client.get_available_packet_count(), 0, "get_available_packet_count()")
	note("message_received(String, true) and (PackedByteArray, false); nothing queued")


func test_one_mib_echo_with_godot_server() -> void:
	await _check_big_echo(godot_url("/"), 1 << 20)


func test_one_mib_echo_with_python_server() -> void:
	await _check_big_echo(py_url("/echo"), 1 << 20)


func test_sixteen_mib_echo_with_godot_server() -> void:
	await _check_big_echo(godot_url("/"), 16 << 20)


func test_sixteen_mib_echo_with_python_server() -> void:
	await _check_big_echo(py_url("/echo"), 16 << 20)


func _check_big_echo(url: String, size: int) -> void:
	var ws := await open(url)
	if not ws.is_open():
		return
	var payload := Crypto.new().generate_random_bytes(size)
	var started := Time.get_ticks_msec()
	assert_eq(ws.client.send(payload), OK, "send(%d bytes)" % size)
	if not await wait_for(func(): return ws.payloads.size() >= 1 or ws.ended(), 20.0):
		fail("no echo of the %d-byte message within 20 s" % size)
		return
	if not assert_eq(ws.payloads.size(), 1, "echoed messages (connection: %s)" % [ws.lifecycle()]):
		return
	var echoed: PackedByteArray = ws.payloads[0]
	assert_eq(ws.is_text[0], false, "is_text of the echo")
	assert_eq(echoed.size(), size, "size of the echo")
	assert_eq(sha256(echoed), sha256(payload), "SHA-256 of the echo")
	assert_true(echoed == payload, "the echo differs from what was sent")
	note("%d bytes echoed intact (sha256 %s…) in %d ms, %d frames" % [
		size, sha256(echoed).left(12), Time.get_ticks_msec() - started, frames])


func test_ten_thousand_messages_with_godot_server() -> void:
	await _check_many_messages(godot_url("/"))


func test_ten_thousand_messages_with_python_server() -> void:
	await _check_many_messages(py_url("/echo"))


func _check_many_messages(url: String) -> void:
	const COUNT := 10000
	var ws := await open(url)
	if not ws.is_open():
		return
	var started := Time.get_ticks_msec()
	var refused := 0
	for i in COUNT:
		if ws.client.send_text("message %d" % i) != OK:
			refused += 1
	assert_eq(refused, 0, "send_text() calls refused")
	await wait_for(func(): return ws.payloads.size() >= COUNT or ws.ended(), 20.0)
	if not assert_eq(ws.payloads.size(), COUNT, "messages echoed back (connection: %s)" % [ws.lifecycle()]):
		return
	var out_of_order := -1
	for i in COUNT:
		if ws.payloads[i] != "message %d" % i or not ws.is_text[i]:
			out_of_order = i
			break
	assert_eq(out_of_order, -1, "first message out of order or altered")
	note("%d messages sent and echoed in order in %d ms; the last echo came %d frames after the last send" % [
		COUNT, Time.get_ticks_msec() - started, frames])


## A loading screen blocks the game's main thread for 5 s while a strict server pings every 0.5 s
## and drops clients whose pong is over 1 s late. The background I/O thread answers the pings,
## so the connection survives, and every message sent during the stall arrives in order after it.
## (Godot's own WebSocketPeer only answers pings from poll(), so it is dropped here.)
func test_a_five_second_main_thread_stall_keeps_the_connection_and_every_message() -> void:
	var ws := await open(py_url("/strict_pings?seconds=7"))
	if not ws.is_open():
		return
	OS.delay_msec(5000)
	var done := func(): return ws.payloads.any(func(p): return p is String and p.begins_with("done ")) or ws.ended()
	assert_true(await wait_for(done), "the server's \"done\" message must arrive")
	assert_eq(ws.count("server_close_request"), 0, "server_close_request (the server drops clients without a pong)")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state after the stall")
	var ticks: Array = ws.payloads.filter(func(p): return p is String and p.begins_with("tick "))
	var last: String = ws.payloads.back() if not ws.payloads.is_empty() else ""
	assert_eq(last, "done %d" % ticks.size(), "the last message counts every tick sent")
	for i in ticks.size():
		if not assert_eq(ticks[i], "tick %d" % i, "message %d" % i):
			break
	note("survived a 5 s stall; %d messages sent during and around it arrived in order" % ticks.size())


func test_batch_calls_send_and_take_many_messages_in_order() -> void:
	var ws := await open(py_url("/echo"), PackedStringArray(), PackedStringArray(), false)
	if not ws.is_open():
		return
	var client := ws.client
	var batch := []
	for i in 100:
		batch.append("text %d ✓" % i if i % 2 == 0 else PackedByteArray([i, 255 - i]))
	assert_eq(client.send_messages(batch), OK, "send_messages(100 Strings and PackedByteArrays)")
	await wait_for(func(): return client.get_available_packet_count() >= batch.size())
	var taken: Array = client.take_messages()
	assert_eq(taken, batch, "take_messages(): every echo in order, text as String, binary as PackedByteArray")
	assert_eq(client.get_available_packet_count(), 0, "get_available_packet_count() after take_messages()")
	assert_eq(client.take_messages(), [], "take_messages() with nothing queued")
	assert_eq(error_string(client.send_messages(["ok", 7])), error_string(ERR_INVALID_PARAMETER), "send_messages() with an int in it")
	assert_true(client.get_last_error().contains("Strings and PackedByteArrays"), "get_last_error() names what it takes: " + client.get_last_error())
	await wait_for(func(): return client.get_available_packet_count() >= 1)
	assert_eq(client.take_messages(), ["ok"], "the element before the bad one was sent")
	client.disconnect_from_host()
	await wait_for(func(): return ws.count("connection_closed") >= 1)
	assert_eq(error_string(client.send_messages(["late"])), error_string(ERR_UNCONFIGURED), "send_messages() after the close")
	note("100 mixed messages echoed through send_messages()/take_messages(), in order")
