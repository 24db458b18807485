"""The Analytics page through AppTest: nine figures with their CSVs for an analyst (and no
encounter ids), filters that change the numbers and sit in the URL, the simulated banner,
the admins' drill-down, who may not open it, and an empty store."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from tests.conftest import APP, sign_in
from workbench import store as st
from workbench.simulate import SimulationSpec, simulate
from workbench.store import analytics
from workbench.store.analytics import FIGURES, Filters, figures
from workbench.ui.analytics import data as page_data

REAL = 3  # real encounters beside the simulated ones


def usage(data: Path, encounters: int, seed: int, real: int = REAL) -> None:
    """Simulated usage (the app's raw tables, by the simulator) and ``real`` encounters
    added through the app's own store function; the page refreshes the facts itself."""
    store = st.open_store(data)
    simulate(store, SimulationSpec(encounters=encounters, seed=seed, clinicians=6))
    for i in range(real):
        record = st.EncounterRecord(f"real-{i}", f"Real visit {i}", clinician_id="dr-real")
        st.add_encounter(store, record, "system")


PAGE = "views/analytics.py"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("analytics") / "data"
    usage(data, 400, seed=3)
    return data


def _open(data: Path, monkeypatch: pytest.MonkeyPatch, user: str, role: str) -> AppTest:
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    at = sign_in(AppTest.from_file(str(APP), default_timeout=120), data, user, role).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _param(at: AppTest, name: str) -> list[str]:
    """A URL parameter's values (AppTest keeps a single value as a plain string)."""
    value = at.query_params.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def _text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "subheader", "title", "info", "warning", "error")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def test_an_analyst_sees_every_figure_with_its_csv_and_no_encounter_ids(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(seeded, monkeypatch, "ana", "analyst")
    charts = at.get("plotly_chart")
    assert len(charts) == len(FIGURES) == 9
    for chart in charts:
        assert '"displayModeBar": true' in chart.proto.config
        assert '"format": "png"' in chart.proto.config
    buttons = at.get("download_button")
    # One CSV per figure (its content is checked in the browser test, which downloads it).
    assert sorted(b.proto.id.rsplit("an_csv_", 1)[1] for b in buttons) == sorted(FIGURES)
    assert all(b.proto.url.endswith(".csv") for b in buttons)
    assert [h.value for h in at.subheader][:2] == [
        "Volume over time",
        "Time to sign and active review time",
    ]
    shown = _text(at)
    with st.open_store(seeded).connect() as con:
        ids = [r[0] for r in con.execute("SELECT encounter_id FROM encounters").fetchall()]
    assert not [i for i in ids if i in shown]
    assert not at.dataframe  # no encounter list for an analyst
    assert "Analysts see aggregates only" in shown
    # Days and periods are UTC, and say so.
    assert [at.date_input(key=k).label for k in ("an_from", "an_to")] == ["From (UTC)", "To (UTC)"]
    layouts = [json.loads(c.proto.spec)["layout"] for c in charts]
    time_axes = [
        la["xaxis"]["title"]["text"] for la in layouts if "period" in la["xaxis"]["title"]["text"]
    ]
    assert time_axes == ["period (UTC)"] * 3  # volume, time to sign, rubber stamp


def test_filters_change_the_numbers_and_sit_in_the_url(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(seeded, monkeypatch, "ana", "analyst")
    store = st.open_store(seeded)
    simulated = figures(store, Filters(simulated=True))["volume"]["ingested"].sum()
    assert simulated == 400
    banner = " ".join(w.value for w in at.warning)
    assert f"400 of {400 + REAL} encounters in this selection are simulated" in banner
    options = analytics.filter_options(store)
    # The clinicians are offered by name (their display names).
    assert at.multiselect(key="an_clinician").options == [
        options.clinician_names[c] for c in options.clinicians
    ]
    one = next(c for c in options.clinicians if c != "dr-real")  # a simulated clinician
    at.multiselect(key="an_clinician").set_value([one]).run()
    assert not at.exception, at.exception
    mine = figures(store, Filters(clinicians=(one,)))
    total = mine["volume"]["ingested"].sum()
    simulated = figures(store, Filters(clinicians=(one,), simulated=True))["volume"]
    assert 0 < total < 400
    banner = " ".join(w.value for w in at.warning)
    assert f"{simulated['ingested'].sum()} of {total} encounters" in banner
    assert _param(at, "clinician") == [one]
    # The page's tables are the figures under its filters (adoption: one clinician now).
    (row,) = mine["adoption"].itertuples()
    assert row.clinician == one and row.encounters == total
    at.multiselect(key="an_clinician").set_value(["dr-real"]).run()
    assert not [w for w in at.warning if "simulated" in w.value]  # real ones only: no banner
    at.multiselect(key="an_clinician").set_value([one]).run()
    at.radio(key="an_data").set_value("real").run()
    assert "No encounters match these filters." in _text(at)
    assert _param(at, "data") == ["real"]


def _capture_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Media file id -> bytes of every file the page hands to a download button (AppTest
    keeps them in a storage it drops after each run)."""
    seen: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def load(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        seen[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load)
    return seen


def _csvs(at: AppTest, seen: dict[str, bytes]) -> dict[str, pd.DataFrame]:
    """Figure name -> its CSV as pandas reads it."""
    out = {}
    for button in at.get("download_button"):
        file_id = button.proto.url.rsplit("/", 1)[1].rsplit(".", 1)[0]
        out[button.proto.id.rsplit("an_csv_", 1)[1]] = pd.read_csv(io.BytesIO(seen[file_id]))
    return out


def _chart_titles(at: AppTest) -> list[str]:
    return [
        json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "")
        for c in at.get("plotly_chart")
    ]


def test_downloads_say_when_the_selection_includes_simulated_encounters(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _capture_downloads(monkeypatch)
    at = _open(seeded, monkeypatch, "ana", "analyst")
    csvs = _csvs(at, seen)
    assert sorted(csvs) == sorted(FIGURES)
    for name, table in csvs.items():
        assert set(table["simulated_in_selection"]) == {400}, name
    # Still the figure's table, with the count beside it.
    assert {"period", "ingested", "reviewed", "signed"} <= set(csvs["volume"].columns)
    assert csvs["volume"]["ingested"].sum() == 400 + REAL
    titles = _chart_titles(at)
    assert len(titles) == 9
    assert all(t.endswith("(includes 400 simulated encounters)") for t in titles), titles
    assert titles[0].startswith("Volume over time")

    at.radio(key="an_data").set_value("real").run()  # the 3 real encounters only
    assert not at.exception, at.exception
    csvs = _csvs(at, seen)
    assert "volume" in csvs and csvs["volume"]["ingested"].sum() == REAL
    assert not [n for n, t in csvs.items() if "simulated_in_selection" in t]
    assert at.get("plotly_chart") and not any("simulated" in t for t in _chart_titles(at))


def test_the_url_restores_the_filters(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRIBE_HOME", str(seeded))
    at = sign_in(AppTest.from_file(str(APP), default_timeout=120), seeded, "ana", "analyst")
    at.query_params["grain"] = "month"
    at.query_params["to"] = "not-a-date"
    at.run()
    at.switch_page(PAGE).run()
    assert at.selectbox(key="an_grain").value == "month"
    assert any("Ignored the date 'not-a-date'" in w.value for w in at.warning)


def test_an_admin_drills_down_to_encounters_with_review_links(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(seeded, monkeypatch, "adm", "admin")
    assert at.selectbox(key="an_drill_kind").value == "clinician"
    clinician = at.selectbox(key="an_drill_clinician").value
    (table,) = at.dataframe
    rows = table.value
    assert len(rows) > 0 and set(rows["clinician"]) == {clinician}
    assert all(
        link == f"review?encounter={e}"
        for link, e in zip(rows["open"], rows["encounter_id"], strict=True)
    )
    at.selectbox(key="an_drill_kind").set_value("section").run()
    assert not at.exception, at.exception
    assert len(at.dataframe) == 1


@pytest.mark.parametrize("role", ["clinician", "annotator"])
def test_clinicians_and_annotators_cannot_open_the_page(
    seeded: Path, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    monkeypatch.setenv("SCRIBE_HOME", str(seeded))
    at = sign_in(AppTest.from_file(str(APP), default_timeout=120), seeded, f"u-{role}", role)
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    direct = sign_in(
        AppTest.from_file(str(APP.parent / "views" / "analytics.py"), default_timeout=60),
        seeded,
        f"u-{role}",
        role,
    ).run()
    assert not direct.exception, direct.exception
    assert "may not analytics.view" in direct.error[0].value
    assert not direct.get("plotly_chart")


def _refreshed_at(data: Path):
    with st.open_store(data).connect() as con:
        return con.execute("SELECT refreshed_at FROM analytics_state").fetchone()[0]


def _banner(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def test_figures_refresh_at_most_every_few_minutes_or_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    usage(data, 30, seed=4, real=0)
    at = _open(data, monkeypatch, "ana", "analyst")
    assert "30 of 30 encounters" in _banner(at)
    (as_of,) = [c.value for c in at.caption if c.value.startswith("Figures as of")]
    assert re.fullmatch(r"Figures as of \d\d:\d\d UTC", as_of), as_of
    before = _refreshed_at(data)

    # New work within the interval: no refresh (no write lock taken), the old figures.
    st.add_encounter(st.open_store(data), st.EncounterRecord("enc-new", "New visit"), "system")
    at.run()
    assert not at.exception, at.exception
    assert _refreshed_at(data) == before
    assert "30 of 30 encounters" in _banner(at)
    assert "newer changes show at the next refresh" in _text(at)

    # Refresh now does.
    at.button(key="an_refresh").click().run()
    assert not at.exception, at.exception
    assert _refreshed_at(data) > before
    assert "30 of 31 encounters" in _banner(at)
    assert "newer changes" not in _text(at)
    assert analytics.figure(st.open_store(data), "volume")["ingested"].sum() == 31

    # Once the interval has passed, the next rerun after a change refreshes by itself.
    monkeypatch.setattr(page_data, "REFRESH_EVERY_S", 0)
    st.add_encounter(st.open_store(data), st.EncounterRecord("enc-2", "Visit 2"), "system")
    at.run()
    assert "30 of 32 encounters" in _banner(at)


def test_an_empty_store_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    st.open_store(data)
    at = _open(data, monkeypatch, "ana", "analyst")
    assert "No encounters yet" in _text(at)
    assert not at.get("plotly_chart")
