"""Gold NER annotations: offsets and labels per dataset document, no dataset text.

One JSON file per document, ``annotations/gold/ner/<safe id>.json``::

    {"doc_id": "aci:train:D2N005", "text_sha256": "...", "split": "test", "annotator": "A",
     "guideline": "ner_guideline.v1",
     "entities": [{"start": 10, "end": 20, "label": "PROBLEM", "negated": false,
                   "historical": false, "family": false, "hypothetical": false,
                   "uncertain": false, "attributes": {"dose": [24, 30]}}]}

``MANIFEST.json`` beside them lists the chosen documents with their split and annotator batch.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.nlp_eval.documents import document_text, safe_id, text_sha256
from pipelines.paths import ANNOTATIONS_DIR
from pipelines.schema import LABELS_PATH, load_label_schema

REPO_ROOT = ANNOTATIONS_DIR.parent
GOLD_DIR = ANNOTATIONS_DIR / "gold" / "ner"
GUIDELINE_VERSION = "ner_guideline.v1"
FLAGS: tuple[str, ...] = ("negated", "historical", "family", "hypothetical", "uncertain")
SPLITS: tuple[str, ...] = ("dev", "test")


class GoldError(ValueError):
    """A gold file that does not fit its document, the label schema or the manifest."""


@dataclass(frozen=True)
class GoldEntity:
    """One annotated mention: a character span of the document text, its label and context."""

    start: int
    end: int
    label: str
    negated: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    uncertain: bool = False
    attributes: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_json(self) -> dict:
        out: dict = {"start": self.start, "end": self.end, "label": self.label}
        out.update({flag: getattr(self, flag) for flag in FLAGS})
        out["attributes"] = {k: [s, e] for k, (s, e) in sorted(self.attributes.items())}
        return out

    @classmethod
    def from_json(cls, data: dict) -> GoldEntity:
        attrs = {str(k): (int(v[0]), int(v[1])) for k, v in data.get("attributes", {}).items()}
        return cls(
            int(data["start"]),
            int(data["end"]),
            str(data["label"]),
            **{flag: bool(data.get(flag, False)) for flag in FLAGS},
            attributes=attrs,
        )


@dataclass(frozen=True)
class GoldDocument:
    """The annotations of one document."""

    doc_id: str
    text_sha256: str
    split: str
    annotator: str
    entities: tuple[GoldEntity, ...]
    guideline: str = GUIDELINE_VERSION

    def to_json(self) -> dict:
        return {
            "doc_id": self.doc_id,
            "text_sha256": self.text_sha256,
            "split": self.split,
            "annotator": self.annotator,
            "guideline": self.guideline,
            "entities": [e.to_json() for e in self.entities],
        }

    @classmethod
    def from_json(cls, data: dict) -> GoldDocument:
        return cls(
            str(data["doc_id"]),
            str(data["text_sha256"]),
            str(data["split"]),
            str(data["annotator"]),
            tuple(GoldEntity.from_json(e) for e in data["entities"]),
            str(data.get("guideline", GUIDELINE_VERSION)),
        )


@dataclass(frozen=True)
class ManifestEntry:
    """A chosen document: its split and the annotator batch it belongs to."""

    doc_id: str
    split: str
    batch: str


def label_schema(path: Path = LABELS_PATH) -> dict[str, tuple[str, ...]]:
    """Label name -> allowed attribute names, from ``annotations/labels.json``."""
    return {spec.name: spec.attributes for spec in load_label_schema(path).labels}


def load_manifest(gold_dir: Path = GOLD_DIR) -> list[ManifestEntry]:
    """The documents of the gold set, in manifest order."""
    data = json.loads((Path(gold_dir) / "MANIFEST.json").read_text("utf-8"))
    entries = [ManifestEntry(d["doc_id"], d["split"], d["batch"]) for d in data["documents"]]
    dupes = [k for k, n in Counter(e.doc_id for e in entries).items() if n > 1]
    if dupes:
        raise GoldError(f"MANIFEST.json lists {dupes} more than once")
    return entries


def gold_path(doc_id: str, gold_dir: Path = GOLD_DIR) -> Path:
    """Where the gold file of ``doc_id`` lives."""
    return Path(gold_dir) / f"{safe_id(doc_id)}.json"


def save_gold(doc: GoldDocument, gold_dir: Path = GOLD_DIR) -> Path:
    """Write ``doc`` (entities sorted by offset) and return the path."""
    path = gold_path(doc.doc_id, gold_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc.to_json(), indent=1) + "\n", "utf-8")
    return path


def load_gold(path: Path) -> GoldDocument:
    """Read one gold file (no validation; see :func:`validate`)."""
    try:
        return GoldDocument.from_json(json.loads(Path(path).read_text("utf-8")))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise GoldError(f"{Path(path).name}: not a gold file ({exc})") from exc


def load_gold_dir(gold_dir: Path = GOLD_DIR) -> list[GoldDocument]:
    """Every gold file in ``gold_dir``, sorted by document id."""
    docs = [
        load_gold(p) for p in sorted(Path(gold_dir).glob("*.json")) if p.name != "MANIFEST.json"
    ]
    return sorted(docs, key=lambda d: d.doc_id)


def gold_text(doc: GoldDocument, datasets_root: Path) -> str:
    """The document text, refusing one that changed since it was annotated."""
    text = document_text(datasets_root, doc.doc_id)
    actual = text_sha256(text)
    if actual != doc.text_sha256:
        raise GoldError(
            f"{doc.doc_id}: the dataset text changed since it was annotated (sha256 "
            f"{actual[:12]}..., gold expects {doc.text_sha256[:12]}...); re-annotate or restore "
            f"the dataset"
        )
    return text


def validate(doc: GoldDocument, text: str, schema: dict[str, tuple[str, ...]]) -> None:
    """Raise :class:`GoldError` unless every entity fits ``text`` and the label schema.

    Checks: the text hash, split, offsets in range and not empty or padded with spaces,
    labels and attribute names in the schema, attribute spans in range, no duplicate span,
    no two entities overlapping (the guideline allows none).
    """
    where = doc.doc_id
    if text_sha256(text) != doc.text_sha256:
        raise GoldError(f"{where}: text sha256 does not match the gold file")
    if doc.split not in SPLITS:
        raise GoldError(f"{where}: split {doc.split!r} is not one of {SPLITS}")
    previous: GoldEntity | None = None
    for ent in sorted(doc.entities, key=lambda e: (e.start, e.end)):
        span = f"{where} [{ent.start}:{ent.end}] {ent.label}"
        _check_span(text, ent.start, ent.end, span)
        if ent.label not in schema:
            raise GoldError(f"{span}: label not in the schema {sorted(schema)}")
        for name, (s, e) in ent.attributes.items():
            if name not in schema[ent.label]:
                raise GoldError(
                    f"{span}: attribute {name!r} not allowed for {ent.label} "
                    f"(allowed: {list(schema[ent.label])})"
                )
            _check_span(text, s, e, f"{span} attribute {name}")
        if previous is not None and ent.start < previous.end:
            raise GoldError(f"{span} overlaps [{previous.start}:{previous.end}] {previous.label}")
        previous = ent


def _check_span(text: str, start: int, end: int, where: str) -> None:
    if not 0 <= start < end <= len(text):
        raise GoldError(f"{where}: offsets out of range (text has {len(text)} characters)")
    piece = text[start:end]
    if piece != piece.strip():
        raise GoldError(f"{where}: span starts or ends with whitespace")


def label_counts(docs: list[GoldDocument]) -> dict[str, int]:
    """Entities per label over ``docs``, sorted by label."""
    counts = Counter(e.label for d in docs for e in d.entities)
    return dict(sorted(counts.items()))
