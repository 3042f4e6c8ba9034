## Makes the snippet project strict (`cargo xtask snippets`): every GDScript warning Godot
## enables by default becomes an error, and so do the static-typing ones (untyped declarations,
## unsafe property and method access, unsafe casts and calls), as in a project that treats
## warnings as errors and demands static types. Declarations with an inferred type (`:=`) stay
## allowed, as Godot's style guide writes them. Saves project.godot and quits.
extends SceneTree

const PREFIX := "debug/gdscript/warnings/"
const WARN := 1
const ERROR := 2
const STATIC_TYPING := ["untyped_declaration", "unsafe_property_access", "unsafe_method_access", "unsafe_cast", "unsafe_call_argument"]


func _initialize() -> void:
	var made_errors: PackedStringArray = []
	for property: Dictionary in ProjectSettings.get_property_list():
		var setting: String = property["name"]
		if not setting.begins_with(PREFIX) or property["type"] != TYPE_INT:
			continue
		var warning := setting.trim_prefix(PREFIX)
		if ProjectSettings.get_setting(setting) == WARN or warning in STATIC_TYPING:
			ProjectSettings.set_setting(setting, ERROR)
			made_errors.append(warning)
	var missing := Array(STATIC_TYPING).filter(func(warning: String) -> bool: return not warning in made_errors)
	if not missing.is_empty():
		push_error("this Godot has no warning setting for %s" % ", ".join(missing))
		quit(1)
		return
	var error := ProjectSettings.save()
	if error != OK:
		push_error("cannot save project.godot: %s" % error_string(error))
		quit(1)
		return
	print("GDScript warnings made errors: %s" % ", ".join(made_errors))
	quit(0)
