extends SceneTree
## Runs every case of the Autobahn|Testsuite fuzzingserver (tests/autobahn/fuzzingserver.py)
## through RustWebSocketClient, headless:
##
##   godot --headless --path <project> --script res://tests/autobahn/autobahn_client.gd -- \
##       --port=<fuzzingserver port> --agent=<name>
##
## Asks /getCaseCount, runs each case on /runCase?case=N&agent=A, echoing every text and binary
## message back as it was received (byte for byte, through get_packet and send) until the
## connection closes, then asks /updateReports so the server writes index.json. The verdicts are
## the server's; this prints `CASE <n> TIMEOUT` for a case that did not end in time and
## `CASE <n> NOT OPENED: <error>` for one that did not open (xtask counts each as a failure),
## then `AUTOBAHN <count> cases run, <stuck> stuck`, and exits 1 if another request failed.
##
## Which API paths echo is chosen with (defaults first):
##   --receive=get_packet|take_messages|message_received|data_received
##   --send=send|put_packet|peer_put_packet|send_messages
## Text messages always go back as text: through send_messages with send_messages, else through
## send_text when they arrive as a String (take_messages, message_received), else through
## send(bytes, WRITE_MODE_TEXT). `--cases=1.,2.` runs only the cases whose id starts with one of
## the comma-separated prefixes (asked with /getCaseInfo), `--skip=6.7.1` leaves those ids out.

## A case whose connection is still open after this many seconds is abandoned.
const CASE_TIMEOUT_S := 60.0
## Microseconds headless Godot sleeps every frame (it cannot draw; the default is 6900): 1 ms
## frames, the engine agent's poll interval, so cases of 1000 round trips take seconds.
const FRAME_SLEEP_USEC := 1000

var _port := 0
var _agent := ""
var _receive := "get_packet"
var _send := "send"
var _case_prefixes := PackedStringArray()
var _skipped := PackedStringArray()


func _initialize() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--port="):
			_port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--agent="):
			_agent = arg.get_slice("=", 1)
		elif arg.begins_with("--receive="):
			_receive = arg.get_slice("=", 1)
		elif arg.begins_with("--send="):
			_send = arg.get_slice("=", 1)
		elif arg.begins_with("--cases="):
			_case_prefixes = arg.get_slice("=", 1).split(",", false)
		elif arg.begins_with("--skip="):
			_skipped = arg.get_slice("=", 1).split(",", false)
		else:
			printerr("autobahn_client: unknown argument ", arg)
	_run.call_deferred()


func _run() -> void:
	OS.low_processor_usage_mode_sleep_usec = FRAME_SLEEP_USEC
	var count_session: Dictionary = await _session("/getCaseCount", false)
	var count := 0
	if count_session["messages"].size() == 1:
		count = (count_session["messages"][0] as PackedByteArray).get_string_from_utf8().to_int()
	if count <= 0:
		printerr("autobahn_client: /getCaseCount answered no case count: ", count_session["error"])
		quit(1)
		return
	var stuck := 0
	var run := 0
	for case in range(1, count + 1):
		if not (_case_prefixes.is_empty() and _skipped.is_empty()) and not await _selected(case):
			continue
		run += 1
		var path := "/runCase?case=%d&agent=%s" % [case, _agent.uri_encode()]
		var result: Dictionary = await _session(path, true)
		# Failing the connection is often the right answer to a case: the server judges that.
		if result["timed_out"]:
			stuck += 1
			print("CASE %d TIMEOUT" % case)
		elif not result["opened"]:
			stuck += 1
			print("CASE %d NOT OPENED: %s" % [case, result["error"]])
	var report: Dictionary = await _session("/updateReports?agent=%s" % _agent.uri_encode(), false)
	if report["timed_out"] or not report["opened"]:
		printerr("autobahn_client: /updateReports failed: ", report["error"])
		quit(1)
		return
	print("AUTOBAHN %d cases run, %d stuck (receive %s, send %s)" % [run, stuck, _receive, _send])
	quit(0)


## Whether case number `case` has an id starting with one of --cases' prefixes.
func _selected(case: int) -> bool:
	var info: Dictionary = await _session("/getCaseInfo?case=%d" % case, false)
	if info["messages"].size() != 1:
		return false
	var parsed = JSON.parse_string((info["messages"][0] as PackedByteArray).get_string_from_utf8())
	var id: String = parsed.get("id", "") if parsed is Dictionary else ""
	if id in _skipped:
		return false
	if _case_prefixes.is_empty():
		return true
	for prefix in _case_prefixes:
		if id.begins_with(prefix):
			return true
	return false


## Connects to `path` and polls until the connection ends or CASE_TIMEOUT_S passes. With `echo`,
## every message is sent back as received; otherwise messages are kept. Returns
## {opened, timed_out, error, messages}.
func _session(path: String, echo: bool) -> Dictionary:
	var client := RustWebSocketClient.new()
	# /updateReports answers once the reports of every agent so far are written: it takes longer
	# than the default 10 s with several agents.
	client.handshake_timeout = CASE_TIMEOUT_S
	var result := {"opened": false, "timed_out": false, "error": "", "messages": []}
	if client.connect_to_url("ws://127.0.0.1:%d%s" % [_port, path]) != OK:
		result["error"] = client.get_last_error()
		return result
	# Captures the result, not the client, so no reference cycle keeps the client alive.
	client.connection_established.connect(func(_protocol: String) -> void: result["opened"] = true)
	# These capture the client: disconnected below, so the cycle ends with the session.
	var on_message := func(message, is_text: bool) -> void: _echo(client, message, is_text)
	var on_data := func() -> void:
		var packet := client.get_packet()
		_echo(client, packet, client.was_string_packet())
	var receive := _receive if echo else "get_packet"
	if receive == "message_received":
		client.message_received.connect(on_message)
	elif receive == "data_received":
		client.data_received.connect(on_data)
	var deadline := Time.get_ticks_msec() + int(CASE_TIMEOUT_S * 1000.0)
	while true:
		client.poll()
		var state := client.get_ready_state()
		if receive == "take_messages":
			var messages := client.take_messages()
			if _send == "send_messages":
				client.send_messages(messages)
			else:
				for message in messages:
					_echo(client, message, message is String)
		while client.get_available_packet_count() > 0:
			var packet := client.get_packet()
			if not echo:
				result["messages"].append(packet)
			else:
				_echo(client, packet, client.was_string_packet())
		if state == RustWebSocketClient.STATE_CLOSED:
			break
		if Time.get_ticks_msec() > deadline:
			result["timed_out"] = true
			break
		await process_frame
	if client.message_received.is_connected(on_message):
		client.message_received.disconnect(on_message)
	if client.data_received.is_connected(on_data):
		client.data_received.disconnect(on_data)
	result["error"] = client.get_last_error()
	return result


## Sends `message` (a String or PackedByteArray) back through the --send path; text as text.
func _echo(client: RustWebSocketClient, message, is_text: bool) -> void:
	if _send == "send_messages":
		var text_or_bytes = message
		if is_text and message is PackedByteArray:
			text_or_bytes = (message as PackedByteArray).get_string_from_utf8()
		client.send_messages([text_or_bytes])
	elif is_text and message is String:
		client.send_text(message)
	elif is_text:
		client.send(message, RustWebSocketClient.WRITE_MODE_TEXT)
	elif _send == "put_packet":
		client.put_packet(message)
	elif _send == "peer_put_packet":
		client.get_peer(1).put_packet(message)
	else:
		client.send(message)
