"""Stage templates a new pipeline starts from (`pipectl init --template NAME`).

They live with storage because creating a database seeds its stages from one
(`schema.open_database`), and storage imports nothing from the core.
"""

from pydantic import BaseModel
from sqlmodel import Session, select

from pipectl.errors import UsageError
from pipectl.storage.models import Stage


class StageSpec(BaseModel):
    name: str
    probability: int
    idle_days: int
    actions: list[str]
    requires_bant: bool = False


TEMPLATES: dict[str, list[StageSpec]] = {
    "default": [
        StageSpec(name="Discovery", probability=10, idle_days=14, actions=["Research the company", "First outreach"]),
        StageSpec(
            name="Qualification", probability=25, idle_days=14, actions=["Discovery call", "Ask the BANT questions"]
        ),
        StageSpec(name="Contact", probability=50, idle_days=21, actions=["Demo", "Meet the decision maker"]),
        StageSpec(
            name="Proposal",
            probability=75,
            idle_days=30,
            actions=["Send the proposal", "Negotiate terms"],
            requires_bant=True,
        ),
    ],
    "saas": [
        StageSpec(name="Lead", probability=5, idle_days=14, actions=["First outreach"]),
        StageSpec(name="Demo", probability=20, idle_days=14, actions=["Book and run the demo"]),
        StageSpec(name="Trial", probability=40, idle_days=21, actions=["Onboard the trial", "Check usage"]),
        StageSpec(name="Proposal", probability=60, idle_days=21, actions=["Send pricing"], requires_bant=True),
        StageSpec(
            name="Negotiation",
            probability=80,
            idle_days=30,
            actions=["Agree terms", "Send the contract"],
            requires_bant=True,
        ),
    ],
    "agency": [
        StageSpec(name="Inquiry", probability=10, idle_days=7, actions=["Reply within a day"]),
        StageSpec(name="Briefing", probability=30, idle_days=14, actions=["Briefing call", "Collect the brief"]),
        StageSpec(
            name="Proposal",
            probability=60,
            idle_days=21,
            actions=["Send the proposal and estimate"],
            requires_bant=True,
        ),
        StageSpec(
            name="Negotiation", probability=80, idle_days=21, actions=["Agree scope and price"], requires_bant=True
        ),
    ],
}


def check_template(name: str) -> list[StageSpec]:
    """The stages of a template, or a usage error naming the ones that exist."""
    try:
        return TEMPLATES[name.lower()]
    except KeyError:
        raise UsageError(f"There is no stage template {name!r}; choose one of: {', '.join(TEMPLATES)}.") from None


def create_stages_from_template(session: Session, name: str) -> None:
    """Create the template's stages in a new pipeline; a pipeline that has stages is left alone."""
    specs = check_template(name)
    if session.exec(select(Stage.id).limit(1)).first() is not None:
        return
    for position, spec in enumerate(specs, start=1):
        session.add(Stage(position=position, **spec.model_dump()))
