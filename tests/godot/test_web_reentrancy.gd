extends "test_reentrancy.gd"
## test_reentrancy.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer).


func _init() -> void:
	web_path = true
