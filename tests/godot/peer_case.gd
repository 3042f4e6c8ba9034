extends "test_case.gd"
## Base of the RustWebSocketPeer test scripts (test_peer_*.gd): a RustWebSocketPeer has no
## signals and is not a MultiplayerPeer, so these helpers poll it themselves, as a game does
## with Godot's WebSocketPeer.


## A new RustWebSocketPeer that started connecting to url (asserting connect_to_url returned OK).
func start_peer(url: String, tls_options: TLSOptions = null) -> RustWebSocketPeer:
	var peer := RustWebSocketPeer.new()
	var error := peer.connect_to_url(url, tls_options)
	assert_eq(error_string(error), error_string(OK), "connect_to_url(\"%s\") result" % url)
	return peer


## Like start_peer(), then polls until the connection is open; fails the test if it does not.
func open_peer(url: String, tls_options: TLSOptions = null) -> RustWebSocketPeer:
	var peer := start_peer(url, tls_options)
	await poll_until_state(peer, RustWebSocketPeer.STATE_OPEN)
	return peer


## Polls peer every frame until its state is state; fails the test (saying why the connection
## ended, if it did) and returns false if it does not get there.
func poll_until_state(peer: RustWebSocketPeer, state: RustWebSocketPeer.State) -> bool:
	var reached := await wait_for(func():
		peer.poll()
		return peer.get_ready_state() == state or (
			peer.get_ready_state() == RustWebSocketPeer.STATE_CLOSED and state != RustWebSocketPeer.STATE_CLOSED
		)
	)
	if peer.get_ready_state() != state:
		fail("state %d, not %d: %s" % [peer.get_ready_state(), state, peer.get_last_error()])
		return false
	return reached


## Polls peer until count packets are available; fails the test if they do not arrive.
func poll_until_packets(peer: RustWebSocketPeer, count: int) -> bool:
	var arrived := await wait_for(func():
		peer.poll()
		return peer.get_available_packet_count() >= count
	)
	if not arrived:
		fail("%d of %d packets arrived (state %d, %s)" % [
			peer.get_available_packet_count(), count, peer.get_ready_state(), peer.get_last_error()
		])
	return arrived


## Closes peer and polls until the close handshake is done.
func close_peer(peer: RustWebSocketPeer) -> void:
	peer.close(1000, "test done")
	await poll_until_state(peer, RustWebSocketPeer.STATE_CLOSED)
