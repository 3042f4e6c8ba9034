extends "test_case.gd"
## Closing: from either side, without a close frame, over a limit, and what stays readable.


func test_message_sent_just_before_disconnect_arrives_with_code_and_reason() -> void:
	var id := unique_id("last-words")
	var ws := await open(py_url("/record?id=" + id))
	if not ws.is_open():
		return
	assert_eq(ws.client.send_text("last words"), OK, "send_text()")
	assert_eq(ws.client.send(PackedByteArray([1, 2, 3])), OK, "send()")
	ws.client.disconnect_from_host(4000, "bye")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSING, "state right after disconnect_from_host()")
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_closed", [true])
	assert_eq(ws.lifecycle(), ["connection_established", "connection_closed"] as Array[String], "signals")
	assert_eq(ws.client.get_close_code(), 4000, "get_close_code()")
	var report: Dictionary = await recorded(id)
	if report.is_empty():
		return
	assert_eq(report["messages"], ["text:last words", "binary:3"], "messages the server received")
	assert_eq(report["close_code"], 4000, "close code the server received")
	assert_eq(report["close_reason"], "bye", "close reason the server received")
	note("server received %s, then close %d \"%s\"" % [report["messages"], report["close_code"], report["close_reason"]])


func test_disconnect_with_code_with_godot_server() -> void:
	var ws := await open(godot_url("/"))
	if not ws.is_open():
		return
	ws.client.send_text("last words")
	ws.client.disconnect_from_host(4000, "bye")
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_closed", [true])
	assert_eq(ws.client.get_close_code(), 4000, "get_close_code() (the server echoes our code)")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state")
	note("disconnect_from_host(4000, \"bye\") → connection_closed(true), close code %d" % ws.client.get_close_code())


func test_invalid_close_code_or_reason_is_refused() -> void:
	var ws := await open(godot_url("/"))
	if not ws.is_open():
		return
	ws.client.disconnect_from_host(1005, "")
	assert_eq(ws.client.get_last_error(), "close code 1005 may not be sent: use 1000 or a code from 3000 to 4999", "get_last_error() after code 1005")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state after code 1005")
	ws.client.disconnect_from_host(1000, "x".repeat(124))
	assert_eq(ws.client.get_last_error(), "close reason is 124 bytes long; at most 123 bytes fit in a close frame", "get_last_error() after a 124-byte reason")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state after a 124-byte reason")
	ws.client.send_text("still open")
	await wait_for(func(): return ws.payloads.size() >= 1)
	assert_eq(ws.payloads, ["still open"], "echo after the refused closes")
	ws.client.disconnect_from_host(4999, "y".repeat(123))
	await wait_until_ended(ws)
	assert_signal(ws, "connection_closed", [true])
	note("codes 1005 and 124-byte reasons refused; 4999 with 123 bytes closes cleanly")


func test_server_close_with_python_server() -> void:
	var ws := start(py_url("/close?code=4001&reason=bye"))
	await _check_server_close(ws, 4001, "bye")


func test_server_close_with_godot_server() -> void:
	var ws := await open(godot_url("/"))
	if not ws.is_open():
		return
	ws.client.send_text("please close 4002 bye")
	await _check_server_close(ws, 4002, "bye")


func _check_server_close(ws: SignalLog, code: int, reason: String) -> void:
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.lifecycle(), ["connection_established", "server_close_request", "connection_closed"] as Array[String], "signals")
	assert_signal(ws, "server_close_request", [code, reason])
	assert_eq(ws.first("server_close_request")["state"], RustWebSocketClient.STATE_CLOSING, "state seen in server_close_request")
	assert_signal(ws, "connection_closed", [true])
	assert_eq(ws.client.get_close_code(), code, "get_close_code()")
	assert_eq(ws.client.get_close_reason(), reason, "get_close_reason()")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state")
	note("server_close_request(%d, \"%s\") → connection_closed(true)" % [code, reason])


func test_messages_before_a_server_close_stay_readable_with_python_server() -> void:
	var ws := start(py_url("/push?count=5&size=64&close_code=4001&close_reason=bye"), PackedStringArray(), PackedStringArray(), false)
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_closed", [true])
	if not assert_eq(ws.client.get_available_packet_count(), 5, "get_available_packet_count() after connection_closed"):
		assert_eq(ws.count("data_received"), 5, "data_received emissions")
		fail(DROPPED_MESSAGES_BUG)
		return
	for i in 5:
		var packet := ws.client.get_packet()
		assert_eq(packet.size(), 64, "size of message %d" % i)
		assert_eq(index_of(packet), i, "index in message %d" % i)
		assert_eq(ws.client.was_string_packet(), false, "was_string_packet() of message %d" % i)
	assert_eq(ws.client.get_available_packet_count(), 0, "get_available_packet_count() after reading them")
	note("5 messages pushed before close 4001 all read after connection_closed")


func test_messages_before_a_server_close_stay_readable_with_godot_server() -> void:
	var ws := await open(godot_url("/"), PackedStringArray(), PackedStringArray(), false)
	if not ws.is_open():
		return
	ws.client.send_text("one")
	ws.client.send(PackedByteArray([2]))
	ws.client.send_text("three")
	ws.client.send_text("please close 4002 bye")
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_closed", [true])
	if not assert_eq(ws.client.get_available_packet_count(), 3, "get_available_packet_count() after connection_closed"):
		assert_eq(ws.count("data_received"), 3, "data_received emissions")
		fail(DROPPED_MESSAGES_BUG)
		return
	assert_eq(ws.client.get_packet().get_string_from_utf8(), "one", "1st message")
	assert_eq(ws.client.was_string_packet(), true, "1st was_string_packet()")
	assert_eq(ws.client.get_packet(), PackedByteArray([2]), "2nd message")
	assert_eq(ws.client.was_string_packet(), false, "2nd was_string_packet()")
	assert_eq(ws.client.get_packet().get_string_from_utf8(), "three", "3rd message")
	assert_eq(ws.client.get_available_packet_count(), 0, "get_available_packet_count() after reading them")
	note("3 echoes received before close 4002 all read after connection_closed")


func test_dropped_tcp_connection_is_an_unclean_close() -> void:
	var ws := start(py_url("/drop"))
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.lifecycle(), ["connection_established", "connection_closed"] as Array[String], "signals")
	assert_signal(ws, "connection_closed", [false])
	assert_eq(ws.client.get_close_code(), -1, "get_close_code()")
	assert_begins(ws.client.get_last_error(), "connection lost without a close handshake", "get_last_error()")
	note("connection_closed(false), code -1: " + ws.client.get_last_error())


func test_message_over_max_message_size_with_python_server() -> void:
	var client := make_client()
	var ws := watch(client)
	client.max_message_size = 1000
	client.connect_to_url(py_url("/push?count=2&size=1000"))
	await wait_for(func(): return ws.payloads.size() >= 2 or ws.ended())
	assert_eq(ws.payloads.size(), 2, "messages of exactly max_message_size bytes received")
	ws.client.disconnect_from_host()
	await wait_until_ended(ws)
	ws.payloads.clear()
	client.connect_to_url(py_url("/push?count=1&size=2000"))
	await _check_too_big(ws)


func test_message_over_max_message_size_with_godot_server() -> void:
	var client := make_client()
	var ws := watch(client)
	client.max_message_size = 1000
	client.connect_to_url(godot_url("/"))
	if not await wait_until_open(ws):
		return
	client.send(_bytes(1000))
	await wait_for(func(): return ws.payloads.size() >= 1 or ws.ended())
	assert_eq(ws.payloads.size(), 1, "echo of exactly max_message_size bytes received")
	client.send(_bytes(2000))
	await _check_too_big(ws)


func _check_too_big(ws: SignalLog) -> void:
	var before := ws.payloads.size()
	var first_event := ws.events.size()
	if not await wait_until_ended(ws):
		return
	var events := ws.events.slice(first_event).map(func(event): return [event["name"], event["args"]])
	assert_eq(events.back() if not events.is_empty() else null, ["connection_closed", [false]], "last signal")
	assert_eq(ws.client.get_close_code(), 1009, "get_close_code()")
	assert_eq(ws.client.get_last_error(), "server sent a message of 2000 bytes, over the limit of 1000 bytes (max_message_size); closed with code 1009", "get_last_error()")
	assert_eq(ws.payloads.size(), before, "payloads delivered from the oversized message")
	note("2000 bytes with max_message_size = 1000 → connection_closed(false), 1009: " + ws.client.get_last_error())


func _bytes(size: int) -> PackedByteArray:
	var bytes := PackedByteArray()
	bytes.resize(size)
	bytes.fill(7)
	return bytes


func test_sending_while_not_open_is_refused_and_queues_nothing() -> void:
	var client := make_client()
	assert_eq(error_string(client.send_text("never")), error_string(ERR_UNCONFIGURED), "send_text() before connecting")
	assert_eq(client.get_last_error(), "the connection is not open", "get_last_error()")
	assert_eq(error_string(client.send(PackedByteArray([1]))), error_string(ERR_UNCONFIGURED), "send() before connecting")
	assert_eq(error_string(client.put_packet(PackedByteArray([1]))), error_string(ERR_UNCONFIGURED), "put_packet() before connecting")
	assert_eq(client.get_current_outbound_buffered_amount(), 0, "get_current_outbound_buffered_amount()")
	var id := unique_id("not-open")
	var ws := watch(client)
	client.connect_to_url(py_url("/record?id=" + id))
	assert_eq(error_string(client.send_text("too early")), error_string(ERR_UNCONFIGURED), "send_text() while connecting")
	assert_eq(error_string(client.put_var("too early")), error_string(ERR_UNCONFIGURED), "put_var() while connecting")
	assert_eq(client.get_current_outbound_buffered_amount(), 0, "get_current_outbound_buffered_amount() while connecting")
	if not await wait_until_open(ws):
		return
	assert_eq(client.send_text("first"), OK, "send_text() once open")
	client.disconnect_from_host()
	assert_eq(error_string(client.send_text("while closing")), error_string(ERR_UNCONFIGURED), "send_text() while closing")
	await wait_until_ended(ws)
	assert_eq(error_string(client.send_text("too late")), error_string(ERR_UNCONFIGURED), "send_text() once closed")
	var report: Dictionary = await recorded(id)
	if report.is_empty():
		return
	assert_eq(report["messages"], ["text:first"], "messages the server received")
	note("ERR_UNCONFIGURED before, while connecting, closing and after; the server got only %s" % [report["messages"]])
