extends RefCounted
## Base class of the suite's test scripts (tests/godot/test_*.gd).
##
## run_tests.gd makes a fresh instance for every `test_*` method, sets [member tree] and the
## peers' ports, calls [method run_test], and reads [member failures]. Tests create clients only
## through [method start] / [method open] / [method make_client], so that they are polled by
## [method wait_for] and closed and released by [method teardown].

const SignalLog := preload("signal_log.gd")

## Why the packet queue can come up short: messages announced by data_received must wait for
## get_packet() (a regression once dropped them when message_received had no listener).
const DROPPED_MESSAGES_BUG := "messages announced by data_received are missing from the get_packet() queue"

## What get_last_error() says for any failed attempt on the web path: a browser does not tell a
## page why (refused, unknown host, HTTP refusal all read the same).
const WEB_FAILED_ATTEMPT := "cannot connect to %s: the connection failed (a browser does not say why: the server may be down, the address wrong, or the upgrade refused)"

## Default seconds [method wait_for] waits before giving up (the runner's watchdog is longer).
const WAIT_S := 10.0

var tree: SceneTree
## Port of tests/peers/py_server.py, or 0 if not given.
var py_port := 0
## Port of tests/peers/godot_server.gd, or 0 if not given.
var godot_port := 0
## The wss:// ports of tests/peers/py_server.py by identity ("localhost", "expired", "example",
## "ca_server"); empty if not given.
var py_tls := {}
## Port of tests/peers/connect_proxy.py, or 0 if not given.
var proxy_port := 0
## Port of tests/peers/misbehaving_server.py, or 0 if not given.
var misbehaving_port := 0
## Port of a SOCKS5 proxy without authentication (microsocks), or 0 if not given.
var socks_port := 0
## Port of a SOCKS5 proxy asking for a user name and password (microsocks), or 0 if not given.
var socks_auth_port := 0
## The runner's error_catcher.gd (Godot 4.5+), or null: see [method warnings].
var log_catcher: RefCounted = null
## What went wrong, in order; the test passed if it is empty.
var failures: PackedStringArray = []
## Set when the test method returned.
var finished := false
## Set by the runner's watchdog: from then on waits return at once and failures are ignored.
var aborted := false
## Frames the last [method wait_for] waited.
var frames := 0
## Seconds the runner's watchdog gives this test, when more than its default: a long test sets
## it as its first statement (before any await).
var watchdog_s := 0.0
## If true, [method make_client] makes the web path's client (RustWebSocketWebClient, on Godot's
## WebSocketPeer) instead of the native one: the test_web_*.gd scripts set it to run the same
## tests on both paths. Clients are typed as their common base, MultiplayerPeer.
var web_path := false

var _clients: Array[MultiplayerPeer] = []
var _logs: Array = []
var _nodes: Array[Node] = []


## Runs one test method to its end (the runner does not await this; it watches [member finished]).
func run_test(method: String) -> void:
	await call(method)
	finished = true


# ---- Peers -------------------------------------------------------------------------------------


## The URL of a path on the Python peer.
func py_url(path: String) -> String:
	if py_port == 0:
		fail("no --py-port given: the Python peer is needed")
	return "ws://127.0.0.1:%d%s" % [py_port, path]


## What the Python peer's /record?id=<id> connection received and how it ended, once it
## ended (asked through its /received?id=<id> path); {} after a failure, which it reports.
func recorded(id: String) -> Dictionary:
	var ws := await open(py_url("/received?id=" + id))
	if not ws.is_open():
		return {}
	if not await wait_for(func(): return ws.payloads.size() >= 1):
		fail("the Python peer did not report /record?id=" + id)
		return {}
	var report = JSON.parse_string(ws.payloads[0])
	if not assert_true(report is Dictionary and report.get("done", false), "the Python peer saw the connection end: %s" % show(ws.payloads[0])):
		return {}
	return report


## The URL of the Godot peer.
func godot_url(path := "/") -> String:
	if godot_port == 0:
		fail("no --godot-port given: the Godot peer is needed")
	return "ws://127.0.0.1:%d%s" % [godot_port, path]


## The URL of a misbehaviour (a path) of the misbehaving raw-TCP peer.
func misbehaving_url(path: String) -> String:
	if misbehaving_port == 0:
		fail("no --misbehaving-port given: the misbehaving peer is needed")
	return "ws://127.0.0.1:%d%s" % [misbehaving_port, path]


## The wss:// URL of a path on the Python peer's TLS listener for identity ("localhost",
## "expired", "example" or "ca_server"), with host as the URL's host.
func py_tls_url(identity: String, path := "/echo", host := "localhost") -> String:
	if not py_tls.has(identity):
		fail("no --py-tls port for %s: the Python peer's wss:// listeners are needed" % identity)
	return "wss://%s:%d%s" % [host, py_tls.get(identity, 0), path]


## The URL of the HTTP CONNECT proxy, with userinfo ("user:password@") when not empty.
func proxy_url(userinfo := "") -> String:
	if proxy_port == 0:
		fail("no --proxy-port given: the proxy peer is needed")
	return "http://%s127.0.0.1:%d" % [userinfo, proxy_port]


## The URL of a SOCKS5 proxy: scheme "socks5" or "socks5h", port [member socks_port] or
## [member socks_auth_port], with userinfo ("user:password@") when not empty.
func socks_url(scheme: String, port: int, userinfo := "") -> String:
	if port == 0:
		fail("no --socks-port / --socks-auth-port given: the SOCKS5 proxies (microsocks) are needed")
	return "%s://%s127.0.0.1:%d" % [scheme, userinfo, port]


## The certificate (or chain) in res://tests/certs/<file_name>, loaded as a resource, as
## trusted_tls_certificate wants it.
func certificate(file_name: String) -> X509Certificate:
	var loaded: X509Certificate = load("res://tests/certs/" + file_name)
	if loaded == null:
		fail("cannot load res://tests/certs/%s (cargo xtask test writes it)" % file_name)
	return loaded


## Adds node to the scene tree (so its _process runs every frame) until teardown frees it.
func add_node(node: Node) -> Node:
	_nodes.append(node)
	tree.root.add_child(node)
	return node


## A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
func closed_port() -> int:
	var server := TCPServer.new()
	server.listen(0, "127.0.0.1")
	var port := server.get_local_port()
	server.stop()
	return port


## A string no other test uses, e.g. as a /record id.
func unique_id(prefix: String) -> String:
	return "%s-%d-%d" % [prefix, Time.get_ticks_usec(), randi()]


# ---- Clients -----------------------------------------------------------------------------------


## A new client (the web path's when [member web_path] is set), polled by wait_for and released
## by teardown.
func make_client() -> MultiplayerPeer:
	var client: MultiplayerPeer = RustWebSocketWebClient.new() if web_path else RustWebSocketClient.new()
	_clients.append(client)
	return client


## A new client (the web path's when [member web_path] is set) that no test helper holds, so
## dropping the last reference frees it; the test polls and closes it itself.
func make_unmanaged_client() -> MultiplayerPeer:
	return RustWebSocketWebClient.new() if web_path else RustWebSocketClient.new()


## A SignalLog of the client's signals. With deliver_payloads, message_received is connected (so
## messages are handed over, not queued); without it, only data_received is.
func watch(client: MultiplayerPeer, deliver_payloads := true) -> SignalLog:
	var ws := SignalLog.new(client, deliver_payloads)
	_logs.append(ws)
	return ws


## A new client, watched, that started connecting to url (asserting connect_to_url returned OK).
func start(
	url: String,
	protocols := PackedStringArray(),
	headers := PackedStringArray(),
	deliver_payloads := true
) -> SignalLog:
	var ws := watch(make_client(), deliver_payloads)
	var error: Error = ws.client.connect_to_url(url, protocols, false, headers)
	assert_eq(error_string(error), error_string(OK), "connect_to_url(\"%s\") result" % url)
	return ws


## Like start(), then waits for the connection to open; fails the test if it does not.
func open(
	url: String,
	protocols := PackedStringArray(),
	headers := PackedStringArray(),
	deliver_payloads := true
) -> SignalLog:
	var ws := start(url, protocols, headers, deliver_payloads)
	await wait_until_open(ws)
	return ws


## Waits for the connection attempt of ws's client to open; fails the test if it does not.
func wait_until_open(ws: SignalLog) -> bool:
	await wait_for(func(): return ws.client.get_ready_state() != RustWebSocketClient.STATE_CONNECTING)
	if ws.is_open():
		return true
	if ws.client.get_ready_state() == RustWebSocketClient.STATE_CLOSED:
		fail("%s did not open: %s" % [ws.client.get_requested_url(), ws.client.get_last_error()])
	else:
		fail("%s was not open after %.0f s" % [ws.client.get_requested_url(), WAIT_S])
	return false


## Waits for the connection of ws's client to end (state CLOSED, after connection_closed or
## connection_error); fails the test if it does not.
func wait_until_ended(ws: SignalLog, timeout_s := WAIT_S) -> bool:
	var closed := func(): return ws.client.get_ready_state() == RustWebSocketClient.STATE_CLOSED and ws.ended()
	if await wait_for(closed, timeout_s):
		return true
	fail("the connection to %s did not end within %.0f s" % [ws.client.get_requested_url(), timeout_s])
	return false


## Sends a text message on ws's open client and checks it comes back (from an echo path) as the
## same text.
func echo_text(ws: SignalLog, text: String) -> void:
	var first := ws.payloads.size()
	assert_eq(error_string(ws.client.send_text(text)), error_string(OK), "send_text()")
	if not await wait_for(func(): return ws.payloads.size() > first):
		fail("no echo of %s within %.0f s" % [show(text), WAIT_S])
		return
	assert_eq(ws.payloads[first], text, "echoed text")
	assert_eq(ws.is_text[first], true, "the echo is a text message")


## Polls every client of the test.
func poll_clients() -> void:
	for client in _clients:
		client.poll()


## Polls the clients once per frame until condition returns true (returns true) or timeout_s
## passed (returns false). Sets [member frames].
func wait_for(condition: Callable, timeout_s := WAIT_S) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	frames = 0
	while true:
		poll_clients()
		if condition.call():
			return true
		if aborted or Time.get_ticks_msec() >= deadline:
			return false
		await tree.process_frame
		frames += 1
	return false


## Polls the clients for n frames.
func wait_frames(n: int) -> void:
	for i in n:
		if aborted:
			return
		poll_clients()
		await tree.process_frame
	poll_clients()


## Closes every client that is still connected and lets go of all of them.
func teardown() -> void:
	var closing := false
	for client in _clients:
		if client.get_ready_state() != RustWebSocketClient.STATE_CLOSED:
			client.disconnect_from_host()
			closing = true
	if closing:
		var deadline := Time.get_ticks_msec() + 5000
		while Time.get_ticks_msec() < deadline:
			poll_clients()
			var all_closed := true
			for client in _clients:
				all_closed = all_closed and client.get_ready_state() == RustWebSocketClient.STATE_CLOSED
			if all_closed:
				break
			await tree.process_frame
	for ws in _logs:
		ws.release()
	_logs.clear()
	_clients.clear()
	for node in _nodes:
		if is_instance_valid(node):
			if node.get_parent() != null:
				node.get_parent().remove_child(node)
			node.free()
	_nodes.clear()


# ---- Warnings reported by Godot ----------------------------------------------------------------


## Whether warnings can be checked: Godot 4.5+ (the Logger class).
func can_see_warnings() -> bool:
	return log_catcher != null


## The warnings (push_warning, godot_warn!) reported since the test started (Godot 4.5+).
func warnings() -> PackedStringArray:
	return log_catcher.warnings() if log_catcher != null else PackedStringArray()


## Removes the errors this test expects (each containing one of [param expected]) from those
## Godot reported; any other stays a failure. For engine errors of Godot's desktop WebSocketPeer
## on the web path (a browser prints them in its console instead).
func drop_expected_errors(expected: Array[String]) -> void:
	if log_catcher == null:
		return
	for error: String in log_catcher.take():
		if not expected.any(func(text: String) -> bool: return error.contains(text)):
			fail(error)


# ---- Assertions and transcript -----------------------------------------------------------------


## Records a failure (ignored once the watchdog aborted the test).
func fail(message: String) -> void:
	if aborted:
		return
	failures.append(message)
	print("    ! ", message)


## Prints one line of the test's transcript.
func note(message: String) -> void:
	if not aborted:
		print("    ", message)


func assert_true(condition: bool, what: String) -> bool:
	if not condition:
		fail(what)
	return condition


## Passes when actual and expected have the same type (int and float count as one) and are equal.
func assert_eq(actual, expected, what: String) -> bool:
	var numbers := [TYPE_INT, TYPE_FLOAT]
	var same_type := typeof(actual) == typeof(expected) \
		or (typeof(actual) in numbers and typeof(expected) in numbers)
	if same_type and actual == expected:
		return true
	fail("%s: expected %s, got %s" % [what, show(expected), show(actual)])
	return false


## Passes when text ends with suffix.
func assert_ends(text: String, suffix: String, what: String) -> bool:
	if text.ends_with(suffix):
		return true
	fail("%s: expected text ending with %s, got %s" % [what, show(suffix), show(text)])
	return false


## Passes when text starts with prefix.
func assert_begins(text: String, prefix: String, what: String) -> bool:
	if text.begins_with(prefix):
		return true
	fail("%s: expected text starting with %s, got %s" % [what, show(prefix), show(text)])
	return false


## Passes when the signal was emitted (first emission) with exactly these arguments (types
## included).
func assert_signal(ws: SignalLog, signal_name: String, expected_args: Array) -> bool:
	var event := ws.first(signal_name)
	if event.is_empty():
		fail("%s was not emitted (got %s)" % [signal_name, ws.lifecycle()])
		return false
	var args: Array = event["args"]
	if not assert_eq(args.size(), expected_args.size(), "%s argument count" % signal_name):
		return false
	var ok := true
	for i in args.size():
		ok = assert_eq(args[i], expected_args[i], "%s argument %d" % [signal_name, i]) and ok
	return ok


## A short, readable rendering of a value with its type.
func show(value) -> String:
	match typeof(value):
		TYPE_STRING, TYPE_STRING_NAME:
			return "\"%s\"" % String(value).c_escape()
		TYPE_PACKED_BYTE_ARRAY:
			var bytes: PackedByteArray = value
			if bytes.size() > 16:
				return "PackedByteArray(%d bytes, starting %s)" % [bytes.size(), bytes.slice(0, 8)]
			return "PackedByteArray(%s)" % [bytes]
		TYPE_NIL:
			return "null"
	return "%s %s" % [type_string(typeof(value)), var_to_str(value)]


## SHA-256 of bytes, as hex.
func sha256(bytes: PackedByteArray) -> String:
	var context := HashingContext.new()
	context.start(HashingContext.HASH_SHA256)
	if not bytes.is_empty():  # update() refuses an empty buffer
		context.update(bytes)
	return context.finish().hex_encode()


## The little-endian unsigned 32-bit number at the start of bytes.
func index_of(bytes: PackedByteArray) -> int:
	return bytes.decode_u32(0) if bytes.size() >= 4 else -1
