"""What a row's status and stage cells say about its outcome: won, lost, open, and which stage.

Other CRMs write outcomes as statuses ("Won", "Junk Lead") or as stages
("Closed Won"). The lost reason never comes from these words: "Lost" says
that a lead was lost, not why. A word that says more than the outcome
("Junk Lead") is kept as a custom field instead.
"""

from pipectl.contract import STATUSES
from pipectl.core.import_mapping import custom_key, outcome_of, plain_outcome


def stage_of(value, stage_map: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """A stage cell as (stage name, outcome it says, the word when it says more than the outcome).

    `--stage-map` applies first; `Closed Won` is won with no stage, `Junk Lead` is lost with no stage
    and the word kept (as a custom field), `Proposal` is a stage."""
    if value is None:
        return None, None, None
    stage = str(value).strip()
    mapped = stage_map.get(stage.lower(), stage)
    outcome = outcome_of(mapped)
    if outcome is None:
        return mapped, None, None
    return None, outcome, None if plain_outcome(mapped) else stage


def status_of(value, column: str | None, reason: str | None) -> tuple[str, str | None, dict]:
    """The lead's status; a CRM's own status word that says more than the status stays as a custom field.

    The lost reason comes only from a reason column: "Lost" or "Junk Lead" says that the lead was
    lost, not why (a lost lead without a reason has none: "not given")."""
    if value is None:
        return "open", reason, {}
    word = str(value).strip()
    if word.lower() in STATUSES:
        return word.lower(), reason, {}
    outcome = outcome_of(word)
    kept = {custom_key(column or "status"): word}
    if outcome:
        return outcome, reason, {} if plain_outcome(word) else kept
    return "open", reason, kept
