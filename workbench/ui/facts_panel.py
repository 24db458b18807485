"""The Review page's facts panel: the clinical entities found in the transcript and the
ICD-10-CM codes suggested for each assessed problem."""

from __future__ import annotations

from workbench.ui.code_suggestions import code_suggestions_panel
from workbench.ui.consent_control import consent_control
from workbench.ui.entity_panel import entity_panel
from workbench.ui.review_context import ReviewContext


def facts_panel(ctx: ReviewContext) -> None:
    """Entities (confirm, correct), codes per problem (accept, reject), training consent."""
    consent_control(ctx)
    entity_panel(ctx.encounter_id, ctx.transcript, ctx.entity_set, locked=ctx.note.signed)
    code_suggestions_panel(
        ctx.store,
        ctx.encounter_id,
        ctx.transcript_version,
        ctx.transcript,
        ctx.entities,
        ctx.note.draft,
        ctx.user,
    )
