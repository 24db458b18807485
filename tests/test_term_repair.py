"""Post-recognition repair of misheard medical terms (pipelines.term_repair)."""

from __future__ import annotations

import pytest

from pipelines.term_repair import TermIndex, find_repair, levenshtein, repair_transcript
from pipelines.types import Segment, Transcript, Word

COMMON = {"met", "for", "min", "a", "trail", "auto", "the", "and", "or", "of", "shortness",
          "breath", "nausea", "vomiting", "covid", "test", "i", "take", "some", "method",
          "patients", "patient", "in", "april", "list", "to", "immune", "mine"}
CURATED = ["metformin", "atrial fibrillation", "shortness of breath", "covid test",
           "ibuprofen", "amoxicillin", "lisinopril", "autoimmune hepatitis"]
DRUGS = ["amoxicilina", "atorvastatin", "bystolic", "ammoidin"]


def tokens(text: str) -> int:
    return 1 if text in COMMON else 2


@pytest.fixture(scope="module")
def index() -> TermIndex:
    return TermIndex(CURATED + DRUGS, phrases=CURATED, count_tokens=tokens,
                     known_words={"systolic"})


@pytest.mark.parametrize("heard, expected", [
    (["met", "for", "min"], "metformin"),
    (["atorvastatine"], "atorvastatin"),
    (["a", "trail", "fibrillation"], "atrial fibrillation"),
    (["shortness", "and", "breath"], "shortness of breath"),
    (["I", "bue", "profen"], "ibuprofen"),
    (["amoxicilin"], "amoxicillin"),  # tie with "amoxicilina": the curated term wins
    (["lisinoprel"], "lisinopril"),
])
def test_repairs(index: TermIndex, heard: list[str], expected: str) -> None:
    assert find_repair(heard, index) == expected


@pytest.mark.parametrize("heard", [
    ["metformin"],                      # already right
    ["method"],                         # a common word is never replaced
    ["systolic"],                       # a real medical word, not a misspelt "bystolic"
    ["nausea", "or", "vomiting"],       # only "X <fw> Y" -> "X of Y" swaps
    ["a", "covid", "test"],             # article + term, not a misheard term
    ["covid", "tests"],                 # plural of a term
    ["a", "moidin"],                    # only curated terms may swallow a function word
    ["met", "for", "mine"],             # all-common n-grams must match exactly
    ["list", "in", "april"],            # too far from lisinopril
    ["auto", "immune"],                 # a prefix of a longer term is not that term
])
def test_non_repairs(index: TermIndex, heard: list[str]) -> None:
    assert find_repair(heard, index) is None


def test_levenshtein_stops_at_limit() -> None:
    assert levenshtein("atrial", "atrail", 2) == 2
    assert levenshtein("metformin", "met", 2) == 3


def _word(start: float, text: str, p: float = 0.9) -> Word:
    return Word(start=start, end=start + 0.3, text=text, probability=p)


def test_repair_transcript_merges_words_timings_and_probability(index: TermIndex) -> None:
    words = (_word(0.0, " Take"), _word(0.4, " met", 0.8), _word(0.8, " for", 0.4),
             _word(1.2, " min,"), _word(1.6, " twice."))
    untouched = Segment(idx=1, start=3.0, end=4.0, text="No change here.",
                        words=(_word(3.0, " No"), _word(3.4, " change"), _word(3.8, " here.")))
    transcript = Transcript(
        segments=(Segment(idx=0, start=0.0, end=1.9, text="Take met for min, twice.",
                          words=words), untouched),
        language="en", duration_s=4.0, model="test")
    out = repair_transcript(transcript, index)
    first = out.segments[0]
    assert first.text == "Take metformin, twice."
    assert [w.text for w in first.words] == [" Take", " metformin,", " twice."]
    merged = first.words[1]
    assert (merged.start, merged.end, merged.probability) == (0.4, 1.5, 0.4)
    assert out.segments[1] is untouched


def test_hyphen_joined_words_are_repaired_but_not_rewritten_as_themselves() -> None:
    index = TermIndex(["ibuprofen", "nt probnp"], phrases=["ibuprofen"], count_tokens=tokens)
    heard = (_word(0.0, " I"), _word(0.3, "-bue"), _word(0.6, "-profen,"))
    segment = Segment(idx=0, start=0.0, end=0.9, text="I-bue-profen,", words=heard)
    transcript = Transcript(segments=(segment,), language="en", duration_s=1.0, model="t")
    assert repair_transcript(transcript, index).segments[0].text == "Ibuprofen,"
    same = Segment(idx=0, start=0.0, end=0.9, text="nt probnp",
                   words=(_word(0.0, " nt"), _word(0.3, " probnp")))
    transcript = Transcript(segments=(same,), language="en", duration_s=1.0, model="t")
    assert repair_transcript(transcript, index).segments[0] is same


def test_no_repair_across_sentence_punctuation(index: TermIndex) -> None:
    words = (_word(0.0, " met."), _word(0.4, " For"), _word(0.8, " min"))
    segment = Segment(idx=0, start=0.0, end=1.1, text="met. For min", words=words)
    transcript = Transcript(segments=(segment,), language="en", duration_s=2.0, model="t")
    assert repair_transcript(transcript, index).segments[0] is segment


def test_a_clinicians_terms_extend_a_copy_of_the_index() -> None:
    base = TermIndex(["metformin", "zorvastan"], count_tokens=lambda text: 3)
    extended = base.with_terms(["Zorvastatin", "Quelbrimab"])
    assert find_repair(["zorvastatim"], extended) == "zorvastatin"
    assert find_repair(["quelbrimap"], extended) == "quelbrimab"
    assert find_repair(["quelbrimap"], base) is None, "the shared index is left unchanged"
    assert find_repair(["metformim"], extended) == "metformin"
    assert base.with_terms([]) is base
