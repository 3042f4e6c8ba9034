## The multiplayer sample: a Godot-hosted WebSocketMultiplayerPeer server and two players on
## RustWebSocketClient (gd_mp_api = true) in one process, exchanging RPCs. Each lives in its own
## branch with its own SceneMultiplayer, exactly as if they were separate games.
##
## For players, the switch from Godot's own client is two lines:
##   var peer := RustWebSocketClient.new()
##   peer.connect_to_url(url, PackedStringArray(), true)   # was: peer.create_client(url)
##
## Run headless (`cargo xtask demo`), it plays the session, prints the transcript and exits 0.
extends Control

const PORT := 9081
const PLAYERS: Array[String] = ["Ada", "Bob"]
## A session that is not over after this many seconds has failed.
const SESSION_TIMEOUT_S := 30.0

var _server_peer := WebSocketMultiplayerPeer.new()
var _players: Dictionary[String, Node] = {}

@onready var _log: RichTextLabel = %Log


func _ready() -> void:
	var watchdog := Timer.new()
	watchdog.one_shot = true
	watchdog.timeout.connect(_on_session_timeout)
	add_child(watchdog)
	watchdog.start(SESSION_TIMEOUT_S)

	var server := _add_branch("Server")
	var err := _server_peer.create_server(PORT, "127.0.0.1")
	if err != OK:
		_say("Server", "cannot listen on port %d (error %d)" % [PORT, err])
		_finish(false)
		return
	server.multiplayer.multiplayer_peer = _server_peer
	server.multiplayer.peer_connected.connect(func(id: int) -> void: _say("Server", "peer %d connected" % id))
	_say("Server", "listening on ws://127.0.0.1:%d" % PORT)

	for player_name in PLAYERS:
		var branch := _add_branch(player_name)
		_players[player_name] = branch
		var peer := RustWebSocketClient.new()
		peer.connect_to_url("ws://127.0.0.1:%d" % PORT, PackedStringArray(), true)
		branch.multiplayer.multiplayer_peer = peer
		branch.multiplayer.connected_to_server.connect(_on_connected.bind(player_name))


## A node with its own SceneMultiplayer and a Chat child.
func _add_branch(branch_name: String) -> Node:
	var branch := Node.new()
	branch.name = branch_name
	add_child(branch)
	get_tree().set_multiplayer(SceneMultiplayer.new(), branch.get_path())
	var chat: Node = preload("res://multiplayer/chat.gd").new()
	chat.name = "Chat"
	chat.said.connect(_on_said.bind(branch_name))
	branch.add_child(chat)
	return branch


func _on_connected(player_name: String) -> void:
	var branch := _players[player_name]
	_say(player_name, "connected with peer id %d" % branch.multiplayer.get_unique_id())
	branch.get_node("Chat").join.rpc_id(1, player_name)


func _on_said(text: String, branch_name: String) -> void:
	_say(branch_name, text)
	# Once Bob has heard that Ada is here, Ada whispers to Bob through the server's relay.
	if branch_name == "Bob" and text.begins_with("server announces: Ada"):
		var bob_id: int = _players["Bob"].multiplayer.get_unique_id()
		_players["Ada"].get_node("Chat").whisper.rpc_id(bob_id, "hi Bob, this went through the server")
	if text.begins_with("whisper from"):
		_finish(true)


func _say(who: String, text: String) -> void:
	var line := "[%s] %s" % [who, text]
	print(line)
	_log.append_text(line + "\n")


func _on_session_timeout() -> void:
	_say("lobby", "the session did not finish within %d s" % SESSION_TIMEOUT_S)
	_finish(false)


func _finish(success: bool) -> void:
	_say("lobby", "session %s" % ("complete" if success else "FAILED"))
	for player_name in _players:
		_players[player_name].multiplayer.multiplayer_peer.close()
	_server_peer.close()
	if DisplayServer.get_name() == "headless":
		get_tree().quit(0 if success else 1)
