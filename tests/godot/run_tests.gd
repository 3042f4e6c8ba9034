extends SceneTree
## Runs the RustWebSocketClient test suite headless:
##
##   godot --headless --path <project> --script res://tests/godot/run_tests.gd -- \
##       --py-port=<port of tests/peers/py_server.py> --godot-port=<port of tests/peers/godot_server.gd> \
##       --py-tls=localhost:<port>,expired:<port>,example:<port>,ca_server:<port> \
##       --proxy-port=<port of tests/peers/connect_proxy.py>
##       --misbehaving-port=<port of tests/peers/misbehaving_server.py>
##       --socks-port=<port of a SOCKS5 proxy> --socks-auth-port=<port of one asking for a password>
##
## --py-tls names the Python server's wss:// ports (its `TLS <name> <port>` lines, from
## `--tls-dir`); the TLS tests read certificates from res://tests/certs/ (see rust/xtask/src/certs.rs).
## The SOCKS5 proxies are Debian's microsocks (rust/xtask/src/microsocks.rs); the second one asks
## for the user name and password test_socks.gd knows.
##
## Every `test_*` method of every `test_*.gd` script next to this one runs on a fresh instance of
## its script (which extends test_case.gd), under a watchdog. Prints `PASS <name>` or
## `FAIL <name>: <reason>` per test, then exactly `N passed, M failed`, and exits with 1 if
## anything failed. `--only=<text>` runs only the tests whose name contains <text>. On Godot 4.5+
## a test during which Godot reports an error (e.g. a script error) fails with that error.

## A test that has not finished after this many seconds fails.
const WATCHDOG_S := 30.0

var _py_port := 0
var _godot_port := 0
## The Python server's wss:// ports by identity name, e.g. {"localhost": 40841}.
var _py_tls := {}
var _proxy_port := 0
var _misbehaving_port := 0
var _socks_port := 0
var _socks_auth_port := 0
var _only := ""
var _passed := 0
var _failed := 0
## Collects errors printed during each test (Godot 4.5+), or null.
var _errors: RefCounted = null


func _initialize() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--py-port="):
			_py_port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--godot-port="):
			_godot_port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--py-tls="):
			for entry in arg.get_slice("=", 1).split(",", false):
				_py_tls[entry.get_slice(":", 0)] = entry.get_slice(":", 1).to_int()
		elif arg.begins_with("--proxy-port="):
			_proxy_port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--misbehaving-port="):
			_misbehaving_port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--socks-port="):
			_socks_port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--socks-auth-port="):
			_socks_auth_port = arg.get_slice("=", 1).to_int()
		elif arg.begins_with("--only="):
			_only = arg.get_slice("=", 1)
		else:
			printerr("run_tests: unknown argument ", arg)
	_run.call_deferred()


func _run() -> void:
	var started := Time.get_ticks_msec()
	print("RustWebSocketClient tests on Godot %s: Python peer on port %d, Godot peer on port %d, Python wss:// ports %s" % [
		Engine.get_version_info()["string"], _py_port, _godot_port, _py_tls])
	if ClassDB.class_exists("Logger"):
		_errors = load(get_script().resource_path.get_base_dir().path_join("error_catcher.gd")).new()
		OS.call("add_logger", _errors)
	if not ClassDB.class_exists("RustWebSocketClient"):
		_report("setup", ["RustWebSocketClient is not registered: the GDExtension did not load"])
	else:
		var directory: String = get_script().resource_path.get_base_dir()
		var files := Array(DirAccess.get_files_at(directory))
		files.sort()
		for file: String in files:
			if file.begins_with("test_") and file.ends_with(".gd") and file != "test_case.gd":
				await _run_script(directory.path_join(file))
	if _errors != null:
		OS.call("remove_logger", _errors)
		_errors = null
	var seconds := (Time.get_ticks_msec() - started) / 1000.0
	print("suite took %.1f s" % seconds)
	print("%d passed, %d failed" % [_passed, _failed])
	quit(1 if _failed > 0 else 0)


func _run_script(path: String) -> void:
	var script: GDScript = load(path)
	if script == null or not script.can_instantiate():
		_report(path.get_file(), ["cannot load " + path])
		return
	print("== ", path.get_file())
	# A test_web_*.gd script runs the tests of the script it extends on the web path: "web: "
	# tells its results apart (and --only=web: selects them).
	var prefix := "web: " if path.get_file().begins_with("test_web_") else ""
	var seen := {}
	for method in script.get_script_method_list():
		var method_name: String = method["name"]
		if not method_name.begins_with("test_") or seen.has(method_name):
			continue
		seen[method_name] = true
		if _only.is_empty() or (prefix + method_name).contains(_only):
			await _run_test(script, method_name, prefix + method_name)


func _run_test(script: GDScript, method_name: String, test_name: String) -> void:
	if _errors != null:
		_errors.take()
	var case: Object = script.new()
	case.tree = self
	case.py_port = _py_port
	case.godot_port = _godot_port
	case.py_tls = _py_tls
	case.proxy_port = _proxy_port
	case.misbehaving_port = _misbehaving_port
	case.socks_port = _socks_port
	case.socks_auth_port = _socks_auth_port
	case.log_catcher = _errors
	case.run_test(method_name)
	var watchdog_s := maxf(WATCHDOG_S, case.watchdog_s)
	var deadline := Time.get_ticks_msec() + int(watchdog_s * 1000.0)
	while not case.finished and Time.get_ticks_msec() < deadline:
		await process_frame
	var failures: Array = Array(case.failures)
	if not case.finished:
		failures.append("did not finish within %.0f s (watchdog)" % watchdog_s)
		case.aborted = true
		# Let the abandoned coroutine run to its end so it releases what it holds.
		var grace := Time.get_ticks_msec() + 3000
		while not case.finished and Time.get_ticks_msec() < grace:
			await process_frame
	await case.teardown()
	if _errors != null:
		failures.append_array(Array(_errors.take()))
	_report(test_name, failures)


func _report(test_name: String, failures: Array) -> void:
	if failures.is_empty():
		_passed += 1
		print("PASS ", test_name)
	else:
		_failed += 1
		print("FAIL %s: %s" % [test_name, "; ".join(PackedStringArray(failures))])
