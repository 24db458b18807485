"""The Review benchmark's database: one long encounter among many, built once and reused.

The long encounter is made the way the workbench makes one (store API, clinical NLP, the
default drafter, the support check); the others copy its rows in bulk, cut to between half
and all of its segments, with notes drafted, edited or signed and their events, so every
table the Review page reads has the size it would have after 10,000 visits.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from pipelines.types import Draft, Evidence, NoteSentence, Segment, Transcript, Word

BUILD = "review-bench.v3"
MARKER = "bench-review.json"
# Shaped like the others' ids, so no index or zone map finds its rows more easily than theirs.
ENCOUNTER_ID = "enc-7c1e5a93d2f0"
WORDS = 1500
SENTENCES = 60
SEED = 6
CHUNK = 250  # background encounters per bulk insert
REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "tests" / "fixtures" / "asr_short" / "audio.ogg"
CLINICIANS = tuple(f"dr-{n}" for n in ("ade", "bose", "chen", "diaz", "eze", "fox", "gill"))
SPECIALTIES = ("primary care", "cardiology", "endocrinology", "orthopedics", "pulmonology")
USER = "dr-bench"


def build(data: Path, encounters: int) -> dict:
    """The database under ``data`` (reused when its marker matches); returns its facts."""
    marker = Path(data) / MARKER
    if marker.is_file():
        facts = json.loads(marker.read_text())
        if facts.get("build") == BUILD and facts.get("encounters") == encounters:
            return {**facts, "reused": True}
        raise SystemExit(f"{data} holds another benchmark database ({facts}); use another --data")
    if (Path(data) / "scribe.duckdb").exists():
        raise SystemExit(f"{data} already holds a database; use an empty folder for --data")
    started = time.perf_counter()
    from workbench import store as db

    store = db.open_store(Path(data))
    rng = random.Random(SEED)
    transcript, entities, note, check = long_encounter(store, Path(data), rng)
    background(store, encounters, transcript, entities, note, check, rng)
    facts = {
        "build": BUILD,
        "encounters": encounters,
        "encounter_id": ENCOUNTER_ID,
        "words": sum(len(s.text.split()) for s in transcript.segments),
        "sentences": len(note.draft.sentences),
        "unsupported": sum(r.label == "unsupported" for r in check.results),
        "entities": len(entities),
        "audio_mb": round(sum(f.stat().st_size for f in (Path(data) / "audio").iterdir()) / 1e6, 1),
        "build_s": round(time.perf_counter() - started, 1),
    }
    marker.write_text(json.dumps(facts))
    return {**facts, "reused": False}


# -- the long encounter ------------------------------------------------------------------


def long_encounter(store, data: Path, rng: random.Random):
    """Store the 1,500-word encounter through the store API; returns what was stored."""
    from pipelines.drafting import LearnedOptions, draft_visit
    from pipelines.drafting.router import load_model
    from pipelines.nlp import extract_entities, load_nlp, model_version
    from workbench import store as db
    from workbench.support import check_note

    transcript = with_words(cut_words(dialogue(WORDS), WORDS), rng)
    nlp = load_nlp()
    entities = extract_entities(nlp, transcript)
    draft = draft_visit(transcript, entities, LearnedOptions(template="aci_visit"), load_model())
    draft = fit_sentences(draft, transcript, SENTENCES)
    audio = recording()
    sha = hashlib.sha256(audio.read_bytes()).hexdigest()
    stored = f"audio/{sha}{audio.suffix}"
    (data / "audio").mkdir(exist_ok=True)
    shutil.copy(audio, data / stored)
    for user in (USER, *CLINICIANS):
        db.ensure_user(store, user, user.replace("dr-", "Dr ").title(), "clinician")
    db.add_audio(
        store,
        db.AudioRecord(
            sha,
            stored,
            audio.name,
            audio.suffix.lstrip("."),
            transcript.duration_s,
            16000,
            1,
            audio.stat().st_size,
        ),
    )
    db.add_encounter(
        store,
        db.EncounterRecord(
            ENCOUNTER_ID,
            "Long follow-up visit",
            "primary care",
            "follow-up",
            USER,
            audio_sha256=sha,
        ),
        USER,
    )
    version = db.save_transcript(store, ENCOUNTER_ID, transcript, USER)
    db.save_entities(store, ENCOUNTER_ID, version, entities, model_version(nlp), USER)
    db.save_draft(store, ENCOUNTER_ID, draft, version, USER)
    check = check_note(store, SimpleNamespace(nlp=nlp), ENCOUNTER_ID, USER)
    return transcript, entities, db.get_note(store, ENCOUNTER_ID), check


def recording() -> Path:
    """A real ten-minute recording (3.4 MB, the size the page sends on every rerun) from
    ``$SCRIBE_DATASETS``, else the five-second ASR test clip."""
    from workbench.cli_eval import datasets_root

    found = datasets_root() / "fareez-osce-interviews" / "Audio Recordings" / "CAR0001.mp3"
    return found if found.is_file() else CLIP


def dialogue(words: int) -> Transcript:
    """The ACI-Bench training dialogue closest to ``words`` words but not shorter, or without
    ``$SCRIBE_DATASETS`` the demo encounter scripts joined until they are that long."""
    from pipelines.asr_eval.datasets import aci_dialogues
    from pipelines.verify.plain import dialogue_transcript
    from workbench.cli_eval import datasets_root

    def count(t: Transcript) -> int:
        return sum(len(s.text.split()) for s in t.segments)

    aci = datasets_root() / "aci-bench"
    if (aci / "data" / "challenge_data").is_dir():
        found = [dialogue_transcript(text, name) for name, text in aci_dialogues(aci, "train")]
        return min((t for t in found if count(t) >= words), key=count)
    scripts = sorted((REPO / "demo" / "encounters").glob("*/script.txt"))
    parts: list[str] = []
    while not parts or count(dialogue_transcript("\n".join(parts))) < words:
        parts.append(scripts[len(parts) % len(scripts)].read_text(encoding="utf-8"))
    return dialogue_transcript("\n".join(parts), "demo")


def cut_words(transcript: Transcript, words: int) -> Transcript:
    """The transcript's first ``words`` words (the last segment cut short if needed)."""
    kept: list[Segment] = []
    left = words
    for seg in transcript.segments:
        tokens = seg.text.split()
        if left <= 0:
            break
        if len(tokens) > left:
            seg = replace(seg, text=" ".join(tokens[:left]))
        kept.append(seg)
        left -= len(seg.text.split())
    if left > 0:
        raise ValueError(f"the benchmark dialogue has fewer than {words} words")
    return replace(transcript, segments=tuple(kept), duration_s=kept[-1].end)


def with_words(transcript: Transcript, rng: random.Random) -> Transcript:
    """Whisper-like words: even timings over each segment, leading spaces, confidences
    mostly high with about one word in twenty below 0.5."""
    segments = []
    for seg in transcript.segments:
        tokens = seg.text.split()
        step = (seg.end - seg.start) / len(tokens)
        words = tuple(
            Word(
                round(seg.start + i * step, 2),
                round(seg.start + (i + 1) * step, 2),
                (" " if i else "") + tok,
                round(rng.uniform(0.2, 0.5) if rng.random() < 0.05 else rng.uniform(0.8, 1), 3),
            )
            for i, tok in enumerate(tokens)
        )
        segments.append(replace(seg, text=" ".join(tokens), words=words, avg_logprob=-0.25))
    return replace(transcript, segments=tuple(segments))


def fit_sentences(draft: Draft, transcript: Transcript, count: int) -> Draft:
    """The draft with exactly ``count`` sentences: clinician statements added to the history
    (each with its turn as evidence) when short, the longest section's last sentences
    dropped when long."""
    sentences = list(draft.sentences)
    section = draft.sections[1] if len(draft.sections) > 1 else draft.sections[0]
    turns = [s for s in transcript.segments if len(s.text.split()) >= 6]
    for n, seg in enumerate(turns):
        if len(sentences) >= count:
            break
        words = " ".join(seg.text.split()[:24])
        sentences.insert(
            _section_end(sentences, section),
            NoteSentence(
                f"bench-{n}",
                section,
                words.rstrip(".?!,") + ".",
                (Evidence(seg.idx, 0, len(words), seg.start, seg.end),),
            ),
        )
    while len(sentences) > count:
        longest = max(draft.sections, key=lambda k: sum(s.section == k for s in sentences))
        del sentences[_section_end(sentences, longest) - 1]
    if len(sentences) != count:
        raise ValueError(f"could not fit the draft to {count} sentences")
    return replace(draft, sentences=tuple(sentences))


def _section_end(sentences: list[NoteSentence], section: str) -> int:
    return max(
        (i + 1 for i, s in enumerate(sentences) if s.section == section), default=len(sentences)
    )


# -- the other encounters, in bulk -------------------------------------------------------


def background(store, count: int, transcript, entities, note, check, rng) -> None:
    """``count`` encounters copied from the long one's rows, written ``CHUNK`` at a time."""
    from workbench.store.bulk import insert_rows
    from workbench.store.ids import next_ids

    start = datetime(2025, 1, 6, 8, 0)
    for first in range(0, count, CHUNK):
        rows: dict[str, list[tuple]] = {}
        with store.transaction() as con:
            numbers = range(first, min(first + CHUNK, count))
            ids = iter(next_ids(con, "support_checks", 2 * len(numbers)))
            for n in numbers:
                when = start + timedelta(minutes=47 * n)
                _encounter_rows(rows, n, when, transcript, entities, note, check, ids, rng)
            for table, table_rows in rows.items():
                insert_rows(con, table, table_rows)


def _encounter_rows(rows, n, when, transcript, entities, note, check, ids, rng) -> None:
    eid = f"enc-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}"
    clinician = rng.choice(CLINICIANS)

    def add(table: str, *row) -> None:
        rows.setdefault(table, []).append(row)

    events = [("encounter.created", "encounter", eid, None, {"source": "upload"}, None, None)]
    add(
        "encounters",
        eid,
        f"Visit {n}",
        rng.choice(SPECIALTIES),
        "follow-up",
        clinician,
        f"patient {n}",
        None,
        "upload",
        when,
        clinician,
    )
    stage = rng.random()
    keep = rng.randint(len(transcript.segments) // 2, len(transcript.segments))
    segments = transcript.segments[:keep]
    add("transcripts", eid, 1, transcript.model, "en", segments[-1].end, "", "{}", when, USER)
    for s in segments:
        add("segments", eid, 1, s.idx, s.start, s.end, s.speaker, s.text, s.avg_logprob, 0.0, 0.0)
        for i, w in enumerate(s.words):
            add("words", eid, 1, s.idx, i, w.start, w.end, w.text, w.probability)
    events.append(
        (
            "transcript.asr",
            "transcript",
            f"{eid}/transcript/1",
            None,
            {"version": 1, "segments": keep},
            transcript.model,
            None,
        )
    )
    if stage < 0.05:  # transcribed only
        _events(add, eid, when, clinician, events, rng)
        return
    kept = [e for e in entities if e.segment_idx < keep]
    add("entity_sets", eid, 1, 1, "nlp.bench", when, USER)
    for i, e in enumerate(kept):
        add(
            "entities",
            eid,
            1,
            i,
            e.segment_idx,
            e.start,
            e.end,
            e.text,
            e.label,
            e.negated,
            e.historical,
            e.family,
            e.hypothetical,
            e.uncertain,
            e.code,
            e.code_system,
            e.code_label,
            json.dumps(e.attributes),
            e.source,
        )
    events.append(
        (
            "entities.extracted",
            "entity_set",
            f"{eid}/entities/1",
            None,
            {"version": 1, "entities": len(kept)},
            "nlp.bench",
            None,
        )
    )
    versions = 1 if stage < 0.35 else 2
    draft = note.draft
    for version in range(1, versions + 1):
        add(
            "notes",
            eid,
            version,
            None if version == 1 else 1,
            draft.template,
            json.dumps(list(draft.sections)),
            draft.model_version,
            1,
            "",
            "{}",
            when + timedelta(minutes=version),
            USER if version == 1 else clinician,
        )
        for idx, s in enumerate(draft.sentences):
            text = s.text if version == 1 or idx % 17 else s.text + " Confirmed."
            add("note_sentences", eid, version, idx, s.sentence_id, s.section, text, s.origin)
            for j, ev in enumerate(x for x in s.evidence if x.segment_idx < keep):
                add(
                    "evidence",
                    eid,
                    version,
                    idx,
                    j,
                    ev.segment_idx,
                    ev.start_char,
                    ev.end_char,
                    ev.start_s,
                    ev.end_s,
                )
        check_id = next(ids)
        labels = [r.label for r in check.results]
        add(
            "support_checks",
            check_id,
            eid,
            version,
            1,
            1,
            check.checker_version,
            "{}",
            len(labels),
            labels.count("unsupported"),
            labels.count("partly_supported"),
            len(check.omissions),
            0.4,
            when + timedelta(minutes=version),
            USER,
        )
        for idx, r in enumerate(check.results):
            add(
                "sentence_support",
                check_id,
                idx,
                r.sentence_id,
                r.section,
                r.text,
                r.label,
                r.score,
                json.dumps([[x.kind, x.verdict, x.message] for x in r.reasons]),
                json.dumps(
                    [
                        [e.segment_idx, e.start_char, e.end_char, e.start_s, e.end_s]
                        for e in r.evidence
                        if e.segment_idx < keep
                    ]
                ),
                json.dumps(list(r.concepts)),
                r.linked,
            )
        kind = "note.drafted" if version == 1 else "note.saved"
        events.append(
            (
                kind,
                "note",
                f"{eid}/note/{version}",
                None,
                {"version": version},
                draft.model_version,
                version,
            )
        )
        events.append(
            (
                "note.verified",
                "note",
                f"{eid}/note/{version}",
                None,
                {"check_id": check_id},
                check.checker_version,
                version,
            )
        )
        if version == 2:
            for idx in range(0, len(draft.sentences), 17):
                s = draft.sentences[idx]
                events.append(
                    (
                        "sentence.edited",
                        "sentence",
                        s.sentence_id,
                        {"text": s.text},
                        {"text": s.text + " Confirmed."},
                        draft.model_version,
                        2,
                    )
                )
    if stage >= 0.55:  # signed
        add("signatures", eid, versions, clinician, when + timedelta(minutes=9), "attested")
        events.append(
            (
                "note.signed",
                "note",
                f"{eid}/note/{versions}",
                None,
                {"version": versions},
                None,
                versions,
            )
        )
    _events(add, eid, when, clinician, events, rng)


def _events(add, eid, when, clinician, events, rng) -> None:
    for i, (kind, object_type, object_id, before, after, model, version) in enumerate(events):
        add(
            "events",
            str(uuid.UUID(int=rng.getrandbits(128))),
            when + timedelta(seconds=30 * i),
            clinician,
            eid,
            kind,
            object_type,
            object_id,
            None if before is None else json.dumps(before),
            json.dumps(after),
            model,
            version,
        )
