"""Opening a database: create it, upgrade it, or refuse it, before any command touches it.

The schema only changes through the Alembic migrations shipped in
`storage/migrations/versions/`; a new database is built by running them all,
so a new database and an upgraded one cannot differ.
"""

from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.exc import OperationalError

from pipectl.errors import DatabaseError
from pipectl.storage import location as locations
from pipectl.storage.engine import Database, make_engine, use_wal

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration this pipectl ships; tests check it is Alembic's head.
SCHEMA_REVISION = "0002"


def open_database(location: str | None = None, *, template: str = "default") -> Database:
    """Open the pipeline, creating it with `template`'s stages or upgrading it as needed."""
    resolved = locations.resolve(location)
    database = Database(resolved, make_engine(resolved))
    try:
        revision = current_revision(database)
        if revision == SCHEMA_REVISION:
            use_wal(database.engine)
            return database
        if revision is None:
            _refuse_foreign(database)
            use_wal(database.engine)
            upgrade(database)
            _seed(database, template)
            database.created = True
        elif revision in known_revisions():
            use_wal(database.engine)
            upgrade(database)
        else:
            raise DatabaseError(
                f"{locations.display(resolved)} was made by a newer pipectl (schema {revision}); "
                "upgrade pipectl to use it. It was left untouched."
            )
    except (OperationalError, SQLAlchemyDatabaseError) as error:
        database.close()
        raise DatabaseError(f"Cannot open {locations.display(resolved)} as a pipectl database: {error.orig}.") from None
    except BaseException:
        database.close()
        raise
    return database


def current_revision(database: Database) -> str | None:
    """The schema revision recorded in the database, or None for a database with no schema."""
    with database.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def known_revisions() -> set[str]:
    """Every revision this pipectl knows, from oldest to newest."""
    return {script.revision for script in _script_directory().walk_revisions()}


def head_revision() -> str:
    return _script_directory().get_current_head()


def upgrade(database: Database, revision: str = "head") -> None:
    """Apply the migrations the database lacks, in one transaction."""
    from alembic import command

    with database.engine.begin() as connection:
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _script_directory():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def _refuse_foreign(database: Database) -> None:
    # Some other program's SQLite file: never build pipectl's tables beside its data.
    with database.engine.connect() as connection:
        tables = inspect(connection).get_table_names()
    if tables:
        raise DatabaseError(
            f"{locations.display(database.location)} holds other tables ({', '.join(sorted(tables)[:5])}) "
            "and is not a pipectl database; choose another file with --db."
        )


def _seed(database: Database, template: str) -> None:
    from pipectl.storage.templates import create_stages_from_template

    with database.session() as session:
        create_stages_from_template(session, template)
