"""The kinds of activity: what a seller does, what a lead does back, and what pipectl writes itself.

A vocabulary that the history, scoring rules, hygiene and import all read; it
imports nothing from the core, so any of them can use it without a circle.
"""

from pipectl.errors import UsageError

# What a seller does and sends.
OUTREACH = ("call", "email", "message")
# What the lead does back: a reply or a conversation.
RESPONSES = ("reply", "meeting", "demo")
# How a call went (`log LEAD call --outcome …`); a connected call is a conversation, so it counts as
# the lead answering. A meeting or demo is always two-way and takes no outcome.
CONNECTED = "connected"
CALL_OUTCOMES = (CONNECTED, "no-answer", "voicemail", "busy")
# Behavioural signals, usually from marketing tools.
SIGNALS = (
    "email_open",
    "web_visit",
    "form_submission",
    "trial_request",
    "content_download",
    "event_registration",
    "social_engagement",
    "unsubscribe",
)
NOTES = ("note", "competitor")
LOGGABLE = OUTREACH + RESPONSES + SIGNALS + NOTES

# Written by pipectl itself; `log` cannot fake them.
SYSTEM = (
    "created",
    "edited",
    "stage_change",
    "won",
    "lost",
    "reopened",
    "archived",
    "restored",
    "bant",
    "task",
    # A team (issue 17): a lead handed to an owner, given back, or brought in again by another seller.
    "assigned",
    "released",
    "joined",
    "merged",
)

# Changes that are bookkeeping, not contact with the lead: they do not reset idle time.
QUIET = ("edited", "assigned", "released", "joined", "merged")


def normalise_kind(kind: str) -> str:
    """`Email open`, `email-open` and `email_open` are one kind; unknown kinds are refused."""
    cleaned = "_".join(kind.strip().lower().replace("-", " ").split())
    if cleaned not in LOGGABLE:
        raise UsageError(f"Unknown activity kind {kind!r}; use one of: {', '.join(LOGGABLE)}.")
    return cleaned


def check_outcome(kind: str, outcome: str | None) -> str | None:
    """A call's outcome, normalised (`No answer`, `no_answer` are `no-answer`); only calls take one."""
    if outcome is None:
        return None
    if kind != "call":
        two_way = " (a meeting or demo is always two-way)" if kind in RESPONSES else ""
        raise UsageError(f"--outcome is for calls only{two_way}; drop it for a {kind.replace('_', ' ')}.")
    cleaned = "-".join(outcome.strip().lower().replace("_", " ").replace("-", " ").split())
    if cleaned not in CALL_OUTCOMES:
        raise UsageError(f"Unknown call outcome {outcome!r}; use one of: {', '.join(CALL_OUTCOMES)}.")
    return cleaned
