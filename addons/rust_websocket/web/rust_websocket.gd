@tool
class_name RustWebSocket
extends RefCounted
## The portable way to make a client: [method create_client] returns a native
## [code]RustWebSocketClient[/code] where the extension is loaded, and a
## [RustWebSocketWebClient] (the same API on Godot's [WebSocketPeer], the browser's WebSocket in a
## web export) where it is not. A script that names only this class parses and runs in both.
##
## [codeblock]
## var socket := RustWebSocket.create_client()
##
## func _ready() -> void:
##     socket.message_received.connect(func(message: Variant, _is_text: bool) -> void: print(message))
##     socket.call("connect_to_url", "wss://example.com/chat")
## [/codeblock]

## The native class's name, looked up at run time so this script parses without it.
const NATIVE_CLASS := &"RustWebSocketClient"
const WebClient := preload("rust_websocket_web_client.gd")

## If [code]true[/code], [method create_client] returns the web client even where the native
## class exists: to try on the desktop what a web export will do, and for the test suite.
static var force_web_client := false


## A new client: the native [code]RustWebSocketClient[/code] when the extension is loaded and
## [member force_web_client] is [code]false[/code], else a [RustWebSocketWebClient]. Both are
## [MultiplayerPeer]s with the same signals, methods and properties.
static func create_client() -> MultiplayerPeer:
	if is_native_available() and not force_web_client:
		return ClassDB.instantiate(NATIVE_CLASS)
	return WebClient.new()


## Whether the native class is loaded (false in a web export, which has no library for it).
static func is_native_available() -> bool:
	return ClassDB.class_exists(NATIVE_CLASS)


## Whether [param client] is the web client ([RustWebSocketWebClient]).
static func is_web_client(client: Object) -> bool:
	return client is WebClient
