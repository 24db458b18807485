"""Authoring the NER gold set: ``python -m pipelines.nlp_eval.author COMMAND``.

- ``show DOC_ID``: print the document with line numbers (to write a draft against).
- ``new DOC_ID --annotator A``: start a draft in ``annotations/gold/drafts/`` (git-ignored: drafts
  quote dataset text and must never be committed).
- ``convert DRAFT...``: turn drafts into offset-only gold files (split from the manifest).
- ``review DOC_ID``: print a gold file back as a draft, to proofread it against the text.
- ``check``: validate every gold file and print the entity counts per label.

The datasets root is ``--datasets``, else ``$SCRIBE_DATASETS``, else ``../shared/datasets``
relative to the repository (the same setting as ``scribe eval``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

from pipelines.nlp_eval.documents import DocumentError, document_text, safe_id, text_sha256
from pipelines.nlp_eval.draft import DraftError, parse_draft, resolve, to_draft
from pipelines.nlp_eval.gold import (
    GOLD_DIR,
    REPO_ROOT,
    GoldDocument,
    GoldError,
    gold_path,
    gold_text,
    label_counts,
    label_schema,
    load_gold,
    load_gold_dir,
    load_manifest,
    save_gold,
    validate,
)

DRAFT_DIR = REPO_ROOT / "annotations" / "gold" / "drafts"


def default_datasets_root() -> Path:
    """``$SCRIBE_DATASETS`` (relative to the repository), else ``../shared/datasets``."""
    value = os.environ.get("SCRIBE_DATASETS", "../shared/datasets")
    return (REPO_ROOT / Path(value).expanduser()).resolve()


def convert(draft_path: Path, datasets_root: Path, gold_dir: Path = GOLD_DIR) -> GoldDocument:
    """Convert one draft to a validated gold file in ``gold_dir``; returns the document."""
    draft = parse_draft(Path(draft_path).read_text("utf-8"))
    manifest = {e.doc_id: e for e in load_manifest(gold_dir)}
    if draft.doc_id not in manifest:
        raise GoldError(f"{draft.doc_id} is not in {gold_dir / 'MANIFEST.json'}")
    text = document_text(datasets_root, draft.doc_id)
    entities = resolve(draft, text)
    doc = GoldDocument(
        draft.doc_id, text_sha256(text), manifest[draft.doc_id].split, draft.annotator, entities
    )
    validate(doc, text, label_schema())
    save_gold(doc, gold_dir)
    return doc


def check(datasets_root: Path, gold_dir: Path = GOLD_DIR) -> dict:
    """Validate every gold file against its text, the schema and the manifest.

    Returns counts (documents, entities, per label, per split, per batch, documents of the
    manifest not annotated yet); raises :class:`GoldError` on the first invalid file.
    """
    schema = label_schema()
    manifest = {e.doc_id: e for e in load_manifest(gold_dir)}
    docs = load_gold_dir(gold_dir)
    for doc in docs:
        entry = manifest.get(doc.doc_id)
        if entry is None:
            raise GoldError(f"{doc.doc_id} has a gold file but is not in MANIFEST.json")
        if doc.split != entry.split:
            raise GoldError(f"{doc.doc_id}: split {doc.split} but the manifest says {entry.split}")
        if gold_path(doc.doc_id, gold_dir).name != f"{safe_id(doc.doc_id)}.json":
            raise GoldError(f"{doc.doc_id}: file name does not match the id")
        validate(doc, gold_text(doc, datasets_root), schema)
    done = {d.doc_id for d in docs}
    return {
        "documents": len(docs),
        "entities": sum(len(d.entities) for d in docs),
        "per_label": label_counts(docs),
        "per_split": dict(sorted(Counter(d.split for d in docs for _ in d.entities).items())),
        "per_batch": dict(
            sorted(Counter(manifest[d.doc_id].batch for d in docs for _ in d.entities).items())
        ),
        "not_annotated": [e for e in manifest if e not in done],
    }


def show(doc_id: str, datasets_root: Path) -> str:
    """The document text with 1-based line numbers (blank lines omitted)."""
    lines = document_text(datasets_root, doc_id).split("\n")
    return "\n".join(f"{n:4d} {line}" for n, line in enumerate(lines, 1) if line.strip())


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.nlp_eval.author")
    parser.add_argument("--datasets", type=Path, default=None, help="datasets root")
    parser.add_argument("--gold-dir", type=Path, default=GOLD_DIR)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("show").add_argument("doc_id")
    new = sub.add_parser("new")
    new.add_argument("doc_id")
    new.add_argument("--annotator", required=True)
    sub.add_parser("convert").add_argument("drafts", nargs="+", type=Path)
    sub.add_parser("review").add_argument("doc_id")
    sub.add_parser("check")
    args = parser.parse_args(argv)
    root = args.datasets or default_datasets_root()
    try:
        if args.command == "show":
            print(show(args.doc_id, root))
        elif args.command == "new":
            path = DRAFT_DIR / f"{safe_id(args.doc_id)}.txt"
            if path.exists():
                raise GoldError(f"{path} exists; edit it")
            document_text(root, args.doc_id)  # fail now on a bad id
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"doc: {args.doc_id}\nannotator: {args.annotator}\n", "utf-8")
            print(path)
        elif args.command == "convert":
            for draft_path in args.drafts:
                doc = convert(draft_path, root, args.gold_dir)
                print(
                    f"{doc.doc_id}: {len(doc.entities)} entities -> "
                    f"{gold_path(doc.doc_id, args.gold_dir)}"
                )
        elif args.command == "review":
            doc = load_gold(gold_path(args.doc_id, args.gold_dir))
            print(to_draft(doc.doc_id, doc.annotator, gold_text(doc, root), doc.entities), end="")
        else:
            print(json.dumps(check(root, args.gold_dir), indent=1))
    except (DraftError, GoldError, DocumentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
