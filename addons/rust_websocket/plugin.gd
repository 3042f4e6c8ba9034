## The rust_websocket editor plugin: adds the "WebSockets" tab to each debugger session (see
## debugger/websocket_debugger_plugin.gd). The RustWebSocketClient class works without it.
@tool
extends EditorPlugin

var _debugger_plugin: EditorDebuggerPlugin


func _enter_tree() -> void:
	_debugger_plugin = preload("debugger/websocket_debugger_plugin.gd").new()
	add_debugger_plugin(_debugger_plugin)


func _exit_tree() -> void:
	remove_debugger_plugin(_debugger_plugin)
	_debugger_plugin = null
