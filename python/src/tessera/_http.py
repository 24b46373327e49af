"""A small HTTP/1.1 client over one kept-alive connection (the standard library's
``http.client``): a lookup costs one round trip, with no connection set-up."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.parse
from typing import Any, Optional

from . import errors


class _Socket:
    """HTTP/1.1 over one kept-alive TCP connection with Nagle off: a request is one send
    and the answer one or two reads. The standard library's ``http.client`` costs about
    as much again as the lookup itself (header objects, buffered reader); this reads the
    status, ``Content-Length`` (or a chunked body) and ``Connection`` and nothing more."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise http.client.RemoteDisconnected("the server closed the connection")
        self.buffer += chunk  # a bytearray: amortized, not a copy of everything read so far

    def _take(self, length: int) -> bytes:
        """The next `length` bytes: what is buffered, then read straight into place."""
        if len(self.buffer) >= length:
            out = bytes(self.buffer[:length])
            del self.buffer[:length]
            return out
        out = bytearray(length)
        have = len(self.buffer)
        out[:have] = self.buffer
        self.buffer = bytearray()
        view = memoryview(out)
        while have < length:
            got = self.sock.recv_into(view[have:], min(length - have, 1 << 20))
            if got == 0:
                raise http.client.RemoteDisconnected("the server closed the connection mid-answer")
            have += got
        return bytes(out)

    def exchange(self, request: bytes) -> "tuple[int, bytes, bool]":
        self.sock.sendall(request)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        head = bytes(self.buffer[:end])
        del self.buffer[: end + 4]
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep = headers.get("connection", "").lower() != "close"
        if "content-length" in headers:
            body = self._take(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                while (end := self.buffer.find(b"\r\n")) < 0:
                    self._fill()
                size = int(bytes(self.buffer[:end]).split(b";")[0], 16)
                del self.buffer[: end + 2]
                parts.append(self._take(size))
                self._take(2)
                if size == 0:
                    break
            body = b"".join(parts)
        else:
            keep = False
            try:
                while True:
                    self._fill()
            except http.client.RemoteDisconnected:
                pass
            body, self.buffer = bytes(self.buffer), bytearray()
        return status, body, keep


class HTTPClient:
    def __init__(self, url: str, api_key: Optional[str] = None, timeout: float = 60.0) -> None:
        parsed = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
        if parsed.scheme not in ("http", "https"):
            raise errors.InvalidRequest(f"unsupported URL scheme '{parsed.scheme}' in {url!r}", hint="use http:// or https://")
        if not parsed.hostname:
            raise errors.InvalidRequest(f"no host in URL {url!r}", hint="for example http://127.0.0.1:6566")
        self.url = url
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.base = parsed.path.rstrip("/")
        self.timeout = timeout
        self.headers = {"Accept": "application/json, application/vnd.apache.arrow.stream"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self._connection: Optional[Any] = None
        self._lock = threading.Lock()
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        self._fixed += f"Host: {self.host}:{self.port}\r\n"

    def _connect(self) -> Any:
        if self._connection is None:
            if self.scheme == "https":
                self._connection = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
            else:
                self._connection = _Socket(self.host, self.port, self.timeout)
        return self._connection

    def _send(
        self, connection: Any, method: str, path: str, payload: Optional[bytes], content_type: str
    ) -> "tuple[int, bytes]":
        if isinstance(connection, _Socket):
            body = payload or b""
            head = (
                f"{method} {self.base}{path} HTTP/1.1\r\n{self._fixed}Content-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            status, data, keep = connection.exchange(head.encode("latin-1") + body)
            if not keep:
                connection.close()
                self._connection = None
            return status, data
        connection.request(method, self.base + path, body=payload, headers={**self.headers, "Content-Type": content_type})
        response = connection.getresponse()
        return response.status, response.read()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        with self._lock:
            self._drop()

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Sends a JSON request and returns the decoded JSON answer; raises the server's error."""
        payload = None if body is None else json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        return self._decode(*self.exchange(method, path, payload))

    def request_bytes(self, method: str, path: str, payload: bytes, content_type: str) -> bytes:
        """Sends raw bytes (a Parquet file) and returns the answer's bytes; raises the
        server's (JSON) error."""
        status, data = self.exchange(method, path, payload, content_type)
        if status >= 400:
            self._decode(status, data)
        return data

    @staticmethod
    def _decode(status: int, data: bytes) -> Any:
        text = data.decode("utf-8", errors="replace")
        try:
            decoded = json.loads(text) if text else None
        except json.JSONDecodeError:
            decoded = text
        if status >= 400:
            raise errors.from_response(status, decoded)
        return decoded

    def exchange(
        self, method: str, path: str, payload: Optional[bytes], content_type: str = "application/json"
    ) -> "tuple[int, bytes]":
        """Sends one request on the kept-alive connection; returns the status and body.

        Every call here is safe to repeat (lookups, registry reads, and pushes and writes,
        which the server applies once per content), so a kept-alive connection the server
        closed meanwhile is reopened and the request sent once more.
        """
        with self._lock:
            for attempt in (0, 1):
                try:
                    connection = self._connect()
                    status, data = self._send(connection, method, path, payload, content_type)
                    break
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                    self._drop()
                    if attempt == 1:
                        raise errors.ConnectionFailed(
                            f"the server at {self.host}:{self.port} closed the connection: {error}"
                        ) from None
                except socket.timeout:
                    self._drop()
                    raise errors.ConnectionFailed(
                        f"no answer from {self.host}:{self.port} within {self.timeout:g} s",
                        hint="raise FeatureStore(timeout=...) for long calls such as materialize",
                    ) from None
                except OSError as error:
                    self._drop()
                    raise errors.ConnectionFailed(
                        f"cannot reach the Tessera server at {self.host}:{self.port}: {error.strerror or error}",
                        hint="start it with `tessera serve --repo DIR`, or check the URL",
                    ) from None
        return status, data
