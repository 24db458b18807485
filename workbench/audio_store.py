"""Stored encounter audio: written and read here only, encrypted when there is a key.

An encrypted file is ``MAGIC`` (7 bytes) + a format version (1 byte) + a 12-byte random
nonce + the AES-256-GCM ciphertext and tag of the original bytes. The associated data is
the file's name stem (the audio's sha256), so a file copied over another one fails to
decrypt instead of playing the wrong patient's recording. The audio key is derived from
the master key (``workbench.keys.audio_key``), never the database key itself.

Without a key the original bytes are stored as they are. Every reader of stored audio
(ASR, the review player) calls ``read_audio``; decrypted audio stays in memory and is
never written to a temporary file.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from workbench import keys

MAGIC = b"SCRIBEA"
VERSION = 1
NONCE_BYTES = 12
HEADER_BYTES = len(MAGIC) + 1 + NONCE_BYTES

KeyArg = bytes | Literal["env"] | None
Derive = Callable[[bytes], bytes]  # master key -> the AES key of one kind of file


class AudioStoreError(Exception):
    """Stored audio that cannot be read with the key given; the message says why."""


def audio_path(data_dir: Path, sha256: str, suffix: str) -> Path:
    """Where the audio with this hash lives inside the data directory."""
    return Path(data_dir) / "audio" / sha256[:2] / f"{sha256}{suffix.lower()}"


def is_encrypted(path: Path) -> bool:
    """Whether the stored file at ``path`` is in the encrypted format."""
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


def encrypt(data: bytes, master: bytes, name: str, derive: Derive = keys.audio_key) -> bytes:
    """``data`` as an encrypted audio file bound to ``name`` (the sha256 stem).

    ``derive`` picks the sub-key: trained models (``workbench.model_store``) are sealed in
    the same format under their own key.
    """
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(derive(master)).encrypt(nonce, data, name.encode())
    return MAGIC + bytes([VERSION]) + nonce + sealed


def decrypt(blob: bytes, master: bytes, name: str, derive: Derive = keys.audio_key) -> bytes:
    """The original bytes of an encrypted audio file; AudioStoreError if it does not open."""
    if not blob.startswith(MAGIC) or len(blob) < HEADER_BYTES:
        raise AudioStoreError(f"{name}: not an encrypted audio file")
    if blob[len(MAGIC)] != VERSION:
        raise AudioStoreError(f"{name}: unknown audio file version {blob[len(MAGIC)]}")
    nonce = blob[len(MAGIC) + 1 : HEADER_BYTES]
    try:
        return AESGCM(derive(master)).decrypt(nonce, blob[HEADER_BYTES:], name.encode())
    except InvalidTag:
        raise AudioStoreError(
            f"{name}: the audio does not decrypt with this key (wrong key, a damaged "
            "file, or a file copied over another one)"
        ) from None


def write_audio(
    data_dir: Path, data: bytes, sha256: str, suffix: str, key: KeyArg = "env"
) -> tuple[Path, bool]:
    """Store ``data`` (whose sha256 is ``sha256``) under the data directory.

    Encrypted with ``key`` ("env": SCRIBE_KEY / SCRIBE_KEY_FILE; None: stored as is).
    Written to a temporary file in the same folder, synced and renamed, so a crash never
    leaves half a file. Returns the path and whether it was written (False: it existed).
    """
    master = keys.load_key() if key == "env" else key
    target = audio_path(data_dir, sha256, suffix)
    if target.exists():
        return target, False
    blob = data if master is None else encrypt(data, master, stem(target))
    write_atomically(target, blob)
    return target, True


def read_audio(path: Path, key: KeyArg = "env") -> bytes:
    """The original bytes of the stored audio at ``path``, decrypted in memory.

    ``key``: "env" reads SCRIBE_KEY / SCRIBE_KEY_FILE; None expects a plaintext file.
    Raises AudioStoreError for an encrypted file without a key, a plaintext file while a
    key is set (the data directory is half converted: run ``scribe rekey``), or a file
    that does not decrypt.
    """
    path = Path(path)
    master = keys.load_key() if key == "env" else key
    blob = path.read_bytes()
    encrypted = blob.startswith(MAGIC)
    if master is None:
        if encrypted:
            raise AudioStoreError(
                f"{path.name} is encrypted: set SCRIBE_KEY or SCRIBE_KEY_FILE to play it"
            )
        return blob
    if not encrypted:
        raise AudioStoreError(
            f"{path.name} is stored unencrypted although a key is set: run `scribe rekey`"
        )
    return decrypt(blob, master, stem(path))


def stem(path: Path) -> str:
    """The sha256 part of a stored audio file's name (the associated data)."""
    return Path(path).name.partition(".")[0]


def write_atomically(target: Path, blob: bytes) -> None:
    """Write ``blob`` to ``target`` via a synced temporary file and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".audio-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
