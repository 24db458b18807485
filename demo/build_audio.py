"""Regenerate the demo encounters' audio and ground-truth turn timings from their scripts.

    python -m demo.build_audio              # every demo encounter and the ASR test fixture
    python -m demo.build_audio --only SLUG  # one encounter (or ``asr_short`` for the fixture)

For each folder with a ``script.txt`` this writes ``audio.ogg`` (Ogg Opus, mono 16 kHz) and
``turns.json`` (speaker, text, start, end in seconds). Output is deterministic: the same
scripts and tool versions give byte-identical files. Needs espeak-ng, sox and ffmpeg.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from pipelines.synth import SynthOptions, TurnTiming, parse_script, synthesize_dialogue

ROOT = Path(__file__).resolve().parent.parent
ENCOUNTERS_DIR = ROOT / "demo" / "encounters"
FIXTURE_DIR = ROOT / "tests" / "fixtures" / "asr_short"


def script_dirs() -> list[Path]:
    """Demo encounter folders (those holding a ``script.txt``), sorted by slug."""
    return sorted(p.parent for p in ENCOUNTERS_DIR.glob("*/script.txt"))


def build_one(folder: Path, options: SynthOptions | None = None) -> list[TurnTiming]:
    """Synthesise ``folder/script.txt`` into ``folder/audio.ogg`` and ``folder/turns.json``."""
    turns = parse_script((folder / "script.txt").read_text(encoding="utf-8"))
    timings = synthesize_dialogue(turns, folder / "audio.ogg", options or SynthOptions())
    rows = [{**asdict(t), "start": round(t.start, 5), "end": round(t.end, 5)} for t in timings]
    (folder / "turns.json").write_text(
        json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return timings


def main(argv: list[str] | None = None) -> None:
    """Command line entry: build the selected folders and print one line per folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="SLUG", help="build only this encounter slug")
    args = parser.parse_args(argv)
    folders = [*script_dirs(), FIXTURE_DIR]
    if args.only:
        folders = [f for f in folders if f.name == args.only]
        if not folders:
            parser.error(f"no encounter or fixture named {args.only!r}")
    for folder in folders:
        timings = build_one(folder)
        size_kb = (folder / "audio.ogg").stat().st_size / 1024
        print(f"{folder.name}: {len(timings)} turns, {timings[-1].end:.1f} s, {size_kb:.0f} kB")


if __name__ == "__main__":
    main()
