"""Loading many rows into empty tables: their secondary indexes are built once, at the end.

Keeping a dozen indexes in order row by row is most of the cost of inserting
into SQLite (each insert descends every index), while building an index over
rows already there is one sort. `defer_indexes` drops the indexes of the given
tables that the loader does not read through, and hands back what rebuilds
them from their own stored SQL, so that whatever the migrations created comes
back exactly. Both happen inside the caller's transaction: SQLite's DDL is
transactional, so a load that fails and rolls back leaves the indexes as they
were. Only for SQLite; other databases keep their indexes (a no-op).
"""

from collections.abc import Callable, Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection


def defer_indexes(
    connection: Connection, tables: Iterable[str], *, keep: Callable[[str, list[str]], bool]
) -> Callable[[], None]:
    """Drop the secondary indexes of `tables` except those `keep(table, columns)` wants; returns the
    function that creates them again (call it before anything reads through them)."""
    if connection.dialect.name != "sqlite":
        return lambda: None
    wanted = list(tables)
    marks = ", ".join(f":t{index}" for index in range(len(wanted)))
    # `sql` is NULL for the indexes SQLite makes itself (primary keys, UNIQUE): those stay.
    found = connection.execute(
        text(
            f"SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY name"
        ),
        {f"t{index}": table for index, table in enumerate(wanted)},
    ).all()
    deferred = []
    for name, table, sql in found:
        columns = [row[2] for row in connection.exec_driver_sql(f'PRAGMA index_info("{name}")')]
        if keep(table, columns):
            continue
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
        deferred.append(sql)

    def rebuild() -> None:
        for sql in deferred:
            connection.exec_driver_sql(sql)
        deferred.clear()

    return rebuild
