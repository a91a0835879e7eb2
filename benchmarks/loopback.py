"""A minimal asyncio HTTP/1.1 server for benchmarks, run in its own process.

The threaded FeedServer used by tests and the demo is simple but slow under concurrency (one
thread per connection, all on one GIL); a benchmark must measure our client, not the server.
It serves pre-built bodies with ETag validation and keep-alive.
"""

from __future__ import annotations

import asyncio
import hashlib


def split_requests(buffer: bytes) -> tuple[list[tuple[str, dict[bytes, bytes]]], bytes]:
    """The complete GET requests in `buffer` (path and lower-cased headers), and what is left."""
    requests = []
    while b"\r\n\r\n" in buffer:
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        requests.append((lines[0].split(b" ")[1].decode(), headers))
    return requests, buffer


class _Http(asyncio.Protocol):
    def __init__(self, routes: dict[str, tuple[bytes, bytes]]):
        self.routes = routes
        self.buffer = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        requests, self.buffer = split_requests(self.buffer + data)
        for path, headers in requests:
            self.transport.write(self.respond(path, headers))

    def respond(self, path: str, headers: dict[bytes, bytes]) -> bytes:
        route = self.routes.get(path)
        if route is None:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        body, etag = route
        if headers.get(b"if-none-match") == etag:
            return b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\n\r\n"
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\nETag: "
            + etag
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )


def serve_forever(bodies: dict[str, bytes], port_queue, stop_event) -> None:
    """Process entry point: serve `bodies` by path on 127.0.0.1 until `stop_event` is set."""
    routes = {path: (body, b'"' + hashlib.sha1(body).hexdigest()[:16].encode() + b'"') for path, body in bodies.items()}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Http(routes), "127.0.0.1", 0)
        port_queue.put(server.sockets[0].getsockname()[1])
        await loop.run_in_executor(None, stop_event.wait)
        server.close()

    asyncio.run(main())
