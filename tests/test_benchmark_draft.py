"""``benchmarks.draft`` measures what its JSON says: a ten-minute encounter, drafted and checked.

The timing target lives in the benchmark, not here; this test checks that the benchmark runs
the production path (entities, learned drafter, support check with omissions) on an encounter
of the right length and reports every figure the issue asks for.
"""

from __future__ import annotations

import json
import subprocess
import sys

from workbench.cli_eval import REPO_ROOT


def test_the_draft_benchmark_drafts_and_verifies_a_ten_minute_encounter() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.draft"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["words"] >= 1000  # about ten minutes of speech, from data or the demo
    assert report["sentences"] >= 10
    assert report["verify_s"] > 0 and report["draft_s"] > 0
    assert abs(report["draft_and_verify_s"] - report["draft_s"] - report["verify_s"]) < 0.002
    assert 0 <= report["unsupported"] <= report["sentences"]
    assert report["drafter"].startswith("draft.learned")
    assert report["threads"] == 2
