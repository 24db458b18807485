"""An analyst on the Analytics page in a real browser: the plotly charts render, a figure's
CSV downloads, and the chart's modebar camera button saves a PNG file."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM, artifacts_dir, open_signed_in
from tests.e2e.server import serve
from workbench import store as st
from workbench.auth import hash_password
from workbench.simulate import SimulationSpec, simulate
from workbench.store import users
from workbench.store.analytics import FIGURES, Filters, figure

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"
    ),
]
ANALYST = "ana-e2e"
PASSWORD = "e2e-analyst-pass"  # of ANALYST's account in the test store only
LOAD_MS = 120_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def analytics_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The workbench served over a store with simulated usage and an analyst account."""
    data = tmp_path / "data"
    store = st.open_store(data)
    simulate(store, SimulationSpec(encounters=500, seed=5, clinicians=8))
    users.create_account(store, ANALYST, "analyst", "system", password_hash=hash_password(PASSWORD))
    log = tmp_path / "streamlit.log"
    try:
        with serve(data, ANALYST, log) as url:
            yield url, data
    finally:
        if log.exists():
            folder = artifacts_dir()
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, folder / "analytics_streamlit.log")


def test_analyst_sees_charts_downloads_csv_and_png(analytics_url, page) -> None:
    from playwright.sync_api import expect

    url, data = analytics_url
    page.set_default_timeout(LOAD_MS)
    open_signed_in(page, f"{url}/analytics", user=ANALYST, password=PASSWORD)
    expect(page.get_by_role("heading", name="Analytics")).to_be_visible(timeout=LOAD_MS)
    # Every figure is a plotly chart drawn by plotly.js, with its traces in SVG.
    charts = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot")
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    expect(charts.first).to_be_visible(timeout=LOAD_MS)
    expect(charts).to_have_count(len(FIGURES), timeout=LOAD_MS)
    for i in range(len(FIGURES)):
        expect(charts.nth(i).locator("g.trace, g.hm").first).to_be_attached(timeout=LOAD_MS)
    page.screenshot(path=str(_artifact("analytics.png")), full_page=True)

    # The volume figure's CSV is its aggregate table.
    with page.expect_download() as info:
        page.locator(".st-key-an_csv_volume").get_by_role("button", name="CSV").click()
    download = info.value
    assert download.suggested_filename == "analytics_volume.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    expected = figure(st.open_store(data), "volume", Filters())  # the page refreshed the facts
    assert [int(r["ingested"]) for r in rows] == list(expected["ingested"])
    assert sum(int(r["ingested"]) for r in rows) == 500

    # The modebar's camera ("Download plot as a png") saves the chart as a PNG file.
    chart = page.locator(".st-key-an_chart_edit_burden")
    chart.scroll_into_view_if_needed()
    chart.hover()
    camera = chart.get_by_role("button", name="Download plot as a PNG")
    expect(camera).to_be_visible(timeout=LOAD_MS)
    with page.expect_download() as info:
        camera.click()
    png = info.value
    assert png.suggested_filename == "analytics_edit_burden.png"
    content = Path(png.path()).read_bytes()
    assert content.startswith(PNG_MAGIC) and len(content) > 5_000
    shutil.copy(png.path(), _artifact("analytics_edit_burden.png"))


def _artifact(name: str) -> Path:
    folder = artifacts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
