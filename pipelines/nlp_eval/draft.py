"""Draft annotations written by quoting, and their conversion to offsets.

A draft names its document and annotator, then has one entity per line::

    doc: aci:train:D2N005
    annotator: A
    # a comment
    12 "chest pain" PROBLEM neg
    12 "pain"#2 PROBLEM                        # the 2nd "pain" of line 12
    15 "in her [left knee] when" ANATOMY        # [..] marks the span inside a longer quote
    20 "metformin" MED dose="500 milligrams" freq="twice a day"
    31 "blood pressure" VITAL value="120 over 80"

- The number is the document line (as printed by ``author show``); quotes are searched in that
  line only, case-insensitively, at word boundaries.
- A span quote must occur exactly once in its line unless ``#k`` picks the k-th occurrence or a
  ``[...]`` context makes it unique; otherwise conversion fails and lists the occurrences.
- An attribute quote is searched in the same line; ``#k`` picks one; with several occurrences
  and no ``#k`` the one nearest the entity is taken, and a tie fails.
- Flags: ``neg``, ``hist``, ``fam``, ``hyp``, ``unc`` (or the full names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from pipelines.nlp_eval.gold import FLAGS, GoldEntity

LABEL_ALIASES: dict[str, str] = {
    "PROBLEM": "PROBLEM",
    "PROB": "PROBLEM",
    "MEDICATION": "MEDICATION",
    "MED": "MEDICATION",
    "TEST": "TEST",
    "PROCEDURE": "PROCEDURE",
    "PROC": "PROCEDURE",
    "ANATOMY": "ANATOMY",
    "ANAT": "ANATOMY",
    "VITAL": "VITAL",
    "VIT": "VITAL",
}
FLAG_ALIASES: dict[str, str] = {
    "neg": "negated",
    "hist": "historical",
    "fam": "family",
    "hyp": "hypothetical",
    "unc": "uncertain",
    **{flag: flag for flag in FLAGS},
}
ATTR_ALIASES: dict[str, str] = {
    "dose": "dose",
    "route": "route",
    "frequency": "frequency",
    "freq": "frequency",
    "duration": "duration",
    "dur": "duration",
    "value": "value",
    "val": "value",
    "unit": "unit",
}
_TOKEN = re.compile(
    r'\s*(?:(?P<attr>[A-Za-z_]+)="(?P<aq>[^"]*)"(?:#(?P<ak>\d+))?'
    r'|"(?P<q>[^"]*)"(?:#(?P<k>\d+))?'
    r"|(?P<word>[^\s\"]+))"
)


class DraftError(ValueError):
    """A draft line that cannot be converted; the message names the draft line."""


@dataclass(frozen=True)
class DraftLine:
    """One parsed entity line of a draft (quotes not yet resolved)."""

    draft_line: int
    doc_line: int
    quote: str
    occurrence: int | None
    label: str
    flags: tuple[str, ...]
    attributes: tuple[tuple[str, str, int | None], ...]


@dataclass(frozen=True)
class Draft:
    """A parsed draft: header fields and entity lines."""

    doc_id: str
    annotator: str
    lines: tuple[DraftLine, ...]


def parse_draft(source: str) -> Draft:
    """Parse draft text; raises :class:`DraftError` with the line number on bad syntax."""
    header: dict[str, str] = {}
    lines: list[DraftLine] = []
    for n, raw in enumerate(source.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("doc", "annotator") and not lines:
            header[key.strip()] = value.strip()
            continue
        lines.append(_parse_line(n, line))
    for key in ("doc", "annotator"):
        if not header.get(key):
            raise DraftError(f"draft has no '{key}:' header line")
    return Draft(header["doc"], header["annotator"], tuple(lines))


def _strip_comment(line: str) -> str:
    # '#' starts a comment unless it is inside quotes or right after a closing quote (#k).
    in_quote = False
    for i, ch in enumerate(line):
        if ch == '"':
            in_quote = not in_quote
        elif ch == "#" and not in_quote and not (i and line[i - 1] == '"'):
            return line[:i]
    return line


def _parse_line(n: int, line: str) -> DraftLine:
    head, _, rest = line.partition(" ")
    if not head.isdigit():
        raise DraftError(f"draft line {n}: must start with a document line number: {line!r}")
    quote: str | None = None
    occurrence = None
    label = None
    flags: list[str] = []
    attrs: list[tuple[str, str, int | None]] = []
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if not m or m.end() == pos:
            raise DraftError(f"draft line {n}: cannot read {rest[pos:]!r}")
        pos = m.end()
        if m["attr"]:
            name = ATTR_ALIASES.get(m["attr"].lower())
            if name is None:
                raise DraftError(
                    f"draft line {n}: unknown attribute {m['attr']!r} "
                    f"(use {sorted(set(ATTR_ALIASES))})"
                )
            attrs.append((name, m["aq"], int(m["ak"]) if m["ak"] else None))
        elif m["q"] is not None:
            if quote is not None:
                raise DraftError(f"draft line {n}: two span quotes")
            quote, occurrence = m["q"], int(m["k"]) if m["k"] else None
        elif m["word"].upper() in LABEL_ALIASES and label is None:
            label = LABEL_ALIASES[m["word"].upper()]
        elif m["word"].lower() in FLAG_ALIASES:
            flags.append(FLAG_ALIASES[m["word"].lower()])
        else:
            labels = sorted(set(LABEL_ALIASES.values()))
            raise DraftError(
                f"draft line {n}: unknown word {m['word']!r} (labels {labels}, "
                f"flags {sorted(FLAG_ALIASES)})"
            )
    if not quote or not quote.strip():
        raise DraftError(f"draft line {n}: no quoted span")
    if label is None:
        raise DraftError(f"draft line {n}: no label")
    return DraftLine(n, int(head), quote, occurrence, label, tuple(flags), tuple(attrs))


def line_starts(text: str) -> list[int]:
    """Character offset of each line of ``text`` (index 0 is line 1)."""
    starts = [0]
    starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")
    return starts


def find_quote(line_text: str, quote: str) -> list[tuple[int, int]]:
    """(start, end) of the span in every word-bounded, case-insensitive match of ``quote``.

    ``quote`` may carry ``[...]`` around the span inside a longer context.
    """
    if quote.count("[") != quote.count("]") or quote.count("[") > 1:
        raise DraftError(f"quote {quote!r}: use at most one [...] pair")
    if "[" in quote:
        pre, _, tail = quote.partition("[")
        inner, _, _ = tail.partition("]")
        context = quote.replace("[", "").replace("]", "")
        offset, length = len(pre), len(inner)
    else:
        context, offset, length = quote, 0, len(quote)
    hay, needle = line_text.lower(), context.lower()
    found = []
    start = hay.find(needle)
    while start >= 0:
        end = start + len(needle)
        if _boundary(hay, start, end):
            found.append((start + offset, start + offset + length))
        start = hay.find(needle, start + 1)
    return found


def _boundary(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() and text[start].isalnum()) and not (
        after.isalnum() and text[end - 1].isalnum()
    )


def resolve(draft: Draft, text: str) -> tuple[GoldEntity, ...]:
    """Turn every draft line into a :class:`GoldEntity` with document offsets.

    Fails loudly (:class:`DraftError`) on a missing, ambiguous or empty quote, a line number
    outside the document, a duplicate entity or two overlapping entities.
    """
    starts = line_starts(text)
    entities: list[tuple[GoldEntity, int]] = []
    for dl in draft.lines:
        if not 1 <= dl.doc_line <= len(starts):
            raise DraftError(f"draft line {dl.draft_line}: document has no line {dl.doc_line}")
        base = starts[dl.doc_line - 1]
        line_text = text[base : text.find("\n", base) if "\n" in text[base:] else len(text)]
        start, end = _pick(dl, line_text, dl.quote, dl.occurrence, None)
        if line_text[start:end] != line_text[start:end].strip() or start == end:
            raise DraftError(
                f"draft line {dl.draft_line}: span {dl.quote!r} is empty or padded with spaces"
            )
        attrs = {}
        for name, quote, k in dl.attributes:
            if name in attrs:
                raise DraftError(f"draft line {dl.draft_line}: attribute {name} given twice")
            s, e = _pick(dl, line_text, quote, k, (start, end))
            attrs[name] = (base + s, base + e)
        entities.append(
            (
                GoldEntity(
                    base + start,
                    base + end,
                    dl.label,
                    **{f: f in dl.flags for f in FLAGS},
                    attributes=attrs,
                ),
                dl.draft_line,
            )
        )
    entities.sort(key=lambda pair: (pair[0].start, pair[0].end))
    for (prev, prev_n), (ent, n) in pairwise(entities):
        if ent.start < prev.end:
            what = "duplicates" if (ent.start, ent.end) == (prev.start, prev.end) else "overlaps"
            raise DraftError(
                f"draft line {n}: {text[ent.start : ent.end]!r} {what} "
                f"{text[prev.start : prev.end]!r} of draft line {prev_n}"
            )
    return tuple(ent for ent, _ in entities)


def _pick(
    dl: DraftLine, line_text: str, quote: str, k: int | None, near: tuple[int, int] | None
) -> tuple[int, int]:
    where = f"draft line {dl.draft_line} (document line {dl.doc_line})"
    try:
        found = find_quote(line_text, quote)
    except DraftError as exc:
        raise DraftError(f"{where}: {exc}") from None
    if not found:
        raise DraftError(f"{where}: {quote!r} not found in {line_text[:120]!r}")
    if k is not None:
        if not 1 <= k <= len(found):
            raise DraftError(f"{where}: {quote!r}#{k} but it occurs {len(found)} time(s)")
        return found[k - 1]
    if len(found) == 1:
        return found[0]
    if near is None:
        raise DraftError(
            f"{where}: {quote!r} is ambiguous, it occurs {len(found)} times "
            f"in the line; add #1..#{len(found)} or a [..] context"
        )
    distance = sorted((_gap(span, near), span) for span in found)
    if distance[0][0] == distance[1][0]:
        raise DraftError(f"{where}: attribute {quote!r} is as near to the entity twice; add #k")
    return distance[0][1]


def _gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(a[0] - b[1], b[0] - a[1], 0)


def to_draft(doc_id: str, annotator: str, text: str, entities: tuple[GoldEntity, ...]) -> str:
    """The draft that converts back to ``entities`` (for review and round trips)."""
    starts = line_starts(text)
    out = [f"doc: {doc_id}", f"annotator: {annotator}"]
    short_flags = {v: k for k, v in FLAG_ALIASES.items() if k != v}
    for ent in entities:
        n = max(i for i, s in enumerate(starts) if s <= ent.start)
        base = starts[n]
        line_text = text[base : text.find("\n", base) if "\n" in text[base:] else len(text)]
        parts = [str(n + 1), _quote_ref(line_text, ent.start - base, ent.end - base), ent.label]
        parts += [short_flags[f] for f in FLAGS if getattr(ent, f)]
        for name, (s, e) in sorted(ent.attributes.items()):
            parts.append(name + "=" + _quote_ref(line_text, s - base, e - base))
        out.append(" ".join(parts))
    return "\n".join(out) + "\n"


def _quote_ref(line_text: str, start: int, end: int) -> str:
    quote = line_text[start:end]
    found = find_quote(line_text, quote)
    if found == [(start, end)]:
        return f'"{quote}"'
    return f'"{quote}"#{found.index((start, end)) + 1}'
