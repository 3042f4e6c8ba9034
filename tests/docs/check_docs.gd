## Checks that every method, property, signal and constant RustWebSocketClient registers with
## Godot has a description in the editor help gdext generates from the doc comments.
##
## `godot --headless --path <project> --script res://check_docs.gd -- --xml=<file>`, where
## <file> is the class reference XML written by the binding crate's docs test
## (`RUST_WEBSOCKET_DOCS_XML=<file> cargo test -p rust_websocket --lib`). Prints
## `PASS <check>` / `FAIL <check>: <undocumented items>`, then `N passed, M failed`; exits 1 if
## any failed.
extends SceneTree

const CLASS := "RustWebSocketClient"

var _passed := 0
var _failed := 0


func _initialize() -> void:
	var xml_path := ""
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--xml="):
			xml_path = arg.trim_prefix("--xml=")
	var docs := _read_docs(xml_path)
	_check("class is registered", [] if ClassDB.class_exists(CLASS) else [CLASS])
	_check("class description", [] if docs.get("class", false) else [CLASS])

	var properties: Array[String] = []
	for property in ClassDB.class_get_property_list(CLASS, true):
		if property.usage & (PROPERTY_USAGE_CATEGORY | PROPERTY_USAGE_GROUP | PROPERTY_USAGE_SUBGROUP):
			continue
		properties.append(property.name)
	_check("properties documented", _missing(properties, docs.member))

	var methods: Array[String] = []
	for method in ClassDB.class_get_method_list(CLASS, true):
		var property: String = method.name.trim_prefix("get_").trim_prefix("set_")
		# A property's generated getter and setter are documented with the property.
		if property != method.name and property in properties:
			continue
		methods.append(method.name)
	_check("methods documented", _missing(methods, docs.method))

	var signals: Array[String] = []
	for signal_info in ClassDB.class_get_signal_list(CLASS, true):
		signals.append(signal_info.name)
	_check("signals documented", _missing(signals, docs.signal))

	var constants: Array[String] = []
	for constant in ClassDB.class_get_integer_constant_list(CLASS, true):
		constants.append(constant)
	_check("constants documented", _missing(constants, docs.constant))

	print("%d passed, %d failed" % [_passed, _failed])
	quit(0 if _failed == 0 else 1)


## The names of the items with a non-empty description, by kind ("method", "signal",
## "constant", "member"), and "class": whether the class has a brief description.
func _read_docs(path: String) -> Dictionary:
	var docs := {"class": false, "method": [], "signal": [], "constant": [], "member": []}
	var parser := XMLParser.new()
	if path.is_empty() or parser.open(path) != OK:
		push_error("cannot read the docs XML %s" % path)
		return docs
	var kind := ""
	var item := ""
	var text := ""
	while parser.read() == OK:
		match parser.get_node_type():
			XMLParser.NODE_ELEMENT:
				var tag := parser.get_node_name()
				if tag in docs and tag != "class":
					kind = tag
					item = parser.get_named_attribute_value_safe("name")
					text = ""
				elif tag == "brief_description":
					kind = tag
					text = ""
			XMLParser.NODE_TEXT:
				text += parser.get_node_data()
			XMLParser.NODE_ELEMENT_END:
				var tag := parser.get_node_name()
				if tag == kind and not text.strip_edges().is_empty():
					if tag == "brief_description":
						docs["class"] = true
					else:
						docs[tag].append(item)
				if tag == kind:
					kind = ""
	return docs


func _missing(registered: Array[String], documented: Array) -> Array[String]:
	var missing: Array[String] = []
	for name in registered:
		if name not in documented:
			missing.append(name)
	return missing


func _check(check: String, missing: Array) -> void:
	if missing.is_empty():
		_passed += 1
		print("PASS %s" % check)
	else:
		_failed += 1
		print("FAIL %s: no description for %s" % [check, ", ".join(missing)])
