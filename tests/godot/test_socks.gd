extends "test_case.gd"
## SOCKS5 proxies: two real ones, Debian's microsocks (rust/xtask/src/microsocks.rs), one open and
## one asking for a user name and password. socks5:// and socks5h://, ws:// and wss://, and the
## errors a user meets, which name the proxy and never show the password. ALL_PROXY naming a
## SOCKS5 proxy is in test_proxy.gd, with the other variables.

## The user name and password the second proxy asks for (SOCKS_CREDENTIALS in
## rust/xtask/src/suite.rs), and the password percent-encoded as a proxy URL carries it.
const USER := "player"
const PASSWORD := "se:cr@t"
const PASSWORD_IN_URL := "se%3Acr%40t"


## A watched client with proxy_url, started towards url.
func _through(proxy: String, url: String) -> SignalLog:
	var ws := watch(make_client())
	ws.client.proxy_url = proxy
	assert_eq(error_string(ws.client.connect_to_url(url)), error_string(OK), "connect_to_url(\"%s\")" % url)
	return ws


## The connection went through the proxy on port: it is what the client is connected to.
func _check_proxy_in_use(ws: SignalLog, port: int) -> void:
	assert_eq(ws.client.get_proxy_in_use(), "127.0.0.1:%d" % port, "get_proxy_in_use()")
	assert_eq(ws.client.get_connected_port(), port, "get_connected_port() is the proxy's")


## socks5:// without authentication: the client resolves the server's name and gives the proxy
## the address.
func test_socks5_without_a_password_carries_the_connection() -> void:
	var ws := _through(socks_url("socks5", socks_port), py_url("/echo"))
	if not await wait_until_open(ws):
		return
	await echo_text(ws, "through SOCKS5")
	_check_proxy_in_use(ws, socks_port)
	note("open through SOCKS5 %s: %s" % [ws.client.get_proxy_in_use(), ws.client.get_requested_url()])


## socks5h:// with a user name and password (RFC 1929; special characters percent-encoded):
## the proxy resolves the server's name.
func test_socks5h_with_a_user_name_and_password_carries_the_connection() -> void:
	var url := "ws://localhost:%d/echo" % py_port
	var ws := _through(socks_url("socks5h", socks_auth_port, "%s:%s@" % [USER, PASSWORD_IN_URL]), url)
	if not await wait_until_open(ws):
		return
	await echo_text(ws, "through SOCKS5 with a password")
	_check_proxy_in_use(ws, socks_auth_port)
	note("open through SOCKS5 %s with a password: %s" % [ws.client.get_proxy_in_use(), url])


func test_wss_through_socks5h_checks_the_servers_certificate() -> void:
	var url := py_tls_url("localhost")
	var ws := watch(make_client())
	ws.client.proxy_url = socks_url("socks5h", socks_auth_port, "%s:%s@" % [USER, PASSWORD_IN_URL])
	ws.client.trusted_tls_certificate = certificate("localhost.crt")
	assert_eq(error_string(ws.client.connect_to_url(url)), error_string(OK), "connect_to_url(\"%s\")" % url)
	if not await wait_until_open(ws):
		return
	await echo_text(ws, "encrypted through SOCKS5")
	assert_true(not ws.client.get_tls_version().is_empty(), "get_tls_version() must not be empty")
	_check_proxy_in_use(ws, socks_auth_port)
	note("open through SOCKS5 %s: %s (%s)" % [ws.client.get_proxy_in_use(), url, ws.client.get_tls_version()])


func test_socks_proxy_refuses_a_wrong_or_missing_password_without_showing_it() -> void:
	var wrong := _through(socks_url("socks5h", socks_auth_port, USER + ":hunter2@"), py_url("/echo"))
	if not await wait_until_ended(wrong):
		return
	assert_eq(wrong.lifecycle(), ["connection_error"] as Array[String], "signals with a wrong password")
	var error: String = wrong.client.get_last_error()
	assert_eq(error, "SOCKS5 proxy 127.0.0.1:%d did not accept the user name and password of the proxy URL" % socks_auth_port, "get_last_error() with a wrong password")
	assert_true(not error.contains("hunter2"), "the password must not appear in get_last_error()")
	var missing := _through(socks_url("socks5", socks_auth_port), py_url("/echo"))
	if not await wait_until_ended(missing):
		return
	assert_eq(missing.client.get_last_error(), "SOCKS5 proxy 127.0.0.1:%d wants a user name and password (socks5://user:password@host:port in the proxy URL)" % socks_auth_port, "get_last_error() without a password")
	note("connection_error: " + error)


## The proxy could not reach the server: its reply code, in words.
func test_unreachable_server_is_the_socks_proxys_reply_in_words() -> void:
	var port := closed_port()
	var ws := _through(socks_url("socks5", socks_port), "ws://127.0.0.1:%d/" % port)
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.lifecycle(), ["connection_error"] as Array[String], "signals")
	assert_eq(ws.client.get_last_error(), "SOCKS5 proxy 127.0.0.1:%d could not connect to 127.0.0.1:%d: the server refused the connection (SOCKS reply 5)" % [socks_port, port], "get_last_error()")
	note("connection_error: " + ws.client.get_last_error())


func test_unreachable_socks_proxy_is_named_without_showing_the_password() -> void:
	var port := closed_port()
	var ws := _through("socks5h://bob:hunter2@127.0.0.1:%d" % port, py_url("/echo"))
	assert_eq(ws.client.get_proxy_in_use(), "127.0.0.1:%d" % port, "get_proxy_in_use() while connecting")
	if not await wait_until_ended(ws):
		return
	assert_eq(ws.client.get_last_error(), "cannot reach the proxy 127.0.0.1:%d: connection refused by 127.0.0.1:%d" % [port, port], "get_last_error()")
