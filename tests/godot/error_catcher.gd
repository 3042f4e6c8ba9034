extends Logger
## Collects the errors Godot reports while a test runs, so that a script error (or an engine
## error) fails that test instead of scrolling by. Warnings (push_warning, godot_warn!) do not
## fail a test: they are kept apart, for tests that check them. Needs Godot 4.5+ (the Logger
## class); run_tests.gd loads it only when Logger exists. Called from any thread, hence the mutex.

var _mutex := Mutex.new()
var _errors: PackedStringArray = []
var _warnings: PackedStringArray = []


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
	var text := rationale if not rationale.is_empty() else code
	if error_type == ERROR_TYPE_WARNING:
		_mutex.lock()
		_warnings.append(text)
		_mutex.unlock()
		return
	var kind := "script error" if error_type == ERROR_TYPE_SCRIPT else "engine error"
	_mutex.lock()
	_errors.append("%s: %s (%s:%d in %s)" % [kind, text, file, line, function])
	_mutex.unlock()


## The errors collected since the last call (warnings since then are dropped too).
func take() -> PackedStringArray:
	_mutex.lock()
	var errors := _errors
	_errors = PackedStringArray()
	_warnings = PackedStringArray()
	_mutex.unlock()
	return errors


## The warnings collected since the last take() (kept until then).
func warnings() -> PackedStringArray:
	_mutex.lock()
	var warnings := _warnings.duplicate()
	_mutex.unlock()
	return warnings
