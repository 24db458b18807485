"""The linker's knowledge bases: ICD-10-CM problems and normalised drugs, with their aliases.

Each concept gets every name a clinician or a patient might say for it:

- ICD-10-CM (``icd10cm``): billable codes outside the external-cause chapters (V-Y), with
  injuries kept at their "initial encounter" code (subsequent-encounter and sequela codes are
  coder detail a conversation never settles). Aliases, first claim wins: the curated problem
  terms (``problems.tsv``), the linker-only synonyms (``synonyms.tsv``: lay words, UK
  spellings, abbreviations, conversational phrasings), the conversational heads derived from
  the classification (``icd_terms``), then the official descriptions and inclusion terms.
- Drugs (``drugs``): one concept per normalised drug name of `drug-named-entity-recognition`
  (generic name, DrugBank/MeSH/MedlinePlus id as code), aliased by every brand name and variant
  the term table keeps (``drug_terms``) and the curated medication terms that name a drug.

Aliases are lower-cased and single-spaced; the TF-IDF index (``linking_index``) is built over
them. Building imports ICD-10-CM and the drug dictionary (about 5 s): callers cache the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipelines.nlp.drug_terms import derive_drug_terms
from pipelines.nlp.icd_terms import ICD_SYSTEM, derive_icd_terms
from pipelines.nlp.vocab import VOCAB_DIR, read_tsv

SYNONYMS_FILE = "synonyms.tsv"
KB_NAMES: tuple[str, ...] = ("icd10cm", "drugs")
KB_LABELS: dict[str, str] = {"icd10cm": "PROBLEM", "drugs": "MEDICATION"}

# 7th characters of injury codes other than "A" (initial encounter): subsequent encounters
# (D, G, H, J, K, M, N, P, Q, R) and sequelae (S).
_LATER_ENCOUNTER = frozenset("DGHJKMNPQRS")
_PAREN = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")


@dataclass(frozen=True)
class Concept:
    """One linkable concept: what the linker writes on an entity, and the names it answers to.

    ``concept_id`` is the ICD-10-CM code, or the normalised (lower-case) drug name.
    """

    concept_id: str
    name: str
    code: str | None
    code_system: str | None
    label: str
    aliases: tuple[str, ...]

    def to_row(self) -> list:
        return [self.concept_id, self.name, self.code, self.code_system, self.label,
                list(self.aliases)]

    @classmethod
    def from_row(cls, row: list) -> Concept:
        concept_id, name, code, system, label, aliases = row
        return cls(concept_id, name, code, system, label, tuple(aliases))


def normalise_alias(text: str) -> str:
    """Lower-cased, single-spaced: the form aliases are indexed and looked up in."""
    return " ".join(text.lower().split())


def synonym_input_files(vocab_dir: Path = VOCAB_DIR) -> list[Path]:
    """Curated files that only the linker reads (part of the index cache key)."""
    return [vocab_dir / SYNONYMS_FILE]


def keep_icd_code(code: str) -> bool:
    """True for codes the linker may suggest (see the module docstring)."""
    if code.startswith(("V", "W", "X", "Y")):
        return False
    letters = code.replace(".", "")
    return not (len(letters) == 7 and letters[-1] in _LATER_ENCOUNTER)


class _AliasTable:
    """alias -> concept id, first claim wins; plus each concept's aliases in claim order."""

    def __init__(self) -> None:
        self.owner: dict[str, str] = {}
        self.by_concept: dict[str, list[str]] = {}

    def claim(self, alias: str, concept_id: str) -> None:
        alias = normalise_alias(alias)
        if len(alias) < 2 or alias in self.owner:
            return
        self.owner[alias] = concept_id
        self.by_concept.setdefault(concept_id, []).append(alias)


def icd_concepts(vocab_dir: Path = VOCAB_DIR) -> list[Concept]:
    """ICD-10-CM concepts with aliases (slow: walks the whole classification)."""
    import simple_icd_10_cm as cm  # ~2 s to load; only on the cached build path

    codes = [c for c in cm.get_all_codes(with_dots=True)
             if cm.is_leaf(c) and keep_icd_code(c)]
    curated = [(r["term"], r["icd10cm"]) for r in read_tsv(vocab_dir / "problems.tsv")]
    curated += [(r["term"], r["icd10cm"]) for r in read_tsv(vocab_dir / SYNONYMS_FILE)]
    valid = set(codes) | {code for _, code in curated if cm.is_valid_item(code)}
    table = _AliasTable()
    for term, code in curated:
        if code in valid:
            table.claim(term, code)
    for term, (code, _) in derive_icd_terms().items():
        if code in valid:
            table.claim(term, code)
    for code in sorted(valid):
        description = cm.get_description(code)
        for text in (description, _PAREN.sub("", description), *cm.get_inclusion_term(code)):
            table.claim(text, code)
    return [
        Concept(code, cm.get_description(code), code, ICD_SYSTEM, "PROBLEM",
                tuple(table.by_concept[code]))
        for code in sorted(valid) if code in table.by_concept
    ]


def drug_concepts(vocab_dir: Path = VOCAB_DIR) -> list[Concept]:
    """Drug concepts keyed by normalised name (slow: loads the drug dictionary)."""
    drugs = derive_drug_terms()
    info: dict[str, tuple[str | None, str | None, str]] = {}
    table = _AliasTable()
    for row in read_tsv(vocab_dir / "medications.tsv"):
        found = drugs.get(row.get("drug", "").lower())
        if found:
            concept_id = normalise_alias(found[2])
            info.setdefault(concept_id, found)
            table.claim(row["term"], concept_id)
    for term, found in sorted(drugs.items()):
        concept_id = normalise_alias(found[2])
        info.setdefault(concept_id, found)
        table.claim(concept_id, concept_id)  # the generic name itself, before its brands
        table.claim(term, concept_id)
    return [
        Concept(concept_id, name, code, system, "MEDICATION",
                tuple(table.by_concept[concept_id]))
        for concept_id, (code, system, name) in sorted(info.items())
    ]


def build_concepts(kb_name: str, vocab_dir: Path = VOCAB_DIR) -> list[Concept]:
    """The concepts of one knowledge base (``icd10cm`` or ``drugs``)."""
    if kb_name == "icd10cm":
        return icd_concepts(vocab_dir)
    if kb_name == "drugs":
        return drug_concepts(vocab_dir)
    raise ValueError(f"unknown knowledge base {kb_name!r}; expected one of {KB_NAMES}")


def alias_count(concepts: Iterable[Concept]) -> int:
    """Number of aliases (index rows) over ``concepts``."""
    return sum(len(c.aliases) for c in concepts)
