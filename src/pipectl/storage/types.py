"""Column types that keep the same SQL working on SQLite and PostgreSQL."""

from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator


class Timestamp(TypeDecorator):
    """An instant stored as whole seconds since the epoch.

    Integers make date arithmetic plain SQL on every backend: days in stage is
    `(now - stage_entered_at) / 86400` on SQLite and PostgreSQL alike, where
    date functions differ between the two. Python sees naive local datetimes.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or isinstance(value, int):
            return value
        return int(value.timestamp())

    def process_result_value(self, value, dialect):
        return None if value is None else datetime.fromtimestamp(value)
