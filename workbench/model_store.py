"""Trained models in the data directory: written and read here only, encrypted when there is a key.

A model's vocabulary holds words of the transcripts it was trained on, so it is patient
text. Without a key a model is the spaCy folder ``models/<id>/`` (``spacy.load``-able). With
a key it is one file ``models/<id>.enc``: the model packed in memory
(``pipelines.nlp.trained.pack_model``: config text + ``Language.to_bytes``) and sealed in
the stored-audio format (``workbench.audio_store.encrypt``: AES-256-GCM, random nonce)
under its own derived key (``workbench.keys.model_key``), the associated data naming the
model, so a file renamed to another model's name does not open. The plaintext model exists
in memory only: it is never staged in a folder or a temporary file.

The registry keeps the path without the suffix (``models/<id>``) for both forms, so
``scribe rekey`` turns a folder into a file and back without changing the database.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from spacy.language import Language

from pipelines.nlp.trained import load_model_folder, pack_model, unpack_model
from workbench import audio_store, keys

MODELS_DIR = "models"
SEALED_SUFFIX = ".enc"


class ModelStoreError(Exception):
    """A stored model that cannot be read with the key given; the message says why."""


def model_path(model_id: str) -> str:
    """The registry path of a model: relative to the data directory, without suffix."""
    return f"{MODELS_DIR}/{model_id}"


def folder_of(data_dir: Path, path: str) -> Path:
    """Where the plaintext folder of the model at registry ``path`` lives."""
    return Path(data_dir) / path


def sealed_of(data_dir: Path, path: str) -> Path:
    """Where the encrypted file of the model at registry ``path`` lives."""
    folder = folder_of(data_dir, path)
    return folder.with_name(folder.name + SEALED_SUFFIX)


def exists(data_dir: Path, path: str) -> bool:
    """Whether the model at registry ``path`` is stored, in either form."""
    return (folder_of(data_dir, path) / "meta.json").is_file() or sealed_of(
        data_dir, path
    ).is_file()


def save_model(data_dir: Path, path: str, model: Language, key: bytes | None) -> Path:
    """Store ``model`` at registry ``path``: sealed with ``key``, a plain folder without.

    Either form appears whole or not at all (a folder is written under a hidden name and
    renamed; a file is synced and renamed). Refuses to replace a stored model.
    """
    if exists(data_dir, path):
        raise ModelStoreError(f"A model is already stored at {path}")
    if key is not None:
        return write_pack(data_dir, path, pack_model(model), key)
    folder = folder_of(data_dir, path)
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        model.to_disk(staging)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def load_model(data_dir: Path, path: str, key: bytes | None) -> Language:
    """The model at registry ``path``, decrypted in memory when ``key`` is given.

    Raises FileNotFoundError when neither form is there, ModelStoreError for a sealed model
    without a key, a plain folder while a key is set (run ``scribe rekey``), or a file that
    does not decrypt.
    """
    if key is None:
        folder = folder_of(data_dir, path)
        if not folder.exists() and sealed_of(data_dir, path).is_file():
            raise ModelStoreError(
                f"The model {folder.name} is encrypted: set SCRIBE_KEY or SCRIBE_KEY_FILE"
            )
        return load_model_folder(folder)
    return unpack_model(read_pack(data_dir, path, key))


def read_pack(data_dir: Path, path: str, key: bytes | None) -> bytes:
    """The model at registry ``path`` as ``pack_model`` bytes (decrypted with ``key``)."""
    if key is None:
        return pack_model(load_model(data_dir, path, None))
    folder, sealed = folder_of(data_dir, path), sealed_of(data_dir, path)
    if not sealed.is_file():
        if folder.exists():
            raise ModelStoreError(
                f"The model {folder.name} is stored unencrypted although a key is set: "
                "run `scribe rekey`"
            )
        raise FileNotFoundError(f"No trained NER model at {sealed}")
    try:
        return audio_store.decrypt(
            sealed.read_bytes(), key, _associated(folder.name), derive=keys.model_key
        )
    except audio_store.AudioStoreError:
        raise ModelStoreError(
            f"The model {folder.name} does not decrypt with this key (wrong key, a damaged "
            "file, or a file renamed from another model)"
        ) from None


def write_pack(data_dir: Path, path: str, pack: bytes, key: bytes | None) -> Path:
    """Store ``pack_model`` bytes at registry ``path``: sealed with ``key``, a folder without."""
    if key is None:
        return save_model(data_dir, path, unpack_model(pack), None)
    sealed = sealed_of(data_dir, path)
    name = folder_of(data_dir, path).name
    blob = audio_store.encrypt(pack, key, _associated(name), derive=keys.model_key)
    audio_store.write_atomically(sealed, blob)
    return sealed


def remove_model(data_dir: Path, path: str) -> None:
    """Delete the stored model at registry ``path`` (either form); no error if absent."""
    shutil.rmtree(folder_of(data_dir, path), ignore_errors=True)
    sealed_of(data_dir, path).unlink(missing_ok=True)


def stored_models(data_dir: Path) -> list[str]:
    """Registry paths of every model stored in the data directory, in either form, sorted.

    Hidden entries (a crashed training's ``.<id>.partial`` folder, a half-written file) are
    not models; any other entry that is neither form raises ModelStoreError.
    """
    root = Path(data_dir) / MODELS_DIR
    found = []
    for entry in sorted(root.iterdir()) if root.is_dir() else ():
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.name.endswith(SEALED_SUFFIX):
            found.append(model_path(entry.name.removesuffix(SEALED_SUFFIX)))
        elif entry.is_dir() and (entry / "meta.json").is_file():
            found.append(model_path(entry.name))
        else:
            raise ModelStoreError(
                f"{MODELS_DIR}/{entry.name} is not a stored model: move it out of the data "
                "directory"
            )
    return found


def _associated(name: str) -> str:
    """The associated data of a sealed model: its name, marked as a model's."""
    return f"model:{name}"
