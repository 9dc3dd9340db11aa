"""A tiny raw-socket HTTP server for protocol corner cases the emulator should not fake.

Each connection runs ``respond(request, sock)`` in its own thread; the
function writes whatever bytes it likes (half a body, nothing at all, a
stall) and the server records every request it read.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional


@dataclass
class Request:
    method: str
    target: str
    headers: Dict[str, str]
    body: bytes = b""
    extra: Dict[str, object] = field(default_factory=dict)


Respond = Callable[[Request, socket.socket], None]


def reply(sock: socket.socket, status: int = 200, body: bytes = b"", headers: Optional[Dict[str, str]] = None) -> None:
    """Write one complete response and let the connection close."""
    head = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in head.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def json_reply(sock: socket.socket, status: int, text: str, headers: Optional[Dict[str, str]] = None) -> None:
    reply(sock, status, text.encode(), {"Content-Type": "application/json", **(headers or {})})


class TinyServer:
    """``read_body=False`` hands ``respond`` the request with its body still unread on the socket."""

    def __init__(self, respond: Respond, read_body: bool = True) -> None:
        self.respond = respond
        self.read_body = read_body
        self.requests: List[Request] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # lets the accept loop notice close()
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: List[threading.Thread] = []
        self._closing = False
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            request = read_request(conn, self.read_body)
            if request is None:
                return
            self.requests.append(request)
            try:
                self.respond(request, conn)
            except OSError:
                pass

    def close(self) -> None:
        self._closing = True
        self._accept.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> TinyServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_request(conn: socket.socket, read_body: bool = True) -> Optional[Request]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0")) if read_body else 0
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, target, headers, body)
