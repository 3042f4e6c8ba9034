extends "test_messages.gd"
## test_messages.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer, as a
## web export runs them): the same assertions, except the browser limits overridden below.


func _init() -> void:
	web_path = true


# ---- Browser limits ------------------------------------------------------------------------------
# Each override below tests what the web path does instead, and README "Web export" lists it.


## WebSocketPeer answers pings only in poll() (a browser only between frames), so a 5 s stall of
## the main thread loses this strict server: it closes with 4008. The native client's background
## thread keeps answering (test_messages.gd).
func test_a_five_second_main_thread_stall_keeps_the_connection_and_every_message() -> void:
	var ws := await open(py_url("/strict_pings?seconds=7"))
	if not ws.is_open():
		return
	OS.delay_msec(5000)
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "server_close_request", [4008, "no pong within 1 s"])
	assert_signal(ws, "connection_closed", [true])
	note("web path: the stall cost the connection (close 4008), as with Godot's own WebSocketPeer")
