extends "test_case.gd"
## Servers that break the protocol (tests/peers/misbehaving_server.py, one path per misbehaviour):
## each ends in the documented signals with a get_last_error() that says what happened, and
## nothing hangs, crashes or leaks (the runner checks leaks and the watchdog hangs).
##
## | Misbehaviour                          | Signals                                  | Close code |
## |---------------------------------------|------------------------------------------|------------|
## | HTTP 200 instead of 101               | connection_error                         | -1         |
## | wrong Sec-WebSocket-Accept            | connection_error                         | -1         |
## | endless response headers              | connection_error                         | -1         |
## | never answers the upgrade             | connection_error (handshake timeout)     | -1         |
## | masked frame, RSV bits, opcode 3,     | connection_established, connection_closed(false) | 1002 |
## | fragmented ping                       |                                          |            |
## | invalid UTF-8 in a text message       | connection_established, connection_closed(false) | 1007 |
## | frame over max_message_size           | connection_established, connection_closed(false) | 1009 |
## | close frame with code 999             | connection_established, connection_closed(false) | 1002 |
## | TCP closed without a close frame      | connection_established, connection_closed(false) | -1  |
## | never answers our close               | connection_established, connection_closed(false) (close timeout) | 1000 |
## | one byte every 10 ms (frames, or the upgrade response) | connection_established, message_received, server_close_request, connection_closed(true) | 1000 |

## What the /trickle path sends one byte at a time (TRICKLED_TEXT in misbehaving_server.py).
const TRICKLED_TEXT := "one byte every 10 ms, and still one message"
## Short timeouts keep the timeout cases fast; the assertions name them.
const SHORT_TIMEOUT_S := 0.5
## The limit the oversized case runs into: the server announces a 2 MiB frame.
const SMALL_MAX_MESSAGE_SIZE := 1 << 20


## Connects to a misbehaviour with the timeouts shortened (or not) and waits for the end.
func _run_case(path: String, short_timeouts := false, max_message_size := 0) -> SignalLog:
	var client := make_client()
	if short_timeouts:
		client.handshake_timeout = SHORT_TIMEOUT_S
		client.close_timeout = SHORT_TIMEOUT_S
	if max_message_size > 0:
		client.max_message_size = max_message_size
	var ws := watch(client)
	var error: Error = client.connect_to_url(misbehaving_url(path))
	assert_eq(error_string(error), error_string(OK), "connect_to_url(%s)" % path)
	await wait_until_ended(ws)
	return ws


## The names of the signals ws's client emitted, in order (message_received included).
func _signals(ws: SignalLog) -> Array[String]:
	var names: Array[String] = []
	for event in ws.events:
		names.append(event["name"])
	return names


## Checks the end of a case: signals, last error, close code, state.
func _check_end(ws: SignalLog, signals: Array[String], last_error: String, close_code: int) -> void:
	assert_eq(_signals(ws), signals, "signals")
	assert_eq(ws.client.get_last_error(), last_error, "get_last_error()")
	assert_eq(ws.client.get_close_code(), close_code, "get_close_code()")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state")
	note("%s → %s, close code %d: %s" % [ws.client.get_requested_url().get_slice("/", 3), _signals(ws), ws.client.get_close_code(), ws.client.get_last_error()])


## A server that broke the protocol after the connection opened: failed with close_code.
func _check_failed_open(ws: SignalLog, detail: String, close_code: int) -> void:
	_check_end(ws, ["connection_established", "connection_closed"] as Array[String],
		"server broke the WebSocket protocol: %s; closed with code %d" % [detail, close_code], close_code)
	assert_signal(ws, "connection_closed", [false])


# ---- The opening handshake -----------------------------------------------------------------------


func test_misbehaving_status_200_instead_of_101_is_refused_with_the_status() -> void:
	var ws := await _run_case("/status-200")
	_check_end(ws, ["connection_error"] as Array[String], "server refused the WebSocket upgrade with HTTP 200 OK", -1)


func test_misbehaving_wrong_accept_key_fails_the_handshake() -> void:
	var ws := await _run_case("/bad-accept")
	_check_end(ws, ["connection_error"] as Array[String],
		"invalid WebSocket handshake response: its Sec-WebSocket-Accept does not match the request's key (is it a WebSocket server?)", -1)


func test_misbehaving_endless_response_headers_are_cut_off() -> void:
	var ws := await _run_case("/huge-headers")
	_check_end(ws, ["connection_error"] as Array[String],
		"invalid WebSocket handshake response: the response head is over 64 KiB", -1)


func test_misbehaving_server_that_never_answers_hits_the_handshake_timeout() -> void:
	var ws := await _run_case("/silent", true)
	_check_end(ws, ["connection_error"] as Array[String],
		"connection to 127.0.0.1:%d was not open after 0.5 s (handshake timeout, during the HTTP upgrade)" % misbehaving_port, -1)


# ---- Frames that break RFC 6455: the client fails the connection ---------------------------------


func test_misbehaving_masked_server_frame_closes_with_1002() -> void:
	_check_failed_open(await _run_case("/masked-frame"), "Received a masked frame from server", 1002)


func test_misbehaving_reserved_bits_close_with_1002() -> void:
	_check_failed_open(await _run_case("/rsv-bits"), "Reserved bits are non-zero", 1002)


func test_misbehaving_unknown_opcode_closes_with_1002() -> void:
	_check_failed_open(await _run_case("/unknown-opcode"), "Encountered invalid opcode: 3", 1002)


func test_misbehaving_fragmented_ping_closes_with_1002() -> void:
	_check_failed_open(await _run_case("/fragmented-ping"), "Fragmented control frame", 1002)


func test_misbehaving_invalid_utf8_text_closes_with_1007() -> void:
	_check_failed_open(await _run_case("/bad-utf8"), "a text message is not valid UTF-8", 1007)


func test_misbehaving_frame_over_max_message_size_closes_with_1009() -> void:
	var ws := await _run_case("/oversized", false, SMALL_MAX_MESSAGE_SIZE)
	_check_end(ws, ["connection_established", "connection_closed"] as Array[String],
		"server sent a message of 2097152 bytes, over the limit of 1048576 bytes (max_message_size); closed with code 1009", 1009)
	assert_signal(ws, "connection_closed", [false])


func test_misbehaving_invalid_close_code_fails_the_connection_with_1002() -> void:
	# RFC 6455 7.4: a close frame with a code that may not be sent (999) fails the connection:
	# it is answered with 1002, is no close request, and the ending is not clean.
	var ws := await _run_case("/bad-close-code")
	_check_end(ws, ["connection_established", "connection_closed"] as Array[String],
		"server broke the WebSocket protocol: its close frame carried status code 999, which RFC 6455 does not allow (report this to the server's developers); closed with code 1002", 1002)
	assert_signal(ws, "connection_closed", [false])


# ---- Ends without a close handshake, and slow servers --------------------------------------------


func test_misbehaving_tcp_closed_without_close_frame_is_unclean_and_keeps_the_message() -> void:
	var ws := await _run_case("/tcp-drop")
	_check_end(ws, ["connection_established", "message_received", "connection_closed"] as Array[String],
		"connection lost without a close handshake: the server closed the TCP connection", -1)
	assert_signal(ws, "connection_closed", [false])
	assert_eq(ws.payloads, ["bye"], "the message sent before the drop")


func test_misbehaving_server_that_ignores_our_close_hits_the_close_timeout() -> void:
	var client := make_client()
	client.close_timeout = SHORT_TIMEOUT_S
	var ws := watch(client)
	client.connect_to_url(misbehaving_url("/ignore-close"))
	if not await wait_until_open(ws):
		return
	client.disconnect_from_host(1000, "bye")
	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSING, "state after disconnect_from_host()")
	if not await wait_until_ended(ws):
		return
	_check_end(ws, ["connection_established", "connection_closed"] as Array[String],
		"server did not finish the close handshake within 0.5 s (close timeout)", 1000)
	assert_signal(ws, "connection_closed", [false])


func test_misbehaving_one_byte_every_10_ms_still_delivers_the_message_and_the_close() -> void:
	var ws := await _run_case("/trickle")
	_check_end(ws, ["connection_established", "message_received", "server_close_request", "connection_closed"] as Array[String], "", 1000)
	assert_eq(ws.payloads, [TRICKLED_TEXT], "the trickled message")
	assert_signal(ws, "server_close_request", [1000, "done"])
	assert_signal(ws, "connection_closed", [true])


func test_misbehaving_upgrade_response_at_one_byte_every_10_ms_still_opens() -> void:
	# tungstenite alone fails a response that arrives in over 64 small pieces ("Attack attempt
	# detected"); the transport gathers the head first.
	var ws := await _run_case("/trickle-upgrade")
	_check_end(ws, ["connection_established", "message_received", "server_close_request", "connection_closed"] as Array[String], "", 1000)
	assert_eq(ws.payloads, [TRICKLED_TEXT], "the message after the trickled upgrade")
	assert_signal(ws, "connection_closed", [true])
