#!/usr/bin/env python3
"""An HTTP CONNECT proxy for the headless Godot test suite (tests/godot/test_proxy.gd).

Listens on 127.0.0.1 (standard library only). Once listening it prints exactly `READY <port>` on
stdout, then serves until SIGTERM/SIGINT or until `--lifetime` seconds passed.

- `CONNECT host:port HTTP/1.1` opens a tunnel: `200 Connection established`, then bytes are
  relayed both ways. Anything else is answered `405 Method Not Allowed`.
- The proxy resolves the target itself; the made-up name `game.test` (unknown to the system
  resolver) goes to 127.0.0.1, so a client only reaches it by letting the proxy resolve it.
- A request carrying `Proxy-Authorization` must carry `Basic` with `user:secret`, or it is
  answered `407 Proxy Authentication Required`; requests without the header are let through.
- A target it cannot connect to is answered `502 Bad Gateway`.
- Every request line is printed on stdout (`CONNECT game.test:1234 HTTP/1.1`).
"""

import argparse
import asyncio
import base64
import signal

PROXY_ONLY_HOST = "game.test"
CREDENTIALS = "user:secret"
MAX_HEAD_BYTES = 16 * 1024


async def relay(reader, writer):
    try:
        while data := await reader.read(64 * 1024):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass


async def answer(writer, status):
    writer.write(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n".encode())
    await writer.drain()
    writer.close()


async def handle(client_reader, client_writer):
    try:
        head = await client_reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        client_writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")
    print(lines[0], flush=True)
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[0] != "CONNECT":
        return await answer(client_writer, "405 Method Not Allowed")
    authorization = [
        line.split(":", 1)[1].strip()
        for line in lines[1:]
        if line.lower().startswith("proxy-authorization:")
    ]
    expected = "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()
    if authorization and authorization[0] != expected:
        client_writer.write(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n"
            b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
        )
        await client_writer.drain()
        client_writer.close()
        return
    host, _, port = parts[1].rpartition(":")
    host = host.strip("[]")
    if host == PROXY_ONLY_HOST:
        host = "127.0.0.1"
    try:
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
    except (OSError, ValueError):
        return await answer(client_writer, "502 Bad Gateway")
    client_writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    await client_writer.drain()
    await asyncio.gather(
        relay(client_reader, server_writer), relay(server_reader, client_writer)
    )
    server_writer.close()
    client_writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=600.0)
    args = parser.parse_args()
    server = await asyncio.start_server(
        handle, "127.0.0.1", args.port, limit=MAX_HEAD_BYTES
    )
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.cancel)
    print(f"READY {port}", flush=True)
    try:
        await asyncio.wait_for(stop, args.lifetime)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        pass
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
