extends "test_case.gd"
## HTTP CONNECT proxies (tests/peers/connect_proxy.py): from proxy_url and from the environment
## (OS.set_environment, read at each connect; ALL_PROXY with a SOCKS5 proxy too), NO_PROXY,
## credentials, and the proxy resolving a name (game.test) that only it knows. SOCKS5 proxies
## from proxy_url are in test_socks.gd.

const PROXY_VARIABLES := ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"]


## ws:// on the Python peer by the name only the proxy resolves.
func _proxied_url(path := "/echo") -> String:
	return "ws://game.test:%d%s" % [py_port, path]


func _clear_environment() -> void:
	for name: String in PROXY_VARIABLES:
		OS.unset_environment(name)


func test_proxy_url_carries_the_connection() -> void:
	var ws := watch(make_client())
	assert_eq(ws.client.proxy_url, "", "proxy_url default")
	assert_eq(ws.client.use_environment_proxy, true, "use_environment_proxy default")
	ws.client.proxy_url = proxy_url()
	assert_eq(error_string(ws.client.connect_to_url(_proxied_url())), error_string(OK), "connect_to_url()")
	if not await wait_until_open(ws):
		return
	await echo_text(ws, "through the proxy")
	assert_eq(ws.client.get_proxy_in_use(), "127.0.0.1:%d" % proxy_port, "get_proxy_in_use()")
	assert_eq(ws.client.get_connected_port(), proxy_port, "get_connected_port() is the proxy's")
	note("open through %s: %s" % [ws.client.get_proxy_in_use(), _proxied_url()])


func test_wss_through_the_proxy_checks_the_servers_certificate() -> void:
	var ws := watch(make_client())
	ws.client.proxy_url = proxy_url()
	ws.client.trusted_tls_certificate = certificate("localhost.crt")
	var url := py_tls_url("localhost")
	assert_eq(error_string(ws.client.connect_to_url(url)), error_string(OK), "connect_to_url(\"%s\")" % url)
	if not await wait_until_open(ws):
		return
	await echo_text(ws, "encrypted through the proxy")
	assert_true(not ws.client.get_tls_version().is_empty(), "get_tls_version() must not be empty")
	assert_eq(ws.client.get_proxy_in_use(), "127.0.0.1:%d" % proxy_port, "get_proxy_in_use()")
	note("open through %s: %s (%s)" % [ws.client.get_proxy_in_use(), url, ws.client.get_tls_version()])


func test_environment_proxy_is_read_at_each_connect() -> void:
	_clear_environment()
	OS.set_environment("HTTP_PROXY", proxy_url())
	var ws := start(_proxied_url())
	if await wait_until_open(ws):
		assert_eq(ws.client.get_proxy_in_use(), "127.0.0.1:%d" % proxy_port, "get_proxy_in_use() from HTTP_PROXY")
		ws.client.disconnect_from_host()
		await wait_until_ended(ws)
	# NO_PROXY sends game.test directly, where the system resolver does not know it.
	OS.set_environment("NO_PROXY", "localhost,.test")
	var direct := start(_proxied_url())
	if await wait_until_ended(direct):
		assert_begins(direct.client.get_last_error(), "cannot resolve host game.test", "get_last_error() with NO_PROXY")
		assert_eq(direct.client.get_proxy_in_use(), "", "get_proxy_in_use() with NO_PROXY")
	# use_environment_proxy = false ignores the variables.
	OS.unset_environment("NO_PROXY")
	var ignoring := watch(make_client())
	ignoring.client.use_environment_proxy = false
	ignoring.client.connect_to_url(_proxied_url())
	if await wait_until_ended(ignoring):
		assert_begins(ignoring.client.get_last_error(), "cannot resolve host game.test", "get_last_error() without the environment")
	_clear_environment()


## ALL_PROXY may name a SOCKS5 proxy. The suite's second one answers (test_socks.gd): it wants a
## password the variable does not carry, so the error shows that the variable was read and SOCKS5
## spoken. (A server reached through it would have to be off loopback, which is always reached
## directly; the unit tests of the engine's proxy.rs cover the order of the variables.)
func test_all_proxy_may_name_a_socks5_proxy() -> void:
	_clear_environment()
	OS.set_environment("ALL_PROXY", socks_url("socks5h", socks_auth_port))
	var ws := start(_proxied_url())
	if await wait_until_ended(ws):
		assert_eq(ws.client.get_proxy_in_use(), "127.0.0.1:%d" % socks_auth_port, "get_proxy_in_use() from ALL_PROXY")
		assert_eq(ws.client.get_last_error(), "SOCKS5 proxy 127.0.0.1:%d wants a user name and password (socks5://user:password@host:port in the proxy URL)" % socks_auth_port, "get_last_error() from ALL_PROXY")
	_clear_environment()


func test_wrong_proxy_password_is_reported_without_it() -> void:
	var ws := watch(make_client())
	ws.client.proxy_url = proxy_url("user:hunter2@")
	ws.client.connect_to_url(_proxied_url())
	if not await wait_until_ended(ws):
		return
	assert_signal(ws, "connection_error", [])
	var error: String = ws.client.get_last_error()
	assert_eq(error, "proxy 127.0.0.1:%d refused the tunnel to game.test:%d with HTTP 407 Proxy Authentication Required: it did not accept the user name and password of the proxy URL" % [proxy_port, py_port], "get_last_error()")
	assert_true(not error.contains("hunter2"), "the password must not appear in get_last_error()")
	var right := watch(make_client())
	right.client.proxy_url = proxy_url("user:secret@")
	right.client.connect_to_url(_proxied_url())
	await wait_until_open(right)
	note("connection_error: " + error)


func test_unreachable_proxy_is_named() -> void:
	var port := closed_port()
	var ws := watch(make_client())
	ws.client.proxy_url = "http://127.0.0.1:%d" % port
	ws.client.connect_to_url(_proxied_url())
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.client.get_last_error(), "cannot reach the proxy 127.0.0.1:%d: connection refused by 127.0.0.1:%d" % [port, port], "get_last_error()")


func test_unsupported_proxy_url_is_refused_at_once() -> void:
	var client := make_client()
	client.proxy_url = "socks4://proxy.lan:1080"
	assert_eq(error_string(client.connect_to_url(_proxied_url())), error_string(ERR_INVALID_PARAMETER), "connect_to_url() result")
	assert_eq(client.get_last_error(), "invalid proxy URL in the proxy setting: \"socks4://\" proxies are not supported, only http:// (HTTP CONNECT), socks5:// and socks5h:// proxies", "get_last_error()")
