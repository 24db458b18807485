"""Evaluation of de-identification on ACI-Bench.

Name recall: ACI-Bench's ``*_metadata.csv`` lists each encounter's patient first and family
name and (for some) the doctor's name. Each name is split into words ("scott good" -> two
words; titles such as "dr." dropped). Every occurrence of such a word in the encounter's
dialogue (whole word, any case, also before "'s") is one instance; it is found when a NAME
span covers it. A metadata word that never occurs in the dialogue is not counted (the
dialogue may use a nickname, or the metadata a misspelling). Words that the metadata lists
by mistake (``annotations/deid/aci_name_exclusions.tsv``, reviewed by hand with the reason)
are left out. Recall is reported per split, per field (patient first name, patient family
name, doctor) and overall, plus the share of (encounter, name) pairs with every occurrence
found. Misses are reported as encounter ids and fields only: names never leave this module.

Span precision/recall: against hand-labelled PHI spans, on two samples: ``sample``
(``annotations/deid/gold.jsonl``, train/valid dialogues read while tuning the recognisers) and
``heldout`` (``annotations/deid/gold_heldout.jsonl``, test1/test2 dialogues chosen by a fixed
rule and never tuned on; see ``annotations/deid/README.md``).
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.deid.lexicon import DATA_DIR
from pipelines.deid.spans import PHI_LABELS, PhiSpan

SPLIT_FILES = {
    "train": "train",
    "valid": "valid",
    "test1": "clinicalnlp_taskB_test1",
    "test2": "clinicalnlp_taskC_test2",
}
FIELDS = {
    "patient_first": "patient_firstname",
    "patient_last": "patient_familyname",
    "doctor": "doctor_name",
}
_TITLE_WORDS = frozenset({"dr", "doctor", "mr", "mrs", "ms", "miss"})
GOLD_FILE = DATA_DIR / "gold.jsonl"
HELDOUT_FILE = DATA_DIR / "gold_heldout.jsonl"
EXCLUSIONS_FILE = DATA_DIR / "aci_name_exclusions.tsv"


class DeidDataError(ValueError):
    """The dataset or the gold file is missing or malformed."""


@dataclass(frozen=True)
class AciEncounter:
    """One ACI-Bench dialogue and the names its metadata lists (field -> name)."""

    split: str
    encounter_id: str
    dialogue: str
    names: dict[str, str]


@dataclass(frozen=True)
class GoldDoc:
    """Hand-labelled PHI spans of one ACI-Bench dialogue."""

    split: str
    encounter_id: str
    spans: tuple[PhiSpan, ...]


Finder = Callable[[str, Sequence[str]], list[PhiSpan]]


def read_aci(root: Path, split: str) -> list[AciEncounter]:
    """The dialogues of one split with their metadata names (``root`` is the aci-bench
    folder)."""
    if split not in SPLIT_FILES:
        raise DeidDataError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_FILES)}")
    base = root / "data" / "challenge_data" / SPLIT_FILES[split]
    data, meta = base.with_suffix(".csv"), Path(f"{base}_metadata.csv")
    for path in (data, meta):
        if not path.is_file():
            raise DeidDataError(f"{path} not found")
    with data.open(newline="", encoding="utf-8") as f:
        dialogues = {r["encounter_id"]: r["dialogue"] for r in csv.DictReader(f)}
    encounters = []
    with meta.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            eid = row["encounter_id"]
            names = {k: (row.get(col) or "").strip() for k, col in FIELDS.items()}
            encounters.append(AciEncounter(split, eid, dialogues.get(eid, ""), names))
    return encounters


def read_exclusions(path: Path = EXCLUSIONS_FILE) -> set[tuple[str, str, str]]:
    """(encounter id, field, word) triples that are not names (metadata mistakes)."""
    if not path.is_file():
        return set()
    with path.open(newline="", encoding="utf-8") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        return {(r["encounter_id"], r["field"], r["word"].lower()) for r in rows}


def name_words(name: str) -> list[str]:
    """The lower-case words of a metadata name, without titles."""
    return [w for w in re.findall(r"[a-z]+", name.lower()) if w not in _TITLE_WORDS]


def occurrences(text: str, word: str) -> list[tuple[int, int]]:
    """Where ``word`` occurs as a whole word (any case; "karen's" counts)."""
    pattern = re.compile(rf"(?<![a-z]){re.escape(word)}(?![a-z])", re.IGNORECASE)
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def name_recall(
    encounters: Iterable[AciEncounter],
    find: Finder,
    *,
    known: bool = False,
    exclusions: set[tuple[str, str, str]] | None = None,
) -> dict:
    """Recall of the metadata names in the dialogues (see the module docstring).

    ``known=True`` passes the metadata names to ``find`` as the encounter's known names
    (what the system does in production); the headline figure uses ``known=False``.
    """
    exclusions = read_exclusions() if exclusions is None else exclusions
    found: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    pairs: Counter[tuple[str, bool]] = Counter()
    misses: list[dict] = []
    for enc in encounters:
        known_names = [n for n in enc.names.values() if n] if known else []
        spans = [s for s in find(enc.dialogue, known_names) if s.label == "NAME"]
        for field, name in enc.names.items():
            words = [w for w in name_words(name) if (enc.encounter_id, field, w) not in exclusions]
            hits = [(w, occ) for w in words for occ in occurrences(enc.dialogue, w)]
            if not hits:
                continue
            ok = [any(s.start <= a and b <= s.end for s in spans) for _, (a, b) in hits]
            total[(enc.split, field)] += len(ok)
            found[(enc.split, field)] += sum(ok)
            pairs[(enc.split, all(ok))] += 1
            if not all(ok):
                misses.append(
                    {
                        "split": enc.split,
                        "encounter_id": enc.encounter_id,
                        "field": field,
                        "missed": len(ok) - sum(ok),
                        "occurrences": len(ok),
                    }
                )
    return _recall_report(found, total, pairs, misses)


def _recall_report(found: Counter, total: Counter, pairs: Counter, misses: list) -> dict:
    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    splits = sorted({s for s, _ in total}, key=list(SPLIT_FILES).index)
    report: dict = {"overall": {}, "splits": {}}
    for scope in [None, *splits]:
        keys = [k for k in total if scope is None or k[0] == scope]
        n_total = sum(total[k] for k in keys)
        n_found = sum(found[k] for k in keys)
        by_field = {}
        for field in FIELDS:
            t = sum(total[k] for k in keys if k[1] == field)
            f = sum(found[k] for k in keys if k[1] == field)
            by_field[field] = {"recall": ratio(f, t), "occurrences": t, "found": f}
        full = sum(v for (s, ok), v in pairs.items() if ok and scope in (None, s))
        all_pairs = sum(v for (s, _), v in pairs.items() if scope in (None, s))
        entry = {
            "recall": ratio(n_found, n_total),
            "occurrences": n_total,
            "found": n_found,
            "names": all_pairs,
            "names_fully_found": ratio(full, all_pairs),
            "fields": by_field,
        }
        if scope is None:
            report["overall"] = entry
        else:
            report["splits"][scope] = entry
    report["misses"] = misses
    return report


def read_gold(path: Path = GOLD_FILE) -> list[GoldDoc]:
    """The hand-labelled documents; offsets are into the ACI-Bench dialogue."""
    if not path.is_file():
        raise DeidDataError(f"{path} not found")
    docs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            spans = tuple(
                PhiSpan(int(s["start"]), int(s["end"]), str(s["label"]), str(s.get("text", "")))
                for s in row["spans"]
            )
            docs.append(GoldDoc(str(row["split"]), str(row["encounter_id"]), spans))
        except (KeyError, TypeError, ValueError) as exc:
            raise DeidDataError(f"{path.name} line {n}: {exc}") from None
        for s in spans:
            if s.label not in PHI_LABELS:
                raise DeidDataError(f"{path.name} line {n}: unknown label {s.label!r}")
    return docs


def span_scores(gold: Sequence[GoldDoc], dialogues: dict[str, str], find: Finder) -> dict:
    """Span precision and recall per label against the gold (overlap with the same label
    counts as a match; ``exact`` also needs the same offsets). Checks that every gold span's
    text matches the dialogue."""
    tp_p: Counter[str] = Counter()
    tp_r: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    for doc in gold:
        text = dialogues.get(doc.encounter_id)
        if text is None:
            raise DeidDataError(f"gold encounter {doc.encounter_id} not in the dataset")
        for s in doc.spans:
            if s.text and text[s.start : s.end] != s.text:
                raise DeidDataError(
                    f"gold span {s.start}-{s.end} of {doc.encounter_id} does not match the dialogue"
                )
        pred = find(text, ())
        by_label = defaultdict(list)
        for s in doc.spans:
            by_label[s.label].append(s)
        for p in pred:
            n_pred[p.label] += 1
            tp_p[p.label] += any(_overlap(p, g) for g in by_label[p.label])
            exact[p.label] += any((p.start, p.end) == (g.start, g.end) for g in by_label[p.label])
        for g in doc.spans:
            n_gold[g.label] += 1
            tp_r[g.label] += any(_overlap(p, g) for p in pred if p.label == g.label)
    return _span_report(tp_p, tp_r, exact, n_pred, n_gold, len(gold))


def _overlap(a: PhiSpan, b: PhiSpan) -> bool:
    return a.start < b.end and b.start < a.end


def _span_report(tp_p, tp_r, exact, n_pred, n_gold, documents: int) -> dict:
    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    labels = {}
    for label in PHI_LABELS:
        labels[label] = {
            "precision": ratio(tp_p[label], n_pred[label]),
            "recall": ratio(tp_r[label], n_gold[label]),
            "exact_precision": ratio(exact[label], n_pred[label]),
            "predicted": n_pred[label],
            "gold": n_gold[label],
        }
    return {
        "documents": documents,
        "precision": ratio(sum(tp_p.values()), sum(n_pred.values())),
        "recall": ratio(sum(tp_r.values()), sum(n_gold.values())),
        "labels": labels,
    }


def sample_scores(root: Path, gold_path: Path, find: Finder) -> dict:
    """Span precision/recall per label on one hand-labelled file (its name, splits and
    scores)."""
    gold = read_gold(gold_path)
    gold_splits = sorted({d.split for d in gold}, key=list(SPLIT_FILES).index)
    dialogues = {e.encounter_id: e.dialogue for s in gold_splits for e in read_aci(root, s)}
    return {"file": gold_path.name, "splits": gold_splits, **span_scores(gold, dialogues, find)}


def evaluate_aci(
    root: Path,
    splits: Sequence[str],
    find: Finder,
    gold_path: Path = GOLD_FILE,
    progress: Callable[[str], None] | None = None,
    heldout_path: Path = HELDOUT_FILE,
) -> dict:
    """The ``scribe eval deid`` report: name recall without and with the known names, span
    precision/recall on the tuning sample (``sample``) and on the held-out sample
    (``heldout``), and speed (words per second)."""
    encounters = [e for split in splits for e in read_aci(root, split)]
    if progress:
        progress("name recall")
    started = time.perf_counter()
    headline = name_recall(encounters, find)
    seconds = time.perf_counter() - started
    if progress:
        progress("name recall with known names")
    with_known = name_recall(encounters, find, known=True)
    if progress:
        progress("span precision on the labelled samples")
    sample = sample_scores(root, gold_path, find)
    heldout = sample_scores(root, heldout_path, find)
    words = sum(len(e.dialogue.split()) for e in encounters)
    return {
        "dataset": "aci-bench",
        "splits": list(splits),
        "encounters": len(encounters),
        "name_recall": headline,
        "name_recall_known_names": {k: v for k, v in with_known.items()},
        "sample": sample,
        "heldout": heldout,
        "speed": {
            "words": words,
            "seconds": round(seconds, 3),
            "words_per_second": round(words / seconds) if seconds else None,
        },
    }
