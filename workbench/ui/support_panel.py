"""Support badges on draft sentences, the "Needs attention" list and possible omissions.

Each sentence shows its support label as a text badge with a colour (never colour alone);
unsupported, then partly supported sentences are listed first with their reasons and a
button that plays their evidence. Omissions (important transcript passages no sentence
covers) can be added to the note: a new note version plus ``sentence.added`` and
``omission.added`` events in one transaction.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import replace

import streamlit as st

from pipelines.editing import new_sentence
from pipelines.types import Evidence, NoteSentence, Omission, SupportResult, Transcript
from pipelines.verify import VERIFY_VERSION
from workbench import store as db
from workbench.support import current_support
from workbench.ui import components as ui
from workbench.ui import note_editor as ed
from workbench.ui import resources

# label -> (text, colour name for st.markdown badges, hex colour for HTML, icon)
LABELS = {
    "unsupported": ("unsupported", "red", "#b3261e", "error"),
    "partly_supported": ("partly supported", "orange", "#8a4b00", "warning"),
    "supported": ("supported", "green", "#1e6b34", "check_circle"),
}
ATTENTION = ("unsupported", "partly_supported")  # listed in this order


def support_badge(result: SupportResult | None) -> str:
    """The label as a Markdown badge: icon, words and colour."""
    if result is None:
        return ":gray-badge[:material/help: not checked]"
    text, colour, _, icon = LABELS[result.label]
    return f":{colour}-badge[:material/{icon}: {text}]"


def _badge_html(label: str) -> str:
    text, _, colour, _ = LABELS[label]
    return (
        f"<span style='background:{colour};color:white;border-radius:4px;padding:0 6px;"
        f"font-size:0.8em'>{html.escape(text)}</span>"
    )


def evidence_for(
    sentence: NoteSentence, results: Mapping[str, SupportResult]
) -> tuple[Evidence, ...]:
    """The sentence's own evidence, else the passages the support check aligned to it."""
    if sentence.evidence:
        return sentence.evidence
    found = results.get(sentence.sentence_id)
    return found.evidence if found else ()


def load_support(
    store: db.Store, encounter_id: str, note: db.NoteVersion, user: str
) -> db.SupportCheck | None:
    """The note version's support check (checked now if it has none yet, or it is stale)."""
    try:
        with st.spinner("Checking the note against the transcript…"):
            return current_support(store, resources.get_engine(), encounter_id, user, note)
    except db.StoreError as exc:
        st.warning(f"The support check could not run: {exc}")
        return None


def attention_items(results: tuple[SupportResult, ...]) -> list[SupportResult]:
    """Unsupported sentences, then partly supported ones, each in note order."""
    return sorted(
        (r for r in results if r.label in ATTENTION), key=lambda r: ATTENTION.index(r.label)
    )


def needs_attention(
    check: db.SupportCheck | None,
    headings: Mapping[str, str],
    on_play: Callable[[str], None],
) -> None:
    """A bordered list at the top of the note: what the transcript does not back, and why."""
    if check is None:
        return
    items = attention_items(check.results)
    with st.container(border=True, key="needs-attention"):
        if not items:
            st.markdown(
                ":green-badge[:material/check_circle: supported] Every sentence is "
                "backed by the transcript."
            )
            return
        counts = {label: sum(r.label == label for r in items) for label in ATTENTION}
        st.markdown(
            f"**Needs attention ({len(items)})** · {counts['unsupported']} unsupported"
            f" · {counts['partly_supported']} partly supported"
        )
        for r in items:
            problems = [x for x in r.reasons if x.verdict != "ok"]
            body = "".join(f"<li>{html.escape(x.message)}</li>" for x in problems)
            text_col, play_col = st.columns([0.88, 0.12], vertical_alignment="center")
            text_col.markdown(
                f"<div class='support-item'>{_badge_html(r.label)} "
                f"<i>{html.escape(headings.get(r.section, r.section))}</i> · "
                f"{html.escape(r.text)}<ul style='margin:0'>{body}</ul></div>",
                unsafe_allow_html=True,
            )
            play_col.button(
                "▶",
                key=f"attn-play-{r.sentence_id}",
                help="Play the evidence",
                on_click=on_play,
                args=(r.sentence_id,),
                disabled=not r.evidence,
            )


def _quote(omission: Omission, transcript: Transcript) -> str:
    parts = []
    for ev in omission.evidence:
        seg = transcript.segments[ev.segment_idx]
        parts.append(
            f"“{html.escape(seg.text[ev.start_char : ev.end_char])}” "
            f"({ui.fmt_time(ev.start_s)}, {html.escape(seg.speaker)})"
        )
    return " … ".join(parts)


def add_omission(
    store: db.Store, encounter_id: str, note: db.NoteVersion, omission: Omission, user: str
) -> int:
    """Add the omission's suggested sentence, with its evidence, at the end of its section.

    Pending edits in the editor are saved with it. Returns the new note version.
    """
    sentence = replace(
        new_sentence(omission.section, omission.suggestion), evidence=omission.evidence
    )
    pending = ed.insert_in_section(ed.pending_sentences(note), sentence)
    event = db.new_event(
        user,
        encounter_id,
        "omission.added",
        object_type="sentence",
        object_id=sentence.sentence_id,
        after={
            "kind": omission.kind,
            "section": sentence.section,
            "text": sentence.text,
            "mentions": list(omission.mentions),
            "evidence": [[e.segment_idx, e.start_char, e.end_char] for e in sentence.evidence],
        },
        model_version=VERIFY_VERSION,
    )
    return db.save_note(store, encounter_id, note.version, pending, user, extra_events=[event])


def omissions_panel(
    store: db.Store,
    encounter_id: str,
    note: db.NoteVersion,
    check: db.SupportCheck | None,
    transcript: Transcript,
    headings: Mapping[str, str],
    user: str,
) -> None:
    """An expander with the important passages no sentence covers, each with "Add to note"."""
    if check is None:
        return
    found = check.omissions
    with st.expander(
        f"Possibly missing from the note ({len(found)})",
        icon=":material/playlist_add:",
        expanded=bool(found),
    ):
        if not found:
            st.caption("Every clinically important passage of the transcript is in the note.")
            return
        st.caption(
            ":material/smart_toy: Problems, medication changes, abnormal values and "
            "plan items in the transcript that no sentence covers."
        )
        for i, omission in enumerate(found):
            text_col, add_col = st.columns([0.8, 0.2], vertical_alignment="center")
            section = headings.get(omission.section, omission.section)
            text_col.markdown(
                f"<div class='omission'><b>{html.escape(omission.reason)}</b><br>"
                f"{_quote(omission, transcript)}<br>"
                f"<small>Add to <i>{html.escape(section)}</i>: "
                f"{html.escape(omission.suggestion)}</small></div>",
                unsafe_allow_html=True,
            )
            if add_col.button("Add to note", key=f"omission-add-{i}"):
                try:
                    version = add_omission(store, encounter_id, note, omission, user)
                except (db.ConcurrentEdit, db.NoteLocked) as exc:
                    st.error(str(exc))
                else:
                    st.toast(f"Added to {section}: saved version {version}")
                    st.rerun()
