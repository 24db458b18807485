"""The store a CLI subcommand works on, from the root command's options.

Subcommands read ``--data-dir`` from the click context rather than from
``workbench.cli.State``: under ``python -m workbench.cli`` that module runs as ``__main__``
and an import would see a second copy of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from workbench.store import Store


def data_dir(ctx: typer.Context) -> Path:
    """The data directory the root command was given (or the setting's default)."""
    from workbench import settings

    return settings.data_dir(ctx.find_root().params.get("data_dir"))


def open_store(ctx: typer.Context) -> Store:
    """The store of the root command's data directory (key from the environment)."""
    from workbench import store as st

    return st.open_store(data_dir(ctx))


def open_as_user(ctx: typer.Context) -> tuple[Store, Path, str]:
    """(store, data dir, user): the store plus the operator's ``SCRIBE_USER`` account,
    created as a clinician account on first use (events need a user to attribute to)."""
    from workbench import settings
    from workbench import store as st

    store = open_store(ctx)
    user = settings.setting("SCRIBE_USER")
    st.ensure_user(store, user, user, "clinician")
    return store, data_dir(ctx), user
