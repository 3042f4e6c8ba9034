## The lobby's RPCs. The same node sits under the server and under each player; Godot's
## high-level multiplayer matches them by path below each branch's multiplayer root.
extends Node

## A line for the transcript, from this branch's point of view.
signal said(text: String)


## A player tells the server its name (player → server).
@rpc("any_peer", "reliable")
func join(player_name: String) -> void:
	var peer := multiplayer.get_remote_sender_id()
	said.emit("%s joined as peer %d" % [player_name, peer])
	announce.rpc("%s is here (peer %d)" % [player_name, peer])


## The server tells every player (server → players).
@rpc("authority", "reliable")
func announce(text: String) -> void:
	said.emit("server announces: %s" % text)


## A player writes to another player; the server relays it (player → player).
@rpc("any_peer", "reliable")
func whisper(text: String) -> void:
	said.emit("whisper from peer %d: %s" % [multiplayer.get_remote_sender_id(), text])
