extends "test_case.gd"
## Lifecycle: freeing a client in every state closes its socket, the same object reconnects, and
## 1,000 connect/close cycles leave the process's threads, file descriptors and memory flat.
## (Quitting Godot with open connections is checked by xtask: tests/godot/lifecycle_quit.gd.)

## Connect/close cycles of the leak check.
const CYCLES := 1000
## Clients cycling at the same time in the leak check (each does CYCLES / PARALLEL_CLIENTS).
const PARALLEL_CLIENTS := 10
## Cycles before the first measurement, so one-time allocations (the I/O thread, buffers, Godot's
## own caches) are not counted as a leak.
const WARM_UP_CYCLES := 50
## Resident memory the cycles may add, in KiB: the leak bound. A leak of 16 KiB per cycle (a
## socket buffer, a connection's state) would exceed it; allocator noise and Godot's own growth
## stay far below.
const RSS_GROWTH_LIMIT_KIB := 16 * 1024
## Longest the cycles may take before the test gives up (a hang check, far above what they need).
const CYCLES_TIMEOUT_S := 240.0


## Polls client until its state is not CONNECTING; true if it opened.
func _wait_open(client: MultiplayerPeer) -> bool:
	await wait_for(func():
		client.poll()
		return client.get_ready_state() != RustWebSocketClient.STATE_CONNECTING)
	return assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state of %s (%s)" % [client.get_requested_url(), client.get_last_error()])


func test_lifecycle_freeing_a_connecting_client_closes_its_socket() -> void:
	# A raw TCP server that reads the upgrade request and never answers: the client stays in
	# CONNECTING until it is freed.
	var server := TCPServer.new()
	assert_eq(server.listen(0, "127.0.0.1"), OK, "listen()")
	var client := make_unmanaged_client()
	assert_eq(client.connect_to_url("ws://127.0.0.1:%d/" % server.get_local_port()), OK, "connect_to_url()")
	if not await wait_for(func(): client.poll(); return server.is_connection_available()):
		fail("the client never connected to the raw server")
		return
	var peer := server.take_connection()
	var request := PackedByteArray()
	await wait_for(func():
		client.poll()
		peer.poll()
		if peer.get_status() == StreamPeerTCP.STATUS_CONNECTED and peer.get_available_bytes() > 0:
			request.append_array(peer.get_data(peer.get_available_bytes())[1])
		return request.size() >= 4 and request.slice(-4) == "\r\n\r\n".to_ascii_buffer())
	assert_true(request.size() > 0, "the server got the upgrade request")
	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CONNECTING, "state before the free")
	client = null
	var closed := await wait_for(func():
		peer.poll()
		if peer.get_status() != StreamPeerTCP.STATUS_CONNECTED:
			return true
		if peer.get_available_bytes() > 0:
			peer.get_data(peer.get_available_bytes())
		return false)
	assert_true(closed, "the server saw the socket close after the client was freed")
	server.stop()
	note("freed while CONNECTING (upgrade sent, no answer): the server saw the socket close")


func test_lifecycle_freeing_an_open_client_sends_what_it_queued_then_going_away() -> void:
	var id := unique_id("free-open")
	var client := make_unmanaged_client()
	client.connect_to_url(py_url("/record?id=" + id))
	if not await _wait_open(client):
		return
	client.send_text("sent just before the free")
	client = null
	var report: Dictionary = await recorded(id)
	if report.is_empty():
		return
	assert_eq(report["messages"], ["text:sent just before the free"], "messages the server received")
	assert_eq(report["close_code"], 1001, "close code the server received (going away)")
	note("freed while OPEN: the server got the queued message, then close %s" % report["close_code"])


func test_lifecycle_freeing_a_closing_client_still_sends_its_close_frame() -> void:
	var id := unique_id("free-closing")
	var client := make_unmanaged_client()
	client.connect_to_url(py_url("/record?id=" + id))
	if not await _wait_open(client):
		return
	client.send_text("last words")
	client.disconnect_from_host(4000, "bye")
	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSING, "state before the free")
	client = null
	var report: Dictionary = await recorded(id)
	if report.is_empty():
		return
	assert_eq(report["messages"], ["text:last words"], "messages the server received")
	assert_eq(report["close_code"], 4000, "close code the server received")
	assert_eq(report["close_reason"], "bye", "close reason the server received")
	note("freed while CLOSING: the server got the message and close 4000 \"bye\"")


func test_lifecycle_one_client_reconnects_after_a_close_a_server_close_and_a_failure() -> void:
	var ws := watch(make_client())
	var client := ws.client
	# 1. Our own close.
	assert_eq(client.connect_to_url(py_url("/echo")), OK, "first connect_to_url()")
	if not await wait_until_open(ws):
		return
	client.send_text("first")
	await wait_for(func(): return ws.payloads.size() >= 1)
	client.disconnect_from_host()
	if not await wait_until_ended(ws):
		return
	# 2. The server's close.
	assert_eq(client.connect_to_url(py_url("/close?code=4001&reason=server")), OK, "connect_to_url() after our close")
	await wait_for(func(): return ws.count("connection_closed") >= 2)
	assert_eq(client.get_close_code(), 4001, "close code of the server's close")
	# 3. A failed attempt.
	assert_eq(client.connect_to_url("ws://127.0.0.1:%d/" % closed_port()), OK, "connect_to_url() after the server's close")
	await wait_for(func(): return ws.has("connection_error"))
	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "state after the failure")
	# 4. And open again, working.
	assert_eq(client.connect_to_url(py_url("/echo")), OK, "connect_to_url() after the failure")
	await wait_for(func(): return ws.count("connection_established") >= 3)
	assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_OPEN, "state of the fourth connection")
	assert_eq(client.get_last_error(), "", "get_last_error() of an open connection after a failure")
	client.send_text("again")
	await wait_for(func(): return ws.payloads.size() >= 2)
	assert_eq(ws.payloads, ["first", "again"], "echoes of the first and fourth connections")
	note("one object: open/close, server close 4001, failure, open again; signals %s" % [ws.lifecycle()])


## Threads, file descriptors and resident memory of this process.
func _process_usage() -> Dictionary:
	var rss_kib := -1
	var status := FileAccess.open("/proc/self/status", FileAccess.READ)
	while status != null and not status.eof_reached():
		var line := status.get_line()
		if line.begins_with("VmRSS:"):
			rss_kib = line.get_slice(":", 1).strip_edges().get_slice(" ", 0).to_int()
	return {
		"threads": DirAccess.get_directories_at("/proc/self/task").size(),
		"fds": DirAccess.get_files_at("/proc/self/fd").size(),
		"rss_kib": rss_kib,
	}


## Runs count connect/echo/close cycles against the Python peer, PARALLEL_CLIENTS clients at a
## time; returns how many completed (opened, echoed, closed cleanly with 1000).
func _cycle(count: int) -> int:
	var clients: Array[MultiplayerPeer] = []
	var remaining: Array[int] = []
	var phases: Array[String] = []
	for i in PARALLEL_CLIENTS:
		clients.append(make_unmanaged_client())
		remaining.append(count / PARALLEL_CLIENTS + (1 if i < count % PARALLEL_CLIENTS else 0))
		phases.append("idle")
	var completed := [0]
	var url := py_url("/echo")
	var step := func() -> bool:
		var all_idle := true
		for i in clients.size():
			var client := clients[i]
			client.poll()
			var state: int = client.get_ready_state()
			match phases[i]:
				"idle":
					if remaining[i] > 0:
						remaining[i] -= 1
						client.connect_to_url(url)
						phases[i] = "connecting"
				"connecting":
					if state == RustWebSocketClient.STATE_OPEN:
						client.send_text("cycle")
						phases[i] = "echoing"
					elif state == RustWebSocketClient.STATE_CLOSED:
						fail("a cycle did not open: " + client.get_last_error())
						phases[i] = "idle"
				"echoing":
					if client.get_available_packet_count() > 0:
						client.get_packet()
						client.disconnect_from_host()
						phases[i] = "closing"
					elif state == RustWebSocketClient.STATE_CLOSED:
						fail("a cycle ended before its echo: " + client.get_last_error())
						phases[i] = "idle"
				"closing":
					if state == RustWebSocketClient.STATE_CLOSED:
						if client.get_close_code() == 1000:
							completed[0] += 1
						phases[i] = "idle"
			all_idle = all_idle and phases[i] == "idle" and remaining[i] == 0
		return all_idle
	if not await wait_for(step, CYCLES_TIMEOUT_S):
		fail("the cycles did not finish within %.0f s: %d of %d completed" % [CYCLES_TIMEOUT_S, completed[0], count])
	return completed[0]


## Waits until the process's threads and file descriptors are back to before's (the I/O thread
## lets go of a socket just after it reports the close); true if they are.
func _settled(before: Dictionary) -> bool:
	return await wait_for(func():
		var now := _process_usage()
		return now["threads"] == before["threads"] and now["fds"] == before["fds"])


func test_lifecycle_a_thousand_connect_close_cycles_leave_threads_fds_and_memory_flat() -> void:
	watchdog_s = CYCLES_TIMEOUT_S + 60.0
	assert_eq(await _cycle(WARM_UP_CYCLES), WARM_UP_CYCLES, "warm-up cycles")
	var before := _process_usage()
	var started := Time.get_ticks_msec()
	var completed := await _cycle(CYCLES)
	var seconds := (Time.get_ticks_msec() - started) / 1000.0
	assert_eq(completed, CYCLES, "cycles that opened, echoed and closed cleanly")
	var settled := await _settled(before)
	var after := _process_usage()
	assert_true(settled, "threads and file descriptors back to %s, got %s" % [before, after])
	var growth: int = after["rss_kib"] - before["rss_kib"]
	assert_true(before["rss_kib"] > 0, "VmRSS read from /proc/self/status")
	assert_true(growth < RSS_GROWTH_LIMIT_KIB, "resident memory grew %d KiB over %d cycles (leak bound %d KiB)" % [growth, CYCLES, RSS_GROWTH_LIMIT_KIB])
	note("%d cycles in %.1f s: threads %d → %d, fds %d → %d, RSS %d → %d KiB (%+d KiB)" % [
		completed, seconds, before["threads"], after["threads"], before["fds"], after["fds"],
		before["rss_kib"], after["rss_kib"], growth])
