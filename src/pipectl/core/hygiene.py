"""Which open leads are stalled or dead, and why, in words a seller understands.

Each rule is one set-based SQL query over the open leads (SQLAlchemy Core,
integer epoch arithmetic, so it runs on SQLite and PostgreSQL alike) that
returns the ids it flags with the numbers its reason needs; Python only
words the reasons of the leads flagged. A limit of N days means "more than N
whole days": a lead idle for exactly N days is not stalled yet, at N + 1 it is.

"Too long in stage" compares with the average time the latest 1,000 won leads
spent in each stage (read from their stage-change history); with fewer than
`min_won_history` of them through a stage, the idle rule decides there.

A lead restored from the archive gets one idle period of grace (its stage's
idle days) before any rule flags it again, so the next sweep does not archive
it straight back.

A lead with a next action due today or later is live: the seller has a plan,
so the idle, too-long-in-stage and no-response rules leave it alone. A next
action left undone is a reason of its own (`overdue-action`): overdue by more
than the stage's idle days. A lead answers with a reply, a meeting or demo,
an inbound signal, or a call logged `--outcome connected`.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import BigInteger, ColumnElement, and_, bindparam, false, func, or_, select, type_coerce
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from pipectl.core.cleanup_rules import CleanupRules, load_cleanup_rules
from pipectl.core.kinds import CONNECTED, OUTREACH, RESPONSES
from pipectl.dates import from_timestamp, to_timestamp
from pipectl.errors import UsageError
from pipectl.storage.models import Activity, Lead, Stage

DAY = 86_400
# The rule names `clean --rule` takes, in the order reasons are listed.
RULES = ("idle", "too-long-in-stage", "overdue-action", "too-old", "no-response", "disqualified", "not-audience")
# What counts as the lead answering: a reply or conversation, or an inbound signal.
INBOUND = RESPONSES + ("form_submission", "trial_request")
# Rows of the history that put a lead into a stage, and rows that take it out again.
STAGE_ENTRIES = ("created", "stage_change", "reopened")
STAGE_EXITS = ("stage_change", "won", "lost")
ID_CHUNK = 500
# How many ids a streamed sweep checks at once: memory holds one window's reasons.
ID_WINDOW = 10_000
# How many of the latest won leads the too-long-in-stage averages are read from.
WON_SAMPLE = 1000


def stale_reasons(
    session: Session,
    now: datetime,
    lead_ids: list[int] | None = None,
    rules: list[str] | None = None,
    *,
    stage_id: int | None = None,
    last_activity_before: datetime | None = None,
) -> dict[int, list[str]]:
    """Open stalled leads: id → every reason in words, ordered by id.

    `lead_ids` limits the check to those leads (for a page of a list or a board),
    `rules` to some of `RULES`; `stage_id` and `last_activity_before` are the
    `clean --stage` and `--older-than` filters.
    """
    finder = StaleFinder(session, now, rules)
    return finder.reasons(lead_ids, stage_id=stage_id, last_activity_before=last_activity_before)


def check_rules(rules: Iterable[str] | None) -> list[str]:
    """The rule names, checked and in canonical order; None means all of them."""
    if rules is None:
        return list(RULES)
    wanted = {rule.strip().lower() for rule in rules}
    unknown = sorted(wanted - set(RULES))
    if unknown:
        raise UsageError(f"Unknown rule {', '.join(map(repr, unknown))}; use one of: {', '.join(RULES)}.")
    return [rule for rule in RULES if rule in wanted]


@dataclass
class StageInfo:
    name: str
    idle_days: int
    position: int | None


class StaleFinder:
    """The rules with everything they need worked out once (stages, limits, averages).

    Build one per command and ask it for many pages of leads: the per-stage
    averages of won leads are computed only once.
    """

    def __init__(
        self, session: Session, now: datetime, rules: Iterable[str] | None = None, limits: CleanupRules | None = None
    ):
        self.session = session
        self.now = now
        self.now_ts = to_timestamp(now)
        # A next action due from the start of today on is still ahead of the seller.
        self.today_ts = to_timestamp(datetime.combine(now.date(), time()))
        self.rules = check_rules(rules)
        self.limits = limits or load_cleanup_rules(session)
        self.stages = {
            stage_id: StageInfo(name, idle_days, position)
            for stage_id, name, idle_days, position in session.execute(
                select(col(Stage.id), col(Stage.name), col(Stage.idle_days), col(Stage.position))
            )
        }
        placed = [(info.position, stage_id) for stage_id, info in self.stages.items() if info.position is not None]
        self.last_stage_id = max(placed)[1] if placed else None
        self._stage_limits: dict[int, tuple[float, str] | None] | None = None

    # -- public -------------------------------------------------------------------------------

    def reasons(
        self,
        lead_ids: list[int] | None = None,
        *,
        stage_id: int | None = None,
        last_activity_before: datetime | None = None,
        names: dict[int, tuple[str, int]] | None = None,
    ) -> dict[int, list[str]]:
        """Id → reasons for the open leads the chosen rules flag, ordered by id.

        Pass a dict as `names` to have it filled with id → (name, stage id) of
        the flagged leads, read by the same queries.
        """
        found: dict[int, list[str]] = {}
        chunks: list[list[int] | None] = [None]  # None: no id filter, one pass over every open lead
        if lead_ids is not None:
            chunks = [lead_ids[start : start + ID_CHUNK] for start in range(0, len(lead_ids), ID_CHUNK)]
        for chunk in chunks:
            self._flag(self._queries(self._scope(chunk, stage_id, last_activity_before)), found, names)
        return {lead_id: found[lead_id] for lead_id in sorted(found)}

    def stream(
        self, *, stage_id: int | None = None, last_activity_before: datetime | None = None
    ) -> Iterator[tuple[int, str, int, list[str]]]:
        """(id, name, stage id, reasons) of every open lead the rules flag, in id order, one at a time.

        The rules run over one window of ids after another, so a sweep of a
        million leads holds one window's reasons in memory, never all of them.
        """
        low, high = self.session.execute(
            select(func.min(Lead.id), func.max(Lead.id)).where(col(Lead.status) == "open")
        ).one()
        if low is None:
            return
        # The rules' queries are built once, the window's bounds bound per run: building them for each
        # window cost as much Python as reading the rows.
        window = [col(Lead.id) >= bindparam("window_low"), col(Lead.id) < bindparam("window_high")]
        queries = self._queries([*self._scope(None, stage_id, last_activity_before), *window])
        for start in range(low, high + 1, ID_WINDOW):
            found: dict[int, list[str]] = {}
            names: dict[int, tuple[str, int]] = {}
            self._flag(queries, found, names, {"window_low": start, "window_high": start + ID_WINDOW})
            for lead_id in sorted(found):
                yield lead_id, *names[lead_id], found[lead_id]

    def _queries(self, scope: list) -> list:
        """(query, its explaining method) of each chosen rule over the leads in `scope`, in RULES order."""
        queries = []
        for rule in self.rules:
            method = rule.replace("-", "_")
            query = getattr(self, f"_{method}_query")(scope)
            if query is not None:
                queries.append((query, getattr(self, f"_{method}")))
        return queries

    def _flag(
        self,
        queries: list,
        found: dict[int, list[str]],
        names: dict[int, tuple[str, int]] | None,
        parameters: dict | None = None,
    ) -> None:
        """Run the rules' `queries`, adding each flagged lead's reasons to `found`."""
        # Core execution: plain tuples, without the ORM's per-row work, since rows can be many.
        connection = self.session.connection()
        # Rules run in RULES order, so each lead's reasons come out in that order.
        for query, explain in queries:
            for row in connection.execute(query, parameters).all():
                lead_id = row[0]
                reasons = found.get(lead_id)
                if reasons is None:
                    reasons = found[lead_id] = []
                    if names is not None:
                        names[lead_id] = (row[1], row[2])
                reasons.extend(explain(row))

    def condition(self):
        """A SQL condition on `leads` true for stalled leads (for `list --stale`).

        Row by row, so `list --stale --limit 50` stops after 50 matches; the costly
        no-response check comes last and is skipped when a cheaper rule already holds.
        """
        ordered = [rule for rule in self.rules if rule != "no-response"]
        ordered += [rule for rule in self.rules if rule == "no-response"]
        predicates = [getattr(self, f"_{rule.replace('-', '_')}_where")() for rule in ordered]
        predicates = [predicate for predicate in predicates if predicate is not None]
        if not predicates:
            return false()
        return and_(*self._scope(None, None, None), or_(*predicates))

    # -- the common scope ---------------------------------------------------------------------

    def _scope(self, lead_ids, stage_id, last_activity_before) -> list:
        """Conditions every rule applies: open leads, the filters, and the grace after a restore."""
        conditions: list[ColumnElement[bool]] = [col(Lead.status) == "open"]
        if lead_ids is not None:
            conditions.append(col(Lead.id).in_(lead_ids))
        if stage_id is not None:
            conditions.append(col(Lead.stage_id) == stage_id)
        if last_activity_before is not None:
            conditions.append(col(Lead.last_activity_at) < to_timestamp(last_activity_before))
        conditions.append(col(Lead.id).not_in(self._recently_restored()))
        return conditions

    def _recently_restored(self):
        # Its own alias of `leads`, so that it is never correlated with the outer query.
        restored = aliased(Lead)
        return (
            select(col(Activity.lead_id))
            .join(restored, col(restored.id) == col(Activity.lead_id))
            .join(Stage, col(Stage.id) == col(restored.stage_id))
            .where(col(Activity.kind) == "restored", _ts(col(Activity.at)) > self.now_ts - col(Stage.idle_days) * DAY)
        )

    def _over(self, column, limit_days: float):
        """`column` lies more than `limit_days` whole days before now."""
        return column <= self.now_ts - (int(limit_days) + 1) * DAY

    def _days_since(self, seconds: int) -> int:
        return (self.now_ts - seconds) // DAY

    # -- the rules: a query whose rows start (id, name, stage id), and the reasons for a row ---------

    def _planned_ahead(self):
        """The lead (the outer `leads` row) has an open next action due today or later."""
        task = aliased(Activity)
        return (
            select(col(task.id))
            .where(
                col(task.lead_id) == col(Lead.id),
                col(task.done) == False,  # noqa: E712
                _ts(col(task.due)) >= self.today_ts,
            )
            .correlate(Lead)
            .exists()
        )

    def _idle_where(self):
        # One term per stage, its idle days a constant: a plain row test, no join needed.
        return and_(
            or_(
                false(),
                *(
                    and_(Lead.stage_id == stage_id, self._over(_ts(Lead.last_activity_at), info.idle_days))
                    for stage_id, info in self.stages.items()
                ),
            ),
            ~self._planned_ahead(),
        )

    def _idle_query(self, scope):
        return select(col(Lead.id), col(Lead.name), col(Lead.stage_id), _ts(col(Lead.last_activity_at))).where(
            *scope, self._idle_where()
        )

    def _idle(self, row) -> list[str]:
        return [self._idle_words(row[2], row[3])]

    def _idle_words(self, stage_id: int, last: int) -> str:
        stage = self.stages[stage_id]
        return f"no activity for {self._days_since(last)} days (limit {stage.idle_days} in {stage.name})"

    def _too_long_in_stage_where(self):
        over = []
        for stage_id, limit in self.stage_limits().items():
            if limit is not None:
                over.append(and_(col(Lead.stage_id) == stage_id, self._over(_ts(col(Lead.stage_entered_at)), limit[0])))
            elif "idle" not in self.rules:
                # Too few won leads to average: the idle rule decides, so apply it here.
                over.append(
                    and_(
                        col(Lead.stage_id) == stage_id,
                        self._over(_ts(Lead.last_activity_at), self.stages[stage_id].idle_days),
                    )
                )
        return and_(or_(*over), ~self._planned_ahead()) if over else None

    def _too_long_in_stage_query(self, scope):
        over = self._too_long_in_stage_where()
        if over is None:
            return None
        return select(
            col(Lead.id),
            col(Lead.name),
            col(Lead.stage_id),
            _ts(col(Lead.stage_entered_at)),
            _ts(col(Lead.last_activity_at)),
        ).where(*scope, over)

    def _too_long_in_stage(self, row) -> list[str]:
        stage_id, entered, last = row[2], row[3], row[4]
        limit = self.stage_limits()[stage_id]
        if limit is None:
            return [self._idle_words(stage_id, last)]
        return [f"in {self.stages[stage_id].name} for {self._days_since(entered)} days (limit {limit[1]})"]

    def _overdue(self):
        """The open next action's due time, for leads where it is overdue by more than the stage's idle days."""
        task = aliased(Activity)
        late = or_(
            false(),
            *(
                and_(Lead.stage_id == stage_id, _ts(task.due) < self.today_ts - info.idle_days * DAY)
                for stage_id, info in self.stages.items()
            ),
        )
        return (
            select(func.min(_ts(task.due)))
            .where(
                col(task.lead_id) == col(Lead.id),
                col(task.done) == False,  # noqa: E712
                col(task.due).is_not(None),
                late,
            )
            .correlate(Lead)
            .scalar_subquery()
        )

    def _overdue_action_where(self):
        return self._overdue().is_not(None)

    def _overdue_action_query(self, scope):
        overdue = self._overdue().label("due")
        return select(col(Lead.id), col(Lead.name), col(Lead.stage_id), overdue).where(
            *scope, self._overdue_action_where()
        )

    def _overdue_action(self, row) -> list[str]:
        stage = self.stages[row[2]]
        late = (from_timestamp(self.today_ts).date() - from_timestamp(row[3]).date()).days
        return [f"next action overdue by {late} days (limit {stage.idle_days} in {stage.name})"]

    def _too_old_where(self):
        old = self._over(_ts(Lead.created_at), self.limits.max_age_days)
        if self.last_stage_id is not None:
            old = or_(
                old,
                and_(
                    Lead.stage_id == self.last_stage_id,
                    self._over(_ts(Lead.stage_entered_at), self.limits.negotiation_max_days),
                ),
            )
        return old

    def _too_old_query(self, scope):
        return select(
            col(Lead.id), col(Lead.name), col(Lead.stage_id), _ts(col(Lead.created_at)), _ts(col(Lead.stage_entered_at))
        ).where(*scope, self._too_old_where())

    def _too_old(self, row) -> list[str]:
        stage_id, created, entered = row[2], row[3], row[4]
        max_age, negotiation = self.limits.max_age_days, self.limits.negotiation_max_days
        reasons = []
        age = self._days_since(created)
        if age > max_age:
            reasons.append(f"open for {age} days (limit {max_age})")
        negotiating = self._days_since(entered)
        if stage_id == self.last_stage_id and negotiating > negotiation:
            name = self.stages[stage_id].name
            reasons.append(f"negotiating in {name} for {negotiating} days (limit {negotiation})")
        return reasons

    def _answered(self):
        """When the lead last answered (correlated with the outer `leads` row), or -1."""
        inbound = aliased(Activity)
        return func.coalesce(
            select(func.max(_ts(inbound.at)))
            .where(
                col(inbound.lead_id) == col(Lead.id),
                or_(
                    col(inbound.kind).in_(INBOUND),
                    # A call that reached the person is a conversation (`log … call --outcome connected`).
                    and_(col(inbound.kind) == "call", col(inbound.data)["outcome"].as_string() == CONNECTED),
                ),
            )
            .correlate(Lead)
            .scalar_subquery(),
            -1,
        )

    def _no_response_where(self):
        attempts = (
            select(func.count())
            .where(
                col(Activity.lead_id) == col(Lead.id),
                col(Activity.kind).in_(OUTREACH),
                _ts(col(Activity.at)) > self._answered(),
            )
            .correlate(Lead)
            .scalar_subquery()
        )
        return and_(attempts >= self.limits.no_response_attempts, ~self._planned_ahead())

    def _no_response_query(self, scope):
        return (
            # name and stage_id depend on the grouped primary key, which PostgreSQL accepts too.
            select(col(Lead.id), col(Lead.name), col(Lead.stage_id), func.count(), func.min(_ts(col(Activity.at))))
            .join(Activity, col(Activity.lead_id) == col(Lead.id))
            # Planned actions are `task` rows, so outreach kinds are always done; leaving `done` out
            # lets the planner walk each open lead's activities by (lead_id, at).
            .where(
                *scope, col(Activity.kind).in_(OUTREACH), _ts(Activity.at) > self._answered(), ~self._planned_ahead()
            )
            .group_by(col(Lead.id))
            .having(func.count() >= self.limits.no_response_attempts)
        )

    def _no_response(self, row) -> list[str]:
        attempts, first = row[3], row[4]
        return [
            f"no reply to {attempts} outreach attempts since {from_timestamp(first):%Y-%m-%d} "
            f"(limit {self.limits.no_response_attempts})"
        ]

    def _disqualified_where(self):
        return or_(col(Lead.budget) == "no", col(Lead.authority) == "no")

    def _disqualified_query(self, scope):
        return select(
            col(Lead.id),
            col(Lead.name),
            col(Lead.stage_id),
            col(Lead.budget),
            col(Lead.budget_note),
            col(Lead.authority),
            col(Lead.authority_note),
        ).where(*scope, self._disqualified_where())

    def _disqualified(self, row) -> list[str]:
        budget, budget_note, authority, authority_note = row[3], row[4], row[5], row[6]
        reasons = []
        if budget == "no":
            reasons.append("no budget (BANT budget is no" + (f": {budget_note})" if budget_note else ")"))
        if authority == "no":
            reasons.append(
                "no access to the decision maker (BANT authority is no"
                + (f": {authority_note})" if authority_note else ")")
            )
        return reasons

    def _not_audience_where(self):
        return and_(
            col(Lead.nurture_since).is_not(None), self._over(_ts(col(Lead.nurture_since)), self.limits.nurture_max_days)
        )

    def _not_audience_query(self, scope):
        return select(col(Lead.id), col(Lead.name), col(Lead.stage_id), _ts(col(Lead.nurture_since))).where(
            *scope, self._not_audience_where()
        )

    def _not_audience(self, row) -> list[str]:
        return [
            f"under the nurture threshold for {self._days_since(row[3])} days (limit {self.limits.nurture_max_days})"
        ]

    # -- too long in stage: the limits from won leads' history --------------------------------

    def stage_limits(self) -> dict[int, tuple[float, str] | None]:
        """Open stage id → (limit in days, the limit in words), or None where too few won leads
        passed through the stage to average: there the idle rule decides."""
        if self._stage_limits is None:
            averages = won_stage_averages(self.session)
            factor, minimum = self.limits.stage_factor, self.limits.min_won_history
            self._stage_limits = {}
            for stage_id, info in self.stages.items():
                if info.position is None:
                    continue
                average, won = averages.get(stage_id, (None, 0))
                if average is not None and won >= minimum:
                    limit = factor * average
                    words = f"{_days(limit)}: {factor:g}× the {_days(average)} days won leads averaged there"
                    self._stage_limits[stage_id] = (limit, words)
                else:
                    self._stage_limits[stage_id] = None
        return self._stage_limits


def won_stage_averages(session: Session, sample: int | None = None) -> dict[int, tuple[float, int]]:
    """Stage id → (average days won leads spent in it, how many won leads passed through it).

    Read from the history of the latest `sample` won leads (by id): a recent
    sample says how long deals take now, and keeps this cheap however many
    leads were ever won. A `created`, `stage_change` or `reopened` row enters a
    stage, the lead's next `stage_change`, `won` or `lost` row leaves it.
    """
    recent = (
        select(col(Lead.id))
        .where(col(Lead.status) == "won")
        .order_by(col(Lead.id).desc())
        .limit(sample or WON_SAMPLE)
        .subquery()
    )
    at = _ts(col(Activity.at))
    order = (at, col(Activity.id))
    steps = (
        select(
            col(Activity.lead_id),
            col(Activity.kind),
            col(Activity.to_stage_id),
            at.label("entered"),
            func.lead(at).over(partition_by=col(Activity.lead_id), order_by=order).label("left"),
            func.lead(col(Activity.kind)).over(partition_by=col(Activity.lead_id), order_by=order).label("next_kind"),
        )
        .select_from(recent)
        .join(Activity, col(Activity.lead_id) == recent.c.id)
        .where(col(Activity.kind).in_(STAGE_ENTRIES + STAGE_EXITS))
        .subquery()
    )
    query = (
        select(
            steps.c.to_stage_id, func.avg(steps.c.left - steps.c.entered), func.count(func.distinct(steps.c.lead_id))
        )
        .where(steps.c.kind.in_(STAGE_ENTRIES), steps.c.next_kind.in_(STAGE_EXITS))
        .group_by(steps.c.to_stage_id)
    )
    return {
        stage_id: (float(seconds) / DAY, won)
        for stage_id, seconds, won in session.execute(query)
        if stage_id is not None
    }


def _ts(column):
    """A timestamp column as the integer it is stored as, for arithmetic."""
    return type_coerce(column, BigInteger)


def _days(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
