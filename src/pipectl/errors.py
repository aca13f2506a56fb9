"""The exceptions the core raises; the CLI turns each into `Error: …` and an exit code.

The core never imports typer: it says what went wrong in words a seller can act
on, and `exit_code` tells the CLI whether the action was refused (1) or the
command was used wrongly (2).
"""


class PipectlError(Exception):
    """Base class: an action pipectl refused, with a message a person can act on."""

    exit_code = 1


class UsageError(PipectlError):
    """The command was used wrongly: a bad option value, an unparseable date or amount."""

    exit_code = 2


class NotFound(PipectlError):
    """A lead, stage or activity that does not exist."""


class RuleViolation(PipectlError):
    """A pipeline rule refused the action (stage count, entry rules, outcomes)."""


class DuplicateLead(PipectlError):
    """The lead looks like one already in the pipeline."""


class DatabaseError(PipectlError):
    """The database cannot be opened or used as it is."""
