"""Dictation mode: a raw ASR transcript of spoken dictation -> text per note section.

The clinician speaks punctuation and commands; :func:`interpret` turns the recognised words
into section text. It works on the word list (not the joined text) so Whisper's own
punctuation and capitals around command words ("Period," / "scratch that.") do not matter.

Command grammar (case-insensitive; Whisper punctuation and hyphens inside a phrase are
ignored, so "semi-colon", "newline" and "full-stop." all match):

- punctuation: "period" / "full stop" (.), "comma" (,), "question mark" (?),
  "exclamation mark" / "exclamation point" (!), "colon" (:), "semicolon" (;),
  "open paren[thesis]" / "open bracket" ( ( ), "close paren[thesis]" / "close bracket" ( ) )
- layout: "new line" (line break), "new paragraph" / "next paragraph" (blank line)
- editing: "scratch that" / "delete that" / "undo that" removes the last phrase of this
  section: the words since the previous punctuation mark or command, together with the
  punctuation and layout that followed them. Said again, it removes the phrase before.
  With nothing left to remove in the section it does nothing (and is logged as such).
- navigation: "next section", "previous section", "go to [the] <section> [section]" where
  <section> is a section key or heading. "next section" in the last section stays there.
  "go to" not followed by a section name is dictated text.

False-trigger rule. Only "period" and "colon" are also everyday clinical words ("the
period of two weeks", "her last period", "sigmoid colon"). Such an ambiguous word is a
command only when it can end a phrase, judged from its neighbours:
it is *dictated text* when (a) nothing precedes it in the section (punctuation needs
something to attach to), (b) the word before it is in ``DictationOptions.literal_before``
(articles, possessives, prepositions and clinical modifiers: "the", "her", "last",
"menstrual", "sigmoid", "of" ...), or (c) the word after it is in ``literal_after``
("of", "since", "cancer" ...). With ``require_pause=True`` it must also be followed by a
pause of at least ``pause_s`` in the word timings, by Whisper punctuation on it, or by
the end of the dictation (for microphones where pauses are reliable). Multi-word phrases
("new paragraph", "scratch that", "question mark") are not ambiguous and always count.

Output: capital letter at the start of a section, after . ? ! and after a line break;
no space before closing punctuation, none after "(". Whisper's own punctuation is
dropped by default (the clinician dictates it) and the capitals it put after its own
sentence ends are undone, so only spoken punctuation shapes the text.

Pure module: no streamlit, no database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from pipelines.asr import AsrOptions
from pipelines.types import Transcript, Word


@dataclass(frozen=True)
class DictationOptions:
    """How spoken dictation is interpreted.

    Attributes:
        ambiguous_words: spoken punctuation that is also an ordinary word; it obeys the
            false-trigger rule (see the module docstring).
        literal_before: a previous word that makes an ambiguous word dictated text.
        literal_after: a following word that makes an ambiguous word dictated text.
        require_pause: also demand a pause (or Whisper punctuation, or the end) after an
            ambiguous word before it counts as punctuation.
        pause_s: the silence between two words, in seconds, that counts as a pause.
        keep_asr_punctuation: keep the punctuation Whisper inferred on dictated words.
            Off by default: in dictation the clinician speaks it, and Whisper's guesses
            ("chest, x, rate,") would double or contradict it.
        capitalize: capitalise the first word of a section, sentence and line.
        terms: custom vocabulary (drug names, acronyms); a recognised word equal to a
            one-word term, ignoring case, is written with the term's casing.
    """

    ambiguous_words: tuple[str, ...] = ("period", "colon")
    literal_before: tuple[str, ...] = (
        "a", "an", "the", "this", "that", "these", "those", "each", "every", "any", "no",
        "her", "his", "their", "my", "your", "our", "its", "whose",
        "of", "in", "on", "during", "within", "throughout", "per", "whole", "entire", "same",
        "last", "first", "previous", "next", "recent", "missed", "late", "irregular", "heavy",
        "painful", "menstrual", "waiting", "incubation", "refractory", "latent", "trial",
        "postpartum", "short", "long", "brief", "prolonged", "sigmoid", "ascending",
        "descending", "transverse", "spastic", "irritable",
    )
    literal_after: tuple[str, ...] = (
        "of", "since", "was", "cancer", "polyp", "polyps", "mass", "resection", "wall",
    )
    require_pause: bool = False
    pause_s: float = 0.3
    keep_asr_punctuation: bool = False
    capitalize: bool = True
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppliedCommand:
    """One spoken command that was carried out, for the event log.

    ``word_index`` is the position of its first word in the input word list; ``time_s`` its
    start in the audio (None for plain text input); ``detail`` says what it did.
    """

    command: str
    section: str
    word_index: int
    time_s: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class DictationResult:
    """Dictated text per section, the commands carried out and what produced them.

    ``text`` maps every section key to its dictated text ("" when nothing was dictated
    there); paragraphs are separated by a blank line. ``model`` is the recogniser version
    when the dictation came from audio.
    """

    sections: tuple[str, ...]
    text: dict[str, str]
    commands: tuple[AppliedCommand, ...]
    start_section: str
    end_section: str
    raw_text: str = ""
    model: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def dictated_sections(self) -> tuple[str, ...]:
        """Sections that received text, in note order."""
        return tuple(s for s in self.sections if self.text.get(s))

    def paragraphs(self, section: str) -> tuple[str, ...]:
        """A section's dictated paragraphs (line breaks inside a paragraph kept)."""
        return tuple(p.strip() for p in self.text.get(section, "").split("\n\n") if p.strip())

    def sentences(self, section: str) -> tuple[str, ...]:
        """A section's dictated text split into sentences (for new human note sentences)."""
        from pipelines.drafting.sentences import split_sentences

        out: list[str] = []
        for para in self.paragraphs(section):
            out.extend(" ".join(para[a:b].split()) for a, b in split_sentences(para, 10_000))
        return tuple(out)

    def with_model(self, model: str) -> DictationResult:
        return replace(self, model=model)


# --- grammar ---------------------------------------------------------------------------

# Spoken phrase (spaces and hyphens removed) -> (command name, inserted text).
_PUNCT: dict[str, tuple[str, str]] = {
    "period": ("period", "."),
    "fullstop": ("period", "."),
    "comma": ("comma", ","),
    "questionmark": ("question mark", "?"),
    "exclamationmark": ("exclamation mark", "!"),
    "exclamationpoint": ("exclamation mark", "!"),
    "colon": ("colon", ":"),
    "semicolon": ("semicolon", ";"),
    "openparen": ("open paren", "("),
    "openparenthesis": ("open paren", "("),
    "openparentheses": ("open paren", "("),
    "openbracket": ("open paren", "("),
    "closeparen": ("close paren", ")"),
    "closeparenthesis": ("close paren", ")"),
    "closeparentheses": ("close paren", ")"),
    "closebracket": ("close paren", ")"),
    "newline": ("new line", "\n"),
    "newparagraph": ("new paragraph", "\n\n"),
    "nextparagraph": ("new paragraph", "\n\n"),
}
_ACTIONS: dict[str, str] = {
    "scratchthat": "scratch that",
    "deletethat": "scratch that",
    "undothat": "scratch that",
    "nextsection": "next section",
    "previoussection": "previous section",
}
_GOTO = ("goto",)
_MAX_PHRASE = 3  # longest spoken command in words ("open paren thesis" style splits)
_SENTENCE_END = ".?!"
_CLOSING = ".,?!:;)"
_EDGE_PUNCT = ".,?!:;\"\u201c\u201d\u2018\u2019\u2026"  # incl. curly quotes, ellipsis
_ABBREVIATION = re.compile(r"^(?:[A-Za-z]\.){2,}$|^(?:Dr|Mr|Mrs|Ms|St|vs|etc)\.$")


@dataclass(frozen=True)
class _Tok:
    """A word of the input: its text, a match key, timing and Whisper-side punctuation."""

    text: str
    key: str
    start: float | None
    end: float | None
    glued: bool  # no leading space: Whisper joined it to the previous word ("-readular")
    trailing: str  # punctuation Whisper put after it
    segment_start: bool  # first word of a Whisper segment (Whisper capitalises it)


def _tokens(source: Sequence[Word] | Transcript | str) -> list[_Tok]:
    starts: set[int] = {0}
    if isinstance(source, str):
        words: list[Word | str] = list(source.split())
    elif isinstance(source, Transcript):
        words = []
        for seg in source.segments:
            starts.add(len(words))
            words.extend(seg.words or seg.text.split())
    else:
        words = list(source)
    toks: list[_Tok] = []
    for n, w in enumerate(words):
        raw = w if isinstance(w, str) else w.text
        core = raw.strip()
        if not core:
            continue
        glued = bool(toks) and not isinstance(w, str) and not raw[:1].isspace()
        if _ABBREVIATION.match(core):
            text, trailing = core, ""
        else:
            text = core.rstrip(_EDGE_PUNCT)
            trailing = core[len(text):]
            text = text.lstrip(_EDGE_PUNCT)
        key = re.sub(r"[^a-z0-9']", "", text.lower())
        start = None if isinstance(w, str) else w.start
        end = None if isinstance(w, str) else w.end
        toks.append(_Tok(text, key, start, end, glued, trailing, n in starts))
    return toks


def _section_names(
    sections: Sequence[str], headings: Mapping[str, str] | None
) -> dict[str, str]:
    """Spoken name (spaceless) -> section key, from keys and headings."""
    names: dict[str, str] = {}
    for key in sections:
        for name in (key, (headings or {}).get(key, "")):
            spoken = re.sub(r"[^a-z0-9]", "", name.lower())
            if spoken:
                names[spoken] = key
    return names


# --- interpretation ----------------------------------------------------------------------


class _Buffer:
    """One section's dictated phrases; each phrase is a list of (kind, text, glued)."""

    def __init__(self) -> None:
        self.phrases: list[list[tuple[str, str, bool]]] = []

    def add_word(self, text: str, glued: bool) -> None:
        last = self.phrases[-1] if self.phrases else None
        if last is None or (last[-1][0] != "word" and last[-1][1] != "("):
            self.phrases.append([])
        self.phrases[-1].append(("word", text, glued))

    def add_mark(self, mark: str) -> None:
        if mark == "(" or not self.phrases:
            self.phrases.append([])
        self.phrases[-1].append(("mark", mark, False))

    def has_words(self) -> bool:
        return any(kind == "word" for p in self.phrases for kind, _, _ in p)

    def scratch(self) -> int | None:
        """Drop the last phrase; return how many words it had (None if there was none)."""
        if not self.phrases:
            return None
        return sum(kind == "word" for kind, _, _ in self.phrases.pop())


def interpret(
    source: Sequence[Word] | Transcript | str,
    sections: tuple[str, ...],
    start_section: str,
    options: DictationOptions = DictationOptions(),
    headings: Mapping[str, str] | None = None,
) -> DictationResult:
    """Turn a dictation's recognised words into text per section.

    ``source`` is Whisper words (with timings), a whole transcript, or plain text.
    ``headings`` (section key -> heading) adds spoken names for "go to <section>".

    Raises:
        ValueError: if ``start_section`` is not one of ``sections``.
    """
    if start_section not in sections:
        raise ValueError(f"start section {start_section!r} is not one of {sections}")
    toks = _tokens(source)
    names = _section_names(sections, headings)
    cased = {t.lower(): t for t in options.terms if " " not in t.strip()}
    buffers = {s: _Buffer() for s in sections}
    commands: list[AppliedCommand] = []
    current = start_section
    i = 0
    while i < len(toks):
        tok = toks[i]
        found = _match(toks, i, names, buffers[current], options)
        if found is None:
            word = _word_text(toks, i, cased, options)
            if word:
                buffers[current].add_word(word, tok.glued)
            if options.keep_asr_punctuation and tok.trailing:
                for mark in tok.trailing:
                    if mark in _CLOSING:
                        buffers[current].add_mark(mark)
            i += 1
            continue
        name, arg, width = found
        section, detail = current, ""
        if name == "scratch that":
            removed = buffers[current].scratch()
            # A count, not the words: the command log must not carry clinical text.
            detail = f"removed {removed} words" if removed is not None else "nothing to scratch"
        elif name in ("next section", "previous section"):
            pos = sections.index(current) + (1 if name == "next section" else -1)
            if 0 <= pos < len(sections):
                current = sections[pos]
                detail = f"to {current}"
            else:
                detail = "no such section; stayed"
        elif name == "go to":
            current = arg
            detail = f"to {arg}"
        else:
            buffers[current].add_mark(arg)
        commands.append(AppliedCommand(name, section, i, tok.start, detail))
        i += width
    return DictationResult(
        sections=sections,
        text={s: _render(buffers[s], options) for s in sections},
        commands=tuple(commands),
        start_section=start_section,
        end_section=current,
        raw_text=" ".join(t.text for t in toks),
        options=asdict(options),
    )


def _match(
    toks: list[_Tok], i: int, names: Mapping[str, str], buffer: _Buffer,
    options: DictationOptions,
) -> tuple[str, str, int] | None:
    """The command starting at word ``i`` as (name, argument, words used), or None."""
    for width in range(min(_MAX_PHRASE, len(toks) - i), 0, -1):
        key = "".join(t.key for t in toks[i : i + width])
        if key in _ACTIONS:
            return _ACTIONS[key], "", width
        if key in _GOTO:
            target = _goto_target(toks, i + width, names)
            if target:
                return "go to", target[0], width + target[1]
        if key in _PUNCT:
            name, mark = _PUNCT[key]
            if width == 1 and key in options.ambiguous_words and not _counts(
                toks, i, buffer, options
            ):
                return None
            return name, mark, width
    return None


def _goto_target(toks: list[_Tok], j: int, names: Mapping[str, str]) -> tuple[str, int] | None:
    """The section named at word ``j`` ("[the] <name> [section]") and the words it used."""
    skip = 1 if j < len(toks) and toks[j].key == "the" else 0
    for width in range(min(5, len(toks) - j - skip), 0, -1):
        key = "".join(t.key for t in toks[j + skip : j + skip + width])
        if key in names:
            used = skip + width
            if j + used < len(toks) and toks[j + used].key == "section":
                used += 1
            return names[key], used
    return None


def _counts(toks: list[_Tok], i: int, buffer: _Buffer, options: DictationOptions) -> bool:
    """The false-trigger rule for an ambiguous word at ``i`` (see the module docstring)."""
    if not buffer.has_words():
        return False
    prev = toks[i - 1].key if i else ""
    nxt = toks[i + 1].key if i + 1 < len(toks) else ""
    if prev in options.literal_before or nxt in options.literal_after:
        return False
    if options.require_pause and i + 1 < len(toks) and not toks[i].trailing:
        end, start = toks[i].end, toks[i + 1].start
        return end is not None and start is not None and start - end >= options.pause_s
    return True


def _word_text(
    toks: list[_Tok], i: int, cased: Mapping[str, str], options: DictationOptions
) -> str:
    """A dictated word as written: term casing, Whisper's sentence capitals undone."""
    tok = toks[i]
    text = tok.text
    if not text:
        return ""
    if text.lower() in cased:
        return cased[text.lower()]
    whisper_sentence_start = tok.segment_start or (
        i > 0 and any(c in _SENTENCE_END for c in toks[i - 1].trailing)
    )
    if (
        not options.keep_asr_punctuation
        and whisper_sentence_start
        and text[:1].isupper()
        and text[1:] == text[1:].lower()
        and not (text == "I" or text.startswith("I'"))
    ):
        text = text[:1].lower() + text[1:]
    return text


def _render(buffer: _Buffer, options: DictationOptions) -> str:
    """Join a section's phrases with dictation spacing and capitalisation."""
    out = ""
    cap = True
    for phrase in buffer.phrases:
        for kind, text, glued in phrase:
            if kind == "word":
                if out and not glued and not out.endswith(("\n", "(")):
                    out += " "
                if cap and options.capitalize:
                    text = text[:1].upper() + text[1:]
                out += text
                cap = False
            elif text in ("\n", "\n\n"):
                out = out.rstrip(" ")
                if out:
                    out = out.rstrip("\n") + text
                    cap = True
            else:
                out = out.rstrip(" ")
                if text != "(" and out and out[-1] in ".,;:?!" and text in ".,;:?!":
                    out = out[:-1]  # a spoken mark replaces the one before it ("?" + ".")
                if text == "(" and out and not out.endswith("\n"):
                    out += " "
                out += text
                cap = cap or text in _SENTENCE_END
    return "\n".join(line.rstrip() for line in out.strip().split("\n"))


# --- ASR options -------------------------------------------------------------------------

# Written the way a dictation sounds (spoken punctuation, no written marks), so Whisper
# keeps the command words as words instead of turning them into symbols.
_PROMPT = (
    "Dictation period new paragraph patient denies fever comma chills comma or cough period "
    "scratch that next section go to plan question mark colon open paren close paren"
)


def dictation_asr_options(base: AsrOptions, terms: Sequence[str] = ()) -> AsrOptions:
    """Decoding settings for dictation.

    The initial prompt is written in spoken-punctuation style, so Whisper writes "period"
    and "scratch that" as words rather than inventing its own punctuation; ``terms`` (the
    clinician's vocabulary) become hotwords within a 120-token budget. Measured on four
    synthesised dictations with tiny.en: this prompt turned "crash that" into "scratch that"
    and "one for the overnight" into "... over 90"; hotwords fixed "met for me" -> metformin
    and "in salin" -> insulin. Adding the curated vocabulary of :mod:`pipelines.biasing`
    made it worse here ("assessment" -> "azithromycin"), so only the given terms are used.
    ``condition_on_previous_text`` is off here (on for encounters): on, it invented trailing
    words after the last command. Spelling preferences ("OK") are not hotwords. Other
    fields of ``base`` are kept.
    """
    from pipelines.biasing import model_token_counter, select_terms
    from pipelines.spelling import split_preferences

    _, hotwords = split_preferences(terms)
    clean = list(dict.fromkeys(" ".join(t.split()) for t in hotwords if t.strip()))
    chosen = select_terms(clean, 120, model_token_counter(base.model)) if clean else []
    return replace(base, initial_prompt=_PROMPT, hotwords=", ".join(chosen) or None,
                   condition_on_previous_text=False)
