extends "test_lifecycle.gd"
## test_lifecycle.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer).


func _init() -> void:
	web_path = true
