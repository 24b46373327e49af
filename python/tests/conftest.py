"""Fixtures: a quickstart repository built by the real ``tessera`` binary, applied and
materialized, and a real ``tessera serve`` of it on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tessera import _binary


@pytest.fixture(scope="session")
def binary() -> str:
    return _binary.find_binary(near=Path(__file__).resolve().parent)


def run(binary: str, *arguments: str) -> str:
    done = subprocess.run([binary, *arguments], capture_output=True, text=True)
    assert done.returncode == 0, f"tessera {' '.join(arguments)} failed:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def repo(binary: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tessera") / "quickstart"
    run(binary, "init", str(path), "--rows", "4000")
    run(binary, "apply", "--repo", str(path))
    run(binary, "materialize", "2000-01-01T00:00:00Z", "now", "--repo", str(path))
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(binary: str, repo: str) -> Iterator[str]:
    port = free_port()
    log = open(os.path.join(repo, "serve.log"), "wb")
    process = subprocess.Popen(
        [binary, "serve", "--repo", repo, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    assert _binary.wait_until_healthy(url, process), open(os.path.join(repo, "serve.log")).read()
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()
