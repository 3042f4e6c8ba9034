extends "test_case.gd"
## The planned hand-over of README "Auto-reconnect" (a service asks the game to move, as Twitch's
## session_reconnect does): a second client opens the new URL, and only once it is open the old
## connection is closed. Nothing is lost across it: what is sent on the old connection up to its
## close still reaches the server, and what the server sends back on it still reaches the game.


func test_handover_closes_the_old_connection_once_the_new_one_is_open_and_loses_nothing() -> void:
	var old := await open(py_url("/echo"))
	if not old.is_open():
		return
	# In signal order, from both clients: the new one's opening must come before the old one's end.
	var order: Array[String] = []
	old.client.connection_closed.connect(func(_clean: bool) -> void: order.append("old closed"))
	var sent_on_old: Array[String] = ["before the move 1", "before the move 2", "before the move 3"]
	for text in sent_on_old:
		assert_eq(error_string(old.client.send_text(text)), error_string(OK), "send_text(\"%s\") on the old connection" % text)
	var new := watch(make_client())
	var handed_over: Array[Error] = []
	# The hand-over, as the README's _hand_over(): the last message on the old connection, its
	# close, then the first message on the new one, all from the new one's opening.
	new.client.connection_established.connect(func(_protocol: String) -> void:
		order.append("new open")
		handed_over.append(old.client.send_text("last on the old connection"))
		old.client.disconnect_from_host(1000, "moved")
		handed_over.append(new.client.send_text("first on the new connection")))
	assert_eq(error_string(new.client.connect_to_url(py_url("/echo"))), error_string(OK), "connect_to_url() of the new client")
	sent_on_old.append("last on the old connection")
	if not await wait_for(func() -> bool: return old.ended() and new.payloads.size() >= 1):
		fail("the hand-over did not finish: old %s, new %s, %s" % [old.lifecycle(), new.lifecycle(), order])
		return
	assert_eq(handed_over, [OK, OK] as Array[Error], "send_text() on the old, then on the new connection")
	assert_eq(order, ["new open", "old closed"] as Array[String], "the new connection opened before the old one closed")
	assert_eq(old.lifecycle(), ["connection_established", "connection_closed"] as Array[String], "the old connection's signals")
	assert_signal(old, "connection_closed", [true])
	assert_eq(old.client.get_close_code(), 1000, "the old connection's close code")
	assert_eq(old.payloads, sent_on_old, "every message sent on the old connection came back on it, in order, before it closed")
	assert_eq(new.payloads, ["first on the new connection"], "the new connection's echo")
	assert_eq(new.client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "the new connection stays open")
	note("hand-over: %s; old echoed %d messages, closed %d" % [order, old.payloads.size(), old.client.get_close_code()])
