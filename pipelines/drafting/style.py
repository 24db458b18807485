"""A clinician's writing style, learned from their signed notes, applied to new drafts.

``learn_style`` compares each machine draft with the note the clinician signed (sentences
line up by ``sentence_id``) and keeps only habits seen in at least two notes and followed
nearly every time they could have been:

- phrasing: word-level rewrites inside kept sentences ("He reports" -> "Pt reports",
  "Medical Treatment:" -> "Tx:", "a little " dropped). A rewrite is tried bare and with one
  word of context either side; the most general form that is consistent wins.
- section order: the order of sections in the signed notes of a template.
- brevity: sections the clinician empties, labelled sentence kinds they delete
  ("Patient Education and Counseling: ..."), and the most sentences they keep in a section.

``apply_style`` only deletes, reorders and rewrites with learned substitutions: it never
adds a sentence, keeps sentence ids and evidence, never touches human-written sentences,
and records what it changed in ``Draft.options["style"]`` so that ``unstyled`` can give
back the machine draft (which is what the next learning compares against).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from pipelines.drafting.structure import split_label
from pipelines.types import Draft, Evidence, NoteSentence

STYLE_VERSION = "style.v1"

_WORD = re.compile(r"\S+")
_DIGITS = re.compile(r"\d+")
_NEGATIONS = {"no", "not", "denies", "denied", "deny", "without", "never", "negative", "none"}


@dataclass(frozen=True)
class StyleOptions:
    """How much evidence a habit needs before drafts follow it.

    min_notes: a habit must be seen in at least this many signed notes.
    min_consistency: share of the chances to follow a habit that the clinician took.
    max_phrase_words: longest phrase (either side) a rewrite may have.
    min_similarity: below this similarity an edited sentence is a content rewrite, not
        phrasing, and teaches no substitution.
    """

    min_notes: int = 2
    min_consistency: float = 0.8
    max_phrase_words: int = 4
    min_similarity: float = 0.5


@dataclass(frozen=True)
class PhraseRule:
    """Replace ``before`` (whitespace-delimited) by ``after`` (empty: drop it)."""

    before: str
    after: str
    seen: int
    consistency: float


@dataclass(frozen=True)
class SectionRule:
    """Brevity in one section of a template.

    ``drop``: the clinician empties the section; ``label``: they delete sentences starting
    with this label ("Medical Reasoning:"); ``cap``: the most sentences they keep (0: no cap).
    """

    template: str
    section: str
    seen: int
    drop: bool = False
    label: str = ""
    cap: int = 0


@dataclass(frozen=True)
class SectionOrder:
    """The order a clinician puts a template's sections in."""

    template: str
    order: tuple[str, ...]
    seen: int


@dataclass(frozen=True)
class ClinicianStyle:
    """Everything learned about one clinician's notes; ``notes`` is how many it came from."""

    version: str = STYLE_VERSION
    notes: int = 0
    phrasings: tuple[PhraseRule, ...] = ()
    orders: tuple[SectionOrder, ...] = ()
    brevity: tuple[SectionRule, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.phrasings or self.orders or self.brevity)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``style_from_dict`` reads it back)."""
        return asdict(self)


@dataclass(frozen=True)
class StylePair:
    """One signed note beside the machine draft it started from."""

    machine: Draft
    signed: Draft


def style_from_dict(data: dict[str, Any]) -> ClinicianStyle:
    """The style ``ClinicianStyle.to_dict`` wrote; ValueError for another style version."""
    if data.get("version") != STYLE_VERSION:
        raise ValueError(f"style version {data.get('version')!r} is not {STYLE_VERSION}")
    return ClinicianStyle(
        version=STYLE_VERSION,
        notes=int(data.get("notes", 0)),
        phrasings=tuple(PhraseRule(**r) for r in data.get("phrasings", ())),
        orders=tuple(
            SectionOrder(o["template"], tuple(o["order"]), o["seen"])
            for o in data.get("orders", ())
        ),
        brevity=tuple(SectionRule(**r) for r in data.get("brevity", ())),
    )


def describe(style: ClinicianStyle) -> str:
    """One line for the reviewer: what drafts follow and how many notes taught it."""
    notes = f"{style.notes} signed note{'s' * (style.notes != 1)}"
    if style.empty:
        return f"Drafts do not follow a style yet: no habit repeats in {notes}."
    parts = []
    if style.phrasings:
        parts.append(f"{len(style.phrasings)} phrasing{'s' * (len(style.phrasings) != 1)}")
    if style.orders:
        parts.append("section order")
    if style.brevity:
        parts.append("brevity")
    return f"Drafts follow your style: {', '.join(parts)} — learned from {notes}"


# -- learning -----------------------------------------------------------------------------


def learn_style(
    pairs: Sequence[StylePair], options: StyleOptions = StyleOptions()
) -> ClinicianStyle:
    """The habits shared by these (machine draft, signed note) pairs of one clinician."""
    pairs = list(pairs)
    return ClinicianStyle(
        notes=len(pairs),
        phrasings=_learn_phrasings(pairs, options),
        orders=_learn_orders(pairs, options),
        brevity=_learn_brevity(pairs, options),
    )


def _spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD.finditer(text)]


def _phrase(text: str, spans: list[tuple[int, int]], i: int, j: int) -> str:
    return text[spans[i][0] : spans[j - 1][1]] if j > i else ""


def _rewrites(before: str, after: str, max_words: int) -> list[list[tuple[str, str]]]:
    """For each changed stretch of ``before``: its (old, new) phrase, bare and in context."""
    a, b = _spans(before), _spans(after)
    wa = [before[s:e] for s, e in a]
    wb = [after[s:e] for s, e in b]
    found = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
        if tag == "equal" or i2 == i1:  # an insertion would add content: never learned
            continue
        if i1 > 0 and _DIGITS.search(wa[i1 - 1]):  # the unit of a number is content too
            continue
        forms = [(i1, i2, j1, j2)]
        if i1 > 0 and j1 > 0 and wa[i1 - 1] == wb[j1 - 1]:
            forms.append((i1 - 1, i2, j1 - 1, j2))
        if i2 < len(wa) and j2 < len(wb) and wa[i2] == wb[j2]:
            forms.append((i1, i2 + 1, j1, j2 + 1))
        candidates = []
        for x1, x2, y1, y2 in forms:
            if x2 - x1 > max_words or y2 - y1 > max_words:
                continue
            old, new = _phrase(before, a, x1, x2), _phrase(after, b, y1, y2)
            if _safe(old, new):
                candidates.append((old, new))
        if candidates:
            found.append(candidates)
    return found


def _safe(old: str, new: str) -> bool:
    """A substitution may change wording, never numbers (or units) or negation."""
    return (
        old != new
        and _DIGITS.findall(old) == _DIGITS.findall(new)
        and _negations(old) == _negations(new)
    )


def _negations(phrase: str) -> set[str]:
    return {w.strip(".,;:").lower() for w in phrase.split()} & _NEGATIONS


def _pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\S)" + re.escape(phrase) + r"(?!\S)")


def _learn_phrasings(pairs: list[StylePair], options: StyleOptions) -> tuple[PhraseRule, ...]:
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)  # rule -> notes it was made in
    made: Counter[tuple[str, str]] = Counter()
    for n, pair in enumerate(pairs):
        signed = {s.sentence_id: s for s in pair.signed.sentences}
        for s in pair.machine.sentences:
            after = signed.get(s.sentence_id)
            if after is None or after.text == s.text:
                continue
            ratio = difflib.SequenceMatcher(None, s.text, after.text, autojunk=False).ratio()
            if ratio < options.min_similarity:
                continue
            for candidates in _rewrites(s.text, after.text, options.max_phrase_words):
                for rule in candidates:
                    seen[rule].add(n)
                    made[rule] += 1
    candidates = [r for r in made if len(seen[r]) >= options.min_notes]
    if not candidates:
        return ()
    # Chances: every occurrence of the old phrase in a machine sentence the clinician kept.
    kept = []
    for pair in pairs:
        signed_ids = {t.sentence_id for t in pair.signed.sentences}
        kept += [s.text for s in pair.machine.sentences if s.sentence_id in signed_ids]
    rules = []
    for old, new in candidates:
        pattern = _pattern(old)
        chances = sum(len(pattern.findall(text)) for text in kept)
        consistency = made[(old, new)] / max(chances, 1)
        if consistency >= options.min_consistency:
            rules.append(PhraseRule(old, new, made[(old, new)], round(min(consistency, 1.0), 3)))
    # A rule in context is redundant beside the bare rule it contains.
    general = {(r.before, r.after) for r in rules}
    rules = [
        r
        for r in rules
        if not any(
            (b, a) != (r.before, r.after)
            and b in r.before
            and a in r.after
            and len(b) < len(r.before)
            for b, a in general
        )
    ]
    return tuple(sorted(rules, key=lambda r: (-len(r.before), r.before)))


def _learn_orders(pairs: list[StylePair], options: StyleOptions) -> tuple[SectionOrder, ...]:
    by_template: dict[str, list[StylePair]] = defaultdict(list)
    for pair in pairs:
        if pair.signed.template == pair.machine.template:
            by_template[pair.machine.template].append(pair)
    orders = []
    for template, group in sorted(by_template.items()):
        counts = Counter(p.signed.sections for p in group)
        order, n = counts.most_common(1)[0]
        default = Counter(p.machine.sections for p in group).most_common(1)[0][0]
        if (
            order != default
            and n >= options.min_notes
            and n / len(group) >= options.min_consistency
        ):
            orders.append(SectionOrder(template, order, n))
    return tuple(orders)


def _label(text: str) -> str:
    return split_label(text)[0] or ""


def _learn_brevity(pairs: list[StylePair], options: StyleOptions) -> tuple[SectionRule, ...]:
    """Dropped sections, deleted labelled kinds, then the most sentences kept per section."""
    present: Counter[tuple[str, str]] = Counter()
    emptied: Counter[tuple[str, str]] = Counter()
    kind_seen: Counter[tuple[str, str, str]] = Counter()
    kind_cut: Counter[tuple[str, str, str]] = Counter()
    kind_notes: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for n, pair in enumerate(pairs):
        template = pair.machine.template
        kept = {s.sentence_id: s for s in pair.signed.sentences}
        for section in pair.machine.sections:
            mine = pair.machine.section_sentences(section)
            if not mine:
                continue
            present[(template, section)] += 1
            if not pair.signed.section_sentences(section):
                emptied[(template, section)] += 1
                continue  # an emptied section says nothing about kinds or counts
            for s in mine:
                label = _label(s.text)
                if not label:
                    continue
                key = (template, section, label)
                kind_seen[key] += 1
                if s.sentence_id not in kept:
                    kind_cut[key] += 1
                    kind_notes[key].add(n)
    rules: list[SectionRule] = []
    dropped = set()
    for key, n in sorted(emptied.items()):
        if n >= options.min_notes and n / present[key] >= options.min_consistency:
            rules.append(SectionRule(key[0], key[1], n, drop=True))
            dropped.add(key)
    for key, n in sorted(kind_cut.items()):
        if (
            key[:2] not in dropped
            and len(kind_notes[key]) >= options.min_notes
            and n / kind_seen[key] >= options.min_consistency
        ):
            rules.append(SectionRule(key[0], key[1], n, label=key[2]))
    cut_labels = {(r.template, r.section, r.label) for r in rules if r.label}
    rules += _learn_caps(pairs, options, dropped, cut_labels)
    return tuple(rules)


def _learn_caps(
    pairs: list[StylePair],
    options: StyleOptions,
    dropped: set[tuple[str, str]],
    cut_labels: set[tuple[str, str, str]],
) -> list[SectionRule]:
    """A cap where the clinician keeps fewer machine sentences than drafted, nearly always."""
    counts: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)  # (drafted, kept)
    for pair in pairs:
        template = pair.machine.template
        signed = {s.sentence_id: s.section for s in pair.signed.sentences}
        for section in pair.machine.sections:
            if (template, section) in dropped:
                continue
            mine = [
                s
                for s in pair.machine.section_sentences(section)
                if (template, section, _label(s.text)) not in cut_labels
            ]
            kept = sum(1 for s in mine if signed.get(s.sentence_id) == section)
            if mine and kept:
                counts[(template, section)].append((len(mine), kept))
    rules = []
    for (template, section), seen in sorted(counts.items()):
        trimmed = [kept for drafted, kept in seen if kept < drafted]
        if len(trimmed) < options.min_notes:
            continue
        cap = max(trimmed)  # never fewer than the clinician ever kept when trimming
        longer = [kept for drafted, kept in seen if drafted > cap]
        if sum(1 for kept in longer if kept <= cap) / len(longer) >= options.min_consistency:
            rules.append(SectionRule(template, section, len(trimmed), cap=cap))
    return rules


# -- applying -----------------------------------------------------------------------------


def _evidence_chars(s: NoteSentence) -> int:
    return sum(e.end_char - e.start_char for e in s.evidence)


def _rewrite(text: str, rules: Sequence[PhraseRule]) -> str:
    out = text
    for rule in rules:
        pattern = _pattern(rule.before)
        if rule.after:
            out = pattern.sub(lambda _m, new=rule.after: new, out)
        else:
            out = re.sub(r"\s*" + pattern.pattern, "", out)
    out = " ".join(out.split())
    if out and text[:1].isupper() and out[:1].islower():
        out = out[0].upper() + out[1:]  # a dropped first phrase leaves a sentence start
    return out


def _keep(draft: Draft, style: ClinicianStyle) -> set[str]:
    """Ids of the sentences the style keeps (human-written sentences are always kept)."""
    rules = [r for r in style.brevity if r.template == draft.template]
    dropped = {r.section for r in rules if r.drop}
    labels = {(r.section, r.label) for r in rules if r.label}
    caps = {r.section: r.cap for r in rules if r.cap}
    keep = set()
    for section in draft.sections:
        mine = [
            s
            for s in draft.section_sentences(section)
            if s.origin == "human"
            or (section not in dropped and (section, _label(s.text)) not in labels)
        ]
        cap = caps.get(section, 0)
        machine = [s for s in mine if s.origin != "human"]
        if cap and len(machine) > cap:
            # Keep the best-evidenced machine sentences; ties go to the earlier one.
            ranked = sorted(range(len(machine)), key=lambda i: (-_evidence_chars(machine[i]), i))
            best = {machine[i].sentence_id for i in ranked[:cap]}
            mine = [s for s in mine if s.origin == "human" or s.sentence_id in best]
        keep.update(s.sentence_id for s in mine)
    return keep


def apply_style(draft: Draft, style: ClinicianStyle | None) -> Draft:
    """The draft as this clinician writes: deletions, section order, learned rewrites.

    An empty style (or None) returns the draft unchanged. Otherwise the result records the
    style version and what it undid in ``options["style"]``, and ``model_version`` gains
    ``+style.vN``.
    """
    if style is None or style.empty:
        return draft
    keep = _keep(draft, style)
    order = next((o.order for o in style.orders if o.template == draft.template), ())
    sections = tuple(s for s in order if s in draft.sections) + tuple(
        s for s in draft.sections if s not in order
    )
    rank = {s: i for i, s in enumerate(sections)}
    rewritten: dict[str, str] = {}
    out = []
    for s in sorted(draft.sentences, key=lambda s: rank.get(s.section, len(rank))):
        if s.sentence_id not in keep:
            continue
        text = s.text if s.origin == "human" else _rewrite(s.text, style.phrasings)
        if text and text != s.text:
            rewritten[s.sentence_id] = s.text
            s = replace(s, text=text)
        out.append(s)
    record = {
        "version": style.version,
        "notes": style.notes,
        "sections": list(draft.sections),
        "order": [s.sentence_id for s in draft.sentences],
        "rewritten": rewritten,
        "deleted": [_snapshot(s) for s in draft.sentences if s.sentence_id not in keep],
    }
    return replace(
        draft,
        sections=sections,
        sentences=tuple(out),
        model_version=f"{draft.model_version}+{style.version}",
        options={**draft.options, "style": record},
    )


def _snapshot(s: NoteSentence) -> dict[str, Any]:
    return {
        "sentence_id": s.sentence_id,
        "section": s.section,
        "text": s.text,
        "origin": s.origin,
        "evidence": [
            [e.segment_idx, e.start_char, e.end_char, e.start_s, e.end_s] for e in s.evidence
        ],
    }


def unstyled(draft: Draft) -> Draft:
    """The machine draft before ``apply_style`` (the draft itself if no style was applied).

    Sentences edited since keep their edits; only what the style did is undone.
    """
    record = draft.options.get("style")
    if not isinstance(record, dict):
        return draft
    restored = {
        d["sentence_id"]: NoteSentence(
            d["sentence_id"],
            d["section"],
            d["text"],
            tuple(Evidence(*e) for e in d["evidence"]),
            d["origin"],
        )
        for d in record.get("deleted", ())
    }
    rewritten = record.get("rewritten", {})
    for s in draft.sentences:
        restored[s.sentence_id] = replace(s, text=rewritten.get(s.sentence_id, s.text))
    order = [i for i in record.get("order", ()) if i in restored]
    listed = set(order)
    order += [i for i in restored if i not in listed]  # sentences added since
    options = {k: v for k, v in draft.options.items() if k != "style"}
    suffix = f"+{record.get('version', STYLE_VERSION)}"
    version = draft.model_version
    return replace(
        draft,
        sections=tuple(record.get("sections", draft.sections)),
        sentences=tuple(restored[i] for i in order),
        model_version=version[: -len(suffix)] if version.endswith(suffix) else version,
        options=options,
    )
