"""Narrative restatement: one spoken sentence -> one note sentence in the chosen voice.

"i've had pain in my right knee for like two weeks" (patient, hpi, she)
    -> "She reports pain in her right knee for 2 weeks."
"i'm gonna go ahead and start you on meloxicam fifteen milligrams once a day" (clinician, plan)
    -> "I will start her on meloxicam 15 mg once a day."
"i do n't hear any murmurs" (clinician, exam) -> "No murmurs."

Like ``rewrite``, it only deletes words (fillers, hedges, speech-act openers), changes person
and form (``person``, ``numbers``, the mined ``phrases``) or adds a framing word ("reports",
"denies"); ``support.unsupported_words`` checks the result against the evidence.
"""

from __future__ import annotations

import re

from pipelines.drafting.align import AI_INSTRUCTION
from pipelines.drafting.numbers import write_numbers
from pipelines.drafting.person import Voice, clinician_person, patient_person
from pipelines.drafting.phrases import PhraseMap
from pipelines.drafting.rewrite import clean, finish

_I = re.IGNORECASE

# Hedges and discourse words a note leaves out; never a negation or a clinical word.
_HEDGES = re.compile(
    r"\b(?:you know|i mean|kind of|kinda|sort of|pretty much|basically|actually|literally|"
    r"honestly|definitely|obviously|really|just|like i said|as i said|go ahead and|"
    r"you see|i guess|for sure|per se|anyway|anyways|or something(?: like that)?|"
    r"or anything(?: like that)?|and stuff|and things like that|things like that|"
    r"at this point in time|at this point|right now|right here|over here|in here|"
    r"a little bit|little bit)\b,?\s*",
    _I,
)
# Evaluative asides: ", which is good", "that's great" carry no finding.
_COMMENT = re.compile(
    r",?\s*\b(?:which|that|and that|this)(?:'s| is| was) (?:good|great|fine|nice|reassuring|"
    r"what we want(?: to see)?|normal for you)\b",
    _I,
)
# "like" as a filler: "like two weeks", "it's like", ", like,"; not "would like", "looks like".
_LIKE = re.compile(
    r"(?<!would )(?<!looks )(?<!feels )(?<!sounds )(?<!seems )\blike\s+(?=\d|"
    r"a |an |the |about |maybe |every |once |twice |three |four |five |six )",
    _I,
)
_TAIL = re.compile(
    r"(?:,?\s*\b(?:okay|ok|alright|all right|right|correct|you know|too|as well|though|"
    r"or not|and so on|so|yeah|yes|then|now|there|here|today|for you|for me)\b)+\s*[?.!]*$",
    _I,
)
_ASIDE = re.compile(r",\s*(?:um|uh|so|and|but|yeah|okay|right)\s*,", _I)

# Patient sentence openers -> voice heads ("I've had" -> "she reports").
_PATIENT_HEADS: tuple[tuple[str, str], ...] = (
    (
        r"i(?:'ve| have) (?:not|never) (?:had|noticed|been having|felt|experienced)\s+(?:any\s+)?",
        "{s} denies ",
    ),
    (
        r"i (?:don't|do not|didn't|did not) (?:have|get|notice|feel|experience)\s+(?:any\s+)?",
        "{s} denies ",
    ),
    (r"i(?:'ve| have) been (?:having|experiencing|getting|noticing)\s+", "{s} reports "),
    (r"i(?:'m| am) (?:still )?(?:having|experiencing|getting)\s+", "{s} reports "),
    (r"i(?:'ve| have) (?:had|got|gotten|noticed|developed)\s+", "{s} reports "),
    (r"i (?:have|get|got|had|noticed|developed|started having)\s+", "{s} reports "),
)

# Clinician speech-act openers (removed or shortened), by kind.
_PLAN_HEADS: tuple[tuple[str, str], ...] = (
    (
        r"(?:so\s+)?(?:what )?i(?:'m| am) (?:going to|gonna) do"
        r"(?: for (?:that|this|it|you|him|her|them))? is\s+(?:that\s+)?(?:i'm )?"
        r"(?:(?:actually|just) )?(?:(?:going to|gonna) )?",
        "I will ",
    ),
    (
        r"(?:so\s+)?(?:what )?we(?:'re| are) (?:going to|gonna) do"
        r"(?: for (?:that|this|it|you|him|her|them))? is\s+(?:that\s+)?(?:we're )?"
        r"(?:(?:actually|just) )?(?:(?:going to|gonna) )?",
        "we will ",
    ),
    (
        r"(?:so\s+)?(?:what )?i(?:'m| am) (?:going to|gonna) recommend is\s+(?:that\s+)?you\s+",
        "I recommend {s} ",
    ),
    (r"(?:so\s+)?(?:what )?i(?:'m| am) (?:going to|gonna) recommend is\s+", "I recommend "),
    (r"i(?:'m| am) (?:going to|gonna)\s+", "I will "),
    (r"we(?:'re| are) (?:going to|gonna)\s+", "we will "),
    (r"(?:i|we) (?:want|would like|'d like) (?:you|him|her) to\s+", "{s} should "),
    (r"i(?:'d| would) (?:like|want) to\s+", "I will "),
    (r"i(?:'d| would) recommend (?:that )?(?:you )?", "I recommend {s} "),
    (r"let(?:'s| us)\s+", "we will "),
    (r"you(?:'re| are) (?:going to|gonna)\s+", "{s} will "),
    (r"you (?:should|need to|have to|must)\s+", "{s} should "),
)
# The clinician's own stance before a statement about the patient ("I know that you ...").
# (A hedge such as "I think" is kept: it says how sure the clinician is.)
_STANCE = re.compile(
    r"^(?:i know|i see|i understand|i heard|i noticed?|i remember|i can see)(?: that)?\s+(?=\w)",
    _I,
)
_EXAM_HEADS: tuple[tuple[str, str], ...] = (
    (r"(?:on|in) (?:your |the )?(?:physical )?exam(?:ination)?(?! of)\s*(?:today)?,?\s*", ""),
    (
        r"(?:i|we) (?:do not|don't|did not|didn't|cannot|can't) (?:hear|see|feel|appreciate|"
        r"notice|note|find|palpate)\s+(?:any\s+)?",
        "no ",
    ),
    (
        r"(?:i|we) (?:do |can |did )?(?:hear|see|feel|appreciate|notice|note|found|palpate)\s+"
        r"(?:that\s+)?",
        "",
    ),
    (r"(?:looking at|listening to|examining) (?:your |the )?(\w+(?:-\w+)*),?\s*", r"\1 "),
    (r"there (?:is|are|was|were) (?:some |a |an )?(?=\w)", ""),
)
# ", there is swelling" after a site: the finding without the filler.
_THERE_IS = re.compile(r",\s+there (?:is|are) (?:some |a |an )?(?=\w)", _I)
_ASSESSMENT_HEADS: tuple[tuple[str, str], ...] = (
    # a hedged impression keeps its hedge as "likely" ("I think you have X" -> "Likely X")
    (
        r"(?:so\s+)?(?:i think|i believe|i suspect|it looks like|it sounds like|it seems like|"
        r"this looks like|this sounds like|this seems like)\s+(?:that\s+)?(?:you have|"
        r"you(?:'ve| have) got|you(?:'re| are) dealing with|this is|it's|it is)?\s*"
        r"(?:most likely|probably|likely|possibly)?\s*",
        "likely ",
    ),
    (r"(?:so\s+)?for your (?:first|second|third|next|last|other) problem(?: of)?,?\s*", ""),
    (r"(?:so\s+)?(?:as far as|in terms of|regarding|with regards to|for) (?:your\s+)?", ""),
)


def _heads(rules: tuple[tuple[str, str], ...], text: str, voice: Voice) -> str:
    for pattern, repl in rules:
        repl = repl.replace("{s} reports", "{s} " + voice.reports).replace("{s}", voice.subject)
        new, n = re.subn("^" + pattern, repl, text, count=1, flags=_I)
        if n:
            return new
    return text


# Cut-off words and self-repairs: "s- s- systolic", "I-I", "two mo- two".
_CUT_WORD = re.compile(r"\b\w+-(?=\s|$)")
# A word the other speaker broke into at the end of the sentence ("order an mri-") was
# said whole: it keeps its letters.
_BROKEN_OFF = re.compile(r"\b(\w+)-(?=\s*[.?!,]?\s*$)")
_REPEAT_HYPHEN = re.compile(r"\b(\w+)-\1\b", _I)
# Words a sentence cannot end on: what was cut off after them is lost.
_DANGLING = re.compile(
    r"(?:\s+\b(?:and|or|but|so|the|a|an|to|of|with|which|that|is|was|are|were|for|in|on|at|"
    r"my|your|his|her|their|this|these|because|if|when|than|like|about|just|some|any|we|i|you|"
    r"it|do|did|does|have|has|had|be|been|going|gonna|can|could|would|should|will)\b)+$",
    _I,
)


_OPENERS = re.compile(r"^(?:(?:now|then|well|so|and|okay|alright|also|but)\b[,\s]+)+", _I)
# A question in statement form: "tell me, have you ever ...", "so how does that feel".
_QUESTIONISH = re.compile(
    r"^(?:(?:so|and|now|okay|alright|well|then|but)\s+)*(?:tell me|can you tell me|let me ask|"
    r"do you|does it|does that|did you|did it|have you|has it|are you|is it|is that|is there|"
    r"how|what(?!\s+(?:i|we|looks|sounds|seems)\b)|when did|where|why|which|who)\b",
    _I,
)


# Talking to the voice assistant: "hey dragon, show me the x-ray" (a display command, not
# note material) but "hey dragon, order an mri of the knee" is an order (the address goes).
_ASSISTANT = re.compile(r"\b(?:hey\s+)?(?:dragon|dax)\b[,.]?\s*", _I)
_DISPLAY = re.compile(r"^(?:show me|finalize|open|go to|pull up|bring up|start|stop|end)\b", _I)
# Instructions during the exam ("take a deep breath", "place your hand above your head").
_EXAM_INSTRUCTION = re.compile(
    r"^(?:(?:go ahead and|can you|could you|i want you to|i'd like you to)\s+)?"
    r"(?:place|put|let|lie|lay|sit|stand|take a (?:deep |big )?breath|breathe|look|follow|"
    r"push|pull|squeeze|relax|"
    r"bend|turn|raise|lift|open|close|say|cough|stick|hop|scoot|walk|point|hold|try|show me|"
    r"straighten|kick|resist|spread|touch)\b",
    _I,
)


# Dictation commands spoken into the recording ("end of note", "new paragraph").
_DICTATION = re.compile(
    r"^(?:end of (?:note|dictation|recording)|new (?:paragraph|line)|next section|"
    r"scratch that|delete that)\b",
    _I,
)


def not_note_material(text: str, speaker: str, kind: str) -> bool:
    """A display command to the voice assistant, a dictation command, an instruction
    given during the exam, or words meant for a language model ("ignore previous
    instructions ...", planted prompt markup): never copied into a note."""
    if AI_INSTRUCTION.search(text):
        return True
    if _ASSISTANT.search(text) and _DISPLAY.search(clean(_ASSISTANT.sub("", text))):
        return True
    if _DICTATION.search(clean(text)):
        return True
    return (
        speaker != "patient"
        and kind in ("exam", "vitals", "results")
        and bool(_EXAM_INSTRUCTION.search(clean(text)))
    )


# A question inside run-on speech: "... how severe is the pain", "... did you hear a pop".
_INVERTED = re.compile(
    r"(?<!to )(?<!'ll )(?<!will )(?<!na )(?<!let )(?<!make )"  # "going to have you take" is not
    r"\b(?:(?:did|do|does|are|were|have|has|can|could|would|will)\s+(?:you|ya)|"
    r"how (?:severe|bad|long|often|much|many)|what (?:do|did|does|is|are|was))\b",
    _I,
)


def questionish(text: str) -> bool:
    """Does the spoken sentence ask something, whatever its punctuation?"""
    return bool(_QUESTIONISH.search(clean(text))) or "?" in text


def question_start(text: str) -> int | None:
    """Where a question begins inside run-on speech ("... when I fell did you hear a pop"),
    or None."""
    m = _INVERTED.search(text)
    return m.start() if m else None


def tidy(text: str) -> str:
    """Spoken sentence -> plain clause: ``rewrite.clean`` plus hedges, tail tags and any
    address to the voice assistant removed."""
    t = _REPEAT_HYPHEN.sub(r"\1", _ASSISTANT.sub("", text))
    t = _CUT_WORD.sub("", _BROKEN_OFF.sub(r"\1", t))
    t = clean(t)
    t = _ASIDE.sub(",", t)
    t = _COMMENT.sub("", t)
    t = _HEDGES.sub("", t)
    t = _LIKE.sub("", t)
    t = _TAIL.sub("", t)
    t = clean(_OPENERS.sub("", t))  # what the removals exposed ("so", leading commas)
    t = _DANGLING.sub("", t)
    return re.sub(r"\s{2,}", " ", t).strip(" ,")


def restate(
    text: str,
    speaker: str,
    kind: str,
    voice: Voice,
    phrases: PhraseMap | None = None,
) -> str | None:
    """A note sentence for ``kind`` from one spoken sentence, or None when nothing is left."""
    t = tidy(text)
    if not t:
        return None
    if speaker == "patient":
        t = _heads(_PATIENT_HEADS, t, voice)
        t = patient_person(t, voice)
    else:
        if kind in ("plan",):
            t = _heads(_PLAN_HEADS, t, voice)
        elif kind in ("exam", "vitals", "results"):
            t = _THERE_IS.sub(", ", _heads(_EXAM_HEADS, t, voice))
        elif kind in ("assessment", "chief_complaint") and not voice.second_person:
            t = _heads(_ASSESSMENT_HEADS, t, voice)
        elif not voice.second_person:
            t = _STANCE.sub("", t)
        t = clinician_person(t, voice)
    t = write_numbers(t)
    if phrases is not None and not voice.second_person:  # a patient summary keeps lay words
        t = phrases.apply(t)
    return finish(t)
