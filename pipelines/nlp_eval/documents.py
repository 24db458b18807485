"""Gold-set documents: a stable id per dataset dialogue and the exact text it names.

Ids (the text is read from the datasets root, ``$SCRIBE_DATASETS``; it is never committed):

- ``aci:<split>:<encounter_id>`` — ``aci-bench/data/challenge_data/<split>.csv``, column
  ``dialogue`` of the row whose ``encounter_id`` matches (``[doctor] ...`` lines).
- ``primock57:<dayD_consultationNN>`` — ``primock57/transcripts/<name>_{doctor,patient}.TextGrid``
  merged by :func:`primock_text`.
- ``fareez:<NAME>`` — ``fareez-osce-interviews/Clean Transcripts/<NAME>.txt``.

Every text has ``\\n`` line endings (CRLF and CR are normalised) so offsets do not depend on
how a file was saved. Gold files pin the text by :func:`text_sha256`.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

ACI_FILES: dict[str, str] = {"train": "train.csv", "valid": "valid.csv"}
_PRIMOCK_NAME = re.compile(r"^day\d+_consultation\d+$")
_FAREEZ_NAME = re.compile(r"^[A-Z]{3}\d{4}$")
# Praat TextGrid interval fields, in file order.
_TG_FIELD = re.compile(r"^\s*(xmin|xmax|text)\s*=\s*(.*?)\s*$")
# Transcriber markup in PriMock57: <UNSURE>..</UNSURE> keeps its words, the others are dropped.
_TG_TAG = re.compile(r"</?UNSURE>|<UNIN/>|<INAUDIBLE_SPEECH/>")


class DocumentError(ValueError):
    """A document id that is malformed, or whose dataset file is missing or unreadable."""


@dataclass(frozen=True)
class Utterance:
    """One timed utterance of a PriMock57 tier."""

    start: float
    end: float
    role: str
    text: str


def safe_id(doc_id: str) -> str:
    """A file-name-safe form of a document id (``aci:train:D2N001`` -> ``aci__train__D2N001``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", doc_id.replace(":", "__"))


def text_sha256(text: str) -> str:
    """Hex sha256 of the UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` become ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def document_text(root: Path, doc_id: str) -> str:
    """The exact text of document ``doc_id`` under the datasets ``root``.

    Raises :class:`DocumentError` for an unknown id form or a missing file or row.
    """
    root = Path(root)
    source, _, rest = doc_id.partition(":")
    if source == "aci":
        split, _, encounter = rest.partition(":")
        if split not in ACI_FILES or not encounter:
            raise DocumentError(f"{doc_id!r}: expected aci:<train|valid>:<encounter_id>")
        return aci_text(root / "aci-bench", split, encounter)
    if source == "primock57":
        if not _PRIMOCK_NAME.match(rest):
            raise DocumentError(f"{doc_id!r}: expected primock57:dayD_consultationNN")
        return primock_text(root / "primock57", rest)
    if source == "fareez":
        if not _FAREEZ_NAME.match(rest):
            raise DocumentError(f"{doc_id!r}: expected fareez:<XXX0000>")
        return fareez_text(root / "fareez-osce-interviews", rest)
    raise DocumentError(f"{doc_id!r}: unknown source {source!r} (aci, primock57, fareez)")


def aci_text(aci_root: Path, split: str, encounter_id: str) -> str:
    """The ``dialogue`` of one ACI-Bench encounter."""
    path = Path(aci_root) / "data" / "challenge_data" / ACI_FILES[split]
    if not path.is_file():
        raise DocumentError(f"{path} not found")
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["encounter_id"] == encounter_id:
                return normalise_newlines(row["dialogue"])
    raise DocumentError(f"encounter {encounter_id} not in {path}")


def fareez_text(fareez_root: Path, name: str) -> str:
    """A Fareez clean transcript (UTF-8, or UTF-16 where the file has a BOM)."""
    path = Path(fareez_root) / "Clean Transcripts" / f"{name}.txt"
    if not path.is_file():
        raise DocumentError(f"{path} not found")
    raw = path.read_bytes()
    # Two files of the set are UTF-16 LE with a BOM; the rest are UTF-8.
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    return normalise_newlines(raw.decode(encoding))


def primock_text(primock_root: Path, name: str) -> str:
    """Doctor and patient tiers as one dialogue: one line per utterance, in time order.

    Each line is ``[doctor] text`` or ``[patient] text``. ``<UNSURE>`` tags are removed (their
    words stay), ``<UNIN/>`` and ``<INAUDIBLE_SPEECH/>`` are dropped, whitespace is collapsed;
    utterances left empty are skipped. Ties in start time put the doctor first.
    """
    utterances: list[Utterance] = []
    for role in ("doctor", "patient"):
        path = Path(primock_root) / "transcripts" / f"{name}_{role}.TextGrid"
        if not path.is_file():
            raise DocumentError(f"{path} not found")
        utterances.extend(read_textgrid(path, role))
    order = {"doctor": 0, "patient": 1}
    utterances.sort(key=lambda u: (u.start, order[u.role], u.end))
    return "\n".join(f"[{u.role}] {u.text}" for u in utterances)


def read_textgrid(path: Path, role: str) -> list[Utterance]:
    """Non-empty intervals of a one-tier Praat TextGrid (long text format), cleaned."""
    out: list[Utterance] = []
    fields: dict[str, str] = {}
    in_intervals = False
    for line in normalise_newlines(Path(path).read_text("utf-8")).split("\n"):
        if line.strip().startswith("intervals ["):
            in_intervals, fields = True, {}
            continue
        match = _TG_FIELD.match(line)
        if not (in_intervals and match):
            continue
        fields[match.group(1)] = match.group(2)
        if match.group(1) == "text":
            text = _clean_utterance(_unquote(match.group(2)))
            if text:
                out.append(Utterance(float(fields["xmin"]), float(fields["xmax"]), role, text))
    return out


def _unquote(value: str) -> str:
    # TextGrid strings are double-quoted with "" for a literal quote.
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value.replace('""', '"')


def _clean_utterance(text: str) -> str:
    return " ".join(_TG_TAG.sub(" ", text).split())
