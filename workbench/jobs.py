"""Run the pipelines for encounters and keep the results in the store.

Slow work (ASR, NLP, drafting) runs outside any database lock; each result is then
written in one short transaction. Every step is skipped when its output already exists
for the current input, so processing twice changes nothing.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipelines.asr import AsrOptions
from pipelines.diarize import DiarizeOptions
from pipelines.drafting.llm import LlmOptions
from pipelines.types import Draft, Entity, Transcript
from workbench import store as st

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
ASR_SEED = 0  # the fallback sampling's seed: the same audio gives the same transcript
DRAFTERS = ("rules", "llm")


@dataclass(frozen=True)
class PipelineOptions:
    """Options for every stage, one documented dataclass each."""

    asr: AsrOptions = field(default_factory=AsrOptions)
    # Repair misheard medical terms against the vocabularies (helps both evaluation sets).
    term_repair: bool = True
    diarize: DiarizeOptions = field(default_factory=DiarizeOptions)
    nlp_cache_dir: str | None = None
    # "rules" (default, nothing leaves the machine) or "llm" (then ``llm`` says which model).
    drafter: str = "rules"
    llm: LlmOptions | None = None
    # Drafts follow the clinician's learned style (workbench.personalisation).
    personalise: bool = True
    # Each transcription on a freshly loaded, seeded Whisper model (``Engine.transcriber``):
    # the same audio always gives the same transcript. On for `scribe process` (local and
    # Ray workers must agree, a re-run must match); off in the app, which reuses one model.
    reproducible_asr: bool = False

    def __post_init__(self) -> None:
        if self.drafter not in DRAFTERS:
            raise ValueError(f"unknown drafter {self.drafter!r}; choose one of {DRAFTERS}")
        if self.drafter == "llm" and self.llm is None:
            raise ValueError("the llm drafter needs SCRIBE_LLM_URL or SCRIBE_LLM_GGUF")


@dataclass(frozen=True)
class ProcessResult:
    encounter_id: str
    transcript_version: int
    entity_count: int
    note_version: int
    steps_run: tuple[str, ...]
    seconds: float


def options_from_settings() -> PipelineOptions:
    """Pipeline options from the declared settings (environment or defaults)."""
    from workbench.settings import setting

    asr = AsrOptions(
        model=setting("SCRIBE_ASR_MODEL"), cpu_threads=int(setting("SCRIBE_ASR_THREADS"))
    )
    cache = str(Path(setting("SCRIBE_CACHE")).expanduser())
    drafter = setting("SCRIBE_DRAFTER").strip().lower()
    llm = None
    if drafter == "llm":
        from pipelines.drafting import LlmError

        try:
            llm = LlmOptions(
                url=setting("SCRIBE_LLM_URL").strip(),
                model=setting("SCRIBE_LLM_MODEL").strip(),
                gguf=setting("SCRIBE_LLM_GGUF").strip(),
                api_key=setting("SCRIBE_LLM_API_KEY"),
                timeout_s=float(setting("SCRIBE_LLM_TIMEOUT")),
                max_tokens=int(setting("SCRIBE_LLM_MAX_TOKENS")),
                threads=int(setting("SCRIBE_ASR_THREADS")),
            )
        except LlmError as exc:
            raise ValueError(
                f"SCRIBE_DRAFTER=llm: {exc} (SCRIBE_LLM_URL or SCRIBE_LLM_GGUF)"
            ) from exc
    personalise = setting("SCRIBE_PERSONALISE").strip().lower()
    if personalise not in ("on", "off"):
        raise ValueError(f"SCRIBE_PERSONALISE must be on or off, not {personalise!r}")
    return PipelineOptions(
        asr=asr, nlp_cache_dir=cache, drafter=drafter, llm=llm, personalise=personalise == "on"
    )


class Engine:
    """Loads each heavy model once, on first use, and shares it (thread-safe).

    Given the store, the NLP pipeline runs the store's active NER model with the rules and
    follows `scribe models activate` without a restart (the check is one short query).
    Without a store (a Ray worker), ``trained_ner`` is the (registry path, model) to run
    with the rules, handed over in memory by the driver; None means rules only.
    """

    def __init__(
        self,
        options: PipelineOptions | None = None,
        store: st.Store | None = None,
        trained_ner: tuple[str, Any] | None = None,
    ):
        self.options = options or options_from_settings()
        self.store = store
        self._trained_ner = trained_ner
        self._lock = threading.Lock()
        self._asr = None
        self._nlp = None
        self._nlp_model: str | None = None
        self._llm = None
        llm = self.options.llm
        if self.options.drafter == "llm" and llm is not None and llm.url:
            from pipelines.drafting import is_loopback

            if not is_loopback(llm.url):
                log.warning("the LLM drafter sends transcript text to %s (not this machine)",
                            llm.record()["url"])
        self._drafter = None

    @property
    def asr(self):
        with self._lock:
            if self._asr is None:
                from pipelines.asr import load_model

                self._asr = load_model(self.options.asr)
            return self._asr

    def transcriber(self):
        """The Whisper model for one transcription: the shared one, or with
        ``options.reproducible_asr`` a model of its own whose random sampling starts from a
        fixed seed.

        A window that fails faster-whisper's quality checks is decoded again at higher
        temperatures by random sampling, from a generator each CTranslate2 decoding thread
        seeds once, when it first samples: ``ctranslate2.set_random_seed`` before a
        transcription does not reach the shared model's threads. Measured (tiny.en,
        cardiology-afib-followup, whose windows fall back): the same audio twice on the
        shared model, seeded before each, gave 38 then 36 segments with 8 texts changed;
        with temperature 0 only, identical; a fresh seeded model gave the first run's result.
        So reproducibility costs a model load per transcription (about 0.3 s for tiny.en,
        seconds for large models), paid in batch processing only.
        """
        if not self.options.reproducible_asr:
            return self.asr
        import ctranslate2

        from pipelines.asr import load_model

        with self._lock:
            ctranslate2.set_random_seed(ASR_SEED)
            return load_model(self.options.asr)

    @property
    def nlp(self):
        wanted = self.active_ner_model()  # outside self._lock: it waits for the store
        with self._lock:
            if self._nlp is None or wanted != self._nlp_model:
                self._nlp = self._load_nlp(wanted)
                self._nlp_model = wanted
            return self._nlp

    @property
    def llm(self):
        """The LLM drafter's backend, created (a GGUF model loaded) on first use."""
        with self._lock:
            if self._llm is None and self.options.llm is not None:
                from pipelines.drafting import make_backend

                self._llm = make_backend(self.options.llm)
            return self._llm

    @property
    def drafter(self):
        """The default drafter's trained sentence models (annotations/drafting/model.json)."""
        with self._lock:
            if self._drafter is None:
                from pipelines.drafting.router import load_model

                self._drafter = load_model()
            return self._drafter

    def nlp_options(self, ner_model: str | None = None):
        """NLP options of this engine, with a trained NER model's path (or rules only)."""
        from pipelines.nlp import NlpOptions

        return NlpOptions(cache_dir=self.options.nlp_cache_dir, ner_model=ner_model)

    def active_ner_model(self) -> str | None:
        """Registry path of the store's active NER model (or of ``trained_ner`` without a
        store); None for rules only."""
        if self.store is None:
            return self._trained_ner[0] if self._trained_ner else None
        model = st.active_model(self.store, "ner")
        if model is None:
            return None
        from workbench import model_store  # imports spaCy: only once a model is active

        # The store file sits in the data directory.
        if not model_store.exists(self.store.path.parent, model.path):
            log.warning("active model %s has no files; using rules only", model.model_id)
            return None
        return model.path

    def _load_nlp(self, model_path: str | None):
        """The pipeline with the model at ``model_path`` (decrypted in memory with the
        store's key when it is encrypted), or rules only."""
        from pipelines.nlp import load_nlp
        from workbench import model_store

        if model_path is None:
            return load_nlp(self.nlp_options())
        if self.store is None and self._trained_ner is not None:
            return load_nlp(self.nlp_options(model_path), trained=self._trained_ner[1])
        trained = model_store.load_model(self.store.path.parent, model_path, self.store.key)
        return load_nlp(self.nlp_options(model_path), trained=trained)


def process_encounter(
    store: st.Store,
    data_dir: Path,
    engine: Engine,
    encounter_id: str,
    user_id: str,
    progress: Progress | None = None,
) -> ProcessResult:
    """Transcribe, find entities, draft and check one encounter, skipping steps already done.

    The steps are ``workbench.steps``' (plan from the store, compute, write), run inline;
    ``scribe process --engine ray`` runs the same steps' computation on Ray workers.
    """
    from workbench import steps as sp

    started = time.perf_counter()
    report = progress or (lambda step, fraction: None)
    scratch = Path(data_dir) / "tmp"
    done: list[str] = []
    while (job := sp.plan_next(store, data_dir, encounter_id, user_id)) is not None:
        label, fraction = sp.STEP_PROGRESS[job.step]
        report(label, fraction)
        result = sp.compute(engine, job, scratch, lambda f: report("transcribing", 0.8 * f))
        if sp.write(store, job, result, user_id):
            done.append(job.step)  # else stale (someone's newer work kept): plan again
    report("done", 1.0)
    transcript_version = st.latest_transcript_version(store, encounter_id)
    entities = st.get_entities(store, encounter_id, transcript_version)
    note = st.get_note(store, encounter_id)
    elapsed = time.perf_counter() - started
    log.info("processed %s: %s in %.1f s", encounter_id, ",".join(done) or "nothing", elapsed)
    return ProcessResult(
        encounter_id,
        transcript_version or 0,
        len(entities),
        note.version if note else 0,
        tuple(done),
        elapsed,
    )


def draft_encounter(
    engine: Engine,
    encounter_id: str,
    transcript: Transcript,
    entities: tuple[Entity, ...],
    template: str | None = None,
) -> Draft:
    """The configured drafter's note; the rules drafter's when the LLM drafter fails.

    ``template`` (a note template id) replaces the configured one, e.g. to re-draft a note
    in the template it was drafted with. A fallback is logged (ids, error kind and endpoint
    only, never transcript text) and recorded in the draft's options as ``llm_fallback``,
    which the ``note.drafted`` event carries.
    """
    from pipelines.drafting import (
        DraftOptions,
        LearnedOptions,
        LlmError,
        draft_visit,
        draft_with_llm,
    )
    from workbench.settings import setting

    def local_draft() -> Draft:
        # The default drafter: trained sentence models plus structure from the entities.
        options = LearnedOptions(template=template or setting("SCRIBE_NOTE_TEMPLATE"))
        return draft_visit(transcript, entities, options, engine.drafter)

    if engine.options.drafter != "llm" or engine.options.llm is None:
        return local_draft()
    started = time.perf_counter()
    try:
        draft = draft_with_llm(transcript, entities, template or DraftOptions().template,
                               engine.options.llm, engine.llm)
    except LlmError as exc:
        log.warning("LLM drafter failed for %s after %.1f s (%s: %s); using the rules drafter",
                    encounter_id, time.perf_counter() - started, exc.kind, exc)
        rules = local_draft()
        fallback = {"kind": exc.kind, "reason": str(exc)}
        return replace(rules, options={**rules.options, "llm_fallback": fallback})
    log.info("LLM draft for %s: %d sentences (%d without evidence) in %.1f s",
             encounter_id, len(draft.sentences), draft.options.get("without_evidence", 0),
             time.perf_counter() - started)
    return draft


def clinician_style(store: st.Store, clinician: str):
    """The clinician's learned note style (a ``ClinicianStyle``), or None if none is learned
    yet: the one lookup behind a fresh draft (``steps.plan_next``) and ``personalise``."""
    from workbench.personalisation import current_style

    return current_style(store, clinician)


def personalise(store: st.Store, draft: Draft, clinician: str) -> Draft:
    """The draft in the clinician's learned style (unchanged when none is learned yet)."""
    from pipelines.drafting.style import apply_style

    return apply_style(draft, clinician_style(store, clinician))


def custom_terms(store: st.Store, clinician: str | None, user_id: str) -> list[str]:
    """The encounter clinician's and the processing user's vocabulary, deduplicated."""
    owners = [o for o in (clinician, user_id) if o]
    terms: dict[str, str] = {}
    for owner in owners:
        for term in st.list_terms(store, owner):
            terms.setdefault(term.lower(), term)
    return list(terms.values())


def recognise(
    engine: Engine,
    audio_file: Path | bytes,
    scratch: Path,
    progress: Callable[[float], None] | None = None,
    terms: list[str] | None = None,
) -> Transcript:
    """Speech to a speaker-labelled transcript: ASR, term repair, spelling, speaker turns.

    The decoded samples go to a memmap under ``scratch`` (a disk, unlike a tmpfs /tmp)
    that is deleted afterwards, and long audio is transcribed in windows, so memory stays
    bounded. A clinician's own terms become hotwords, except spelling preferences ("OK"),
    which rewrite their variants afterwards (pipelines.spelling); the curated terminology
    is left out because measured on ACI-Bench it doubled the WER (docs/asr-experiments.md).
    ``audio_file`` may be the file's bytes (decrypted stored audio): they are decoded in
    memory (about 230 MB per hour of audio), so no plaintext samples reach the disk.
    """
    from pipelines.audio import decode_to_memmap, load_samples_from_bytes
    from pipelines.biasing import BiasOptions, bias_options
    from pipelines.diarize import assign_speakers
    from pipelines.longform import transcribe_long
    from pipelines.spelling import apply_spelling, split_preferences
    from pipelines.term_repair import default_index, repair_transcript

    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="decode-") as tmp:
        if isinstance(audio_file, bytes):
            samples = load_samples_from_bytes(audio_file)
        else:
            samples = decode_to_memmap(audio_file, Path(tmp))
        try:
            options = engine.options.asr
            spelling, hotwords = split_preferences(terms or [])
            if hotwords:
                # Hotwords from the clinician's own list only: no curated terms, no prompt.
                only_custom = BiasOptions(include_curated=False, prompt_tokens=0, prompt_prefix="")
                options = bias_options(options, hotwords, only_custom)
            transcript = transcribe_long(engine.transcriber(), samples, options, progress)
            if engine.options.term_repair:
                # Repair towards the terminology and the clinician's own terms.
                transcript = repair_transcript(transcript, default_index().with_terms(hotwords))
                options_used = {**transcript.options, "term_repair": True}
                transcript = replace(transcript, options=options_used)
            if spelling:
                transcript = apply_spelling(transcript, spelling)
                options_used = {**transcript.options, "spelling": spelling}
                transcript = replace(transcript, options=options_used)
            return assign_speakers(transcript, samples, engine.options.diarize)
        finally:
            del samples  # unmap before the directory is removed
