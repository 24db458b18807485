"""Note templates as data: ``annotations/note_templates/<id>.json`` -> frozen dataclasses.

A template names a note type and its ordered sections. The drafter decides which sentences
go where; the template says which sections exist, in what order, which content kinds
(``pipelines.drafting.kinds``) each receives, how it is laid out and whose voice it speaks
in. Users add a note type by dropping a JSON file into the folder; ``load_template``
validates it and names every problem (file, field, allowed values) in a ``TemplateError``.

Format (``README.md``, "Note templates"):

    {"id": "referral_letter", "version": 1, "title": "...", "description": "...",
     "voice": "clinical" | "plain",
     "sections": [{"key": "reason", "heading": "REASON FOR REFERRAL",
                   "description": "...", "receives": ["assessment", "chief_complaint"],
                   "layout": "prose" | "lines" | "problems", "labels": "none" | "systems" |
                   "plan", "max_sentences": 0}]}
"""

from __future__ import annotations

import json
import re
import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.drafting.kinds import KINDS
from pipelines.paths import ANNOTATIONS_DIR

TEMPLATES_DIR = ANNOTATIONS_DIR / "note_templates"
_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist = 60, 60, 6
VOICES = ("clinical", "plain")
LAYOUTS = ("prose", "lines", "problems")
LABELS = ("none", "systems", "plan")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATE_FIELDS = {"id", "version", "title", "description", "voice", "sections"}
_SECTION_FIELDS = {"key", "heading", "description", "receives", "layout", "labels", "max_sentences"}


def _shown(value: object) -> str:
    """A value quoted in an error message, shortened (a file may hold a 50,000-character id)."""
    return _REPR.repr(value)


class TemplateError(ValueError):
    """A template file that is missing or does not follow the format."""


class TemplateNotFound(TemplateError, FileNotFoundError):
    """No template with that id or path."""


@dataclass(frozen=True)
class SectionSpec:
    """One section of a note.

    key: stable id (lower case); heading: what the rendered note shows;
    receives: content kinds drafted into it; layout: "prose" (one paragraph), "lines" (one
    sentence per line) or "problems" (a line per problem, its assessment and plan below);
    labels: "systems" prefixes body systems ("Respiratory: ..."), "plan" the kind of plan
    step ("Medical Treatment: ..."); max_sentences: keep at most N (0 = no limit).
    """

    key: str
    heading: str
    description: str = ""
    receives: tuple[str, ...] = ()
    layout: str = "prose"
    labels: str = "none"
    max_sentences: int = 0


@dataclass(frozen=True)
class NoteTemplate:
    """A note type: id, version, title, voice and ordered sections (keys are unique)."""

    id: str
    title: str
    sections: tuple[SectionSpec, ...]
    version: int = 1
    description: str = ""
    voice: str = "clinical"

    @property
    def keys(self) -> tuple[str, ...]:
        """Section keys in note order."""
        return tuple(s.key for s in self.sections)

    def section(self, key: str) -> SectionSpec:
        """The section with this key (KeyError if the template has none)."""
        for spec in self.sections:
            if spec.key == key:
                return spec
        raise KeyError(key)

    def section_for(self, kind: str) -> str | None:
        """The key of the first section that receives content ``kind`` (None: left out)."""
        for spec in self.sections:
            if kind in spec.receives:
                return spec.key
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as stored in ``annotations/note_templates``."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "voice": self.voice,
            "sections": [
                {
                    "key": s.key,
                    "heading": s.heading,
                    "description": s.description,
                    "receives": list(s.receives),
                    "layout": s.layout,
                    "labels": s.labels,
                    "max_sentences": s.max_sentences,
                }
                for s in self.sections
            ],
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "template") -> NoteTemplate:
        """Build and validate a template from its JSON form (TemplateError if invalid)."""
        if not isinstance(data, dict):
            raise TemplateError(f"{source}: expected a JSON object, got {type(data).__name__}")
        _check_fields(data, _TEMPLATE_FIELDS, {"id", "title", "sections"}, source)
        tid = _text(data, "id", source)
        if not _ID.match(tid):
            raise TemplateError(f"{source}: id {_shown(tid)} must be lower case letters, digits, _")
        version = data.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise TemplateError(
                f"{source}: version must be a whole number >= 1, got {_shown(version)}"
            )
        voice = data.get("voice", "clinical")
        if voice not in VOICES:
            raise TemplateError(f"{source}: voice {_shown(voice)} is not one of {list(VOICES)}")
        raw_sections = data["sections"]
        if not isinstance(raw_sections, list) or not raw_sections:
            raise TemplateError(f"{source}: sections must be a non-empty list")
        sections = tuple(
            _section(s, f"{source}: sections[{i}]") for i, s in enumerate(raw_sections)
        )
        keys = [s.key for s in sections]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise TemplateError(f"{source}: section keys repeated: {repeated}")
        return cls(
            id=tid,
            title=_text(data, "title", source),
            sections=sections,
            version=version,
            description=str(data.get("description", "")),
            voice=voice,
        )


def _check_fields(data: dict, allowed: set[str], required: set[str], where: str) -> None:
    missing = sorted(required - data.keys())
    if missing:
        raise TemplateError(f"{where}: missing field(s) {missing}")
    unknown = sorted(data.keys() - allowed)
    if unknown:
        raise TemplateError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")


def _text(data: dict, name: str, where: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(f"{where}: {name} must be a non-empty string")
    return value


def _section(data: Any, where: str) -> SectionSpec:
    if not isinstance(data, dict):
        raise TemplateError(f"{where}: expected an object")
    _check_fields(data, _SECTION_FIELDS, {"key", "heading"}, where)
    key = _text(data, "key", where)
    if not _ID.match(key):
        raise TemplateError(f"{where}: key {_shown(key)} must be lower case letters, digits, _")
    receives = data.get("receives", [])
    if not isinstance(receives, list) or not all(isinstance(k, str) for k in receives):
        raise TemplateError(f"{where}: receives must be a list of content kinds")
    unknown = [k for k in receives if k not in KINDS]
    if unknown:
        raise TemplateError(f"{where}: unknown content kind(s) {unknown}; known: {list(KINDS)}")
    layout = data.get("layout", "prose")
    if layout not in LAYOUTS:
        raise TemplateError(f"{where}: layout {_shown(layout)} is not one of {list(LAYOUTS)}")
    labels = data.get("labels", "none")
    if labels not in LABELS:
        raise TemplateError(f"{where}: labels {_shown(labels)} is not one of {list(LABELS)}")
    limit = data.get("max_sentences", 0)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise TemplateError(f"{where}: max_sentences must be a whole number >= 0")
    return SectionSpec(
        key=key,
        heading=_text(data, "heading", where),
        description=str(data.get("description", "")),
        receives=tuple(receives),
        layout=layout,
        labels=labels,
        max_sentences=limit,
    )


def available_templates(directory: Path = TEMPLATES_DIR) -> tuple[str, ...]:
    """Ids of the templates in ``directory`` (sorted)."""
    if not directory.is_dir():
        return ()
    return tuple(sorted(p.stem for p in directory.glob("*.json")))


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False for a name the OS refuses (too long, for one)."""
    try:
        return path.is_file()
    except OSError:
        return False


def load_template(name_or_path: str | Path, directory: Path = TEMPLATES_DIR) -> NoteTemplate:
    """Load a template by id (``"soap"``) or by path to a JSON file.

    Raises TemplateError naming the available templates when the id is unknown, and saying
    what is wrong when the file is not valid JSON or breaks the format; a file's ``id`` must
    match its file name.
    """
    candidate = Path(name_or_path)
    path: Path | None = None
    if candidate.suffix == ".json" or _is_file(candidate):
        path = candidate
    elif _ID.fullmatch(str(name_or_path)):  # "../x", a NUL byte, 5,000 characters: no id
        path = directory / f"{name_or_path}.json"
    if path is None or not _is_file(path):
        raise TemplateNotFound(
            f"note template {_shown(str(name_or_path))} not found; "
            f"available: {list(available_templates(directory))}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: absurdly deep nesting ("[[[[...") exhausts the JSON parser.
        raise TemplateError(f"{path.name}: not valid JSON ({exc})") from None
    template = NoteTemplate.from_dict(data, source=path.name)
    if template.id != path.stem:
        raise TemplateError(f"{path.name}: id {_shown(template.id)} must match the file name")
    return template
