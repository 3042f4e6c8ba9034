## The GDScript contenders of `cargo xtask bench`: the same scenario code drives
## RustWebSocketClient (`--contender=rust`) and Godot's WebSocketPeer (`--contender=godot`),
## through the API both share (`connect_to_url`, `poll`, `get_ready_state`, `send_text`,
## `put_packet`, `get_available_packet_count`, `get_packet`). Each run prints one
## `RESULT name=value ...` line, like `bench_client` does for the Rust contenders.
##
## `--contender=rust_batch` is RustWebSocketClient read with `take_messages()` and written with
## `send_messages()`, one call each per poll (throughput scenarios only).
##
## Run: godot --headless --path <project> --script res://bench/bench.gd -- --contender=rust
##      --scenario=small --url=ws://127.0.0.1:PORT/echo --count=200000 --inflight=1000 --size=16
## Options as in rust/bench/src/bin/bench_client.rs, plus `--godot-buffer=BYTES` (the inbound and
## outbound buffer sizes WebSocketPeer needs for large messages; ignored for ours).
extends SceneTree

## The name the benchmark certificate is issued for; connections go to 127.0.0.1.
const TLS_NAME := "localhost"
## A frame of the `scale` scenario (60 frames per second), in microseconds.
const FRAME_USEC := 16667
## How long a scenario waits for messages still on their way before counting them lost.
const DRAIN_USEC := 5000000
## How long a connection may take to open.
const OPEN_TIMEOUT_USEC := 10000000

var options := {}


func _initialize() -> void:
	for arg in OS.get_cmdline_user_args():
		var pair: PackedStringArray = arg.trim_prefix("--").split("=", true, 1)
		options[pair[0]] = pair[1] if pair.size() > 1 else ""
	match option("scenario", ""):
		"small": throughput(true)
		"large": throughput(false)
		"latency": latency()
		"connect": connect_many()
		"idle": idle()
		"scale": scale()
		"slow": slow_consumer()
		"crowd": crowd()
		var other:
			printerr("unknown scenario ", other)
			quit(2)
			return
	quit(0)


func option(name: String, default: Variant) -> Variant:
	if not options.has(name):
		return default
	return int(options[name]) if default is int else options[name]


## A connecting peer of the contender under test.
func start_peer(url: String) -> Object:
	var ca: X509Certificate = load(option("ca", "")) if option("ca", "") != "" else null
	if option("contender", "") == "godot":
		var peer := WebSocketPeer.new()
		var buffer: int = option("godot-buffer", 0)
		if buffer > 0:
			peer.inbound_buffer_size = buffer
			peer.outbound_buffer_size = buffer
			peer.max_queued_packets = 65535
		peer.connect_to_url(url, TLSOptions.client(ca, TLS_NAME) if ca else null)
		return peer
	var client := RustWebSocketClient.new()
	if option("limit", 0) > 0:
		client.inbound_queue_limit = option("limit", 0)
	if ca:
		client.trusted_tls_certificate = ca
		client.tls_server_name = TLS_NAME
	client.connect_to_url(url)
	return client


## Starts `count` peers and waits until all are open.
func open_peers(count: int) -> Array:
	var peers := []
	for i in count:
		peers.append(start_peer(option("url", "")))
	# Thousands of connections take longer to open than a few.
	var deadline := Time.get_ticks_usec() + maxi(OPEN_TIMEOUT_USEC, count * 3000)
	var waiting := peers.duplicate()
	while not waiting.is_empty():
		if Time.get_ticks_usec() > deadline:
			printerr("connections did not open in time")
			quit(1)
			return []
		var still := []
		for peer in waiting:
			peer.poll()
			var state: int = peer.get_ready_state()
			if state == WebSocketPeer.STATE_CLOSED:
				printerr("a connection failed to open")
				quit(1)
				return []
			if state != WebSocketPeer.STATE_OPEN:
				still.append(peer)
		waiting = still
	return peers


func close_peers(peers: Array) -> void:
	for peer in peers:
		if peer is WebSocketPeer:
			peer.close()
		else:
			peer.disconnect_from_host()


func report(fields: Dictionary) -> void:
	var parts := PackedStringArray()
	for name in fields:
		parts.append("%s=%s" % [name, fields[name]])
	print("RESULT ", " ".join(parts))


func percentile(samples: Array, q: float) -> float:
	samples.sort()
	return samples[roundi((samples.size() - 1) * q)]


## A field of /proc/self/status in its own unit (kB for memory, a count for Threads).
func process_status(field: String) -> int:
	var status := FileAccess.open("/proc/self/status", FileAccess.READ)
	while status and not status.eof_reached():
		var line := status.get_line()
		if line.begins_with(field + ":"):
			return int(line.get_slice(":", 1).strip_edges().get_slice(" ", 0))
	return 0


## Echo throughput: `count` messages of `size` bytes, `inflight` at a time.
func throughput(text: bool) -> void:
	var count: int = option("count", 1000)
	var inflight: int = mini(option("inflight", 1), count)
	var size: int = option("size", 16)
	var text_message := "x".repeat(size)
	var binary_message := PackedByteArray()
	binary_message.resize(size)
	binary_message.fill(0xa5)
	var peer: Object = open_peers(1)[0]
	var started := Time.get_ticks_usec()
	for i in inflight:
		send(peer, text, text_message, binary_message)
	var sent := inflight
	var received := 0
	var bytes := 0
	var replies := []
	var batch_calls: bool = option("contender", "") == "rust_batch"
	while batch_calls and received < count:
		peer.poll()
		var batch: Array = peer.take_messages()
		received += batch.size()
		for message in batch:
			bytes += message.length() if text else message.size()
		var more := mini(batch.size(), count - sent)
		if more > 0:
			replies.resize(more)
			replies.fill(text_message if text else binary_message)
			peer.send_messages(replies)
			sent += more
		if peer.get_ready_state() != WebSocketPeer.STATE_OPEN:
			break
	while received < count:
		peer.poll()
		while peer.get_available_packet_count() > 0:
			bytes += peer.get_packet().size()
			received += 1
			if sent < count:
				send(peer, text, text_message, binary_message)
				sent += 1
		if peer.get_ready_state() != WebSocketPeer.STATE_OPEN:
			printerr("the connection closed after %d of %d echoes" % [received, count])
			quit(1)
			return
	var seconds := (Time.get_ticks_usec() - started) / 1e6
	if bytes != count * size:
		printerr("echoes came back with %d bytes, not %d" % [bytes, count * size])
	report({
		msgs_per_s = "%.0f" % (count / seconds),
		mb_per_s = "%.1f" % (bytes / seconds / 1e6),
	})
	close_peers([peer])


func send(peer: Object, text: bool, text_message: String, binary_message: PackedByteArray) -> void:
	if text:
		peer.send_text(text_message)
	else:
		peer.put_packet(binary_message)


## Round trips of one small message at a time.
func latency() -> void:
	var count: int = option("count", 1000)
	var peer: Object = open_peers(1)[0]
	var samples := []
	for i in count:
		var started := Time.get_ticks_usec()
		peer.send_text("0123456789abcdef")
		while true:
			peer.poll()
			if peer.get_available_packet_count() > 0:
				peer.get_packet()
				break
		samples.append(float(Time.get_ticks_usec() - started))
	report({
		p50_us = "%.1f" % percentile(samples, 0.5),
		p99_us = "%.1f" % percentile(samples, 0.99),
	})
	close_peers([peer])


## Sequential connects until open.
func connect_many() -> void:
	var samples := []
	for i in option("count", 10):
		var started := Time.get_ticks_usec()
		var peers := open_peers(1)
		samples.append((Time.get_ticks_usec() - started) / 1e3)
		close_peers(peers)
	report({ms_each = "%.3f" % percentile(samples, 0.5)})


## The cost of polling `connections` idle connections once per frame.
func idle() -> void:
	var peers := open_peers(option("connections", 10))
	var samples := []
	for frame in option("frames", 100):
		var started := Time.get_ticks_usec()
		for peer in peers:
			peer.poll()
		samples.append(float(Time.get_ticks_usec() - started))
		OS.delay_msec(1)
	report({us_per_frame = "%.1f" % percentile(samples, 0.5)})
	close_peers(peers)


## Many connections, each echoing one message per frame.
func scale() -> void:
	var connections: int = option("connections", 10)
	var rss_before := process_status("VmRSS")
	var threads_before := process_status("Threads")
	var peers := open_peers(connections)
	var sent := 0
	var received := 0
	var frame_end := Time.get_ticks_usec()
	for frame in option("seconds", 1) * 60:
		for peer in peers:
			peer.poll()
			while peer.get_available_packet_count() > 0:
				peer.get_packet()
				received += 1
			peer.send_text("0123456789abcdef")
			sent += 1
		frame_end += FRAME_USEC
		OS.delay_usec(maxi(0, frame_end - Time.get_ticks_usec()))
	var rss_during := process_status("VmRSS")
	var threads := process_status("Threads")
	var deadline := Time.get_ticks_usec() + DRAIN_USEC
	while received < sent and Time.get_ticks_usec() < deadline:
		for peer in peers:
			peer.poll()
			while peer.get_available_packet_count() > 0:
				peer.get_packet()
				received += 1
	report({
		kib_per_conn = "%.1f" % (float(rss_during - rss_before) / connections),
		threads = threads,
		extra_threads = threads - threads_before,
		lost = sent - received,
		messages = sent,
	})
	close_peers(peers)


## `connections` connections in one process (10,000 in the benchmark), each echoing a message
## every `every` frames, staggered so every frame carries the same share: the whole process's
## resident memory, the time to poll all of them once per frame, and its threads, also compared
## with the count once the first 10 were open. The open-file limit is inherited from
## `cargo xtask bench`, which raises its own.
func crowd() -> void:
	var connections: int = option("connections", 100)
	var every: int = maxi(1, option("every", 6))
	var peers := open_peers(mini(10, connections))
	var threads_with_ten := process_status("Threads")
	peers.append_array(open_peers(connections - peers.size()))
	var sent := 0
	var received := 0
	var samples := []
	var frame_end := Time.get_ticks_usec()
	for frame in option("seconds", 1) * 60:
		var started := Time.get_ticks_usec()
		var index := 0
		for peer in peers:
			peer.poll()
			while peer.get_available_packet_count() > 0:
				peer.get_packet()
				received += 1
			if (frame + index) % every == 0:
				peer.send_text("0123456789abcdef")
				sent += 1
			index += 1
		samples.append(float(Time.get_ticks_usec() - started))
		frame_end += FRAME_USEC
		OS.delay_usec(maxi(0, frame_end - Time.get_ticks_usec()))
	var rss := process_status("VmRSS")
	var threads := process_status("Threads")
	var deadline := Time.get_ticks_usec() + DRAIN_USEC
	while received < sent and Time.get_ticks_usec() < deadline:
		for peer in peers:
			peer.poll()
			while peer.get_available_packet_count() > 0:
				peer.get_packet()
				received += 1
	report({
		rss_mib = "%.1f" % (rss / 1024.0),
		us_per_frame = "%.1f" % percentile(samples, 0.5),
		threads = threads,
		threads_beyond_ten = threads - threads_with_ten,
		lost = sent - received,
		messages = sent,
	})
	close_peers(peers)


## The server pushes messages while the game polls only every `poll-ms` milliseconds.
func slow_consumer() -> void:
	var count: int = option("count", 100)
	var rss_before := process_status("VmRSS")
	# Resets the peak resident size (VmHWM) to the current one.
	var clear_refs := FileAccess.open("/proc/self/clear_refs", FileAccess.WRITE)
	if clear_refs:
		clear_refs.store_string("5")
		clear_refs.close()
	var peer: Object = open_peers(1)[0]
	var received := 0
	var done := false
	var last_message := Time.get_ticks_usec()
	while not done and Time.get_ticks_usec() - last_message < DRAIN_USEC:
		peer.poll()
		while peer.get_available_packet_count() > 0:
			last_message = Time.get_ticks_usec()
			peer.get_packet()
			if peer.was_string_packet():
				done = true
			else:
				received += 1
		OS.delay_msec(option("poll-ms", 50))
	report({
		peak_rss_mib = "%.1f" % ((process_status("VmHWM") - rss_before) / 1024.0),
		lost = count - mini(received, count),
	})
	close_peers([peer])
