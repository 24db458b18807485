"""A Draft as the plain-text note a template describes: headings, layout, labels.

Sections come in the draft's order (a clinician's style may reorder them); empty sections
are left out. "prose" joins a section's sentences into one paragraph,
"lines" puts each on its own line, and "problems" starts a new block at each problem name
(a sentence without a label that is followed by labelled ones).
"""

from __future__ import annotations

from pipelines.drafting.structure import split_label
from pipelines.drafting.templates import NoteTemplate, TemplateError, load_template
from pipelines.types import Draft


def _problem_blocks(texts: list[str]) -> str:
    lines: list[str] = []
    for i, text in enumerate(texts):
        nxt = texts[i + 1] if i + 1 < len(texts) else ""
        heading = not split_label(text)[0] and bool(split_label(nxt)[0])
        if heading and lines:
            lines.append("")
        lines.append(text)
    return "\n".join(lines)


def render_note(draft: Draft, template: NoteTemplate | None = None) -> str:
    """The note as plain text; falls back to ``Draft.render_text`` for an unknown template."""
    if template is None:
        try:
            template = load_template(draft.template)
        except TemplateError:
            return draft.render_text()
    specs = {spec.key: spec for spec in template.sections}
    ordered = [specs[k] for k in draft.sections if k in specs]
    ordered += [spec for spec in template.sections if spec.key not in draft.sections]
    parts = []
    for spec in ordered:
        texts = [s.text for s in draft.section_sentences(spec.key)]
        if not texts:
            continue
        if spec.layout == "prose":
            body = " ".join(texts)
        elif spec.layout == "problems":
            body = _problem_blocks(texts)
        else:
            body = "\n".join(texts)
        parts.append(f"{spec.heading}\n\n{body}")
    return "\n\n".join(parts)
