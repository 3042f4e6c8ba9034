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

## A case whose connection is still open after this many seconds is abandoned.
const CASE_TIMEOUT_S := 60.0
## Microseconds headless Godot sleeps every frame (it cannot draw; the default is 6900): 1 ms
## frames, the engine agent's poll interval, so cases of 1000 round trips take seconds.
const FRAME_SLEEP_USEC := 1000

var _port := 0
var _agent := ""


func _initialize() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--port="):
			_port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--agent="):
			_agent = arg.get_slice("=", 1)
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
	for case in range(1, count + 1):
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
	print("AUTOBAHN %d cases run, %d stuck" % [count, stuck])
	quit(0)


## Connects to `path` and polls until the connection ends or CASE_TIMEOUT_S passes. With `echo`,
## every message is sent back as received; otherwise messages are kept. Returns
## {opened, timed_out, error, messages}.
func _session(path: String, echo: bool) -> Dictionary:
	var client := RustWebSocketClient.new()
	var result := {"opened": false, "timed_out": false, "error": "", "messages": []}
	if client.connect_to_url("ws://127.0.0.1:%d%s" % [_port, path]) != OK:
		result["error"] = client.get_last_error()
		return result
	# Captures the result, not the client, so no reference cycle keeps the client alive.
	client.connection_established.connect(func(_protocol: String) -> void: result["opened"] = true)
	var deadline := Time.get_ticks_msec() + int(CASE_TIMEOUT_S * 1000.0)
	while true:
		client.poll()
		var state := client.get_ready_state()
		while client.get_available_packet_count() > 0:
			var packet := client.get_packet()
			if not echo:
				result["messages"].append(packet)
			elif client.was_string_packet():
				client.send(packet, RustWebSocketClient.WRITE_MODE_TEXT)
			else:
				client.send(packet)
		if state == RustWebSocketClient.STATE_CLOSED:
			break
		if Time.get_ticks_msec() > deadline:
			result["timed_out"] = true
			break
		await process_frame
	result["error"] = client.get_last_error()
	return result
