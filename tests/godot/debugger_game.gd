## The game test_debugger.gd runs under `--remote-debug` (not a test_* file): a headless
## SceneTree that talks to the Python peer's /echo with one RustWebSocketClient, as the
## scenario in its arguments says, then quits.
##
##   godot --headless --remote-debug tcp://127.0.0.1:<port> --script res://tests/godot/debugger_game.gd \
##       -- --url=ws://127.0.0.1:<py_port>/echo --scenario=<session|flood|off>
##
## - session: heartbeat on; sends a short text, 200 bytes of binary and a long text, waits for
##   their echoes and a measured round trip, closes with 4000 "test over".
## - flood: sends FLOOD_MESSAGES small messages in one frame, waits for every echo, closes.
## - off: like session without the long messages, with the project setting
##   network/rust_websocket/debugger_reports set to false first.
extends SceneTree

const FLOOD_MESSAGES := 5000
const SESSION_TIMEOUT_S := 20.0
const LONG_TEXT_REPEATS := 100
## Seconds the game lives on after the close: Godot's debugger sends from its own thread and
## drops what it has not sent yet when the game quits.
const FLUSH_S := 1.0

var socket := RustWebSocketClient.new()
var _scenario := ""
var _expected_echoes := 0
var _echoes := 0
var _deadline := 0


func _initialize() -> void:
	var url := ""
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--url="):
			url = arg.trim_prefix("--url=")
		elif arg.begins_with("--scenario="):
			_scenario = arg.trim_prefix("--scenario=")
	if _scenario == "off":
		ProjectSettings.set_setting("network/rust_websocket/debugger_reports", false)
	_deadline = Time.get_ticks_msec() + int(SESSION_TIMEOUT_S * 1000.0)
	socket.heartbeat_interval = 0.1
	socket.connection_established.connect(_on_open)
	socket.message_received.connect(_on_message)
	socket.connection_closed.connect(func(_clean: bool) -> void: _quit_after_flush())
	socket.connection_error.connect(func() -> void:
		printerr("debugger_game: ", socket.get_last_error())
		quit(1))
	if socket.connect_to_url(url) != OK:
		printerr("debugger_game: ", socket.get_last_error())
		quit(1)


func _process(_delta: float) -> bool:
	socket.poll()
	if Time.get_ticks_msec() > _deadline:
		printerr("debugger_game: the %s scenario did not finish in %d s" % [_scenario, SESSION_TIMEOUT_S])
		quit(1)
	# Closes once every echo came back and, for a session, a pong measured the round trip.
	var done := _expected_echoes > 0 and _echoes == _expected_echoes
	if done and (_scenario == "flood" or socket.get_round_trip_time() > 0.0):
		_expected_echoes = 0
		socket.disconnect_from_host(4000, "test over")
	return false


func _on_open(_protocol: String) -> void:
	match _scenario:
		"flood":
			_expected_echoes = FLOOD_MESSAGES
			for i in FLOOD_MESSAGES:
				socket.send_text("flood %d" % i)
		"session":
			_expected_echoes = 3
			socket.send_text("hello debugger")
			var binary := PackedByteArray()
			for i in 200:
				binary.append(i)
			socket.send(binary)
			socket.send_text("é".repeat(LONG_TEXT_REPEATS))
		_:
			_expected_echoes = 1
			socket.send_text("hello debugger")


func _on_message(_message: Variant, _is_text: bool) -> void:
	_echoes += 1


func _quit_after_flush() -> void:
	await create_timer(FLUSH_S).timeout
	quit(0)
