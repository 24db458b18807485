"""The workbench served by `streamlit run` on a free loopback port, for browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import APP, REPO

HEALTH_TIMEOUT_S = 90.0
# Loopback only: never through a proxy named in the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(data_dir: Path, user: str, log_path: Path) -> Iterator[str]:
    """Serve the app (as ``scribe serve`` does) on data_dir; yields its base URL.

    The server's output goes to ``log_path``; it is stopped (terminate, then kill) on exit.
    """
    port = free_port()
    env = {**os.environ, "SCRIBE_HOME": str(data_dir), "SCRIBE_USER": user}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, proc, log_path)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def wait_healthy(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    """Poll ``/_stcore/health`` until it answers ok; fail with the server log otherwise."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited ({proc.returncode}):\n{log_path.read_text()}")
        try:
            with _DIRECT.open(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200 and response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"streamlit not healthy after {HEALTH_TIMEOUT_S:.0f} s:\n{log_path.read_text()}"
    )
