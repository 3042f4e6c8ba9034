## The WebSockets tab's screenshot (`cargo xtask screenshot`). An editor plugin, enabled in the
## throwaway copy of the sample project that xtask makes next to rust_websocket's own plugin:
## once the editor has scanned the project, it runs the main scene (whose inspector_traffic.gd
## autoload chats with the scene's local echo server), opens the debugger's WebSockets tab, waits
## until the tab shows the traffic, saves the editor window to the PNG named by
## `-- --screenshot=<path>`, stops the game and quits the editor.
@tool
extends EditorPlugin

## Frames the editor gets to lay out and draw before it is captured.
const SETTLE_FRAMES := 60
## Log lines the tab must show: the opening, the sent and echoed messages, and pongs.
const MIN_LOG_LINES := 13
## The tab's height in the screenshot, in pixels.
const TAB_HEIGHT := 330
## Seconds allowed from running the scene to the traffic showing.
const TRAFFIC_TIMEOUT_S := 300.0


func _enter_tree() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--screenshot="):
			_capture.call_deferred(arg.trim_prefix("--screenshot="))


func _capture(path: String) -> void:
	var filesystem := EditorInterface.get_resource_filesystem()
	while filesystem.is_scanning():
		await get_tree().process_frame
	await _settle()
	# A port of its own for the game's debugger connection, as other editors may hold 6007.
	var probe := TCPServer.new()
	probe.listen(0, "127.0.0.1")
	EditorInterface.get_editor_settings().set_setting("network/debug/remote_port", probe.get_local_port())
	probe.stop()
	EditorInterface.play_main_scene()
	var deadline := Time.get_ticks_msec() + int(TRAFFIC_TIMEOUT_S * 1000.0)
	var tab: Control = null
	while Time.get_ticks_msec() < deadline:
		tab = _websockets_tab()
		if tab != null and tab.log_rows().size() >= MIN_LOG_LINES:
			break
		await get_tree().create_timer(0.25).timeout
	var shown: bool = tab != null and tab.log_rows().size() >= MIN_LOG_LINES
	if not shown:
		printerr("inspector_capture: the WebSockets tab did not show %d lines within %d s" % [MIN_LOG_LINES, TRAFFIC_TIMEOUT_S])
	if tab != null:
		_show(tab)
		_enlarge(tab)
	await _settle()
	var image := EditorInterface.get_base_control().get_viewport().get_texture().get_image()
	var error := image.save_png(path)
	if error != OK:
		printerr("inspector_capture: cannot save %s: %s" % [path, error_string(error)])
	EditorInterface.stop_playing_scene()
	await _settle()
	get_tree().quit(0 if error == OK and shown else 1)


## The WebSockets tab of the running session, or null before there is one.
func _websockets_tab() -> Control:
	for tab in EditorInterface.get_base_control().find_children("WebSockets", "", true, false):
		if tab.has_method("log_rows") and tab.log_rows().size() > 0:
			return tab
	return null


## Opens the debugger in the bottom panel, with the tab selected: through its EditorDock
## (Godot 4.6+) or as a bottom panel item (before).
func _show(tab: Control) -> void:
	var tabs := tab.get_parent() as TabContainer
	if tabs != null:
		tabs.current_tab = tab.get_index()
	var node := tab.get_parent()
	while node != null:
		if node.is_class("EditorDock"):
			node.call("make_visible")
			return
		if node.is_class("EditorDebuggerNode") and not ClassDB.class_exists("EditorDock"):
			make_bottom_panel_item_visible(node)
			return
		node = node.get_parent()


## Makes the bottom panel taller through the tab's minimum height (the split between the main
## screen and the bottom panel yields to it), pauses the log (so pongs arriving meanwhile do not
## scroll it) and scrolls it to its first line.
func _enlarge(tab: Control) -> void:
	tab.custom_minimum_size.y = TAB_HEIGHT
	for button: Button in tab.find_children("*", "Button", true, false):
		if button.text == "Pause":
			button.button_pressed = true
	var trees := tab.find_children("*", "Tree", true, false)
	var log_tree: Tree = trees[-1] if not trees.is_empty() else null
	if log_tree != null and log_tree.get_root().get_child_count() > 0:
		log_tree.scroll_to_item(log_tree.get_root().get_child(0))


func _settle() -> void:
	for frame in SETTLE_FRAMES:
		await get_tree().process_frame
