"""Who is acting: `--as NAME`, else PIPECTL_USER, else the login name.

Every activity records it (`activities.actor`), so `show` says who did what on a shared pipeline;
`claim`, `--mine` and the customer check ask it too. It is worked out at call time, like the clock,
and kept per context (a thread running the CLI in a test sees its own `--as`).
"""

import os
from contextvars import ContextVar

from pipectl.errors import UsageError

USER_ENV = "PIPECTL_USER"
MAX_LENGTH = 80
_chosen: ContextVar[str | None] = ContextVar("pipectl_actor", default=None)


def check_name(text: str, what: str = "--as") -> str:
    """A person's name as typed: trimmed, not empty, one line, at most 80 characters."""
    name = " ".join(text.split())
    if not name:
        # An option reads as its own example (`--as sam`); "An owner" would not.
        example = f"{what} sam" if what.startswith("-") else "sam"
        raise UsageError(f"{what} needs a name, e.g. {example}.")
    if len(name) > MAX_LENGTH:
        raise UsageError(f"{what} takes a name of at most {MAX_LENGTH} characters, not {len(name)}.")
    if any(not char.isprintable() for char in name):
        raise UsageError(f"{what} takes a name without control characters.")
    return name


def choose(name: str | None) -> None:
    """Set (or with None, forget) the `--as` of this run; PIPECTL_USER and the login name come after it."""
    _chosen.set(None if name is None else check_name(name))


def current_actor() -> str:
    """The person acting now: `--as`, else PIPECTL_USER, else the login name."""
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    typed = os.environ.get(USER_ENV)
    if typed is not None and typed.strip():
        return check_name(typed, USER_ENV)
    return _login_name()


def _login_name() -> str:
    import getpass

    try:
        return check_name(getpass.getuser(), "the login name")
    except (KeyError, OSError, UsageError):
        # No user name in the environment or the password database (a bare container).
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
