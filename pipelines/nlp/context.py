"""medspacy ConText (negation, history, family, hypothetical, uncertainty) for conversations.

medspacy's default rules were written for clinical notes. ``annotations/vocab/context.tsv``
adapts them to speech: rows with category ``REMOVE`` drop a default rule by its literal, other
rows add rules (optional ``pattern`` is a spaCy token pattern as JSON, optional
``max_scope`` limits the rule to that many tokens). Three categories of ours modify nothing
and only end other cues' scope: ``SELF`` ("my cough") ends a FAMILY cue ("My husband noticed
my cough"), ``NEW_CLAUSE`` ("and I have") ends negation and family ("No fever and I have a
sore throat") but not history ("When I was a kid I had asthma"), and ``REPORTED`` ("told I
have") outranks ``NEW_CLAUSE`` where "I have" continues the sentence. Answers in the next
turn are handled by :mod:`pipelines.nlp.dialogue`, whose component ``add_context`` puts in
front of ConText.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from spacy.language import Language

from pipelines.nlp.vocab import VOCAB_DIR

CONTEXT_FILE = "context.tsv"
CONTEXT_NAME = "medspacy_context"
CONTEXT_VERSION = "medspacy_context.conversation.v3"
# Category -> categories whose modifiers end its scope (see ConText ``terminating_types``).
# Category -> entity labels its rules never modify: a body site or a vital sign is not
# "absent" ("no tenderness of the abdomen" negates the tenderness, not the abdomen).
EXCLUDED_TYPES: dict[str, set[str]] = {"NEGATED_EXISTENCE": {"ANATOMY", "VITAL"}}
TERMINATING_TYPES: dict[str, list[str]] = {
    "FAMILY": ["SELF", "NEW_CLAUSE"],
    "NEGATED_EXISTENCE": ["NEW_CLAUSE"],
}

# Entity flag on pipelines.types.Entity <- medspacy Span extension.
CONTEXT_FLAGS: dict[str, str] = {
    "negated": "is_negated",
    "historical": "is_historical",
    "family": "is_family",
    "hypothetical": "is_hypothetical",
    "uncertain": "is_uncertain",
}


def silence_medspacy_logging() -> None:
    """medspacy (via PyRuSH) logs at DEBUG through loguru; mute only those modules."""
    from loguru import logger

    for module in ("medspacy", "PyRuSH"):
        logger.disable(module)


def load_context_rules(vocab_dir: Path = VOCAB_DIR) -> list[Any]:
    """medspacy's default English rules, minus the removed ones, plus ours."""
    import medspacy.context.context as context_module
    from medspacy.context import ConTextRule

    rows = read_tsv_literal(vocab_dir / CONTEXT_FILE)
    removed = {r["literal"].lower() for r in rows if r["category"] == "REMOVE"}
    # The same file medspacy loads for rules="default" (resources/ sits beside the package).
    site = Path(context_module.__file__).resolve().parents[2]
    defaults = ConTextRule.from_json(str(site / "resources" / "en" / "context_rules.json"))
    rules = [rule for rule in defaults if rule.literal.lower() not in removed]
    for row in rows:
        if row["category"] == "REMOVE":
            continue
        pattern = json.loads(row["pattern"]) if row.get("pattern") else None
        max_scope = int(row["max_scope"]) if row.get("max_scope") else None
        rules.append(
            ConTextRule(
                row["literal"],
                row["category"],
                pattern=pattern,
                direction=row["direction"] or "BIDIRECTIONAL",
                max_scope=max_scope,
            )
        )
    # Set here, not through ConText's ``terminating_types`` config: spaCy's config validation
    # turns those lists into one-shot iterators, so only the first rule of a category got them.
    for rule in rules:
        rule.terminated_by.update(TERMINATING_TYPES.get(rule.category.upper(), ()))
        excluded = EXCLUDED_TYPES.get(rule.category.upper())
        if excluded and rule.allowed_types is None:
            rule.excluded_types = set(excluded) | set(rule.excluded_types or ())
    return rules


def read_tsv_literal(path: Path) -> list[dict[str, str]]:
    """context.tsv rows (its first column is ``literal``, not ``term``)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            {k: (v or "").strip() for k, v in row.items()}
            for row in reader
            if (row.get("literal") or "").strip()
        ]


def add_context(nlp: Language, vocab_dir: Path = VOCAB_DIR) -> None:
    """Append the turn marker and medspacy ConText, configured with our rules, to ``nlp``.

    The question/answer step runs after the whole transcript has been through ``nlp``
    (``extract_entities`` calls ``DialogueContext.apply``).
    """
    silence_medspacy_logging()
    import medspacy  # noqa: F401  (registers the factory and the Span extensions)

    # Both imports register spaCy factories.
    from pipelines.nlp.conversation_context import CONVERSATION_CONTEXT_FACTORY
    from pipelines.nlp.dialogue import DIALOGUE_NAME, DIALOGUE_VERSION

    nlp.add_pipe(DIALOGUE_NAME, config={"vocab_dir": str(vocab_dir)})
    context = nlp.add_pipe(CONVERSATION_CONTEXT_FACTORY, name=CONTEXT_NAME)
    context.add(load_context_rules(vocab_dir))
    nlp.meta["scribe_context"] = {"version": CONTEXT_VERSION, "dialogue": DIALOGUE_VERSION}
