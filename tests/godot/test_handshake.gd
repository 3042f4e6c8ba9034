extends "test_case.gd"
## The opening handshake and control frames: sub-protocols, custom headers, pings.


func test_subprotocol_selected_by_the_server() -> void:
	var ws := await open(py_url("/subprotocol"), PackedStringArray(["chat.v2", "chat.v1"]))
	if not ws.is_open():
		return
	assert_signal(ws, "connection_established", ["chat.v1"])
	assert_eq(ws.client.get_selected_protocol(), "chat.v1", "get_selected_protocol()")
	ws.client.send_text("over chat.v1")
	await wait_for(func(): return ws.payloads.size() >= 1)
	assert_eq(ws.payloads, ["over chat.v1"], "echo")
	note("offered [chat.v2, chat.v1] → connection_established(\"%s\")" % ws.client.get_selected_protocol())


func test_subprotocol_none_accepted_fails_the_connection() -> void:
	var ws := start(py_url("/subprotocol"), PackedStringArray(["chat.v2"]))
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.lifecycle(), ["connection_error"] as Array[String], "signals")
	assert_eq(ws.client.get_last_error(), "server accepted none of the requested sub-protocols: chat.v2", "get_last_error()")
	assert_eq(ws.client.get_selected_protocol(), "", "get_selected_protocol()")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state")
	note("offered [chat.v2] → connection_error: " + ws.client.get_last_error())


func test_custom_headers_reach_the_server() -> void:
	var ws := await open(py_url("/headers"), PackedStringArray(), PackedStringArray(["X-Token: abc", "X-Other: 1"]))
	if not ws.is_open():
		return
	if not await wait_for(func(): return ws.payloads.size() >= 1):
		fail("the server did not report the headers")
		return
	var seen = JSON.parse_string(ws.payloads[0])
	if not assert_true(seen is Dictionary, "the report is a JSON object: %s" % show(ws.payloads[0])):
		return
	assert_eq(seen.get("x-token"), "abc", "X-Token the server saw")
	assert_eq(seen.get("x-other"), "1", "X-Other the server saw")
	assert_eq(seen.get("host"), "127.0.0.1:%d" % py_port, "Host the server saw")
	note("server saw X-Token: %s, X-Other: %s" % [seen.get("x-token"), seen.get("x-other")])


func test_server_ping_is_answered() -> void:
	var ws := await open(py_url("/ping"))
	if not ws.is_open():
		return
	await wait_for(func(): return ws.payloads.size() >= 1 or ws.ended())
	assert_eq(ws.payloads, ["pong received"], "what the server sent after its ping")
	assert_true(ws.is_open(), "the connection stays open after the ping")
	note("server ping answered: %s" % [ws.payloads])


func test_every_signal_argument_type() -> void:
	# connection_established(String), message_received(String|PackedByteArray, bool),
	# server_close_request(int, String), connection_closed(bool): one Python connection.
	var ws := start(py_url("/subprotocol"), PackedStringArray(["chat.v1"]))
	if not await wait_until_open(ws):
		return
	ws.client.send_text("t")
	ws.client.send(PackedByteArray([1]))
	await wait_for(func(): return ws.payloads.size() >= 2)
	ws.client.disconnect_from_host(4003, "done")
	await wait_until_ended(ws)
	var types := {}
	for event in ws.events:
		var names := PackedStringArray()
		for arg in event["args"]:
			names.append(type_string(typeof(arg)))
		var key := "%s(%s)" % [event["name"], ", ".join(names)]
		types[key] = true
	var expected := [
		"connection_established(String)",
		"message_received(String, bool)",
		"message_received(PackedByteArray, bool)",
		"connection_closed(bool)",
	]
	assert_eq(types.keys(), expected, "signals and argument types")
	# connection_error() and data_received() have no arguments; server_close_request(int, String).
	var failed := start("ws://127.0.0.1:%d/" % closed_port())
	var server_closed := start(py_url("/close?code=4001&reason=bye"), PackedStringArray(), PackedStringArray(), false)
	var pushed := start(py_url("/push?count=1&size=4"), PackedStringArray(), PackedStringArray(), false)
	await wait_for(func(): return failed.ended() and server_closed.ended() and pushed.has("data_received"))
	assert_signal(failed, "connection_error", [])
	assert_signal(server_closed, "server_close_request", [4001, "bye"])
	assert_eq(typeof(server_closed.first("server_close_request")["args"][0]) if server_closed.has("server_close_request") else -1, TYPE_INT, "type of server_close_request code")
	assert_signal(pushed, "data_received", [])
	note("%s, connection_error(), data_received(), server_close_request(int, String)" % ", ".join(PackedStringArray(types.keys())))
