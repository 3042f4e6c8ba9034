extends "test_case.gd"
## Auto-reconnect: a dropped connection opens again, and it never does when it must not.


## A watched client with auto_reconnect on and short delays (tests check what happens, not how
## fast), whose reconnect signals are recorded in the log too.
func _reconnecting_client(max_attempts := 5, deliver_payloads := true) -> SignalLog:
	var ws := watch(make_client(), deliver_payloads)
	ws.client.auto_reconnect = true
	ws.client.reconnect_delay_initial = 0.05
	ws.client.reconnect_delay_max = 0.2
	ws.client.reconnect_max_attempts = max_attempts
	# The lambdas hold the log's event list, not the client or the log: no reference cycle.
	var events := ws.events
	ws.client.reconnecting.connect(func(attempt, delay): events.append({"name": "reconnecting", "args": [attempt, delay]}))
	ws.client.reconnected.connect(func(): events.append({"name": "reconnected", "args": []}))
	ws.client.reconnect_failed.connect(func(): events.append({"name": "reconnect_failed", "args": []}))
	ws.client.reconnect_queue_discarded.connect(func(count): events.append({"name": "reconnect_queue_discarded", "args": [count]}))
	return ws


## Takes every received message, as text, oldest first.
func _take_texts(ws: SignalLog) -> Array:
	var texts := []
	while ws.client.get_available_packet_count() > 0:
		texts.append(ws.client.get_packet().get_string_from_utf8())
	return texts


func _connect(ws: SignalLog, url: String, gd_mp_api := false) -> void:
	assert_eq(error_string(ws.client.connect_to_url(url, PackedStringArray(), gd_mp_api)), error_string(OK), "connect_to_url(\"%s\")" % url)


## The attempt numbers of the reconnecting signals, in order.
func _attempts(ws: SignalLog) -> Array:
	var attempts := []
	for event in ws.events:
		if event["name"] == "reconnecting":
			attempts.append(event["args"][0])
	return attempts


func test_reconnect_properties_have_documented_defaults() -> void:
	var client := make_client()
	assert_eq(client.auto_reconnect, false, "auto_reconnect")
	assert_eq(client.reconnect_delay_initial, 0.5, "reconnect_delay_initial")
	assert_eq(client.reconnect_delay_max, 30.0, "reconnect_delay_max")
	assert_eq(client.reconnect_max_attempts, 10, "reconnect_max_attempts")
	assert_eq(client.reconnect_final_close_codes, PackedInt32Array([1000, 1002, 1003, 1007, 1008, 1009]), "reconnect_final_close_codes")
	assert_eq(client.get_reconnect_count(), 0, "get_reconnect_count()")
	assert_eq(client.reconnect_queue_messages, 0, "reconnect_queue_messages (the queue is off)")
	assert_eq(client.reconnect_queue_bytes, 1048576, "reconnect_queue_bytes")


func test_dropped_connection_reconnects_and_messages_flow_again() -> void:
	var ws := _reconnecting_client(5, false)
	ws.read_packets = false
	_connect(ws, py_url("/drop_once?say=before%20the%20drop&id=" + unique_id("drop")))
	if not await wait_for(func(): return ws.has("reconnecting")):
		fail("no reconnecting signal after the drop: %s, %s" % [ws.lifecycle(), ws.client.get_last_error()])
		return
	# Sends wait for nothing: refused, with the reason, until the connection is open again.
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CONNECTING, "state while reconnecting")
	assert_eq(error_string(ws.client.send_text("lost?")), error_string(ERR_UNCONFIGURED), "send_text() while reconnecting")
	assert_eq(ws.client.get_last_error(), "the connection is being re-established (auto-reconnect, attempt 1); nothing was sent: send again once it is open", "get_last_error() after that send")
	if not await wait_for(func(): return ws.has("reconnected")):
		fail("did not reconnect: %s, %s" % [ws.lifecycle(), ws.client.get_last_error()])
		return
	assert_eq(ws.lifecycle(), ["connection_established", "connection_closed", "reconnecting", "connection_established", "reconnected"] as Array[String], "signals")
	assert_signal(ws, "connection_closed", [false])
	assert_eq(ws.first("connection_closed")["state"], RustWebSocketClient.STATE_CONNECTING, "state seen in connection_closed when a reconnect follows")
	var reconnecting := ws.first("reconnecting")["args"] as Array
	assert_eq(reconnecting[0], 1, "reconnecting attempt")
	assert_true(typeof(reconnecting[1]) == TYPE_FLOAT and reconnecting[1] >= 0.025 and reconnecting[1] <= 0.05, "reconnecting delay is between half and all of reconnect_delay_initial: %s" % show(reconnecting[1]))
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state after reconnecting")
	assert_eq(ws.client.get_reconnect_count(), 1, "get_reconnect_count()")
	assert_eq(ws.client.get_statistics()["reconnects"], 1, "get_statistics()[\"reconnects\"]")
	assert_eq(ws.client.send_text("after the drop"), OK, "send_text() once reconnected")
	if not await wait_for(func(): return ws.client.get_available_packet_count() >= 2):
		fail("the echo did not arrive (queued: %d)" % ws.client.get_available_packet_count())
		return
	var received := _take_texts(ws)
	assert_eq(received, ["before the drop", "after the drop"], "messages in the queue, the one from before the drop first")
	note("dropped → reconnecting(1, %.3f) → reconnected; queue %s" % [reconnecting[1], received])


## What the reconnect in the next test sends instead of what connect_to_url() was given.
const REFRESHED_HEADER := "X-Token: refreshed"


## set_reconnect_url() called from the reconnecting handler: the attempt goes to the new URL
## (the server's /headers answers first with the headers it saw) with the new header.
func test_reconnect_goes_to_the_url_and_headers_set_while_reconnecting() -> void:
	var ws := _reconnecting_client(5, false)
	ws.read_packets = false
	var resume_url := py_url("/headers")
	var retargeted: Array[Error] = []
	ws.client.reconnecting.connect(func(_attempt: int, _delay: float) -> void:
		retargeted.append(_retarget(ws.client, resume_url)))
	_connect(ws, py_url("/drop_once?id=" + unique_id("resume")))
	if not await wait_for(func(): return ws.has("reconnected") or ws.has("reconnect_failed")):
		fail("did not reconnect: %s, %s" % [ws.lifecycle(), ws.client.get_last_error()])
		return
	assert_eq(retargeted, [OK] as Array[Error], "set_reconnect_url() in the reconnecting handler")
	assert_eq(ws.client.get_requested_url(), resume_url, "get_requested_url() after the reconnect")
	if not await wait_for(func(): return ws.client.get_available_packet_count() > 0):
		fail("the resumed connection sent nothing")
		return
	var seen: Dictionary = JSON.parse_string(ws.client.get_packet().get_string_from_utf8())
	_check_resumed_headers(seen)
	note("dropped → set_reconnect_url(%s) in reconnecting → reconnected there" % resume_url)


## Sends the next attempt to [param url] with [constant REFRESHED_HEADER].
func _retarget(client: MultiplayerPeer, url: String) -> Error:
	return client.set_reconnect_url(url, PackedStringArray(), PackedStringArray([REFRESHED_HEADER]))


## The server saw the refreshed header on the resumed connection.
func _check_resumed_headers(seen: Dictionary) -> void:
	assert_eq(seen.get("x-token"), "refreshed", "the header the resumed connection sent")


func test_set_reconnect_url_is_refused_without_auto_reconnect_or_with_a_bad_url() -> void:
	var ws := watch(make_client())
	var off := "auto-reconnect is not on for this connection, so there is no next attempt to change: set auto_reconnect = true before connect_to_url(), or call connect_to_url() with the new URL"
	assert_eq(error_string(ws.client.set_reconnect_url(py_url("/echo"))), error_string(ERR_UNCONFIGURED), "set_reconnect_url() while closed")
	assert_eq(ws.client.get_last_error(), off, "get_last_error() while closed")
	_connect(ws, py_url("/echo"))
	await wait_until_open(ws)
	assert_eq(error_string(ws.client.set_reconnect_url(py_url("/echo"))), error_string(ERR_UNCONFIGURED), "set_reconnect_url() with auto_reconnect off")
	assert_eq(ws.client.get_last_error(), off, "get_last_error() with auto_reconnect off")
	assert_eq(error_string(ws.client.set_reconnect_url("http://example.com/")), error_string(ERR_INVALID_PARAMETER), "set_reconnect_url() with an http:// URL")
	assert_eq(ws.client.get_last_error(), "unsupported URL scheme \"http\": use ws:// or wss://", "get_last_error() for the http:// URL")


func test_disconnect_from_host_never_reconnects() -> void:
	var ws := _reconnecting_client()
	_connect(ws, py_url("/echo"))
	if not await wait_until_open(ws):
		return
	ws.client.disconnect_from_host()
	if not await wait_until_ended(ws):
		return
	await wait_frames(5)
	assert_eq(ws.lifecycle(), ["connection_established", "connection_closed"] as Array[String], "signals")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state")


func test_final_close_code_never_reconnects() -> void:
	var ws := _reconnecting_client()
	_connect(ws, py_url("/close?code=1000&reason=done"))
	if not await wait_until_ended(ws):
		return
	await wait_frames(5)
	assert_eq(ws.lifecycle(), ["connection_established", "server_close_request", "connection_closed"] as Array[String], "signals after close code 1000 (final by default)")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state")

	var listed := _reconnecting_client()
	listed.client.reconnect_final_close_codes = PackedInt32Array([4003])
	_connect(listed, py_url("/close?code=4003&reason=banned"))
	if not await wait_until_ended(listed):
		return
	await wait_frames(5)
	assert_eq(listed.lifecycle(), ["connection_established", "server_close_request", "connection_closed"] as Array[String], "signals after a listed close code")
	note("1000 and a listed 4003 end the connection for good")


func test_close_code_not_listed_reconnects() -> void:
	var ws := _reconnecting_client()
	_connect(ws, py_url("/close?code=1001&reason=restarting"))
	if not await wait_for(func(): return ws.has("reconnected")):
		fail("did not reconnect after close code 1001: %s" % [ws.lifecycle()])
		return
	assert_eq(ws.lifecycle().slice(0, 5), ["connection_established", "server_close_request", "connection_closed", "reconnecting", "connection_established"] as Array[String], "signals")
	assert_signal(ws, "connection_closed", [true])
	# The server closes every connection with 1001, so this would go on: stop it.
	ws.client.disconnect_from_host()
	await wait_for(func(): return ws.client.get_ready_state() == RustWebSocketClient.STATE_CLOSED)
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after disconnect_from_host()")


func test_reconnect_to_a_refused_port_gives_up_after_max_attempts() -> void:
	var port := closed_port()
	var ws := _reconnecting_client(3)
	_connect(ws, "ws://127.0.0.1:%d/" % port)
	if not await wait_for(func(): return ws.has("reconnect_failed")):
		fail("did not give up: %s" % [ws.lifecycle()])
		return
	assert_eq(ws.lifecycle(), [
		"connection_error", "reconnecting", "connection_error", "reconnecting",
		"connection_error", "reconnecting", "connection_error", "reconnect_failed",
	] as Array[String], "signals")
	assert_eq(_attempts(ws), [1, 2, 3], "reconnecting attempts")
	assert_eq(ws.client.get_last_error(), "gave up reconnecting after 3 attempts; the last one failed: connection refused by 127.0.0.1:%d" % port, "get_last_error()")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after giving up")
	note("reconnect_failed: " + ws.client.get_last_error())
	assert_eq(error_string(ws.client.send_text("x")), error_string(ERR_UNCONFIGURED), "send_text() after giving up")


func test_disconnect_while_waiting_stops_reconnecting() -> void:
	var ws := _reconnecting_client()
	ws.client.reconnect_delay_initial = 600.0
	ws.client.reconnect_delay_max = 600.0
	_connect(ws, "ws://127.0.0.1:%d/" % closed_port())
	if not await wait_for(func(): return ws.has("reconnecting")):
		fail("no reconnecting signal: %s" % [ws.lifecycle()])
		return
	ws.client.disconnect_from_host()
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSING, "state right after disconnect_from_host()")
	if not await wait_for(func(): return ws.has("connection_closed")):
		fail("no connection_closed after disconnect_from_host(): %s" % [ws.lifecycle()])
		return
	assert_eq(ws.lifecycle(), ["connection_error", "reconnecting", "connection_closed"] as Array[String], "signals")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state")


func test_multiplayer_peer_never_reconnects() -> void:
	var ws := _reconnecting_client()
	_connect(ws, py_url("/drop"), true)
	if not await wait_until_ended(ws):
		return
	await wait_frames(5)
	assert_true(not ws.has("reconnecting"), "no reconnecting signal as a multiplayer peer: %s" % [ws.lifecycle()])
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state")


## With the reconnect queue on, what the reconnecting handler sends goes out once the connection
## is open again, in order and before what is sent after reconnected.
func test_queued_sends_go_out_in_order_after_the_reconnect() -> void:
	var ws := _reconnecting_client(5, false)
	ws.read_packets = false
	ws.client.reconnect_queue_messages = 10
	var sent: Array[Error] = []
	ws.client.reconnecting.connect(func(_attempt: int, _delay: float) -> void:
		for text in ["one", "two", "three"]:
			sent.append(ws.client.send_text(text)))
	_connect(ws, py_url("/drop_once?id=" + unique_id("queue")))
	if not await wait_for(func(): return ws.has("reconnected") or ws.has("reconnect_failed")):
		fail("did not reconnect: %s, %s" % [ws.lifecycle(), ws.client.get_last_error()])
		return
	assert_eq(sent, [OK, OK, OK] as Array[Error], "send_text() while reconnecting, with the queue on")
	assert_eq(ws.client.send_text("four"), OK, "send_text() once reconnected")
	if not await wait_for(func(): return ws.client.get_available_packet_count() >= 4):
		fail("the echoes did not arrive (queued: %d)" % ws.client.get_available_packet_count())
		return
	var received := _take_texts(ws)
	assert_eq(received, ["one", "two", "three", "four"], "echoes: the queued messages first, in order")
	assert_true(not ws.has("reconnect_queue_discarded"), "nothing discarded: %s" % [ws.lifecycle()])
	note("queued while reconnecting, echoed after: %s" % [received])


## The queue's limits refuse a send (nothing is taken) with a sentence naming the limit, and
## disconnect_from_host() while waiting discards what is queued with reconnect_queue_discarded.
func test_queue_limits_refuse_and_disconnect_discards_the_queue() -> void:
	var ws := _reconnecting_client()
	ws.client.reconnect_delay_initial = 600.0
	ws.client.reconnect_delay_max = 600.0
	ws.client.reconnect_queue_messages = 3
	ws.client.reconnect_queue_bytes = 10
	_connect(ws, "ws://127.0.0.1:%d/" % closed_port())
	if not await wait_for(func(): return ws.has("reconnecting")):
		fail("no reconnecting signal: %s" % [ws.lifecycle()])
		return
	assert_eq(ws.client.send_text("abc"), OK, "send_text(\"abc\") while reconnecting")
	assert_eq(ws.client.send_text("defgh"), OK, "send_text(\"defgh\"): 8 bytes queued")
	assert_eq(error_string(ws.client.send_text("xyz")), error_string(ERR_BUSY), "send_text(\"xyz\"): 11 bytes would be over reconnect_queue_bytes")
	assert_eq(ws.client.get_last_error(), "the reconnect queue has no room for a message of 3 bytes (8 of 10 bytes queued, reconnect_queue_bytes): the message was not sent; send it again once reconnected", "get_last_error() after the bytes limit")
	assert_eq(ws.client.send_text("x"), OK, "send_text(\"x\"): 9 bytes in 3 messages")
	# Queued messages are sent later, not yet: buffered, and not counted as sent.
	assert_eq(ws.client.get_current_outbound_buffered_amount(), 9, "get_current_outbound_buffered_amount() with 9 bytes queued")
	assert_eq(ws.client.get_statistics()["messages_sent"], 0, "get_statistics()[\"messages_sent\"] with 3 messages queued")
	assert_eq(error_string(ws.client.send_text("y")), error_string(ERR_BUSY), "send_text(\"y\"): a 4th message is over reconnect_queue_messages")
	assert_eq(ws.client.get_last_error(), "the reconnect queue is full (3 messages, reconnect_queue_messages): the message was not sent; send it again once reconnected", "get_last_error() after the count limit")
	ws.client.disconnect_from_host()
	if not await wait_for(func(): return ws.has("reconnect_queue_discarded")):
		fail("no reconnect_queue_discarded after disconnect_from_host(): %s" % [ws.lifecycle()])
		return
	assert_signal(ws, "reconnect_queue_discarded", [3])
	assert_eq(ws.client.get_current_outbound_buffered_amount(), 0, "get_current_outbound_buffered_amount() once the queue was discarded")
	assert_eq(ws.lifecycle(), ["connection_error", "reconnecting", "connection_closed", "reconnect_queue_discarded"] as Array[String], "signals")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state")
	note("queue limits refused with ERR_BUSY; disconnect discarded 3 queued messages")
