extends "test_handover.gd"
## test_handover.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer).


func _init() -> void:
	web_path = true
