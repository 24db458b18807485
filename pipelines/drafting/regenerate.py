"""Targeted regeneration: after a transcript correction, re-draft only what it touched.

Plain data in, plain data out. The caller drafts the corrected visit afresh; this module
decides which sentences of the current note that fresh draft may replace:

- a *machine* sentence (``origin == "machine"`` and no person edited, added or moved it,
  see ``human_ids``) whose evidence lies in a corrected segment is *stale*: the fresh
  draft's sentences of the same section drawn from the same corrected segments take its
  place, where it stood;
- a fresh sentence drawn from a corrected segment with no stale counterpart in its section
  is *added* to that section, in transcript order, unless a person's sentence there already
  covers that segment, or a person deleted a draft sentence from it (their call stands);
- a person's sentence is never rewritten: its evidence follows the corrected words and it
  is *flagged* ("evidence changed since you edited this");
- every other sentence is kept as it is (same object, same ``sentence_id``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from pipelines.transcript_edit import remap_evidence
from pipelines.types import NoteSentence, Segment

_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "scribe-workbench:drafting:regenerate")


@dataclass(frozen=True)
class Redraft:
    """One section's re-drafted passage: the machine sentences retired and their successors.

    ``before`` is empty when the fresh sentences were added with no counterpart; ``after``
    is empty when the corrected transcript no longer gives that section anything there.
    """

    section: str
    before: tuple[NoteSentence, ...]
    after: tuple[NoteSentence, ...]


@dataclass(frozen=True)
class Regeneration:
    """The note after a targeted re-draft, and what happened to which sentence."""

    sentences: tuple[NoteSentence, ...]
    redrafts: tuple[Redraft, ...] = ()
    kept: tuple[str, ...] = ()
    flagged: tuple[str, ...] = ()

    @property
    def replaced(self) -> tuple[str, ...]:
        """Ids of the machine sentences taken out of the note."""
        return tuple(s.sentence_id for r in self.redrafts for s in r.before)

    @property
    def redrafted(self) -> tuple[str, ...]:
        """Ids of fresh sentences put where retired ones stood."""
        return tuple(s.sentence_id for r in self.redrafts if r.before for s in r.after)

    @property
    def added(self) -> tuple[str, ...]:
        """Ids of fresh sentences with no retired counterpart."""
        return tuple(s.sentence_id for r in self.redrafts if not r.before for s in r.after)


def regenerate(
    current: Sequence[NoteSentence],
    corrections: Mapping[int, tuple[Segment, Segment]],
    fresh: Sequence[NoteSentence],
    sections: Sequence[str],
    human_ids: Collection[str] = (),
    declined: Sequence[NoteSentence] = (),
    salt: str = "",
) -> Regeneration:
    """Merge a fresh draft of the corrected visit into the current note (see module doc).

    ``current``: the note's sentences, evidence in the uncorrected text. ``corrections``:
    segment index -> (segment before, segment after) for every segment whose words changed.
    ``fresh``: the drafter's sentences for the corrected transcript. ``sections``: the
    note's sections in order (fresh sentences of other sections are ignored). ``human_ids``:
    sentences a person edited, added or moved (beyond ``origin``). ``declined``: draft
    sentences a person deleted from the note. ``salt`` makes the new sentence ids unique
    (the drafter's ids depend on the audio, not on the corrected words).
    """
    changed = set(corrections)
    remapped = tuple(current)
    for idx in sorted(corrections):
        remapped = remap_evidence(remapped, *corrections[idx])

    def touched(s: NoteSentence) -> set[int]:
        return {ev.segment_idx for ev in s.evidence} & changed

    def human(s: NoteSentence) -> bool:
        return s.origin != "machine" or s.sentence_id in human_ids

    stale = {i for i, s in enumerate(current) if touched(s) and not human(s)}
    # A sentence the fresh draft words the same way stays as it is (its id too).
    same = {(f.section, _norm(f.text)) for f in fresh if touched(f)}
    stale = {i for i in stale if (current[i].section, _norm(current[i].text)) not in same}
    flagged = tuple(s.sentence_id for s in current if touched(s) and human(s))
    people = [s for s in current if human(s)] + list(declined)
    kept_texts = {_norm(s.text) for i, s in enumerate(current) if i not in stale}

    replacing: dict[str, list[NoteSentence]] = {}
    additions: list[NoteSentence] = []
    for f in fresh:
        segs = touched(f)
        if not segs or f.section not in sections or _norm(f.text) in kept_texts:
            continue
        kept_texts.add(_norm(f.text))
        new = replace(f, sentence_id=_new_id(f.sentence_id, salt), origin="machine")

        def near(s: NoteSentence, f: NoteSentence = f, segs: set[int] = segs) -> bool:
            return s.section == f.section and bool(touched(s) & segs)

        if any(near(current[i]) for i in stale):
            replacing.setdefault(f.section, []).append(new)
        elif not any(near(s) for s in people):
            additions.append(new)

    out: list[NoteSentence] = []
    placed: set[str] = set()
    for i, s in enumerate(remapped):
        if i not in stale:
            out.append(s)
        elif s.section not in placed:
            # The section's successors go where its first retired sentence stood.
            placed.add(s.section)
            out.extend(replacing.get(s.section, ()))
    for new in additions:
        out = _insert(out, new, sections)

    redrafts = [
        Redraft(
            section,
            tuple(current[i] for i in sorted(stale) if current[i].section == section),
            tuple(replacing.get(section, ())),
        )
        for section in dict.fromkeys(current[i].section for i in sorted(stale))
    ]
    redrafts += [Redraft(new.section, (), (new,)) for new in additions]
    kept = tuple(s.sentence_id for i, s in enumerate(current) if i not in stale)
    return Regeneration(tuple(out), tuple(redrafts), kept, flagged)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _new_id(fresh_id: str, salt: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{fresh_id}:{salt}"))


def _first_segment(s: NoteSentence) -> int | None:
    return min((ev.segment_idx for ev in s.evidence), default=None)


def _insert(
    sentences: list[NoteSentence], new: NoteSentence, sections: Sequence[str]
) -> list[NoteSentence]:
    """Put ``new`` in its section in transcript order (end of the section when unsure); a
    section with no sentences yet goes before the first later section of the note."""
    members = [i for i, s in enumerate(sentences) if s.section == new.section]
    where = _first_segment(new)
    if members:
        at = members[-1] + 1
        for i in members:
            first = _first_segment(sentences[i])
            if where is not None and first is not None and first > where:
                at = i
                break
        return [*sentences[:at], new, *sentences[at:]]
    order = {section: k for k, section in enumerate(sections)}
    rank = order.get(new.section, len(order))
    at = next(
        (i for i, s in enumerate(sentences) if order.get(s.section, len(order)) > rank),
        len(sentences),
    )
    return [*sentences[:at], new, *sentences[at:]]
