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

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection


def defer_indexes(
    connection: Connection, tables: Iterable[str], *, keep: Callable[[str, list[str]], bool]
) -> Callable[[], None]:
    """Drop the secondary indexes of `tables` except those `keep(table, columns)` wants; returns the
    function that creates them again (call it before anything reads through them)."""
    if connection.dialect.name != "sqlite":
        return lambda: None
    # `sql` is NULL for the indexes SQLite makes itself (primary keys, UNIQUE): those stay.
    found = connection.execute(
        text(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN :tables ORDER BY name"
        ).bindparams(bindparam("tables", expanding=True)),
        {"tables": list(tables)},
    ).all()
    deferred = []
    for name, table, sql in found:
        columns = list(
            connection.execute(text("SELECT name FROM pragma_index_info(:index) ORDER BY seqno"), {"index": name})
            .scalars()
            .all()
        )
        if keep(table, columns):
            continue
        # An identifier cannot be a bound parameter; the name is one sqlite_master gave (the migrations').
        connection.exec_driver_sql('DROP INDEX "' + name.replace('"', '""') + '"')
        deferred.append(sql)

    def rebuild() -> None:
        for sql in deferred:
            connection.exec_driver_sql(sql)
        deferred.clear()

    return rebuild
