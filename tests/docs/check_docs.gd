## Checks that every method, property, signal and constant RustWebSocketClient and
## RustWebSocketPeer register with Godot has a description in the editor help gdext generates
## from the doc comments.
##
## `godot --headless --path <project> --script res://check_docs.gd -- --xml-dir=<folder>`,
## where <folder> holds the class reference XML (<class>.xml) written by the binding crate's docs
## test (`RUST_WEBSOCKET_DOCS_XML=<folder> cargo test -p rust_websocket --lib`). Prints
## `PASS <class>: <check>` / `FAIL <class>: <check>: <undocumented items>`, then
## `N passed, M failed`; exits 1 if any failed.
extends SceneTree

const CLASSES: Array[String] = ["RustWebSocketClient", "RustWebSocketPeer"]

var _passed := 0
var _failed := 0


func _initialize() -> void:
	var xml_dir := ""
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--xml-dir="):
			xml_dir = arg.trim_prefix("--xml-dir=")
	for checked_class in CLASSES:
		_check_class(checked_class, xml_dir.path_join(checked_class + ".xml"))
	print("%d passed, %d failed" % [_passed, _failed])
	quit(0 if _failed == 0 else 1)


func _check_class(checked_class: String, xml_path: String) -> void:
	var docs := _read_docs(xml_path)
	_check(checked_class, "class is registered", [] if ClassDB.class_exists(checked_class) else [checked_class])
	_check(checked_class, "class description", [] if docs.get("class", false) else [checked_class])

	var properties: Array[String] = []
	for property in ClassDB.class_get_property_list(checked_class, true):
		if property.usage & (PROPERTY_USAGE_CATEGORY | PROPERTY_USAGE_GROUP | PROPERTY_USAGE_SUBGROUP):
			continue
		properties.append(property.name)
	_check(checked_class, "properties documented", _missing(properties, docs.member))

	var methods: Array[String] = []
	for method in ClassDB.class_get_method_list(checked_class, true):
		var property: String = method.name.trim_prefix("get_").trim_prefix("set_")
		# A property's generated getter and setter are documented with the property.
		if property != method.name and property in properties:
			continue
		methods.append(method.name)
	_check(checked_class, "methods documented", _missing(methods, docs.method))

	var signals: Array[String] = []
	for signal_info in ClassDB.class_get_signal_list(checked_class, true):
		signals.append(signal_info.name)
	_check(checked_class, "signals documented", _missing(signals, docs.signal))

	# gdext documents only #[constant]s; the enumerators of a class enum registered by hand
	# (RustWebSocketPeer.State) are documented in the class description, as [constant NAME].
	var constants: Array[String] = []
	for constant in ClassDB.class_get_integer_constant_list(checked_class, true):
		var in_enum := not ClassDB.class_get_integer_constant_enum(checked_class, constant, true).is_empty()
		if not (in_enum and docs.text.contains("[constant %s]" % constant)):
			constants.append(constant)
	_check(checked_class, "constants documented", _missing(constants, docs.constant))


## The names of the items with a non-empty description, by kind ("method", "signal",
## "constant", "member"), "class": whether the class has a brief description, and "text": the
## whole XML.
func _read_docs(path: String) -> Dictionary:
	var docs := {"class": false, "method": [], "signal": [], "constant": [], "member": [], "text": ""}
	var parser := XMLParser.new()
	if path.is_empty() or parser.open(path) != OK:
		push_error("cannot read the docs XML %s" % path)
		return docs
	docs["text"] = FileAccess.get_file_as_string(path)
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


func _check(checked_class: String, check: String, missing: Array) -> void:
	if missing.is_empty():
		_passed += 1
		print("PASS %s: %s" % [checked_class, check])
	else:
		_failed += 1
		print("FAIL %s: %s: no description for %s" % [checked_class, check, ", ".join(missing)])
