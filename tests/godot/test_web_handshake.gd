extends "test_handshake.gd"
## test_handshake.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer):
## the same assertions, except the browser limits overridden below.


func _init() -> void:
	web_path = true


# ---- Browser limits ------------------------------------------------------------------------------
# Each override below tests what the web path does instead, and README "Web export" lists it.


## A browser does not say why an upgrade failed: no sub-protocol accepted reads as any failed
## attempt. Godot's desktop WebSocketPeer also prints it as engine errors, expected here.
func test_subprotocol_none_accepted_fails_the_connection() -> void:
	var url := py_url("/subprotocol")
	var ws := start(url, PackedStringArray(["chat.v2"]))
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.lifecycle(), ["connection_error"] as Array[String], "signals")
	assert_eq(ws.client.get_last_error(), WEB_FAILED_ATTEMPT % url, "get_last_error()")
	assert_eq(ws.client.get_selected_protocol(), "", "get_selected_protocol()")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state")
	drop_expected_errors(["Requested sub-protocol(s) but received none", "Invalid response headers"])
	note("web path: offered [chat.v2] → connection_error: " + ws.client.get_last_error())


## A page's WebSocket sends no headers of its own: connect_to_url() refuses them and connects
## nowhere.
func test_custom_headers_reach_the_server() -> void:
	var ws := watch(make_client())
	var error: Error = ws.client.connect_to_url(py_url("/headers"), PackedStringArray(), false, PackedStringArray(["X-Token: abc", "X-Other: 1"]))
	assert_eq(error_string(error), error_string(ERR_UNAVAILABLE), "connect_to_url() with custom headers")
	assert_begins(ws.client.get_last_error(), "custom headers (X-Token: abc, X-Other: 1) cannot be sent from a browser", "get_last_error()")
	await wait_frames(5)
	assert_eq(ws.lifecycle(), [] as Array[String], "signals after the refused call")
	note("web path: custom headers refused with ERR_UNAVAILABLE")
