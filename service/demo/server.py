"""A loopback HTTP server for feeds: the demo's sample archive, and the tests' misbehaving hosts.

It speaks conditional GET like a well-run feed host (ETag, Last-Modified, 304) and can be told
to misbehave the ways real hosts do: slow answers, redirect loops, dropped connections.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Route:
    """How the server answers one path."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    #: Answer 304 to a matching If-None-Match / If-Modified-Since.
    conditional: bool = True
    delay: float = 0.0
    redirect_to: str | None = None
    #: Close the socket without answering.
    drop: bool = False
    #: Send the body without Content-Length, ending it by closing the connection.
    no_length: bool = False
    #: Send the headers, then the body one byte every this many seconds (a stuck or hostile host).
    trickle: float = 0.0
    last_modified: str = field(default_factory=lambda: formatdate(time.time() - 3600, usegmt=True))

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]
    #: time.monotonic() when the request arrived.
    at: float = field(default_factory=time.monotonic)


class FeedServer:
    """`with FeedServer() as server:` serves `server.routes` on 127.0.0.1 until the block ends."""

    def __init__(self, routes: dict[str, Route] | None = None, *, tls: ssl.SSLContext | None = None):
        self.routes: dict[str, Route] = dict(routes or {})
        self.scheme = "https" if tls else "http"
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            # Stopping waits for the loop to look up: a short poll keeps stopping quick.
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="feed-server", daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def serve_directory(self, folder: Path, prefix: str = "/") -> dict[str, str]:
        """Serve every .xml file in `folder`; returns {file stem: URL}."""
        urls = {}
        for path in sorted(Path(folder).glob("*.xml")):
            route = prefix + path.name
            content_type = "application/atom+xml" if b"<feed" in path.read_bytes()[:500] else "application/rss+xml"
            self.routes[route] = Route(path.read_bytes(), content_type=content_type + "; charset=utf-8")
            urls[path.stem] = self.url(route)
        return urls

    def hits(self, path: str) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "reewatch-feed-server"
            # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus
            # delayed ACKs stall every keep-alive response by ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path = self.path
                with server._lock:
                    server.requests.append(SeenRequest(path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(path) or server.routes.get(path.split("?", 1)[0])
                if route is None:
                    return self._send(404, b"not found", {"Content-Type": "text/plain"})
                if route.delay:
                    time.sleep(route.delay)
                if route.drop:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return None
                if route.redirect_to:
                    return self._send(302, b"", {"Location": route.redirect_to})
                headers = {"Content-Type": route.content_type, **route.headers}
                if route.status == 200 and route.conditional:
                    headers.setdefault("ETag", route.etag)
                    headers.setdefault("Last-Modified", route.last_modified)
                    if self._not_modified(route):
                        return self._send(304, b"", {"ETag": route.etag, "Last-Modified": route.last_modified})
                if route.no_length:
                    return self._send_unframed(route.status, route.body, headers)
                if route.trickle:
                    return self._send_trickling(route.status, route.body, headers, route.trickle)
                return self._send(route.status, route.body, headers)

            def _not_modified(self, route: Route) -> bool:
                tag = self.headers.get("If-None-Match")
                if tag is not None:
                    return tag == route.etag
                since = self.headers.get("If-Modified-Since")
                return since is not None and since == route.last_modified

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304 and body:
                    self.wfile.write(body)

            def _send_trickling(self, status: int, body: bytes, headers: dict[str, str], every: float) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
                try:
                    for index in range(len(body)):
                        if server._stopping.wait(every):
                            break
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should
                self.close_connection = True

            def _send_unframed(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    for start in range(0, len(body), 65536):
                        self.wfile.write(body[start : start + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
