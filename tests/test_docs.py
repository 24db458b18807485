"""The README documents every setting and every CLI command."""

from __future__ import annotations

from tests.conftest import REPO
from workbench.cli import app
from workbench.settings import SETTINGS

README = (REPO / "README.md").read_text()


def test_readme_starts_with_the_two_commands() -> None:
    head = README.split("\n## ", 1)[0]
    assert "make demo" in head and "make test" in head


def test_every_setting_is_documented_with_its_default() -> None:
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default else "(empty)"
        assert f"| `{setting.env}` | {default} |" in README, setting.env


def test_every_command_is_documented() -> None:
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert f"`scribe {name}" in README, name
