"""The master key that encrypts the data directory: where it comes from and what it derives.

The key is 32 random bytes, written as base64 (what ``scribe key generate`` prints) or as
64 hex digits. It comes from ``SCRIBE_KEY`` or from the file named by ``SCRIBE_KEY_FILE``
(its contents; surrounding whitespace is ignored), never from the repository. Passphrases
are refused on purpose: a random key needs no key-derivation salt stored beside the
database and cannot be guessed offline from a stolen backup.

Three keys are derived from the master key with HKDF-SHA256: one for the DuckDB file, one
for stored audio and one for trained models, so no key ever serves two purposes.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
UNENCRYPTED_WARNING = "Data is stored UNENCRYPTED: set SCRIBE_KEY or SCRIBE_KEY_FILE"
# HKDF "info" labels: bump the suffix only together with a migration of stored data.
_DB_INFO = b"scribe-workbench database key v1"
_AUDIO_INFO = b"scribe-workbench audio key v1"
_MODEL_INFO = b"scribe-workbench model key v1"

log = logging.getLogger(__name__)


class KeyProblem(ValueError):
    """The key settings are unusable; the message says what to change."""


def parse_key(text: str, source: str) -> bytes:
    """32 key bytes from base64 or hex text; ``source`` names where it came from."""
    text = text.strip()
    candidates = []
    if len(text) == 2 * KEY_BYTES:
        try:
            candidates.append(bytes.fromhex(text))
        except ValueError:
            pass
    try:
        candidates.append(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        pass
    for key in candidates:
        if len(key) == KEY_BYTES:
            return key
    raise KeyProblem(
        f"{source} is not a key: it must be {KEY_BYTES} random bytes as base64 or 64 hex "
        "digits (passphrases are not accepted). Make one with `scribe key generate`."
    )


def load_key() -> bytes | None:
    """The master key from SCRIBE_KEY or SCRIBE_KEY_FILE; None when neither is set.

    Raises KeyProblem when both are set, the file is missing or empty, or the value is not
    a 32-byte key. A key file that other users can read is used, with a warning.
    """
    from workbench.settings import setting

    inline = setting("SCRIBE_KEY").strip()
    file_name = setting("SCRIBE_KEY_FILE").strip()
    if inline and file_name:
        raise KeyProblem("Both SCRIBE_KEY and SCRIBE_KEY_FILE are set: keep only one.")
    if inline:
        return parse_key(inline, "SCRIBE_KEY")
    if not file_name:
        return None
    return read_key_file(Path(file_name).expanduser())


def read_key_file(path: Path) -> bytes:
    """The key in ``path`` (warns when group or others may read the file)."""
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except OSError as exc:
        raise KeyProblem(f"Cannot read the key file {path}: {exc.strerror or exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("key file %s can be read by other users: chmod 600 it", path)
    return parse_key(text, f"The key file {path}")


def generate_key() -> bytes:
    """A new random master key."""
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    """The key as the base64 text key files and SCRIBE_KEY hold."""
    return base64.b64encode(key).decode("ascii")


def write_key_file(path: Path, key: bytes) -> None:
    """Write ``key`` to a new file readable by its owner only (refuses to overwrite)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyProblem(f"{path} already exists; choose a new file name") from None
    with os.fdopen(fd, "w") as out:
        out.write(encode_key(key) + "\n")


def database_key(master: bytes) -> str:
    """The DuckDB ENCRYPTION_KEY for ``master`` (hex text of a derived key)."""
    return _derive(master, _DB_INFO).hex()


def audio_key(master: bytes) -> bytes:
    """The AES-256-GCM key for stored audio, derived from ``master``."""
    return _derive(master, _AUDIO_INFO)


def model_key(master: bytes) -> bytes:
    """The AES-256-GCM key for trained models (``workbench.model_store``), from ``master``."""
    return _derive(master, _MODEL_INFO)


def _derive(master: bytes, info: bytes) -> bytes:
    if len(master) != KEY_BYTES:
        raise KeyProblem(f"A master key has {KEY_BYTES} bytes, not {len(master)}")
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)
