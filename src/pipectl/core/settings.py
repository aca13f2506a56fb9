"""Named settings kept in the database (rules, thresholds, quota), so a shared pipeline shares them."""

from typing import Any

from sqlmodel import Session

from pipectl.storage.models import Setting


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Setting, key)
    return default if row is None or row.value is None else row.value


def put_setting(session: Session, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
        session.add(row)
