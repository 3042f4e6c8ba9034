extends SceneTree
## What every multiplayer test process shares (mp_server.gd and mp_client.gd extend it):
## arguments, the Main node (mp_node.gd), checks, waits, the lifetime limit and the closing line.
##
## A process plays its part of one scenario of scenarios.gd and prints `PASS <check>` or
## `FAIL <check>: <reasons>` per check (check names are `<scenario>/<process>/<check>`), then
## exactly `N passed, M failed`, and exits with 1 if any check failed. `cargo xtask test` adds up
## the closing lines of all processes.
##
## User arguments (after `--`):
##   --scenario=NAME   a key of scenarios.gd's ALL (required)
##   --name=NAME       the client's name in the scenario (clients only)
##   --port=N          the server's port (clients only; the server picks a free one)
##   --lifetime=S      give up after S seconds (default 45): fail, clean up and exit

const Scenarios := preload("scenarios.gd")
const MpNode := preload("mp_node.gd")

## How long a step waits for the other processes before it fails.
const WAIT_S := 10.0
## The size of the big RPC arguments: 60 KB.
const PAYLOAD_SIZE := 60 * 1024
## Frames per second: enough for quick round trips without spinning a core per process.
const MAX_FPS := 200

var scenario_name := ""
var scenario := {}
var process_name := "server"
var port := 0
## The node at /root/Main (mp_node.gd): RPCs, inbox and spawner.
var main: MpNode
## The phase being played, for messages.
var phase := "setup"
## Set when the lifetime is over: waits return false at once so the scenario unwinds.
var aborted := false

var _lifetime_s := 45.0
var _deadline_ms := 0
var _passed := 0
var _failed := 0
var _finished := false
var _check := ""
var _problems := PackedStringArray()
## Collects the errors Godot reports (Godot 4.5+, the Logger class), or null.
var _errors: RefCounted = null


func _initialize() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--scenario="):
			scenario_name = arg.get_slice("=", 1)
		elif arg.begins_with("--name="):
			process_name = arg.get_slice("=", 1)
		elif arg.begins_with("--port="):
			port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--lifetime="):
			_lifetime_s = arg.get_slice("=", 1).to_float()
		else:
			printerr("%s: unknown argument %s" % [process_name, arg])
	_deadline_ms = Time.get_ticks_msec() + int(_lifetime_s * 1000.0)
	Engine.max_fps = MAX_FPS
	if ClassDB.class_exists("Logger"):
		_errors = load("res://tests/godot/error_catcher.gd").new()
		OS.call("add_logger", _errors)
	main = MpNode.new()
	main.name = "Main"
	root.add_child(main)
	_start.call_deferred()


func _start() -> void:
	if not Scenarios.ALL.has(scenario_name):
		_report("setup", ["unknown --scenario=%s (scenarios.gd has %s)" % [scenario_name, Scenarios.ALL.keys()]])
		finish()
		return
	scenario = Scenarios.ALL[scenario_name]
	await play()
	finish()


## The process's part of the scenario; mp_server.gd and mp_client.gd override it.
func play() -> void:
	pass


func _process(_delta: float) -> bool:
	if _finished:
		return false
	var now := Time.get_ticks_msec()
	if not aborted and now >= _deadline_ms:
		aborted = true
		_report("lifetime", ["still running after %.0f s, in phase %s" % [_lifetime_s, phase]])
	elif aborted and now >= _deadline_ms + 5000:
		# The scenario did not unwind; end anyway.
		finish()
	return false


## Prints the closing line and quits (once).
func finish() -> void:
	if _finished:
		return
	_finished = true
	close_peer()
	# Without a peer, nothing is sent when the tree frees the spawned nodes on exit.
	main.multiplayer.multiplayer_peer = null
	if _errors != null:
		var errors: PackedStringArray = _errors.take()
		_report("no_errors", Array(errors))
		OS.call("remove_logger", _errors)
		_errors = null
	print("%d passed, %d failed" % [_passed, _failed])
	quit(1 if _failed > 0 else 0)


## Closes this process's multiplayer peer before it exits; overridden by the roles.
func close_peer() -> void:
	pass


# ---- Checks -------------------------------------------------------------------------------------


## Starts a check; expect*() add to it and end_check() prints it.
func begin_check(check: String) -> void:
	_check = check
	_problems = PackedStringArray()


func expect(condition: bool, what: String) -> bool:
	if not condition:
		_problems.append(what)
	return condition


## Passes when actual and expected have the same type and are equal.
func expect_eq(actual: Variant, expected: Variant, what: String) -> bool:
	if typeof(actual) == typeof(expected) and actual == expected:
		return true
	_problems.append("%s: expected %s, got %s" % [what, show(expected), show(actual)])
	return false


## Prints PASS or FAIL for the check begun last; returns whether it passed.
func end_check() -> bool:
	var passed := _problems.is_empty()
	_report(_check, Array(_problems))
	_problems = PackedStringArray()
	return passed


func _report(check: String, problems: Array) -> void:
	var full_name := "%s/%s/%s" % [scenario_name, process_name, check]
	if problems.is_empty():
		_passed += 1
		print("PASS ", full_name)
	else:
		_failed += 1
		print("FAIL %s: %s" % [full_name, "; ".join(PackedStringArray(problems))])


## One line of transcript.
func note(message: String) -> void:
	print("    ", message)


## A short rendering of a value with its type.
func show(value: Variant) -> String:
	match typeof(value):
		TYPE_STRING, TYPE_STRING_NAME:
			return "\"%s\"" % String(value).c_escape()
		TYPE_PACKED_BYTE_ARRAY:
			return "PackedByteArray(%d bytes)" % value.size()
		TYPE_NIL:
			return "null"
	return "%s %s" % [type_string(typeof(value)), var_to_str(value)]


# ---- Waiting ------------------------------------------------------------------------------------


## Waits frame by frame (the SceneTree polls the multiplayer peer every frame) until condition
## returns true (returns true), or timeout_s passed or the lifetime is over (returns false).
## The file a client that expects to be refused writes once it has tried, so the server stays
## up until then (it cannot see a refused upgrade). Shared through user://.
func refusal_marker(client_name: String) -> String:
	return "user://mp_%s_%s.refused" % [scenario_name, client_name]


func wait_until(condition: Callable, timeout_s := WAIT_S) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while not condition.call():
		if aborted or Time.get_ticks_msec() >= deadline:
			return false
		await process_frame
	return true


# ---- Payloads -----------------------------------------------------------------------------------


## size random bytes.
func random_bytes(size := PAYLOAD_SIZE) -> PackedByteArray:
	return Crypto.new().generate_random_bytes(size)


func sha256(bytes: PackedByteArray) -> String:
	var context := HashingContext.new()
	context.start(HashingContext.HASH_SHA256)
	context.update(bytes)
	return context.finish().hex_encode()


## Sends bytes with the blob RPC to peer id, with its SHA-256.
func send_blob(id: int, tag: String, bytes: PackedByteArray) -> void:
	var error := main.rpc_id(id, "blob", tag, bytes, sha256(bytes))
	if error != OK:
		note("blob %s to peer %d: rpc_id returned %s" % [tag, id, error_string(error)])


## The first blob RPC with this tag from peer id, or an empty Dictionary.
func blob_from(id: int, tag: String) -> Dictionary:
	for message in main.received("blob", tag):
		if message["from"] == id:
			return message
	return {}


## Adds the problems of a received blob (missing, wrong size, wrong checksum) to the check.
func expect_blob(message: Dictionary, size: int, what: String) -> bool:
	if not expect(not message.is_empty(), "%s did not arrive" % what):
		return false
	var bytes: PackedByteArray = message["args"][1]
	var ok := expect_eq(bytes.size(), size, "%s: size" % what)
	return expect_eq(sha256(bytes), message["args"][2], "%s: SHA-256 of the bytes" % what) and ok


## The name of a MultiplayerPeer.ConnectionStatus value.
func status_name(status: int) -> String:
	match status:
		MultiplayerPeer.CONNECTION_DISCONNECTED:
			return "DISCONNECTED"
		MultiplayerPeer.CONNECTION_CONNECTING:
			return "CONNECTING"
		MultiplayerPeer.CONNECTION_CONNECTED:
			return "CONNECTED"
	return "status %d" % status
