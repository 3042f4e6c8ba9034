extends "test_case.gd"
## The Godot 3 / 4.0-alpha WebSocketClient API kept by RustWebSocketClient: typed State and
## WriteMode enums beside the integer constants, set_write_mode() for put_packet(), the
## handshake_headers property, and properties the inspector shows.


func test_godot3_state_and_write_mode_are_class_enums_with_the_integer_constants() -> void:
	var client := RustWebSocketClient.new()
	var state: RustWebSocketClient.State = client.get_ready_state()
	assert_eq(state, RustWebSocketClient.State.STATE_CLOSED, "get_ready_state() of a new client")
	assert_eq(RustWebSocketClient.State.STATE_OPEN, RustWebSocketClient.STATE_OPEN, "State.STATE_OPEN is STATE_OPEN")
	var mode: RustWebSocketClient.WriteMode = client.get_write_mode()
	assert_eq(mode, RustWebSocketClient.WriteMode.WRITE_MODE_BINARY, "write_mode of a new client")
	assert_eq(ClassDB.class_get_enum_constants("RustWebSocketClient", "State"), PackedStringArray(["STATE_CONNECTING", "STATE_OPEN", "STATE_CLOSING", "STATE_CLOSED"]), "State's enumerators")
	assert_eq(ClassDB.class_get_enum_constants("RustWebSocketClient", "WriteMode"), PackedStringArray(["WRITE_MODE_TEXT", "WRITE_MODE_BINARY"]), "WriteMode's enumerators")
	for constant: String in ["STATE_CONNECTING", "STATE_OPEN", "STATE_CLOSING", "STATE_CLOSED", "WRITE_MODE_TEXT", "WRITE_MODE_BINARY"]:
		assert_eq(ClassDB.class_get_integer_constant("RustWebSocketClient", constant), ["STATE_CONNECTING", "STATE_OPEN", "STATE_CLOSING", "STATE_CLOSED"].find(constant) if constant.begins_with("STATE_") else ["WRITE_MODE_TEXT", "WRITE_MODE_BINARY"].find(constant), "value of " + constant)
	var method: Dictionary = ClassDB.class_get_method_list("RustWebSocketClient", true).filter(func(m: Dictionary) -> bool: return m["name"] == "get_ready_state")[0]
	assert_eq(method["return"]["class_name"], &"RustWebSocketClient.State", "get_ready_state()'s return type")


func test_godot3_put_packet_sends_text_in_write_mode_text() -> void:
	var ws := await open(godot_url("/"), PackedStringArray(), PackedStringArray(), false)
	if not ws.is_open():
		return
	var client: RustWebSocketClient = ws.client
	client.set_write_mode(RustWebSocketClient.WRITE_MODE_TEXT)
	assert_eq(client.put_packet("text ✓".to_utf8_buffer()), OK, "put_packet() in WRITE_MODE_TEXT")
	assert_eq(error_string(client.put_packet(PackedByteArray([0xff]))), error_string(ERR_INVALID_DATA), "put_packet(invalid UTF-8) in WRITE_MODE_TEXT")
	assert_eq(client.get_last_error(), "put_packet() in WRITE_MODE_TEXT needs UTF-8 data", "get_last_error()")
	client.write_mode = RustWebSocketClient.WRITE_MODE_BINARY
	assert_eq(client.put_packet(PackedByteArray([1, 2])), OK, "put_packet() in WRITE_MODE_BINARY")
	await wait_for(func() -> bool: return client.get_available_packet_count() >= 2)
	assert_eq(client.get_packet().get_string_from_utf8(), "text ✓", "1st echo")
	assert_eq(client.was_string_packet(), true, "the 1st echo is text")
	assert_eq(client.get_packet(), PackedByteArray([1, 2]), "2nd echo")
	assert_eq(client.was_string_packet(), false, "the 2nd echo is binary")
	note("set_write_mode(WRITE_MODE_TEXT) + put_packet() sends text")


func test_godot3_handshake_headers_are_sent_unless_the_argument_has_headers() -> void:
	for case: Array in [[PackedStringArray(), "from-property"], [PackedStringArray(["X-Token: from-argument"]), "from-argument"]]:
		var ws := watch(make_client())
		var client: RustWebSocketClient = ws.client
		client.handshake_headers = PackedStringArray(["X-Token: from-property"])
		var error: Error = client.connect_to_url(py_url("/headers"), PackedStringArray(), false, case[0])
		assert_eq(error_string(error), error_string(OK), "connect_to_url()")
		if not await wait_until_open(ws):
			return
		if not await wait_for(func() -> bool: return ws.payloads.size() >= 1):
			fail("the server did not report the headers")
			return
		var seen: Variant = JSON.parse_string(ws.payloads[0])
		if assert_true(seen is Dictionary, "the report is a JSON object: %s" % show(ws.payloads[0])):
			assert_eq(seen.get("x-token"), case[1], "X-Token the server saw with custom_headers %s" % case[0])


func test_godot3_properties_show_in_the_inspector() -> void:
	var hidden: PackedStringArray = []
	for property in ClassDB.class_get_property_list("RustWebSocketClient", true):
		if not property["usage"] & PROPERTY_USAGE_EDITOR:
			hidden.append(property["name"])
	assert_eq(hidden, PackedStringArray(), "properties without PROPERTY_USAGE_EDITOR")
