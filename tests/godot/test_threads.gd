extends "peer_case.gd"
## The thread rule: every method of RustWebSocketClient and RustWebSocketPeer belongs to the main
## thread. A call from a worker Thread is refused before it reads or changes anything, with an
## error naming the method, and the main thread's connection goes on as if it never happened.
##
## Who refuses depends on the arguments: the method itself (our check: ERR_UNAVAILABLE where it
## returns an Error, else an empty value), or godot-rust's own thread check when converting an
## argument (a packed array, a default value) or taking the object for poll() already touches
## the engine; that one prints a panic naming the method, and the call returns nothing. (A call
## that leaves out an argument with a default value is refused by godot-rust too, but GDScript
## then also logs a SCRIPT ERROR, which the suite's runner rejects: the calls below pass all
## their arguments.)

## The start of the refusal our check prints, after "Class.method() ".
const REFUSAL := "was called from a thread other than the main thread, which is not supported"
## What godot-rust's thread check prints, followed by "in Class::method()".
const GDEXT_THREAD_CHECK := "attempted to access binding from different thread than main thread"


func test_client_calls_from_a_worker_thread_are_refused() -> void:
	var ws := await open(py_url("/echo"))
	if not ws.is_open():
		return
	var client: RustWebSocketClient = ws.client
	var unavailable := ERR_UNAVAILABLE
	_expect_refused("RustWebSocketClient", "send_text", func(): return client.send_text("from a worker"), unavailable)
	_expect_refused("RustWebSocketClient", "put_packet", func(): return client.put_packet(PackedByteArray([1, 2, 3])), unavailable)
	_expect_refused("RustWebSocketClient", "connect_to_url", func(): return client.connect_to_url(py_url("/echo"), PackedStringArray(), false, PackedStringArray()), unavailable)
	_expect_refused("RustWebSocketClient", "get_ready_state", func(): return client.get_ready_state(), RustWebSocketClient.STATE_CLOSED)
	_expect_refused("RustWebSocketClient", "get_last_error", func(): return client.get_last_error(), "")
	_expect_refused("RustWebSocketClient", "get_packet", func(): return client.get_packet(), PackedByteArray(), true)
	_expect_refused("RustWebSocketClient", "get_packet_error", func(): return client.get_packet_error(), unavailable)
	_expect_refused("RustWebSocketClient", "disconnect_from_host", func(): client.disconnect_from_host(1000, "from a worker"), null)
	_expect_refused("RustWebSocketClient", "poll", func(): client.poll(), null)

	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state on the main thread afterwards")
	assert_eq(client.get_last_error(), "", "get_last_error() (a refused call writes nothing)")
	assert_eq(client.send_text("from the main thread"), OK, "send_text() on the main thread")
	await wait_for(func(): return ws.count("message_received") >= 1)
	await wait_frames(3)
	assert_eq(ws.payloads, ["from the main thread"], "echoed messages (nothing sent from the worker)")


func test_peer_calls_from_a_worker_thread_are_refused() -> void:
	var peer := await open_peer(py_url("/echo"))
	if peer.get_ready_state() != RustWebSocketPeer.STATE_OPEN:
		return
	var unavailable := ERR_UNAVAILABLE
	_expect_refused("RustWebSocketPeer", "send_text", func(): return peer.send_text("from a worker"), unavailable)
	_expect_refused("RustWebSocketPeer", "put_packet", func(): return peer.put_packet(PackedByteArray([1])), unavailable)
	_expect_refused("RustWebSocketPeer", "poll", func(): peer.poll(), null)
	_expect_refused("RustWebSocketPeer", "get_ready_state", func(): return peer.get_ready_state(), RustWebSocketPeer.STATE_CLOSED)
	_expect_refused("RustWebSocketPeer", "get_available_packet_count", func(): return peer.get_available_packet_count(), 0)
	_expect_refused("RustWebSocketPeer", "get_packet", func(): return peer.get_packet(), PackedByteArray(), true)
	_expect_refused("RustWebSocketPeer", "get_packet_error", func(): return peer.get_packet_error(), unavailable)
	_expect_refused("RustWebSocketPeer", "close", func(): peer.close(1000, "from a worker"), null)

	assert_eq(peer.get_ready_state(), RustWebSocketPeer.STATE_OPEN, "state on the main thread afterwards")
	assert_eq(peer.send_text("from the main thread"), OK, "send_text() on the main thread")
	if await poll_until_packets(peer, 1):
		assert_eq(peer.get_packet().get_string_from_utf8(), "from the main thread", "echoed message")
		await wait_frames(3)
		peer.poll()
		assert_eq(peer.get_available_packet_count(), 0, "nothing sent from the worker came back")
	assert_eq(peer.get_last_error(), "", "get_last_error() (a refused call writes nothing)")
	await close_peer(peer)


## Calls callable on a worker Thread while the main thread waits (so nothing else uses the object
## meanwhile), and checks that class_name_.method() was refused: by our check, printing one
## refusal and returning refused_value, or by godot-rust's thread check before the method ran.
## With then_by_gdext, by both: ours first, then godot-rust's when the method makes the empty
## array it returns. Any other error printed meanwhile fails the test.
func _expect_refused(class_name_: String, method: String, callable: Callable, refused_value: Variant, then_by_gdext := false) -> void:
	var thread := Thread.new()
	thread.start(callable)
	var result: Variant = thread.wait_to_finish()
	if log_catcher == null:
		return
	var printed := Array(log_catcher.take())
	var ours := "%s.%s() %s" % [class_name_, method, REFUSAL]
	var by_gdext := "in %s::%s()" % [class_name_, method]
	var refused_by_us := printed.filter(func(error: String) -> bool: return error.contains(ours))
	var refused_by_gdext := printed.filter(func(error: String) -> bool:
		return error.contains(GDEXT_THREAD_CHECK) and error.contains(by_gdext))
	if then_by_gdext:
		# Our check refuses first; making the empty array it returns then needs the engine, which
		# godot-rust's check refuses too (the caller still gets an empty array).
		if not (refused_by_us.size() == 1 and refused_by_gdext.size() == 1):
			fail("%s.%s() from a worker: expected our refusal and godot-rust's, printed %s" % [class_name_, method, printed])
			return
		assert_eq(result, refused_value, "%s.%s() from a worker returns" % [class_name_, method])
		note("%s.%s() from a worker: refused, then godot-rust's thread check on the empty array" % [class_name_, method])
	elif refused_by_us.size() == 1 and refused_by_gdext.is_empty():
		assert_eq(result, refused_value, "%s.%s() from a worker returns" % [class_name_, method])
		note("%s.%s() from a worker: refused, returned %s" % [class_name_, method, show(result)])
	elif refused_by_us.is_empty() and refused_by_gdext.size() == 1:
		note("%s.%s() from a worker: refused by godot-rust's thread check" % [class_name_, method])
	else:
		fail("%s.%s() from a worker: expected one refusal, printed %s" % [class_name_, method, printed])
		return
	for error: String in printed:
		if not (error.contains(ours) or error.contains(by_gdext)):
			fail(error)
