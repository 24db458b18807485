"""Hostile inputs for tests/test_fuzz.py: names, form text, audio and file mutations.

Every generator takes a ``random.Random`` so a run is repeatable from its seed.
"""

from __future__ import annotations

import io
import json
import random
import struct
import wave
from collections.abc import Iterator

import numpy as np

# Names an upload (or a browser) may send: traversal, absolute paths, NUL, device names,
# bidi and zero-width characters, names that differ only by case, very long names.
HOSTILE_NAMES = (
    "../../etc/passwd",
    "../../../../../../tmp/owned.wav",
    "/etc/passwd",
    "/abs/path/visit.wav",
    "C:\\Windows\\System32\\visit.wav",
    "..\\..\\boot.ini",
    "a\x00b.wav",
    "visit.wav\x00.exe",
    "x" * 10_000 + ".wav",
    "é" * 300 + ".ogg",
    "\u202egnp.exe.wav",
    "in\u200bvis\u200dible\ufeff.wav",
    "CON",
    "con.wav",
    "NUL.mp3",
    "COM1.flac",
    "LPT9",
    "",
    ".",
    "..",
    "...",
    ".hidden.wav",
    " ",
    "\n\r\t.wav",
    "😀" * 80 + ".webm",
    "👩‍⚕️ visit.m4a",
    "visit.WAV",
    "Visit.wav",
    "VISIT.wav",
    "a/b\\c.wav",
    "-rf --no-preserve-root.wav",
    "$(reboot).wav",
    "`id`.wav",
    "name with spaces.wav",
    "' OR 1=1 --.wav",
    "<script>alert(1)</script>.wav",
    "%00%2e%2e%2fpasswd.wav",
    "visit." + "a" * 300,
    "\udcff\udcfe.wav",
    "Z̸̢͉̈a̵l̶g̸o.wav",
)

# Text a form field may receive.
HOSTILE_TEXT = (
    "",
    " ",
    "x" * 100_000,
    "a" * 61,
    "'; DROP TABLE encounters; --",
    '" OR "1"="1',
    "1; SELECT * FROM users",
    "%",
    "_",
    "\\",
    "%s%s%s%n",
    "{0} {sections} $title ${transcript}",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**bold** [click](javascript:alert(1))",
    "a\x00b",
    "line\nbreak",
    "\x1b[31mred\x1b[0m",
    "\u202eevil",
    "zero\u200bwidth",
    "\ufeffbom",
    "😀" * 40,
    "👩‍⚕️ metformin",
    "ﷺ",
    "Z̸̢͉̈a̵l̶g̸o",
    "lone \udcff surrogate",
    "NaN",
    "-1",
    "1e309",
    "../../etc/passwd",
    "apixaban",
    "Reports cough for three days.",
)

_PIECES = (
    "abcXYZ019",
    " .-_",
    "/\\:",
    "\x00\x01\x1f\x7f",
    "\u202a\u202e\u2066\u200b\u200d\ufeff",
    "éßøΩжचल中文한",
    "\u0301\u0336",
    "😀👩‍⚕️🩺",
    "'\";%$`{}<>&|",
    "\udcff",
)


def random_text(rng: random.Random, max_len: int = 300) -> str:
    """A random string mixing letters with control, bidi, path and quoting characters."""
    length = rng.choice((0, 1, 5, 20, 60, max_len, rng.randint(0, max_len)))
    return "".join(rng.choice(rng.choice(_PIECES)) for _ in range(length))


def sine_wav(freq: float, seconds: float = 1.0, rate: int = 16000) -> bytes:
    """A mono 16-bit WAV of a sine tone (distinct frequencies give distinct files)."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """One random corruption of ``data``: (what was done, the result)."""
    b = bytearray(data)
    kind = rng.choice(("bitflip", "truncate", "header", "random", "cut", "insert", "repeat"))
    if kind == "bitflip":
        for _ in range(rng.randint(1, 64)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        b = b[: rng.randrange(len(b))]
    elif kind == "header":
        i = rng.randrange(min(len(b), 256))
        b[i : i + 4] = rng.randbytes(4)
    elif kind == "random":
        b = bytearray(rng.randbytes(rng.randint(1, 8000)))
    elif kind == "cut":
        i = rng.randrange(len(b))
        del b[i : i + rng.randint(1, 2000)]
    elif kind == "insert":
        i = rng.randrange(len(b))
        b[i:i] = rng.randbytes(rng.randint(1, 2000))
    else:
        b = b[: rng.randint(1, 512)] * rng.randint(2, 50)
    return kind, bytes(b)


# RIFF/WAVE field offsets in a plain 44-byte header.
WAV_FIELDS = {
    "riff_size": (4, "<I"),
    "fmt_size": (16, "<I"),
    "format_tag": (20, "<H"),
    "channels": (22, "<H"),
    "sample_rate": (24, "<I"),
    "byte_rate": (28, "<I"),
    "block_align": (32, "<H"),
    "bits": (34, "<H"),
    "data_size": (40, "<I"),
}
_LIES = (0, 1, 3, 7, 255, 65535, 2**31 - 1, 2**32 - 1, 44_100_000)


def wav_header_lies(base: bytes) -> Iterator[tuple[str, bytes]]:
    """``base`` with each header field set to each implausible value in turn."""
    for name, (offset, fmt) in WAV_FIELDS.items():
        for value in _LIES:
            if fmt == "<H" and value > 0xFFFF:
                continue
            b = bytearray(base)
            struct.pack_into(fmt, b, offset, value)
            yield f"{name}={value}", bytes(b)


def json_mutations(rng: random.Random, obj: object, n: int) -> Iterator[tuple[str, bytes]]:
    """``n`` corrupted versions of a JSON document: syntax, types, sizes, nesting."""
    text = json.dumps(obj)
    fixed = [
        ("empty", b""),
        ("not json", b"hello"),
        ("null", b"null"),
        ("list", b"[]"),
        ("number", b"42"),
        ("string", b'"soap"'),
        ("deep nesting", b"[" * 100_000 + b"]" * 100_000),
        ("deep object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
        ("not utf-8", b"\xff\xfe" + text.encode("utf-16-le")),
        ("latin-1", text.replace('"', '"\xe9', 1).encode("latin-1", "replace")),
        ("nan", text.replace("1", "NaN", 1).encode()),
        ("bom", b"\xef\xbb\xbf" + text.encode()),
        ("truncated", text[: len(text) // 2].encode()),
    ]
    yield from fixed
    for i in range(n - len(fixed)):
        yield f"typed-{i}", json.dumps(_mutate_json(rng, obj)).encode()


def _mutate_json(rng: random.Random, obj: object) -> object:
    """A deep copy of ``obj`` with one value replaced, removed or mistyped."""
    if isinstance(obj, dict) and obj:
        out = dict(obj)
        key = rng.choice(list(out))
        action = rng.random()
        if action < 0.25:
            del out[key]
        elif action < 0.75:
            out[key] = _mutate_json(rng, out[key])
        else:
            out[key] = rng.choice(_WEIRD)
        if rng.random() < 0.1:
            out[random_text(rng, 40)] = rng.choice(_WEIRD)
        return out
    if isinstance(obj, list) and obj:
        out = list(obj)
        i = rng.randrange(len(out))
        if rng.random() < 0.3:
            del out[i]
        elif rng.random() < 0.5:
            out.append(out[i])  # a duplicate
        else:
            out[i] = _mutate_json(rng, out[i])
        return out
    return rng.choice(_WEIRD)


_WEIRD: tuple[object, ...] = (
    None, True, 0, -1, 2**63, 1.5, "", "x" * 50_000, "../../etc/passwd", [], {}, [1, 2],
    {"a": 1}, "DROP TABLE", "\x00", "\u202e", "😀",
)  # fmt: skip
