## The node every multiplayer test process puts at /root/Main: the RPCs of the scenarios, and a
## MultiplayerSpawner (Main/Spawner) that spawns into Main/World. Godot matches RPCs and spawns by
## node path, so the server and every client build exactly this.
##
## An RPC only records itself in [member inbox]; the process scripts (mp_server.gd,
## mp_client.gd) read the inbox in their own order.
extends Node

## What arrived, in order: {"rpc": String, "from": int (the sender's peer id), "args": Array}.
var inbox: Array[Dictionary] = []
var world: Node
var spawner: MultiplayerSpawner


func _ready() -> void:
	world = Node.new()
	world.name = "World"
	add_child(world)
	spawner = MultiplayerSpawner.new()
	spawner.name = "Spawner"
	spawner.spawn_function = _spawn_crate
	add_child(spawner)
	spawner.spawn_path = spawner.get_path_to(world)


## The messages of one RPC received so far (optionally only those whose first argument is tag).
func received(rpc_name: String, tag: Variant = null) -> Array[Dictionary]:
	var found: Array[Dictionary] = []
	for message in inbox:
		if message["rpc"] == rpc_name and (tag == null or message["args"][0] == tag):
			found.append(message)
	return found


# ---- RPCs ---------------------------------------------------------------------------------------


## Client → server, once connected: who I am and the id I was given.
@rpc("any_peer", "call_remote", "reliable")
func hello(client_name: String, id: int) -> void:
	_record("hello", [client_name, id])


## Server → client: do the phase (args depend on it).
@rpc("authority", "call_remote", "reliable")
func command(phase: String, args: Array) -> void:
	_record("command", [phase, args])


## Client → server: I finished the phase (or reached its step).
@rpc("any_peer", "call_remote", "reliable")
func phase_done(phase: String) -> void:
	_record("phase_done", [phase])


## Anyone → anyone (client → client through the server's relay): a payload and its SHA-256.
@rpc("any_peer", "call_remote", "reliable")
func blob(tag: String, data: PackedByteArray, sha256_hex: String) -> void:
	_record("blob", [tag, data, sha256_hex])


func _record(rpc_name: String, args: Array) -> void:
	inbox.append({"rpc": rpc_name, "from": multiplayer.get_remote_sender_id(), "args": args})


## The spawner's spawn_function, on the server and on every client: data is what the server
## passed to spawn().
func _spawn_crate(data: Variant) -> Node:
	var crate := Node2D.new()
	crate.name = data["name"]
	crate.position = data["position"]
	crate.set_meta("label", data["label"])
	return crate
