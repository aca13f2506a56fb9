"""The pipeline's settings as one record of a full export: stages, rules and quota, and their restore.

`export --what all` writes them first (a `settings` record in JSON Lines, a
`settings` key in JSON), so that importing the file into an empty pipeline
gives back the same stages (names, order, probabilities, idle days, actions,
entry rules), scoring and cleanup rules and quota, and so the same scores and
forecasts. Into a pipeline that already has leads the settings are left out
with a word: they would silently rewrite what its leads are scored by.
"""

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete, func, select
from sqlmodel import Session

from pipectl.core.cleanup_rules import (
    CleanupRules,
    load_cleanup_rules,
    save_cleanup_rules,
)
from pipectl.core.forecast import save_quota, saved_quota
from pipectl.core.scoring import ScoreModel, current_rules, save_rules
from pipectl.core.stages import MAX_STAGES, MIN_STAGES, open_stages
from pipectl.errors import RuleViolation
from pipectl.folding import fold
from pipectl.money import format_money
from pipectl.storage.models import Lead, Stage


class StageSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=80)
    probability: int = Field(ge=0, le=100)
    idle_days: int = Field(ge=1, le=3650)
    actions: list[str] = Field(default_factory=list)
    requires_bant: bool = False
    min_score: int | None = Field(default=None, ge=0, le=100)

    @field_validator("name")
    @classmethod
    def _not_a_status(cls, name: str) -> str:
        # The rule `stages add` keeps: won, lost, open and archived are statuses, not stages.
        if fold(" ".join(name.split())) in {"open", "won", "lost", "archived", ""}:
            raise ValueError(f"{name!r} is a lead status, not a stage")
        return name


class QuotaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_cents: int = Field(gt=0)
    period: str = Field(pattern="^(month|quarter)$")


class PipelineSettings(BaseModel):
    """The `settings` record: what a restore needs besides leads and activities."""

    model_config = ConfigDict(extra="ignore")  # keys a newer pipectl adds are left alone

    stages: list[StageSettings] = Field(min_length=MIN_STAGES, max_length=MAX_STAGES)
    scoring: ScoreModel
    cleanup: CleanupRules
    quota: QuotaSettings | None = None


def settings_record(session: Session) -> dict:
    """The settings in force, as the export writes them."""
    stages = [
        {
            "name": stage.name,
            "position": stage.position,
            "probability": stage.probability,
            "idle_days": stage.idle_days,
            "actions": list(stage.actions or []),
            "requires_bant": stage.requires_bant,
            "min_score": stage.min_score,
        }
        for stage in open_stages(session)
    ]
    quota = saved_quota(session)
    return {
        "stages": stages,
        "scoring": current_rules(session).model_dump(mode="json", exclude_none=True),
        "cleanup": load_cleanup_rules(session).model_dump(),
        "quota": quota,
    }


def restore_settings(session: Session, data: dict, where: str) -> str:
    """Apply a `settings` record to an empty pipeline; returns what was done, for the user."""
    try:
        settings = PipelineSettings.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        raise RuleViolation(
            f"{where}: the settings record is not valid ({place}: {first['msg']}); nothing was imported."
        ) from None
    names = [fold(" ".join(stage.name.split())) for stage in settings.stages]
    if len(set(names)) != len(names):
        raise RuleViolation(f"{where}: the settings record names a stage twice; nothing was imported.")
    if session.execute(select(func.count()).select_from(Lead)).scalar_one():
        return (
            "The file's settings (stages, rules, quota) were left out: this pipeline already has leads. "
            "Load rules with `pipectl rules load`, stages with `pipectl stages`."
        )
    # No leads means no activities either: nothing refers to the stages, so they can be replaced whole.
    session.execute(delete(Stage))
    for position, stage in enumerate(settings.stages, start=1):
        session.add(
            Stage(
                name=" ".join(stage.name.split()),
                position=position,
                probability=stage.probability,
                idle_days=stage.idle_days,
                actions=list(stage.actions),
                requires_bant=stage.requires_bant,
                min_score=stage.min_score,
            )
        )
    session.flush()
    save_rules(session, settings.scoring)
    save_cleanup_rules(session, settings.cleanup)
    quota_text = "no quota"
    if settings.quota is not None:
        save_quota(session, settings.quota.amount_cents, settings.quota.period)
        quota_text = f"the quota ({format_money(settings.quota.amount_cents)} per {settings.quota.period})"
    rules = settings.scoring.scoring
    return (
        f"Restored the pipeline's settings from {where}: the stages "
        f"{' → '.join(stage.name for stage in settings.stages)}, {len(rules.demographic)} demographic and "
        f"{len(rules.behavioural)} behavioural scoring rule(s), the thresholds, the cleanup limits and "
        f"{quota_text}."
    )
