extends "test_case.gd"
## The multiplayer peer mode (gd_mp_api = true) against Godot's own WebSocketMultiplayerPeer
## server in this process, on both paths: the native client and the web path's client. The same
## assertions for both, so the two stay in step.


func test_multiplayer_peer_joins_exchanges_and_sees_the_server_leave_native() -> void:
	await _check_multiplayer_peer(false)


func test_multiplayer_peer_joins_exchanges_and_sees_the_server_leave_web() -> void:
	await _check_multiplayer_peer(true)


## The client is assigned an id, exchanges packets both ways with the right peer ids, and sees
## peer_disconnected(1) and connection_closed when the server closes.
func _check_multiplayer_peer(web: bool) -> void:
	web_path = web
	var server := WebSocketMultiplayerPeer.new()
	var port := closed_port()
	if not assert_eq(error_string(server.create_server(port, "127.0.0.1")), error_string(OK), "create_server(%d)" % port):
		return
	var joined: Array[int] = []
	server.peer_connected.connect(func(id: int) -> void: joined.append(id))
	var client := make_client()
	var ws := watch(client)
	var peer_events: Array = []
	client.peer_connected.connect(func(id: int) -> void: peer_events.append(["peer_connected", id]))
	client.peer_disconnected.connect(func(id: int) -> void: peer_events.append(["peer_disconnected", id]))
	var error: Error = client.connect_to_url("ws://127.0.0.1:%d/" % port, PackedStringArray(), true)
	assert_eq(error_string(error), error_string(OK), "connect_to_url(gd_mp_api = true)")
	var connected := func() -> bool:
		server.poll()
		return client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED or ws.ended()
	if not await wait_for(connected):
		fail("not connected to the multiplayer server: %s, %s" % [ws.lifecycle(), client.get_last_error()])
		server.close()
		return
	assert_eq(joined.size(), 1, "peers the server saw join")
	var id: int = joined[0] if not joined.is_empty() else 0
	assert_eq(client.get_unique_id(), id, "get_unique_id() is the id the server assigned")
	assert_eq(peer_events, [["peer_connected", 1]], "the client's MultiplayerPeer signals once joined")

	client.set_target_peer(1)
	assert_eq(client.put_packet(PackedByteArray([1, 2, 3])), OK, "put_packet() to the server")
	var received := func() -> bool:
		server.poll()
		return server.get_available_packet_count() > 0
	assert_true(await wait_for(received), "the server must receive the client's packet")
	if server.get_available_packet_count() > 0:
		assert_eq(server.get_packet_peer(), id, "get_packet_peer() on the server")
		assert_eq(server.get_packet(), PackedByteArray([1, 2, 3]), "the packet the server received")
	server.set_target_peer(id)
	assert_eq(server.put_packet(PackedByteArray([4, 5])), OK, "the server's put_packet() to the client")
	var delivered := func() -> bool:
		server.poll()
		return client.get_available_packet_count() > 0
	assert_true(await wait_for(delivered), "the client must receive the server's packet")
	if client.get_available_packet_count() > 0:
		assert_eq(client.get_packet_peer(), 1, "get_packet_peer() on the client")
		assert_eq(client.get_packet(), PackedByteArray([4, 5]), "the packet the client received")
	assert_eq(ws.count("data_received") + ws.count("message_received"), 0, "no message signals in multiplayer mode")

	server.disconnect_peer(id)
	var left := func() -> bool:
		server.poll()
		return ws.ended()
	assert_true(await wait_for(left), "the client must see the server close the connection")
	await wait_frames(3)
	assert_eq(peer_events, [["peer_connected", 1], ["peer_disconnected", 1]], "the client's MultiplayerPeer signals after the close")
	assert_eq(client.get_connection_status(), MultiplayerPeer.CONNECTION_DISCONNECTED, "connection status after the close")
	assert_eq(client.get_unique_id(), 0, "get_unique_id() after the close")
	server.close()
	note("%s client: joined as peer %d, exchanged packets, saw the server leave" % ["web" if web else "native", id])
