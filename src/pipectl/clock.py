"""The one "now" of the program.

Every command asks `now()` instead of the system clock, so `PIPECTL_NOW`
(an ISO date-time) makes tests and reports reproducible.
"""

import os
from datetime import datetime

from pipectl.errors import UsageError

NOW_ENV = "PIPECTL_NOW"


def now() -> datetime:
    """The current local time as a naive datetime, or the one `PIPECTL_NOW` fixes."""
    fixed = os.environ.get(NOW_ENV)
    if not fixed:
        return datetime.now().replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(fixed.strip())
    except ValueError:
        raise UsageError(f"{NOW_ENV}={fixed!r} is not an ISO date-time; use e.g. 2026-11-23T09:00.") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment
