## Gives each debugger session a "WebSockets" tab (websocket_panel.gd) and hands it the
## `rust_websocket:<what>` messages the running game's RustWebSocketClients send (see
## rust/gdext/src/debugger.rs for what each carries).
@tool
extends EditorDebuggerPlugin

const WebSocketPanel := preload("websocket_panel.gd")
const CAPTURE := "rust_websocket"

## The panel of each session, by session id.
var _panels := {}


func _has_capture(capture: String) -> bool:
	return capture == CAPTURE


func _capture(message: String, data: Array, session_id: int) -> bool:
	var panel: WebSocketPanel = _panels.get(session_id)
	if panel == null or data.is_empty() or not data[0] is Dictionary:
		return false
	panel.add_report(message.trim_prefix(CAPTURE + ":"), data[0])
	return true


func _setup_session(session_id: int) -> void:
	var panel := WebSocketPanel.new()
	panel.name = "WebSockets"
	_panels[session_id] = panel
	var session := get_session(session_id)
	# A new run of the game starts with an empty tab.
	session.started.connect(panel.clear)
	session.add_session_tab(panel)
