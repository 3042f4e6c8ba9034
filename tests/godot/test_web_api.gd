extends "test_case.gd"
## The web path keeps the native API: every method (with its argument count), signal, property
## (with its default) and constant of RustWebSocketClient, read through ClassDB, is on
## RustWebSocketWebClient too; and RustWebSocket.create_client() picks the right one.

const WebClient := preload("res://addons/rust_websocket/web/rust_websocket_web_client.gd")
const Portable := preload("res://addons/rust_websocket/web/rust_websocket.gd")
const NATIVE := &"RustWebSocketClient"


func test_web_client_has_every_native_method_with_the_same_arguments() -> void:
	var web := WebClient.new()
	var web_methods := {}
	for method in web.get_method_list():
		web_methods[method["name"]] = method
	var own_methods := {}
	for method in web.get_script().get_script_method_list():
		own_methods[method["name"]] = true
	var properties := {}
	for property in ClassDB.class_get_property_list(NATIVE, true):
		properties[property["name"]] = true
	var checked := 0
	for method in ClassDB.class_get_method_list(NATIVE, true):
		var method_name: String = method["name"]
		if method_name.begins_with("_"):
			continue
		# The get_x()/set_x() gdext generates for each property: the web client has the
		# properties (checked below), not these accessors (README "Web export").
		if (method_name.begins_with("get_") or method_name.begins_with("set_")) and properties.has(method_name.substr(4)):
			continue
		checked += 1
		if not assert_true(web_methods.has(method_name), "the web client lacks %s()" % method_name):
			continue
		var web_method: Dictionary = web_methods[method_name]
		# Godot's own serve the web client for put_packet, put_var, poll and close.
		if not own_methods.has(method_name):
			continue
		assert_eq(web_method["args"].size(), method["args"].size(), "argument count of %s()" % method_name)
		assert_eq(web_method["default_args"].size(), method["default_args"].size(), "default arguments of %s()" % method_name)
	note("%d native methods checked on the web client" % checked)


func test_web_client_has_every_native_signal() -> void:
	var web := WebClient.new()
	var checked := 0
	for signal_info in ClassDB.class_get_signal_list(NATIVE, true):
		checked += 1
		var signal_name: String = signal_info["name"]
		if assert_true(web.has_signal(signal_name), "the web client lacks signal %s" % signal_name):
			var web_signal: Array = web.get_signal_list().filter(func(s: Dictionary) -> bool: return s["name"] == signal_name)
			assert_eq(web_signal[0]["args"].size(), signal_info["args"].size(), "argument count of signal %s" % signal_name)
	note("%d native signals checked on the web client" % checked)


func test_web_client_has_every_native_property_with_its_default() -> void:
	var native: Object = ClassDB.instantiate(NATIVE)
	var web := WebClient.new()
	var web_properties := {}
	for property in web.get_property_list():
		web_properties[property["name"]] = true
	var checked := 0
	for property in ClassDB.class_get_property_list(NATIVE, true):
		var property_name: String = property["name"]
		if property["usage"] & (PROPERTY_USAGE_CATEGORY | PROPERTY_USAGE_GROUP | PROPERTY_USAGE_SUBGROUP):
			continue
		checked += 1
		if assert_true(web_properties.has(property_name), "the web client lacks property %s" % property_name):
			assert_eq(web.get(property_name), native.get(property_name), "default of %s" % property_name)
	note("%d native properties and defaults checked on the web client" % checked)


func test_web_client_has_every_native_constant() -> void:
	var constants: Dictionary = WebClient.new().get_script().get_script_constant_map()
	for constant_name in ClassDB.class_get_integer_constant_list(NATIVE, true):
		if assert_true(constants.has(constant_name), "the web client lacks constant %s" % constant_name):
			assert_eq(constants[constant_name], ClassDB.class_get_integer_constant(NATIVE, constant_name), "value of %s" % constant_name)


func test_create_client_returns_the_native_class_unless_the_web_path_is_forced() -> void:
	var native: MultiplayerPeer = Portable.create_client()
	assert_eq(native.get_class(), "RustWebSocketClient", "create_client() where the extension is loaded")
	assert_true(not Portable.is_web_client(native), "is_web_client() of the native client")
	Portable.force_web_client = true
	var web: MultiplayerPeer = Portable.create_client()
	Portable.force_web_client = false
	assert_true(Portable.is_web_client(web), "create_client() with force_web_client returns the web client")
	assert_true(Portable.is_native_available(), "is_native_available() with the extension loaded")
	for client: MultiplayerPeer in [native, web]:
		assert_eq(client.get_ready_state(), RustWebSocketClient.STATE_CLOSED, "get_ready_state() of a new %s" % client.get_class())


## A web export has no native class, and a script that names it outside a string does not parse:
## the web path's scripts name it only in comments and strings (checked by reading them, since
## this suite runs with the extension loaded).
func test_web_scripts_name_the_native_class_only_in_comments_and_strings() -> void:
	var directory := "res://addons/rust_websocket/web"
	var strings := RegEx.create_from_string("\"(?:[^\"\\\\]|\\\\.)*\"")
	var files := Array(DirAccess.get_files_at(directory)).filter(func(file: String) -> bool: return file.ends_with(".gd"))
	assert_eq(files.size(), 2, "scripts in %s" % directory)
	for file: String in files:
		var lines := FileAccess.get_file_as_string(directory.path_join(file)).split("\n")
		for number in lines.size():
			var code := strings.sub(lines[number], "\"\"", true).get_slice("#", 0)
			assert_true(not code.contains(String(NATIVE)), "%s:%d names %s in code: %s" % [file, number + 1, NATIVE, lines[number].strip_edges()])
