"""Note types as data: every shipped template loads and round-trips; a user's file in the
folder is picked up; broken files are refused with a message that names the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.drafting import TemplateError, available_templates, load_template
from pipelines.drafting.kinds import KINDS
from pipelines.drafting.templates import TEMPLATES_DIR, NoteTemplate, TemplateNotFound

SHIPPED = (
    "aci_visit",
    "after_visit_summary",
    "cardiology_visit",
    "orthopedic_visit",
    "progress_note",
    "referral_letter",
    "soap",
)


def test_the_note_types_of_the_issue_are_shipped() -> None:
    assert set(SHIPPED) <= set(available_templates())
    aci = load_template("aci_visit")
    assert [s.heading for s in aci.sections] == [
        "CHIEF COMPLAINT",
        "HISTORY OF PRESENT ILLNESS",
        "REVIEW OF SYSTEMS",
        "VITALS",
        "PHYSICAL EXAM",
        "RESULTS",
        "ASSESSMENT AND PLAN",
    ]
    assert load_template("after_visit_summary").voice == "plain"


@pytest.mark.parametrize("template_id", SHIPPED)
def test_every_shipped_template_round_trips_and_routes_every_kind_it_names(template_id) -> None:
    template = load_template(template_id)
    path = TEMPLATES_DIR / f"{template_id}.json"
    assert template.to_dict() == json.loads(path.read_text())
    assert NoteTemplate.from_dict(template.to_dict()) == template
    assert template.version >= 1 and template.title and template.description
    received = [k for s in template.sections for k in s.receives]
    assert received and set(received) <= set(KINDS)
    for spec in template.sections:
        assert spec.heading and spec.description
        for kind in spec.receives:
            # a kind goes to the first section that names it
            assert template.section_for(kind) in [s.key for s in template.sections]


def _write(folder: Path, name: str, data: object) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def _valid(tid: str = "my_clinic") -> dict:
    return {
        "id": tid,
        "version": 3,
        "title": "My clinic note",
        "sections": [
            {"key": "story", "heading": "STORY", "receives": ["hpi", "chief_complaint"]},
            {"key": "todo", "heading": "TO DO", "receives": ["plan"], "layout": "lines"},
        ],
    }


def test_a_users_file_dropped_in_the_folder_is_available(tmp_path: Path) -> None:
    _write(tmp_path, "my_clinic", _valid())
    assert available_templates(tmp_path) == ("my_clinic",)
    template = load_template("my_clinic", directory=tmp_path)
    assert (template.id, template.version, template.keys) == ("my_clinic", 3, ("story", "todo"))
    assert template.section_for("hpi") == "story"
    assert template.section_for("exam") is None  # not in this note type: left out
    assert load_template(tmp_path / "my_clinic.json") == template


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("title"), "missing field(s) ['title']"),
        (lambda d: d.update(colour="red"), "unknown field(s) ['colour']"),
        (lambda d: d.update(version=0), "version must be a whole number >= 1"),
        (lambda d: d.update(voice="pirate"), "voice 'pirate' is not one of"),
        (lambda d: d.update(sections=[]), "sections must be a non-empty list"),
        (
            lambda d: d["sections"][0].update(receives=["gossip"]),
            "unknown content kind(s) ['gossip']",
        ),
        (lambda d: d["sections"][1].update(layout="columns"), "layout 'columns' is not one of"),
        (lambda d: d["sections"][1].update(labels="emoji"), "labels 'emoji' is not one of"),
        (lambda d: d["sections"][1].update(key="story"), "section keys repeated: ['story']"),
        (lambda d: d["sections"][0].update(key="Story Time"), "must be lower case"),
        (lambda d: d["sections"][0].pop("heading"), "sections[0]: missing field(s) ['heading']"),
        (lambda d: d["sections"][1].update(max_sentences=-1), "max_sentences must be"),
    ],
)
def test_invalid_templates_are_refused_with_what_is_wrong(tmp_path, change, message) -> None:
    data = _valid()
    change(data)
    _write(tmp_path, "my_clinic", data)
    with pytest.raises(TemplateError) as err:
        load_template("my_clinic", directory=tmp_path)
    assert "my_clinic.json" in str(err.value) and message in str(err.value)


def test_broken_json_an_id_that_is_not_the_file_name_and_unknown_ids(tmp_path: Path) -> None:
    _write(tmp_path, "broken", '{"id": "broken", ')
    with pytest.raises(TemplateError, match=r"broken\.json: not valid JSON"):
        load_template("broken", directory=tmp_path)
    _write(tmp_path, "renamed", _valid("other_name"))
    with pytest.raises(TemplateError, match="must match the file name"):
        load_template("renamed", directory=tmp_path)
    with pytest.raises(TemplateNotFound, match=r"available: \['broken', 'renamed'\]"):
        load_template("nope", directory=tmp_path)
    with pytest.raises(FileNotFoundError):  # older callers catch this
        load_template("nope", directory=tmp_path)
