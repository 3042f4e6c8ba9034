extends "test_case.gd"
## The planned hand-over of README "Auto-reconnect" (a service asks the game to move, as Twitch's
## session_reconnect does): a second client opens the new URL, and only once it is open the old
## connection is closed. Nothing is lost across it: what is sent on the old connection up to its
## close reaches the server (the Python peer's /record says what it got), and the new connection
## carries what is sent after. (An echo of the last message on the old connection is no proof:
## the Python peer answers the close frame at once and drops what it was about to echo.)


func test_handover_closes_the_old_connection_once_the_new_one_is_open_and_loses_nothing() -> void:
	var id := unique_id("handover")
	var old := await open(py_url("/record?id=" + id))
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
	assert_eq(new.payloads, ["first on the new connection"], "the new connection's echo")
	assert_eq(new.client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "the new connection stays open")
	var report := await recorded(id)
	var expected := sent_on_old.map(func(text: String) -> String: return "text:" + text)
	assert_eq(report.get("messages"), expected, "what the server got on the old connection: every message, in order")
	assert_eq(report.get("close_code"), 1000, "the old connection's close code, as the server got it")
	assert_eq(report.get("close_reason"), "moved", "the old connection's close reason, as the server got it")
	note("hand-over: %s; the server got %d messages on the old connection, then close 1000" % [order, report.get("messages", []).size()])
