"""Talking to a Label Studio server through ``label-studio-sdk``: the URL policy, the
client, paging, and one error type whose message says what was being done.

The SDK is imported only when a client is made (it takes about 2 s to import).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from pipelines.annotation_schema import load_task_schema
from pipelines.labelstudio import project_config, same_config
from pipelines.schema import load_label_schema
from workbench.store import labelstudio as state
from workbench.store.db import Store

T = TypeVar("T")
PAGE_SIZE = 100
TIMEOUT_S = 60.0


class LabelStudioError(Exception):
    """A push or pull that could not be done; the message says why (a failed pull imported
    nothing)."""


def server_url(url: str) -> str:
    """The server's base URL (scheme, host, port and path, no query or credentials).

    Refuses anything but http(s), and plain http to a host other than this machine: the
    tasks hold clinical text, which must not cross a network unencrypted."""
    from urllib.parse import urlsplit

    from pipelines.drafting.llm_backends import display_url, is_loopback

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LabelStudioError(
            f"Not a Label Studio URL: {display_url(url)!r} (http(s)://host:port)"
        )
    if parts.scheme == "http" and not is_loopback(url):
        raise LabelStudioError(
            f"Refusing plain http to {parts.hostname}: tasks carry clinical text. Use https://"
            " (or a Label Studio on this machine: 127.0.0.1 or localhost)."
        )
    return display_url(url).rstrip("/")


def connect(url: str, token: str, timeout_s: float = TIMEOUT_S) -> Any:
    """A ``label_studio_sdk.LabelStudio`` client for the server (nothing is sent yet)."""
    from label_studio_sdk import LabelStudio

    if not token.strip():
        raise LabelStudioError(
            "No Label Studio API token: pass --token or set SCRIBE_LABELSTUDIO_TOKEN"
        )
    return LabelStudio(base_url=server_url(url), api_key=token.strip(), timeout=timeout_s)


def lookup_project(client: Any, store: Store, server: str, project: str) -> tuple[Any, bool]:
    """(the project, or None; whether the sync state knew it) by remembered id, then title."""
    remembered = state.project_id(store, server, project)
    if remembered is not None:
        found = call(server, "reading the project", lambda: get_project(client, remembered[0]))
        if found is not None:
            return found, True
    listed = call(
        server,
        "listing projects",
        lambda: all_pages(
            lambda page: client.projects.list(title=project, page=page, page_size=PAGE_SIZE)
        ),
    )
    same = [p for p in listed if p.title == project]
    if len(same) > 1:
        raise LabelStudioError(
            f"{len(same)} projects are titled {project!r} on {server}: rename all but one"
        )
    return (same[0] if same else None), False


def scribe_config(found: Any) -> bool:
    """Whether the project has one of Scribe's configs (with or without audio)."""
    labels, tasks_schema = load_label_schema(), load_task_schema()
    return any(
        same_config(found.label_config or "<View/>", project_config(labels, tasks_schema, audio=a))
        for a in (True, False)
    )


def get_project(client: Any, project_id: int) -> Any:
    """The project with that id, or None when Label Studio no longer has it."""
    from label_studio_sdk.core.api_error import ApiError

    try:
        return client.projects.get(id=project_id)
    except ApiError as exc:
        if exc.status_code == 404:
            return None  # deleted in Label Studio: look it up by title or create it
        raise


def user_emails(client: Any, server: str) -> dict[int, str]:
    """Label Studio user id -> email, to attribute annotations to people."""
    users = call(server, "listing users", lambda: client.users.list())
    return {int(u.id): u.email for u in users if u.email}


# -- talking to the server -----------------------------------------------------------------


def plain_task(task: Any) -> dict:
    """A task from the SDK as the plain dict of a Label Studio JSON export."""

    def field(name: str) -> Any:
        return task.get(name) if isinstance(task, dict) else getattr(task, name, None)

    return {
        "id": field("id"),
        "data": field("data"),
        "annotations": _dicts(field("annotations")),
        "predictions": _dicts(field("predictions")),
    }


def _dicts(items: Any) -> list:
    if not isinstance(items, list):
        return []
    return [i.model_dump() if hasattr(i, "model_dump") else i for i in items]


def all_tasks(
    client: Any, server: str, project_id: int, *, fields: str, page_size: int = PAGE_SIZE
) -> list:
    """Every task of the project, page by page. (The SDK's own pager asks for one page past
    the end, which Label Studio answers with 404, so the pages are counted here.)"""
    info = call(server, "reading the project", lambda: client.projects.get(id=project_id))
    pages = max(1, math.ceil((info.task_number or 0) / page_size))
    out: list = []
    for page in range(1, pages + 1):
        found = call(
            server,
            f"fetching tasks (page {page} of {pages})",
            lambda p=page: client.tasks.list(
                project=project_id, fields=fields, page=p, page_size=page_size
            ),
        )
        out.extend(found.items or [])
    return out


def all_pages(fetch: Callable[[int], Any]) -> list:
    """Every item of a paged list whose last page is short (or 404 past the end)."""
    from label_studio_sdk.core.api_error import ApiError

    out, page = [], 1
    while True:
        try:
            found = fetch(page).items or []
        except ApiError as exc:
            if exc.status_code == 404 and page > 1:
                return out
            raise
        out.extend(found)
        if len(found) < PAGE_SIZE:
            return out
        page += 1


def call(server: str, what: str, fn: Callable[[], T]) -> T:
    """Run one SDK call; any failure becomes a LabelStudioError saying what was being
    done (the server's answer body is left out: it may quote task text)."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        return fn()
    except ApiError as exc:
        hint = {
            401: " (the API token was refused; legacy tokens must be enabled in the"
            " organisation's settings, or use a personal access token)",
            403: " (the token's user may not do this)",
            404: " (not found)",
        }.get(exc.status_code or 0, "")
        raise LabelStudioError(
            f"Label Studio at {server} answered HTTP {exc.status_code} while {what}{hint}"
        ) from None
    except httpx.HTTPError as exc:
        raise LabelStudioError(
            f"Could not reach Label Studio at {server}, or lost the connection, while {what}"
            f" ({type(exc).__name__})"
        ) from None
    except ValueError as exc:  # an answer that is not the JSON the SDK expects
        raise LabelStudioError(
            f"Label Studio at {server} sent an answer Scribe cannot read while {what}"
            f" ({type(exc).__name__})"
        ) from None
