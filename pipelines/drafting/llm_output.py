"""Model output -> the template's sections -> sentences, tolerant of how models format notes.

Headings may come in any case, with markdown (``## Plan``, ``**PLAN:**``), with a colon,
as one-letter SOAP labels (``S:``) or inline (``Plan: start amoxicillin.``). A heading
that names no section goes to the section whose name and description share most words
with it ("Vitals" -> objective, "Diagnosis" -> assessment), else it continues the current
one. A line with an unknown label ("Vitals: BP 120/80.") goes the same way, label kept.
Text before any heading goes to the first section.
"""

from __future__ import annotations

import re

from pipelines.drafting.llm_errors import LlmError
from pipelines.drafting.prompts import unquote
from pipelines.drafting.sentences import split_sentences
from pipelines.drafting.templates import NoteTemplate

_BULLET = re.compile(r"^\s*(?:[-*\u2022+]|\d{1,2}[.)])\s+")
# A transcript line the model copied back ("S3 patient: ...").
_ECHO = re.compile(r"^S\d+\s+(?:clinician|patient|unknown)\s*:\s*", re.IGNORECASE)
_TAG = re.compile(r"^\s*</?(?:transcript|entities)>\s*$", re.IGNORECASE)
_EMPTY = re.compile(
    r"^\(?(?:none|n/?a|nil|nothing(?: to report)?|not (?:discussed|documented|mentioned|"
    r"applicable)|no (?:findings|data)(?: reported)?)\)?[.!]?$",
    re.IGNORECASE,
)
# Chat-template tokens a model may write out when its template does not fit it.
CHAT_TOKENS = re.compile(
    r"<</?SYS>>|\[/?INST\]|</?s>|<(?:start|end)_of_turn>(?:user|model)?|<\|[a-z_]+\|>"
)
_MARKUP = re.compile(r"^[#>\s]+|[*_`]+")
_INLINE = re.compile(r"^([A-Za-z][A-Za-z /&-]{0,40}):\s*(\S.*)$")
_WORD = re.compile(r"[a-z]+")
MAX_HEADING_WORDS = 6
MAX_INLINE_LABEL_WORDS = 3


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _stem(word: str) -> str:
    for suffix in ("ings", "ing", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def section_names(template: NoteTemplate) -> dict[str, str]:
    """Normalised section names -> key: key, heading and unique one-letter initials."""
    names: dict[str, str] = {}
    for s in template.sections:
        names[_norm(s.key.replace("_", " "))] = s.key
        names[_norm(s.heading)] = s.key
    initials = [_norm(s.heading)[:1] for s in template.sections]
    for s, letter in zip(template.sections, initials, strict=True):
        if letter and initials.count(letter) == 1:
            names.setdefault(letter, s.key)
    return names


def nearest_section(heading: str, template: NoteTemplate) -> str | None:
    """The section sharing most (stemmed) words with an unknown heading; None if none does."""
    words = {_stem(w) for w in _WORD.findall(heading.lower()) if len(w) > 2}
    best, best_score = None, 0
    for s in template.sections:
        vocab = f"{s.key.replace('_', ' ')} {s.heading} {s.description}".lower()
        score = len(words & {_stem(w) for w in _WORD.findall(vocab)})
        if score > best_score:
            best, best_score = s.key, score
    return best


def heading_key(line: str, names: dict[str, str]) -> str | None:
    """The section a line names as its heading ("## Plan", "**S:**", "Plan: start ..."),
    with ``names`` from ``section_names``; None for any other line."""
    bare = _MARKUP.sub("", line).strip()
    label = bare.rstrip(":").strip()
    if label and _norm(label) in names and len(label) < 60:
        return names[_norm(label)]
    inline = _INLINE.match(bare)
    if inline and _norm(inline.group(1)) in names:
        return names[_norm(inline.group(1))]
    return None


def _heading(
    line: str, names: dict[str, str], template: NoteTemplate
) -> tuple[str | None, bool, str]:
    """(section key or None, is a heading, text after an inline heading)."""
    marked = line.lstrip().startswith("#") or bool(re.match(r"^\s*(\*\*|__)", line))
    bare = _MARKUP.sub("", line).strip()
    label = bare.rstrip(":").strip()
    if _norm(label) in names and len(label) < 60:
        return names[_norm(label)], True, ""
    inline = _INLINE.match(bare)
    if inline and _norm(inline.group(1)) in names:
        return names[_norm(inline.group(1))], True, inline.group(2)
    if inline and len(inline.group(1).split()) <= MAX_INLINE_LABEL_WORDS:
        # "Vitals: BP 120/80." keeps its label as part of the sentence.
        return nearest_section(inline.group(1), template), True, bare
    short = 0 < len(label.split()) <= MAX_HEADING_WORDS
    if short and (marked or bare.endswith(":")) and not re.search(r"[.?!]$", label):
        return None, True, ""
    return None, False, ""


def parse_sections(output: str, template: NoteTemplate) -> dict[str, list[str]]:
    """Sentences of the model's note by section key (every template key present, in order).

    Raises ``LlmError("empty")`` when the output holds no note sentence at all.
    """
    names = section_names(template)
    found: dict[str, list[str]] = {key: [] for key in template.keys}
    current = template.keys[0]
    for raw in CHAT_TOKENS.sub(" ", unquote(output)).splitlines():
        if not raw.strip() or _TAG.match(raw):
            continue
        key, is_heading, rest = _heading(raw, names, template)
        if is_heading:
            if key is None and not rest:
                key = nearest_section(_MARKUP.sub("", raw), template)
            current = key or current
            if not rest:
                continue
            raw = rest
        text = _ECHO.sub("", _BULLET.sub("", _MARKUP.sub("", raw).strip()))
        if not text or _EMPTY.match(text):
            continue
        for a, b in split_sentences(text, max_words=60):
            sentence = text[a:b].strip()
            if _EMPTY.match(sentence) or sentence in found[current]:
                continue
            found[current].append(sentence)
    if not any(found.values()):
        raise LlmError("empty", "the model returned no note text")
    return found
