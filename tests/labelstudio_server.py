"""A real Label Studio server for the round-trip tests, in its own cached virtualenv.

Label Studio 1.23's pins clash with ours (Django, numpy 2 through its own SDK), so the
server lives in a venv of its own, pinned by ``tests/labelstudio_server.lock`` and kept
under ``$SCRIBE_CACHE/labelstudio-server/<hash of the lock>`` (``tests/cached_venv.py``).
Our code talks to it only through the ``label-studio-sdk`` of our own venv.

The server listens on 127.0.0.1 only (``--internal-host``), never asks the package index
for a newer version and sends no analytics. Since 1.17 a ``--user-token`` is a legacy token
that organisations refuse by default: ``start_server`` signs in with a session and turns
legacy tokens on (``/api/jwt/settings``), so the token works as ``api_key`` of the SDK.

``python -m tests.labelstudio_server`` builds the venv and prints the build and start timings.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import secrets
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests import cached_venv

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "tests" / "labelstudio_server.lock"
ADMIN = "admin@scribe.test"


def cache_root() -> Path:
    """``$SCRIBE_CACHE`` (the project's cache setting) / labelstudio-server."""
    return cached_venv.cache_root("labelstudio-server")


def ensure_venv(root: Path | None = None) -> tuple[Path, float]:
    """The server venv (built if missing or unfinished) and the seconds building took."""
    return cached_venv.ensure_venv(LOCK, root or cache_root())


@dataclass
class Server:
    """A running Label Studio server on loopback, with its admin's API token."""

    url: str  # ``http://127.0.0.1:PORT``
    token: str
    email: str
    password: str
    process: subprocess.Popen
    start_seconds: float
    log: Path

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within 10 s)."""
        cached_venv.stop(self.process)


def server_env(data: Path) -> dict[str, str]:
    """The environment of a quiet, offline server keeping its state in ``data``."""
    return {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "LATEST_VERSION_CHECK": "false",  # otherwise it asks the package index
        "COLLECT_ANALYTICS": "false",
        "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "false",
    }


def start_server(venv: Path, data: Path, log: Path, wait_s: float = 300.0) -> Server:
    """Start ``label-studio`` on 127.0.0.1 with a fresh admin, wait for ``/health`` and
    enable the admin's token for the API."""
    port = cached_venv.free_port()
    url = f"http://127.0.0.1:{port}"
    password, token = secrets.token_urlsafe(12), secrets.token_hex(20)
    args = [
        str(venv / "bin" / "label-studio"), "start",
        "--host", url, "--internal-host", "127.0.0.1", "--port", str(port),
        "--no-browser", "--username", ADMIN, "--password", password, "--user-token", token,
    ]  # fmt: skip
    data.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=server_env(data), cwd=data
        )
    try:
        seconds = cached_venv.wait_until_ready(
            process, f"{url}/health", wait_s, "Label Studio", log
        )
        enable_legacy_tokens(url, ADMIN, password)
    except BaseException:
        cached_venv.stop(process)
        raise
    return Server(url, token, ADMIN, password, process, seconds, log)


def session(url: str, email: str, password: str) -> urllib.request.OpenerDirector:
    """A signed-in browser-like session (cookies, CSRF) of ``email``."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{url}/user/login/", timeout=30) as page:
        page.read()
    csrf = _cookie(jar, "csrftoken")
    form = urllib.parse.urlencode({"email": email, "password": password}).encode()
    request = urllib.request.Request(
        f"{url}/user/login/",
        data=form,
        headers={"X-CSRFToken": csrf, "Referer": f"{url}/user/login/"},
    )
    with opener.open(request, timeout=30) as answer:
        answer.read()
    if _cookie(jar, "sessionid", required=False) is None:
        raise RuntimeError(f"Label Studio refused the sign-in of {email}")
    opener.addheaders = [("X-CSRFToken", _cookie(jar, "csrftoken")), ("Referer", url)]
    return opener


def enable_legacy_tokens(url: str, email: str, password: str) -> None:
    """Let the organisation's members use their legacy token (off by default since 1.17)."""
    opener = session(url, email, password)
    body = json.dumps({"legacy_api_tokens_enabled": True}).encode()
    request = urllib.request.Request(
        f"{url}/api/jwt/settings",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with opener.open(request, timeout=30) as answer:
        answer.read()


def add_user(server: Server, email: str, password: str) -> str:
    """Sign up a second annotator in the admin's organisation; returns their API token.

    Label Studio's signup form takes a new user into the (only) organisation; their token
    then comes from their own session (``/api/current-user/token``)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{server.url}/user/signup/", timeout=30) as page:
        page.read()
    form = urllib.parse.urlencode({"email": email, "password": password}).encode()
    request = urllib.request.Request(
        f"{server.url}/user/signup/",
        data=form,
        headers={"X-CSRFToken": _cookie(jar, "csrftoken"), "Referer": f"{server.url}/"},
    )
    with opener.open(request, timeout=30) as answer:
        answer.read()
    opener = session(server.url, email, password)
    with opener.open(f"{server.url}/api/current-user/token", timeout=30) as answer:
        return json.loads(answer.read())["token"]


def _cookie(jar: http.cookiejar.CookieJar, name: str, required: bool = True) -> str | None:
    for cookie in jar:
        if cookie.name == name:
            return cookie.value
    if required:
        raise RuntimeError(f"Label Studio set no {name} cookie")
    return None


def main() -> None:
    """Build (or find) the venv, start the server once, print the timings as JSON."""
    import tempfile

    venv, build = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(venv, Path(tmp) / "data", Path(tmp) / "server.log")
        server.stop()
    print(json.dumps({"venv": str(venv), "build_seconds": round(build, 1),
                      "server_start_seconds": round(server.start_seconds, 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
