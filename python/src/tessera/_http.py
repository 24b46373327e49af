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
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self._connection: Optional[http.client.HTTPConnection] = None
        self._lock = threading.Lock()

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            self._connection = cls(self.host, self.port, timeout=self.timeout)
        return self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Sends a request and returns the decoded JSON answer; raises the server's error.

        Every call here is safe to repeat (lookups, registry reads, and pushes and writes,
        which the server applies once per content), so a kept-alive connection the server
        closed meanwhile is reopened and the request sent once more.
        """
        payload = None if body is None else json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        with self._lock:
            for attempt in (0, 1):
                connection = self._connect()
                try:
                    connection.request(method, self.base + path, body=payload, headers=self.headers)
                    response = connection.getresponse()
                    data = response.read()
                    status = response.status
                    break
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                    connection.close()
                    self._connection = None
                    if attempt == 1:
                        raise errors.ConnectionFailed(
                            f"the server at {self.host}:{self.port} closed the connection: {error}"
                        ) from None
                except socket.timeout:
                    connection.close()
                    self._connection = None
                    raise errors.ConnectionFailed(
                        f"no answer from {self.host}:{self.port} within {self.timeout:g} s",
                        hint="raise FeatureStore(timeout=...) for long calls such as materialize",
                    ) from None
                except OSError as error:
                    connection.close()
                    self._connection = None
                    raise errors.ConnectionFailed(
                        f"cannot reach the Tessera server at {self.host}:{self.port}: {error.strerror or error}",
                        hint="start it with `tessera serve --repo DIR`, or check the URL",
                    ) from None
        text = data.decode("utf-8", errors="replace")
        try:
            decoded = json.loads(text) if text else None
        except json.JSONDecodeError:
            decoded = text
        if status >= 400:
            raise errors.from_response(status, decoded)
        return decoded
