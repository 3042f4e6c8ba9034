extends Node
## A wss:// echo server made of Godot's own TCPServer + StreamPeerTLS + WebSocketPeer, in the
## suite's process (Godot's server TLS is only reachable from GDScript). Echoes text as text and
## binary as binary.
##
##   var server: TlsServer = add_node(TlsServer.new())      # in a test: freed by teardown
##   server.listen("res://tests/certs/localhost.key", "res://tests/certs/localhost.crt")
##   start("wss://localhost:%d/" % server.port)
##
## Once in the tree it polls itself every frame (_process); freeing it closes everything.

## Room for 1 MiB messages (and a few queued behind them) in both directions.
const BUFFER_SIZE := 8 << 20

## The port it listens on (127.0.0.1), once [method listen] succeeded.
var port := 0
## TCP connections accepted so far.
var accepted := 0
## Connections whose WebSocket handshake (TLS included) completed.
var opened := 0
## Messages echoed so far.
var echoed := 0

var _server := TCPServer.new()
var _tls: TLSOptions
var _peers: Array[WebSocketPeer] = []
var _open: Array[WebSocketPeer] = []


## Loads the key and certificate (chain) and listens on a free port of 127.0.0.1.
func listen(key_path: String, certificate_path: String) -> Error:
	var key: CryptoKey = load(key_path)
	var certificate: X509Certificate = load(certificate_path)
	if key == null or certificate == null:
		return ERR_FILE_CANT_OPEN
	return listen_with(key, certificate)


## Listens like [method listen], with a key and certificate already at hand.
func listen_with(key: CryptoKey, certificate: X509Certificate) -> Error:
	_tls = TLSOptions.server(key, certificate)
	var error := _server.listen(0, "127.0.0.1")
	if error == OK:
		port = _server.get_local_port()
	return error


## Listens like [method listen], with a key and a self-signed certificate for localhost that
## Godot's Crypto makes now (as Godot's docs show); returns that certificate, or null when it
## cannot listen.
func listen_with_crypto_certificate() -> X509Certificate:
	var crypto := Crypto.new()
	var key := crypto.generate_rsa(2048)
	var certificate := crypto.generate_self_signed_certificate(key, "CN=localhost,O=Game,C=US")
	return certificate if listen_with(key, certificate) == OK else null


## Connections it still holds (TLS or WebSocket handshake in progress, or open).
func connections() -> int:
	return _peers.size()


func _process(_delta: float) -> void:
	poll()


## Accepts new connections, advances handshakes and echoes what arrived.
func poll() -> void:
	while _server.is_connection_available():
		var tls := StreamPeerTLS.new()
		if tls.accept_stream(_server.take_connection(), _tls) != OK:
			continue
		var peer := WebSocketPeer.new()
		peer.inbound_buffer_size = BUFFER_SIZE
		peer.outbound_buffer_size = BUFFER_SIZE
		if peer.accept_stream(tls) != OK:
			continue
		accepted += 1
		_peers.append(peer)
	for peer: WebSocketPeer in _peers.duplicate():
		peer.poll()
		if peer.get_ready_state() == WebSocketPeer.STATE_OPEN and not _open.has(peer):
			_open.append(peer)
			opened += 1
		while peer.get_available_packet_count() > 0:
			var data := peer.get_packet()
			var mode := WebSocketPeer.WRITE_MODE_TEXT if peer.was_string_packet() else WebSocketPeer.WRITE_MODE_BINARY
			if peer.get_ready_state() == WebSocketPeer.STATE_OPEN and peer.send(data, mode) == OK:
				echoed += 1
		if peer.get_ready_state() == WebSocketPeer.STATE_CLOSED:
			_peers.erase(peer)
			_open.erase(peer)


func _exit_tree() -> void:
	for peer in _peers:
		peer.close()
		peer.poll()
	_peers.clear()
	_open.clear()
	_server.stop()
