"""The demo pipeline: forty sample leads shipped with pipectl, loaded into a database of their own.

The sample leads never go into someone's real pipeline: `pipectl demo` builds its own file
(cli/demo.py), and a database holding the demo says so in its settings (DEMO_SETTING), so that
rebuilding it may replace that file and never another one.
"""

from importlib import resources

from sqlmodel import Session

from pipectl.core.import_sources import open_source
from pipectl.core.importing import ImportOptions, ImportResult, import_file
from pipectl.core.settings import get_setting, put_setting

DEMO_SETTING = "demo"
DEMO_FILE = "demo.jsonl"  # in the package's data folder, built by examples/make_demo.py


def load_demo(session: Session) -> ImportResult:
    """Import the shipped demo pipeline into an empty pipeline and mark the database as the demo."""
    with resources.as_file(resources.files("pipectl") / "data" / DEMO_FILE) as path:
        result = import_file(session, open_source(str(path), "jsonl"), ImportOptions(what="all"))
    put_setting(session, DEMO_SETTING, True)
    return result


def is_demo(session: Session) -> bool:
    return bool(get_setting(session, DEMO_SETTING, False))
