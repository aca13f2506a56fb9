"""The limits that decide when a lead is stalled or dead, with their defaults.

They live in the database under the `cleanup` setting and in the `[cleanup]`
table of the rules file (`pipectl rules load / export`).
"""

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from pipectl.core.settings import get_setting, put_setting

SETTING_KEY = "cleanup"


class CleanupRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Too long in stage: more than this factor of the average days won leads spent there.
    stage_factor: float = Field(default=2.0, gt=1.0, le=20.0)
    # Fewer won leads than this through a stage: too thin to average; the idle rule decides.
    min_won_history: int = Field(default=5, ge=1, le=10_000)
    # Too old: open longer than this many days.
    max_age_days: int = Field(default=180, ge=1, le=3650)
    # Negotiating (in the last stage) longer than this many days.
    negotiation_max_days: int = Field(default=60, ge=1, le=3650)
    # No response: this many outreach attempts in a row with nothing back.
    no_response_attempts: int = Field(default=3, ge=1, le=100)
    # Not the audience: under the nurture threshold for longer than this many days.
    nurture_max_days: int = Field(default=60, ge=1, le=3650)


def load_cleanup_rules(session: Session) -> CleanupRules:
    return CleanupRules(**get_setting(session, SETTING_KEY, {}))


def save_cleanup_rules(session: Session, rules: CleanupRules) -> None:
    put_setting(session, SETTING_KEY, rules.model_dump())
