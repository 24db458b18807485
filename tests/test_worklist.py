"""The worklist query in the store: filters, sorts, counts, paging and "next unsigned", on a
real DuckDB file, checked against the same answers worked out in Python from the inputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from benchmarks._worklist_data import FakeEncounter, fake_encounters, insert_fake
from tests.conftest import make_draft, make_transcript
from workbench import store as st
from workbench.store.records import STATUSES
from workbench.ui.worklist_state import query_from_params, query_to_params

RANK = {status: i for i, status in enumerate(STATUSES)}


def expected(encounters: list[FakeEncounter], query: st.WorklistQuery) -> list[str]:
    """The ids the query should list, in order, over all pages."""
    text = query.text.lower()
    kept = [
        e
        for e in encounters
        if (not query.statuses or e.status in query.statuses)
        and (not query.clinicians or e.clinician in query.clinicians)
        and (not query.specialties or e.specialty in query.specialties)
        and (query.date_from is None or e.created_at.date() >= query.date_from)
        and (query.date_to is None or e.created_at.date() <= query.date_to)
        and (not text or text in e.title.lower() or text in e.encounter_id.lower())
    ]
    newest_first = sorted(
        sorted(kept, key=lambda e: e.encounter_id), key=lambda e: e.created_at, reverse=True
    )
    ordered = {
        "newest": newest_first,
        "oldest": sorted(kept, key=lambda e: (e.created_at, e.encounter_id)),
        "status": sorted(newest_first, key=lambda e: RANK[e.status]),
        "clinician": sorted(newest_first, key=lambda e: (e.clinician is None, e.clinician or "")),
        "duration": sorted(
            newest_first, key=lambda e: (e.duration_s is None, -(e.duration_s or 0))
        ),
    }[query.sort]
    return [e.encounter_id for e in ordered]


def all_pages(store: st.Store, query: st.WorklistQuery) -> list[str]:
    ids, page = [], 1
    while True:
        rows, total = st.list_worklist(store, replace(query, page=page))
        ids += [r.encounter.encounter_id for r in rows]
        if len(ids) >= total or not rows:
            return ids
        page += 1


@pytest.fixture(scope="module")
def fakes() -> list[FakeEncounter]:
    return fake_encounters(400, seed=3)


@pytest.fixture(scope="module")
def fake_store(tmp_path_factory: pytest.TempPathFactory, fakes) -> st.Store:
    store = st.open_store(tmp_path_factory.mktemp("worklist") / "data")
    insert_fake(store, fakes)
    return store


QUERIES = [
    st.WorklistQuery(),
    st.WorklistQuery(statuses=("drafted", "in review"), sort="oldest"),
    st.WorklistQuery(clinicians=("Dr. Berg", "Dr. Chen"), sort="clinician"),
    st.WorklistQuery(specialties=("Cardiology",), statuses=("signed",), sort="status"),
    st.WorklistQuery(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31), sort="duration"),
    st.WorklistQuery(text="COUGH", sort="status"),
    st.WorklistQuery(text="enc-0012"),
    st.WorklistQuery(sort="clinician", page_size=37),
    st.WorklistQuery(sort="duration", page_size=53),
]


QUERY_IDS = [
    "all",
    "unsigned-oldest",
    "two-clinicians",
    "cardiology-signed",
    "march-duration",
    "text-case",
    "text-id",
    "clinician-pages",
    "duration-pages",
]


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_filters_and_sorts_list_what_a_reviewer_expects(fake_store, fakes, query) -> None:
    want = expected(fakes, query)
    rows, total = st.list_worklist(fake_store, query)
    assert total == len(want)
    assert [r.encounter.encounter_id for r in rows] == want[: query.page_size]
    assert all_pages(fake_store, query) == want
    by_id = {e.encounter_id: e for e in fakes}
    for row in rows:
        fake = by_id[row.encounter.encounter_id]
        assert row.status == fake.status and row.duration_s == fake.duration_s
        assert row.encounter.clinician == fake.clinician


def test_filters_narrow_the_list_and_the_counts(fake_store, fakes) -> None:
    everything = st.worklist_view(fake_store, st.WorklistQuery())
    overall = {s: sum(e.status == s for e in fakes) for s in STATUSES}
    assert everything.overall == everything.counts == overall
    assert everything.total == len(fakes) and everything.pages == -(-len(fakes) // 50)

    query = st.WorklistQuery(clinicians=("Dr. Dubois",), statuses=("signed",))
    view = st.worklist_view(fake_store, query)
    mine = [e for e in fakes if e.clinician == "Dr. Dubois"]
    # Counts follow every filter but the status filter; the overall counts follow none.
    assert view.counts == {s: sum(e.status == s for e in mine) for s in STATUSES}
    assert view.overall == overall
    assert view.total == view.counts["signed"] == len(expected(fakes, query)) > 0
    assert all(r.status == "signed" for r in view.rows)
    assert st.worklist_status_counts(fake_store, query) == view.counts
    assert st.worklist_status_counts(fake_store) == overall


def test_an_amendment_in_progress_is_unsigned_again(fake_store, fakes) -> None:
    amending = next(e for e in fakes if e.signed_version and e.note_versions > e.signed_version)
    rows, _ = st.list_worklist(fake_store, st.WorklistQuery(text=amending.encounter_id))
    assert [(r.status, r.note_version, r.signed_at) for r in rows] == [("in review", 3, None)]


def test_paging_walks_every_row_once_and_past_the_end_is_empty(fake_store, fakes) -> None:
    query = st.WorklistQuery(sort="oldest", page_size=60)
    ids = all_pages(fake_store, query)
    assert len(ids) == len(set(ids)) == len(fakes)
    last = -(-len(fakes) // 60)
    rows, total = st.list_worklist(fake_store, replace(query, page=last))
    assert len(rows) == len(fakes) - 60 * (last - 1) and total == len(fakes)
    assert st.list_worklist(fake_store, replace(query, page=last + 1)) == ([], len(fakes))


def test_options_list_each_clinician_and_specialty_once(fake_store, fakes) -> None:
    clinicians, specialties = st.worklist_options(fake_store)
    assert clinicians == sorted({e.clinician for e in fakes if e.clinician})
    assert specialties == sorted({e.specialty for e in fakes if e.specialty})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"statuses": ("done",)}, "Unknown status 'done'"),
        ({"sort": "alphabet"}, "Unknown sort 'alphabet'"),
        ({"page": 0}, "Page must be 1 or more"),
        ({"page_size": 10_000}, "Page size must be between 1 and 500"),
        ({"date_from": date(2026, 5, 2), "date_to": date(2026, 5, 1)}, "starts after it ends"),
    ],
)
def test_a_bad_query_is_refused_with_the_reason(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        st.WorklistQuery(**kwargs)


def test_ten_thousand_encounters_are_filtered_and_paged_in_the_store(tmp_path) -> None:
    store = st.open_store(tmp_path / "data")
    fakes = fake_encounters(10_000, seed=11)
    insert_fake(store, fakes)
    query = st.WorklistQuery(
        statuses=("drafted", "in review"), clinicians=("Dr. Farah",), sort="oldest", page=3
    )
    view = st.worklist_view(store, query)
    want = expected(fakes, query)
    assert view.total == len(want) > 500
    assert [r.encounter.encounter_id for r in view.rows] == want[100:150]
    assert sum(view.overall.values()) == 10_000
    oldest = min(
        (e for e in fakes if e.status in ("drafted", "in review")),
        key=lambda e: (e.created_at, e.encounter_id),
    )
    assert st.next_unsigned(store) == oldest.encounter_id
    at = st.review_position(store, query, want[120])
    assert (at.previous, at.next, at.position, at.total) == (want[119], want[121], 121, len(want))


def _drafted(store: st.Store, encounter_id: str, clinician: str) -> None:
    st.add_encounter(
        store,
        st.EncounterRecord(encounter_id, f"Visit {encounter_id}", clinician=clinician),
        "dr-a",
    )
    transcript = make_transcript(
        [("clinician", "How is the cough?"), ("patient", "Better since Monday.")]
    )
    version = st.save_transcript(store, encounter_id, transcript, "dr-a")
    st.save_draft(store, encounter_id, make_draft(transcript), version, "dr-a")


def test_next_unsigned_is_the_oldest_draft_not_signed_and_skips_the_open_one(store) -> None:
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    for encounter_id, clinician in [
        ("e1", "Dr. A"),
        ("e2", "Dr. B"),
        ("e3", "Dr. A"),
        ("e4", "Dr. A"),
    ]:
        _drafted(store, encounter_id, clinician)
    st.add_encounter(store, st.EncounterRecord("e0", "Not drafted", clinician="Dr. A"), "dr-a")
    st.sign_note(store, "e1", 1, "dr-a")

    assert st.next_unsigned(store) == "e2"  # e1 is signed; e0 has no draft
    assert st.next_unsigned(store, exclude="e2") == "e3"
    only_a = st.WorklistQuery(clinicians=("Dr. A",), statuses=("signed",))
    assert st.next_unsigned(store, only_a) == "e3"  # the status filter does not apply
    assert st.next_unsigned(store, only_a, exclude="e3") == "e4"
    st.sign_note(store, "e3", 1, "dr-a")
    st.sign_note(store, "e4", 1, "dr-a")
    assert st.next_unsigned(store, only_a) is None
    assert st.next_unsigned(store, st.WorklistQuery(date_to=date(2000, 1, 1))) is None


def test_review_position_moves_among_encounters_with_a_note(store) -> None:
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    for encounter_id in ("e1", "e2", "e3"):
        _drafted(store, encounter_id, "Dr. A")
    st.add_encounter(store, st.EncounterRecord("e4", "Not drafted"), "dr-a")

    oldest = st.WorklistQuery(sort="oldest")
    at = st.review_position(store, oldest, "e2")
    assert (at.previous, at.next, at.position, at.total) == ("e1", "e3", 2, 3)
    assert at.row.status == "drafted"
    last = st.review_position(store, st.WorklistQuery(), "e1")  # newest first: e1 is last
    assert (last.previous, last.next, last.position) == ("e2", None, 3)
    elsewhere = st.review_position(store, st.WorklistQuery(clinicians=("Dr. Z",)), "e2")
    assert elsewhere.row is not None and elsewhere.position is None and elsewhere.next is None
    undrafted = st.review_position(store, oldest, "e4")
    assert undrafted.row.status == "ingested" and undrafted.position is None
    assert st.review_position(store, oldest, "nope").row is None


def test_url_parameters_round_trip_and_bad_ones_are_reported() -> None:
    query = st.WorklistQuery(
        statuses=("drafted", "signed"),
        clinicians=("Dr. Berg",),
        specialties=("Cardiology", "Primary care"),
        date_from=date(2026, 2, 1),
        date_to=date(2026, 2, 28),
        text="cough",
        sort="duration",
        page=4,
    )
    params = {k: v if isinstance(v, list) else [v] for k, v in query_to_params(query).items()}
    assert query_from_params(params) == (query, [])
    assert query_to_params(st.WorklistQuery()) == {}

    restored, problems = query_from_params(
        {
            "status": ["drafted", "finished"],
            "sort": ["random"],
            "from": ["2026-02-30"],
            "page": ["-2"],
        }
    )
    assert restored == st.WorklistQuery(statuses=("drafted",))
    assert problems == [
        "Ignored the unknown status 'finished'.",
        "Ignored the unknown sort 'random'.",
        "Ignored the page '-2'.",
        "Ignored the date '2026-02-30': use YYYY-MM-DD.",
    ]
    backwards, problems = query_from_params({"from": ["2026-03-02"], "to": ["2026-03-01"]})
    assert backwards == st.WorklistQuery() and "2026-03-02 is after 2026-03-01" in problems[0]


def test_dates_are_whole_days(store) -> None:
    day = datetime(2026, 4, 10)
    fakes = [
        FakeEncounter(
            f"d{i}", "Visit", None, None, day + timedelta(hours=h), 60.0, "drafted", 1, None
        )
        for i, h in enumerate((-0.01, 0, 23.99, 24))
    ]
    insert_fake(store, fakes)
    one_day = st.WorklistQuery(date_from=day.date(), date_to=day.date(), sort="oldest")
    assert [r.encounter.encounter_id for r in st.list_worklist(store, one_day)[0]] == ["d1", "d2"]


def test_the_benchmark_times_every_worklist_query() -> None:
    from benchmarks.worklist import run

    report = run(encounters=300, repeats=2)
    cases = ("view_all", "view_filtered", "view_last_page", "next_unsigned", "review_position")
    assert report["encounters"] == 300
    assert all(report[case]["p95_ms"] >= report[case]["p50_ms"] > 0 for case in cases)
    assert report["worst_p95_ms"] == max(report[case]["p95_ms"] for case in cases)
