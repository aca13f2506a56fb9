"""SQL the baselines share: the hygiene rules and the lead columns, written once for the sqlite3 shell.

Example: f"WITH {STALE_CTES} SELECT id FROM leads l WHERE l.status = 'open' AND {stale('l')}"

The rules are those `core/hygiene.py` documents, with the default limits
(`clean` rules): idle longer than the stage's idle days; in a stage more than
2x the average of the latest 1,000 won leads (where at least 5 passed
through); open more than 180 days, or more than 60 in the last stage; 3
outreach attempts since the last answer; budget or authority answered no;
60 days under the nurture threshold; a next action overdue by more than the
stage's idle days. A lead with a next action due today or later is spared the
idle, in-stage and no-response rules; a connected call is an answer. "More
than N days" means at least N + 1 whole days; a lead restored within its
stage's idle days is never flagged.
Times are the generated data's epoch seconds, `now` the fixed benchmark time.
"""

from benchmarks.generate import NOW_TS

DAY = 86_400
# The benchmark clock's day (UTC), the next day, and the end of `next`'s default 7-day window.
TODAY = NOW_TS - NOW_TS % DAY
TOMORROW = TODAY + DAY
HORIZON = TOMORROW + 7 * DAY

OUTREACH = "('call', 'email', 'message')"
INBOUND = "('reply', 'meeting', 'demo', 'form_submission', 'trial_request')"

STALE_CTES = f"""restored AS (
    SELECT a.lead_id FROM activities a JOIN leads r ON r.id = a.lead_id JOIN stages rs ON rs.id = r.stage_id
    WHERE a.kind = 'restored' AND a.at > {NOW_TS} - rs.idle_days * 86400
),
recent_won AS (
    SELECT id FROM leads WHERE status = 'won' ORDER BY id DESC LIMIT 1000
),
steps AS (
    SELECT a.lead_id, a.kind, a.to_stage_id, a.at,
           lead(a.at) OVER w AS left_at, lead(a.kind) OVER w AS next_kind
    FROM recent_won r JOIN activities a ON a.lead_id = r.id
    WHERE a.kind IN ('created', 'stage_change', 'reopened', 'won', 'lost')
    WINDOW w AS (PARTITION BY a.lead_id ORDER BY a.at, a.id)
),
limits AS (
    SELECT to_stage_id AS stage_id, CAST((avg(left_at - at) / 86400.0) * 2.0 AS INTEGER) AS days
    FROM steps
    WHERE kind IN ('created', 'stage_change', 'reopened') AND next_kind IN ('stage_change', 'won', 'lost')
    GROUP BY to_stage_id
    HAVING count(DISTINCT lead_id) >= 5
),
last_stage AS (
    SELECT id FROM stages WHERE position = (SELECT max(position) FROM stages WHERE position IS NOT NULL)
)"""


def stale(lead: str) -> str:
    """A condition on the open lead `lead` (an alias of leads), true when any rule flags it.

    Needs STALE_CTES in the statement's WITH clause.
    """
    return f"""({lead}.id NOT IN (SELECT lead_id FROM restored) AND (
        {lead}.created_at <= {NOW_TS - 181 * DAY}
     OR ({lead}.stage_id IN (SELECT id FROM last_stage) AND {lead}.stage_entered_at <= {NOW_TS - 61 * DAY})
     OR {lead}.budget = 'no' OR {lead}.authority = 'no'
     OR ({lead}.nurture_since IS NOT NULL AND {lead}.nurture_since <= {NOW_TS - 61 * DAY})
     OR EXISTS (SELECT 1 FROM activities t JOIN stages ts ON ts.id = {lead}.stage_id
                WHERE t.lead_id = {lead}.id AND t.done = 0 AND t.due < {TODAY} - ts.idle_days * 86400)
     OR (NOT EXISTS (SELECT 1 FROM activities p WHERE p.lead_id = {lead}.id AND p.done = 0 AND p.due >= {TODAY})
         AND ({lead}.last_activity_at <= {NOW_TS} - ((SELECT idle_days FROM stages WHERE id = {lead}.stage_id) + 1)
                                                    * 86400
          OR {lead}.stage_entered_at <= {NOW_TS} - ((SELECT days FROM limits WHERE stage_id = {lead}.stage_id) + 1)
                                                   * 86400
          OR (SELECT count(*) FROM activities o WHERE o.lead_id = {lead}.id AND o.kind IN {OUTREACH}
              AND o.at > coalesce((SELECT max(i.at) FROM activities i WHERE i.lead_id = {lead}.id
                                   AND (i.kind IN {INBOUND} OR (i.kind = 'call'
                                        AND json_extract(i.data, '$.outcome') = 'connected'))), -1)) >= 3))))"""


def lead_columns(lead: str, stage: str) -> str:
    """What a person sees of a lead in a list: its fields, stage, tags and custom fields (not the timeline)."""
    return f"""{lead}.id, {lead}.name, {lead}.company, {lead}.email, {lead}.owner, {lead}.value_cents, {stage}.name,
       {lead}.status, {lead}.score, {lead}.created_at, {lead}.last_activity_at,
       (SELECT group_concat(tag, ',') FROM (SELECT tag FROM lead_tags WHERE lead_id = {lead}.id ORDER BY tag)),
       (SELECT group_concat(key || '=' || value, ',') FROM lead_fields WHERE lead_id = {lead}.id)"""
