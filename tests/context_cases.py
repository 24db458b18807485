"""Conversational context cases: what a clinician expects ConText to say about one entity.

Each case is a single text or a dialogue (speaker, text turns), the entity to look at and the
exact set of context flags it must carry; every flag not listed must be unset. Many cases
exist to check that a flag does NOT fire ("No, the headache is still there").
"""

from __future__ import annotations

from dataclasses import dataclass

FLAGS: tuple[str, ...] = ("negated", "historical", "family", "hypothetical", "uncertain")
C, P, U = "clinician", "patient", "unknown"


@dataclass(frozen=True)
class Case:
    """One expectation. ``turn`` picks the segment when the term occurs in several."""

    name: str
    turns: tuple[tuple[str, str], ...]
    target: str
    expect: frozenset[str]
    turn: int | None = None

    @property
    def is_dialogue(self) -> bool:
        return len(self.turns) > 1 or self.turns[0][0] != U


def say(name: str, text: str, target: str, *flags: str) -> Case:
    """A single text (one speaker, or speaker tags inside the text)."""
    return Case(name, ((U, text),), target, frozenset(flags))


def talk(
    name: str, turns: list[tuple[str, str]], target: str, *flags: str, turn: int | None = None
) -> Case:
    """A dialogue, one segment per turn."""
    return Case(name, tuple(turns), target, frozenset(flags), turn)


CASES: tuple[Case, ...] = (
    # --- answers to a clinician's question: the negation sits in the next turn ---
    talk("answer no", [(C, "Any fever?"), (P, "No.")], "fever", "negated"),
    talk(
        "answer nope over a list", [(C, "Any fever or chills?"), (P, "Nope.")], "chills", "negated"
    ),
    talk(
        "answer no not at all",
        [(C, "Have you had any chest pain?"), (P, "No, not at all.")],
        "chest pain",
        "negated",
    ),
    talk("answer yes", [(C, "Any chest pain?"), (P, "Yes, sometimes when I walk.")], "chest pain"),
    talk(
        "answer not that I know of",
        [(C, "Any nausea?"), (P, "Not that I know of.")],
        "nausea",
        "negated",
    ),
    talk(
        "answer not really",
        [(C, "Any shortness of breath?"), (P, "Not really.")],
        "shortness of breath",
        "negated",
    ),
    talk(
        "answer never",
        [(C, "Have you ever had a heart attack?"), (P, "Never.")],
        "heart attack",
        "negated",
    ),
    talk(
        "answer no to trailing question only",
        [(C, "Your blood pressure was high last time. Any headaches?"), (P, "No.")],
        "headaches",
        "negated",
    ),
    talk(
        "statement before the question is not asked about",
        [(C, "You told me about the reflux last time. Any headaches?"), (P, "No.")],
        "reflux",
    ),
    talk(
        "change question: no does not negate",
        [(C, "Is the cough any better?"), (P, "No, the cough is still there.")],
        "cough",
        turn=0,
    ),
    talk(
        "change answer keeps the symptom",
        [(C, "Is the cough any better?"), (P, "No, the cough is still there.")],
        "cough",
        turn=1,
    ),
    talk(
        "I don't know then a symptom",
        [(C, "When did this start?"), (P, "I don't know, the cough started Monday.")],
        "cough",
    ),
    talk(
        "answer no to allergies",
        [(C, "Any allergies to medications?"), (P, "No.")],
        "allergies",
        "negated",
    ),
    talk(
        "answer no to a medication",
        [(C, "Are you taking any aspirin?"), (P, "No, I'm not.")],
        "aspirin",
        "negated",
    ),
    talk(
        "answer names one symptom: question's other symptom",
        [(C, "Any fever or cough?"), (P, "No fever, but I do have a cough.")],
        "cough",
        turn=0,
    ),
    talk(
        "answer names one symptom: question's negated one",
        [(C, "Any fever or cough?"), (P, "No fever, but I do have a cough.")],
        "fever",
        "negated",
        turn=0,
    ),
    talk(
        "answer names one symptom: answer's present one",
        [(C, "Any fever or cough?"), (P, "No fever, but I do have a cough.")],
        "cough",
        turn=1,
    ),
    say("inline tags", "[doctor] any chest pain? [patient] no", "chest pain", "negated"),
    say("line prefixes", "D: Any wheezing?\nP: Nope.", "wheezing", "negated"),
    talk(
        "two clinician segments then no",
        [(C, "Any fever?"), (C, "And any chills?"), (P, "No.")],
        "chills",
        "negated",
    ),
    talk(
        "yes then no: first stays",
        [(C, "Any fever?"), (P, "Yes."), (C, "Any chills?"), (P, "No.")],
        "fever",
    ),
    talk(
        "yes then no: second negated",
        [(C, "Any fever?"), (P, "Yes."), (C, "Any chills?"), (P, "No.")],
        "chills",
        "negated",
    ),
    talk("no question, no carry", [(P, "I've had a fever."), (C, "Okay."), (P, "No.")], "fever"),
    talk(
        "filler before the answer",
        [(C, "Any vomiting?"), (P, "Um. No, no.")],
        "vomiting",
        "negated",
    ),
    talk(
        "uncertain answer",
        [(C, "Do you get heartburn?"), (P, "Maybe, I'm not sure.")],
        "heartburn",
        "uncertain",
    ),
    talk(
        "presupposed your-entity is not negated",
        [(C, "Do you take anything for your diabetes?"), (P, "No.")],
        "diabetes",
    ),
    talk(
        "wh-question is not a yes/no question",
        [(C, "How long have you had the cough?"), (P, "No idea, a few weeks.")],
        "cough",
    ),
    talk("answer with question mark is not an answer", [(C, "Any rash?"), (P, "No?")], "rash"),
    talk(
        "spoken question without a question mark",
        [(C, "okay so have you had kidney stones before"), (P, "no never")],
        "kidney stones",
        "negated",
    ),
    talk(
        "statement without a question mark is not a question",
        [(C, "you had kidney stones before"), (P, "no never")],
        "kidney stones",
    ),
    say("X? no", "Fever? No.", "fever", "negated"),
    say("X? nope, none", "Chest pain? Nope, none.", "chest pain", "negated"),
    say("X? maybe", "Fever? No. Chills? Maybe.", "chills", "uncertain"),
    # --- negation inside the patient's sentence ---
    say("no I haven't had any", "No, I haven't had any fever.", "fever", "negated"),
    say("I haven't had any", "I haven't had any headaches.", "headaches", "negated"),
    say("I don't have", "I don't have a cough.", "cough", "negated"),
    say("never had", "Never had asthma.", "asthma", "negated"),
    say("I've never had", "I've never had a seizure.", "seizure", "negated"),
    say("denies", "Denies chest pain.", "chest pain", "negated"),
    say("denies list", "He denies any nausea or vomiting.", "vomiting", "negated"),
    say("no X or Y list", "No fever, chills or night sweats.", "night sweats", "negated"),
    say("terminated by but", "No fever but I have a cough.", "cough"),
    say(
        "terminated by although",
        "I don't have chest pain, although I do get heartburn.",
        "heartburn",
    ),
    say("negative for", "She tested negative for covid.", "covid", "negated"),
    say("nope no X", "Nope, no rash.", "rash", "negated"),
    say("no comma answer then a present symptom", "No, the cough is getting worse.", "cough"),
    say("I don't know is not negation", "I don't know, the cough started Monday.", "cough"),
    say("no, still there", "No, the headache is still there.", "headache"),
    say("can't sleep with X", "I can't sleep with this cough.", "cough"),
    say("won't go away", "The cough won't go away.", "cough"),
    say("no problems with a drug", "No problems with the metformin.", "metformin"),
    say("no change in", "No change in the rash.", "rash"),
    say("not bad, under control", "Not bad, the asthma is under control.", "asthma"),
    say("not taking", "I'm not taking any ibuprofen.", "ibuprofen", "negated"),
    say("haven't noticed", "I haven't noticed any swelling.", "swelling", "negated"),
    say("a body site is not negated", "There is no tenderness of the abdomen.", "abdomen"),
    say(
        "a vital sign is not negated", "No fever and your blood pressure is fine.", "blood pressure"
    ),
    say("and I have ends the negation", "No fever and I have a sore throat.", "sore throat"),
    # --- historical ---
    say("years ago", "I had pneumonia years ago.", "pneumonia", "historical"),
    say("when I was a kid", "When I was a kid I had asthma.", "asthma", "historical"),
    say("used to", "I used to get migraines.", "migraines", "historical"),
    say("had in 2015", "I had a knee replacement in 2015.", "knee replacement", "historical"),
    say("in 2019 before", "In 2019 I had a stroke.", "stroke", "historical"),
    say("as a child", "I had chickenpox as a child.", "chickenpox", "historical"),
    say("current cough is not historical", "I've had a cough for three days.", "cough"),
    say("last week is recent", "The headaches started last week.", "headaches"),
    say("since a year is ongoing", "I've had diabetes since 2010.", "diabetes"),
    # --- family ---
    say("my mom has", "My mom has diabetes.", "diabetes", "family"),
    say("my dad had", "My dad had a heart attack.", "heart attack", "family"),
    say("my brother has", "My brother has asthma.", "asthma", "family"),
    say("my sister had", "My sister had breast cancer.", "breast cancer", "family"),
    say(
        "runs in the family",
        "High blood pressure runs in the family.",
        "high blood pressure",
        "family",
    ),
    say("runs in my family", "Heart disease runs in my family.", "heart disease", "family"),
    say("family member reports self symptom", "My husband noticed my cough got worse.", "cough"),
    say("family then self", "My mom has diabetes and I have asthma.", "asthma"),
    # --- hypothetical ---
    say("call us if", "Call us if you get a fever.", "fever", "hypothetical"),
    say("if you notice", "If you notice any swelling, come back.", "swelling", "hypothetical"),
    say("in case", "Keep it with you in case you get wheezing.", "wheezing", "hypothetical"),
    say("should X happen", "Should the rash come back, call us.", "rash", "hypothetical"),
    say(
        "if it doesn't get better",
        "Call us if the cough doesn't get better.",
        "cough",
        "hypothetical",
    ),
    say(
        "if I remember is not hypothetical",
        "If I remember right, the cough started in May.",
        "cough",
    ),
    # --- uncertain ---
    say("might be", "It might be asthma.", "asthma", "uncertain"),
    say("could be", "It could be a sinus infection.", "sinus infection", "uncertain"),
    say("I think it's", "I think it's bronchitis.", "bronchitis", "uncertain"),
    say("possibly", "Possibly pneumonia.", "pneumonia", "uncertain"),
    say("not sure if", "I'm not sure if it's asthma.", "asthma", "uncertain"),
    say("rule out", "We need to rule out pneumonia.", "pneumonia", "uncertain"),
    say("I think my drug works is not uncertain", "I think the metformin is working.", "metformin"),
    # --- speaker awareness: family / history phrasing in the question vs the answer ---
    talk(
        "family question answered no",
        [(C, "Does anyone in your family have diabetes?"), (P, "No.")],
        "diabetes",
        "family",
        "negated",
    ),
    talk(
        "family question, answer names a relative's condition",
        [
            (C, "Does anyone in your family have heart disease?"),
            (P, "My father had a heart attack."),
        ],
        "heart attack",
        "family",
    ),
    talk(
        "family question, bare answer inherits family",
        [
            (C, "What medical problems run in your family?"),
            (P, "Diabetes and high blood pressure."),
        ],
        "high blood pressure",
        "family",
    ),
    talk(
        "family question, first-person answer is the patient's own",
        [(C, "Any heart problems in your family?"), (P, "No. I have high blood pressure though.")],
        "high blood pressure",
    ),
    talk(
        "family question no, patient's own stroke",
        [
            (C, "Has anyone in your family had a stroke?"),
            (P, "No, but I had a stroke two years ago."),
        ],
        "stroke",
        "historical",
        turn=1,
    ),
    talk(
        "family question no, relative's stroke negated",
        [
            (C, "Has anyone in your family had a stroke?"),
            (P, "No, but I had a stroke two years ago."),
        ],
        "stroke",
        "family",
        "negated",
        turn=0,
    ),
    talk(
        "ever-had question answered with a time",
        [(C, "Have you ever had asthma?"), (P, "When I was a kid, yes.")],
        "asthma",
        "historical",
    ),
    talk(
        "answer: a relative has it",
        [(C, "Any history of cancer?"), (P, "My mom did.")],
        "cancer",
        "family",
    ),
    talk(
        "clinician's own sentence does not make the patient's answer family",
        [
            (C, "Your mother has diabetes, right? Do you have any fatigue?"),
            (P, "Yes, I get fatigue in the afternoon."),
        ],
        "fatigue",
        turn=1,
    ),
    # A cue inside the entity's own span is part of the complaint, not its negation.
    say("in-span: can't", "I can't move my shoulder since the fall.", "can't move"),
    say("in-span: not", "I've been not sleeping well lately.", "not sleeping well"),
)

# Written before the conversational rules and not used to tune them: negation accuracy on
# these is the honest estimate (tests/test_context.py holds it to the 0.92 target).
HOLDOUT: tuple[Case, ...] = (
    talk(
        "h: any dizziness no",
        [(C, "Any dizziness or lightheadedness?"), (P, "No.")],
        "dizziness",
        "negated",
    ),
    talk(
        "h: nah",
        [(C, "Have you noticed any blood in the stool?"), (P, "Nah, nothing.")],
        "blood in the stool",
        "negated",
    ),
    talk("h: no ma'am", [(C, "Any palpitations?"), (P, "No ma'am.")], "palpitations", "negated"),
    talk(
        "h: I don't think so",
        [(C, "Any weight loss?"), (P, "I don't think so.")],
        "weight loss",
        "negated",
    ),
    talk("h: yeah", [(C, "Any swelling in your ankles?"), (P, "Yeah, a little bit.")], "swelling"),
    talk(
        "h: yes with a time",
        [(C, "Have you had a colonoscopy?"), (P, "Yes, about five years ago.")],
        "colonoscopy",
        "historical",
    ),
    talk(
        "h: no to a test",
        [(C, "Have you had a chest x-ray?"), (P, "No, never.")],
        "chest x-ray",
        "negated",
    ),
    talk("h: still there", [(C, "Has the rash gone away?"), (P, "No, it's still there.")], "rash"),
    talk(
        "h: worse",
        [(C, "Is your breathing any better?"), (P, "No, the shortness of breath is worse.")],
        "shortness of breath",
        turn=1,
    ),
    talk("h: your asthma", [(C, "Do you use an inhaler for your asthma?"), (P, "No.")], "asthma"),
    talk(
        "h: family no",
        [(C, "Any family history of heart disease?"), (P, "No.")],
        "heart disease",
        "family",
        "negated",
    ),
    talk(
        "h: family yes",
        [(C, "Any family history of heart disease?"), (P, "Yes, my dad had a heart attack.")],
        "heart attack",
        "family",
    ),
    talk(
        "h: what brings you",
        [(C, "What brings you in today?"), (P, "I've had a headache for a week.")],
        "headache",
    ),
    talk(
        "h: no but",
        [(C, "Any nausea or vomiting?"), (P, "No vomiting, but I have been nauseous.")],
        "vomiting",
        "negated",
        turn=1,
    ),
    say("h: haven't had", "I haven't had any diarrhea.", "diarrhea", "negated"),
    say("h: don't get", "I don't get chest pain when I walk.", "chest pain", "negated"),
    say("h: never been told", "I've never been told I have diabetes.", "diabetes", "negated"),
    say("h: no list", "No cough, no fever, no sore throat.", "sore throat", "negated"),
    say(
        "h: without",
        "I can walk without any shortness of breath.",
        "shortness of breath",
        "negated",
    ),
    say("h: don't remember", "I don't remember when the rash started.", "rash"),
    say("h: can't breathe because of", "I can't lie flat because of the heartburn.", "heartburn"),
    say("h: not helping", "The ibuprofen isn't helping.", "ibuprofen"),
    say("h: although", "No fever, although the cough keeps me up.", "cough"),
    say("h: however", "No chest pain. However, I do get palpitations.", "palpitations"),
    say("h: back in", "I had my gallbladder removed back in 2012.", "gallbladder removed",
        "historical"),
    say("h: a long time ago", "I had hepatitis a long time ago.", "hepatitis", "historical"),
    say("h: my grandmother", "My grandmother had colon cancer.", "colon cancer", "family"),
    say("h: my wife", "My wife thinks my snoring is worse.", "snoring"),
    say("h: if it spreads", "If the rash spreads, come back.", "rash", "hypothetical"),
    say("h: watch out for", "Watch out for any nosebleeds.", "nosebleeds", "hypothetical"),
    say("h: may be", "This may be a viral infection.", "viral infection", "uncertain"),
    say("h: concerned", "I'm concerned it could be pneumonia.", "pneumonia", "uncertain"),
    say("h: present tense", "I have asthma and high blood pressure.", "high blood pressure"),
    say("h: taking", "I'm taking lisinopril every morning.", "lisinopril"),
    say("h: tags no", "[doctor] any vomiting? [patient] no, none", "vomiting", "negated"),
    say("h: tags yes", "[doctor] any cough? [patient] yes, at night", "cough"),
)
