"""Medical vocabulary biasing for Whisper: hotwords and an initial prompt.

Whisper can be nudged towards words it would otherwise mis-hear ("met for min" ->
"metformin") by putting them in its decoder prompt. Two faster-whisper hooks take text:

- ``hotwords``: prepended to the prompt of *every* 30-s window;
- ``initial_prompt``: conditions the first window, and later ones only through the text
  decoded since (``condition_on_previous_text``), so it carries the clinician's own terms
  and a short context sentence.

The prompt budget is half of Whisper's 448-token context (223 tokens) and every prompt
token costs decoding time, so the terms are *selected*: the clinician's custom terms first
(in the order given), then curated terminology (``annotations/vocab``: medications, problems,
tests), one surface form per concept, round-robin over the three lists, rarest words first.
"Rare" means the Whisper tokenizer splits the word into many pieces: those are the words the
model is least likely to produce unprompted, while everyday words ("cough") gain nothing.
Terms never come from evaluation references.

Status (measured with ``scribe eval asr``, tiny.en, greedy): on CAR0001 the default biasing
lowers WER 11.0% -> 8.8% and medical WER 3.6% -> 0% (term recall 96.4% -> 100%), but on 3
synthetic ACI-Bench dialogues it raises WER 22.0% -> 47.7% (term recall 62% -> 44%): tiny.en
follows a term-list prompt by dropping or garbling speech, and the gain on CAR0001 depends on
the exact prefix. Biasing is therefore opt-in (``--bias``), not applied by default.

Why ACI-Bench loses words (measured on D2N088, first 100 s): with the hotword list in the
prompt, tiny.en decodes a few words of a 30-s window and then jumps its timestamps or ends,
so 20-40 s stretches vanish (19 segments instead of 113 per dialogue). It is the decoder
itself, not our thresholds: temperature (0.0,) only, log_prob_threshold -10, and
hallucination_silence_threshold None or word timestamps off give the same gap;
no_speech_threshold 1.0 only recovers part (ACI WER 51% -> 42%). Hotwords without the
initial prompt (CAR0001 8.1%, ACI 48%), a 40-token budget (10.3% / 40%) were no better on
ACI. For misheard terms without this risk see ``pipelines.term_repair`` (after recognition).
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.asr import AsrOptions, resolve_model_path
from pipelines.paths import VOCAB_DIR

BIASING_VERSION = "biasing.v1"

# file -> column whose value names the concept (one surface form per concept is kept).
TERM_FILES: dict[str, str] = {
    "medications.tsv": "name",
    "problems.tsv": "icd10cm",
    "tests.tsv": "name",
}
WHISPER_PROMPT_TOKENS = 223  # faster-whisper cuts prompts at max_length // 2 - 1

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class BiasOptions:
    """How much vocabulary goes into the decoder prompt.

    hotword_tokens: token budget of the per-window hotwords (<= 223). Measured on CAR0001:
        a budget of ~120 tokens costs little speed; see benchmarks/asr.py.
    prompt_tokens: token budget of the first-window initial prompt.
    prompt_prefix: context sentence that opens the initial prompt.
    hotword_prefix: text put before the hotword terms. A bare list of terms as "previous
        text" makes tiny.en skip speech; a short spoken-style opener keeps it transcribing.
        Measured on CAR0001 (WER): no prefix 19.0%, "Okay." 14.9%, "OK." 8.8%; "OK." is
        also the spelling of the fareez references, so part of its gain is style.
    min_rarity: minimum Whisper tokens per word for a curated term (1.0 keeps everything);
        custom terms are always kept.
    include_curated: False uses only the clinician's custom terms.
    vocab_dir: folder of the curated TSV files.
    """

    hotword_tokens: int = 120
    prompt_tokens: int = 120
    prompt_prefix: str = "A doctor and a patient talk about symptoms, medications and tests."
    hotword_prefix: str = "OK."
    min_rarity: float = 1.5
    include_curated: bool = True
    vocab_dir: Path = VOCAB_DIR


def bias_options(
    options: AsrOptions,
    custom_terms: Sequence[str] = (),
    settings: BiasOptions = BiasOptions(),
    count_tokens: TokenCounter | None = None,
) -> AsrOptions:
    """``options`` with hotwords and an initial prompt built from the vocabularies.

    ``custom_terms`` is the clinician's own list (stored by the workbench); it always comes
    first. ``count_tokens`` defaults to the model's own tokenizer. Conditioning on the
    previous window's text is turned off: together with hotwords it shares the prompt, and
    measured on CAR0001 the pair made tiny.en drop whole windows (WER 8.8% -> 28.4%).
    """
    counter = count_tokens or model_token_counter(options.model)
    terms = candidate_terms(custom_terms, settings, counter)
    if not terms:  # nothing to bias towards: a bare prefix would only change the style
        return options
    hotwords = _join_within(settings.hotword_prefix, terms, settings.hotword_tokens, counter)
    prompt = _join_within(settings.prompt_prefix, terms, settings.prompt_tokens, counter)
    return replace(options, hotwords=hotwords or None, initial_prompt=prompt or None,
                   condition_on_previous_text=False)


def candidate_terms(
    custom_terms: Sequence[str], settings: BiasOptions, count_tokens: TokenCounter
) -> list[str]:
    """All terms in prompt order: custom terms, then curated ones by rarity, de-duplicated."""
    seen: set[str] = set()
    out: list[str] = []
    for term in custom_terms:
        _add(out, seen, term)
    if settings.include_curated:
        lists = [
            _ranked(_concepts(settings.vocab_dir / name, column), settings, count_tokens)
            for name, column in TERM_FILES.items()
        ]
        for i in range(max((len(ranked) for ranked in lists), default=0)):
            for ranked in lists:  # round-robin so no single list fills the budget
                if i < len(ranked):
                    _add(out, seen, ranked[i])
    return out


def select_terms(terms: Sequence[str], budget: int, count_tokens: TokenCounter) -> list[str]:
    """The longest prefix of ``terms`` whose ", "-joined text fits in ``budget`` tokens."""
    chosen: list[str] = []
    for term in terms:
        if count_tokens(", ".join([*chosen, term])) > budget:
            break
        chosen.append(term)
    return chosen


@functools.lru_cache(maxsize=4)
def model_token_counter(model: str) -> TokenCounter:
    """Count tokens with the model's own tokenizer.json (falls back to ~4 chars/token)."""
    try:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(resolve_model_path(model) / "tokenizer.json"))
    except (FileNotFoundError, ImportError, OSError, ValueError):
        return lambda text: -(-len(text) // 4)
    # Whisper encodes prompts with a leading space (faster-whisper adds it too).
    return lambda text: len(tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids)


def _join_within(prefix: str, terms: list[str], budget: int, counter: TokenCounter) -> str:
    budget = min(budget, WHISPER_PROMPT_TOKENS)
    head = prefix.strip()
    room = budget - (counter(head) + 1 if head else 0)
    chosen = select_terms(terms, room, counter) if room > 0 else []
    body = ", ".join(chosen) + ("." if chosen else "")
    return " ".join(part for part in (head, body) if part)


def _add(out: list[str], seen: set[str], term: str) -> None:
    clean = " ".join(str(term).split())
    key = clean.lower()
    if clean and key not in seen:
        seen.add(key)
        out.append(clean)


def _concepts(path: Path, concept_column: str) -> list[list[str]]:
    """Surface forms grouped by concept, in file order (a row without a concept is its own)."""
    if not path.is_file():
        return []
    groups: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            term = (row.get("term") or "").strip()
            if not term:
                continue
            concept = (row.get(concept_column) or "").strip().lower() or term.lower()
            forms = groups.setdefault(concept, [])
            forms.append(term)
            # A canonical name column (e.g. "Hydrochlorothiazide") is a form too.
            for extra in ("drug", "name"):
                value = (row.get(extra) or "").strip()
                if value[:1].isupper() and value[1:].islower():
                    value = value.lower()  # "Analgesic" mid-list would look like a sentence
                if value and value.lower() not in (f.lower() for f in forms):
                    forms.append(value)
    return list(groups.values())


_ABBREVIATION = re.compile(r"^[a-z0-9/-]{1,6}$")


def _ranked(
    concepts: list[list[str]], settings: BiasOptions, count_tokens: TokenCounter
) -> list[str]:
    """Each concept's rarest usable form, concepts sorted by that rarity (stable)."""
    best: list[tuple[float, str]] = []
    for forms in concepts:
        # Lower-case short forms ("hctz", "cbc") are abbreviations Whisper spells its own way.
        usable = [f for f in forms if not _ABBREVIATION.match(f)]
        if not usable:
            continue
        scored = [(_rarity(f, count_tokens), f) for f in usable]
        rarity, form = max(scored, key=lambda item: item[0])
        if rarity >= settings.min_rarity:
            best.append((rarity, form))
    best.sort(key=lambda item: -item[0])
    return [form for _, form in best]


def _rarity(term: str, count_tokens: TokenCounter) -> float:
    words = max(len(term.split()), 1)
    return count_tokens(term) / words
