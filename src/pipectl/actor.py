"""Who is acting: PIPECTL_USER, else the login name.

Worked out at call time, like the clock: the journal records it with every write command, so
`pipectl history` says who did what on a shared pipeline.
"""

import os

USER_ENV = "PIPECTL_USER"


def current_actor() -> str:
    """PIPECTL_USER (trimmed), else the login name, else "unknown" (a container with no user entry)."""
    chosen = " ".join(os.environ.get(USER_ENV, "").split())
    if chosen:
        return chosen
    try:
        import getpass

        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "unknown"
