extends "test_case.gd"
## The heartbeat (round-trip time, dead servers), the upgrade response and the statistics.


## A watched client with the heartbeat on, connecting to url.
func start_with_heartbeat(url: String, interval: float, timeout: float) -> SignalLog:
	var ws := watch(make_client())
	ws.client.heartbeat_interval = interval
	ws.client.heartbeat_timeout = timeout
	var error: Error = ws.client.connect_to_url(url)
	assert_eq(error_string(error), error_string(OK), "connect_to_url(\"%s\") result" % url)
	return ws


func test_round_trip_time_is_measured_from_pongs() -> void:
	var ws := start_with_heartbeat(py_url("/echo"), 0.05, 10.0)
	if not await wait_until_open(ws):
		return
	assert_eq(ws.client.get_round_trip_time(), 0.0, "get_round_trip_time() before any pong")
	if not await wait_for(func(): return ws.client.get_round_trip_time() > 0.0):
		fail("get_round_trip_time() stayed 0 with heartbeat_interval = 0.05")
		return
	var rtt: float = ws.client.get_round_trip_time()
	assert_eq(ws.client.get_statistics()["round_trip_time"] > 0.0, true, "statistics round_trip_time > 0")
	ws.client.send_text("still here")
	await wait_for(func(): return ws.payloads.size() >= 1)
	assert_eq(ws.payloads, ["still here"], "echo with the heartbeat running")
	assert_true(ws.is_open(), "the connection stays open")
	note("round-trip time %.3f ms" % (rtt * 1000.0))


func test_heartbeat_is_off_by_default() -> void:
	var client := make_client()
	assert_eq(client.heartbeat_interval, 0.0, "heartbeat_interval default")
	assert_eq(client.heartbeat_timeout, 10.0, "heartbeat_timeout default")
	assert_eq(client.get_round_trip_time(), 0.0, "get_round_trip_time() unconnected")


func test_dead_server_is_dropped_as_unclean() -> void:
	var ws := start_with_heartbeat(py_url("/deaf"), 0.1, 0.5)
	if not await wait_until_open(ws):
		return
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.lifecycle(), ["connection_established", "connection_closed"] as Array[String], "signals")
	assert_signal(ws, "connection_closed", [false])
	assert_eq(ws.client.get_last_error(), "connection lost: the server sent nothing for 0.5 s after a ping (heartbeat timeout)", "get_last_error()")
	assert_eq(ws.client.get_close_code(), -1, "get_close_code(): no close frame")
	note("silent server → connection_closed(false): " + ws.client.get_last_error())


func test_refused_upgrade_is_readable() -> void:
	var ws := start(py_url("/refuse?status=401"))
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.lifecycle(), ["connection_error"] as Array[String], "signals")
	assert_eq(ws.client.get_last_error(), "server refused the WebSocket upgrade with HTTP 401 Unauthorized", "get_last_error()")
	assert_eq(ws.client.get_handshake_response_status(), 401, "get_handshake_response_status()")
	var headers: PackedStringArray = ws.client.get_handshake_response_headers()
	assert_true(headers.has("www-authenticate: Bearer realm=\"game\""), "WWW-Authenticate in %s" % show(headers))
	assert_eq(ws.client.get_handshake_response_body().get_string_from_utf8(), "token expired\n", "get_handshake_response_body()")
	note("401 → headers %s, body %s" % [headers, show(ws.client.get_handshake_response_body().get_string_from_utf8())])


func test_accepted_upgrade_response_is_readable() -> void:
	var client := make_client()
	assert_eq(client.get_handshake_response_status(), 0, "status before connecting")
	var ws := await open(py_url("/echo"))
	if not ws.is_open():
		return
	assert_eq(ws.client.get_handshake_response_status(), 101, "get_handshake_response_status()")
	var headers: PackedStringArray = ws.client.get_handshake_response_headers()
	assert_true(headers.has("upgrade: websocket"), "Upgrade in %s" % show(headers))
	assert_eq(ws.client.get_handshake_response_body().size(), 0, "no body")


func test_statistics_count_the_messages_exchanged() -> void:
	var ws := await open(py_url("/echo"))
	if not ws.is_open():
		return
	var binary := PackedByteArray()
	binary.resize(100)
	ws.client.send_text("hello")
	ws.client.send(binary)
	await wait_for(func(): return ws.payloads.size() >= 2)
	var live: Dictionary = ws.client.get_statistics()
	assert_eq(live["messages_sent"], 2, "messages_sent")
	assert_eq(live["messages_received"], 2, "messages_received")
	assert_eq(live["payload_bytes_sent"], 105, "payload_bytes_sent")
	assert_eq(live["payload_bytes_received"], 105, "payload_bytes_received")
	assert_true(live["wire_bytes_sent"] > 105, "wire_bytes_sent %d > payload" % live["wire_bytes_sent"])
	assert_true(live["wire_bytes_received"] > 105, "wire_bytes_received %d > payload" % live["wire_bytes_received"])
	assert_true(live["compression_ratio"] > 0.0 and live["compression_ratio"] < 1.0, "compression_ratio %f without compression" % live["compression_ratio"])
	ws.client.disconnect_from_host()
	if not await wait_until_ended(ws):
		return
	var ended: Dictionary = ws.client.get_statistics()
	assert_eq(ended["messages_sent"], 2, "messages_sent kept after the close")
	assert_true(ended["wire_bytes_sent"] > live["wire_bytes_sent"], "the close frame is counted")
	assert_eq(ended.keys(), ["messages_sent", "messages_received", "payload_bytes_sent", "payload_bytes_received", "wire_bytes_sent", "wire_bytes_received", "compression_ratio", "round_trip_time", "reconnects"], "keys")
	note("statistics: %s" % ended)


func test_statistics_as_performance_monitors() -> void:
	var ws := await open(py_url("/echo"))
	if not ws.is_open():
		return
	var category := unique_id("rws")
	assert_eq(error_string(ws.client.add_performance_monitors(category)), error_string(OK), "add_performance_monitors()")
	var received_id := category + "/messages_received"
	assert_true(Performance.has_custom_monitor(received_id), "monitor %s added" % received_id)
	ws.client.send_text("counted")
	await wait_for(func(): return ws.payloads.size() >= 1)
	assert_eq(Performance.get_custom_monitor(received_id), 1, "monitor value")
	assert_eq(Performance.get_custom_monitor(category + "/payload_bytes_sent"), 7, "payload_bytes_sent monitor")
	var other := make_client()
	assert_eq(error_string(other.add_performance_monitors(category)), error_string(ERR_ALREADY_EXISTS), "same category on a second client")
	ws.client.remove_performance_monitors()
	assert_true(not Performance.has_custom_monitor(received_id), "removed by remove_performance_monitors()")
	# A freed client takes its monitors with it.
	var lone := RustWebSocketClient.new()
	var lone_category := unique_id("rws-freed")
	lone.add_performance_monitors(lone_category)
	assert_true(Performance.has_custom_monitor(lone_category + "/wire_bytes_sent"), "monitors of the second client added")
	lone = null
	assert_true(not Performance.has_custom_monitor(lone_category + "/wire_bytes_sent"), "monitors removed when the client is freed")
