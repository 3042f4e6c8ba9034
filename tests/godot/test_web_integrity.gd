extends "test_integrity.gd"
## test_integrity.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer):
## the same messages and digests over ws://, with the receive buffer raised for the 20 MB one.

## Bytes of WebSocketPeer's receive buffer here: a browser's buffer must hold the largest message
## (README "Web export": the smaller of max_message_size and inbound_queue_limit).
const WEB_BUFFER_BYTES := 32 << 20


func _init() -> void:
	web_path = true


func _client(trusted: X509Certificate) -> SignalLog:
	var ws := super(trusted)
	ws.client.max_message_size = WEB_BUFFER_BYTES
	ws.client.inbound_queue_limit = WEB_BUFFER_BYTES
	return ws


# ---- Browser limits ------------------------------------------------------------------------------
# A page cannot trust a certificate of its own (README "Web export"): the wss:// runs check that
# connect_to_url() refuses the test's certificate in words instead.


func test_integrity_random_messages_server_to_client_over_wss() -> void:
	_check_certificate_refused()


func test_integrity_random_messages_client_to_server_over_wss() -> void:
	_check_certificate_refused()


func _check_certificate_refused() -> void:
	var ws := _client(certificate("localhost.crt"))
	var error: Error = ws.client.connect_to_url(py_tls_url("localhost", "/random"))
	assert_eq(error_string(error), error_string(ERR_UNAVAILABLE), "connect_to_url() with trusted_tls_certificate")
	assert_begins(ws.client.get_last_error(), "trusted_tls_certificate cannot be used in a browser", "get_last_error()")
	note("web path: a certificate of the game's own is refused, as in a browser")
