extends "test_case.gd"
## Data integrity through RustWebSocketClient: random text and binary messages of random sizes,
## one of them 20 MB, each way over ws:// and wss://, checked by SHA-256 against the Python peer.
## (The engine's cargo test rust/engine/tests/integrity.rs does 10,000 each way; this is the
## smaller run through the binding.)
##
## Server → client: /random sends MESSAGES messages made from SEED, then their digests. Client →
## server: the test sends MESSAGES messages and /digest answers each with its digest. Sizes are
## log-uniform from 1 B to MAX_SIZE (one in 64 empty), plus one LARGEST-byte binary message.
## Text mixes 1- to 4-byte UTF-8 characters.

## Messages per direction and transport (plus the largest one when sending).
const MESSAGES := 300
## The seed of sizes and kinds (and of the Python peer's contents); printed.
const SEED := 20261122
## Largest ordinary message, in bytes: 1 MiB.
const MAX_SIZE := 1 << 20
## The one large message: 20 MB.
const LARGEST := 20000000
## Bytes the client keeps queued at most before waiting for the socket to take them.
const OUTBOUND_WINDOW := 8 << 20
## Longest a transfer may take before the test gives up (a hang check, far above what it needs).
const TRANSFER_TIMEOUT_S := 120.0
## Characters of text messages: 1, 2, 3 and 4 bytes long in UTF-8.
const TEXT_CHARACTERS := ["a", "Z", "7", " ", "é", "Ж", "€", "🦀"]


func test_integrity_random_messages_server_to_client_over_ws() -> void:
	watchdog_s = TRANSFER_TIMEOUT_S + 30.0
	await _receive_random(py_url("/random"), null)


func test_integrity_random_messages_server_to_client_over_wss() -> void:
	watchdog_s = TRANSFER_TIMEOUT_S + 30.0
	await _receive_random(py_tls_url("localhost", "/random"), certificate("localhost.crt"))


func test_integrity_random_messages_client_to_server_over_ws() -> void:
	watchdog_s = TRANSFER_TIMEOUT_S + 30.0
	await _send_random(py_url("/digest"), null)


func test_integrity_random_messages_client_to_server_over_wss() -> void:
	watchdog_s = TRANSFER_TIMEOUT_S + 30.0
	await _send_random(py_tls_url("localhost", "/digest"), certificate("localhost.crt"))


## A client (not yet connected) to url, trusting trusted when given, with its payloads recorded.
func _client(trusted: X509Certificate) -> SignalLog:
	var ws := watch(make_client())
	if trusted != null:
		ws.client.trusted_tls_certificate = trusted
	return ws


## "<kind>:<bytes>:<SHA-256 hex>" of a payload, as the Python peer writes it.
func _digest(payload, text: bool) -> String:
	var bytes: PackedByteArray = payload.to_utf8_buffer() if text else payload
	return "%s:%d:%s" % ["text" if text else "binary", bytes.size(), sha256(bytes)]


func _receive_random(url: String, trusted: X509Certificate) -> void:
	var ws := _client(trusted)
	var full_url := "%s?seed=%d&count=%d&max_size=%d&largest=%d" % [url, SEED, MESSAGES, MAX_SIZE, LARGEST]
	ws.client.connect_to_url(full_url)
	if not await wait_until_open(ws):
		return
	# Every message, then the digests line.
	if not await wait_for(func(): return ws.payloads.size() >= MESSAGES + 1, TRANSFER_TIMEOUT_S):
		fail("got %d of %d messages" % [ws.payloads.size(), MESSAGES + 1])
		return
	var last: Variant = ws.payloads[MESSAGES]
	if not assert_true(last is String and last.begins_with("digests "), "the digests line comes last"):
		return
	var expected: Array = JSON.parse_string(last.substr(len("digests ")))
	var received_bytes := 0
	for index in MESSAGES:
		var got := _digest(ws.payloads[index], ws.is_text[index])
		received_bytes += int(got.get_slice(":", 1))
		if not assert_eq(got, expected[index], "digest of message %d" % index):
			return
	note("seed %d: %d messages (%d bytes) from the server, every SHA-256 matches" % [SEED, MESSAGES, received_bytes])


func _send_random(url: String, trusted: X509Certificate) -> void:
	var ws := _client(trusted)
	ws.client.connect_to_url(url)
	if not await wait_until_open(ws):
		return
	var rng := RandomNumberGenerator.new()
	rng.seed = SEED
	var crypto := Crypto.new()
	var text_pool := _text_pool(rng)
	var expected: Array[String] = []
	var sent_bytes := 0
	for index in MESSAGES:
		if index == MESSAGES / 2:
			var largest := crypto.generate_random_bytes(LARGEST)
			expected.append(_digest(largest, false))
			assert_eq(ws.client.send(largest), OK, "send() of the %d-byte message" % LARGEST)
			sent_bytes += LARGEST
		var size := 0 if rng.randi_range(0, 63) == 0 else int(exp(rng.randf() * log(float(MAX_SIZE))))
		var error := OK
		if rng.randi_range(0, 1) == 0:
			var payload := crypto.generate_random_bytes(size) if size > 0 else PackedByteArray()
			expected.append(_digest(payload, false))
			error = ws.client.send(payload)
		else:
			var text := _random_text(rng, text_pool, size)
			expected.append(_digest(text, true))
			error = ws.client.send_text(text)
		if not assert_eq(error_string(error), error_string(OK), "sending message %d" % index):
			return
		sent_bytes += size
		if ws.client.get_current_outbound_buffered_amount() > OUTBOUND_WINDOW:
			await wait_for(func(): return ws.client.get_current_outbound_buffered_amount() <= OUTBOUND_WINDOW, TRANSFER_TIMEOUT_S)
	if not await wait_for(func(): return ws.payloads.size() >= expected.size(), TRANSFER_TIMEOUT_S):
		fail("the server acknowledged %d of %d messages" % [ws.payloads.size(), expected.size()])
		return
	for index in expected.size():
		if not assert_eq(ws.payloads[index], expected[index], "the server's digest of message %d" % index):
			return
	note("seed %d: %d messages (about %d bytes) to the server, every SHA-256 matches" % [SEED, expected.size(), sent_bytes])


## 64 Ki random characters of TEXT_CHARACTERS, cut into messages by _random_text.
func _text_pool(rng: RandomNumberGenerator) -> String:
	var characters := PackedStringArray()
	for i in 1 << 16:
		characters.append(TEXT_CHARACTERS[rng.randi_range(0, TEXT_CHARACTERS.size() - 1)])
	return "".join(characters)


## About size bytes of text: a random stretch of the pool (2.5 bytes per character on average).
func _random_text(rng: RandomNumberGenerator, pool: String, size: int) -> String:
	var characters := size * 2 / 5
	var text := ""
	while text.length() < characters:
		var start := rng.randi_range(0, pool.length() - 1)
		text += pool.substr(start, characters - text.length())
	return text
