"""Note structure from the entities: chief complaint, review of systems, body-system labels,
medication lines and the problem-oriented assessment and plan.

Every sentence made here takes its words from transcript spans (entity texts, a dictated
"presents with ..." phrase) plus framing and label words, and carries those spans as
evidence. Body systems come from ``annotations/drafting/body_systems.tsv`` (ICD-10-CM code
prefixes and anatomy names).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.drafting import cues
from pipelines.drafting.numbers import write_numbers
from pipelines.drafting.phrases import PhraseMap
from pipelines.drafting.restate import questionish
from pipelines.drafting.rewrite import clean
from pipelines.drafting.sentences import is_question, reply_polarity
from pipelines.drafting.units import Candidate, Unit
from pipelines.paths import ANNOTATIONS_DIR
from pipelines.types import Entity, Evidence

BODY_SYSTEMS_PATH = ANNOTATIONS_DIR / "drafting" / "body_systems.tsv"
# Plan labels of a problem-oriented assessment and plan, in the order they are listed.
PLAN_LABELS: dict[str, str] = {
    "reasoning": "Medical Reasoning",
    "testing": "Additional Testing",
    "treatment": "Medical Treatment",
    "referral": "Specialist Referrals",
    "education": "Patient Education and Counseling",
}
_LABEL = re.compile(r"^([A-Za-z][A-Za-z,/&]*(?: [A-Za-z,/&]+){0,5}):\s+(?=\S)")
# Labels that only structure a note: body systems, plan steps, section names. A label that
# names a problem or a measurement ("Depression:", "Blood pressure:") is a claim and stays.
STRUCTURE_LABELS = frozenset(
    """breast|cardiovascular|constitutional|ears, nose, mouth and throat|endocrine|eyes|
    gastrointestinal|genitourinary|head and face|hematologic/lymphatic|musculoskeletal|neck|
    neurological|psychiatric|respiratory|skin|vitals|vital signs|general|heent|hent|ent|msk|
    neuro|cv|resp|gi|gu|psych|extremities|lymphatic|integumentary|
    medical reasoning|additional testing|medical treatment|specialist referrals|
    patient education and counseling|patient education|follow-up|follow up|instructions|
    chief complaint|cc|history of present illness|hpi|review of systems|ros|physical exam|
    physical examination|exam|examination|results|assessment|plan|assessment and plan|
    impression|subjective|objective|medications|current medications|allergies|
    past medical history|medical history|surgical history|social history|family history""".replace(
        "\n", ""
    ).split("|")
)
_LATERAL = re.compile(r"\b(right|left|bilateral|both)\s+(?:\w+\s+){0,1}$", re.IGNORECASE)
_PAIN = re.compile(r"\b(?:pain|pains|hurts?|hurting|aches?|aching|sore(?:ness)?)\b", re.I)
_PRESENTS = re.compile(
    r"\b(?:presents?\s+(?:today\s+|to (?:the )?clinic\s+(?:today\s+)?)?(?:for|with)|"
    r"(?:is |are |'s |'re )?(?:here|in) (?:today )?(?:for|with)|complain(?:s|ing)? of|"
    r"(?:was |been )?referred (?:to (?:me|us) )?(?:for|by \w+ for))\s+"
    r"(?:complaints? of\s+|evaluation of\s+|an?\s+|some\s+|his\s+|her\s+)*"
    r"(?P<what>[^.,;]{3,60}?)(?=\s*(?:[.,;]|$|\bwho\b|\band (?:is|was|has)\b|\bnow\b))",
    re.IGNORECASE,
)
_EDUCATION = re.compile(
    r"\b(?:discuss\w*|advis\w*|recommend\w*|educat\w*|explain\w*|encourag\w*|instruct\w*|"
    r"counsel\w*|should|avoid\w*|important)\b",
    re.IGNORECASE,
)
# A dictated reason that names no problem must still say what kind of visit it is.
_VISIT_REASON = re.compile(
    r"\b(?:follow[- ]?up|exam|examination|physical|check[- ]?up|visit|labs?|results?|"
    r"evaluation|consult\w*|screening|refill\w*|injury|management)\b",
    re.IGNORECASE,
)
_PERSONAL = re.compile(r"\b(?:you|your|my|i|me)\b", re.IGNORECASE)
_TRAILING_TIME = re.compile(r"\s+(?:today|this morning|this afternoon|now)$", re.IGNORECASE)
# A clinician turning to a problem: "for your first problem, ...", "regarding your ...".
_PROBLEM_INTRO = re.compile(
    r"\b(?:(?:first|second|third|next|last|other) (?:problem|issue)|regarding|as far as|"
    r"in terms of|with regards? to|for (?:your|his|her|the)|as for|moving on to|"
    r"let's talk about)\b",
    re.IGNORECASE,
)
# A drug the patient reacts to, or one that will not help: not a medication they take.
_ALLERGY = re.compile(
    r"\b(?:allerg\w*|rash|hives|reaction|react\w*|gives? (?:me|you|him|her) (?:a )?\w+|"
    r"(?:will|won't|wo n't|would|does|doesn't|does n't) (?:not )?help)\b",
    re.I,
)
_REFERRAL = re.compile(r"\b(?:refer\w*|specialist|consult)\b", re.IGNORECASE)
_TREATMENT = re.compile(
    r"\b(?:prescri\w*|start\w*|increas\w*|decreas\w*|continu\w*|stop\w*|discontinu\w*|"
    r"medications?|dose|mg|surgery|injection|therapy|brace|splint|ice|rest|refill\w*)\b",
    re.IGNORECASE,
)


def split_label(text: str) -> tuple[str, str]:
    """("Respiratory", "Lungs are clear.") for "Respiratory: Lungs are clear."; ("", text)
    when the sentence has no leading label. Labels are structure, not claims."""
    m = _LABEL.match(text)
    return (m.group(1), text[m.end() :]) if m else ("", text)


@dataclass(frozen=True)
class BodySystems:
    """ICD-10-CM code prefixes and anatomy names -> body system (and symptom or not)."""

    codes: tuple[tuple[str, str, bool], ...]  # (prefix, system, is a symptom), longest first
    anatomy: dict[str, str]

    def of_problem(self, ent: Entity) -> tuple[str, bool] | None:
        """(system, is a symptom) of a PROBLEM by its code, or None."""
        code = ent.code or ""
        for prefix, system, symptom in self.codes:
            if code.startswith(prefix):
                return system, symptom
        return None

    def of_entities(self, ents: Sequence[Entity]) -> str | None:
        """The system of the first anatomy or coded problem among ``ents``."""
        for ent in ents:
            if ent.label == "ANATOMY":
                name = ent.code_label or ent.text.capitalize()
                if name in self.anatomy:
                    return self.anatomy[name]
            if ent.label == "PROBLEM" and (found := self.of_problem(ent)):
                return found[0]
        return None


def load_body_systems(path: Path = BODY_SYSTEMS_PATH) -> BodySystems:
    """The body-system table (comment lines start with ``#``)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"))
    codes = [(r["key"], r["system"], r["symptom"] == "yes") for r in rows if r["kind"] == "code"]
    codes.sort(key=lambda c: -len(c[0]))
    anatomy = {r["key"]: r["system"] for r in rows if r["kind"] == "anatomy"}
    return BodySystems(tuple(codes), anatomy)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _entity_evidence(unit: Unit, ent: Entity) -> tuple[Evidence, ...]:
    return unit.turn.evidence(ent.start, ent.end)


_NOT_A_PROBLEM = re.compile(r"\s*(?:risk|prevention|screening|precautions)\b", re.I)
_LOCAL_NEGATION = re.compile(r"\b(?:no|not|never|without|denies|negative|n't|nothing)\b", re.I)


def _problems(unit: Unit, local_negation: bool = False) -> list[Entity]:
    """The unit's present problems. With ``local_negation``, a problem counts as negated only
    if a negation word precedes it in the same sentence (the dialogue-level negation can
    carry a "no" from an earlier answer into a clinician's summary)."""
    out = []
    for e in unit.ents:
        if e.label != "PROBLEM" or e.family or e.hypothetical:
            continue
        if local_negation:
            if _LOCAL_NEGATION.search(unit.turn.text[unit.start : e.start].replace("n't", " n't")):
                continue
        elif e.negated:
            continue
        out.append(e)
    return out


def problem_name(unit: Unit, ent: Entity) -> tuple[str, int]:
    """The entity's words with a laterality just before them ("right knee pain") and where
    that phrase starts in the turn text."""
    before = unit.turn.text[max(unit.start, ent.start - 20) : ent.start]
    m = _LATERAL.search(before)
    if m and m.start() == len(before) - len(m.group()):
        start = ent.start - len(m.group())
        return unit.turn.text[start : ent.end], start
    return ent.text, ent.start


# -- chief complaint ---------------------------------------------------------------------


def visit_opener(complaint: Candidate, subject: str) -> Candidate:
    """The history's first sentence from the chief complaint: "She presents today for
    evaluation of right knee pain." (same evidence)."""
    what = complaint.text.rstrip(".")
    what = what if what[:2].isupper() else what[:1].lower() + what[1:]
    text = f"{_capital(subject)} presents today for evaluation of {what}."
    return replace(complaint, kind="hpi", text=text, order=-1.0)


def chief_complaint(units: Sequence[Unit], phrases: PhraseMap) -> list[Candidate]:
    """The reason for the visit: a dictated "presents with X", else the first problem the
    patient brings up early in the visit (with its side and body part for pain)."""
    for k, unit in enumerate(units):
        if unit.speaker == "patient":
            continue
        m = _PRESENTS.search(unit.text)
        if m:
            a, b = unit.start + m.start("what"), unit.start + m.end("what")
            what = _TRAILING_TIME.sub("", clean(unit.turn.text[a:b]))
            named = any(
                e.start < b and e.end > a and e.label in ("PROBLEM", "ANATOMY") for e in unit.ents
            )
            if (named or _VISIT_REASON.search(what)) and not _PERSONAL.search(what):
                text = _capital(phrases.apply(what)) + "."
                return [Candidate("chief_complaint", text, unit.turn.evidence(a, b), k, 1.0, k)]
    early = units[: max(len(units) // 3, 1)]
    for k, unit in enumerate(early):
        if unit.speaker != "patient":
            continue
        problems = _problems(unit)
        anatomy = [e for e in unit.ents if e.label == "ANATOMY" and not e.negated]
        # A bare "pain" with its body site elsewhere in the turn ("pain in my right knee")
        # reads as "Right knee pain", not "Pain".
        bare_pain = bool(problems) and _PAIN.fullmatch(problems[0].text.strip()) is not None
        if problems and not (bare_pain and anatomy):
            name, start = problem_name(unit, problems[0])
            end = problems[0].end
            text = _capital(phrases.apply_whole(clean(name).lower())) + "."
            return [Candidate("chief_complaint", text, unit.turn.evidence(start, end), k, 1.0, k)]
        pain = _PAIN.search(unit.text)
        if anatomy and pain:
            name, start = problem_name(unit, anatomy[0])
            pain_at = unit.start + pain.start()
            text = _capital(f"{clean(name)} pain") + "."
            evidence = unit.turn.evidence(start, anatomy[0].end) + unit.turn.evidence(
                pain_at, pain_at + len(pain.group())
            )
            return [Candidate("chief_complaint", text, evidence, k, 1.0, k)]
    return []


# -- review of systems -------------------------------------------------------------------


# "... any cough or shortness of breath" / "so you also have some X": asking or recapping.
_ASKS_ABOUT = re.compile(r"\b(?:any|have you|do you|did you|are you|you have|you've had)\b", re.I)


def _reply(units: Sequence[Unit], k: int) -> Unit | None:
    """The patient's answer to the clinician's unit ``k``: the next unit, past the further
    questions of the same turn ("Chest pain? Shortness of breath?" -> "No.") and the short
    tail of a split one ("... joint pain like in your elbows" + "since this started")."""
    j = k + 1
    while j < len(units) and units[j].turn is units[k].turn:
        tail = not units[j].ents and len(units[j].low.split()) <= 5
        if not (tail or is_question(units[j].text, units[j].speaker)):
            break
        j += 1
    if j < len(units) and units[j].speaker == "patient":
        return units[j]
    return None


def _polarity(units: Sequence[Unit], k: int, ent: Entity) -> bool | None:
    """True: the patient has it; False: denied; None: not established.

    The patient's own statements count as they are (their negation included). A clinician's
    mention counts only when it asks or recaps ("any fever?", "so you also have some
    shortness of breath") and the patient's next words are a short yes or no
    (``reply_polarity``, after any further questions of the same turn); a clinician's
    own finding ("no murmur") is not a symptom the patient reported or denied.
    """
    unit = units[k]
    if unit.speaker == "patient":
        if ent.negated:
            return False
        return None if is_question(unit.text, "patient") else True
    reply = _reply(units, k)
    if reply is None:
        return None
    before = unit.turn.text[unit.start : ent.start]
    if not (is_question(unit.text, unit.speaker) or _ASKS_ABOUT.search(before)):
        return None
    answer = reply_polarity(reply.text)
    if answer is None and ent.negated and is_question(unit.text, unit.speaker):
        return False  # the dialogue context found the "no" in a longer reply
    return answer


def _join(items: list[str], conjunction: str = "and") -> str:
    """ "a", "a and b", "a, b, and c": the serial comma keeps "nausea, and vomiting" two
    things ("nausea and vomiting" is one)."""
    if len(items) < 3:
        return f" {conjunction} ".join(items)
    return ", ".join(items[:-1]) + f", {conjunction} " + items[-1]


def review_of_systems(
    units: Sequence[Unit],
    systems: BodySystems,
    labelled: bool = True,
    terms: PhraseMap | None = None,
) -> list[Candidate]:
    """One sentence per body system and polarity: "Respiratory: Endorses cough." /
    "Constitutional: Denies fever and chills.", from symptoms the patient confirmed or
    denied (entities with review-of-systems codes)."""
    found: dict[tuple[str, bool], list[tuple[str, tuple[Evidence, ...], int]]] = {}
    seen: set[str] = set()
    for k, unit in enumerate(units):
        if _ALLERGY.search(unit.text):
            continue  # "penicillin gives me a rash" is an allergy, not a symptom today
        for ent in unit.ents:
            if ent.label != "PROBLEM" or ent.family or ent.hypothetical:
                continue
            system = systems.of_problem(ent)
            key = ent.code or ent.text.lower()
            if system is None or not system[1] or key in seen:
                continue
            polarity = _polarity(units, k, ent)
            if polarity is None:
                continue
            seen.add(key)
            evidence = _entity_evidence(unit, ent)
            reply = _reply(units, k) if unit.speaker != "patient" else None
            if reply is not None:
                evidence += reply.evidence()  # the yes/no that settles it
            name = clean(ent.text)
            name = terms.apply_whole(name) if terms else name
            found.setdefault((system[0], polarity), []).append((name, evidence, k))
    out = []
    for (system, polarity), items in found.items():
        verb = "Reports" if polarity else "Denies"
        # "Denies nausea or vomiting.": each denied symptom, not the pair as one
        text = f"{verb} {_join([t for t, _, _ in items], 'and' if polarity else 'or')}."
        text = f"{system}: {text}" if labelled else text
        evidence = tuple(ev for _, evs, _ in items for ev in evs)
        first = min(k for _, _, k in items)
        out.append(Candidate("ros", text, evidence, first, 1.0))
    return out


def with_system_label(cand: Candidate, units: Sequence[Unit], systems: BodySystems) -> Candidate:
    """An exam/vitals sentence prefixed with its body system ("Respiratory: ...")."""
    if cand.unit < 0 or split_label(cand.text)[0]:
        return cand
    unit = units[cand.unit]
    system = systems.of_entities(unit.ents)
    if system is None and cues.VITAL.search(unit.low):
        system = "Vitals"
    return replace(cand, text=f"{system}: {cand.text}") if system else cand


# -- vital signs -------------------------------------------------------------------------


_SAID_UNIT = re.compile(
    r"\s*(%|kilograms?|kg|pounds|lbs?|degrees(?: fahrenheit| celsius)?|beats per minute|bpm|"
    r"breaths per minute)\b",
    re.IGNORECASE,
)


def vital_lines(units: Sequence[Unit]) -> list[Candidate]:
    """ "Blood pressure: 120/80." for every vital sign stated with a value (spoken numbers
    read as digits); the name is the one spoken, a unit only when it was said."""
    from pipelines.nlp.values import vital_attrs

    out, seen = [], set()
    for k, unit in enumerate(units):
        if unit.speaker == "patient" or questionish(unit.text):
            continue
        for ent in unit.ents:
            if ent.label != "VITAL" or ent.negated:
                continue
            window = write_numbers(unit.turn.text[ent.end : min(unit.end, ent.end + 80)])
            name = ent.code_label if ent.code_label == "Blood pressure" else None
            attrs = vital_attrs(window, 0, name, None)
            value = attrs.get("value")
            key = (ent.code_label or ent.text).lower()
            if not value or key in seen:
                continue
            seen.add(key)
            said = _SAID_UNIT.match(window, attrs["value_end"])
            unit_word = ("" if said.group(1) == "%" else " ") + said.group(1) if said else ""
            text = f"{_capital(clean(ent.text))}: {value}{unit_word}."
            evidence = unit.turn.evidence(ent.start, min(unit.end, ent.end + 80))
            out.append(Candidate("vitals", text, evidence, k, 1.0, k))
    return out


# "your vitals look good", "I reviewed your vitals and everything looks good": the
# clinician's verdict on the vital signs as a whole.
_VITALS_VERDICT = re.compile(
    r"\b(?P<name>vitals|vital signs)(?P<gap>(?:\s+(?:here|today|themselves|and|so|overall))*)"
    r"(?:\s+(?P<subject>everything(?: here)?|they))?\s+(?P<verdict>(?:look|looks|looked|are|"
    r"were|seem|seems)\s+(?:(?:really|very|pretty|quite|all)\s+)?(?:good|great|fine|normal|"
    r"stable|okay|unremarkable|excellent))\b",
    re.IGNORECASE,
)


def vitals_verdict(units: Sequence[Unit]) -> list[Candidate]:
    """ "Vitals look good." / "Vitals: everything looks good." from the clinician's first
    verdict on the vital signs as a whole, in the speaker's words."""
    for k, unit in enumerate(units):
        if unit.speaker == "patient" or questionish(unit.text):
            continue
        m = _VITALS_VERDICT.search(clean(unit.text))
        if not m:
            continue
        name = m["name"].capitalize()
        said = " ".join(m["verdict"].split())
        text = f"{name}: {m['subject']} {said}." if m["subject"] else f"{name} {said}."
        return [Candidate("vitals", text, unit.evidence(), k, 1.0, k)]
    return []


def result_lines(units: Sequence[Unit]) -> list[Candidate]:
    """ "Hemoglobin A1c: 8." for every test the clinician gives a value or reading for
    ("your a1c came back at eight", "the strep test is negative")."""
    from pipelines.nlp.values import test_attrs

    out, seen = [], set()
    for k, unit in enumerate(units):
        if unit.speaker == "patient" or questionish(unit.text):
            continue
        for ent in unit.ents:
            if ent.label != "TEST" or ent.hypothetical:
                continue
            end = min(unit.end, ent.end + 60)
            attrs = test_attrs(write_numbers(unit.turn.text[ent.end : end], every=True), 0)
            value = attrs.get("value")
            key = (ent.code_label or ent.text).lower()
            if not value or key in seen:
                continue
            seen.add(key)
            text = f"{_capital(clean(ent.text))}: {value}."
            # after the spoken sentence, so that a repeat of it is dropped
            out.append(
                Candidate("results", text, unit.turn.evidence(ent.start, end), k + 0.5, 1.0, k)
            )
    return out


# -- medications -------------------------------------------------------------------------


def medication_lines(
    units: Sequence[Unit], kinds: dict[int, str], as_list: bool = False
) -> list[Candidate]:
    """The medications the patient takes, with dose and frequency when said.

    A medication counts when it is named (not negated, not hypothetical) in a sentence whose
    kind is history or medications. One line per drug ("Metformin 500 mg twice a day."), or
    with ``as_list`` one sentence for a prose section ("Medications: metformin 500 mg twice
    a day and lisinopril.") with every mention as evidence.
    """
    from pipelines.nlp.values import medication_attrs

    items: list[tuple[str, tuple[Evidence, ...], int]] = []
    seen: set[str] = set()
    for k, unit in enumerate(units):
        if kinds.get(k) not in ("hpi", "medications", "past_history") or _ALLERGY.search(unit.text):
            continue
        for ent in unit.ents:
            key = ent.code or ent.text.lower()
            if ent.label != "MEDICATION" or ent.negated or ent.hypothetical or key in seen:
                continue
            window = unit.turn.text[ent.end : unit.end]
            attrs = medication_attrs(write_numbers(window), "")
            parts = [p for p in (attrs.get("dose"), attrs.get("frequency")) if p]
            seen.add(key)
            evidence = unit.evidence() if parts else _entity_evidence(unit, ent)
            items.append((" ".join([clean(ent.text), *parts]), evidence, k))
    if not items:
        return []
    if as_list:
        text = "Medications: " + _join([t for t, _, _ in items]) + "."
        evidence = tuple(ev for _, evs, _ in items for ev in evs)
        first = items[0][2]
        return [Candidate("medications", text, evidence, first + 0.5, 1.0)]
    # after the spoken sentence each came from, so that a repeat of it is dropped
    return [
        Candidate("medications", _capital(t) + ".", evs, k + 0.5, 1.0, k) for t, evs, k in items
    ]


# -- problem-oriented assessment and plan ------------------------------------------------


def plan_label(cand: Candidate, unit: Unit | None) -> str:
    """Which plan label a sentence takes: reasoning, testing, referral, treatment, education,
    or "" for none of them (a follow-up or an instruction is left unlabelled)."""
    low = cand.text.lower()
    if cand.kind == "assessment" or (cues.IMPRESSION.search(low) and not cues.PLAN.search(low)):
        return "reasoning"
    labels = {e.label for e in unit.ents} if unit else set()
    if cues.TEST_ORDER.search(low) or ("TEST" in labels and re.search(r"\border", low)):
        return "testing"
    if "MEDICATION" in labels or "PROCEDURE" in labels:
        return "treatment"  # "start meloxicam ... and refer to therapy": the drug leads
    if _REFERRAL.search(low):
        return "referral"
    if _TREATMENT.search(low):
        return "treatment"
    return "education" if _EDUCATION.search(low) else ""


def problem_oriented(
    found: Sequence[Candidate],
    units: Sequence[Unit],
    phrases: PhraseMap,
    labelled: bool,
    every_problem: bool = False,
) -> list[Candidate]:
    """Assessment and plan sentences grouped under the problem they follow.

    Walking the clinician's sentences from just before the first assessment/plan sentence,
    the last problem named is the current one; each group starts with the problem's name
    ("Hypertension.", evidence on its mention) and, when ``labelled``, its sentences are
    prefixed with their plan label, reasoning first. With ``every_problem``, a problem the
    clinician names there keeps its line even when no sentence follows it. Order is kept in
    ``Candidate.order``.
    """
    ap = sorted((c for c in found if c.kind in ("assessment", "plan")), key=lambda c: c.order)
    if not ap:
        return []
    start = (
        max(min(c.unit for c in ap if c.unit >= 0) - 3, 0) if any(c.unit >= 0 for c in ap) else 0
    )
    by_unit: dict[int, list[Candidate]] = {}
    for c in ap:
        by_unit.setdefault(c.unit, []).append(c)
    groups: dict[str, tuple[Candidate | None, list[Candidate]]] = {"": (None, [])}
    order: list[str] = [""]
    current = ""
    for k in range(start, len(units)):
        unit = units[k]
        introduces = k in by_unit or bool(_PROBLEM_INTRO.search(unit.low))
        if unit.speaker != "patient" and introduces:
            problems = _problems(unit, local_negation=True)
            if problems:
                ent = problems[0]
                key = ent.code or ent.text.lower()
                if key not in groups:
                    name, begin = problem_name(unit, ent)
                    text = _capital(phrases.apply_whole(clean(name))) + "."
                    head = Candidate(
                        "assessment", text, unit.turn.evidence(begin, ent.end), k, 1.0, k
                    )
                    groups[key] = (head, [])
                    order.append(key)
                current = key
        for c in by_unit.get(k, []):
            groups[current][1].append(c)
    for c in by_unit.get(-1, []):
        groups[""][1].append(c)
    out: list[Candidate] = []
    rank = {name: i for i, name in enumerate([*PLAN_LABELS, ""])}
    position = 0.0
    for key in order:
        head, members = groups[key]
        if not members and not (every_problem and head is not None):
            continue
        if head is not None:
            out.append(replace(head, order=position))
            position += 1
        ranked = sorted(members, key=lambda c: (rank[plan_label(c, _unit(units, c))], c.order))
        for c in ranked:
            text = c.text
            label = PLAN_LABELS.get(plan_label(c, _unit(units, c)))
            if labelled and label:
                text = f"{label}: {text}"
            out.append(replace(c, text=text, order=position))
            position += 1
    return out


def _unit(units: Sequence[Unit], cand: Candidate) -> Unit | None:
    return units[cand.unit] if 0 <= cand.unit < len(units) else None
