extends "test_case.gd"
## The reports the game sends to the editor's debugger (rust/gdext/src/debugger.rs): a real
## game process, started with `--remote-debug` against debugger_listener.gd, which decodes its
## messages as the editor does.

const DebuggerListener := preload("debugger_listener.gd")
const WebSocketPanel := preload("res://addons/rust_websocket/debugger/websocket_panel.gd")
const GAME := "res://tests/godot/debugger_game.gd"
## What the Godot debugger protocol calls an error report (a push_error or script error).
const GODOT_ERROR_MESSAGE := "error"


func test_debugger_sees_a_whole_session() -> void:
	var url := py_url("/echo")
	var listener := await _run_game(url, "session")
	var reports := listener.reports()
	var connecting := _of(reports, "connecting")
	if assert_eq(connecting.size(), 1, "connecting reports"):
		assert_eq(connecting[0].url, url, "the reported URL")
	var states := _of(reports, "state").map(func(r): return r.state)
	assert_eq(states, [RustWebSocketClient.STATE_CONNECTING, RustWebSocketClient.STATE_OPEN,
		RustWebSocketClient.STATE_CLOSING, RustWebSocketClient.STATE_CLOSED], "the states in order")
	var opened := _of(reports, "opened")
	if assert_eq(opened.size(), 1, "opened reports"):
		assert_eq(opened[0].peer, "127.0.0.1:%d" % py_port, "the reported peer")
		assert_eq(opened[0].tls_version, "", "no TLS on ws://")
	var messages := _of(reports, "message")
	var lines := messages.map(func(r): return "%s %s %d %s" % [
		">" if r.outgoing else "<", "text" if r.is_text else "binary", r.size, "cut" if r.cut else "whole"])
	var long_text_size := "é".to_utf8_buffer().size() * 100
	var expected := ["> text 14 whole", "> binary 200 cut", "> text %d cut" % long_text_size]
	expected += ["< text 14 whole", "< binary 200 cut", "< text %d cut" % long_text_size]
	assert_eq(lines, expected, "the messages each way")
	if messages.size() == 6:
		assert_eq(messages[0].preview, "hello debugger", "a short text's preview")
		var binary_preview: PackedByteArray = messages[1].preview
		assert_eq(binary_preview.size(), 64, "a binary preview's length")
		assert_eq(binary_preview[63], 63, "a binary preview holds the first bytes")
		assert_eq(messages[2].preview, "é".repeat(32), "a long text's preview: whole characters")
		assert_eq(messages[4].preview, binary_preview, "the echo's preview")
	var closes := _of(reports, "close").map(func(r): return [r.outgoing, r.code, r.reason])
	assert_eq(closes, [[true, 4000, "test over"]], "the close frame the game sent")
	var closed := _of(reports, "closed")
	if assert_eq(closed.size(), 1, "closed reports"):
		assert_eq([closed[0].clean, closed[0].code], [true, 4000], "a clean close with the game's code")
	assert_true(_of(reports, "round_trip").size() >= 1 and _of(reports, "round_trip")[0].round_trip_time > 0.0,
		"a pong's round trip is reported: %s" % show(_of(reports, "round_trip")))
	var statistics := _of(reports, "statistics")
	if assert_true(not statistics.is_empty(), "statistics are reported"):
		var last: Dictionary = statistics[-1]
		assert_eq([last.messages_sent, last.messages_received], [3, 3], "the final message counts")
		assert_eq(last.bytes_sent, 14 + 200 + long_text_size, "the final payload bytes sent")
	assert_eq(_of(reports, "not_shown"), [], "nothing left out of a short session")
	var ids := {}
	for report in reports:
		ids[report.id] = true
	assert_eq(ids.size(), 1, "one client id in every report")
	_assert_no_errors(listener)


func test_debugger_reports_of_a_flood_stay_bounded_and_count_what_they_leave_out() -> void:
	watchdog_s = 60.0
	var listener := await _run_game(py_url("/echo"), "flood")
	var reports := listener.reports()
	var shown := _of(reports, "message").size()
	var left_out := 0
	for report in _of(reports, "not_shown"):
		left_out += report.count
	var sent: int = preload(GAME).FLOOD_MESSAGES
	note("%d messages shown, %d not shown" % [shown, left_out])
	assert_eq(shown + left_out, 2 * sent, "every message sent and received is shown or counted")
	assert_true(shown < sent, "a flood is not reported message by message (%d shown)" % shown)
	assert_true(left_out > 0, "what is left out is counted")
	_assert_no_errors(listener)


func test_debugger_reports_can_be_turned_off_by_the_project_setting() -> void:
	var listener := await _run_game(py_url("/echo"), "off")
	assert_true(listener.messages.size() > 0, "the debugger connection worked")
	assert_eq(listener.reports(), [], "no rust_websocket reports with the setting false")
	_assert_no_errors(listener)


## Runs debugger_game.gd with `--remote-debug` to a fresh listener until it exits, and returns
## the listener with everything it received.
func _run_game(url: String, scenario: String) -> DebuggerListener:
	var listener: DebuggerListener = add_node(DebuggerListener.new())
	var args := _godot_prefix_args()
	args.append_array(["--headless", "--path", ProjectSettings.globalize_path("res://"),
		"--remote-debug", "tcp://127.0.0.1:%d" % listener.port, "--script", GAME,
		"--", "--url=" + url, "--scenario=" + scenario])
	var program: String = args.pop_front()
	var pid := OS.create_process(program, args)
	if not assert_true(pid > 0, "the game process started: %s %s" % [program, args]):
		return listener
	var ended := await wait_for(func(): return not OS.is_process_running(pid), 40.0)
	assert_true(ended, "the %s game ended by itself" % scenario)
	if not ended:
		OS.kill(pid)
	# What the game sent last may still be on its way.
	await wait_frames(10)
	return listener


## This Godot's own command line up to its first argument: the executable, or (for the Godot
## that `cargo xtask` fetches) the dynamic loader, its options and the binary.
func _godot_prefix_args() -> Array:
	var own := Array(OS.get_cmdline_args())
	var file := FileAccess.open("/proc/self/cmdline", FileAccess.READ)
	if file == null:
		return [OS.get_executable_path()]
	# The arguments, each ended by a NUL byte.
	var parts := []
	var part := PackedByteArray()
	for byte in file.get_buffer(1 << 20):
		if byte == 0:
			parts.append(part.get_string_from_utf8())
			part.clear()
		else:
			part.append(byte)
	for start in parts.size():
		if parts.slice(start, start + own.size()) == own:
			return parts.slice(0, start)
	return [OS.get_executable_path()]


func _of(reports: Array[Dictionary], what: String) -> Array:
	return reports.filter(func(r): return r.what == what)


func _assert_no_errors(listener: DebuggerListener) -> void:
	for message in listener.messages:
		if message[0] == GODOT_ERROR_MESSAGE:
			fail("the game reported an error to the debugger: %s" % show(message[1]))


func test_debugger_tab_lists_the_connection_and_its_messages() -> void:
	var url := py_url("/echo")
	var listener := await _run_game(url, "session")
	var panel: Control = add_node(WebSocketPanel.new())
	for report in listener.reports():
		panel.add_report(report.what, report)
	var rows: Array = panel.connection_rows()
	if assert_eq(rows.size(), 1, "connections listed"):
		var long_text_size := "é".to_utf8_buffer().size() * 100
		var sent := String.humanize_size(14 + 200 + long_text_size)
		assert_eq([rows[0][0], rows[0][1], rows[0][3], rows[0][4]], [url, "closed", "3 / " + sent, "3 / " + sent],
			"URL, state, and messages and bytes each way")
		assert_true(rows[0][2].ends_with(" ms"), "the round trip is shown: %s" % rows[0][2])
	var texts: Array = panel.log_rows().map(func(row): return "%s %s %s" % [row[1], row[2], row[3]])
	assert_true(texts.has("↑ 14 B hello debugger"), "the text sent is in the log: %s" % show(texts))
	assert_true(texts.has("↓ 200 B " + " ".join(range(64).map(func(i): return "%02x" % i)) + " …"),
		"the binary echo is shown in hex, cut: %s" % show(texts))
	assert_true(texts.has("  close frame sent: 4000 \"test over\""), "the close frame is in the log")
	panel._filter.text = "hello"
	panel._filter.text_changed.emit("hello")
	assert_eq(panel.log_rows().size(), 2, "the filter keeps the two lines with 'hello'")
	panel.clear()
	assert_eq([panel.connection_rows(), panel.log_rows()], [[], []], "clear empties the tab")
