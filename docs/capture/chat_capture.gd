## The chat scene's screenshot (`cargo xtask screenshot`). An autoload next to the sample
## project's main scene, run in a real window: it presses Connect, types a few messages into the
## message box as a user would, waits for the local echo server to send each one back,
## disconnects, then saves the window to the PNG named by `-- --screenshot=<path>` and quits.
extends Node

const MESSAGES := [
	"Hello from RustWebSocketClient!",
	"Messages of any size, nothing dropped",
	"No call ever blocks the game",
]
## A session not over after this many seconds has hung: quit with an error instead.
const WATCHDOG_S := 120.0

var _path := ""
var _main: Node
var _echoes := 0


func _ready() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--screenshot="):
			_path = arg.trim_prefix("--screenshot=")
	# The main scene is ready one frame after the autoloads.
	await get_tree().process_frame
	_main = get_tree().current_scene
	_main.socket.connection_established.connect(_on_connection_established)
	_main.socket.message_received.connect(_on_message_received)
	_main.socket.connection_closed.connect(_on_connection_closed)
	_main.socket.connection_error.connect(_on_connection_error)
	get_tree().create_timer(WATCHDOG_S).timeout.connect(_on_watchdog)
	_main.get_node("%ConnectButton").pressed.emit()


func _on_connection_established(_protocol: String) -> void:
	_type(MESSAGES[0])


func _on_message_received(_message: Variant, _is_text: bool) -> void:
	_echoes += 1
	if _echoes < MESSAGES.size():
		_type(MESSAGES[_echoes])
	else:
		# The Connect button reads "Disconnect" while connected.
		_main.get_node("%ConnectButton").pressed.emit()


func _type(text: String) -> void:
	var message: LineEdit = _main.get_node("%Message")
	message.text = text
	message.text_submitted.emit(text)


func _on_connection_closed(_was_clean_close: bool) -> void:
	# Two drawn frames, so the window shows the last log line.
	await RenderingServer.frame_post_draw
	await RenderingServer.frame_post_draw
	var error := get_viewport().get_texture().get_image().save_png(_path)
	if error != OK:
		printerr("cannot save %s: %s" % [_path, error_string(error)])
	get_tree().quit(0 if error == OK and _echoes == MESSAGES.size() else 1)


func _on_connection_error() -> void:
	printerr("chat_capture: connection failed: ", _main.socket.get_last_error())
	get_tree().quit(1)


func _on_watchdog() -> void:
	printerr("chat_capture: the session did not finish within %d s" % WATCHDOG_S)
	get_tree().quit(1)
