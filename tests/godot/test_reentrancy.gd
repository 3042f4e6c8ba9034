extends "test_case.gd"
## Re-entrancy: a signal handler may drop the last reference to the client (`socket = null`) or
## call connect_to_url, disconnect_from_host, send_text or poll on it, for every signal, without
## a crash or an error; a dropped client closes as freeing does.
##
## The client under test is held only by [member socket] (not by the test helpers), so the
## "free" action really releases it; the test polls it itself.

## What a handler does to the client.
const ACTIONS: Array[String] = ["free", "connect_to_url", "disconnect_from_host", "send", "poll"]
## Each signal's argument count (the handler ignores them).
const ARGUMENTS := {
	"connection_established": 1,
	"message_received": 2,
	"data_received": 0,
	"server_close_request": 2,
	"connection_closed": 1,
	"connection_error": 0,
	"reconnecting": 2,
	"reconnected": 0,
	"reconnect_failed": 0,
}
## Seconds between reconnect attempts here, so the reconnect signals come quickly.
const RECONNECT_DELAY_S := 0.05

## The client under test; the only reference to it.
var socket: MultiplayerPeer
## Set once the handler acted.
var _acted := false
## What the action returned (an error name), or "" when it returns nothing.
var _result := ""
## get_last_error() right after the action (a later event of the same poll may replace it).
var _error_after := ""


func test_reentrancy_connection_established() -> void:
	await _check_every_action("connection_established")


func test_reentrancy_message_received() -> void:
	await _check_every_action("message_received")


func test_reentrancy_data_received() -> void:
	await _check_every_action("data_received")


func test_reentrancy_server_close_request() -> void:
	await _check_every_action("server_close_request")


func test_reentrancy_connection_closed() -> void:
	await _check_every_action("connection_closed")


func test_reentrancy_connection_error() -> void:
	await _check_every_action("connection_error")


func test_reentrancy_reconnecting() -> void:
	await _check_every_action("reconnecting")


func test_reentrancy_reconnected() -> void:
	await _check_every_action("reconnected")


func test_reentrancy_reconnect_failed() -> void:
	await _check_every_action("reconnect_failed")


## The issue's repro: `socket = null` in connection_error, then the game goes on polling `if
## socket`; and in connection_established, after sending a message, which the server still
## gets, followed by close code 1001 (going away) as when any open client is freed.
func test_reentrancy_freeing_in_a_handler_closes_as_freeing_does() -> void:
	var id := unique_id("free-in-handler")
	socket = make_unmanaged_client()
	var freed: WeakRef = weakref(socket)
	socket.connection_established.connect(_send_then_free.unbind(1))
	assert_eq(socket.connect_to_url(py_url("/record?id=" + id)), OK, "connect_to_url()")
	await wait_for(func(): return _poll_socket() == null)
	assert_true(freed.get_ref() == null, "the client was freed once the handler let go of it")
	var report: Dictionary = await recorded(id)
	if report.is_empty():
		return
	assert_eq(report["messages"], ["text:sent from the handler"], "messages the server received")
	assert_eq(report["close_code"], 1001, "close code the server received (going away)")
	note("freed in connection_established: the server got the message, then close %s" % report["close_code"])


func _send_then_free() -> void:
	socket.send_text("sent from the handler")
	socket = null


## Runs each action from the first emission of signal_name, on a fresh client each time.
func _check_every_action(signal_name: String) -> void:
	var outcomes: Array[String] = []
	for action in ACTIONS:
		if aborted:
			return
		outcomes.append("%s: %s" % [action, await _check(signal_name, action)])
	note("%s handler: %s" % [signal_name, ", ".join(outcomes)])


## Makes signal_name fire on a fresh client whose handler does action; checks the handler ran
## and the client is then freed (free) or still usable. Returns what the action returned.
func _check(signal_name: String, action: String) -> String:
	_acted = false
	_result = ""
	_error_after = ""
	socket = make_unmanaged_client()
	var freed: WeakRef = weakref(socket)
	var url := _arrange(signal_name)
	var handler := _act.bind(action)
	if ARGUMENTS[signal_name] > 0:
		handler = handler.unbind(ARGUMENTS[signal_name])
	socket.connect(signal_name, handler)
	assert_eq(socket.connect_to_url(url), OK, "connect_to_url(%s) for %s" % [url, signal_name])
	var what := "%s in a %s handler" % [action, signal_name]
	if not await wait_for(func(): _poll_socket(); return _acted):
		fail("%s: the signal was not emitted (state %d, %s)" % [what, socket.get_ready_state(), socket.get_last_error()])
	elif action == "free":
		assert_true(socket == null, "%s: socket is null" % what)
		assert_true(freed.get_ref() == null, "%s: the client was freed once the handler let go of it" % what)
	elif _result != "" and _result != error_string(OK):
		assert_true(_error_after != "", "%s returned %s with an empty get_last_error()" % [what, _result])
	# The client goes on working: polled until it ends, then closed and let go of.
	if socket != null:
		socket.auto_reconnect = false
		await wait_for(func():
			_poll_socket()
			return socket.get_ready_state() == RustWebSocketClient.STATE_CLOSED or socket.get_ready_state() == RustWebSocketClient.STATE_OPEN, 2.0)
		socket.disconnect_from_host()
		await wait_for(func():
			_poll_socket()
			return socket.get_ready_state() == RustWebSocketClient.STATE_CLOSED)
		socket = null
	return _result if _result != "" else "ok"


## Sets the client up so signal_name fires; returns the URL to connect to.
func _arrange(signal_name: String) -> String:
	match signal_name:
		"message_received", "data_received":
			socket.connection_established.connect(_send_ping.unbind(1))
			return py_url("/echo")
		"server_close_request", "connection_closed":
			return py_url("/close?code=4001&reason=bye")
		"connection_error":
			return "ws://127.0.0.1:%d/" % closed_port()
		"reconnecting", "reconnect_failed":
			socket.auto_reconnect = true
			socket.reconnect_delay_initial = RECONNECT_DELAY_S
			socket.reconnect_max_attempts = 1
			return "ws://127.0.0.1:%d/" % closed_port()
		"reconnected":
			socket.auto_reconnect = true
			socket.reconnect_delay_initial = RECONNECT_DELAY_S
			return py_url("/drop_once?id=" + unique_id("reentrancy"))
	return py_url("/echo")


func _send_ping() -> void:
	socket.send_text("ping")


## The handler: does action once.
func _act(action: String) -> void:
	if _acted:
		return
	_acted = true
	match action:
		"free":
			socket = null
		"connect_to_url":
			_result = error_string(socket.connect_to_url(py_url("/echo")))
		"disconnect_from_host":
			socket.disconnect_from_host()
		"send":
			_result = error_string(socket.send_text("from a handler"))
		"poll":
			socket.poll()
	if socket != null:
		_error_after = socket.get_last_error()


## Polls the client if there is one; returns it.
func _poll_socket() -> MultiplayerPeer:
	if socket != null:
		socket.poll()
	return socket
