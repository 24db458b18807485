"""The labelling config of a Scribe project, and whether a project still has it."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

from pipelines.annotation_schema import TaskSchema
from pipelines.schema import LabelSchema, label_studio_config


def project_config(labels: LabelSchema, tasks: TaskSchema, *, audio: bool) -> str:
    """The config Scribe gives its projects: entities, attribute spans, relations, context,
    attributes and encounter-level questions (``pipelines.schema.label_studio_config``);
    the audio player only when the tasks carry audio URLs."""
    return label_studio_config(labels, tasks, audio=audio)


def canonical(config: str) -> str:
    """The config with formatting differences removed (whitespace between tags, attribute
    order, quoting); ``ValueError`` when it is not XML."""
    try:
        return ET.canonicalize(config, strip_text=True)
    except ET.ParseError as exc:
        raise ValueError(f"the labelling config is not XML ({exc})") from None


def same_config(a: str, b: str) -> bool:
    """Whether two labelling configs say the same thing (formatting aside)."""
    return canonical(a) == canonical(b)


def config_sha256(config: str) -> str:
    """sha256 of the canonical config, as the sync state remembers it."""
    return hashlib.sha256(canonical(config).encode("utf-8")).hexdigest()
