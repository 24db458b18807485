"""The Worklist page and the Review page's header, driven through the app with AppTest on a
real DuckDB file: filters from the URL, counts, paging, "Open next unsigned", previous/next
and find."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from benchmarks._worklist_data import fake_encounters, insert_fake
from tests.conftest import APP, make_draft, make_transcript, seed_encounter, sign_in
from tests.test_worklist import expected
from workbench import store as st
from workbench.store.records import STATUSES

FAKES = fake_encounters(250, seed=5)


def _app(monkeypatch: pytest.MonkeyPatch, data: Path, role: str = "clinician",
         **params) -> AppTest:
    """The app signed in as dr-test (an admin sees every clinician's encounters)."""
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    monkeypatch.setenv("SCRIBE_USER", "dr-test")
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60), data, "dr-test", role)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _listed(at: AppTest) -> list[str]:
    return [b.key.removeprefix("open-") for b in at.button if b.key.startswith("open-")]


def _param(at: AppTest, name: str) -> list[str]:
    """A URL parameter's values (AppTest keeps a single value as a plain string)."""
    value = at.query_params.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def _counts(at: AppTest) -> dict[str, int]:
    return {m.label.lower(): int(m.value) for m in at.metric}


@pytest.fixture
def fake_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    insert_fake(st.open_store(data), FAKES)
    return data


def test_a_shared_link_restores_the_filters_and_the_page(monkeypatch, fake_data) -> None:
    at = _app(monkeypatch, fake_data, "admin", status=["drafted", "in review"], sort="oldest",
              page="2")
    assert not at.exception, at.exception
    assert at.multiselect(key="wl_status").value == ["drafted", "in review"]
    assert at.selectbox(key="wl_sort").value == "oldest"
    want = expected(FAKES, st.WorklistQuery(statuses=("drafted", "in review"), sort="oldest"))
    assert len(want) > 100
    assert _listed(at) == want[50:100]
    assert f"Showing 51 to 100 of {len(want)}" in [c.value for c in at.caption]

    at.button(key="wl_next_page").click().run()
    assert _listed(at) == want[100:150]
    assert _param(at, "page") == ["3"] and _param(at, "sort") == ["oldest"]
    at.button(key="wl_prev_page").click().run()
    assert _listed(at) == want[50:100] and _param(at, "page") == ["2"]


def test_filters_change_the_list_counts_and_url_and_survive_a_page_switch(
    monkeypatch, fake_data
) -> None:
    at = _app(monkeypatch, fake_data, "admin")
    overall = {s: sum(e.status == s for e in FAKES) for s in STATUSES}
    assert _counts(at) == overall
    assert _listed(at) == expected(FAKES, st.WorklistQuery())[:50]
    assert at.button(key="wl_prev_page").disabled
    at.button(key="wl_next_page").click().run()
    assert _listed(at) == expected(FAKES, st.WorklistQuery())[50:100]

    at.multiselect(key="wl_specialty").select("Cardiology").run()
    at.selectbox(key="wl_sort").select("duration").run()
    query = st.WorklistQuery(specialties=("Cardiology",), sort="duration")
    cardiology = [e for e in FAKES if e.specialty == "Cardiology"]
    assert _listed(at) == expected(FAKES, query)[:50]  # a new filter starts at page 1
    assert _counts(at) == {s: sum(e.status == s for e in cardiology) for s in STATUSES}
    assert f"{overall['signed']} overall" in [c.value for c in at.caption]
    assert _param(at, "specialty") == ["Cardiology"] and "page" not in at.query_params

    at.multiselect(key="wl_status").select("signed").run()
    signed = expected(FAKES, replace(query, statuses=("signed",)))
    assert _listed(at) == signed[:50] and signed
    assert _counts(at)["drafted"] == sum(e.status == "drafted" for e in cardiology)

    at.switch_page("views/vocabulary.py").run()
    at.switch_page("views/worklist.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="wl_status").value == ["signed"]
    assert at.multiselect(key="wl_specialty").value == ["Cardiology"]
    assert _listed(at) == signed[:50]


def test_bad_url_values_are_ignored_with_a_warning(monkeypatch, fake_data) -> None:
    at = _app(monkeypatch, fake_data, "admin", status="lost", sort="random", to="yesterday")
    assert not at.exception, at.exception
    assert [w.value for w in at.main.warning] == [
        "Ignored the unknown status 'lost'.",
        "Ignored the unknown sort 'random'.",
        "Ignored the date 'yesterday': use YYYY-MM-DD.",
    ]
    assert _listed(at) == expected(FAKES, st.WorklistQuery())[:50]


@pytest.fixture
def drafted_data(tmp_path: Path) -> Path:
    """Four drafted encounters, oldest first; the second is signed."""
    data = tmp_path / "data"
    transcript = make_transcript(
        [
            ("clinician", "How is the cough today?"),
            ("patient", "Much better since Monday, thank you."),
        ]
    )
    for encounter_id in ("e-old", "e-signed", "e-mid", "e-new"):
        store = seed_encounter(data, encounter_id, transcript, draft=make_draft(transcript))
    st.sign_note(store, "e-signed", 1, "dr-a")
    return data


def _title(at: AppTest) -> str:
    return at.title[0].value


def test_open_next_unsigned_goes_oldest_first_and_skips_signed_and_open(
    monkeypatch, drafted_data
) -> None:
    at = _app(monkeypatch, drafted_data)
    at.button(key="worklist_next_unsigned").click().run()
    assert not at.exception, at.exception
    assert _title(at) == "Visit e-old" and _param(at, "encounter") == ["e-old"]

    at.button(key="review_next_unsigned").click().run()
    assert _title(at) == "Visit e-mid"  # e-signed is signed, e-old is the one open

    store = st.open_store(drafted_data)
    for encounter_id in ("e-old", "e-new"):
        st.sign_note(store, encounter_id, 1, "dr-a")
    at.button(key="review_next_unsigned").click().run()
    assert _title(at) == "Visit e-mid"
    assert "No unsigned drafts left under these filters." in [i.value for i in at.info]


def test_review_header_moves_through_the_worklist_and_finds_by_id(
    monkeypatch, drafted_data
) -> None:
    at = _app(monkeypatch, drafted_data)
    at.button(key="open-e-mid").click().run()
    assert _title(at) == "Visit e-mid"
    assert "2 of 4 in the worklist" in [c.value for c in at.caption]  # newest first
    assert not [s for s in at.selectbox if "e-old" in s.options], "no list of every encounter"

    at.button(key="review_next").click().run()
    assert _title(at) == "Visit e-signed"
    at.button(key="review_prev").click().run()
    at.button(key="review_prev").click().run()
    assert _title(at) == "Visit e-new" and at.button(key="review_prev").disabled

    at.text_input(key="review_find").input("E-OL").run()
    at.button(key="find-e-old").click().run()
    assert _title(at) == "Visit e-old" and at.text_input(key="review_find").value == ""
    assert at.button(key="review_next").disabled  # the oldest is last, newest first


def test_review_of_an_unknown_encounter_says_so(monkeypatch, drafted_data) -> None:
    at = _app(monkeypatch, drafted_data)
    at.query_params["encounter"] = "nope"
    at.switch_page("views/review.py").run()
    assert not at.exception, at.exception
    assert [w.value for w in at.main.warning] == ["There is no encounter `nope`."]
    assert at.button(key="review_next_unsigned")  # the way on is still there
