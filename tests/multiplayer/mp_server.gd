extends "mp_process.gd"
## The server of a multiplayer scenario: Godot's own WebSocketMultiplayerPeer.create_server on
## 127.0.0.1 (over TLS with res://tests/certs/localhost.* when the scenario says so), driving its
## clients through the scenario's phases with the `command` RPC.
##
##   godot --headless --path <project> --script res://tests/multiplayer/mp_server.gd -- \
##       --scenario=<name>
##
## Prints `CLIENT <name>` for every client the scenario wants started, then `READY <port>` once
## listening; then its checks and the closing line (see mp_process.gd).

## Room for several 60 KB RPCs queued (and relayed) to one peer within a frame; the default
## (64 KiB) holds one.
const BUFFER_SIZE := 1 << 20
const STALL_SIZES: Array[int] = [16, PAYLOAD_SIZE, 16]
## In the graceful shutdown, how long the server is busy after sending a client the close frame.
const CLOSE_ROUND_TRIP_MS := 200

var _peer := WebSocketMultiplayerPeer.new()
## The id of each client that said hello, by name.
var _ids := {}
## The clients still in the session.
var _present: Array[String] = []
## Ids in the order of the server's peer_connected / peer_disconnected signals.
var _connected: Array[int] = []
var _disconnected: Array[int] = []
## Steps some client did not finish in time.
var _late := PackedStringArray()


func play() -> void:
	if not _listen():
		return
	main.multiplayer.peer_connected.connect(_on_peer_connected)
	main.multiplayer.peer_disconnected.connect(_on_peer_disconnected)
	var refused := _refused_clients()
	for client_name in refused:
		DirAccess.remove_absolute(refusal_marker(client_name))
	for client_name in scenario["clients"]:
		print("CLIENT ", client_name)
	print("READY %d" % port)
	for step: String in scenario["phases"]:
		phase = step
		if step == "join":
			if not await _join():
				break
		elif step == "exchange":
			await _exchange()
		elif step == "spawn":
			await _spawn()
		elif step == "stall":
			await _stall()
		elif step.begins_with("leave"):
			await _leave(_present.duplicate() if step == "leave" else [step.get_slice(":", 1)])
		elif step == "shutdown" or step == "shutdown:graceful":
			await _shutdown(step == "shutdown:graceful")
		else:
			_late.append("unknown phase " + step)
	if not refused.is_empty():
		phase = "refusals"
		# Clients that expect to be refused may start after the others finished: stay up for them.
		begin_check("refused_clients_tried")
		for client_name in refused:
			var tried := func(): return FileAccess.file_exists(refusal_marker(client_name))
			expect(await wait_until(tried), "%s did not try to connect" % client_name)
		end_check()
	phase = "end"
	begin_check("all_phases_completed")
	expect(_late.is_empty(), "not finished in time: " + ", ".join(_late))
	end_check()


func close_peer() -> void:
	_peer.close()


## The clients of the scenario that expect the server to refuse them.
func _refused_clients() -> Array[String]:
	var refused: Array[String] = []
	for client_name: String in scenario["clients"]:
		if scenario["clients"][client_name].get("refused", false):
			refused.append(client_name)
	return refused


func _listen() -> bool:
	var tls: TLSOptions = null
	if scenario["tls"]:
		var key: CryptoKey = load("res://tests/certs/localhost.key")
		var certificate: X509Certificate = load("res://tests/certs/localhost.crt")
		tls = TLSOptions.server(key, certificate)
	_peer.supported_protocols = PackedStringArray(scenario["protocols"])
	_peer.inbound_buffer_size = BUFFER_SIZE
	_peer.outbound_buffer_size = BUFFER_SIZE
	# WebSocketMultiplayerPeer cannot tell its port: take one that is free a moment ago.
	var error := OK
	for _attempt in 5:
		var probe := TCPServer.new()
		probe.listen(0, "127.0.0.1")
		port = probe.get_local_port()
		probe.stop()
		error = _peer.create_server(port, "127.0.0.1", tls)
		if error == OK:
			main.multiplayer.multiplayer_peer = _peer
			return true
	begin_check("listen")
	expect(false, "create_server on 127.0.0.1:%d failed: %s" % [port, error_string(error)])
	end_check()
	return false


## The clients that are to join (the scenario's others must be refused).
func _joining() -> Array[String]:
	var names: Array[String] = []
	for client_name: String in scenario["clients"]:
		if not scenario["clients"][client_name].get("refused", false):
			names.append(client_name)
	return names


## Sends the command RPC to the named clients.
func _command(step: String, args: Array, names: Array) -> void:
	for client_name: String in names:
		main.command.rpc_id(_ids[client_name], step, args)


## Whether the named client reported the step done.
func _reported(client_name: String, step: String) -> bool:
	for message in main.received("phase_done", step):
		if message["from"] == _ids[client_name]:
			return true
	return false


## Waits until every named client reported the step done; records it in _late if not.
func _wait_reported(step: String, names: Array) -> bool:
	var missing := func() -> Array[String]:
		var late: Array[String] = []
		for client_name: String in names:
			if not _reported(client_name, step):
				late.append(client_name)
		return late
	if await wait_until(func(): return missing.call().is_empty()):
		return true
	_late.append("%s (no word from %s)" % [step, ", ".join(missing.call())])
	return false


# ---- Phases -------------------------------------------------------------------------------------


## Every client connects and says hello with its own get_unique_id(); the server checks the ids
## and sends everyone the roster; each client checks itself and the others (relay).
func _join() -> bool:
	var names := _joining()
	var all_here := func() -> bool:
		return main.received("hello").size() >= names.size() and _connected.size() >= names.size()
	var arrived := await wait_until(all_here)

	begin_check("ids_assigned")
	expect(arrived, "not everyone arrived: hello from %d of %d clients, peer_connected for %s" % [
		main.received("hello").size(), names.size(), _connected])
	for message in main.received("hello"):
		var client_name: String = message["args"][0]
		var claimed: int = message["args"][1]
		var sender: int = message["from"]
		note("%s joined as peer %d (it says its get_unique_id() is %d)" % [client_name, sender, claimed])
		if not expect(names.has(client_name), "hello from unexpected client %s" % client_name):
			continue
		expect_eq(claimed, sender, "%s: its get_unique_id() vs the peer id the server saw" % client_name)
		expect(sender >= 2, "%s: peer id %d should be >= 2" % [client_name, sender])
		_ids[client_name] = sender
	var distinct := {}
	for id in _ids.values():
		distinct[id] = true
	expect_eq(distinct.size(), names.size(), "distinct peer ids")
	end_check()

	begin_check("peer_connected")
	var expected: Array = _ids.values()
	expected.sort()
	var seen := _connected.duplicate()
	seen.sort()
	expect_eq(seen, expected, "ids of the server's peer_connected signals")
	end_check()

	for client_name in names:
		if _ids.has(client_name):
			_present.append(client_name)
	if _present.is_empty():
		_late.append("join (no client joined; the session is over)")
		return false
	_command("join", [_ids], _present)
	await _wait_reported("join", _present)
	return true


## 60 KB RPC arguments: server → every client now; the clients send theirs to the server and to
## each other (through the relay) when told.
func _exchange() -> void:
	_command("exchange", [], _present)
	var bytes := random_bytes()
	for client_name in _present:
		send_blob(_ids[client_name], "from_server", bytes)
	var all_sent := func() -> bool:
		for client_name in _present:
			if blob_from(_ids[client_name], "to_server").is_empty():
				return false
		return true
	await wait_until(all_sent)
	begin_check("rpc_60kb_from_clients")
	for client_name in _present:
		expect_blob(blob_from(_ids[client_name], "to_server"), PAYLOAD_SIZE, "60 KB from " + client_name)
	end_check()
	await _wait_reported("exchange", _present)


## The MultiplayerSpawner spawns a Node2D named Crate with a position and a label; the clients
## check their replica.
func _spawn() -> void:
	var data := {"name": "Crate", "position": Vector2(3, 4), "label": "spawned by the server"}
	var crate: Node = main.spawner.spawn(data)
	begin_check("spawned")
	if expect(crate != null, "MultiplayerSpawner.spawn() returned null"):
		expect_eq(String(crate.get_path()), "/root/Main/World/Crate", "path of the spawned node")
	end_check()
	_command("spawn", [data], _present)
	await _wait_reported("spawn", _present)


## Each "rust" client says "stalling" and blocks its main thread; the server answers with RPCs
## at once, which reach the client while it is blocked.
func _stall() -> void:
	var stallers: Array[String] = []
	for client_name in _present:
		if scenario["clients"][client_name]["kind"] == "rust":
			stallers.append(client_name)
	_command("stall", [STALL_SIZES], stallers)
	var served := {}
	var serve := func() -> bool:
		for client_name in stallers:
			if not served.has(client_name) and _reported(client_name, "stalling"):
				served[client_name] = true
				for i in STALL_SIZES.size():
					send_blob(_ids[client_name], "stall_%d" % i, random_bytes(STALL_SIZES[i]))
				note("sent %d RPCs to %s while it stalls" % [STALL_SIZES.size(), client_name])
		return served.size() == stallers.size()
	if not await wait_until(serve):
		_late.append("stall (no \"stalling\" from some client)")
	await _wait_reported("stall", stallers)


## The named clients disconnect, one after the other (the server relays each departure to the
## others, and a relay to a client that is closing fails on the server); the server must see
## each go, and the others hear of it.
func _leave(leaving: Array) -> void:
	for client_name: String in leaving:
		_present.erase(client_name)
		_command("leave", [], [client_name])
		var id: int = _ids[client_name]
		await wait_until(func(): return _disconnected.has(id))
	begin_check("peer_disconnected" if leaving.size() > 1 or _present.is_empty() else "peer_disconnected_" + leaving[0])
	for client_name: String in leaving:
		expect(_disconnected.has(_ids[client_name]), "no peer_disconnected(%d) for %s" % [_ids[client_name], client_name])
	end_check()
	if not _present.is_empty():
		for client_name: String in leaving:
			_command("peer_left", [client_name, _ids[client_name]], _present)
			await _wait_reported("peer_left:" + client_name, _present)


## The server closes with the clients connected; they must see it go. Graceful: it first
## disconnects each client with disconnect_peer() (a close frame, 1000) and waits until it is gone.
func _shutdown(graceful: bool) -> void:
	_command("shutdown", [], _present)
	await _wait_reported("shutdown", _present)
	if graceful:
		# One after the other, as in _leave().
		for client_name in _present:
			note("disconnecting %s" % client_name)
			var id: int = _ids[client_name]
			_peer.disconnect_peer(id)
			# As on a real network, where the end of the TCP connection follows the close frame
			# by a round trip or more: here the server reads the client's answer a bit later.
			OS.delay_msec(CLOSE_ROUND_TRIP_MS)
			await wait_until(func(): return _disconnected.has(id))
		begin_check("peer_disconnected")
		for client_name in _present:
			expect(_disconnected.has(_ids[client_name]), "no peer_disconnected(%d) for %s" % [_ids[client_name], client_name])
		end_check()
	note("closing the server")
	_peer.close()


func _on_peer_connected(id: int) -> void:
	_connected.append(id)


func _on_peer_disconnected(id: int) -> void:
	_disconnected.append(id)
