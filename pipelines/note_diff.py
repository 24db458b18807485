"""What the machine draft said against what will be signed, per section and word by word.

Sentences are matched by ``sentence_id`` (edits keep the id; a sentence the machine
re-drafted has a new id, so it shows as removed plus added).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from pipelines.types import NoteSentence

ChangeKind = Literal["kept", "edited", "added", "deleted", "moved"]
TokenKind = Literal["same", "deleted", "added"]


@dataclass(frozen=True)
class SentenceChange:
    """One sentence of a section in the diff; ``tokens`` is the word-level diff of an edit
    (``(kind, words)`` pieces), ``moved_from`` the draft section of a moved sentence."""

    kind: ChangeKind
    sentence_id: str
    before: str | None
    after: str | None
    tokens: tuple[tuple[TokenKind, str], ...] = ()
    moved_from: str | None = None


@dataclass(frozen=True)
class SectionDiff:
    section: str
    changes: tuple[SentenceChange, ...]

    @property
    def changed(self) -> bool:
        return any(c.kind != "kept" for c in self.changes)


def word_diff(before: str, after: str) -> tuple[tuple[TokenKind, str], ...]:
    """Word-level pieces turning ``before`` into ``after`` (deleted, then added, per hunk)."""
    a, b = before.split(), after.split()
    out: list[tuple[TokenKind, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("deleted", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("added", " ".join(b[j1:j2])))
    return tuple(out)


def section_diffs(
    draft: tuple[NoteSentence, ...],
    final: tuple[NoteSentence, ...],
    sections: tuple[str, ...],
) -> tuple[SectionDiff, ...]:
    """Per section (in ``sections`` order, then any others), the final sentences in order
    with their change against the draft, and the draft's removed sentences after them."""
    old = {s.sentence_id: s for s in draft}
    new_ids = {s.sentence_id for s in final}
    order = list(
        dict.fromkeys([*sections, *(s.section for s in final), *(s.section for s in draft)])
    )
    out = []
    for section in order:
        changes: list[SentenceChange] = []
        for s in (x for x in final if x.section == section):
            prev = old.get(s.sentence_id)
            if prev is None:
                changes.append(SentenceChange("added", s.sentence_id, None, s.text))
            elif prev.text != s.text:
                changes.append(
                    SentenceChange(
                        "edited",
                        s.sentence_id,
                        prev.text,
                        s.text,
                        word_diff(prev.text, s.text),
                        prev.section if prev.section != section else None,
                    )
                )
            elif prev.section != section:
                changes.append(
                    SentenceChange(
                        "moved", s.sentence_id, prev.text, s.text, moved_from=prev.section
                    )
                )
            else:
                changes.append(SentenceChange("kept", s.sentence_id, s.text, s.text))
        changes += [
            SentenceChange("deleted", s.sentence_id, s.text, None)
            for s in draft
            if s.section == section and s.sentence_id not in new_ids
        ]
        if changes:
            out.append(SectionDiff(section, tuple(changes)))
    return tuple(out)
