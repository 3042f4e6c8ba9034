extends Logger
## Collects the errors Godot reports while a test runs, so that a script error (or an engine
## error) fails that test instead of scrolling by. Needs Godot 4.5+ (the Logger class);
## run_tests.gd loads it only when Logger exists. Called from any thread, hence the mutex.

var _mutex := Mutex.new()
var _errors: PackedStringArray = []


func _log_error(
	function: String,
	file: String,
	line: int,
	code: String,
	rationale: String,
	_editor_notify: bool,
	error_type: int,
	_script_backtraces: Array[ScriptBacktrace]
) -> void:
	if error_type == ERROR_TYPE_WARNING:
		return
	var kind := "script error" if error_type == ERROR_TYPE_SCRIPT else "engine error"
	var text := rationale if not rationale.is_empty() else code
	_mutex.lock()
	_errors.append("%s: %s (%s:%d in %s)" % [kind, text, file, line, function])
	_mutex.unlock()


## The errors collected since the last call.
func take() -> PackedStringArray:
	_mutex.lock()
	var errors := _errors
	_errors = PackedStringArray()
	_mutex.unlock()
	return errors
