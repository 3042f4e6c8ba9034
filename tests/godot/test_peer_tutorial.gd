extends "peer_case.gd"
## The minimal client of Godot's WebSocket tutorial (peer_tutorial_client.gd), ported by
## renaming WebSocketPeer to RustWebSocketPeer, runs against a real echo server over ws:// and
## over wss:// trusting, through TLSOptions.client(), a certificate made by Godot's Crypto.

const TutorialClient := preload("peer_tutorial_client.gd")
const TlsServer := preload("tls_server.gd")

## What the tutorial prints for one echoed text and a clean close.
const TRANSCRIPT: Array[String] = [
	"> Sending test packet.",
	"< Got text data from server: Test packet",
	"WebSocket closed with code: 1000. Clean: true",
]


func test_peer_tutorial_client_over_ws() -> void:
	await _run_tutorial(py_url("/echo"), null)


func test_peer_tutorial_client_over_wss_with_a_crypto_made_certificate() -> void:
	# godot_crypto.crt: made by Crypto.generate_self_signed_certificate() (make_godot_certificate.gd)
	# and served by the Python peer; TLSOptions.client() trusts it, as Godot's docs show.
	var trusted := certificate("godot_crypto.crt")
	if trusted == null:
		return
	await _run_tutorial(py_tls_url("godot_crypto"), TLSOptions.client(trusted))


func test_peer_tutorial_client_over_wss_with_a_certificate_crypto_makes_in_the_game() -> void:
	# The whole round in the game: Crypto makes the key and certificate, Godot's own TLS server
	# serves them, and the tutorial client trusts the same X509Certificate object.
	var server: TlsServer = add_node(TlsServer.new())
	var cert := server.listen_with_crypto_certificate()
	if not assert_true(cert != null, "Godot TLS server listens with a certificate Crypto made"):
		return
	await tree.process_frame
	await _run_tutorial("wss://localhost:%d/" % server.port, TLSOptions.client(cert))


func _run_tutorial(url: String, tls_options: TLSOptions) -> void:
	var client: TutorialClient = TutorialClient.new()
	client.websocket_url = url
	client.tls_options = tls_options
	add_node(client)
	var done := await wait_for(func(): return not client.is_processing())
	var expected := PackedStringArray(["Connecting to %s..." % url])
	expected.append_array(PackedStringArray(TRANSCRIPT))
	assert_eq("\n".join(client.lines), "\n".join(expected), "what the tutorial printed (done: %s, last error: %s)" % [done, client.socket.get_last_error()])
