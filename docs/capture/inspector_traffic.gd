## The traffic of the WebSockets tab's screenshot (`cargo xtask screenshot`): an autoload of the
## sample project's copy that the editor runs. Like a user, it presses Connect and types chat
## messages into the message box, one every SEND_INTERVAL_S, plus a binary message, then keeps
## the connection open (its heartbeat measures the round trip) until the editor stops the game.
extends Node

const MESSAGES := [
	"Hello from RustWebSocketClient!",
	"{\"type\": \"move\", \"x\": 12, \"y\": 7}",
	"Every message shows up in the WebSockets tab",
	"{\"type\": \"chat\", \"text\": \"gg\"}",
]
const SEND_INTERVAL_S := 0.4

var _main: Node
var _sent := 0


func _ready() -> void:
	# The main scene is ready one frame after the autoloads.
	await get_tree().process_frame
	_main = get_tree().current_scene
	_main.socket.connection_established.connect(_on_connection_established)
	_main.get_node("%ConnectButton").pressed.emit()


func _on_connection_established(_protocol: String) -> void:
	var timer := Timer.new()
	timer.wait_time = SEND_INTERVAL_S
	timer.timeout.connect(_send_next.bind(timer))
	add_child(timer)
	timer.start()


func _send_next(timer: Timer) -> void:
	if _sent < MESSAGES.size():
		var message: LineEdit = _main.get_node("%Message")
		message.text = MESSAGES[_sent]
		message.text_submitted.emit(message.text)
	elif _sent == MESSAGES.size():
		_main.socket.send(PackedByteArray([0x82, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xa4, 0x70, 0x69, 0x6e, 0x67]))
	else:
		timer.stop()
	_sent += 1
