"""Writes the named seed inputs of the fuzz targets: `python3 make_seeds.py corpus`.

server_bytes/: what a server sends after the handshake: valid frames (text, binary, multi-byte
UTF-8, fragmented, pings, pongs, close frames, 16- and 64-bit lengths) and invalid ones (reserved
opcodes, masked or RSV frames, bad UTF-8, oversized or fragmented control frames, truncated
frames, data after close). connect_request/: URLs, header lines and "P <protocols>" lines.
"""
import os, struct, sys
root = sys.argv[1]


def frame(opcode, payload, fin=True, rsv=0, length_form=None):
    b0 = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    if length_form == 64 or (length_form is None and n > 0xffff):
        head = bytes([b0, 127]) + struct.pack(">Q", n)
    elif length_form == 16 or (length_form is None and n > 125):
        head = bytes([b0, 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, n])
    return head + payload
close = lambda code, reason=b"": frame(8, struct.pack(">H", code) + reason)
seeds = {
    "empty": b"",
    "text": frame(1, b"hello"),
    "binary": frame(2, bytes([1, 2, 3])),
    "text_multibyte": frame(1, "héllo €🦀".encode()),
    "fragmented_text": frame(1, b"hel", fin=False) + frame(0, b"lo"),
    "fragmented_with_ping_between": frame(2, b"ab", fin=False) + frame(9, b"p") + frame(0, b"cd"),
    "ping": frame(9, b"ping"),
    "pong": frame(10, b"unsolicited"),
    "close_1000_bye": close(1000, b"bye"),
    "close_empty": frame(8, b""),
    "messages_then_close": frame(1, b"one") + frame(2, b"\x00two") + close(4000, b"done"),
    "length_16": frame(2, bytes(range(256)) * 2, length_form=16),
    "length_64_small": frame(2, b"0123456789", length_form=64),
    "length_64_huge": bytes([0x82, 127]) + struct.pack(">Q", (1 << 63) - 1) + b"x",
    "reserved_opcode": frame(3, b"x"),
    "masked_from_server": bytes([0x81, 0x85, 1, 2, 3, 4]) + bytes(c ^ m for c, m in zip(b"hello", b"\x01\x02\x03\x04\x01")),
    "rsv1_without_extension": frame(1, b"x", rsv=0x40),
    "invalid_utf8": frame(1, b"\xc3\x28"),
    "utf8_split_across_fragments": frame(1, "€".encode()[:1], fin=False) + frame(0, "€".encode()[1:]),
    "control_too_long": frame(9, b"x" * 126, length_form=16),
    "fragmented_control": frame(9, b"p", fin=False),
    "continuation_without_start": frame(0, b"a"),
    "new_message_inside_fragmented": frame(1, b"a", fin=False) + frame(1, b"b"),
    "close_invalid_code": close(1005),
    "close_one_byte": frame(8, b"\x03"),
    "close_invalid_utf8_reason": close(1000, b"\xff"),
    "truncated_header": bytes([0x81]),
    "truncated_payload": bytes([0x82, 10, 1, 2]),
    "data_after_close": close(1000) + frame(1, b"late"),
    "many_small": b"".join(frame(2, bytes([i])) for i in range(64)),
    "http_garbage": b"HTTP/1.1 200 OK\r\n\r\n",
}
d = os.path.join(root, "server_bytes"); os.makedirs(d, exist_ok=True)
for name, data in seeds.items():
    open(os.path.join(d, name), "wb").write(data)
requests = {
    "full": "ws://127.0.0.1:8080/chat?room=1#frag\nP chat.v1,game.v2\nAuthorization: Bearer abc\nX-Name:  value ",
    "wss_host": "wss://example.com",
    "ipv6": "ws://[::1]:9000/",
    "http_scheme": "http://example.com/",
    "no_host": "ws://",
    "space": "ws://a b/",
    "port_overflow": "ws://h:99999/",
    "handshake_header": "ws://h/\nSec-WebSocket-Key: x",
    "bad_header": "ws://h/\nNo colon\nBad Name: v\nX: \x01",
    "bad_protocol": "ws://h/\nP ,a b,\u00e9",
    "unicode_host": "ws://bücher.example/ß",
}
d = os.path.join(root, "connect_request"); os.makedirs(d, exist_ok=True)
for name, text in requests.items():
    open(os.path.join(d, name), "wb").write(text.encode())
