#!/usr/bin/env python3
"""A WebSocket test peer for the headless Godot test suite (tests/godot/).

Serves on 127.0.0.1 with the `websockets` asyncio server. Once listening it prints exactly
`READY <port>` on stdout, then serves until SIGTERM/SIGINT or until `--lifetime` seconds passed.
No message size limit, no compression.

With `--tls-dir DIR` it also serves wss:// (Python's `ssl`, same paths) on one more port per
identity NAME in TLS_IDENTITIES that DIR holds as NAME.crt (certificate chain, PEM) + NAME.key,
and prints `TLS <name> <port>` for each (before the READY line).

What a connection does depends on its request path:

  /echo                       echoes every message with its type (text as text, binary as binary)
  /headers                    sends one text message: a JSON object of the request headers it saw
                              (names lower-cased, repeated headers joined with ", "), then echoes
  /subprotocol                selects "chat.v1" if the client offers it, else no sub-protocol;
                              then echoes
  /close?code=C&reason=R      closes right after the handshake with code C (default 1000), reason R
  /ping                       sends a ping, waits for the pong, sends the text "pong received"
  /push?count=N&size=S[&close_code=C&close_reason=R]
                              sends N binary messages of S bytes (>= 4) whose first 4 bytes are the
                              message's index (little-endian); then closes with C/R if given,
                              else waits for the client to close
  /drop                       aborts the TCP connection right after the handshake (no close frame)
  /strict_pings?seconds=S     a strict heartbeat: pings every 0.5 s and closes with 4008 "no pong
                              within 1 s" when a pong is late; meanwhile sends "tick <n>" every
                              0.1 s; after S seconds (default 7) sends "done <count>" and waits
  /record?id=X                records every message received and the client's close frame under X
                              (sends nothing)
  /received?id=X              waits (up to 10 s) until the /record?id=X connection has ended, then
                              sends one text message: JSON {"found", "done", "messages",
                              "close_code", "close_reason"}; messages are "text:<text>" or
                              "binary:<length>"; then echoes
  /refuse?status=N            refuses the upgrade with HTTP N (default 401), a header
                              `WWW-Authenticate: Bearer realm="game"` and the body "token expired\n"
  /deaf                       stops reading right after the handshake (pings stay unanswered) and
                              keeps TCP open for 30 s
  anything else               refuses the upgrade with HTTP 404 Not Found
"""

import argparse
import asyncio
import http
import json
import logging
import os
import signal
import ssl
import sys
from contextlib import AsyncExitStack
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

PATHS = {
    "/echo",
    "/headers",
    "/subprotocol",
    "/close",
    "/ping",
    "/push",
    "/drop",
    "/strict_pings",
    "/record",
    "/received",
    "/refuse",
    "/deaf",
}

SUBPROTOCOL = "chat.v1"

# The server identities --tls-dir can hold (see rust/xtask/src/certs.rs), in the order printed.
TLS_IDENTITIES = ["localhost", "expired", "example", "ca_server"]


class Record:
    """What one /record connection received."""

    def __init__(self):
        self.messages = []
        self.close_code = None
        self.close_reason = None
        self.done = asyncio.Event()


RECORDS: dict[str, Record] = {}


def split_path(connection):
    parts = urlsplit(connection.request.path)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return parts.path, query


def describe(message):
    if isinstance(message, str):
        return "text:" + message
    return "binary:%d" % len(message)


async def echo(connection):
    try:
        async for message in connection:
            await connection.send(message)
    except ConnectionClosed:
        pass


async def wait_closed(connection):
    """Reads (and ignores) messages until the connection ends."""
    try:
        async for _ in connection:
            pass
    except ConnectionClosed:
        pass


async def handle_record(connection, query):
    record = Record()
    RECORDS[query.get("id", "")] = record
    try:
        while True:
            record.messages.append(describe(await connection.recv()))
    except ConnectionClosed as closed:
        if closed.rcvd is not None:
            record.close_code = closed.rcvd.code
            record.close_reason = closed.rcvd.reason
    finally:
        record.done.set()


async def handle_received(connection, query):
    key = query.get("id", "")
    record = None
    for _ in range(1000):  # up to 10 s for the /record connection to appear and end
        record = RECORDS.get(key)
        if record is not None and record.done.is_set():
            break
        await asyncio.sleep(0.01)
    report = {
        "found": record is not None,
        "done": record is not None and record.done.is_set(),
        "messages": record.messages if record else [],
        "close_code": record.close_code if record else None,
        "close_reason": record.close_reason if record else None,
    }
    await connection.send(json.dumps(report))
    await echo(connection)


async def strict_pings(connection, seconds):
    """Drops a client that answers a ping later than 1 s, while streaming numbered messages."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    next_ping = loop.time()
    unanswered = []  # (deadline, pong waiter)
    sent = 0
    try:
        while loop.time() < end:
            now = loop.time()
            if any(not waiter.done() and now > deadline for deadline, waiter in unanswered):
                await connection.close(4008, "no pong within 1 s")
                return
            unanswered = [(deadline, waiter) for deadline, waiter in unanswered if not waiter.done()]
            if now >= next_ping:
                unanswered.append((now + 1.0, await connection.ping()))
                next_ping = now + 0.5
            await connection.send(f"tick {sent}")
            sent += 1
            await asyncio.sleep(0.1)
        await connection.send(f"done {sent}")
    except ConnectionClosed:
        return
    await wait_closed(connection)


async def handler(connection):
    path, query = split_path(connection)
    logging.info("connection to %s", connection.request.path)
    if path == "/echo" or path == "/subprotocol":
        await echo(connection)
    elif path == "/headers":
        seen = {}
        for name, value in connection.request.headers.raw_items():
            name = name.lower()
            seen[name] = seen[name] + ", " + value if name in seen else value
        await connection.send(json.dumps(seen))
        await echo(connection)
    elif path == "/close":
        await connection.close(int(query.get("code", "1000")), query.get("reason", ""))
    elif path == "/ping":
        pong = await connection.ping()
        await pong
        await connection.send("pong received")
        await wait_closed(connection)
    elif path == "/push":
        count = int(query.get("count", "1"))
        size = max(4, int(query.get("size", "4")))
        try:
            for index in range(count):
                payload = bytearray(size)
                payload[:4] = index.to_bytes(4, "little")
                await connection.send(bytes(payload))
        except ConnectionClosed:
            return
        if "close_code" in query:
            await connection.close(int(query["close_code"]), query.get("close_reason", ""))
        else:
            await wait_closed(connection)
    elif path == "/drop":
        connection.transport.abort()
    elif path == "/strict_pings":
        await strict_pings(connection, float(query.get("seconds", "7")))
    elif path == "/record":
        await handle_record(connection, query)
    elif path == "/received":
        await handle_received(connection, query)
    elif path == "/deaf":
        connection.transport.pause_reading()
        await asyncio.sleep(30)
        connection.transport.abort()


def select_subprotocol(connection, offered):
    path, _ = split_path(connection)
    if path == "/subprotocol" and SUBPROTOCOL in offered:
        return SUBPROTOCOL
    return None


def process_request(connection, request):
    path, query = split_path(connection)
    if path not in PATHS:
        return connection.respond(http.HTTPStatus.NOT_FOUND, "no such path\n")
    if path == "/refuse":
        response = connection.respond(int(query.get("status", "401")), "token expired\n")
        response.headers["WWW-Authenticate"] = 'Bearer realm="game"'
        return response
    return None


def tls_contexts(directory):
    """(name, SSLContext) for every identity of TLS_IDENTITIES found in directory."""
    contexts = []
    for name in TLS_IDENTITIES:
        chain = os.path.join(directory, name + ".crt")
        key = os.path.join(directory, name + ".key")
        if os.path.isfile(chain) and os.path.isfile(key):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(chain, key)
            contexts.append((name, context))
    return contexts


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument(
        "--lifetime", type=float, default=600, help="exit by itself after this many seconds"
    )
    parser.add_argument("--verbose", action="store_true", help="log every connection to stderr")
    parser.add_argument(
        "--tls-dir",
        help="also serve wss:// for each identity NAME.crt + NAME.key found in this directory",
    )
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="py_server: %(message)s",
        stream=sys.stderr,
    )

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))

    options = dict(
        max_size=None,
        compression=None,
        select_subprotocol=select_subprotocol,
        process_request=process_request,
    )
    async with AsyncExitStack() as stack:
        servers = []
        if args.tls_dir is not None:
            contexts = tls_contexts(args.tls_dir)
            if not contexts:
                logging.warning("no TLS identity (NAME.crt + NAME.key) in %s", args.tls_dir)
            for name, context in contexts:
                tls_server = await stack.enter_async_context(
                    serve(handler, "127.0.0.1", 0, ssl=context, **options)
                )
                servers.append(tls_server)
                print("TLS %s %d" % (name, tls_server.sockets[0].getsockname()[1]), flush=True)
        server = await stack.enter_async_context(serve(handler, "127.0.0.1", args.port, **options))
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        print("READY %d" % port, flush=True)
        try:
            await asyncio.wait_for(stop, args.lifetime)
        except asyncio.TimeoutError:
            logging.warning("lifetime of %s s is over; exiting", args.lifetime)
        for each in servers:
            each.close(close_connections=False)
            for connection in list(each.connections):
                connection.transport.abort()


if __name__ == "__main__":
    asyncio.run(main())
