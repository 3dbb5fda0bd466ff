"""Real-browser helpers: Debian's Chromium driven by Playwright, and a live qda app.

The test set-up installs Chromium itself (apt-get, as root) when it is missing, so
the README test command works on a fresh machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def debian_tool(command: str, package: str | None = None) -> str | None:
    """Path of a command from a Debian package, installing the package (apt-get, as
    root) when it is missing; None where that cannot be done."""
    found = shutil.which(command)
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", package or command],
            check=True,
            env=env,
            capture_output=True,
        )
        found = shutil.which(command)
    return found


def chromium_path() -> str:
    """Path of Debian's Chromium, installing the `chromium` package if needed."""
    found = shutil.which("chromium-browser") or debian_tool("chromium")
    if not found:
        pytest.fail(
            "the browser tests need Chromium: install Debian's package "
            "(sudo apt-get install chromium) and run the tests again"
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(
    project: Path, log: Path, timeout: float = 60, options: tuple[str, ...] = ()
) -> Iterator[str]:
    """Start `qda app PROJECT [OPTIONS]` as a real process; yield its URL; stop it
    afterwards."""
    port = free_port()
    env = {**os.environ, "QDA_USER": "browser-test"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "qda.cli", "app", str(project), "--port", str(port), *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://localhost:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start:\n{log.read_text()}")
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
