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


func test_multiplayer_packets_of_every_size_arrive_both_ways_native() -> void:
	await _check_packet_sizes(false)


func test_multiplayer_packets_of_every_size_arrive_both_ways_web() -> void:
	await _check_packet_sizes(true)


## Sizes the packet path must carry unchanged: one byte, one over 1 MiB, and one more byte.
const PACKET_SIZES: Array[int] = [1, 1536 * 1024, 1]
## Why an empty packet is refused in multiplayer mode.
const EMPTY_PACKET_REFUSED := "an empty packet cannot go to a Godot multiplayer server: its WebSocketMultiplayerPeer drops empty packets with an error; send at least one byte"


## put_packet() with gd_mp_api = true carries a one-byte packet and one over 1 MiB to Godot's own
## WebSocketMultiplayerPeer server, in order, and the server's echo of each back, then put_var()
## and get_var() both ways. An empty packet, which that server drops with an error, is refused
## with a sentence. The server is used bare (no SceneMultiplayer), with
## buffers large enough for the big packet.
func _check_packet_sizes(web: bool) -> void:
	web_path = web
	var server := WebSocketMultiplayerPeer.new()
	server.inbound_buffer_size = 4 << 20
	server.outbound_buffer_size = 4 << 20
	var port := closed_port()
	if not assert_eq(error_string(server.create_server(port, "127.0.0.1")), error_string(OK), "create_server(%d)" % port):
		return
	var client := make_client()
	var ws := watch(client)
	assert_eq(client.connect_to_url("ws://127.0.0.1:%d/" % port, PackedStringArray(), true), OK, "connect_to_url(gd_mp_api = true)")
	var connected := func() -> bool:
		server.poll()
		return client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED or ws.ended()
	if not await wait_for(connected):
		fail("not connected to the multiplayer server: %s, %s" % [ws.lifecycle(), client.get_last_error()])
		server.close()
		return
	var sent: Array[PackedByteArray] = []
	for size in PACKET_SIZES:
		var packet := PackedByteArray()
		packet.resize(size)
		for index in range(0, size, 4093):
			packet[index] = index % 251
		sent.append(packet)
	client.set_target_peer(1)
	# Declared as MultiplayerPeer, put_packet() is Godot's own, which returns OK for an empty
	# buffer and sends nothing (README, Web export); send() is this addon's on both paths.
	var refused: Error = client.send(PackedByteArray())
	assert_eq(error_string(refused), error_string(ERR_INVALID_PARAMETER), "send() of an empty packet")
	assert_eq(client.get_last_error(), EMPTY_PACKET_REFUSED, "get_last_error() after the empty packet")
	for packet in sent:
		assert_eq(error_string(client.put_packet(packet)), error_string(OK), "put_packet() of %d bytes" % packet.size())
	var at_server := await _receive(server, server, sent.size(), ws)
	assert_eq(at_server.size(), sent.size(), "packets the server received")
	assert_eq(_sizes(at_server), PACKET_SIZES, "sizes of the packets the server received, in order")
	assert_eq(at_server == sent, true, "the packets the server received are the ones sent, byte for byte")

	var id := client.get_unique_id()
	server.set_target_peer(id)
	for packet in at_server:
		server.put_packet(packet)
	var back := await _receive(server, client, sent.size(), ws)
	assert_eq(back.size(), sent.size(), "echoed packets the client received")
	assert_eq(_sizes(back), PACKET_SIZES, "sizes of the packets the client received, in order")
	assert_eq(back == sent, true, "the packets the client received are the ones sent, byte for byte")

	var value := {"name": "player", "position": Vector2(3, 4), "items": [1, 2, 3]}
	assert_eq(error_string(client.put_var(value)), error_string(OK), "put_var() to the server")
	var var_at_server := func() -> bool:
		server.poll()
		return server.get_available_packet_count() > 0 or ws.ended()
	assert_true(await wait_for(var_at_server), "the server must receive the put_var() packet")
	if server.get_available_packet_count() > 0:
		assert_eq(server.get_var(), value, "get_var() on the server")
	server.put_var(value)
	var var_back := func() -> bool:
		server.poll()
		return client.get_available_packet_count() > 0 or ws.ended()
	assert_true(await wait_for(var_back), "the client must receive the server's put_var() packet")
	if client.get_available_packet_count() > 0:
		assert_eq(client.get_var(), value, "get_var() on the client")
	server.close()
	note("%s client: packets of %s bytes and a Variant went both ways" % ["web" if web else "native", PACKET_SIZES])


## The packets [param peer] receives, in order, until [param count] arrived, the client's
## connection ended or the wait ran out; polls [param server] meanwhile.
func _receive(server: WebSocketMultiplayerPeer, peer: MultiplayerPeer, count: int, ws: SignalLog) -> Array[PackedByteArray]:
	var received: Array[PackedByteArray] = []
	var all_received := func() -> bool:
		server.poll()
		while peer.get_available_packet_count() > 0:
			received.append(peer.get_packet())
		return received.size() >= count or ws.ended()
	await wait_for(all_received)
	return received


func _sizes(packets: Array[PackedByteArray]) -> Array[int]:
	var sizes: Array[int] = []
	for packet in packets:
		sizes.append(packet.size())
	return sizes
