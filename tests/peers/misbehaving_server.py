#!/usr/bin/env python3
"""A raw-TCP server that breaks the WebSocket protocol on purpose, for the headless Godot suite
(tests/godot/test_misbehaving.gd). Python standard library only.

Serves on 127.0.0.1. Once listening it prints exactly `READY <port>` on stdout, then serves until
SIGTERM/SIGINT or until `--lifetime` seconds passed. Every connection reads the client's upgrade
request, and its path picks the misbehaviour:

  /status-200        answers the upgrade with HTTP 200 OK instead of 101
  /bad-accept        answers 101 with a wrong Sec-WebSocket-Accept
  /huge-headers      answers 101, then header lines without end (1 KiB each, up to 1 MiB)
  /silent            accepts TCP, reads the request, never answers
  /masked-frame      opens, then sends a masked text frame (servers must not mask)
  /rsv-bits          opens, then sends a text frame with RSV1 set (no extension was agreed)
  /unknown-opcode    opens, then sends a frame with the reserved data opcode 0x3
  /fragmented-ping   opens, then sends a ping without FIN (control frames cannot be fragmented)
  /bad-utf8          opens, then sends a text message that is not UTF-8
  /bad-close-code    opens, then sends a close frame with code 999; closes TCP once answered
  /oversized         opens, then announces a binary frame of 2 MiB (sends its first KiB)
  /tcp-drop          opens, sends the text "bye", then closes TCP without a close frame
  /ignore-close      opens, reads everything, never answers a close frame
  /trickle           opens, then sends the text message TRICKLED_TEXT and a close frame
                     (1000 "done") one byte every 10 ms; closes TCP once the client answered
  /trickle-upgrade   answers the upgrade one byte every 10 ms, then sends the text message
                     TRICKLED_TEXT and a close frame (1000 "done") at once; closes TCP once
                     the client answered
  anything else      HTTP 404

After the misbehaviour the server reads (and ignores) whatever the client sends until it closes.
"""

import argparse
import asyncio
import base64
import hashlib
import signal
import struct
import sys

# RFC 6455 section 1.3.
ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# Longest request head read before giving up on a client.
MAX_REQUEST_HEAD = 64 * 1024
# What /trickle sends, one byte at a time (the suite checks it arrives intact).
TRICKLED_TEXT = "one byte every 10 ms, and still one message"
# The pause between two bytes of /trickle, in seconds.
TRICKLE_INTERVAL_S = 0.01


def frame(opcode, payload, fin=True, rsv1=False, mask=None):
    """One WebSocket frame from the server; `mask` (4 bytes) masks it, which servers must not."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    length = len(payload)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head = struct.pack("!BB", first, mask_bit | length)
    elif length < 65536:
        head = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, length)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return head + mask + payload
    return head + payload


def close_frame(code, reason=b""):
    return frame(0x8, struct.pack("!H", code) + reason)


def switching_protocols(key, accept=None):
    if accept is None:
        accept = base64.b64encode(hashlib.sha1(key.encode() + ACCEPT_GUID).digest()).decode()
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()


async def read_request(reader):
    """The request's path and Sec-WebSocket-Key, or None if the client sent no full request."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    key = ""
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip()
    return parts[1].split("?")[0], key


async def drain(reader):
    """Reads and ignores everything until the client closes."""
    try:
        while await reader.read(65536):
            pass
    except ConnectionError:
        pass


async def read_close_reply(reader):
    """Waits for the client's answer to our close frame (up to 10 s); then TCP may close."""
    try:
        await asyncio.wait_for(reader.read(65536), 10)
    except (asyncio.TimeoutError, ConnectionError):
        pass


async def trickle(writer, data):
    for i in range(len(data)):
        writer.write(data[i : i + 1])
        await writer.drain()
        await asyncio.sleep(TRICKLE_INTERVAL_S)


async def misbehave(path, key, reader, writer):
    """Carries out the misbehaviour of `path`; returns when the connection may be closed."""
    if path == "/status-200":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    elif path == "/bad-accept":
        writer.write(switching_protocols(key, accept="d3JvbmcgYWNjZXB0IGtleQ=="))
    elif path == "/huge-headers":
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\n")
        for i in range(1024):
            writer.write(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000))
            await writer.drain()
    elif path == "/silent":
        pass
    elif path == "/trickle-upgrade":
        await trickle(writer, switching_protocols(key))
        writer.write(frame(0x1, TRICKLED_TEXT.encode()) + close_frame(1000, b"done"))
        await writer.drain()
        await read_close_reply(reader)
        return
    else:
        writer.write(switching_protocols(key))
        opened = {
            "/masked-frame": frame(0x1, b"masked", mask=b"\x01\x02\x03\x04"),
            "/rsv-bits": frame(0x1, b"reserved bits", rsv1=True),
            "/unknown-opcode": frame(0x3, b"opcode 3"),
            "/fragmented-ping": frame(0x9, b"half a ping", fin=False),
            "/bad-utf8": frame(0x1, b"caf\xc3(\xff\xfe"),
            "/bad-close-code": close_frame(999, b"no such code"),
            # The header says 2 MiB; the client must refuse it before the payload arrives.
            "/oversized": frame(0x2, b"\0" * (2 << 20))[: 10 + 1024],
            "/tcp-drop": frame(0x1, b"bye"),
        }
        if path in opened:
            writer.write(opened[path])
            await writer.drain()
            if path == "/tcp-drop":
                return
            if path == "/bad-close-code":
                await read_close_reply(reader)
                return
        elif path == "/trickle":
            await writer.drain()
            await trickle(writer, frame(0x1, TRICKLED_TEXT.encode()) + close_frame(1000, b"done"))
            await read_close_reply(reader)
            return
        elif path != "/ignore-close":
            raise ValueError(path)
    await writer.drain()
    await drain(reader)


async def serve_connection(reader, writer):
    try:
        request = await read_request(reader)
        if request is None:
            return
        path, key = request
        known = {
            "/status-200", "/bad-accept", "/huge-headers", "/silent", "/masked-frame",
            "/rsv-bits", "/unknown-opcode", "/fragmented-ping", "/bad-utf8", "/bad-close-code",
            "/oversized", "/tcp-drop", "/ignore-close", "/trickle", "/trickle-upgrade",
        }
        if path not in known:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        await misbehave(path, key, reader, writer)
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=600.0)
    args = parser.parse_args()
    server = await asyncio.start_server(
        serve_connection, "127.0.0.1", args.port, limit=MAX_REQUEST_HEAD
    )
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.lifetime)
    except asyncio.TimeoutError:
        pass
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
