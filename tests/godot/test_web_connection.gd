extends "test_connection.gd"
## test_connection.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer, as a
## web export runs them): the same assertions, except the browser limits overridden below.


func _init() -> void:
	web_path = true


# ---- Browser limits ------------------------------------------------------------------------------
# Each override below tests what the web path does instead, and README "Web export" lists it.

func test_connection_refused_names_the_address() -> void:
	var url := "ws://127.0.0.1:%d/" % closed_port()
	await _check_failed_attempt(url)


func test_unknown_host_names_the_host() -> void:
	await _check_failed_attempt("ws://nosuch.invalid/", 15.0)


## Godot's desktop WebSocketPeer also prints the refused status as engine errors, which are
## expected here (a browser prints the refusal in its console instead).
func test_refused_upgrade_reports_the_http_status() -> void:
	var ws: SignalLog = await _check_failed_attempt(py_url("/no/such/path"))
	assert_eq(ws.client.get_handshake_response_status(), 0, "get_handshake_response_status() (a browser does not tell)")
	drop_expected_errors(["Invalid status code", "Invalid response headers"])


func _check_failed_attempt(url: String, timeout_s := WAIT_S) -> SignalLog:
	var ws := start(url)
	if not await wait_until_ended(ws, timeout_s):
		return ws
	assert_eq(ws.lifecycle(), ["connection_error"] as Array[String], "signals")
	assert_eq(ws.client.get_last_error(), WEB_FAILED_ATTEMPT % url, "get_last_error()")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after the failure")
	assert_eq(ws.client.get_connected_host(), "", "get_connected_host() after the failure")
	note("web path: connection_error: " + ws.client.get_last_error())
	return ws


## A browser's WebSocket sends no headers of the page's: every custom header, well-formed or
## not, is refused at once with ERR_UNAVAILABLE and the reason, and nothing is connected.
func test_malformed_custom_headers_are_refused() -> void:
	var client := make_client()
	var ws := watch(client)
	for header in ["no colon", "X-Token: fine"]:
		var error: Error = client.connect_to_url(py_url("/headers"), PackedStringArray(), false, PackedStringArray([header]))
		assert_eq(error_string(error), error_string(ERR_UNAVAILABLE), "connect_to_url() with header %s" % show(header))
		assert_begins(client.get_last_error(), "custom headers (%s) cannot be sent from a browser" % header, "get_last_error()")
		assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after header %s" % show(header))
	await wait_frames(5)
	assert_eq(ws.lifecycle(), [] as Array[String], "signals after refused calls")
	assert_eq(error_string(client.connect_to_url(py_url("/headers"))), error_string(OK), "connect_to_url() without headers afterwards")
	await wait_until_open(ws)
	note("web path: " + "custom headers refused: ERR_UNAVAILABLE")


## What a browser cannot do is refused with ERR_UNAVAILABLE and a sentence naming the setting.
func test_web_path_refuses_what_a_browser_cannot_do() -> void:
	var cases := {
		"proxy_url": ["http://127.0.0.1:3128", "proxy_url cannot be used in a browser"],
		"verify_tls": [false, "verify_tls = false is not possible in a browser"],
		"tls_server_name": ["game.example.com", "tls_server_name cannot be used in a browser"],
		"tls_client_key": [CryptoKey.new(), "tls_client_key cannot be used in a browser"],
	}
	for setting: String in cases:
		var client := make_client()
		client.set(setting, cases[setting][0])
		var error: Error = client.connect_to_url("wss://localhost:9/")
		assert_eq(error_string(error), error_string(ERR_UNAVAILABLE), "connect_to_url() with %s set" % setting)
		assert_begins(client.get_last_error(), cases[setting][1], "get_last_error() with %s set" % setting)
		note("%s → %s" % [setting, client.get_last_error()])


## heartbeat_interval is ignored with a warning (the connection still works): a page cannot ping.
func test_web_path_warns_that_heartbeat_is_ignored() -> void:
	var client := make_client()
	var ws := watch(client)
	client.heartbeat_interval = 0.2
	client.connect_to_url(godot_url("/"))
	if not await wait_until_open(ws):
		return
	if can_see_warnings():
		assert_true(Array(warnings()).any(func(w: String) -> bool: return w.contains("heartbeat_interval is ignored")), "a warning names heartbeat_interval: %s" % [warnings()])
	client.send_text("still works")
	await wait_for(func() -> bool: return ws.payloads.size() >= 1)
	assert_eq(ws.payloads, ["still works"], "echo with heartbeat_interval set")
	assert_eq(client.get_round_trip_time(), 0.0, "get_round_trip_time() (no pings)")
