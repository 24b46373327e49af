"""Finding and running the ``tessera`` binary (local mode), and the private feature server
local mode starts for online reads, pushes and registry reads."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import List, Optional

from . import errors

_BUILD_HINT = (
    "build it in the Tessera checkout with `swift build -c release --product tessera`, then set "
    "TESSERA_BIN=/path/to/tessera/.build/release/tessera or put it on PATH"
)


def find_binary(explicit: Optional[str] = None, near: Optional[Path] = None) -> str:
    """The ``tessera`` binary: ``explicit``, ``$TESSERA_BIN``, ``PATH``, then a
    ``.build/release`` (or ``.build/debug``) of a Tessera checkout above ``near``, the
    working directory or this package."""
    for candidate in (explicit, os.environ.get("TESSERA_BIN")):
        if candidate:
            if os.access(candidate, os.X_OK):
                return candidate
            raise errors.BinaryNotFound(f"{candidate} is not an executable tessera binary", hint=_BUILD_HINT)
    found = shutil.which("tessera")
    if found:
        return found
    starts = [p for p in (near, Path.cwd(), Path(__file__).resolve().parent) if p is not None]
    for start in starts:
        for folder in [start.resolve(), *start.resolve().parents]:
            for build in ("release", "debug"):
                binary = folder / ".build" / build / "tessera"
                if os.access(binary, os.X_OK):
                    return str(binary)
    raise errors.BinaryNotFound("the tessera binary was not found", hint=_BUILD_HINT)


def run(binary: str, arguments: List[str], timeout: Optional[float] = None) -> str:
    """Runs ``tessera ARGUMENTS``; returns what it printed, or raises its error."""
    try:
        done = subprocess.run([binary, *arguments], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise errors.ConnectionFailed(f"tessera {arguments[0]} did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        raise errors.from_cli(done.stderr, done.returncode)
    return done.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_healthy(url: str, process: "Optional[subprocess.Popen[bytes]]" = None, seconds: float = 30) -> bool:
    """Polls ``url/health`` until the server answers (any HTTP status counts: a server with
    API keys may refuse the call), ``process`` exits, or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.02)
    return False


class PrivateServer:
    """A ``tessera serve`` of one repository on a loopback port, started on first use and
    stopped when the store is closed (or the interpreter exits)."""

    def __init__(self, binary: str, repo: str) -> None:
        self.binary = binary
        self.repo = repo
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.url = ""
        self._log: Optional[tempfile._TemporaryFileWrapper[bytes]] = None

    def start(self) -> str:
        if self.process is not None and self.process.poll() is None:
            return self.url
        last = ""
        for _ in range(3):  # another process may take the free port first
            port = _free_port()
            self._log = tempfile.NamedTemporaryFile(prefix="tessera-serve-", suffix=".log")
            self.process = subprocess.Popen(
                [self.binary, "serve", "--repo", self.repo, "--host", "127.0.0.1", "--port", str(port)],
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            self.url = f"http://127.0.0.1:{port}"
            if wait_until_healthy(self.url, self.process):
                atexit.register(self.stop)
                return self.url
            self._log.seek(0)
            last = self._log.read().decode(errors="replace").strip()
            self.stop()
        raise errors.ConnectionFailed(
            f"tessera serve --repo {self.repo} did not start: {last[-500:] or 'no output'}",
            hint="run it by hand to see why (is the repository applied?)",
        )

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
