extends "test_delivery.gd"
## test_delivery.gd's tests on the web path (RustWebSocketWebClient over Godot's WebSocketPeer).


func _init() -> void:
	web_path = true
