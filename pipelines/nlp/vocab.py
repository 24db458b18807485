"""The term table: lower-cased token sequence -> (label, code, code system, code label).

Built from three sources, in order of precedence (the first one to claim a term keeps it):

1. curated lists in ``annotations/vocab/*.tsv`` (lay words, abbreviations, tests, vitals ...),
   then the phrase patterns of ``phrases.tsv`` expanded to terms ("(trouble|difficulty)
   breathing" -> "trouble breathing", "difficulty breathing"),
2. ICD-10-CM descriptions reduced to conversational phrases (``icd_terms``),
3. the drug dictionary of ``drug-named-entity-recognition`` (``drug_terms``).

``stop_terms.tsv`` lists derived terms that collide with everyday words; it never removes a
curated term. Building takes several seconds, so ``cache.load_term_table`` keeps the result.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from spacy.tokenizer import Tokenizer

from pipelines.nlp.drug_terms import derive_drug_terms
from pipelines.nlp.icd_terms import ICD_SYSTEM, derive_icd_terms
from pipelines.paths import VOCAB_DIR

SOURCES: tuple[str, ...] = ("curated", "icd10cm", "drugs")

# Curated file -> label. Column 1 is always the term; see each file's header for the rest.
CURATED_FILES: dict[str, str] = {
    "problems.tsv": "PROBLEM",
    "medications.tsv": "MEDICATION",
    "tests.tsv": "TEST",
    "procedures.tsv": "PROCEDURE",
    "anatomy.tsv": "ANATOMY",
    "vitals.tsv": "VITAL",
}
STOP_FILE = "stop_terms.tsv"
PHRASES_FILE = "phrases.tsv"
MAX_EXPANSIONS = 2000  # per pattern: a typo in a pattern must not explode the table
_GROUP = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class TermEntry:
    """What a matched term means. ``unit`` is the default unit of a VITAL."""

    label: str
    code: str | None
    code_system: str | None
    code_label: str | None
    source: str
    unit: str | None = None

    def to_row(self) -> list[str | None]:
        return [self.label, self.code, self.code_system, self.code_label, self.source, self.unit]

    @classmethod
    def from_row(cls, row: list[str | None]) -> TermEntry:
        label, code, system, code_label, source, unit = row
        return cls(str(label), code, system, code_label, str(source), unit)


# Key: the term's lower-cased tokens joined by single spaces ("a - fib", "crohn 's disease").
TermTable = dict[str, TermEntry]


def read_tsv(path: Path, key: str = "term") -> list[dict[str, str]]:
    """Rows of a curated TSV file as dicts keyed by its header; rows without ``key`` (blank
    lines) are skipped."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            {k: (v or "").strip() for k, v in row.items()}
            for row in reader
            if (row.get(key) or "").strip()
        ]


def curated_input_files(vocab_dir: Path) -> list[Path]:
    """The curated files that feed the table (their bytes are part of the cache key)."""
    return [vocab_dir / name for name in (*CURATED_FILES, PHRASES_FILE, STOP_FILE)]


def expand_pattern(pattern: str) -> list[str]:
    """Every phrase a ``phrases.tsv`` pattern stands for, lower-cased and single-spaced.

    ``(a|b|)`` is a choice of words (an empty choice makes the group optional):
    "(change|changes) in (your|) vision" -> "change in your vision", "change in vision",
    "changes in your vision", "changes in vision".
    """
    parts = _GROUP.split(pattern.lower())  # literal, group, literal, group, ..., literal
    if any(c in part for part in parts[::2] for c in "()|"):
        raise ValueError(f"unbalanced or nested group in phrase pattern {pattern!r}")
    choices = [[part] if i % 2 == 0 else part.split("|") for i, part in enumerate(parts)]
    size = 1
    for options in choices:
        size *= len(options)
    if size > MAX_EXPANSIONS:
        raise ValueError(f"phrase pattern {pattern!r} expands to {size} terms")
    phrases = (" ".join("".join(combo).split()) for combo in itertools.product(*choices))
    return list(dict.fromkeys(p for p in phrases if p))


def _phrase_entries(
    vocab_dir: Path, icd_descriptions: dict[str, str]
) -> Iterator[tuple[str, TermEntry]]:
    for row in read_tsv(vocab_dir / PHRASES_FILE, key="pattern"):
        label, code = row["label"], row.get("icd10cm") or None
        if label not in CURATED_FILES.values():
            raise ValueError(f"{PHRASES_FILE}: unknown label {label!r} for {row['pattern']!r}")
        for term in expand_pattern(row["pattern"]):
            if label == "PROBLEM":
                entry = TermEntry(
                    label, code, ICD_SYSTEM, icd_descriptions.get(code or ""), "curated"
                )
            else:
                entry = TermEntry(label, None, None, row.get("name") or None, "curated")
            yield term, entry


def _curated_entries(
    vocab_dir: Path,
    icd_descriptions: dict[str, str],
    drugs: dict[str, tuple[str | None, str | None, str]],
) -> Iterable[tuple[str, TermEntry]]:
    for name, label in CURATED_FILES.items():
        for row in read_tsv(vocab_dir / name):
            term = row["term"].lower()
            if label == "PROBLEM":
                code = row["icd10cm"]
                yield (
                    term,
                    TermEntry(label, code, ICD_SYSTEM, icd_descriptions.get(code), "curated"),
                )
            elif label == "MEDICATION":
                code, system, _ = drugs.get(row.get("drug", "").lower(), (None, None, ""))
                yield term, TermEntry(label, code, system, row["name"], "curated")
            elif label == "VITAL":
                yield (
                    term,
                    TermEntry(label, None, None, row["name"], "curated", row.get("unit") or None),
                )
            else:
                yield term, TermEntry(label, None, None, row.get("name") or None, "curated")


def _icd_descriptions(codes: Iterable[str]) -> dict[str, str]:
    import simple_icd_10_cm as cm  # slow import, only on the (cached) build path

    return {code: cm.get_description(code) for code in codes if cm.is_valid_item(code)}


def build_term_table(
    tokenizer: Tokenizer,
    vocab_dir: Path = VOCAB_DIR,
    sources: tuple[str, ...] = SOURCES,
) -> TermTable:
    """Build the full term table from the enabled sources (slow: 5-10 s with everything)."""
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown vocabulary sources: {sorted(unknown)}")
    stop = {row["term"].lower() for row in read_tsv(vocab_dir / STOP_FILE)}
    drugs = derive_drug_terms() if "drugs" in sources else {}
    icd = derive_icd_terms() if "icd10cm" in sources else {}

    candidates: list[tuple[str, TermEntry]] = []
    if "curated" in sources:
        problem_codes = {r["icd10cm"] for r in read_tsv(vocab_dir / "problems.tsv")}
        problem_codes |= {
            r["icd10cm"]
            for r in read_tsv(vocab_dir / PHRASES_FILE, key="pattern")
            if r.get("icd10cm")
        }
        descriptions = _icd_descriptions(problem_codes)
        candidates.extend(_curated_entries(vocab_dir, descriptions, drugs))
        candidates.extend(_phrase_entries(vocab_dir, descriptions))
    candidates.extend(
        (term, TermEntry("PROBLEM", code, ICD_SYSTEM, desc, "icd10cm"))
        for term, (code, desc) in icd.items()
        if term not in stop
    )
    candidates.extend(
        (term, TermEntry("MEDICATION", code, system, name, "drugs"))
        for term, (code, system, name) in drugs.items()
        if term not in stop
    )

    table: TermTable = {}
    texts = [term for term, _ in candidates]
    for (_, entry), doc in zip(candidates, tokenizer.pipe(texts, batch_size=2000), strict=True):
        key = term_key(t.lower_ for t in doc if not t.is_space)
        if key and key not in table:  # first claim wins: curated, then ICD, then drugs
            table[key] = entry
    return table


def term_key(lowers: Iterable[str]) -> str:
    """The table key for a sequence of lower-cased tokens."""
    return " ".join(lowers)


def count_by_label(table: TermTable) -> dict[str, int]:
    """Number of terms per label (for reports and the benchmark)."""
    counts: dict[str, int] = {}
    for entry in table.values():
        counts[entry.label] = counts.get(entry.label, 0) + 1
    return dict(sorted(counts.items()))
