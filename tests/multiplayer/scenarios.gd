## The multiplayer scenarios: for each, the server's settings, its clients, and the phases the
## server drives them through. `cargo xtask test` starts `mp_server.gd --scenario=<name>` for
## every name it lists (see rust/xtask/src/multiplayer.rs), reads the `CLIENT <name>` lines the server
## prints, and starts one `mp_client.gd` process per client.
##
## Clients:
##   kind        "rust" (RustWebSocketClient, gd_mp_api = true) or "godot" (Godot's own
##               WebSocketMultiplayerPeer.create_client)
##   protocols   sub-protocols the client offers (default none)
##   refused     true: the server must refuse this client; it checks the failure, not a session
##
## Phases (in order; each waits for every client still in the session):
##   join        every client says hello; the server checks the ids and sends the roster;
##               each client checks its id and that it saw the others join (relay)
##   exchange    60 KB RPC arguments server → client, client → server, client → client
##   spawn       the server's MultiplayerSpawner spawns a node; the clients check their copy
##   stall       each "rust" client blocks its main thread 2 s right after telling the server,
##               which sends it RPCs during the stall; they must all arrive afterwards
##   leave:NAME  client NAME disconnects; the server and the other clients see it go
##   leave       every client disconnects; the server sees each go
##   shutdown    the server closes (WebSocketMultiplayerPeer.close(): the connections just end);
##               the clients see server_disconnected and peer_disconnected(1)
##   shutdown:graceful  the same, but the server first disconnects each client with
##               disconnect_peer() (a close frame) and waits until it is gone


const ALL := {
	"session": {
		"tls": false,
		"protocols": [],
		"clients": {
			"rust_a": {"kind": "rust"},
			"rust_b": {"kind": "rust"},
			"godot_c": {"kind": "godot"},
		},
		"phases": ["join", "exchange", "spawn", "stall", "leave:godot_c", "shutdown"],
	},
	"graceful": {
		"tls": false,
		"protocols": [],
		"clients": {
			"rust_a": {"kind": "rust"},
			"godot_b": {"kind": "godot"},
		},
		"phases": ["join", "shutdown:graceful"],
	},
	"tls": {
		"tls": true,
		"protocols": [],
		"clients": {
			"rust_a": {"kind": "rust"},
			"rust_b": {"kind": "rust"},
		},
		"phases": ["join", "exchange", "leave"],
	},
	"protocol": {
		"tls": false,
		"protocols": ["game.v1"],
		"clients": {
			"rust_v1": {"kind": "rust", "protocols": ["game.v1"]},
			"rust_none": {"kind": "rust", "refused": true},
		},
		"phases": ["join", "exchange", "leave"],
	},
}
