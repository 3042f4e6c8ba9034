extends "test_case.gd"
## wss://: trust (trusted_tls_certificate, a private CA, several anchors), the host name check and
## its override, verify_tls = false, and how each TLS failure is reported, against Godot's own TLS
## server (tls_server.gd, in this process) and Python's ssl (py_server.py --tls-dir). The
## certificates are made fresh by `cargo xtask test` in res://tests/certs/ (rust/xtask/src/certs.rs).

const TlsServer := preload("tls_server.gd")

## 1 MiB: more than a TLS record, a WebSocket frame header's 16-bit length and Godot's default
## WebSocketPeer buffers.
const MIB := 1 << 20

## The development certificates users bring, by the name the Python server serves them under (see
## rust/xtask/src/certs.rs): Godot's Crypto.generate_self_signed_certificate(key,
## "CN=localhost,O=Game,C=US"), and openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost
## without and with -addext subjectAltName=DNS:localhost. All three are CA:TRUE; the first two name
## localhost only in their common name.
const USER_MADE: Array[String] = ["godot_crypto", "openssl_cn", "openssl_san"]

const LOCALHOST_NOT_127 := "TLS handshake with 127.0.0.1 failed: the certificate is valid for localhost, not 127.0.0.1; connect to one of those names, or set tls_server_name to one"

const CLIENT_CERTIFICATE_REQUIRED := "TLS handshake with localhost failed: the server requires a client certificate: set tls_client_certificate and tls_client_key"

const SELF_SIGNED_LOCALHOST := "TLS handshake with localhost failed: the certificate for localhost is not trusted (self-signed); to accept it, set trusted_tls_certificate to this certificate"


# ---- Godot's TLS server ------------------------------------------------------------------------


func test_godot_tls_server_trusted_certificate_opens_and_carries_a_mib_both_ways() -> void:
	var server := await _godot_tls_server()
	if server == null:
		return
	var ws := watch(make_client())
	ws.client.trusted_tls_certificate = certificate("localhost.crt")
	var url := "wss://localhost:%d/" % server.port
	assert_eq(error_string(ws.client.connect_to_url(url)), error_string(OK), "connect_to_url(\"%s\")" % url)
	if not await wait_until_open(ws):
		return
	assert_signal(ws, "connection_established", [""])
	var version: String = ws.client.get_tls_version()
	var cipher_suite: String = ws.client.get_tls_cipher_suite()
	assert_true(not version.is_empty(), "get_tls_version() must not be empty on an open wss:// connection")
	assert_true(not cipher_suite.is_empty(), "get_tls_cipher_suite() must not be empty on an open wss:// connection")
	note("Godot TLS server: %s, %s" % [version, cipher_suite])
	await echo_text(ws, "hello over Godot's TLS")
	await _echo_mib(ws)
	assert_eq(server.opened, 1, "connections the Godot server saw open")


func test_godot_tls_server_self_signed_is_rejected_without_trust() -> void:
	var server := await _godot_tls_server()
	if server == null:
		return
	# Godot's server prints "mbedtls error: returned -0x7780" (the client's fatal alert) on stderr;
	# that is not an error report, so it does not fail the test.
	var ws := start("wss://localhost:%d/" % server.port)
	await _expect_failure(ws, SELF_SIGNED_LOCALHOST)
	# Let the server see the aborted handshake through (what it reports of it is checked too).
	if not await wait_for(func(): return server.accepted == 1 and server.connections() == 0, 5.0):
		fail("the Godot server still holds %d of %d connections 5 s after the client gave up" % [server.connections(), server.accepted])
	assert_eq(server.opened, 0, "connections the Godot server saw open")


# ---- Python's ssl ------------------------------------------------------------------------------


func test_python_tls_trusted_certificate_opens_with_tls_1_3_and_carries_a_mib_both_ways() -> void:
	var ws := await _open_trusting(py_tls_url("localhost"), "localhost.crt")
	if ws == null:
		return
	assert_signal(ws, "connection_established", [""])
	assert_eq(ws.client.get_tls_version(), "TLS 1.3", "get_tls_version()")
	assert_begins(ws.client.get_tls_cipher_suite(), "TLS13_", "get_tls_cipher_suite()")
	assert_eq(ws.client.get_connected_host(), "127.0.0.1", "get_connected_host() of wss://localhost")
	note("Python ssl: %s, %s" % [ws.client.get_tls_version(), ws.client.get_tls_cipher_suite()])
	await echo_text(ws, "hello over Python's ssl")
	await _echo_mib(ws)


func test_python_tls_self_signed_is_rejected_without_trust() -> void:
	var ws := start(py_tls_url("localhost"))
	await _expect_failure(ws, SELF_SIGNED_LOCALHOST)


func test_python_tls_certificate_for_another_name_is_rejected_naming_both() -> void:
	var ws := _start_trusting(py_tls_url("example", "/echo", "127.0.0.1"), "example.crt")
	await _expect_failure(ws, "TLS handshake with 127.0.0.1 failed: the certificate is valid for example.com, not 127.0.0.1; connect to one of those names, or set tls_server_name to one")


func test_python_tls_server_name_override_verifies_that_name() -> void:
	var client := make_client()
	client.tls_server_name = "example.com"
	var ws := await _open_trusting(py_tls_url("example", "/echo", "127.0.0.1"), "example.crt", client)
	if ws == null:
		return
	await echo_text(ws, "verified for example.com")
	note("wss://127.0.0.1 verified as example.com: %s" % ws.client.get_tls_version())


func test_python_tls_expired_certificate_is_rejected_with_its_date() -> void:
	var ws := _start_trusting(py_tls_url("expired"), "expired.crt")
	await _expect_failure(ws, "TLS handshake with localhost failed: the certificate for localhost expired on 2020-01-01; renew it on the server (or check this computer's clock)")


func test_python_tls_verification_off_accepts_any_certificate_with_a_warning() -> void:
	# A certificate for another name, then an expired one: neither is trusted, both open.
	for entry in [["example", "127.0.0.1"], ["expired", "localhost"]]:
		var client := make_client()
		client.verify_tls = false
		assert_eq(client.verify_tls, false, "verify_tls after setting it to false")
		var ws := watch(client)
		var url := py_tls_url(entry[0], "/echo", entry[1])
		var before := warnings().size()
		assert_eq(error_string(client.connect_to_url(url)), error_string(OK), "connect_to_url(\"%s\")" % url)
		if can_see_warnings():
			var expected := "RustWebSocketClient: TLS certificates are not verified for %s (verify_tls = false). Use this for development only." % entry[1]
			assert_eq(Array(warnings().slice(before)), [expected], "warnings printed by connect_to_url(\"%s\")" % url)
		if not await wait_until_open(ws):
			return
		await echo_text(ws, "unverified " + entry[0])
		note("%s with verify_tls = false: open (%s)" % [url, client.get_tls_version()])


func test_python_tls_private_ca_verifies_its_server() -> void:
	var ws := await _open_trusting(py_tls_url("ca_server"), "ca.crt")
	if ws == null:
		return
	await echo_text(ws, "verified through the private CA")


func test_python_tls_private_ca_among_several_trusted_certificates() -> void:
	# anchors.crt: an unrelated CA, then the private CA. Every certificate of the file must count.
	var anchors := certificate("anchors.crt")
	var ws := await _open_trusting(py_tls_url("ca_server"), "anchors.crt")
	if ws == null:
		_explain_chain_loss(anchors, "anchors.crt")
		return
	await echo_text(ws, "verified through the second of several anchors")


func test_python_tls_certificate_from_another_issuer_is_rejected() -> void:
	var ws := _start_trusting(py_tls_url("ca_server"), "localhost.crt")
	await _expect_failure(ws, "TLS handshake with localhost failed: the certificate for localhost is not trusted (unknown issuer): neither it nor its issuer is in trusted_tls_certificate; add the CA that issued it, or the certificate itself")


func test_plain_server_answering_a_wss_url_is_named_as_such() -> void:
	var ws := start("wss://127.0.0.1:%d/echo" % py_port)
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.lifecycle(), ["connection_error"] as Array[String], "signals")
	var error: String = ws.client.get_last_error()
	assert_begins(error, "TLS handshake with 127.0.0.1 failed: ", "get_last_error()")
	assert_ends(error, "(is it a plain ws:// server?)", "get_last_error()")
	note("connection_error: " + error)


func test_trusted_certificate_change_applies_to_the_next_connection() -> void:
	var ws := await _open_trusting(py_tls_url("localhost"), "localhost.crt")
	if ws == null:
		return
	var client := ws.client
	client.trusted_tls_certificate = null
	assert_eq(client.trusted_tls_certificate, null, "trusted_tls_certificate after setting it to null")
	await echo_text(ws, "still trusted")
	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state after the change")
	assert_eq(ws.lifecycle(), ["connection_established"] as Array[String], "signals while open")
	client.disconnect_from_host()
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_closed", [true])
	assert_eq(error_string(client.connect_to_url(py_tls_url("localhost"))), error_string(OK), "second connect_to_url()")
	var failed := func(): return ws.count("connection_error") > 0 or ws.count("connection_established") > 1
	if not await wait_for(failed):
		fail("the second connection neither opened nor failed within %.0f s" % WAIT_S)
		return
	assert_eq(ws.lifecycle(), ["connection_established", "connection_closed", "connection_error"] as Array[String], "signals")
	assert_eq(client.get_last_error(), SELF_SIGNED_LOCALHOST, "get_last_error() of the second connection")
	note("trusted → open → trusted_tls_certificate = null → still open → reconnect: " + client.get_last_error())


# ---- Certificates as users make them -----------------------------------------------------------


func test_user_made_certificates_pinned_open_on_python_tls() -> void:
	for identity in USER_MADE:
		var ws := await _open_trusting(py_tls_url(identity), identity + ".crt")
		if ws == null:
			fail("%s.crt pinned did not open" % identity)
			return
		await echo_text(ws, "pinned " + identity)
		note("%s pinned: open (%s)" % [identity, ws.client.get_tls_version()])
		ws.client.disconnect_from_host()


func test_user_made_certificates_not_pinned_are_not_trusted() -> void:
	for identity in USER_MADE:
		await _expect_failure(start(py_tls_url(identity)), SELF_SIGNED_LOCALHOST)


func test_user_made_certificates_pinned_to_another_are_not_trusted() -> void:
	for identity in USER_MADE:
		var other := "openssl_san" if identity != "openssl_san" else "openssl_cn"
		await _expect_failure(_start_trusting(py_tls_url(identity), other + ".crt"), SELF_SIGNED_LOCALHOST)


func test_user_made_certificates_pinned_are_still_checked_for_the_host() -> void:
	for identity in USER_MADE:
		var url := py_tls_url(identity, "/echo", "127.0.0.1")
		await _expect_failure(_start_trusting(url, identity + ".crt"), LOCALHOST_NOT_127)
		var client := make_client()
		client.tls_server_name = "localhost"
		var ws := await _open_trusting(url, identity + ".crt", client)
		if ws == null:
			fail("%s.crt pinned with tls_server_name = localhost did not open" % identity)
			return
		ws.client.disconnect_from_host()


func test_user_made_certificates_pinned_open_on_godot_tls_server() -> void:
	for identity in USER_MADE:
		var server := await _godot_tls_server(identity)
		if server == null:
			return
		var ws := await _open_trusting("wss://localhost:%d/" % server.port, identity + ".crt")
		if ws == null:
			fail("%s.crt pinned did not open on Godot's TLS server" % identity)
			return
		await echo_text(ws, "pinned %s on Godot's TLS server" % identity)
		ws.client.disconnect_from_host()


func test_certificate_made_by_crypto_in_the_game_opens_pinned_on_godot_tls_server() -> void:
	# As Godot's docs show, with the objects themselves (no file): the server's TLSOptions and the
	# client's trusted_tls_certificate hold the same X509Certificate.
	var server: TlsServer = add_node(TlsServer.new())
	var cert := server.listen_with_crypto_certificate()
	if not assert_true(cert != null, "Godot TLS server listens with a certificate Crypto made"):
		return
	await tree.process_frame
	var client := make_client()
	client.trusted_tls_certificate = cert
	var ws := watch(client)
	assert_eq(error_string(client.connect_to_url("wss://localhost:%d/" % server.port)), error_string(OK), "connect_to_url()")
	if not await wait_until_open(ws):
		return
	await echo_text(ws, "pinned Crypto certificate")
	# Not pinned, it is refused like the other self-signed ones (test_godot_tls_server_self_signed_*
	# and test_user_made_certificates_*); not repeated here, where Godot's server would report the
	# aborted handshake as an engine error while the test still runs.


# ---- Client certificates (mutual TLS) ------------------------------------------------------------


func test_client_certificate_the_server_requires_opens() -> void:
	var client := _client_with_certificate("client.crt", "client.key")
	var ws := await _open_trusting(py_tls_url("mtls"), "localhost.crt", client)
	if ws == null:
		return
	await echo_text(ws, "mutual TLS")


func test_client_certificate_required_but_not_set_says_so() -> void:
	await _expect_failure(_start_trusting(py_tls_url("mtls"), "localhost.crt"), CLIENT_CERTIFICATE_REQUIRED)


func test_client_certificate_the_server_does_not_trust_is_reported() -> void:
	var client := _client_with_certificate("stranger.crt", "stranger.key")
	var ws := _start_trusting(py_tls_url("mtls"), "localhost.crt", client)
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.lifecycle(), ["connection_error"] as Array[String], "signals")
	var error: String = ws.client.get_last_error()
	assert_begins(error, "TLS handshake with localhost failed: the server rejected the client certificate (", "get_last_error()")
	assert_ends(error, "); check that the server trusts tls_client_certificate's issuer and that it is valid", "get_last_error()")
	note("connection_error: " + error)


func test_client_certificate_settings_that_cannot_work_are_refused_at_connect() -> void:
	var cases := [
		["client.crt", "", "invalid TLS settings: tls_client_certificate is set but tls_client_key is not: set the certificate's private key too (or neither)"],
		["", "client.key", "invalid TLS settings: tls_client_key is set but tls_client_certificate is not: set the key's certificate too (or neither)"],
		["client.crt", "stranger.key", "invalid TLS settings: tls_client_key is not the private key of tls_client_certificate: set the key the certificate was made with"],
	]
	for entry in cases:
		var client := _client_with_certificate(entry[0], entry[1])
		var ws := watch(client)
		assert_eq(error_string(client.connect_to_url(py_tls_url("mtls"))), error_string(ERR_INVALID_PARAMETER), "connect_to_url() with %s + %s" % [entry[0], entry[1]])
		assert_eq(client.get_last_error(), entry[2], "get_last_error() with %s + %s" % [entry[0], entry[1]])
		assert_eq(ws.lifecycle(), [] as Array[String], "signals")
		note(client.get_last_error())


# ---- Timeout -----------------------------------------------------------------------------------


func test_tls_handshake_timeout_says_during_the_tls_handshake() -> void:
	# A TCP server that accepts and never says a word: the TLS handshake never completes.
	var silent := TCPServer.new()
	assert_eq(error_string(silent.listen(0, "127.0.0.1")), error_string(OK), "listen()")
	var port := silent.get_local_port()
	var held: Array[StreamPeerTCP] = []
	var client := make_client()
	client.handshake_timeout = 0.5
	var ws := watch(client)
	var started := Time.get_ticks_msec()
	assert_eq(error_string(client.connect_to_url("wss://127.0.0.1:%d/" % port)), error_string(OK), "connect_to_url()")
	var ended := func():
		while silent.is_connection_available():
			held.append(silent.take_connection())
		return client.get_ready_state() == RustWebSocketClient.STATE_CLOSED and ws.ended()
	var done := await wait_for(ended, 5.0)
	var seconds := (Time.get_ticks_msec() - started) / 1000.0
	silent.stop()
	held.clear()
	if not done:
		fail("the connection did not end within 5 s (handshake_timeout = 0.5)")
		return
	assert_eq(ws.lifecycle(), ["connection_error"] as Array[String], "signals")
	assert_eq(client.get_last_error(), "connection to 127.0.0.1:%d was not open after 0.5 s (handshake timeout, during the TLS handshake)" % port, "get_last_error()")
	assert_true(seconds >= 0.45 and seconds < 3.0, "the timeout must strike after about 0.5 s, took %.2f s" % seconds)
	note("after %.2f s: %s" % [seconds, client.get_last_error()])


# ---- Helpers -----------------------------------------------------------------------------------


## Godot's TLS echo server with res://tests/certs/<identity>.*, in the tree until teardown.
func _godot_tls_server(identity := "localhost") -> TlsServer:
	var server: TlsServer = add_node(TlsServer.new())
	var error := server.listen("res://tests/certs/%s.key" % identity, "res://tests/certs/%s.crt" % identity)
	if not assert_eq(error_string(error), error_string(OK), "Godot TLS server listen()"):
		return null
	await tree.process_frame
	return server


## A watched client (client, or a new one) trusting res://tests/certs/<trusted>, connecting to url.
func _start_trusting(url: String, trusted: String, client: RustWebSocketClient = null) -> SignalLog:
	var ws := watch(client if client != null else make_client())
	ws.client.trusted_tls_certificate = certificate(trusted)
	var error: Error = ws.client.connect_to_url(url)
	assert_eq(error_string(error), error_string(OK), "connect_to_url(\"%s\") result" % url)
	return ws


## Like _start_trusting, then waits for the connection to open; null (and a failure) if it does not.
func _open_trusting(url: String, trusted: String, client: RustWebSocketClient = null) -> SignalLog:
	var ws := _start_trusting(url, trusted, client)
	if await wait_until_open(ws):
		return ws
	return null


## A new client presenting res://tests/certs/<certificate> and <key> (either may be "": unset).
func _client_with_certificate(certificate_file: String, key_file: String) -> RustWebSocketClient:
	var client := make_client()
	if not certificate_file.is_empty():
		client.tls_client_certificate = certificate(certificate_file)
	if not key_file.is_empty():
		client.tls_client_key = load("res://tests/certs/" + key_file)
	return client


## Waits for the attempt to fail, and checks it failed with exactly this error and nothing else.
func _expect_failure(ws: SignalLog, expected_error: String) -> void:
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.lifecycle(), ["connection_error"] as Array[String], "signals")
	assert_eq(ws.client.get_last_error(), expected_error, "get_last_error()")
	assert_eq(ws.client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after the failure")
	assert_eq(ws.client.get_tls_version(), "", "get_tls_version() after the failure")
	note("connection_error: " + ws.client.get_last_error())


## Sends 1 MiB of binary and checks the same 1 MiB comes back as binary.
func _echo_mib(ws: SignalLog) -> void:
	var payload := PackedByteArray()
	payload.resize(MIB)
	for i in MIB:
		payload[i] = (i * 7 + (i >> 10)) % 251
	var first := ws.payloads.size()
	var started := Time.get_ticks_msec()
	assert_eq(error_string(ws.client.send(payload)), error_string(OK), "send(1 MiB)")
	if not await wait_for(func(): return ws.payloads.size() > first):
		fail("no echo of the 1 MiB message within %.0f s" % WAIT_S)
		return
	var echoed = ws.payloads[first]
	assert_eq(ws.is_text[first], false, "the 1 MiB echo is a binary message")
	if assert_eq(typeof(echoed), TYPE_PACKED_BYTE_ARRAY, "type of the 1 MiB echo"):
		assert_eq(echoed.size(), MIB, "size of the 1 MiB echo")
		assert_eq(sha256(echoed), sha256(payload), "SHA-256 of the 1 MiB echo")
	note("1 MiB there and back in %d ms" % (Time.get_ticks_msec() - started))


## After a failed chain test: notes whether Godot's X509Certificate.save_to_string() loses
## certificates of the file (it repeats the first one), a likely cause.
func _explain_chain_loss(loaded: X509Certificate, file_name: String) -> void:
	if loaded == null:
		return
	var in_file := FileAccess.get_file_as_string("res://tests/certs/" + file_name).count("-----BEGIN CERTIFICATE-----")
	var saved := loaded.save_to_string()
	var blocks := saved.split("-----END CERTIFICATE-----", false)
	var distinct := {}
	for block in blocks:
		if block.contains("-----BEGIN CERTIFICATE-----"):
			distinct[block.substr(block.find("-----BEGIN CERTIFICATE-----"))] = true
	note("%s holds %d certificates; X509Certificate.save_to_string() gives %d blocks, %d distinct" % [
		file_name, in_file, blocks.size(), distinct.size()])
	if distinct.size() < in_file:
		note("likely cause: Godot's X509Certificate.save_to_string() returns the first certificate of %s %d times; if the addon reads the trust list through it, only that one is trusted" % [file_name, in_file])
