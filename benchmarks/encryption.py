"""What encryption at rest costs: opening the database, a Review read, a write, audio, rekey.

The Review benchmark's database (``benchmarks._review_data``: one long encounter among
``--encounters`` others) is built unencrypted in a temporary folder, copied, and the copy
encrypted with ``workbench.rekey`` (timed). Then, for both: the median time of one unit of
work that opens the file (lock, open, one count, close; the Review page pays it once per
rerun), the Review page's main reads for the long encounter in one connection, and a
one-event write; for the encrypted store also the first open of a fresh handle (it loads
the httpfs extension once), and AES-GCM audio decryption throughput. Writes
``benchmarks/encryption.json``; last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def _measure(store, encounter_id: str, repeat: int) -> dict:
    from workbench import store as st

    def open_once() -> None:
        with store.connect() as con:
            con.execute("SELECT count(*) FROM encounters").fetchone()

    def review_reads() -> None:
        with store.one_connection():
            st.get_note(store, encounter_id)
            st.get_transcript(store, encounter_id)
            st.list_events(store, encounter_id)

    def one_event() -> None:
        st.ensure_user(store, "dr-bench-enc", "Bench", "clinician")

    return {
        "open_ms": _median_ms(open_once, repeat),
        "review_reads_ms": _median_ms(review_reads, repeat),
        "small_write_ms": _median_ms(one_event, repeat),
    }


def main(encounters: int, repeat: int) -> dict:
    sys.path.insert(0, str(REPO))
    from benchmarks import _review_data
    from workbench import audio_store, keys
    from workbench import store as st
    from workbench.rekey import rekey

    with tempfile.TemporaryDirectory(prefix="bench-encryption-") as tmp:
        plain_dir, enc_dir = Path(tmp) / "plain", Path(tmp) / "encrypted"
        facts = _review_data.build(plain_dir, encounters)
        shutil.copytree(plain_dir, enc_dir)
        key = keys.generate_key()
        started = time.perf_counter()
        result = rekey(enc_dir, None, key)
        rekey_s = time.perf_counter() - started
        db_mb = (plain_dir / st.DB_FILENAME).stat().st_size / 1e6

        plain = _measure(st.open_store(plain_dir, key=None), facts["encounter_id"], repeat)
        started = time.perf_counter()
        encrypted_store = st.open_store(enc_dir, key=key)  # migrations check: one open
        first_open_ms = (time.perf_counter() - started) * 1000
        encrypted = _measure(encrypted_store, facts["encounter_id"], repeat)

        blob = bytes(range(256)) * (64 * 1024 * 4)  # 64 MiB
        sealed = audio_store.encrypt(blob, key, "a" * 64)
        started = time.perf_counter()
        audio_store.decrypt(sealed, key, "a" * 64)
        decrypt_mb_s = len(blob) / 1e6 / (time.perf_counter() - started)

    return {
        "benchmark": "encryption",
        "encounters": encounters + 1,
        "database_mb": round(db_mb, 1),
        "plain": plain,
        "encrypted": encrypted,
        "encrypted_first_open_ms": round(first_open_ms, 1),
        "open_overhead_ms": round(encrypted["open_ms"] - plain["open_ms"], 2),
        "rekey_s": round(rekey_s, 2),
        "rekey_rows": result.rows,
        "audio_decrypt_mb_per_s": round(decrypt_mb_s),
        "note": "open_ms: lock + open + one count + close, median; encrypted handles keep one "
        "in-memory DuckDB with httpfs loaded and ATTACH the file per unit of work",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encounters", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    out = main(args.encounters, args.repeat)
    (REPO / "benchmarks" / "encryption.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out))
