extends "test_case.gd"
## Bad input from the game: every call returns an error code (or does nothing) with a
## get_last_error() that says why, nothing reaches the network, and nothing panics. Complements
## test_connection.gd (malformed URLs, headers and protocols) and test_close.gd (close code 1005,
## 124-byte reasons, sending while not open) with the rest of the table.

const TOKEN_RULE := "it must be a non-empty HTTP token (letters, digits and !#$%&'*+-.^_`|~)"


## Calls connect_to_url with each case on one fresh client: [url, protocols, headers, expected
## get_last_error()]; each must return ERR_INVALID_PARAMETER, leave the client closed and emit
## nothing.
func _refused_connects(cases: Array) -> void:
	var client := make_client()
	var ws := watch(client)
	for entry in cases:
		var error: Error = client.connect_to_url(entry[0], PackedStringArray(entry[1]), false, PackedStringArray(entry[2]))
		var what := ("%s %s %s" % [show(entry[0]), entry[1], entry[2]]).c_escape()
		assert_eq(error_string(error), error_string(ERR_INVALID_PARAMETER), "connect_to_url(%s)" % what)
		assert_eq(client.get_last_error(), entry[3], "get_last_error() for %s" % what)
		assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after %s" % what)
		note("%s → %s" % [what, client.get_last_error()])
	await wait_frames(3)
	assert_eq(ws.lifecycle(), [] as Array[String], "signals after refused calls")


func test_bad_input_garbage_urls_are_refused_with_the_reason() -> void:
	await _refused_connects([
		["", [], [], "invalid URL \"\": relative URL without a base"],
		["//example.com", [], [], "invalid URL \"//example.com\": relative URL without a base"],
		["ws://:80/", [], [], "invalid URL \"ws://:80/\": empty host"],
		["wss:", [], [], "invalid URL \"wss:\": empty host"],
		["ws://127.0.0.1:99999/", [], [], "invalid URL \"ws://127.0.0.1:99999/\": invalid port number"],
		["ws://[::1/", [], [], "invalid URL \"ws://[::1/\": invalid IPv6 address"],
		["ws://exa mple.com/", [], [], "invalid URL \"ws://exa mple.com/\": invalid international domain name"],
	])


func test_bad_input_header_injection_and_non_ascii_headers_are_refused() -> void:
	var url := misbehaving_url("/silent")
	await _refused_connects([
		[url, [], ["X-A: a\nInjected: 1"], "invalid custom header \"X-A: a\\nInjected: 1\": the value must be printable ASCII without line breaks"],
		[url, [], ["X-A: a\rInjected: 1"], "invalid custom header \"X-A: a\\rInjected: 1\": the value must be printable ASCII without line breaks"],
		[url, [], ["X-A: café"], "invalid custom header \"X-A: café\": the value must be printable ASCII without line breaks"],
		[url, [], ["X-é: v"], "invalid custom header \"X-é: v\": the name is not a valid HTTP header name"],
		[url, [], ["Na me: v"], "invalid custom header \"Na me: v\": the name is not a valid HTTP header name"],
		[url, [], [": v"], "invalid custom header \": v\": the name is not a valid HTTP header name"],
		[url, [], ["Upgrade: h2c"], "invalid custom header \"Upgrade: h2c\": this header is set by the WebSocket handshake itself"],
	])


func test_bad_input_protocols_with_separators_are_refused() -> void:
	var url := misbehaving_url("/silent")
	var cases := []
	for protocol in ["a;b", "chat v1", "a/b", "(x)", "café", "a\r\n"]:
		cases.append([url, [protocol], [], "invalid sub-protocol \"%s\": %s" % [protocol.c_escape(), TOKEN_RULE]])
	await _refused_connects(cases)


func test_bad_input_close_codes_and_reasons_are_refused_and_the_connection_stays_open() -> void:
	var ws := await open(py_url("/echo"))
	if not ws.is_open():
		return
	for code in [-1, 0, 999, 1001, 1004, 1006, 1015, 2999, 5000, 66536, 9223372036854775807]:
		ws.client.disconnect_from_host(code, "")
		assert_eq(ws.client.get_last_error(), "close code %d may not be sent: use 1000 or a code from 3000 to 4999" % code, "get_last_error() after code %d" % code)
		assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state after code %d" % code)
	# 62 two-byte characters: 124 bytes, one more than a close frame holds.
	ws.client.disconnect_from_host(1000, "é".repeat(62))
	assert_eq(ws.client.get_last_error(), "close reason is 124 bytes long; at most 123 bytes fit in a close frame", "get_last_error() after a 124-byte reason")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state after a 124-byte reason")
	ws.client.send_text("still open")
	await wait_for(func(): return ws.payloads.size() >= 1)
	assert_eq(ws.payloads, ["still open"], "echo after the refused closes")
	ws.client.disconnect_from_host(1000, "é".repeat(61) + "a")
	await wait_until_ended(ws)
	assert_signal(ws, "connection_closed", [true])
	note("codes -1, 0, 999, 1001, 1004, 1006, 1015, 2999, 5000, 66536, 2^63-1 and a 124-byte reason refused; 123 bytes close cleanly")


func test_bad_input_calls_in_the_wrong_state() -> void:
	var client := make_client()
	var ws := watch(client)
	# Closed: disconnecting does nothing, reading finds nothing, get_peer() knows only peer 1.
	client.disconnect_from_host()
	assert_eq(client.get_last_error(), "", "get_last_error() after disconnect_from_host() while closed")
	assert_eq(client.get_packet(), PackedByteArray(), "get_packet() with nothing received")
	assert_eq(error_string(client.get_packet_error()), error_string(ERR_UNAVAILABLE), "get_packet_error() with nothing received")
	assert_eq(client.take_messages(), [], "take_messages() with nothing received")
	assert_true(client.get_peer(0) == null, "get_peer(0) is null")
	assert_true(client.get_peer(2) == null, "get_peer(2) is null")
	var huge := "x".repeat(8 << 20)
	assert_eq(error_string(client.send_text(huge)), error_string(ERR_UNCONFIGURED), "send_text() of 8 MiB while closed")
	assert_eq(client.get_current_outbound_buffered_amount(), 0, "get_current_outbound_buffered_amount() after it")
	# Open: a second connect is refused; a write mode that does not exist is refused.
	assert_eq(client.connect_to_url(py_url("/echo")), OK, "connect_to_url()")
	if not await wait_until_open(ws):
		return
	assert_eq(error_string(client.connect_to_url(py_url("/echo"))), error_string(ERR_ALREADY_IN_USE), "connect_to_url() while open")
	assert_begins(client.get_last_error(), "a connection is already in progress", "get_last_error() after it")
	assert_eq(error_string(client.send(PackedByteArray([1]), 7)), error_string(ERR_INVALID_PARAMETER), "send() with write_mode 7")
	assert_eq(client.get_last_error(), "send() takes WRITE_MODE_TEXT (0) or WRITE_MODE_BINARY (1) as write_mode, not 7", "get_last_error() after it")
	assert_eq(error_string(client.send_messages([PackedByteArray([1]), null])), error_string(ERR_INVALID_PARAMETER), "send_messages() with a null in it")
	# An 8 MiB text (far over Godot's 64 KiB default) is sent whole and echoed.
	assert_eq(client.send_text(huge), OK, "send_text() of 8 MiB while open")
	if not await wait_for(func(): return ws.payloads.size() >= 2, 20.0):
		fail("the echo of the 8 MiB text did not arrive: %s" % client.get_last_error())
		return
	assert_eq(ws.payloads[0], PackedByteArray([1]), "the message before the refused element")
	assert_eq(ws.payloads[1].length(), huge.length(), "length of the echoed 8 MiB text")
	# Closing: a second disconnect does nothing, and leaves the last error alone.
	client.disconnect_from_host(4000, "first")
	var error_before: String = client.get_last_error()
	client.disconnect_from_host(4001, "second")
	assert_eq(client.get_last_error(), error_before, "get_last_error() after a second disconnect_from_host()")
	await wait_until_ended(ws)
	assert_eq(client.get_close_code(), 4000, "get_close_code(): the first close")
	note("closed: no-ops and ERR_UNCONFIGURED; open: ERR_ALREADY_IN_USE, write_mode 7 refused, 8 MiB text echoed; closing: second close ignored")


## Timeouts too large for the clock mean no timeout (an overflow once killed the I/O thread and
## with it every connection, and made the web client's deadline one already passed).
func test_bad_input_out_of_range_properties_do_not_break_a_connection() -> void:
	var client := make_client()
	client.handshake_timeout = INF
	client.close_timeout = 1e300
	var ws := watch(client)
	assert_eq(client.connect_to_url(py_url("/echo")), OK, "connect_to_url() with infinite timeouts")
	if not await wait_until_open(ws):
		return
	client.send_text("infinite timeouts")
	await wait_for(func(): return ws.payloads.size() >= 1)
	assert_eq(ws.payloads, ["infinite timeouts"], "echo with infinite timeouts")
	client.disconnect_from_host()
	await wait_until_ended(ws)
	assert_signal(ws, "connection_closed", [true])
	note("INF / 1e300 timeouts: echo and clean close")


## Tiny or negative sizes and timeouts are clamped.
func test_bad_input_negative_timeouts_and_sizes_are_clamped() -> void:
	var tiny := make_client()
	tiny.handshake_timeout = -5.0
	tiny.max_message_size = -1
	tiny.inbound_queue_limit = 0
	var tiny_ws := watch(tiny)
	var url := misbehaving_url("/silent")
	assert_eq(tiny.connect_to_url(url), OK, "connect_to_url() with a negative handshake_timeout")
	await wait_until_ended(tiny_ws)
	assert_eq(tiny_ws.lifecycle(), ["connection_error"] as Array[String], "signals with a negative handshake_timeout")
	_check_timed_out_at_zero(tiny.get_last_error(), url)
	note("handshake_timeout -5 → " + tiny.get_last_error())


## Checks the sentence of an attempt on url whose handshake_timeout was clamped to 0.
func _check_timed_out_at_zero(error: String, _url: String) -> void:
	assert_begins(error, "connection to 127.0.0.1:%d was not open after 0.0 s (handshake timeout" % misbehaving_port, "get_last_error()")
