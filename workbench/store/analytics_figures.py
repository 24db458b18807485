"""One SQL query per Analytics figure, over the facts tables (migration 0023).

Every query filters the encounters the same way (``WHERE_ENCOUNTERS``, on alias ``e`` of
``analytics_encounters``) and returns a small aggregate: no encounter ids, no text. The
measures are defined in ``workbench.store.analytics``.
"""

from __future__ import annotations

# Skimming speed: a signature with less active review time than the signed note's words at
# this many words per minute is "fast". Typical silent reading of prose is ~240 wpm
# (Brysbaert 2019, J. Mem. Lang. 109); skimming is roughly twice that.
READING_WPM = 450

# The filters (workbench.store.analytics.Filters) on alias ``e`` of any facts table (each has
# the encounter's filter columns); $end is the
# day after the inclusive end date.
WHERE_ENCOUNTERS = """
    ($start::TIMESTAMP IS NULL OR e.created_at >= $start::TIMESTAMP)
AND ($end::TIMESTAMP IS NULL OR e.created_at < $end::TIMESTAMP)
AND (len($clinicians::VARCHAR[]) = 0 OR list_contains($clinicians::VARCHAR[], e.clinician))
AND (len($specialties::VARCHAR[]) = 0 OR list_contains($specialties::VARCHAR[], e.specialty))
AND (len($note_types::VARCHAR[]) = 0 OR list_contains($note_types::VARCHAR[], e.note_type))
AND (len($model_versions::VARCHAR[]) = 0
     OR list_contains($model_versions::VARCHAR[], e.drafter_version))
AND ($simulated::BOOLEAN IS NULL OR e.simulated = $simulated::BOOLEAN)
"""

FAST = "(e.active_seconds < e.note_words * 60.0 / " + str(READING_WPM) + ")"
_HOURS = "(epoch(e.signed_at - e.created_at) / 3600.0)"

VOLUME = (
    """
WITH f AS (SELECT e.created_at, e.first_review_at, e.signed_at FROM analytics_encounters e
           WHERE """
    + WHERE_ENCOUNTERS
    + """), x AS (
    SELECT date_trunc($grain, created_at) AS p, 1 AS i, 0 AS r, 0 AS s FROM f
    UNION ALL SELECT date_trunc($grain, first_review_at), 0, 1, 0 FROM f
              WHERE first_review_at IS NOT NULL
    UNION ALL SELECT date_trunc($grain, signed_at), 0, 0, 1 FROM f WHERE signed_at IS NOT NULL
)
SELECT CAST(p AS DATE) AS period, sum(i)::BIGINT AS ingested, sum(r)::BIGINT AS reviewed,
       sum(s)::BIGINT AS signed
FROM x GROUP BY p ORDER BY p
"""
)

TIME_TO_SIGN = (
    """
SELECT CAST(date_trunc($grain, e.signed_at) AS DATE) AS period, count(*) AS signed,
       median("""
    + _HOURS
    + """) AS median_hours_to_sign,
       quantile_cont("""
    + _HOURS
    + """, 0.9) AS p90_hours_to_sign,
       median(e.active_seconds / 60.0) AS median_active_minutes,
       quantile_cont(e.active_seconds / 60.0, 0.9) AS p90_active_minutes
FROM analytics_encounters e
WHERE e.signed_at IS NOT NULL AND """
    + WHERE_ENCOUNTERS
    + """
GROUP BY period ORDER BY period
"""
)

EDIT_BURDEN = (
    """
SELECT e.section, count(*) AS sections, avg(e.ned) AS mean_ned, median(e.ned) AS median_ned,
       avg(CASE WHEN e.distance = 0 THEN 1.0 ELSE 0.0 END) AS accept_as_is_rate
FROM analytics_sections e
WHERE """
    + WHERE_ENCOUNTERS
    + """
GROUP BY e.section ORDER BY sections DESC, e.section
"""
)

SENTENCE_OUTCOMES = (
    """
SELECT e.support_label, count(*) AS sentences,
       count(*) FILTER (WHERE e.outcome = 'accepted') AS accepted,
       count(*) FILTER (WHERE e.outcome = 'edited') AS edited,
       count(*) FILTER (WHERE e.outcome = 'rejected') AS rejected,
       avg(CASE WHEN e.outcome = 'accepted' THEN 1.0 ELSE 0.0 END) AS accepted_rate,
       avg(CASE WHEN e.outcome = 'edited' THEN 1.0 ELSE 0.0 END) AS edited_rate,
       avg(CASE WHEN e.outcome = 'rejected' THEN 1.0 ELSE 0.0 END) AS rejected_rate
FROM analytics_sentences e
WHERE """
    + WHERE_ENCOUNTERS
    + """
GROUP BY e.support_label
ORDER BY list_position(['supported', 'partly_supported', 'unsupported', 'unchecked'],
                       e.support_label) NULLS LAST, e.support_label
"""
)

ENTITY_CONFUSION = (
    """
SELECT e.model_label, e.final_label, sum(e.n)::BIGINT AS n
FROM analytics_entity_changes e
WHERE """
    + WHERE_ENCOUNTERS
    + """
GROUP BY e.model_label, e.final_label ORDER BY e.model_label, e.final_label
"""
)

ASR_WER = (
    """
SELECT e.clinician, e.specialty, count(*) AS encounters, sum(e.asr_words)::BIGINT AS words,
       sum(e.asr_word_errors)::BIGINT AS word_errors,
       sum(e.asr_word_errors) / nullif(sum(e.asr_words), 0) AS wer
FROM analytics_encounters e
WHERE e.signed_at IS NOT NULL AND e.asr_words IS NOT NULL AND """
    + WHERE_ENCOUNTERS
    + """
GROUP BY e.clinician, e.specialty ORDER BY e.clinician, e.specialty
"""
)

MODEL_VERSIONS = (
    """
SELECT e.drafter_version, count(*) AS encounters, count(e.signed_at) AS signed,
       sum(e.ned_sum) / nullif(sum(e.sections), 0) AS mean_ned,
       sum(e.sections_unchanged) / nullif(sum(e.sections), 0) AS accept_as_is_rate,
       sum(e.rejected) / nullif(sum(e.accepted + e.edited + e.rejected), 0) AS rejected_rate,
       median("""
    + _HOURS
    + """) AS median_hours_to_sign,
       sum(e.asr_word_errors) FILTER (WHERE e.signed_at IS NOT NULL)
           / nullif(sum(e.asr_words) FILTER (WHERE e.signed_at IS NOT NULL), 0) AS wer
FROM analytics_encounters e
WHERE """
    + WHERE_ENCOUNTERS
    + """
GROUP BY e.drafter_version ORDER BY e.drafter_version
"""
)

ADOPTION = (
    """
SELECT e.clinician, any_value(u.display_name) AS clinician_name, count(*) AS encounters,
       count(e.signed_at) AS signed, count(e.signed_at) / count(*) AS signed_rate,
       count(e.first_review_at) / count(*) AS reviewed_rate,
       median(e.active_seconds / 60.0) FILTER (WHERE e.signed_at IS NOT NULL)
           AS median_active_minutes,
       min(e.created_at) AS first_at, max(e.created_at) AS last_at
FROM analytics_encounters e LEFT JOIN users u ON u.user_id = e.clinician
WHERE """
    + WHERE_ENCOUNTERS
    + """
GROUP BY e.clinician ORDER BY encounters DESC, e.clinician
"""
)

RUBBER_STAMP = (
    """
SELECT e.clinician, CAST(date_trunc($grain, e.signed_at) AS DATE) AS period,
       count(*) AS signatures,
       count(*) FILTER (WHERE """
    + FAST
    + """) AS fast_signatures,
       count(*) FILTER (WHERE """
    + FAST
    + """) / nullif(count(e.active_seconds), 0) AS fast_rate,
       count(*) - count(e.active_seconds) AS unknown_review_time,
       sum(e.flagged_accepted)::BIGINT AS flagged_accepted,
       sum(e.flagged_unopened_accepted)::BIGINT AS flagged_unopened_accepted,
       sum(e.flagged_unopened_accepted) / nullif(sum(e.flagged_accepted), 0) AS unopened_rate
FROM analytics_encounters e
WHERE e.signed_at IS NOT NULL AND """
    + WHERE_ENCOUNTERS
    + """
GROUP BY e.clinician, period ORDER BY e.clinician, period
"""
)

FIGURE_SQL: dict[str, str] = {
    "volume": VOLUME,
    "time_to_sign": TIME_TO_SIGN,
    "edit_burden": EDIT_BURDEN,
    "sentence_outcomes": SENTENCE_OUTCOMES,
    "entity_confusion": ENTITY_CONFUSION,
    "asr_wer": ASR_WER,
    "model_versions": MODEL_VERSIONS,
    "adoption": ADOPTION,
    "rubber_stamp": RUBBER_STAMP,
}

# Encounters behind a figure (admins only); the optional conditions are bound parameters.
DRILLDOWN = (
    """
SELECT e.encounter_id, en.title, e.clinician, e.specialty, e.note_type, e.drafter_version,
       e.simulated, e.created_at, e.signed_at,
       -- the picked section's ned, else the mean over the encounter's sections
       CASE WHEN $section::VARCHAR IS NULL THEN e.ned_sum / nullif(e.sections, 0)
            ELSE (SELECT max(s.ned) FROM analytics_sections s
                  WHERE s.encounter_id = e.encounter_id AND s.section = $section::VARCHAR)
       END AS ned
FROM analytics_encounters e JOIN encounters en USING (encounter_id)
WHERE """
    + WHERE_ENCOUNTERS
    + """
AND ($clinician::VARCHAR IS NULL OR e.clinician = $clinician::VARCHAR)
AND ($section::VARCHAR IS NULL OR EXISTS (SELECT 1 FROM analytics_sections s
     WHERE s.encounter_id = e.encounter_id AND s.section = $section::VARCHAR))
AND ($support_label::VARCHAR IS NULL OR EXISTS (SELECT 1 FROM analytics_sentences s
     WHERE s.encounter_id = e.encounter_id AND s.support_label = $support_label::VARCHAR))
AND (($model_label::VARCHAR IS NULL AND $final_label::VARCHAR IS NULL)
     OR EXISTS (SELECT 1 FROM analytics_entity_changes c WHERE c.encounter_id = e.encounter_id
                AND ($model_label::VARCHAR IS NULL OR c.model_label = $model_label::VARCHAR)
                AND ($final_label::VARCHAR IS NULL OR c.final_label = $final_label::VARCHAR)))
AND ($fast_sign::BOOLEAN IS NULL
     OR (e.signed_at IS NOT NULL AND """
    + FAST
    + """ = $fast_sign::BOOLEAN))
ORDER BY ned DESC NULLS LAST, e.created_at DESC, e.encounter_id
LIMIT $limit
"""
)

OPTIONS = """
SELECT list(DISTINCT clinician ORDER BY clinician), list(DISTINCT specialty ORDER BY specialty),
       list(DISTINCT note_type ORDER BY note_type),
       list(DISTINCT drafter_version ORDER BY drafter_version),
       CAST(min(created_at) AS DATE), CAST(max(created_at) AS DATE), count(*),
       count(*) FILTER (WHERE simulated)
FROM analytics_encounters
"""

CLINICIAN_NAMES = """
SELECT DISTINCT e.clinician, coalesce(u.display_name, e.clinician)
FROM analytics_encounters e LEFT JOIN users u ON u.user_id = e.clinician ORDER BY 1
"""
