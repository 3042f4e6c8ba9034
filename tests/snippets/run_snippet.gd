## Runs a README snippet meant to run (`cargo xtask snippets`): the script given after `--` is
## attached to a node in the tree, where it connects its `socket` to the local echo server
## (`cargo xtask` put that server's URL in place of the README's). Passes, exit code 0, once the
## socket received a message back; fails with the socket's last error if the connection ends
## first or nothing arrives within WAIT_S.
extends SceneTree

## Longest wait for the echo: a watchdog, far above what a loopback echo takes.
const WAIT_S := 20.0

var _socket: RustWebSocketClient = null
var _received := false
var _started_ms := 0


func _initialize() -> void:
	var path: String = OS.get_cmdline_user_args()[0]
	var script: GDScript = load(path)
	var node := Node.new()
	node.set_script(script)
	root.add_child(node)
	_socket = node.get("socket")
	if _socket == null:
		push_error("%s has no `socket` RustWebSocketClient to watch" % path)
		quit(1)
		return
	_socket.message_received.connect(func(_message: Variant, _is_text: bool) -> void: _received = true)
	_started_ms = Time.get_ticks_msec()


func _process(_delta: float) -> bool:
	if _socket == null:
		return false
	if _received:
		print("the snippet's socket received a message back")
		quit(0)
	elif _socket.get_ready_state() == RustWebSocketClient.STATE_CLOSED or Time.get_ticks_msec() - _started_ms > WAIT_S * 1000.0:
		push_error("no message came back: %s" % _socket.get_last_error())
		quit(1)
	return false
