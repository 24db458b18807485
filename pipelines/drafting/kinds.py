"""Content kinds: what a note sentence is about, independent of any one note type.

The section router predicts a kind for each transcript sentence; a note template says which
kinds each of its sections receives (``SectionSpec.receives``), so one trained router serves
every note type. ``HEADINGS`` maps the section headings of the training notes (ACI-Bench,
MTS-Dialog) to kinds.
"""

from __future__ import annotations

import re

NONE = "none"
KINDS: tuple[str, ...] = (
    "chief_complaint",
    "hpi",
    "past_history",
    "social_history",
    "family_history",
    "medications",
    "allergies",
    "ros",
    "vitals",
    "exam",
    "results",
    "assessment",
    "plan",
)
KIND_DESCRIPTIONS: dict[str, str] = {
    "chief_complaint": "the reason for the visit in a few words",
    "hpi": "the story of the present illness: symptoms, onset, course, what was tried",
    "past_history": "past medical and surgical history",
    "social_history": "work, home, habits: smoking, alcohol, exercise",
    "family_history": "illnesses in the family",
    "medications": "medications the patient takes, with dose and frequency",
    "allergies": "allergies",
    "ros": "review of systems: symptoms asked about, present or denied",
    "vitals": "vital signs",
    "exam": "physical examination findings",
    "results": "test, laboratory and imaging results",
    "assessment": "the clinician's impression and diagnoses",
    "plan": "treatment, tests ordered, referrals, instructions and follow-up",
}

# Heading (upper case, without trailing colon) -> (kind, combined assessment-and-plan?).
# A heading matches when it equals a key or starts with it ("PHYSICAL EXAMINATION").
HEADINGS: dict[str, str] = {
    "CHIEF COMPLAINT": "chief_complaint",
    "CC": "chief_complaint",
    "REASON FOR VISIT": "chief_complaint",
    "HISTORY OF PRESENT ILLNESS": "hpi",
    "HPI": "hpi",
    "GENHX": "hpi",
    "SUBJECTIVE": "hpi",
    "INTERVAL HISTORY": "hpi",
    "PAST MEDICAL HISTORY": "past_history",
    "MEDICAL HISTORY": "past_history",
    "PAST HISTORY": "past_history",
    "PASTMEDICALHX": "past_history",
    "SURGICAL HISTORY": "past_history",
    "PAST SURGICAL HISTORY": "past_history",
    "PASTSURGICAL": "past_history",
    "OTHER_HISTORY": "past_history",
    "GYNHX": "past_history",
    "IMMUNIZATIONS": "past_history",
    "BIRTH HISTORY": "past_history",
    "SOCIAL HISTORY": "social_history",
    "FAM/SOCHX": "social_history",
    "FAMILY HISTORY": "family_history",
    "MEDICATIONS": "medications",
    "CURRENT MEDICATIONS": "medications",
    "ALLERGIES": "allergies",
    "ALLERGY": "allergies",
    "REVIEW OF SYSTEMS": "ros",
    "ROS": "ros",
    "VITALS": "vitals",
    "VITAL SIGNS": "vitals",
    "PHYSICAL EXAM": "exam",
    "EXAM": "exam",
    "OBJECTIVE": "exam",
    "RESULTS": "results",
    "LABS": "results",
    "IMAGING": "results",
    "FINDINGS": "results",
    "PROCEDURES": "results",
    "PROCEDURE": "results",
    "ASSESSMENT": "assessment",
    "IMPRESSION": "assessment",
    "DIAGNOSIS": "assessment",
    "PLAN": "plan",
    "INSTRUCTIONS": "plan",
    "DISPOSITION": "plan",
    "EDCOURSE": "plan",
    # PriMock57 clinicians' shorthand
    "PC": "chief_complaint",
    "HPC": "hpi",
    "PMH": "past_history",
    "PSH": "past_history",
    "DH": "medications",
    "SH": "social_history",
    "FH": "family_history",
    "O/E": "exam",
    "OE": "exam",
    "IMP": "assessment",
    "DDX": "assessment",
}
_COMBINED = re.compile(r"^ASSESSMENT\s*(?:AND|&|/)\s*PLAN$")
_HEADING_FORM = re.compile(r"^[A-Z][A-Z0-9 /&_,()-]{1,48}$")


def heading_kind(line: str) -> tuple[str, bool] | None:
    """(kind, combined) when ``line`` is a section heading, else None.

    ``combined`` is True for ASSESSMENT AND PLAN, whose lines are both kinds.
    """
    text = line.strip().rstrip(":").strip()
    if not _HEADING_FORM.match(text):
        return None
    if _COMBINED.match(text):
        return "assessment", True
    for heading in sorted(HEADINGS, key=len, reverse=True):
        if text == heading or (len(heading) > 3 and text.startswith(heading)):
            return HEADINGS[heading], False
    return None
