extends SceneTree
## Makes res://tests/certs/godot_crypto.crt + .key the way Godot's docs show, with Crypto:
## a 2048-bit RSA key and generate_self_signed_certificate(key, "CN=localhost,O=Game,C=US").
## mbedTLS marks it CA:TRUE and names localhost only in its common name. Run by
## `cargo xtask test` / `suite` before the Python server starts, so that server serves it too.


func _initialize() -> void:
	var crypto := Crypto.new()
	var key := crypto.generate_rsa(2048)
	var certificate := crypto.generate_self_signed_certificate(key, "CN=localhost,O=Game,C=US")
	var saved := key.save("res://tests/certs/godot_crypto.key") == OK and certificate.save("res://tests/certs/godot_crypto.crt") == OK
	if not saved:
		push_error("cannot save res://tests/certs/godot_crypto.crt or .key")
	quit(0 if saved else 1)
