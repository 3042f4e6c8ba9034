## A small WebSocket echo server made of Godot's own TCPServer and WebSocketPeer, so the demo
## works offline. Text comes back as text, binary as binary. With TLS options it serves wss://.
class_name EchoServer
extends Node

## Largest message the server handles, in bytes (Godot's peer preallocates this much).
const MAX_MESSAGE_BYTES := 4 * 1024 * 1024

var _tcp := TCPServer.new()
var _peers: Array[WebSocketPeer] = []
var _tls_options: TLSOptions


## Starts listening on 127.0.0.1 at [param port], for wss:// when [param tls_options] is given
## (e.g. [code]TLSOptions.server(key, certificate)[/code]); returns OK or the error.
func listen(port: int, tls_options: TLSOptions = null) -> Error:
	_tls_options = tls_options
	return _tcp.listen(port, "127.0.0.1")


func _process(_delta: float) -> void:
	while _tcp.is_connection_available():
		var peer := WebSocketPeer.new()
		peer.inbound_buffer_size = MAX_MESSAGE_BYTES
		peer.outbound_buffer_size = MAX_MESSAGE_BYTES
		var stream: StreamPeer = _tcp.take_connection()
		if _tls_options:
			var tls := StreamPeerTLS.new()
			tls.accept_stream(stream, _tls_options)
			stream = tls
		peer.accept_stream(stream)
		_peers.append(peer)
	for peer: WebSocketPeer in _peers.duplicate():
		peer.poll()
		while peer.get_available_packet_count() > 0:
			var packet := peer.get_packet()
			if peer.was_string_packet():
				peer.send_text(packet.get_string_from_utf8())
			else:
				peer.send(packet)
		if peer.get_ready_state() == WebSocketPeer.STATE_CLOSED:
			_peers.erase(peer)


func _exit_tree() -> void:
	for peer in _peers:
		peer.close()
	_tcp.stop()
