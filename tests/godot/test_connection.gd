extends "test_case.gd"
## Connecting: the lifecycle of a connection and every way an attempt can be refused or fail.


func test_lifecycle_with_godot_server() -> void:
	await _check_lifecycle(godot_url("/"), godot_port)


func test_lifecycle_with_python_server() -> void:
	await _check_lifecycle(py_url("/echo"), py_port)


## CONNECTING → OPEN → CLOSING → CLOSED, with the signals, address and URL seen on the way.
func _check_lifecycle(url: String, port: int) -> void:
	var ws := start(url)
	var client := ws.client
	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CONNECTING, "state after connect_to_url")
	assert_eq(client.get_connection_status(), MultiplayerPeer.CONNECTION_CONNECTING, "connection status while connecting")
	assert_eq(client.get_requested_url(), url, "get_requested_url()")
	if not await wait_until_open(ws):
		return
	assert_signal(ws, "connection_established", [""])
	assert_eq(ws.first("connection_established")["state"], RustWebSocketClient.STATE_OPEN, "state seen in connection_established")
	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state once open")
	assert_eq(client.get_connection_status(), MultiplayerPeer.CONNECTION_CONNECTED, "connection status once open")
	assert_eq(client.get_connected_host(), "127.0.0.1", "get_connected_host()")
	assert_eq(client.get_connected_port(), port, "get_connected_port()")
	assert_eq(client.get_selected_protocol(), "", "get_selected_protocol() without sub-protocols")
	assert_eq(client.get_last_error(), "", "get_last_error() while all is well")
	client.disconnect_from_host()
	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSING, "state right after disconnect_from_host()")
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_closed", [true])
	assert_eq(ws.first("connection_closed")["state"], RustWebSocketClient.STATE_CLOSED, "state seen in connection_closed")
	assert_eq(ws.lifecycle(), ["connection_established", "connection_closed"] as Array[String], "signals")
	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state once closed")
	assert_eq(client.get_connection_status(), MultiplayerPeer.CONNECTION_DISCONNECTED, "connection status once closed")
	assert_eq(client.get_close_code(), 1000, "get_close_code()")
	assert_eq(client.get_requested_url(), url, "get_requested_url() after the close")
	note("CONNECTING → OPEN (%s:%d) → CLOSING → CLOSED, close code %d" % [
		client.get_connected_host(), client.get_connected_port(), client.get_close_code()])


func test_connection_refused_names_the_address() -> void:
	var port := closed_port()
	var ws := start("ws://127.0.0.1:%d/" % port)
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_error", [])
	assert_eq(ws.lifecycle(), ["connection_error"] as Array[String], "signals")
	assert_eq(ws.client.get_last_error(), "connection refused by 127.0.0.1:%d" % port, "get_last_error()")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after the failure")
	assert_eq(ws.client.get_connected_host(), "", "get_connected_host() after the failure")
	assert_eq(ws.client.get_connected_port(), 0, "get_connected_port() after the failure")
	note("connection_error: " + ws.client.get_last_error())


func test_unknown_host_names_the_host() -> void:
	var ws := start("ws://nosuch.invalid/")
	if not await wait_until_ended(ws, 15.0):
		return
	assert_signal(ws, "connection_error", [])
	assert_begins(ws.client.get_last_error(), "cannot resolve host nosuch.invalid", "get_last_error()")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after the failure")
	note("connection_error: " + ws.client.get_last_error())


func test_refused_upgrade_reports_the_http_status() -> void:
	var ws := start(py_url("/no/such/path"))
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_error", [])
	assert_eq(ws.client.get_last_error(), "server refused the WebSocket upgrade with HTTP 404 Not Found", "get_last_error()")
	note("connection_error: " + ws.client.get_last_error())


func test_malformed_url_and_unsupported_scheme_are_refused_at_once() -> void:
	var client := make_client()
	var ws := watch(client)
	var cases := [
		["not a url", "invalid URL \"not a url\": "],
		["ws://", "invalid URL \"ws://\": "],
		["http://127.0.0.1:%d/" % max(godot_port, 1), "unsupported URL scheme \"http\": use ws:// or wss://"],
		["ftp://example.com/", "unsupported URL scheme \"ftp\": use ws:// or wss://"],
	]
	for entry in cases:
		var error: Error = client.connect_to_url(entry[0])
		assert_eq(error_string(error), error_string(ERR_INVALID_PARAMETER), "connect_to_url(\"%s\")" % entry[0])
		assert_begins(client.get_last_error(), entry[1], "get_last_error() for \"%s\"" % entry[0])
		assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after \"%s\"" % entry[0])
		note("%s → %s" % [show(entry[0]), client.get_last_error()])
	await wait_frames(5)
	assert_eq(ws.lifecycle(), [] as Array[String], "signals after refused calls")
	assert_eq(client.get_requested_url(), "", "get_requested_url() after refused calls")


func test_second_connect_while_connecting_is_refused() -> void:
	var ws := start(godot_url("/"))
	var error: Error = ws.client.connect_to_url(py_url("/echo"))
	assert_eq(error_string(error), error_string(ERR_ALREADY_IN_USE), "second connect_to_url() while connecting")
	assert_begins(ws.client.get_last_error(), "a connection is already in progress", "get_last_error()")
	note("second connect_to_url while connecting → ERR_ALREADY_IN_USE: " + ws.client.get_last_error())
	if not await wait_until_open(ws):
		return
	assert_eq(ws.client.get_connected_port(), godot_port, "the first connection is the one that opened")
	error = ws.client.connect_to_url(py_url("/echo"))
	assert_eq(error_string(error), error_string(ERR_ALREADY_IN_USE), "connect_to_url() while open")
	assert_eq(ws.client.send_text("still here"), OK, "send_text() on the first connection")
	await wait_for(func(): return ws.payloads.size() >= 1)
	assert_eq(ws.payloads, ["still here"], "echo on the first connection")


## gd_mp_api = true against a server that is not a Godot WebSocketMultiplayerPeer: it never
## sends a peer id, so the connection fails once the handshake timeout has passed.
func test_gd_mp_api_fails_when_the_server_sends_no_peer_id() -> void:
	var ws := watch(make_client())
	ws.client.handshake_timeout = 1.0
	assert_eq(ws.client.connect_to_url(godot_url("/"), PackedStringArray(), true), OK, "connect_to_url(gd_mp_api = true)")
	await wait_for(func(): return ws.has("connection_established"))
	assert_eq(ws.client.get_connection_status(), MultiplayerPeer.CONNECTION_CONNECTING, "status while waiting for the peer id")
	await wait_for(func(): return ws.has("connection_error"))
	assert_eq(ws.client.get_last_error(), "the server does not speak Godot's WebSocketMultiplayerPeer protocol: it sent no peer id within 1.0 s", "get_last_error()")
	assert_true(await wait_until_ended(ws), "the connection must close after the failure")
	assert_eq(ws.client.get_connection_status(), MultiplayerPeer.CONNECTION_DISCONNECTED, "status after the failure")
	assert_eq(ws.client.get_unique_id(), 0, "get_unique_id()")
	assert_eq(ws.client.get_last_error(), "the server does not speak Godot's WebSocketMultiplayerPeer protocol: it sent no peer id within 1.0 s", "get_last_error() after the close")
	note("no peer id → %s" % ws.client.get_last_error())


## gd_mp_api = true against a server whose first message is not a 4-byte peer id.
func test_gd_mp_api_fails_when_the_first_message_is_not_a_peer_id() -> void:
	var ws := watch(make_client())
	assert_eq(ws.client.connect_to_url(py_url("/headers"), PackedStringArray(), true), OK, "connect_to_url(gd_mp_api = true)")
	await wait_for(func(): return ws.has("connection_error"))
	assert_eq(ws.client.get_last_error(), "the server does not speak Godot's WebSocketMultiplayerPeer protocol: its first message is text, not a peer id", "get_last_error()")
	assert_true(await wait_until_ended(ws), "the connection must close after the failure")
	assert_eq(ws.count("data_received") + ws.count("message_received"), 0, "no message signals in multiplayer mode")
	assert_eq(ws.client.get_available_packet_count(), 0, "the first message is not a packet")
	note("text first → %s" % ws.client.get_last_error())


func test_malformed_custom_headers_are_refused() -> void:
	var client := make_client()
	var ws := watch(client)
	var cases := [
		["no colon", "invalid custom header \"no colon\": expected \"Name: value\""],
		["X-Token: a\r\nEvil: 1", "invalid custom header \"X-Token: a\\r\\nEvil: 1\": the value must be printable ASCII without line breaks"],
		["Sec-WebSocket-Key: x", "invalid custom header \"Sec-WebSocket-Key: x\": this header is set by the WebSocket handshake itself"],
	]
	for entry in cases:
		var error: Error = client.connect_to_url(py_url("/headers"), PackedStringArray(), false, PackedStringArray([entry[0]]))
		assert_eq(error_string(error), error_string(ERR_INVALID_PARAMETER), "connect_to_url() with header %s" % show(entry[0]))
		assert_eq(client.get_last_error(), entry[1], "get_last_error() for header %s" % show(entry[0]))
		assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after header %s" % show(entry[0]))
		note("%s → %s" % [show(entry[0]), client.get_last_error()])
	await wait_frames(5)
	assert_eq(ws.lifecycle(), [] as Array[String], "signals after refused calls")
	# The same object still connects with a good header.
	var error: Error = client.connect_to_url(py_url("/headers"), PackedStringArray(), false, PackedStringArray(["X-Token: fine"]))
	assert_eq(error_string(error), error_string(OK), "connect_to_url() with a good header afterwards")
	await wait_until_open(ws)


func test_malformed_subprotocol_is_refused() -> void:
	var client := make_client()
	for protocol in ["a, b", ""]:
		var error: Error = client.connect_to_url(py_url("/subprotocol"), PackedStringArray([protocol]))
		assert_eq(error_string(error), error_string(ERR_INVALID_PARAMETER), "connect_to_url() offering %s" % show(protocol))
		assert_begins(client.get_last_error(), "invalid sub-protocol \"%s\"" % protocol, "get_last_error()")
		note("%s → %s" % [show(protocol), client.get_last_error()])


func test_disconnect_while_connecting_abandons_the_attempt() -> void:
	var ws := start(godot_url("/"))
	ws.client.disconnect_from_host()
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSING, "state right after disconnect_from_host()")
	if not await wait_until_ended(ws):
		return
	await wait_frames(5)
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state at the end")
	assert_true(not ws.has("connection_established") or ws.has("connection_closed"), "an opened connection must also close, got %s" % [ws.lifecycle()])
	note("abandoned attempt ended with %s (%s)" % [ws.lifecycle(), show(ws.client.get_last_error())])
	# The same object connects again afterwards.
	assert_eq(error_string(ws.client.connect_to_url(godot_url("/"))), error_string(OK), "connect_to_url() afterwards")
	await wait_until_open(ws)


func test_reconnects_after_a_close_with_godot_server() -> void:
	await _check_reconnect(godot_url("/"))


func test_reconnects_after_a_close_with_python_server() -> void:
	await _check_reconnect(py_url("/echo"))


func _check_reconnect(url: String) -> void:
	var ws := watch(make_client())
	for attempt in 3:
		ws.payloads.clear()
		assert_eq(error_string(ws.client.connect_to_url(url)), error_string(OK), "connect_to_url() in round %d" % attempt)
		if not await wait_until_open(ws):
			return
		ws.client.send_text("round %d" % attempt)
		await wait_for(func(): return ws.payloads.size() >= 1)
		assert_eq(ws.payloads, ["round %d" % attempt], "echo in round %d" % attempt)
		var closes := ws.count("connection_closed")
		ws.client.disconnect_from_host()
		await wait_for(func(): return ws.count("connection_closed") > closes)
		assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after round %d" % attempt)
	assert_eq(ws.count("connection_established"), 3, "connection_established count")
	assert_eq(ws.count("connection_closed"), 3, "connection_closed count")
	note("3 rounds of connect, echo, close on the same object")
