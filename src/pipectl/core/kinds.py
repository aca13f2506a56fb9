"""The kinds of activity: what a seller does, what a lead does back, and what pipectl writes itself.

A vocabulary that the history, scoring rules, hygiene and import all read; it
imports nothing from the core, so any of them can use it without a circle.
"""

from pipectl.errors import UsageError

# What a seller does and sends.
OUTREACH = ("call", "email", "message")
# What the lead does back: a reply or a conversation.
RESPONSES = ("reply", "meeting", "demo")
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
SYSTEM = ("created", "edited", "stage_change", "won", "lost", "reopened", "archived", "restored", "bant", "task")

# Changes that are bookkeeping, not contact with the lead: they do not reset idle time.
QUIET = ("edited",)


def normalise_kind(kind: str) -> str:
    """`Email open`, `email-open` and `email_open` are one kind; unknown kinds are refused."""
    cleaned = "_".join(kind.strip().lower().replace("-", " ").split())
    if cleaned not in LOGGABLE:
        raise UsageError(f"Unknown activity kind {kind!r}; use one of: {', '.join(LOGGABLE)}.")
    return cleaned
