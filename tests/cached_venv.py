"""Test servers in virtualenvs of their own, built once per machine and cached.

Some servers the suite starts (llama.cpp, Label Studio) cannot share the project's venv:
their pins clash with ours or they compile for minutes. Each gets a venv pinned by a lock
file in ``tests/`` and kept under ``$SCRIBE_CACHE/<name>/<hash of the lock>``, so a changed
lock builds a new one. A file lock lets two pytest runs start together (one builds, the
other waits), and a ``.complete`` marker tells a finished venv from one a killed run left.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

DONE = ".complete"


def cache_root(name: str) -> Path:
    """``$SCRIBE_CACHE`` (the project's cache setting) / ``name``."""
    from workbench.settings import setting

    return Path(setting("SCRIBE_CACHE")).expanduser() / name


def venv_dir(lock: Path, root: Path) -> Path:
    """Where the venv for ``lock`` lives under ``root`` (a changed lock gets a new venv)."""
    key = hashlib.sha256(lock.read_bytes() + sys.version.encode()).hexdigest()[:12]
    return root / key


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """One builder at a time (two pytest runs may start together)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run(args: list[str], env: dict[str, str] | None = None) -> str:
    """Run a build step; RuntimeError with the tail of its output when it fails."""
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-3000:]
        raise RuntimeError(f"{' '.join(args[:4])} ... failed ({done.returncode}):\n{tail}")
    return done.stdout


def ensure_venv(
    lock: Path,
    root: Path,
    env: dict[str, str] | None = None,
    after: Callable[[Path], None] | None = None,
) -> tuple[Path, float]:
    """The venv pinned by ``lock`` under ``root`` (built if missing or unfinished) and the
    seconds building took (0 when it was already there).

    Packages come from the registry pip is configured with (``env`` adds to the process
    environment); ``after(venv)`` runs extra build steps before the venv counts as done.
    """
    venv = venv_dir(lock, root)
    with exclusive(venv.with_suffix(".lock")):
        if (venv / DONE).is_file():
            return venv, 0.0
        started = time.perf_counter()
        shutil.rmtree(venv, ignore_errors=True)  # a half-built venv from a killed run
        run([sys.executable, "-m", "venv", str(venv)])
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
               "--disable-pip-version-check"]  # fmt: skip
        run([*pip, "-r", str(lock)], {**os.environ, **(env or {})})
        if after is not None:
            after(venv)
        seconds = time.perf_counter() - started
        (venv / DONE).write_text(json.dumps({"build_seconds": round(seconds, 1)}))
        return venv, seconds


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(
    process: subprocess.Popen, url: str, wait_s: float, what: str, log: Path
) -> float:
    """Poll ``url`` until it answers 200; the seconds it took. RuntimeError (the server
    killed) when the process exits or ``wait_s`` passes first."""
    started = time.perf_counter()
    while time.perf_counter() - started < wait_s:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}): see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.5)
    process.kill()
    process.wait(timeout=10)
    raise RuntimeError(f"{what} did not answer within {wait_s:g} s: see {log}")


def stop(process: subprocess.Popen) -> None:
    """Terminate a server (kill it if it does not stop within 10 s)."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
