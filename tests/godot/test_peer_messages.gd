extends "peer_case.gd"
## RustWebSocketPeer's behaviour as WebSocketPeer's: text and binary, PacketPeer's calls, empty
## and large messages, closes from either side with their code and reason, messages kept
## readable after a close, and a refused connection.

## A message well past WebSocketPeer's 64 KiB default buffers.
const LARGE_BYTES := 4 << 20


func test_peer_text_and_binary_are_told_apart_by_was_string_packet() -> void:
	var peer := await open_peer(py_url("/echo"))
	assert_eq(error_string(peer.send_text("text")), error_string(OK), "send_text()")
	assert_eq(error_string(peer.send("binary".to_utf8_buffer())), error_string(OK), "send() (binary by default)")
	assert_eq(error_string(peer.send("text mode".to_utf8_buffer(), RustWebSocketPeer.WRITE_MODE_TEXT)), error_string(OK), "send(WRITE_MODE_TEXT)")
	assert_eq(error_string(peer.put_packet("packet".to_utf8_buffer())), error_string(OK), "put_packet()")
	if not await poll_until_packets(peer, 4):
		return
	var got := []
	for i in 4:
		var packet := peer.get_packet()
		got.append([packet.get_string_from_utf8(), peer.was_string_packet()])
	assert_eq(got, [["text", true], ["binary", false], ["text mode", true], ["packet", false]], "echoed packets and was_string_packet()")
	await close_peer(peer)


func test_peer_put_var_and_get_var_go_through_packet_peer() -> void:
	var peer := await open_peer(py_url("/echo"))
	var value := {"name": "player", "position": Vector2(3, 4), "scores": [1, 2, 3]}
	assert_eq(error_string(peer.put_var(value)), error_string(OK), "put_var()")
	if await poll_until_packets(peer, 1):
		assert_eq(peer.get_var(), value, "get_var() of the echo")
	await close_peer(peer)


func test_peer_invalid_write_mode_and_utf8_are_refused_in_words() -> void:
	var peer := await open_peer(py_url("/echo"))
	assert_eq(error_string(peer.send(PackedByteArray([0xff]), RustWebSocketPeer.WRITE_MODE_TEXT)), error_string(ERR_INVALID_DATA), "send() of invalid UTF-8 as text")
	assert_true(peer.get_last_error().contains("UTF-8"), "get_last_error(): %s" % peer.get_last_error())
	assert_eq(error_string(peer.send(PackedByteArray([1]), 7 as RustWebSocketPeer.WriteMode)), error_string(ERR_INVALID_PARAMETER), "send() with write mode 7")
	assert_true(peer.get_last_error().contains("not 7"), "get_last_error(): %s" % peer.get_last_error())
	await close_peer(peer)


## put_packet() of an empty buffer sends an empty message (WebSocketPeer's sends nothing).
func test_peer_empty_messages_echo_as_empty_text_and_binary() -> void:
	var peer := await open_peer(py_url("/echo"))
	peer.send_text("")
	peer.send(PackedByteArray())
	assert_eq(error_string(peer.put_packet(PackedByteArray())), error_string(OK), "put_packet() of an empty buffer")
	if not await poll_until_packets(peer, 3):
		return
	assert_eq(peer.get_packet().size(), 0, "empty text's size")
	assert_true(peer.was_string_packet(), "empty text is text")
	assert_eq(peer.get_packet().size(), 0, "empty binary's size")
	assert_true(not peer.was_string_packet(), "empty binary is binary")
	assert_eq(peer.get_packet().size(), 0, "put_packet()'s empty message")
	assert_true(not peer.was_string_packet(), "put_packet()'s empty message is binary")
	await close_peer(peer)


## put_var() sends a value larger than encode_buffer_max_size (WebSocketPeer's refuses it).
func test_peer_put_var_sends_a_value_over_the_encode_buffer() -> void:
	var peer := await open_peer(py_url("/echo"))
	var value := PackedByteArray()
	value.resize(peer.encode_buffer_max_size + 4096)
	value[value.size() - 1] = 7
	assert_eq(error_string(peer.put_var(value)), error_string(OK), "put_var() of %d bytes" % value.size())
	if await poll_until_packets(peer, 1):
		assert_true(peer.get_var() == value, "get_var() of the echo is the whole value")
	await close_peer(peer)


func test_peer_four_mib_message_echoes_whole_with_default_buffer_sizes() -> void:
	var peer := await open_peer(py_url("/echo"))
	var payload := PackedByteArray()
	payload.resize(LARGE_BYTES)
	for i in range(0, LARGE_BYTES, 4096):
		payload[i] = i / 4096 % 251
	assert_eq(error_string(peer.send(payload)), error_string(OK), "send() of 4 MiB")
	if await poll_until_packets(peer, 1):
		var echoed := peer.get_packet()
		assert_eq(echoed.size(), LARGE_BYTES, "echo's size")
		assert_true(echoed == payload, "the echo is the payload")
	await close_peer(peer)


func test_peer_close_from_the_server_gives_its_code_and_reason() -> void:
	var peer := start_peer(py_url("/close?code=4001&reason=server%20says%20bye"))
	if await poll_until_state(peer, RustWebSocketPeer.STATE_CLOSED):
		assert_eq(peer.get_close_code(), 4001, "get_close_code()")
		assert_eq(peer.get_close_reason(), "server says bye", "get_close_reason()")
		assert_eq(peer.get_last_error(), "", "get_last_error() after a clean close")


func test_peer_close_from_the_game_goes_closing_then_closed() -> void:
	var peer := await open_peer(py_url("/echo"))
	peer.close(4000, "game over")
	assert_eq(peer.get_ready_state(), RustWebSocketPeer.STATE_CLOSING, "state right after close()")
	if await poll_until_state(peer, RustWebSocketPeer.STATE_CLOSED):
		assert_eq(peer.get_close_code(), 4000, "get_close_code() (the server echoes ours)")
		assert_eq(peer.get_close_reason(), "game over", "get_close_reason()")


func test_peer_messages_received_before_a_close_stay_readable() -> void:
	var peer := start_peer(py_url("/push?count=3&size=16&close_code=4002&close_reason=done"))
	if not await poll_until_state(peer, RustWebSocketPeer.STATE_CLOSED):
		return
	assert_eq(peer.get_available_packet_count(), 3, "packets readable after the close")
	for index in 3:
		assert_eq(peer.get_packet().decode_u32(0), index, "packet %d's index" % index)
	assert_eq(peer.get_close_code(), 4002, "get_close_code()")


func test_peer_refused_port_ends_closed_with_a_readable_error() -> void:
	var port := closed_port()
	var peer := start_peer("ws://127.0.0.1:%d/" % port)
	if not await poll_until_state(peer, RustWebSocketPeer.STATE_CLOSED):
		return
	assert_eq(peer.get_close_code(), -1, "get_close_code() without a close frame")
	var error := peer.get_last_error()
	assert_true(error.contains("refused") and error.contains(str(port)), "get_last_error() names the refusal and the port: %s" % error)


func test_peer_handshake_headers_reach_the_server() -> void:
	var peer := RustWebSocketPeer.new()
	peer.handshake_headers = PackedStringArray(["X-Token: peer-test"])
	peer.inbound_buffer_size = 1024
	peer.heartbeat_interval = 0.5
	assert_eq(error_string(peer.connect_to_url(py_url("/headers"))), error_string(OK), "connect_to_url()")
	if not await poll_until_state(peer, RustWebSocketPeer.STATE_OPEN) or not await poll_until_packets(peer, 1):
		return
	var seen = JSON.parse_string(peer.get_packet().get_string_from_utf8())
	assert_eq(seen.get("x-token", ""), "peer-test", "the handshake header the server saw")
	assert_eq(peer.get_requested_url(), py_url("/headers"), "get_requested_url()")
	assert_eq(peer.get_connected_host(), "127.0.0.1", "get_connected_host()")
	assert_eq(peer.get_connected_port(), py_port, "get_connected_port()")
	await close_peer(peer)


func test_peer_supported_protocols_are_offered_and_one_selected() -> void:
	var peer := RustWebSocketPeer.new()
	peer.supported_protocols = PackedStringArray(["chat.v2", "chat.v1"])
	assert_eq(error_string(peer.connect_to_url(py_url("/subprotocol"))), error_string(OK), "connect_to_url()")
	if await poll_until_state(peer, RustWebSocketPeer.STATE_OPEN):
		assert_eq(peer.get_selected_protocol(), "chat.v1", "get_selected_protocol()")
		await close_peer(peer)


func test_peer_wss_with_client_unsafe_accepts_an_untrusted_certificate() -> void:
	var peer := await open_peer(py_tls_url("localhost"), TLSOptions.client_unsafe())
	assert_eq(peer.get_ready_state(), RustWebSocketPeer.STATE_OPEN, "open with TLSOptions.client_unsafe()")
	await close_peer(peer)


func test_peer_wss_without_trust_fails_in_words() -> void:
	var peer := start_peer(py_tls_url("localhost"))
	if await poll_until_state(peer, RustWebSocketPeer.STATE_CLOSED):
		assert_true(peer.get_last_error().contains("certificate"), "get_last_error(): %s" % peer.get_last_error())


func test_peer_wss_common_name_override_verifies_that_name() -> void:
	# example.crt names example.com, not 127.0.0.1: the override makes it the name checked.
	var options := TLSOptions.client(certificate("example.crt"), "example.com")
	var peer := await open_peer(py_tls_url("example", "/echo", "127.0.0.1"), options)
	await close_peer(peer)


func test_peer_close_minus_one_is_refused_in_words() -> void:
	var peer := await open_peer(py_url("/echo"))
	peer.close(-1)
	assert_eq(peer.get_ready_state(), RustWebSocketPeer.STATE_OPEN, "state after close(-1)")
	assert_true(peer.get_last_error().contains("-1"), "get_last_error() names the code: %s" % peer.get_last_error())
	if log_catcher != null:
		var printed: PackedStringArray = log_catcher.take()
		assert_true(printed.size() == 1 and printed[0].contains("close()"), "printed: %s" % printed)
	await close_peer(peer)


func test_peer_server_tls_options_are_refused_in_words() -> void:
	var crypto := Crypto.new()
	var key := crypto.generate_rsa(2048)
	var cert := crypto.generate_self_signed_certificate(key, "CN=localhost")
	var peer := RustWebSocketPeer.new()
	var error := peer.connect_to_url(py_tls_url("localhost"), TLSOptions.server(key, cert))
	assert_eq(error_string(error), error_string(ERR_INVALID_PARAMETER), "connect_to_url() with server options")
	assert_true(peer.get_last_error().contains("TLSOptions.server()"), "get_last_error(): %s" % peer.get_last_error())
	assert_eq(peer.get_ready_state(), RustWebSocketPeer.STATE_CLOSED, "state")
