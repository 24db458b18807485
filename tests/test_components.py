"""Transcript HTML: entities, negation, evidence and unsure words are all visible, text escaped."""

from __future__ import annotations

from dataclasses import replace

from pipelines.types import Entity, Evidence, Word
from tests.conftest import make_transcript
from workbench.ui.components import highlight_segment, segment_row

COLOURS = {"PROBLEM": "#882255"}


def _segment():
    seg = make_transcript([("patient", "No fever but a <cough> today")]).segments[0]
    words = list(seg.words)
    words[5] = Word(words[5].start, words[5].end, words[5].text, 0.21)  # "today"
    return replace(seg, words=tuple(words))


def test_entities_negation_and_escaping() -> None:
    seg = _segment()
    ents = (Entity(0, 3, 8, "fever", "PROBLEM", negated=True),
            Entity(0, 15, 22, "<cough>", "PROBLEM"))
    out = highlight_segment(seg, ents, COLOURS)
    assert "line-through" in out and "fever" in out
    assert "&lt;cough&gt;" in out and "<cough>" not in out
    assert out.count("#882255") >= 2


def test_unsure_words_are_marked_with_their_probability() -> None:
    out = highlight_segment(_segment(), (), COLOURS)
    assert "class='lowconf'" in out and "21%" in out
    assert out.count("lowconf") == 1 and "today</span>" in out


def test_evidence_is_highlighted_and_row_shows_speaker() -> None:
    seg = _segment()
    out = highlight_segment(seg, (), COLOURS, (Evidence(0, 0, 8, 0.0, 1.0),))
    assert "<mark" in out
    row = segment_row(seg, out, selected=True)
    assert "Patient" in row and "0:00" in row


def test_context_style_follows_the_label_schema() -> None:
    from pipelines.schema import load_label_schema

    schema = load_label_schema()
    seg = make_transcript([("patient", "No fever, my mother had asthma, maybe reflux")]).segments[0]
    ents = (Entity(0, 3, 8, "fever", "PROBLEM", negated=True),
            Entity(0, 24, 30, "asthma", "PROBLEM", family=True, historical=True),
            Entity(0, 38, 44, "reflux", "PROBLEM", uncertain=True))
    out = highlight_segment(seg, ents, COLOURS, negated_colour=schema.negated.color)
    negated = out[: out.index("fever")]
    assert f"color:{schema.negated.color}" in negated and "line-through" in negated
    assert "title='absent: PROBLEM'" in negated, "hover says the finding is absent"
    assert "dashed #882255" in out and ">hx fam</sup>" in out and ">?</sup>" in out
    assert out.count("line-through") == 1
    assert ">asthma</span><sup" in out and ">reflux</span><sup" in out
