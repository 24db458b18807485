"""What changed since the machine draft, and the note's version history (who changed what).

"Changes before signing" compares the machine draft's sentences with the version on screen,
section by section: removed words struck through, added words marked, each change also
named in words (never colour alone). "Version history" lists every version with who made
it and when, what each event did, and for signed versions what the signer reviewed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import streamlit as st

from pipelines.note_diff import SentenceChange, section_diffs
from workbench import store as db
from workbench.ui import resources
from workbench.ui.review_context import ReviewContext

_DEL = "<del style='color:#b3261e'>{}</del>"
_INS = "<ins style='background:#d6f5dd;text-decoration:none;color:#1e6b34'>{}</ins>"
_TAG = (
    "<span style='font-size:0.75em;border:1px solid #888;border-radius:4px;padding:0 4px'>{}</span>"
)


def changes_before_signing(ctx: ReviewContext, history: db.NoteHistory) -> None:
    """Per section: the machine draft against what will be signed."""
    with st.expander("Changes before signing", icon=":material/difference:"):
        if history.machine is None:
            st.caption("No machine draft to compare with.")
            return
        headings = resources.section_headings(ctx.note.draft.template)
        diffs = section_diffs(
            history.machine.draft.sentences, ctx.note.draft.sentences, ctx.note.draft.sections
        )
        changed = [d for d in diffs if d.changed]
        st.caption(
            f"Machine draft (version {history.machine.version}) against version "
            f"{ctx.note.version}: {len(changed)} of {len(diffs)} sections changed."
        )
        for diff in changed:
            st.markdown(f"**{html.escape(headings.get(diff.section, diff.section))}**")
            st.markdown(
                "<br>".join(change_html(c, headings) for c in diff.changes if c.kind != "kept"),
                unsafe_allow_html=True,
            )


def change_html(change: SentenceChange, headings: Mapping[str, str]) -> str:
    """One changed sentence as HTML: a word tag, then struck/marked text."""
    tag = _TAG.format(change.kind)
    if change.kind == "deleted":
        return f"{tag} {_DEL.format(html.escape(change.before or ''))}"
    if change.kind == "added":
        return f"{tag} {_INS.format(html.escape(change.after or ''))}"
    moved = (
        f" (moved from {html.escape(headings.get(change.moved_from, change.moved_from))})"
        if change.moved_from
        else ""
    )
    if change.kind == "moved":
        return f"{tag} {html.escape(change.after or '')}{moved}"
    pieces = []
    for kind, words in change.tokens:
        text = html.escape(words)
        pieces.append(
            _DEL.format(text)
            if kind == "deleted"
            else _INS.format(text)
            if kind == "added"
            else text
        )
    return f"{tag} {' '.join(pieces)}{moved}"


def version_history(ctx: ReviewContext, history: db.NoteHistory) -> None:
    """Every version, newest first: who made it, when, and what each event changed."""
    texts = _sentence_texts(ctx, history)
    signatures = {s.note_version: s for s in history.signatures}
    by_version: dict[int | None, list[db.Event]] = {}
    for event in history.events:
        by_version.setdefault(event.note_version, []).append(event)
    with st.expander("Version history", icon=":material/history:"):
        for version, created_by, created_at in reversed(history.versions):
            st.markdown(
                f"**Version {version}** · {html.escape(created_by)} · "
                f"{created_at:%Y-%m-%d %H:%M} UTC"
            )
            lines = [
                f"- {e.ts:%H:%M} · {html.escape(e.user_id)} · {html.escape(describe(e, texts))}"
                for e in by_version.get(version, ())
            ]
            signature = signatures.get(version)
            if signature is not None:
                lines.append(f"- {html.escape(signature_line(signature))}")
            st.markdown("\n".join(lines) or "- (no recorded changes)")


def describe(event: db.Event, texts: Mapping[str, str]) -> str:
    """One event in words: what changed (sentence text from the event or the note)."""
    before, after = event.before or {}, event.after or {}
    text = after.get("text") or before.get("text") or texts.get(event.object_id or "", "")
    quoted = f"“{text}”" if text else f"sentence {event.object_id}"
    section = after.get("section") or before.get("section")
    where = f" ({section})" if section else ""
    match event.kind:
        case "note.drafted":
            return f"machine draft, {after.get('sentences', '?')} sentences ({event.model_version})"
        case "note.saved":
            return f"saved {after.get('changes', 0)} change(s) as version {after.get('version')}"
        case "note.signed":
            return "signed"
        case "note.amendment_started":
            return (
                f"started an amendment of version {before.get('version')}: "
                f"“{after.get('reason', '')}”"
            )
        case "note.exported":
            return f"exported as {after.get('format')}"
        case "note.dictated":
            return f"dictated into {', '.join(after.get('sections', [])) or 'the note'}"
        case "note.sections_reordered":
            return "reordered the sections"
        case "note.evidence_remapped":
            return f"moved onto transcript version {after.get('transcript_version')}"
        case "sentence.accepted":
            return f"accepted {quoted}"
        case "sentence.edited":
            return f"edited{where}: “{before.get('text', '')}” → “{after.get('text', '')}”"
        case "sentence.added":
            return f"added{where}: {quoted}"
        case "sentence.deleted":
            return f"removed{where}: {quoted}"
        case "sentence.moved":
            return f"moved {quoted} from {before.get('section')} to {after.get('section')}"
        case "sentence.regenerated":
            return f"machine re-drafted {quoted} after a transcript correction"
        case "sentence.evidence_changed":
            return f"a transcript correction changed the evidence of {quoted}"
        case "omission.added":
            return f"added a possibly missing item{where}"
    return event.kind


def signature_line(signature: db.Signature) -> str:
    """Who signed, when, and what they reviewed before (when it was recorded)."""
    line = f"signed by {signature.signer_name} at {signature.signed_at:%Y-%m-%d %H:%M} UTC"
    if signature.active_seconds is not None:
        line += f" · {signature.active_seconds:.0f} s of active review"
    if signature.looked_at is not None and signature.sentences is not None:
        line += f" · looked at {len(signature.looked_at)} of {signature.sentences} sentences"
    if signature.flagged:
        line += f" · {signature.flagged} flagged sentences decided"
    return line


def _sentence_texts(ctx: ReviewContext, history: db.NoteHistory) -> dict[str, str]:
    machine = history.machine.draft.sentences if history.machine else ()
    return {s.sentence_id: s.text for s in (*machine, *ctx.note.draft.sentences)}


def amendment_of(history: db.NoteHistory, version: int) -> tuple[int, str] | None:
    """(signed version, reason) when ``version`` descends from an amendment started after
    the newest signature, else None."""
    signed = max((s.note_version for s in history.signatures), default=0)
    for event in reversed(history.events):
        if event.kind == "note.amendment_started" and (event.before or {}).get("version") == signed:
            if event.note_version is not None and event.note_version <= version:
                return signed, (event.after or {}).get("reason", "")
    return None


def load_history(ctx: ReviewContext) -> db.NoteHistory:
    """The note's history up to the version on screen (one store read for both views)."""
    return db.note_history(ctx.store, ctx.encounter_id, ctx.note.version)
