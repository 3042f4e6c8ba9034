extends "test_reconnect.gd"
## test_reconnect.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer, as a
## web export runs them): the same assertions, except the browser limits overridden below.


func _init() -> void:
	web_path = true


# ---- Browser limits ------------------------------------------------------------------------------
# Each override below tests what the web path does instead, and README "Web export" lists it.


## What a failed attempt says on the web path (a browser does not tell why).
func test_reconnect_to_a_refused_port_gives_up_after_max_attempts() -> void:
	var port := closed_port()
	var ws := _reconnecting_client(3)
	_connect(ws, "ws://127.0.0.1:%d/" % port)
	if not await wait_for(func() -> bool: return ws.has("reconnect_failed")):
		fail("did not give up: %s" % [ws.lifecycle()])
		return
	assert_eq(ws.lifecycle(), [
		"connection_error", "reconnecting", "connection_error", "reconnecting",
		"connection_error", "reconnecting", "connection_error", "reconnect_failed",
	] as Array[String], "signals")
	assert_eq(_attempts(ws), [1, 2, 3], "reconnecting attempts")
	assert_begins(ws.client.get_last_error(), "gave up reconnecting after 3 attempts; the last one failed: cannot connect to ws://127.0.0.1:%d/" % port, "get_last_error()")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after giving up")
	note("web path: reconnect_failed: " + ws.client.get_last_error())
	assert_eq(error_string(ws.client.send_text("x")), error_string(ERR_UNCONFIGURED), "send_text() after giving up")


## A server that says one message and drops the connection in the same frame as the handshake:
## desktop WebSocketPeer shows only "closed, no close frame" and discards the message, so the
## web path sees a failed first attempt; it reconnects all the same, and messages flow again.
func test_dropped_connection_reconnects_and_messages_flow_again() -> void:
	var ws := _reconnecting_client(5, false)
	_connect(ws, py_url("/drop_once?say=before%20the%20drop&id=" + unique_id("drop")))
	if not await wait_for(func() -> bool: return ws.has("reconnected")):
		fail("did not reconnect: %s, %s" % [ws.lifecycle(), ws.client.get_last_error()])
		return
	var lifecycle := ws.lifecycle()
	var ending: String = lifecycle[0] if lifecycle[0] == "connection_error" else lifecycle[1]
	assert_eq(lifecycle.slice(lifecycle.find(ending)), [ending, "reconnecting", "connection_established", "reconnected"] as Array[String], "signals from the drop on")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state after reconnecting")
	assert_eq(ws.client.get_reconnect_count(), 1, "get_reconnect_count()")
	assert_eq(ws.client.get_statistics()["reconnects"], 1, "get_statistics()[\"reconnects\"]")
	var before := ws.client.get_available_packet_count()
	assert_eq(ws.client.send_text("after the drop"), OK, "send_text() once reconnected")
	if not await wait_for(func() -> bool: return ws.client.get_available_packet_count() > before):
		fail("the echo did not arrive")
		return
	var received := _take_texts(ws)
	assert_eq(received.back(), "after the drop", "the echo after reconnecting comes last")
	note("web path: %s; queue %s" % [lifecycle, received])


## A browser sends no headers of its own choosing: the web path's reconnect target takes a URL
## (with the token in its query, say) and refuses headers.
func _retarget(client: MultiplayerPeer, url: String) -> Error:
	var with_header: Error = client.set_reconnect_url(url, PackedStringArray(), PackedStringArray([REFRESHED_HEADER]))
	assert_eq(error_string(with_header), error_string(ERR_UNAVAILABLE), "set_reconnect_url() with a header on the web path")
	return client.set_reconnect_url(url)


func _check_resumed_headers(seen: Dictionary) -> void:
	assert_eq(seen.has("x-token"), false, "no header from the web path")
