"""Replay: a clinician with fixed habits signs ACI-Bench train visits one after another.

Each visit goes through the real store and jobs (transcript -> clinical NLP -> learned
drafter -> the clinician's current style); the simulated clinician then edits the draft
into the note they always want (``Habits``: their wording, section order and brevity,
applied to the plain draft), saves, signs, and their style is relearned. For every visit
the curve holds the normalised word edit distance between what the clinician was shown
and what they signed, for the personalised draft and for the plain draft of the same visit.

``python -m benchmarks.personalisation [N]`` prints the curve as JSON and writes it to
``benchmarks/personalisation.json`` (needs the ACI-Bench data under SCRIBE_DATASETS).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.asr_eval.scoring import edit_distance
from pipelines.drafting.render import render_note
from pipelines.drafting.structure import split_label
from pipelines.drafting.style import unstyled
from pipelines.note_eval.data import read_examples
from pipelines.types import Draft, Transcript
from pipelines.verify.plain import dialogue_transcript
from workbench import personalisation as ps
from workbench import store as st
from workbench.jobs import Engine, PipelineOptions, draft_encounter, process_encounter

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = "aci_visit"


@dataclass(frozen=True)
class Habits:
    """What one clinician always does to a plain draft before signing it.

    rewrites: (regex, replacement) applied to every sentence; first: the section they put
    first; delete_sections / delete_labels: what they always remove; keep_at_most: the most
    sentences they keep in a section, dropping the shortest first; note_prefix: a word they
    add to the first sentence of a section (content the style must never learn to add).
    """

    rewrites: tuple[tuple[str, str], ...] = (
        (r"^Medical Treatment:", "Tx:"),
        (r"^Additional Testing:", "Testing:"),
        (r"\b(?:He|She|The patient) reports\b", "Pt reports"),
        (r"\ba little ", ""),
    )
    first: str = "assessment_and_plan"
    delete_sections: tuple[str, ...] = ("review_of_systems",)
    delete_labels: tuple[str, ...] = ("Patient Education and Counseling",)
    keep_at_most: tuple[tuple[str, int], ...] = (("history_of_present_illness", 10),)
    note_prefix: tuple[str, str] = ("results", "Reviewed:")

    def sign(self, plain: Draft) -> Draft:
        """The note this clinician signs for a visit whose plain draft is ``plain``."""
        out = []
        for s in plain.sentences:
            if s.section in self.delete_sections or split_label(s.text)[0] in self.delete_labels:
                continue
            text = s.text
            for pattern, new in self.rewrites:
                text = re.sub(pattern, new, text)
            text = text[:1].upper() + text[1:]
            out.append(s if text == s.text else replace(s, text=text, origin="human"))
        for section, most in self.keep_at_most:
            mine = [s for s in out if s.section == section]
            shortest = sorted(mine, key=lambda s: (len(s.text.split()), -mine.index(s)))
            dropped = {s.sentence_id for s in shortest[: max(len(mine) - most, 0)]}
            out = [s for s in out if s.sentence_id not in dropped]
        section, prefix = self.note_prefix
        at = next((i for i, s in enumerate(out) if s.section == section), None)
        if at is not None:
            out[at] = replace(out[at], text=f"{prefix} {out[at].text}", origin="human")
        sections = (self.first, *(k for k in plain.sections if k != self.first))
        rank = {k: i for i, k in enumerate(sections)}
        out.sort(key=lambda s: rank[s.section])
        return replace(plain, sections=sections, sentences=tuple(out))


@dataclass(frozen=True)
class ReplayStep:
    """One visit: how many notes the style had learned from, and the two distances."""

    encounter_id: str
    learned_from: int
    personalised: float
    plain: float
    summary: str


def note_distance(shown: Draft, signed: Draft) -> float:
    """Word-level edit distance between the two rendered notes, over the longer one."""
    a, b = render_note(shown).split(), render_note(signed).split()
    return edit_distance(a, b) / max(len(a), len(b), 1)


def replay_visit(
    store: st.Store,
    data_dir: Path,
    engine: Engine,
    encounter_id: str,
    transcript: Transcript,
    clinician: str,
    habits: Habits,
) -> ReplayStep:
    """Draft one visit for the clinician, have them sign their note, relearn their style."""
    st.add_encounter(
        store,
        st.EncounterRecord(encounter_id, f"Replay {encounter_id}", clinician=clinician),
        clinician,
    )
    # Replayed ACI-Bench visits are public data: their notes may teach the style.
    st.set_consent(store, encounter_id, True, clinician, "public dataset (ACI-Bench)")
    version = st.save_transcript(store, encounter_id, transcript, clinician)
    style = ps.current_style(store, clinician)
    learned_from = style.notes if style else 0
    process_encounter(store, data_dir, engine, encounter_id, clinician)
    shown = st.get_note(store, encounter_id)
    entities = st.get_entities(store, encounter_id, version)
    plain = draft_encounter(engine, encounter_id, transcript, entities)
    if unstyled(shown.draft).sentences != plain.sentences:
        raise AssertionError(f"{encounter_id}: the stored draft does not undo to the plain one")
    signed = habits.sign(plain)
    saved = st.save_note(
        store, encounter_id, shown.version, signed.sentences, clinician, sections=signed.sections
    )
    st.sign_note(store, encounter_id, saved, clinician)
    ps.after_sign(store, encounter_id, clinician)
    return ReplayStep(
        encounter_id,
        learned_from,
        round(note_distance(shown.draft, signed), 4),
        round(note_distance(plain, signed), 4),
        ps.style_summary(store, clinician) or "",
    )


def aci_train_transcripts(datasets: Path, n: int) -> list[tuple[str, Transcript]]:
    """The first ``n`` ACI-Bench train dialogues as transcripts."""
    data = Path(datasets) / "aci-bench" / "data" / "challenge_data" / "train.csv"
    if not data.is_file():
        raise FileNotFoundError(f"{data} not found (set SCRIBE_DATASETS)")
    examples = read_examples(data)[:n]
    return [(e.encounter_id, dialogue_transcript(e.dialogue, e.encounter_id)) for e in examples]


def main(n: int = 14) -> dict:
    from workbench.settings import setting

    os.environ["SCRIBE_NOTE_TEMPLATE"] = TEMPLATE
    datasets = (REPO / setting("SCRIBE_DATASETS")).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        store = st.open_store(data)
        engine = Engine(PipelineOptions(), store)
        steps = [
            replay_visit(store, data, engine, eid, transcript, "dr-habit", Habits())
            for eid, transcript in aci_train_transcripts(datasets, n)
        ]
    learned = [s for s in steps if s.learned_from >= 2]
    return {
        "benchmark": "personalisation",
        "mean_first_two": round(sum(s.personalised for s in steps[:2]) / 2, 4),
        "mean_personalised_once_learned": round(
            sum(s.personalised for s in learned) / max(len(learned), 1), 4
        ),
        "mean_plain_same_visits": round(sum(s.plain for s in learned) / max(len(learned), 1), 4),
        "template": TEMPLATE,
        "dataset": "ACI-Bench train (first visits)",
        "metric": "normalised word edit distance, shown draft vs signed note",
        "curve": [step.__dict__ for step in steps],
    }


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else 14)
    (REPO / "benchmarks" / "personalisation.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
