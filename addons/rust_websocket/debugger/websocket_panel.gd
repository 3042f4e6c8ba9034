## The debugger's "WebSockets" tab: the running game's RustWebSocketClient connections (URL,
## state, round-trip time, messages and bytes each way) and the selected one's log (time,
## direction, size, text or hex preview; close frames and errors coloured). Filter by text,
## pause the log, clear, and copy a line. websocket_debugger_plugin.gd feeds it the game's
## reports through [method add_report].
@tool
extends VBoxContainer

## Lines kept per connection; older ones are dropped first.
const MAX_LINES_PER_CONNECTION := 2000
const STATE_NAMES := ["connecting", "open", "closing", "closed"]

enum Column { TIME, DIRECTION, SIZE, TEXT }
enum ConnectionColumn { URL, STATE, ROUND_TRIP, SENT, RECEIVED }

## Every connection by id: a Dictionary with url, state, round_trip_time, statistics and lines.
var _connections := {}
var _selected_id := -1
var _filter: LineEdit
var _pause_button: Button
var _clear_button: Button
var _copy_button: Button
var _connection_tree: Tree
var _log_tree: Tree
var _connection_items := {}


func _init() -> void:
	var toolbar := HBoxContainer.new()
	add_child(toolbar)
	_filter = LineEdit.new()
	_filter.placeholder_text = "Filter messages"
	_filter.clear_button_enabled = true
	_filter.size_flags_horizontal = SIZE_EXPAND_FILL
	_filter.text_changed.connect(func(_text: String) -> void: _show_log())
	toolbar.add_child(_filter)
	_pause_button = _tool_button("Pause", "Pause the log (reports keep arriving and show on resume)")
	_pause_button.toggle_mode = true
	_pause_button.toggled.connect(func(_paused: bool) -> void: _show_log())
	toolbar.add_child(_pause_button)
	_copy_button = _tool_button("Copy", "Copy the selected line")
	_copy_button.pressed.connect(copy_selected)
	toolbar.add_child(_copy_button)
	_clear_button = _tool_button("Clear", "Forget every connection and line")
	_clear_button.pressed.connect(clear)
	toolbar.add_child(_clear_button)

	var split := HSplitContainer.new()
	split.size_flags_vertical = SIZE_EXPAND_FILL
	add_child(split)
	_connection_tree = _make_tree(["URL", "State", "RTT", "Sent", "Received"], [140, 60, 60, 70, 70])
	_connection_tree.custom_minimum_size.x = 400
	_connection_tree.item_selected.connect(_on_connection_selected)
	split.add_child(_connection_tree)
	_log_tree = _make_tree(["Time", "", "Size", "Message"], [60, 30, 60, 0])
	_log_tree.size_flags_horizontal = SIZE_EXPAND_FILL
	_log_tree.item_activated.connect(copy_selected)
	split.add_child(_log_tree)


func _notification(what: int) -> void:
	if what == NOTIFICATION_THEME_CHANGED:
		_filter.right_icon = get_theme_icon("Search", "EditorIcons")
		_pause_button.icon = get_theme_icon("Pause", "EditorIcons")
		_copy_button.icon = get_theme_icon("ActionCopy", "EditorIcons")
		_clear_button.icon = get_theme_icon("Clear", "EditorIcons")


## Takes one report of the game: what is the part of the message's name after
## "rust_websocket:", details its Dictionary.
func add_report(what: String, details: Dictionary) -> void:
	var id: int = details.get("id", 0)
	var time: float = details.get("time", 0.0)
	if what == "connecting" or not _connections.has(id):
		_add_connection(id, details.get("url", "?"))
	var connection: Dictionary = _connections[id]
	match what:
		"connecting":
			_add_line(id, time, "info", "connecting to %s" % details.url)
		"state":
			connection.state = details.state
		"opened":
			var parts := ["open", "peer %s" % details.peer]
			if not details.protocol.is_empty():
				parts.append("protocol %s" % details.protocol)
			if not details.extensions.is_empty():
				parts.append("extensions %s" % details.extensions)
			if not details.tls_version.is_empty():
				parts.append(details.tls_version)
			_add_line(id, time, "info", ", ".join(parts))
		"message":
			_add_message(id, time, details)
		"not_shown":
			_add_line(id, time, "warning", "%d messages not shown (the game reports at most a few hundred a second)" % details.count)
		"close":
			var side := "sent" if details.outgoing else "received"
			_add_line(id, time, "warning", "close frame %s: %d \"%s\"" % [side, details.code, details.reason])
		"closed":
			var how := "cleanly" if details.clean else "without a close handshake"
			var code := " (code %d)" % details.code if details.code >= 0 else ""
			_add_line(id, time, "warning" if details.clean else "error", "closed %s%s" % [how, code])
		"error":
			_add_line(id, time, "error", details.error)
		"reconnecting":
			_add_line(id, time, "warning", "reconnecting in %.1f s (attempt %d)" % [details.delay, details.attempt])
		"reconnected":
			_add_line(id, time, "info", "reconnected")
		"reconnect_queue_discarded":
			_add_line(id, time, "warning", "%d queued messages not sent (reconnect queue emptied)" % details.count)
		"round_trip":
			connection.round_trip_time = details.round_trip_time
			_add_line(id, time, "dim", "pong: round trip %.2f ms" % (details.round_trip_time * 1000.0))
		"statistics":
			connection.statistics = details
	_show_connection(id)


## Forgets every connection and line.
func clear() -> void:
	_connections.clear()
	_connection_items.clear()
	_selected_id = -1
	_connection_tree.clear()
	_connection_tree.create_item()
	_show_log()


## Copies the selected line's text (a message's whole preview) to the clipboard.
func copy_selected() -> void:
	var item := _log_tree.get_selected()
	if item != null:
		DisplayServer.clipboard_set(item.get_metadata(Column.TEXT))


## The rows of the connection list, each [url, state, rtt, sent, received] as shown.
func connection_rows() -> Array:
	var rows := []
	for item in _connection_tree.get_root().get_children():
		rows.append(range(ConnectionColumn.size()).map(func(column): return item.get_text(column)))
	return rows


## The lines of the log as shown, each [time, direction, size, text]; the direction (an
## icon) as "↑" (sent) or "↓" (received), or "".
func log_rows() -> Array:
	var rows := []
	for item in _log_tree.get_root().get_children():
		var row := range(Column.size()).map(func(column): return item.get_text(column))
		var direction = item.get_metadata(Column.DIRECTION)
		row[Column.DIRECTION] = direction if direction is String else ""
		rows.append(row)
	return rows


func _add_connection(id: int, url: String) -> void:
	if not _connections.has(id):
		var item := _connection_tree.create_item()
		item.set_metadata(0, id)
		_connection_items[id] = item
	_connections[id] = {"url": url, "state": 0, "round_trip_time": 0.0, "statistics": {}, "lines": []}
	if _selected_id == -1 or _selected_id == id:
		_selected_id = id
		_connection_items[id].select(0)
		_show_log()


func _add_message(id: int, time: float, details: Dictionary) -> void:
	var text := ""
	if details.is_text:
		# Line breaks and tabs as escapes, so a message stays on its line.
		text = details.preview.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
	else:
		var hex: String = details.preview.hex_encode()
		var pairs := PackedStringArray()
		for i in range(0, hex.length(), 2):
			pairs.append(hex.substr(i, 2))
		text = " ".join(pairs)
	if details.cut:
		text += " …"
	var line := _add_line(id, time, "message", text)
	line.outgoing = details.outgoing
	line.size = details.size
	_show_line_if_current(id, line)


func _add_line(id: int, time: float, kind: String, text: String) -> Dictionary:
	var line := {"time": time, "kind": kind, "text": text, "outgoing": false, "size": -1}
	var lines: Array = _connections[id].lines
	lines.append(line)
	if lines.size() > MAX_LINES_PER_CONNECTION:
		lines.pop_front()
		var shown_from_first := _filter.text.strip_edges().is_empty() and not _pause_button.button_pressed
		if id == _selected_id and shown_from_first and _log_tree.get_root().get_child_count() > 0:
			_log_tree.get_root().get_child(0).free()
	if kind != "message":
		_show_line_if_current(id, line)
	return line


func _show_line_if_current(id: int, line: Dictionary) -> void:
	if id == _selected_id and not _pause_button.button_pressed and _matches_filter(line):
		_log_tree.scroll_to_item(_make_log_item(line))


func _show_connection(id: int) -> void:
	var connection: Dictionary = _connections[id]
	var item: TreeItem = _connection_items[id]
	var statistics: Dictionary = connection.statistics
	item.set_text(ConnectionColumn.URL, connection.url)
	item.set_tooltip_text(ConnectionColumn.URL, connection.url)
	item.set_text(ConnectionColumn.STATE, STATE_NAMES[clampi(connection.state, 0, 3)])
	var rtt: float = connection.round_trip_time
	item.set_text(ConnectionColumn.ROUND_TRIP, "%.1f ms" % (rtt * 1000.0) if rtt > 0.0 else "–")
	item.set_text(ConnectionColumn.SENT, "%d / %s" % [statistics.get("messages_sent", 0), String.humanize_size(statistics.get("bytes_sent", 0))])
	item.set_text(ConnectionColumn.RECEIVED, "%d / %s" % [statistics.get("messages_received", 0), String.humanize_size(statistics.get("bytes_received", 0))])
	var state_color := "success_color" if connection.state == 1 else "font_color"
	item.set_custom_color(ConnectionColumn.STATE, _editor_color(state_color))


func _show_log() -> void:
	if _log_tree == null or _pause_button.button_pressed:
		return
	_log_tree.clear()
	_log_tree.create_item()
	if not _connections.has(_selected_id):
		return
	var last: TreeItem = null
	for line in _connections[_selected_id].lines:
		if _matches_filter(line):
			last = _make_log_item(line)
	if last != null:
		_log_tree.scroll_to_item(last)


func _matches_filter(line: Dictionary) -> bool:
	var filter := _filter.text.strip_edges().to_lower()
	return filter.is_empty() or line.text.to_lower().contains(filter)


func _make_log_item(line: Dictionary) -> TreeItem:
	var item := _log_tree.create_item()
	item.set_text(Column.TIME, "%.3f" % line.time)
	item.set_text(Column.TEXT, line.text)
	item.set_metadata(Column.TEXT, line.text)
	item.set_tooltip_text(Column.TEXT, line.text)
	if line.kind == "message":
		item.set_metadata(Column.DIRECTION, "↑" if line.outgoing else "↓")
		item.set_tooltip_text(Column.DIRECTION, "sent" if line.outgoing else "received")
		item.set_icon(Column.DIRECTION, get_theme_icon("ArrowUp" if line.outgoing else "ArrowDown", "EditorIcons"))
		item.set_icon_modulate(Column.DIRECTION, _editor_color("accent_color" if line.outgoing else "success_color"))
		item.set_text(Column.SIZE, String.humanize_size(line.size))
	else:
		var colors := {"error": "error_color", "warning": "warning_color", "dim": "font_disabled_color", "info": "font_color"}
		item.set_custom_color(Column.TEXT, _editor_color(colors[line.kind]))
		if line.kind in ["error", "warning"]:
			item.set_icon(Column.DIRECTION, get_theme_icon("StatusError" if line.kind == "error" else "StatusWarning", "EditorIcons"))
	return item


func _on_connection_selected() -> void:
	_selected_id = _connection_tree.get_selected().get_metadata(0)
	_show_log()


## A color of the editor's theme (white outside the editor).
func _editor_color(name: String) -> Color:
	return get_theme_color(name, "Editor") if has_theme_color(name, "Editor") else Color.WHITE


func _tool_button(text: String, tooltip: String) -> Button:
	var button := Button.new()
	button.text = text
	button.tooltip_text = tooltip
	button.flat = true
	return button


## A Tree with these column titles and minimum widths (0: the column takes the room left).
func _make_tree(titles: Array, widths: Array) -> Tree:
	var tree := Tree.new()
	tree.columns = titles.size()
	tree.column_titles_visible = true
	tree.hide_root = true
	tree.select_mode = Tree.SELECT_ROW
	for column in titles.size():
		tree.set_column_title(column, titles[column])
		tree.set_column_expand(column, widths[column] == 0)
		tree.set_column_custom_minimum_width(column, widths[column])
		tree.set_column_clip_content(column, true)
	tree.create_item()
	return tree
