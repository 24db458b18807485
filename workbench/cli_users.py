"""`scribe user`: accounts for the workbench (registered in workbench.cli).

Run by the operator (whoever may open the data directory), so changes are recorded as the
``system`` actor. A password is never a command-line argument (it would stay in the shell
history and the process list): it is prompted for twice, or read from standard input with
``--password-stdin``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

user_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Add, disable, unlock and list workbench accounts; set roles, grants and passwords.",
)
console = Console(stderr=True)

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


def register(app: typer.Typer) -> None:
    """Add `user` to the `scribe` command line."""
    app.add_typer(user_app, name="user")


@user_app.callback()
def main() -> None:
    """Add, disable, unlock and list workbench accounts; set roles, grants and passwords."""


def _store(ctx: typer.Context) -> Any:
    from workbench.cli_context import open_store

    return open_store(ctx)


def _by() -> str:
    from workbench.store.access import SYSTEM

    return SYSTEM.user_id


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(1)


def _read_password(from_stdin: bool) -> str:
    """A new password, checked for length; from stdin or prompted twice (not echoed)."""
    from workbench.auth import check_new_password

    if from_stdin:
        password = typer.get_text_stream("stdin").readline().rstrip("\r\n")
        again = None
    else:
        password = typer.prompt("Password", hide_input=True)
        again = typer.prompt("Password again", hide_input=True)
    try:
        check_new_password(password, again)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    return password


@user_app.command("add")
def add(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument(help="Sign-in id, e.g. dr-lindqvist.")],
    role: Annotated[str, typer.Option(help="clinician, annotator, analyst or admin.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the id).")] = None,
    email: Annotated[
        str | None, typer.Option(help="Email an OpenID Connect sign-in is matched by.")
    ] = None,
    password_stdin: PasswordStdin = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No local password (OpenID Connect only).")
    ] = False,
) -> None:
    """Create an account; asks for its password unless --no-password."""
    from workbench.auth import hash_password
    from workbench.store import StoreError, users

    store = _store(ctx)
    try:
        users.check_role(role)  # before asking for a password
    except StoreError as exc:
        raise _fail(str(exc)) from None
    hashed = None if no_password else hash_password(_read_password(password_stdin))
    try:
        account = users.create_account(
            store, user_id, role, _by(), display_name=name, email=email, password_hash=hashed
        )
    except StoreError as exc:
        raise _fail(str(exc)) from None
    console.print(f"{account.user_id}: created ({account.role})")


@user_app.command("password")
def password(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument(help="The account.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set or reset an account's password (also lifts a lock-out)."""
    from workbench.auth import hash_password
    from workbench.store import StoreError, users

    store = _store(ctx)
    if users.get_account(store, user_id) is None:
        raise _fail(f"No user {user_id}")
    try:
        users.set_password(store, user_id, hash_password(_read_password(password_stdin)), _by())
    except StoreError as exc:
        raise _fail(str(exc)) from None
    console.print(f"{user_id}: password set")


def _change(ctx: typer.Context, action, user_id: str, *args, done: str, same: str) -> None:
    from workbench.store import StoreError

    try:
        changed = action(_store(ctx), user_id, *args, _by())
    except StoreError as exc:
        raise _fail(str(exc)) from None
    console.print(f"{user_id}: {done if changed else same}")


@user_app.command("disable")
def disable(ctx: typer.Context, user_id: Annotated[str, typer.Argument()]) -> None:
    """Disable an account: it can no longer sign in (its history stays)."""
    from workbench.store import users

    _change(ctx, users.set_disabled, user_id, True, done="disabled", same="already disabled")


@user_app.command("enable")
def enable(ctx: typer.Context, user_id: Annotated[str, typer.Argument()]) -> None:
    """Enable a disabled account again."""
    from workbench.store import users

    _change(ctx, users.set_disabled, user_id, False, done="enabled", same="already enabled")


@user_app.command("role")
def role(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument()],
    new_role: Annotated[str, typer.Argument(help="clinician, annotator, analyst or admin.")],
) -> None:
    """Change an account's role."""
    from workbench.store import users

    _change(
        ctx, users.set_role, user_id, new_role, done=f"role {new_role}", same=f"already {new_role}"
    )


@user_app.command("grant")
def grant(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument()],
    name: Annotated[
        str,
        typer.Argument(help="phi: sees identifying text; lead: assigns and reviews tasks."),
    ],
) -> None:
    """Give an account a grant (e.g. phi for an annotator)."""
    from workbench.store import users

    _change(
        ctx,
        users.set_grant,
        user_id,
        name,
        True,
        done=f"granted {name}",
        same=f"already has {name}",
    )


@user_app.command("revoke")
def revoke(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Argument(help="The grant to take away.")],
) -> None:
    """Take a grant away from an account."""
    from workbench.store import users

    _change(
        ctx,
        users.set_grant,
        user_id,
        name,
        False,
        done=f"revoked {name}",
        same=f"does not have {name}",
    )


@user_app.command("unlock")
def unlock(ctx: typer.Context, user_id: Annotated[str, typer.Argument()]) -> None:
    """Lift a lock-out after failed sign-ins."""
    from workbench.store import users

    _change(ctx, users.unlock_account, user_id, done="unlocked", same="was not locked")


@user_app.command("assign")
def assign(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument()],
    encounter_ids: Annotated[list[str], typer.Argument(help="Encounter ids.")],
) -> None:
    """Assign encounters to an annotator (tasks) or to a covering clinician (they act on
    them as on their own)."""
    _assignments(ctx, user_id, encounter_ids, assign=True)


@user_app.command("unassign")
def unassign(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument()],
    encounter_ids: Annotated[list[str], typer.Argument(help="Encounter ids.")],
) -> None:
    """Take assigned encounters back."""
    _assignments(ctx, user_id, encounter_ids, assign=False)


def _assignments(ctx: typer.Context, user_id: str, encounter_ids: list[str], assign: bool) -> None:
    from workbench.store import StoreError, users
    from workbench.store.assignments import assign_encounter, unassign_encounter

    store = _store(ctx)
    account = users.get_account(store, user_id)
    if account is None:
        raise _fail(f"No account {user_id}")
    if account.role not in ("clinician", "annotator"):
        raise _fail(f"{user_id} is {account.role}: only clinicians and annotators get encounters")
    change = assign_encounter if assign else unassign_encounter
    for encounter_id in encounter_ids:
        try:
            changed = change(store, encounter_id, user_id)
        except StoreError as exc:
            raise _fail(str(exc)) from None
        word = ("assigned" if changed else "already assigned") if assign else (
            "unassigned" if changed else "was not assigned")
        console.print(f"{encounter_id}: {word} to {user_id}" if assign or changed
                      else f"{encounter_id}: {word}")


@user_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list.")] = False,
) -> None:
    """Every account: id, name, role, email, grants, state (never a password hash)."""
    from workbench.store import users
    from workbench.store.db import utcnow

    now = utcnow()
    rows = [
        {
            "user_id": a.user_id,
            "display_name": a.display_name,
            "role": a.role,
            "email": a.email,
            "grants": sorted(a.grants),
            "disabled": a.disabled,
            "locked_until": a.locked_until.isoformat() if a.locked(now) else None,
            "password_set": a.has_password,
        }
        for a in users.list_accounts(_store(ctx))
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for r in rows:
        state = "disabled" if r["disabled"] else "locked" if r["locked_until"] else "active"
        extra = ",".join(r["grants"])
        typer.echo(
            f"{r['user_id']:<20} {r['role']:<10} {state:<8} "
            f"{'password' if r['password_set'] else 'no password':<11} "
            f"{r['email'] or '-':<28} {extra}"
        )
