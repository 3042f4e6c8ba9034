extends "test_bad_input.gd"
## test_bad_input.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer).


func _init() -> void:
	web_path = true


# ---- Browser limits ------------------------------------------------------------------------------


## A page's WebSocket sends no headers of its own (README "Web export"): malformed ones are
## refused as any custom header is, with ERR_UNAVAILABLE and the browser's sentence, and nothing
## is sent.
func test_bad_input_header_injection_and_non_ascii_headers_are_refused() -> void:
	for header in ["X-A: a\nInjected: 1", "X-A: a\rInjected: 1", "X-A: café", "X-é: v", "Na me: v", ": v", "Upgrade: h2c"]:
		var client := make_client()
		var error: Error = client.connect_to_url(misbehaving_url("/silent"), PackedStringArray(), false, PackedStringArray([header]))
		assert_eq(error_string(error), error_string(ERR_UNAVAILABLE), "connect_to_url() with %s" % show(header))
		assert_begins(client.get_last_error(), "custom headers (%s) cannot be sent from a browser" % header, "get_last_error() for %s" % show(header))
		assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after %s" % show(header))
	note("web path: each malformed header refused as custom headers are in a browser")


## A browser does not say in which phase an attempt was (README "Web export"): the timeout's
## sentence names the URL and the clamped timeout instead of the address and the phase.
func _check_timed_out_at_zero(error: String, url: String) -> void:
	assert_eq(error, "the connection to %s did not open within 0.0 s (handshake_timeout)" % url, "get_last_error()")
