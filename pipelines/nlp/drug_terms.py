"""MEDICATION terms from the `drug-named-entity-recognition` dictionary.

The package ships its dictionary as a bz2 pickle and loads it when ``drugs_finder`` is
imported; we read the loaded tables through that module rather than unpickling the file
ourselves. Importing it takes about 2 s, so callers cache what we return.
"""

from __future__ import annotations

import re
from typing import Any

MAX_TOKENS = 3
_ALLOWED = re.compile(r"^[a-z][a-z0-9\- ']*[a-z0-9]$")


def drug_code(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """The best stable identifier for a dictionary entry: DrugBank, else MeSH, else MedlinePlus."""
    for key, system in (
        ("drugbank_id", "DrugBank"),
        ("mesh_id", "MeSH"),
        ("medline_plus_id", "MedlinePlus"),
    ):
        if data.get(key):
            return str(data[key]), system
    return None, None


def derive_drug_terms() -> dict[str, tuple[str | None, str | None, str]]:
    """Map drug names and brand names to (code, code system, canonical display name).

    Keeps variants of at most three words made of letters, digits, hyphens and apostrophes
    ("metformin", "glucophage", "vitamin b12"); chemical names with commas or brackets are
    dropped because nobody says them in a consultation.
    """
    from drug_named_entity_recognition import drugs_finder  # loads the bz2 pickle (~2 s)

    variants: dict[str, list[str]] = drugs_finder.drug_variant_to_canonical
    canon: dict[str, dict[str, Any]] = drugs_finder.drug_canonical_to_data
    terms: dict[str, tuple[str | None, str | None, str]] = {}
    for variant, canonicals in variants.items():
        term = variant.strip().lower()
        if len(term) < 4 or len(term.split()) > MAX_TOKENS or not _ALLOWED.match(term):
            continue
        if term.isdigit() or not canonicals:
            continue
        canonical = canonicals[0]
        data = canon.get(canonical, {})
        code, system = drug_code(data)
        terms[term] = (code, system, str(data.get("name") or canonical.title()))
    return terms
