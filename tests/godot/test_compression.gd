extends "test_case.gd"
## permessage-deflate: offered by default, negotiated with the Python peer, transparent to the
## game; compression_enabled = false offers nothing; Godot's own peer (no deflate) still works.


func test_compression_negotiated_by_default_with_python_server() -> void:
	var ws := await open(py_url("/echo?deflate=default"))
	if not ws.is_open():
		return
	var client := ws.client
	assert_eq(client.compression_enabled, true, "compression_enabled by default")
	var negotiated: String = client.get_negotiated_extensions()
	assert_true(negotiated.begins_with("permessage-deflate"), "negotiated \"%s\"" % negotiated)
	await _check_round_trips(ws)
	note("negotiated \"%s\"; messages intact both ways" % negotiated)


func test_compression_turned_off_negotiates_nothing() -> void:
	var ws := watch(make_client())
	ws.client.compression_enabled = false
	assert_eq(error_string(ws.client.connect_to_url(py_url("/echo?deflate=default"))), error_string(OK), "connect_to_url()")
	if not await wait_until_open(ws):
		return
	assert_eq(ws.client.get_negotiated_extensions(), "", "get_negotiated_extensions() with compression off")
	await _check_round_trips(ws)


func test_compression_ignored_by_godot_server() -> void:
	var ws := await open(godot_url("/"))
	if not ws.is_open():
		return
	assert_eq(ws.client.get_negotiated_extensions(), "", "get_negotiated_extensions() with Godot's peer")
	await _check_round_trips(ws)


## Sends compressible and random, small and large, text and binary messages; checks the echoes.
func _check_round_trips(ws: SignalLog) -> void:
	var words := "position health inventory player score "
	var text := ""
	for i in 300:
		text += words.substr((i * 7) % 30, 12) + str(i)
	var compressible := PackedByteArray()
	compressible.resize(1 << 20)
	for i in compressible.size():
		compressible[i] = (i / 64) % 7
	var random := Crypto.new().generate_random_bytes(100_000)
	var sent: Array = ["hi", text, compressible, random, PackedByteArray()]
	for message in sent:
		if message is String:
			assert_eq(ws.client.send_text(message), OK, "send_text()")
		else:
			assert_eq(ws.client.send(message), OK, "send()")
	if not await wait_for(func(): return ws.payloads.size() >= sent.size() or ws.ended(), 20.0):
		fail("%d of %d echoes within 20 s" % [ws.payloads.size(), sent.size()])
		return
	for i in sent.size():
		assert_eq(ws.is_text[i], sent[i] is String, "is_text of echo %d" % i)
		assert_true(ws.payloads[i] == sent[i], "echo %d differs from what was sent" % i)
