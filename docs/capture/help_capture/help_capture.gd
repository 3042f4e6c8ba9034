## The editor help page's screenshot (`cargo xtask screenshot`). An editor plugin, enabled in the
## throwaway project xtask makes: once the editor has scanned the project, it opens the help for
## RustWebSocketClient in the script editor, waits until the page shows the class description,
## saves the editor window to the PNG named by
## `-- --screenshot=<path>`, and quits the editor.
@tool
extends EditorPlugin

const CLASS := "RustWebSocketClient"
## Frames the editor gets to lay out and draw a page before it is captured.
const SETTLE_FRAMES := 60
## How often the page is opened, a second apart, before it is captured as it is.
const MAX_ATTEMPTS := 120
## What the help page says where a class has no description.
const NO_DESCRIPTION := "There is currently no description for this class"


func _enter_tree() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--screenshot="):
			_capture.call_deferred(arg.trim_prefix("--screenshot="))


func _capture(path: String) -> void:
	var filesystem := EditorInterface.get_resource_filesystem()
	while filesystem.is_scanning():
		await get_tree().process_frame
	await _settle()
	EditorInterface.set_main_screen_editor("Script")
	# The editor builds its class reference in a thread at its first start and adds the
	# extension's descriptions at the end; until then the page has none. Reopen it until it has.
	for attempt in MAX_ATTEMPTS:
		EditorInterface.get_script_editor().goto_help("class_name:" + CLASS)
		await _settle()
		if _page_has_descriptions():
			break
		await get_tree().create_timer(1.0).timeout
	var described := _page_has_descriptions()
	if not described:
		printerr("help_capture: the help page for %s shows no description" % CLASS)
	var image := EditorInterface.get_base_control().get_viewport().get_texture().get_image()
	var error := image.save_png(path)
	if error != OK:
		printerr("help_capture: cannot save %s: %s" % [path, error_string(error)])
	get_tree().quit(0 if error == OK and described else 1)


func _settle() -> void:
	for frame in SETTLE_FRAMES:
		await get_tree().process_frame


## Whether the open help page shows the class's description.
func _page_has_descriptions() -> bool:
	for label in EditorInterface.get_script_editor().find_children("*", "RichTextLabel", true, false):
		var text: String = label.get_parsed_text()
		if label.is_visible_in_tree() and text.contains(CLASS):
			return not text.contains(NO_DESCRIPTION)
	return false
