"""Lead scoring: the rules a seller agrees once, and scores that explain themselves.

A score is the sum of rule points, clamped to 0–100. Demographic rules match a
lead's fields (built-in ones or `field:KEY` custom data points); behavioural
rules count activities of a kind, points per occurrence, capped, optionally
only within a recent window. This module holds the rules and the bands; they
are evaluated in SQL (`scoring_sql`), and stored scores are kept current by
`rescoring` (the leads a command touched) and `pipectl score` (every open lead),
so both paths agree by construction.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator
from sqlmodel import Session

from pipectl.contract import FIELD_PREFIX, NUMBER_DATA_POINTS, TEXT_DATA_POINTS
from pipectl.core.conditions import Condition, known_field, number_text
from pipectl.core.kinds import LOGGABLE, SYSTEM
from pipectl.core.settings import get_setting, put_setting
from pipectl.errors import UsageError

SETTING_KEY = "scoring"
CACHE_KEY = "pipectl.scoring"
# Built-in lead fields a demographic rule can match, by the names of the JSON contract.
TEXT_FIELDS = TEXT_DATA_POINTS
NUMBER_FIELDS = NUMBER_DATA_POINTS
CUSTOM_PREFIX = FIELD_PREFIX
LOWEST, HIGHEST = 0, 100


class Thresholds(BaseModel):
    """Score bands: under `nurture_below` a lead is nurtured, not worked; `mql` and `sql` mark readiness."""

    model_config = ConfigDict(extra="forbid")

    nurture_below: int = Field(default=30, ge=LOWEST, le=HIGHEST)
    mql: int = Field(default=50, ge=LOWEST, le=HIGHEST)
    sql: int = Field(default=75, ge=LOWEST, le=HIGHEST)

    @model_validator(mode="after")
    def _ordered(self):
        if not self.nurture_below <= self.mql <= self.sql:
            raise ValueError(
                f"thresholds must rise: nurture_below ({self.nurture_below}) <= mql ({self.mql}) <= sql ({self.sql})"
            )
        return self


class DemographicRule(Condition):
    """Points when a lead's fields meet the condition, or (`per`) points in proportion to a number.

    `per = 100, points = 1, cap = 20` gives a point for each whole 100 the field holds, at most 20
    (a number below zero counts as none); a matcher beside `per` is a condition it must also meet.
    """

    name: str = Field(min_length=1, max_length=80)
    points: int = Field(ge=-100, le=100)
    per: int | float | None = Field(default=None, gt=0)
    cap: int | None = Field(default=None, ge=0)

    @model_serializer(mode="wrap")
    def _name_first(self, handler):
        # The fields of Condition come first in pydantic's order; a rule reads best with its name on top.
        data = handler(self)
        return {"name": data.pop("name"), **data} if isinstance(data, dict) and "name" in data else data

    @model_validator(mode="after")
    def _one_matcher(self):
        self.check_condition(optional=self.per is not None)
        if self.per is not None and self.field is None:
            raise ValueError("per needs a field that holds the number")
        if self.cap is not None and self.per is None:
            raise ValueError("cap goes with per (points in proportion to a number); a matched rule gives its points")
        return self

    def describe(self) -> str:
        condition = super().describe() if self.matcher is not None else ""
        if self.per is None:
            return condition
        text = f"{self.points:+d} per {number_text(self.per)} of {self.field}"
        if self.cap is not None:
            text += f", at most {self.cap}"
        return f"{text}, when {condition}" if condition else text


class BehaviouralRule(BaseModel):
    """Points per activity of a kind, up to `cap` points in all, counting only those `within` a window.

    In place of `kind`, a `field` read what an export holds: a count (`TotalVisits`: points per
    one, capped) or, with `within`, a date (`Last Activity`, written YYYY-MM-DD…: the points once
    when it lies within the window).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    kind: str | None = None
    field: str | None = None
    points: int = Field(ge=-100, le=100)
    cap: int | None = Field(default=None, ge=0)
    within: str | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = "_".join(value.strip().lower().replace("-", " ").split())
        if cleaned not in LOGGABLE + SYSTEM:
            raise ValueError(f"unknown activity kind {value!r}; use one of {', '.join(LOGGABLE + SYSTEM)}")
        return cleaned

    @field_validator("within")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from pipectl.dates import parse_duration

        try:
            span = parse_duration(value)
        except UsageError as error:
            raise ValueError(str(error).rstrip(".")) from None
        if span.count == 0:
            raise ValueError(
                f"within {value.strip()!r} is no time at all, so the rule would count nothing; "
                "give a window such as 30d, or leave within out to count every activity"
            )
        return value.strip()

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str | None) -> str | None:
        return None if value is None else known_field(value)

    @model_validator(mode="after")
    def _kind_or_field(self):
        if (self.kind is None) == (self.field is None):
            raise ValueError(
                "a behavioural rule counts activities of a kind, or reads a count or date held in a field: "
                "give exactly one of kind and field"
            )
        if self.field is not None and self.within is not None and self.cap is not None:
            raise ValueError("a date rule gives its points once; leave cap out")
        if self.field in NUMBER_FIELDS and self.within is not None:
            raise ValueError(f"{self.field!r} holds a number, not a date; leave within out to count it")
        return self

    @property
    def activity_kind(self) -> str:
        assert self.kind is not None, "an activity rule"
        return self.kind

    def since(self, now: datetime) -> datetime | None:
        """The oldest activity that still counts, or None when every one does."""
        if self.within is None:
            return None
        from pipectl.dates import parse_duration

        return parse_duration(self.within).before(now)

    def describe(self) -> str:
        if self.field is not None and self.within is not None:
            return f"{self.points:+d} when {self.field} is a date within {self.within}"
        counted = self.kind.replace("_", " ") if self.kind is not None else f"1 of {self.field}"
        text = f"{self.points:+d} per {counted}"
        if self.cap is not None:
            text += f", at most {self.cap}"
        if self.within:
            text += f", within {self.within}"
        return text


class ScoringRules(BaseModel):
    """The `[scoring]` table: demographic and behavioural rules, each named once."""

    model_config = ConfigDict(extra="forbid")

    demographic: list[DemographicRule] = Field(default_factory=list)
    behavioural: list[BehaviouralRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self):
        seen: set[str] = set()
        rules: list[DemographicRule | BehaviouralRule] = [*self.demographic, *self.behavioural]
        for rule in rules:
            if rule.name.lower() in seen:
                raise ValueError(f"two rules are named {rule.name!r}; a breakdown names each rule once")
            seen.add(rule.name.lower())
        return self

    @property
    def activity_rules(self) -> list[BehaviouralRule]:
        """The behavioural rules that count logged activities."""
        return [rule for rule in self.behavioural if rule.kind is not None]

    @property
    def field_rules(self) -> list[BehaviouralRule]:
        """The behavioural rules that read a count or a date held in a field."""
        return [rule for rule in self.behavioural if rule.field is not None]


class ScoreModel(BaseModel):
    """What scoring needs at run time: the thresholds and the rules."""

    thresholds: Thresholds = Field(default_factory=Thresholds)
    scoring: ScoringRules = Field(default_factory=ScoringRules)


# The defaults a database with no stored rules uses; examples/scoring.toml says the same, with comments
# (a test keeps them equal).
DEFAULT_SCORING = {
    "thresholds": {"nurture_below": 30, "mql": 50, "sql": 75},
    "scoring": {
        "demographic": [
            {
                "name": "Senior title",
                "field": "title",
                "glob": ["Head of*", "VP*", "Director*", "Chief*"],
                "points": 15,
            },
            {
                "name": "Founder or owner",
                "field": "title",
                "one_of": ["Founder", "Co-founder", "Owner", "CEO"],
                "points": 15,
            },
            {
                "name": "Target industry",
                "field": "industry",
                "one_of": ["Software", "SaaS", "Fintech", "E-commerce"],
                "points": 10,
            },
            {"name": "Mid-size company", "field": "company_size", "min": 50, "max": 500, "points": 15},
            {"name": "Enterprise", "field": "company_size", "min": 501, "points": 5},
            {
                "name": "Home market",
                "field": "location",
                "glob": ["*Germany*", "*Austria*", "*Switzerland*"],
                "points": 5,
            },
            {
                "name": "Buying department",
                "field": "field:department",
                "one_of": ["Sales", "Marketing", "Revenue"],
                "points": 10,
            },
            {
                "name": "Warm source",
                "field": "source",
                "contains": ["referral", "inbound", "website", "web form", "event", "partner"],
                "points": 10,
            },
            {"name": "Reachable by email", "field": "email", "present": True, "points": 5},
            {"name": "Competitor domain", "field": "email", "glob": ["*@competitor.example"], "points": -50},
        ],
        "behavioural": [
            {"name": "Email opens", "kind": "email_open", "points": 1, "cap": 5, "within": "30d"},
            {"name": "Web visits", "kind": "web_visit", "points": 2, "cap": 10, "within": "30d"},
            {"name": "Form submissions", "kind": "form_submission", "points": 10, "cap": 20, "within": "60d"},
            {"name": "Trial request", "kind": "trial_request", "points": 25, "cap": 25, "within": "90d"},
            {"name": "Content downloads", "kind": "content_download", "points": 5, "cap": 15, "within": "60d"},
            {"name": "Event registrations", "kind": "event_registration", "points": 8, "cap": 16, "within": "90d"},
            {"name": "Social engagement", "kind": "social_engagement", "points": 2, "cap": 6, "within": "30d"},
            {"name": "Replies", "kind": "reply", "points": 10, "cap": 20, "within": "60d"},
            {"name": "Meetings", "kind": "meeting", "points": 15, "cap": 30, "within": "90d"},
            {"name": "Unsubscribed", "kind": "unsubscribe", "points": -30, "cap": 30},
        ],
    },
}


def current_rules(session: Session) -> ScoreModel:
    """The stored scoring rules (or the defaults), read once per session and kept on it."""
    cached = session.info.get(CACHE_KEY)
    if cached is None:
        stored = get_setting(session, SETTING_KEY)
        cached = ScoreModel.model_validate(stored if stored is not None else DEFAULT_SCORING)
        session.info[CACHE_KEY] = cached
    return cached


def save_rules(session: Session, model: ScoreModel) -> None:
    put_setting(session, SETTING_KEY, model.model_dump(mode="json", exclude_none=True))
    session.info[CACHE_KEY] = model


def nurture_threshold(session: Session) -> int:
    """Scores under this mark a lead as nurture (too cold to work now); `board` and `list` read it."""
    return current_rules(session).thresholds.nurture_below


def band(score: int, thresholds: Thresholds) -> str:
    """`sql`, `mql`, `nurture`, or `""` for a lead in between."""
    if score >= thresholds.sql:
        return "sql"
    if score >= thresholds.mql:
        return "mql"
    if score < thresholds.nurture_below:
        return "nurture"
    return ""


def clamp(raw: int) -> int:
    return max(LOWEST, min(HIGHEST, raw))
