"""The support check on ACI-Bench: GPT-4's published notes and our drafts, same rules.

For every dialogue of ``--split`` (test1, the default, test2, or train/valid without GPT-4) of
``$SCRIBE_DATASETS/aci-bench``: the transcript is the dialogue (one segment per turn), its
entities come from the clinical NLP, our note is the learned drafter's (``draft_visit``, the
production default, drafted by ``note_eval.draft_example`` exactly as ``scribe eval notes``
drafts it) and GPT-4's is the paper's prediction (``baselines/predictions/<split>GPT-4_.csv``).
Both are checked by ``note_eval.support_results`` (``verify_sentences``) against one index.
Prints per system the sentence counts per label, ``unsupported_rate`` and
``evidence_coverage`` (pooled over all sentences, and averaged per note), omissions per note
and seconds per note; for ours also ``draft_and_verify_s`` (entities + drafting + support
check + omissions, the work after ASR) per encounter, mean and max, with the longest
dialogue's word count. ``--dump FILE`` writes every labelled
sentence as JSON lines for reading. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from pathlib import Path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _summary(per_note: list[list], seconds: list[float], omissions: list[int]) -> dict:
    from pipelines.verify.metrics import evidence_coverage, label_counts, unsupported_rate

    pooled = [r for note in per_note for r in note]
    return {
        "notes": len(per_note),
        "sentences": len(pooled),
        "labels": label_counts(pooled),
        "unsupported_rate": round(unsupported_rate(pooled), 4),
        "unsupported_rate_per_note": round(
            statistics.mean(unsupported_rate(n) for n in per_note), 4
        ),
        "evidence_coverage": round(evidence_coverage(pooled), 4),
        "omissions_per_note": round(statistics.mean(omissions), 2),
        "verify_s_per_note": round(statistics.mean(seconds), 4),
        "verify_s_max": round(max(seconds), 4),
    }


def main(argv: list[str] | None = None) -> dict:
    from pipelines.asr_eval.datasets import ACI_SPLITS
    from pipelines.nlp import extract_entities, load_nlp
    from pipelines.note_eval import NoteExample, draft_example, support_results
    from pipelines.verify import VerifyOptions, index_transcript, load_lexicon, note_sentences
    from pipelines.verify.omissions import find_omissions
    from workbench.cli_eval import datasets_root

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=sorted(ACI_SPLITS), default="test1")
    parser.add_argument("--limit", type=int, default=0, help="first N encounters only")
    parser.add_argument("--dump", type=Path, help="write labelled sentences (JSON lines)")
    args = parser.parse_args(argv)
    aci = datasets_root() / "aci-bench"
    if not (aci / "data" / "challenge_data").is_dir():
        report = {"dataset": f"aci-bench {args.split}", "skipped": f"{aci} not found"}
        print(json.dumps(report))  # `make bench` runs on machines without the datasets too
        return report
    data = _rows(aci / "data" / "challenge_data" / ACI_SPLITS[args.split])
    predictions = aci / "baselines" / "predictions" / f"{args.split}GPT-4_.csv"
    # train and valid have no GPT-4 notes: ours only (for reading failures off the test sets)
    gpt4 = (
        {r["encounter_id"]: r["note"] for r in _rows(predictions)} if predictions.is_file() else {}
    )
    if args.limit:
        data = data[: args.limit]
    started = time.perf_counter()
    nlp = load_nlp()
    lexicon = load_lexicon()
    load_s = time.perf_counter() - started
    systems = ("ours", "gpt4") if gpt4 else ("ours",)
    runs: dict[str, tuple[list, list, list]] = {name: ([], [], []) for name in systems}
    total_s, words = [], []
    dump = args.dump.open("w", encoding="utf-8") if args.dump else None
    for row in data:
        example = NoteExample(row["encounter_id"], row["dialogue"], row["note"])
        drafted = draft_example(example, lambda t: extract_entities(nlp, t))
        transcript, draft = drafted.transcript, drafted.draft
        words.append(len(transcript.text.split()))
        notes = {"ours": (draft.sentences, draft.sections)}
        if gpt4:
            notes["gpt4"] = (note_sentences(gpt4[row["encounter_id"]], lexicon), None)
        for name, (sentences, sections) in notes.items():
            t2 = time.perf_counter()
            index = index_transcript(
                transcript, drafted.entities, lexicon, VerifyOptions().max_words
            )
            results = support_results(sentences, drafted, nlp, lexicon, index)
            keys = sections or tuple(dict.fromkeys(s.section for s in sentences)) or ("note",)
            omissions = find_omissions(index, sentences, results, keys)
            spent = time.perf_counter() - t2
            runs[name][0].append(results)
            runs[name][1].append(spent)
            runs[name][2].append(len(omissions))
            if name == "ours":
                total_s.append(drafted.seconds + spent)
            for r in results if dump else ():
                dump.write(
                    json.dumps(
                        {
                            "system": name,
                            "encounter_id": row["encounter_id"],
                            "section": r.section,
                            "text": r.text,
                            "label": r.label,
                            "score": r.score,
                            "reasons": [[x.kind, x.verdict, x.message] for x in r.reasons],
                            "evidence": [
                                transcript.segments[e.segment_idx].text[e.start_char : e.end_char]
                                for e in r.evidence
                            ],
                        }
                    )
                    + "\n"
                )
    if dump:
        dump.close()
    longest = max(range(len(words)), key=words.__getitem__)
    report = {
        "dataset": f"aci-bench {args.split}",
        "nlp_load_s": round(load_s, 2),
        "ours": {
            **_summary(*runs["ours"]),
            "draft_and_verify_s_mean": round(statistics.mean(total_s), 3),
            "draft_and_verify_s_max": round(max(total_s), 3),
            "longest_dialogue_words": words[longest],
            "longest_dialogue_draft_and_verify_s": round(total_s[longest], 3),
        },
    }
    if gpt4:
        report["gpt4"] = _summary(*runs["gpt4"])
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
