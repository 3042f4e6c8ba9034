extends "mp_process.gd"
## A client of a multiplayer scenario: RustWebSocketClient with gd_mp_api = true ("rust"), or
## Godot's own WebSocketMultiplayerPeer.create_client ("godot"), assigned to the SceneTree's
## multiplayer. It says hello once connected, then plays the phases the server commands.
##
##   godot --headless --path <project> --script res://tests/multiplayer/mp_client.gd -- \
##       --scenario=<name> --name=<client name> --port=<server port>
##
## Prints its checks and the closing line (see mp_process.gd).

## Room for several 60 KB RPCs queued within a frame (Godot's client; the default holds one).
const BUFFER_SIZE := 1 << 20
## How long a "rust" client blocks its main thread in the stall phase.
const STALL_MS := 2000

## This client's entry in the scenario.
var _spec := {}
var _peer: MultiplayerPeer
var _rust := false
## Name → peer id of every client in the session, from the server.
var _roster := {}
## The multiplayer signals without arguments, in order: "connected_to_server",
## "connection_failed", "server_disconnected".
var _events: Array[String] = []
## RustWebSocketClient's own signals, in order: "connection_error", "connection_closed(<clean>)".
var _peer_events: Array[String] = []
## Ids of multiplayer.peer_connected / peer_disconnected, in order.
var _connected: Array[int] = []
var _disconnected: Array[int] = []
var _next_command := 0


func play() -> void:
	if not scenario["clients"].has(process_name):
		begin_check("setup")
		expect(false, "scenario %s has no client %s" % [scenario_name, process_name])
		end_check()
		return
	_spec = scenario["clients"][process_name]
	if not _open():
		return
	if _spec.get("refused", false):
		await _refused()
		return
	await wait_until(func(): return not _events.is_empty())
	if not _events.has("connected_to_server"):
		begin_check("joined")
		expect(false, "not connected: signals %s, %s" % [_events, _describe_peer()])
		end_check()
		return
	main.hello.rpc_id(1, process_name, _peer.get_unique_id())
	while not aborted:
		phase = "waiting for a command"
		var has_command := func() -> bool:
			return main.received("command").size() > _next_command or _events.has("server_disconnected")
		if not await wait_until(has_command, 3600.0):
			return
		var commands := main.received("command")
		if commands.size() <= _next_command:
			begin_check("session")
			expect(false, "the server went away before the scenario was over, in phase %s (%s)" % [
				phase, _describe_peer()])
			end_check()
			return
		var command: Dictionary = commands[_next_command]
		_next_command += 1
		phase = command["args"][0]
		var args: Array = command["args"][1]
		match phase:
			"join":
				await _join(args[0])
			"exchange":
				await _exchange()
			"spawn":
				await _spawn(args[0])
			"stall":
				await _stall(args[0])
			"peer_left":
				await _peer_left(args[0], args[1])
			"leave":
				await _leave()
				return
			"shutdown":
				await _shutdown()
				return
			_:
				begin_check("command")
				expect(false, "unknown command " + phase)
				end_check()


func close_peer() -> void:
	if _peer != null and _peer.get_connection_status() != MultiplayerPeer.CONNECTION_DISCONNECTED:
		_peer.close()


## Creates the peer, starts connecting and hands it to the SceneTree's multiplayer.
func _open() -> bool:
	var tls: bool = scenario["tls"]
	var url := ("wss://localhost:%d" if tls else "ws://127.0.0.1:%d") % port
	var protocols := PackedStringArray(_spec.get("protocols", []))
	var error := OK
	_rust = _spec["kind"] == "rust"
	if _rust:
		var peer := RustWebSocketClient.new()
		if tls:
			peer.trusted_tls_certificate = load("res://tests/certs/localhost.crt")
		peer.connection_error.connect(_on_rust_connection_error)
		peer.connection_closed.connect(_on_rust_connection_closed)
		error = peer.connect_to_url(url, protocols, true)
		_peer = peer
	else:
		var peer := WebSocketMultiplayerPeer.new()
		peer.supported_protocols = protocols
		peer.inbound_buffer_size = BUFFER_SIZE
		peer.outbound_buffer_size = BUFFER_SIZE
		var tls_options: TLSOptions = null
		if tls:
			tls_options = TLSOptions.client(load("res://tests/certs/localhost.crt"))
		error = peer.create_client(url, tls_options)
		_peer = peer
	note("%s: %s client connecting to %s with sub-protocols %s" % [
		process_name, "RustWebSocketClient" if _rust else "WebSocketMultiplayerPeer", url, protocols])
	if error != OK:
		begin_check("connect")
		expect(false, "connecting to %s failed at once: %s %s" % [url, error_string(error), _describe_peer()])
		end_check()
		return false
	var api := main.multiplayer
	api.connected_to_server.connect(_on_connected_to_server)
	api.connection_failed.connect(_on_connection_failed)
	api.server_disconnected.connect(_on_server_disconnected)
	api.peer_connected.connect(_on_peer_connected)
	api.peer_disconnected.connect(_on_peer_disconnected)
	api.multiplayer_peer = _peer
	return true


## The other clients of the session.
func _others() -> Array[String]:
	var names: Array[String] = []
	for client_name: String in _roster:
		if client_name != process_name:
			names.append(client_name)
	return names


## What the peer says about its connection.
func _describe_peer() -> String:
	if _peer == null:
		return "no peer"
	var text := "status %s" % status_name(_peer.get_connection_status())
	if _rust:
		var peer: RustWebSocketClient = _peer
		text += ", ready state %d, close code %d, last error \"%s\", signals %s" % [
			peer.get_ready_state(), peer.get_close_code(), peer.get_last_error(), _peer_events]
	return text


# ---- Phases -------------------------------------------------------------------------------------


## A server that requires a sub-protocol this client does not offer must refuse it, and the
## client must say so.
func _refused() -> void:
	var ended := await wait_until(func(): return not _events.is_empty())
	var error := ""
	if _rust:
		error = (_peer as RustWebSocketClient).get_last_error()
	note("%s: signals %s, peer signals %s, get_last_error() \"%s\"" % [process_name, _events, _peer_events, error])
	begin_check("refused")
	expect(ended, "neither connected_to_server nor connection_failed after %.0f s" % WAIT_S)
	expect(not _events.has("connected_to_server"), "it joined a server that requires the sub-protocols %s" % [scenario["protocols"]])
	expect(_events.has("connection_failed"), "no multiplayer.connection_failed (signals %s)" % [_events])
	if _rust:
		expect(_peer_events.has("connection_error"), "no connection_error (peer signals %s)" % [_peer_events])
		expect(not error.is_empty(), "get_last_error() is empty")
	expect_eq(status_name(_peer.get_connection_status()), "DISCONNECTED", "connection status")
	end_check()
	if _rust:
		# The server closes the connection without answering the upgrade: the error should say so.
		begin_check("refusal_explained")
		expect(error.contains("closed the connection"), "get_last_error() should say that the server closed the connection without answering the upgrade; it is \"%s\"" % error)
		end_check()
	FileAccess.open(refusal_marker(process_name), FileAccess.WRITE)


## The server's roster: this client's id is what the server saw; the others joined (relay).
func _join(roster: Dictionary) -> void:
	_roster = roster
	var own := _peer.get_unique_id()
	note("%s: joined as peer %d; roster %s" % [process_name, own, roster])
	begin_check("joined")
	expect(_events.has("connected_to_server"), "no multiplayer.connected_to_server")
	expect(_connected.has(1), "no multiplayer.peer_connected(1) (got %s)" % [_connected])
	expect_eq(status_name(_peer.get_connection_status()), "CONNECTED", "connection status")
	expect_eq(own, roster.get(process_name, -1), "get_unique_id() vs the id the server saw")
	expect_eq(main.multiplayer.get_unique_id(), own, "multiplayer.get_unique_id() vs the peer's get_unique_id()")
	expect(own >= 2, "get_unique_id() %d should be >= 2" % own)
	if _rust and scenario["tls"]:
		var peer: RustWebSocketClient = _peer
		expect(peer.get_requested_url().begins_with("wss://"), "URL %s is not wss://" % peer.get_requested_url())
		expect(not peer.get_tls_version().is_empty(), "get_tls_version() is empty")
		note("%s: %s, %s" % [process_name, peer.get_tls_version(), peer.get_tls_cipher_suite()])
	end_check()
	if _rust and not _spec.get("protocols", []).is_empty():
		begin_check("selected_protocol")
		expect_eq((_peer as RustWebSocketClient).get_selected_protocol(), _spec["protocols"][0], "get_selected_protocol()")
		end_check()
	var others := _others()
	if not others.is_empty():
		var everyone_here := func() -> bool:
			return others.all(func(other: String) -> bool: return _connected.has(_roster[other]))
		await wait_until(everyone_here)
		begin_check("peers_via_relay")
		for other in others:
			expect(_connected.has(_roster[other]), "no multiplayer.peer_connected(%d) for %s (got %s)" % [
				_roster[other], other, _connected])
		end_check()
	main.phase_done.rpc_id(1, "join")


## 60 KB to the server and to every other client; 60 KB from each of them.
func _exchange() -> void:
	var bytes := random_bytes()
	send_blob(1, "to_server", bytes)
	var others := _others()
	for other in others:
		send_blob(_roster[other], "to_client", bytes)
	var all_here := func() -> bool:
		if blob_from(1, "from_server").is_empty():
			return false
		return others.all(func(other: String) -> bool: return not blob_from(_roster[other], "to_client").is_empty())
	await wait_until(all_here)
	begin_check("rpc_60kb_from_server")
	expect_blob(blob_from(1, "from_server"), PAYLOAD_SIZE, "60 KB from the server")
	end_check()
	for other in others:
		begin_check("rpc_60kb_from_" + other)
		expect_blob(blob_from(_roster[other], "to_client"), PAYLOAD_SIZE,
			"60 KB from %s (peer %d, through the server's relay)" % [other, _roster[other]])
		end_check()
	main.phase_done.rpc_id(1, "exchange")


## The server's MultiplayerSpawner spawned data["name"] into Main/World: the replica is here.
func _spawn(data: Dictionary) -> void:
	var path := NodePath("World/" + data["name"])
	await wait_until(func(): return main.has_node(path))
	begin_check("spawned")
	var crate := main.get_node_or_null(path)
	if expect(crate != null, "no node Main/%s after %.0f s (World holds %s)" % [path, WAIT_S, main.world.get_children()]):
		expect_eq(crate.get_class(), "Node2D", "class")
		expect_eq(String(crate.name), data["name"], "name")
		expect_eq(crate.get("position"), data["position"], "position")
		expect_eq(crate.get_meta("label", ""), data["label"], "label")
		expect_eq(crate.get_multiplayer_authority(), 1, "multiplayer authority")
	end_check()
	main.phase_done.rpc_id(1, "spawn")


## Tells the server, then blocks the main thread: the RPCs the server sends meanwhile must all
## be delivered, intact and in order, once the main thread runs again.
func _stall(sizes: Array) -> void:
	main.phase_done.rpc_id(1, "stalling")
	var started := Time.get_ticks_msec()
	OS.delay_msec(STALL_MS)
	# For the transcript: what the background thread received meanwhile (poll() only moves it
	# from there to the packet queue; SceneMultiplayer reads the queue on its next poll).
	_peer.poll()
	note("%s: main thread blocked for %d ms; %d packets had arrived meanwhile" % [
		process_name, Time.get_ticks_msec() - started, _peer.get_available_packet_count()])
	var all_here := func() -> bool:
		for i in sizes.size():
			if blob_from(1, "stall_%d" % i).is_empty():
				return false
		return true
	await wait_until(all_here)
	begin_check("rpcs_during_stall")
	var positions: Array[int] = []
	for i in sizes.size():
		var message := blob_from(1, "stall_%d" % i)
		if expect_blob(message, sizes[i], "RPC %d of %d sent during the stall" % [i + 1, sizes.size()]):
			positions.append(main.inbox.find(message))
	if positions.size() == sizes.size():
		var sorted := positions.duplicate()
		sorted.sort()
		expect_eq(positions, sorted, "positions of the RPCs in arrival order")
	end_check()
	main.phase_done.rpc_id(1, "stall")


## Another client left: this one must see it go.
func _peer_left(other: String, id: int) -> void:
	await wait_until(func(): return _disconnected.has(id))
	begin_check("peer_disconnected_" + other)
	expect(_disconnected.has(id), "no multiplayer.peer_disconnected(%d) for %s (got %s)" % [id, other, _disconnected])
	end_check()
	main.phase_done.rpc_id(1, "peer_left:" + other)


## This client leaves the session.
func _leave() -> void:
	note("%s: leaving" % process_name)
	_peer.close()
	var closed := func() -> bool:
		if _rust:
			# SceneMultiplayer stops polling a peer that is no longer connected; the close
			# handshake still needs polls to finish.
			_peer.poll()
			if (_peer as RustWebSocketClient).get_ready_state() != RustWebSocketClient.STATE_CLOSED:
				return false
		return _peer.get_connection_status() == MultiplayerPeer.CONNECTION_DISCONNECTED
	await wait_until(closed)
	begin_check("left")
	expect_eq(status_name(_peer.get_connection_status()), "DISCONNECTED", "connection status")
	if _rust:
		expect(_peer_events.has("connection_closed(true)"), "no clean close: %s" % _describe_peer())
	end_check()


## The server shuts down: multiplayer.server_disconnected and peer_disconnected(1).
func _shutdown() -> void:
	main.phase_done.rpc_id(1, "shutdown")
	await wait_until(func(): return _events.has("server_disconnected") and _disconnected.has(1))
	note("%s: after the shutdown: signals %s, peer_disconnected %s, %s" % [
		process_name, _events, _disconnected, _describe_peer()])
	begin_check("server_shutdown")
	expect(_events.has("server_disconnected"), "no multiplayer.server_disconnected (signals %s)" % [_events])
	expect(_disconnected.has(1), "no multiplayer.peer_disconnected(1) (got %s)" % [_disconnected])
	expect_eq(status_name(_peer.get_connection_status()), "DISCONNECTED", "connection status")
	end_check()


func _on_connected_to_server() -> void:
	_events.append("connected_to_server")


func _on_connection_failed() -> void:
	_events.append("connection_failed")


func _on_server_disconnected() -> void:
	_events.append("server_disconnected")


func _on_peer_connected(id: int) -> void:
	_connected.append(id)


func _on_peer_disconnected(id: int) -> void:
	_disconnected.append(id)


func _on_rust_connection_error() -> void:
	_peer_events.append("connection_error")


func _on_rust_connection_closed(was_clean_close: bool) -> void:
	_peer_events.append("connection_closed(%s)" % was_clean_close)
