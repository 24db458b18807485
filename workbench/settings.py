"""Every setting, declared once: its environment variable, default and meaning.

The README's settings table is checked against this list by a docs test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("SCRIBE_HOME", "./data", "Data directory: the DuckDB file, stored audio, caches."),
    Setting("SCRIBE_LAKE", "",
            "Shared store for several servers: a DuckLake whose catalog is a PostgreSQL "
            "database, `postgresql://USER@HOST:PORT/DBNAME?data_path=/abs/dir` (Parquet files "
            "in `data_path`, mounted at the same path on every server; password in "
            "`PGPASSWORD` or `PGPASSFILE`, never in the URL). Empty: the single DuckDB file "
            "in `SCRIBE_HOME`. Audio and caches stay in `SCRIBE_HOME`, which the servers share."),
    Setting("SCRIBE_USER", "demo-clinician", "User id recorded on CLI actions and events."),
    Setting("SCRIBE_ASR_MODEL", "tiny.en", "Bundled `tiny.en` or a CTranslate2 Whisper folder."),
    Setting("SCRIBE_ASR_THREADS", "2", "CPU threads for one transcription."),
    Setting("SCRIBE_CACHE", "~/.cache/scribe-workbench", "Cache for built NLP vocabularies."),
    Setting("SCRIBE_MAX_AUDIO_HOURS", "4", "Longest recording ingest accepts, in hours."),
    Setting("SCRIBE_NOTE_TEMPLATE", "soap",
            "Note type of new drafts: a template id from `annotations/note_templates`."),
    Setting("SCRIBE_PERSONALISE", "on",
            "`on`: drafts follow each clinician's style learned from their signed notes "
            "(phrasing, section order, brevity); `off`: every clinician gets the plain draft."),
    Setting("SCRIBE_DATASETS", "../shared/datasets",
            "Evaluation datasets for `scribe eval` (relative paths: from the repository)."),
    Setting("SCRIBE_DRAFTER", "rules",
            "Note drafter: `rules` (this machine, no model) or `llm` (needs `SCRIBE_LLM_URL` "
            "or `SCRIBE_LLM_GGUF`; falls back to `rules` when the model fails)."),
    Setting("SCRIBE_LLM_URL", "",
            "OpenAI-compatible server for the `llm` drafter (llama.cpp, Ollama, vLLM), e.g. "
            "`http://127.0.0.1:8080/v1`. A URL that is not loopback sends transcript text to "
            "that server."),
    Setting("SCRIBE_LLM_MODEL", "", "Model name sent to that server; empty: its first model."),
    Setting("SCRIBE_LLM_API_KEY", "", "Bearer token for a server that wants one."),
    Setting("SCRIBE_LLM_GGUF", "",
            "Local GGUF model file for the `llm` drafter, run in-process by the optional "
            "`llama-cpp-python` package (instead of a server)."),
    Setting("SCRIBE_LLM_TIMEOUT", "120", "Seconds to wait for the LLM server."),
    Setting("SCRIBE_LLM_MAX_TOKENS", "1024", "Longest note the LLM may write, in tokens."),
    Setting("SCRIBE_KEY", "",
            "Master key that encrypts the database and stored audio: 32 random bytes as base64 "
            "or hex (`scribe key generate`); unset (and no key file): data is unencrypted."),
    Setting("SCRIBE_KEY_FILE", "",
            "File holding that key instead (mode 600); set this or `SCRIBE_KEY`, not both."),
    Setting("SCRIBE_LOGIN_MAX_FAILURES", "5",
            "Wrong passwords in a row that lock an account (see `SCRIBE_LOCKOUT_MINUTES`)."),
    Setting("SCRIBE_LOCKOUT_MINUTES", "15",
            "How long a locked account refuses sign-in (`scribe user unlock` lifts it sooner)."),
    Setting("SCRIBE_SESSION_TIMEOUT_MINUTES", "15",
            "Minutes without activity after which the workbench signs the user out."),
    Setting("SCRIBE_LABELSTUDIO_TOKEN", "",
            "Label Studio API token for `scribe labelstudio push|pull` when `--token` is not "
            "given (keeps it out of the shell history)."),
)


def setting(env: str) -> str:
    """The value of a declared setting (environment first, then the default)."""
    for s in SETTINGS:
        if s.env == env:
            return os.environ.get(env, s.default)
    raise KeyError(f"Undeclared setting {env}")


def data_dir(explicit: Path | str | None = None) -> Path:
    """The data directory: an explicit path, else $SCRIBE_HOME, else ./data."""
    return Path(explicit or setting("SCRIBE_HOME")).expanduser().resolve()
