#!/usr/bin/env python3
"""A WebSocket test peer for the headless Godot test suite (tests/godot/).

Serves on 127.0.0.1 with the `websockets` asyncio server. Once listening it prints exactly
`READY <port>` on stdout, then serves until SIGTERM/SIGINT or until `--lifetime` seconds passed.
No message size limit, no compression unless the query asks for it:

  ?deflate=OPTIONS            on any path: accept permessage-deflate (RFC 7692) with websockets'
                              ServerPerMessageDeflateFactory; OPTIONS is "default" (websockets'
                              own default: both windows 12 bits) or a comma-separated list of
                              server_no_context_takeover,
                              client_no_context_takeover, server_max_window_bits:N,
                              client_max_window_bits:N

With `--tls-dir DIR` it also serves wss:// (Python's `ssl`, same paths) on one more port per
identity NAME in TLS_IDENTITIES that DIR holds as NAME.crt (certificate chain, PEM) + NAME.key,
and prints `TLS <name> <port>` for each (before the READY line). When DIR also holds
client_ca.crt, one more port, named `mtls`, serves the `localhost` identity and requires a client
certificate issued by (or equal to) one in client_ca.crt (`ssl.CERT_REQUIRED`).

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
  /drop_once?id=X[&say=T]     the first connection with id X sends the text T if given, then
                              closes TCP without a close frame; later ones with id X echo
  /strict_pings?seconds=S     a strict heartbeat: pings every 0.5 s and closes with 4008 "no pong
                              within 1 s" when a pong is late; meanwhile sends "tick <n>" every
                              0.1 s; after S seconds (default 7) sends "done <count>" and waits
  /record?id=X                records every message received and the client's close frame under X
                              (sends nothing)
  /received?id=X              waits (up to 10 s) until the /record?id=X connection has ended, then
                              sends one text message: JSON {"found", "done", "messages",
                              "close_code", "close_reason"}; messages are "text:<text>" or
                              "binary:<length>"; then echoes
  /digest                     answers every message with the text "<text|binary>:<bytes>:<SHA-256
                              hex>" of it (text as UTF-8)
  /random?seed=S&count=N&max_size=M&largest=L
                              sends N messages of random kind and log-uniform size from 1 B to
                              about M bytes (one in 64 empty; if L is given, message N/2 is binary
                              and exactly L bytes), text mixing 1- to 4-byte UTF-8 characters,
                              made by Python's random.Random(S); then the text "digests <JSON list
                              of "<kind>:<bytes>:<SHA-256 hex>">"; then waits for the client to
                              close
  /refuse?status=N            refuses the upgrade with HTTP N (default 401), a header
                              `WWW-Authenticate: Bearer realm="game"` and the body "token expired\n"
  /deaf                       stops reading right after the handshake (pings stay unanswered) and
                              keeps TCP open for 30 s
  anything else               refuses the upgrade with HTTP 404 Not Found
"""

import argparse
import asyncio
import hashlib
import http
import json
import logging
import math
import os
import random
import signal
import ssl
import sys
import threading
from contextlib import AsyncExitStack
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import (
    ServerPerMessageDeflateFactory,
    enable_server_permessage_deflate,
)

PATHS = {
    "/echo",
    "/headers",
    "/subprotocol",
    "/close",
    "/ping",
    "/push",
    "/drop",
    "/drop_once",
    "/strict_pings",
    "/record",
    "/received",
    "/digest",
    "/random",
    "/refuse",
    "/deaf",
}

SUBPROTOCOL = "chat.v1"

# The server identities --tls-dir can hold (see rust/xtask/src/certs.rs), in the order printed.
TLS_IDENTITIES = [
    "localhost",
    "expired",
    "example",
    "ca_server",
    "openssl_san",
    "openssl_cn",
    "godot_crypto",
]


class Record:
    """What one /record connection received."""

    def __init__(self):
        self.messages = []
        self.close_code = None
        self.close_reason = None
        self.done = asyncio.Event()


RECORDS: dict[str, Record] = {}

# The ids of /drop_once connections already dropped.
DROPPED_ONCE: set[str] = set()


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


def digest(message):
    """ "<kind>:<bytes>:<SHA-256 hex>" of a message, text as UTF-8."""
    kind, data = ("text", message.encode()) if isinstance(message, str) else ("binary", message)
    return "%s:%d:%s" % (kind, len(data), hashlib.sha256(data).hexdigest())


# Characters of /random's text messages: 1, 2, 3 and 4 bytes long in UTF-8.
RANDOM_TEXT_CHARACTERS = ["a", "Z", "7", " ", "é", "Ж", "€", "🦀"]


def random_message(rng, max_size, size=None):
    """A binary message of exactly `size` bytes, or (size None) a text or binary message of
    random size, made by rng."""
    if size is not None:
        return rng.randbytes(size)
    size = 0 if rng.random() < 1 / 64 else int(math.exp(rng.uniform(0, math.log(max_size))))
    if rng.random() < 0.5:
        return rng.randbytes(size)
    # 2.5 bytes per character on average: close to size, and always valid UTF-8.
    return "".join(rng.choices(RANDOM_TEXT_CHARACTERS, k=size * 2 // 5))


async def handle_random(connection, query):
    rng = random.Random(int(query.get("seed", "0")))
    count = int(query.get("count", "1"))
    max_size = max(1, int(query.get("max_size", "1024")))
    largest = int(query["largest"]) if "largest" in query else None
    digests = []
    try:
        for index in range(count):
            size = largest if largest is not None and index == count // 2 else None
            message = random_message(rng, max_size, size)
            digests.append(digest(message))
            await connection.send(message)
        await connection.send("digests " + json.dumps(digests))
    except ConnectionClosed:
        return
    await wait_closed(connection)


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
    elif path == "/drop_once":
        key = query.get("id", "")
        if key in DROPPED_ONCE:
            await echo(connection)
            return
        DROPPED_ONCE.add(key)
        if "say" in query:
            await connection.send(query["say"])
        # close() (unlike abort()) sends what is buffered first, then ends TCP with no close frame.
        connection.transport.close()
    elif path == "/strict_pings":
        await strict_pings(connection, float(query.get("seconds", "7")))
    elif path == "/record":
        await handle_record(connection, query)
    elif path == "/received":
        await handle_received(connection, query)
    elif path == "/digest":
        try:
            async for message in connection:
                await connection.send(digest(message))
        except ConnectionClosed:
            pass
    elif path == "/random":
        await handle_random(connection, query)
    elif path == "/deaf":
        connection.transport.pause_reading()
        await asyncio.sleep(30)
        connection.transport.abort()


def select_subprotocol(connection, offered):
    path, _ = split_path(connection)
    if path == "/subprotocol" and SUBPROTOCOL in offered:
        return SUBPROTOCOL
    return None


def deflate_factory(options):
    """The extension factories for a ?deflate=OPTIONS query (see the docstring)."""
    if options == "default":
        return enable_server_permessage_deflate(None)
    arguments = {}
    for option in options.split(","):
        name, _, value = option.partition(":")
        if name.endswith("_no_context_takeover"):
            arguments[name] = True
        elif name.endswith("_max_window_bits"):
            arguments[name] = int(value)
    return [ServerPerMessageDeflateFactory(**arguments)]


def process_request(connection, request):
    path, query = split_path(connection)
    if path not in PATHS:
        return connection.respond(http.HTTPStatus.NOT_FOUND, "no such path\n")
    if "deflate" in query:
        connection.protocol.available_extensions = deflate_factory(query["deflate"])
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
    client_ca = os.path.join(directory, "client_ca.crt")
    localhost = os.path.join(directory, "localhost")
    if os.path.isfile(client_ca) and os.path.isfile(localhost + ".key"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(localhost + ".crt", localhost + ".key")
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
        contexts.append(("mtls", context))
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
    parser.add_argument(
        "--stdin-lifeline",
        action="store_true",
        help="exit when stdin closes (the process that started this one ended)",
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
    if args.stdin_lifeline:

        def watch_stdin():
            sys.stdin.read()
            loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))

        threading.Thread(target=watch_stdin, daemon=True).start()

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
