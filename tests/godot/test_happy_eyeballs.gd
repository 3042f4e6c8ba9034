extends "test_case.gd"
## Happy eyeballs: localhost is tried as ::1 and 127.0.0.1 (RFC 6761), raced, and the family
## that answers wins; get_connected_host() shows which one.


## A WebSocket echo server (Godot's TCPServer + WebSocketPeer) on ::1 only.
class Ipv6Server extends Node:
	var port := 0
	var _server := TCPServer.new()
	var _peers: Array[WebSocketPeer] = []

	func listen() -> Error:
		var error := _server.listen(0, "::1")
		port = _server.get_local_port()
		return error

	func _process(_delta: float) -> void:
		while _server.is_connection_available():
			var peer := WebSocketPeer.new()
			if peer.accept_stream(_server.take_connection()) == OK:
				_peers.append(peer)
		for peer in _peers:
			peer.poll()
			while peer.get_available_packet_count() > 0:
				peer.send_text(peer.get_packet().get_string_from_utf8())


func test_connect_timeout_property() -> void:
	var client := make_client()
	assert_eq(client.connect_timeout, 5.0, "connect_timeout default")
	client.connect_timeout = 1.5
	assert_eq(client.connect_timeout, 1.5, "connect_timeout after setting it")


func test_localhost_with_ipv6_refusing_connects_over_ipv4() -> void:
	# The Python peer listens on 127.0.0.1 only: ::1 refuses, 127.0.0.1 answers.
	var ws := await open("ws://localhost:%d/echo" % py_port)
	if ws.is_open():
		assert_eq(ws.client.get_connected_host(), "127.0.0.1", "get_connected_host()")
		note("localhost → %s" % ws.client.get_connected_host())


func test_localhost_with_a_server_only_on_ipv6_connects_over_ipv6() -> void:
	var server: Ipv6Server = add_node(Ipv6Server.new())
	if server.listen() != OK:
		fail("cannot listen on ::1")
		return
	var ws := await open("ws://localhost:%d/" % server.port)
	if ws.is_open():
		assert_eq(ws.client.get_connected_host(), "::1", "get_connected_host()")
		note("localhost → %s" % ws.client.get_connected_host())


func test_every_family_refusing_names_every_address() -> void:
	var port := closed_port()
	var ws := start("ws://localhost:%d/" % port)
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_error", [])
	assert_eq(ws.client.get_last_error(), "cannot connect to localhost: connection refused by [::1]:%d; connection refused by 127.0.0.1:%d" % [port, port], "get_last_error()")
