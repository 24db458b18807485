"""LLM prompts as data: ``annotations/prompts/<note type>.json`` -> chat messages.

A prompt file holds a system message (our rules, never any transcript text) and a user
message template. The transcript goes only into the user message, between ``<transcript>``
tags, one escaped line per segment, so that words spoken in the visit ("ignore previous
instructions ...") reach the model as quoted data and cannot close the data block or pose
as a new speaker line. A note template without its own prompt file uses ``default.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from pipelines.drafting.templates import NoteTemplate
from pipelines.paths import ANNOTATIONS_DIR
from pipelines.types import Entity, Transcript

PROMPTS_DIR = ANNOTATIONS_DIR / "prompts"
DEFAULT_PROMPT = "default"
# The only placeholders a user template may use; the system message may use none.
PLACEHOLDERS = frozenset({"title", "sections", "transcript", "entities", "first_heading"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# Chat-template and role markers ("<|im_start|>system", "[INST]", "<<SYS>>"): in the data
# they could pose as a turn boundary to a model whose template uses them.
_ROLE_MARKERS = re.compile(
    r"<\|[^|<>]{0,40}\|>|<</?SYS>>|\[/?INST\]|<(?:start|end)_of_turn>|</?s>",
    re.IGNORECASE,
)
# Text that imitates the prompt's structure (data tags, role markers, transcript line
# labels) or carries HTML/script: spoken words never look like this, so it was typed or
# planted to steer a model, and it is never note material or evidence.
PROMPT_MARKUP = re.compile(
    r"</?\s*(?:transcript|entities)\s*>|<\|[^|<>]{0,40}\|>|<</?SYS>>|\[/?INST\]|"
    r"<(?:start|end)_of_turn>|\bS\d+\s+(?:clinician|patient|unknown)\s*:|"
    r"<\s*/?\s*[a-z][a-z0-9]*(?:\s[^<>]*)?/?\s*>|\bjavascript\s*:",
    re.IGNORECASE,
)
_SAFE_ID = re.compile(r"[a-z0-9_-]{1,64}")


class PromptError(ValueError):
    """A prompt file that is not valid; the message names the file and what is wrong."""


@dataclass(frozen=True)
class PromptSpec:
    """One note type's prompt: a fixed system message and a user message template."""

    id: str
    system: str
    user: str
    version: int = 1
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as stored in ``annotations/prompts``."""
        return {
            "id": self.id,
            "version": self.version,
            "description": self.description,
            "system": self.system,
            "user": self.user,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PromptSpec:
        """Build and validate a prompt from its JSON form.

        The user template must contain ``$transcript`` and use only the known placeholders;
        the system message may contain no placeholder at all (transcript text never goes
        there).
        """
        if not isinstance(data, dict):
            raise PromptError(f"a prompt must be a JSON object, got {type(data).__name__}")
        missing = [k for k in ("id", "system", "user") if not isinstance(data.get(k), str)]
        if missing:
            raise PromptError(f"prompt {data.get('id')!r}: missing or non-text {missing}")
        version = data.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise PromptError(f"prompt {data['id']!r}: version must be a whole number >= 1")
        spec = cls(
            id=data["id"],
            system=data["system"],
            user=data["user"],
            version=version,
            description=str(data.get("description", "")),
        )
        used = set(Template(spec.user).get_identifiers())
        if "transcript" not in used:
            raise PromptError(f"prompt {spec.id!r}: the user template lacks $transcript")
        if unknown := used - PLACEHOLDERS:
            raise PromptError(f"prompt {spec.id!r}: unknown placeholders {sorted(unknown)}")
        if Template(spec.system).get_identifiers():
            raise PromptError(f"prompt {spec.id!r}: the system message may not use placeholders")
        return spec


def load_prompt(template_id: str, directory: Path = PROMPTS_DIR) -> PromptSpec:
    """The prompt for a note template id, else the default prompt.

    An id that is not a plain name (``../x``) never names a file: it gets the default.
    Raises PromptError for a file that is not UTF-8 JSON or not a valid prompt.
    """
    path = directory / f"{template_id}.json"
    if not _SAFE_ID.fullmatch(template_id) or not path.is_file():
        path = directory / f"{DEFAULT_PROMPT}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt for {template_id!r} and no {DEFAULT_PROMPT}.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # JSON and UTF-8 errors are ValueErrors
        raise PromptError(f"{path.name}: not valid JSON ({exc})") from None
    return PromptSpec.from_dict(data)


def quote(text: str) -> str:
    """Text made safe to sit inside the data block: one line, no tags, no markup.

    ``&``, ``<`` and ``>`` are escaped (so "</transcript>" cannot end the block), line
    breaks and control characters become spaces (so no text can start a fake speaker line)
    and chat-template role markers are removed (so none can pose as a new turn).
    """
    flat = _ROLE_MARKERS.sub(" ", _CONTROL.sub(" ", text))
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").strip()


def unquote(text: str) -> str:
    """Undo ``quote``'s escapes in model output that copied transcript words."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def transcript_block(transcript: Transcript) -> str:
    """One quoted line per segment: ``S<idx> <speaker>: <words>``."""
    return "\n".join(
        f"S{s.idx} {s.speaker}: {quote(s.text)}" for s in transcript.segments if s.text.strip()
    )


def entity_block(entities: tuple[Entity, ...]) -> str:
    """One quoted line per distinct entity: its words, label and context flags."""
    lines: list[str] = []
    for e in entities:
        flags = [f for f in ("negated", "historical", "family", "hypothetical") if getattr(e, f)]
        line = f"- {quote(e.text)} ({', '.join([e.label, *flags])})"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines) or "(none)"


def build_messages(
    prompt: PromptSpec,
    template: NoteTemplate,
    transcript: Transcript,
    entities: tuple[Entity, ...] = (),
) -> list[dict[str, str]]:
    """The chat messages: the fixed system message, then the user message with the data.

    ``Template.substitute`` scans only our template, so "$" or braces inside the transcript
    are inserted literally and never expanded.
    """
    sections = "\n".join(
        f"- {s.heading}: {s.description}" if s.description else f"- {s.heading}"
        for s in template.sections
    )
    user = Template(prompt.user).substitute(
        title=template.title,
        sections=sections,
        transcript=transcript_block(transcript),
        entities=entity_block(entities),
        first_heading=template.sections[0].heading,
    )
    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": user}]
