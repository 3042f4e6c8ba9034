extends "peer_case.gd"
## RustWebSocketPeer is a drop-in for Godot's own WebSocketPeer: through ClassDB, every method
## (arguments, defaults, return types), property (and default), enum and constant of
## WebSocketPeer is on RustWebSocketPeer, and what PacketPeer gives WebSocketPeer works on it.

const OURS := "RustWebSocketPeer"
const GODOTS := "WebSocketPeer"
## Methods RustWebSocketPeer adds to WebSocketPeer's.
const ADDITIONS: Array[String] = ["get_last_error"]
## Members WebSocketPeer gained after Godot 4.3 (the oldest supported): RustWebSocketPeer has
## them on every version, so on an older Godot they are additions.
const NEWER_MEMBERS: Array[String] = ["heartbeat_interval", "get_heartbeat_interval", "set_heartbeat_interval"]


func test_peer_api_extends_packet_peer_as_websocketpeer_does() -> void:
	assert_eq(String(ClassDB.get_parent_class(GODOTS)), "PacketPeer", "WebSocketPeer's parent")
	assert_true(ClassDB.is_parent_class(OURS, "PacketPeer"), "RustWebSocketPeer is a PacketPeer")
	assert_true(ClassDB.can_instantiate(OURS), "RustWebSocketPeer.new() works")
	var peer: PacketPeer = RustWebSocketPeer.new()
	assert_true(peer is RefCounted, "RustWebSocketPeer is reference-counted, as WebSocketPeer")


func test_peer_api_has_every_method_of_websocketpeer_with_its_arguments() -> void:
	var ours := _methods(OURS)
	var theirs := _methods(GODOTS)
	assert_true(theirs.size() >= 20, "WebSocketPeer lists its methods (%d)" % theirs.size())
	for name: String in theirs:
		if not ours.has(name):
			fail("RustWebSocketPeer has no %s()" % name)
			continue
		var mine: Dictionary = ours[name]
		var godots: Dictionary = theirs[name]
		assert_eq(_signature(mine), _signature(godots).replace(GODOTS + ".", OURS + "."), "%s() signature" % name)
		assert_eq(mine.flags & METHOD_FLAG_CONST, godots.flags & METHOD_FLAG_CONST, "%s() const" % name)
	var packet_peers := _methods("PacketPeer")
	for name: String in ours:
		if packet_peers.has(name):
			# Its own get_packet() copies in one go, and so on: PacketPeer's, with the same
			# signature (the names aside: PacketPeer.put_var()'s "var" is a keyword in Rust).
			assert_eq(_signature(ours[name], false), _signature(packet_peers[name], false), "%s() signature, as PacketPeer's" % name)
		elif not theirs.has(name) and name not in ADDITIONS and name not in NEWER_MEMBERS:
			fail("RustWebSocketPeer has %s(), which WebSocketPeer does not: list it in ADDITIONS and the README" % name)


func test_peer_api_has_every_property_of_websocketpeer_with_its_default() -> void:
	var ours := _properties(OURS)
	var theirs := _properties(GODOTS)
	# Read from new instances: ClassDB.class_get_property_default_value() knows no defaults of
	# an extension's class.
	var our_peer := RustWebSocketPeer.new()
	var godot_peer := WebSocketPeer.new()
	assert_true(theirs.size() >= 5, "WebSocketPeer lists its properties (%d)" % theirs.size())
	for name: String in theirs:
		if not assert_true(ours.has(name), "RustWebSocketPeer has the property %s" % name):
			continue
		var mine = our_peer.get(name)
		var godots = godot_peer.get(name)
		if name == "max_queued_packets" and Engine.get_version_info().hex < 0x040400:
			# Godot 4.3's is 2048; RustWebSocketPeer has 4.4+'s 4096 (a number without effect here).
			continue
		assert_true(mine == godots, "%s defaults to %s as in WebSocketPeer (not %s)" % [name, godots, mine])
	for name: String in ours:
		if not theirs.has(name) and name not in NEWER_MEMBERS:
			fail("RustWebSocketPeer has the property %s, which WebSocketPeer does not" % name)


func test_peer_api_has_every_enum_and_constant_of_websocketpeer_with_its_value() -> void:
	var enums := ClassDB.class_get_enum_list(GODOTS, true)
	assert_eq(Array(ClassDB.class_get_enum_list(OURS, true)).size(), enums.size(), "number of enums")
	for enum_name in enums:
		if not assert_true(ClassDB.class_has_enum(OURS, enum_name, true), "RustWebSocketPeer has the enum %s" % enum_name):
			continue
		assert_eq(
			Array(ClassDB.class_get_enum_constants(OURS, enum_name, true)),
			Array(ClassDB.class_get_enum_constants(GODOTS, enum_name, true)),
			"the constants of %s" % enum_name
		)
	var constants := ClassDB.class_get_integer_constant_list(GODOTS, true)
	assert_eq(Array(ClassDB.class_get_integer_constant_list(OURS, true)).size(), constants.size(), "number of constants")
	for constant in constants:
		if not assert_true(ClassDB.class_has_integer_constant(OURS, constant), "RustWebSocketPeer has %s" % constant):
			continue
		assert_eq(ClassDB.class_get_integer_constant(OURS, constant), ClassDB.class_get_integer_constant(GODOTS, constant), constant)
		assert_eq(
			ClassDB.class_get_integer_constant_enum(OURS, constant, true),
			ClassDB.class_get_integer_constant_enum(GODOTS, constant, true),
			"the enum of %s" % constant
		)
	# As GDScript code reads them, typed.
	var state: RustWebSocketPeer.State = RustWebSocketPeer.STATE_CLOSING
	assert_eq(state, WebSocketPeer.STATE_CLOSING, "RustWebSocketPeer.STATE_CLOSING")
	var mode: RustWebSocketPeer.WriteMode = RustWebSocketPeer.WRITE_MODE_TEXT
	assert_eq(mode, WebSocketPeer.WRITE_MODE_TEXT, "RustWebSocketPeer.WRITE_MODE_TEXT")


func test_peer_api_has_no_signals_as_websocketpeer() -> void:
	assert_eq(ClassDB.class_get_signal_list(GODOTS, true).size(), 0, "WebSocketPeer's signals")
	assert_eq(ClassDB.class_get_signal_list(OURS, true).size(), 0, "RustWebSocketPeer's signals")


func test_peer_api_closed_peer_answers_as_websocketpeer() -> void:
	# Before any connection, both classes give the same answers (Godot's get_connected_host()
	# and get_connected_port() also print an error).
	var ours := RustWebSocketPeer.new()
	var godots := WebSocketPeer.new()
	for getter in [
		"get_ready_state", "get_close_code", "get_close_reason", "get_selected_protocol",
		"get_requested_url",
		"get_current_outbound_buffered_amount", "was_string_packet", "get_available_packet_count",
	]:
		assert_eq(ours.call(getter), godots.call(getter), "%s() before connecting" % getter)
	# (Not compared: Godot's refusals print engine errors; ours say why in get_last_error().)
	assert_true(ours.send_text("x") != OK, "send_text() before connecting is refused")
	assert_true(not ours.get_last_error().is_empty(), "and get_last_error() says why")
	assert_eq(ours.get_packet(), PackedByteArray(), "get_packet() with nothing queued")
	assert_eq(error_string(ours.get_packet_error()), error_string(ERR_UNAVAILABLE), "get_packet_error() then")
	assert_eq(ours.get_connected_host(), "", "get_connected_host() before connecting")
	assert_eq(ours.get_connected_port(), 0, "get_connected_port() before connecting")
	ours.poll()
	ours.close()
	ours.set_no_delay(true)
	assert_eq(ours.get_ready_state(), RustWebSocketPeer.STATE_CLOSED, "state after poll() and close() while closed")


func test_peer_api_accept_stream_is_refused_in_words() -> void:
	var peer := RustWebSocketPeer.new()
	assert_eq(error_string(peer.accept_stream(StreamPeerTCP.new())), error_string(ERR_UNAVAILABLE), "accept_stream()")
	assert_true(peer.get_last_error().contains("client only"), "get_last_error() says why: %s" % peer.get_last_error())
	if log_catcher != null:
		# The error it printed (push_error, as Godot's own refusals do) is the expected one.
		var printed: PackedStringArray = log_catcher.take()
		assert_true(printed.size() == 1 and printed[0].contains("accept_stream() is not available"), "printed: %s" % printed)


## Name → method info of the class's own methods (not inherited), without virtual ones.
func _methods(class_name_: String) -> Dictionary:
	var methods := {}
	for method in ClassDB.class_get_method_list(class_name_, true):
		if not method.name.begins_with("_"):
			methods[method.name] = method
	return methods


## Name → property info of the class's own properties.
func _properties(class_name_: String) -> Dictionary:
	var properties := {}
	for property in ClassDB.class_get_property_list(class_name_, true):
		if not property.usage & (PROPERTY_USAGE_CATEGORY | PROPERTY_USAGE_GROUP | PROPERTY_USAGE_SUBGROUP):
			properties[property.name] = property
	return properties


## A method's arguments, their defaults and its return, as text: "name: type, ... = defaults -> type"
## (without the names unless with_names).
func _signature(method: Dictionary, with_names := true) -> String:
	var arguments := PackedStringArray()
	for argument in method.args:
		arguments.append("%s: %s" % [argument.name, _type(argument)] if with_names else _type(argument))
	return "(%s) = %s -> %s" % [", ".join(arguments), var_to_str(method.default_args), _type(method.return)]


## A value's type as ClassDB describes it: its Variant type, and its class or enum.
func _type(info: Dictionary) -> String:
	var type := type_string(info.type)
	if not String(info.class_name).is_empty():
		type += " " + String(info.class_name)
	return type
