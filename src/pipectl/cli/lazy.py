"""Commands loaded on demand: a run imports and builds only the command it runs.

Building every command's options for each run (Typer inspects each
function's signature) and importing every command module cost more than
importing Typer itself. `COMMANDS` names each top-level command, in help
order, with the module that defines it and its one-line summary, so
`pipectl --help` is written without importing any command module;
tests/test_cli_surface.py checks each summary is the first paragraph of the
command's own help, so the two cannot drift.

Adding a command: register it in its module as before, and add a line here.
"""

from collections.abc import Iterator, Mapping, MutableMapping

# name: (module in pipectl.cli, the first paragraph of its help). A module without a `register`
# function is a command group whose Typer app is mounted under the command's name.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("leads", "Create the pipeline database with a stage template."),
    "add": ("leads", "Add a lead and print its id."),
    "list": ("leads", "List leads, filtered and sorted."),
    "show": ("leads", "Show one lead: its fields, stage, BANT, next action and activity timeline."),
    "edit": ("leads", "Change a lead's fields, tags or custom data points."),
    "move": ("outcomes", "Move a lead to another stage; the stage's entry rules may refuse it unless --force."),
    "won": ("outcomes", "Mark a lead as won, optionally at its final value."),
    "lost": ("outcomes", "Mark a lead as lost, with the reason."),
    "reopen": ("outcomes", "Reopen a won or lost lead in the stage it was closed from."),
    "log": ("outcomes", "Record an activity that happened."),
    "qualify": (
        "qualify",
        "Record BANT answers (budget, authority, need, timeline); without flags, ask them one by one.",
    ),
    "plan": ("qualify", "Set a lead's next action and when it is due; planning again replaces it."),
    "done": ("qualify", "Complete a lead's next action (it counts as activity); --next plans the following one."),
    "next": (
        "qualify",
        "The agenda: overdue, today's and upcoming actions, stalled leads, then leads with no next action.",
    ),
    "status": (
        "briefing",
        "One screen for the morning: due actions, stalled leads, pipeline, quota, the week, score crossings.",
    ),
    "brief": (
        "briefing",
        "Everything worth knowing before a call: who, stage, BANT, score and why, latest activities, similar wins.",
    ),
    "score": ("scoring", "Compute lead scores: one lead, or every open lead with the ranking."),
    "predict": (
        "predict",
        "Predict the chance that open leads are won, learned from the closed ones and explained factor by factor.",
    ),
    "clean": ("cleanup", "Archive dead leads with their reasons; --dry-run only lists them."),
    "restore": ("cleanup", "Bring an archived lead back, open, in the stage it was archived from."),
    "search": (
        "search",
        "Find leads by any word of their name, company, email, phone, title, tags, fields or activity notes.",
    ),
    "duplicates": (
        "merging",
        "List likely duplicate leads: the same email, phone, or name at the same company (case and accents aside).",
    ),
    "merge": (
        "merging",
        "Merge two leads into one: OTHER's activities, tags, fields, BANT and next action move to KEEP.",
    ),
    "board": ("insight", "Show the pipeline as a board: one column per stage with counts, values and lead cards."),
    "metrics": (
        "insight",
        "Show the pipeline's numbers: value per stage, win rate, cycle, velocity, conversion, bottleneck.",
    ),
    "forecast": ("insight", "Show the weighted forecast by expected close month, and the gap to a quota."),
    "review": ("insight", "Show the weekly pipeline review: wins, pipeline changes, roadblocks, competition notes."),
    "import": (
        "transfer",
        "Import leads and activities from CSV, JSON or JSON Lines, all or nothing, in one transaction.",
    ),
    "export": ("transfer", "Export leads and/or activities as CSV, JSON or JSON Lines, streamed to stdout or a file."),
    "rules": ("scoring", "The scoring, stage and cleanup rules, kept in the database, written as TOML."),
    "stages": ("stages", "Manage the pipeline's stages (2 to 6, in order)."),
    "mcp": (
        "mcp_server",
        "Serve the pipeline to AI assistants over stdio (Model Context Protocol); needs pipectl[mcp].",
    ),
    "owners": ("owners", "The team's owners: who leads are handed to, with an optional capacity."),
    "assign": ("assign", "Hand a lead to an owner (--to NAME), or unowned open leads out in turn (--round-robin)."),
    "claim": (
        "assign",
        "Take an unowned lead as yours (--as NAME, PIPECTL_USER or the login name); fails if someone has it.",
    ),
    "release": ("assign", "Give a lead back: it has no owner again, for round-robin or a claim."),
    "undo": (
        "undo",
        "Reverse your latest command that has not been undone, in one transaction, and say what it reversed.",
    ),
    "history": (
        "undo",
        "List recent commands `pipectl undo` can reverse: who ran them, when, and how many leads they changed.",
    ),
    "demo": ("demo", "Build the demo pipeline (40 sample leads) in its own database and say how to open it."),
    "db": ("db", "The database itself: path, upgrade, check, reindex, backup."),
}


class LazyCommands(MutableMapping):
    """The root group's commands: every name is known at once, a command is built when first looked up."""

    def __init__(self, eager: Mapping | None = None):
        self._built: dict = dict(eager or {})
        self._extra = [name for name in self._built if name not in COMMANDS]

    def __getitem__(self, name: str):
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            # One import builds all the module's commands: a later lookup of a sibling is free.
            for built, command in build(COMMANDS[name][0], name).items():
                self._built.setdefault(built, command)
        return self._built[name]

    def __setitem__(self, name: str, command) -> None:
        if name not in COMMANDS and name not in self._extra:
            self._extra.append(name)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("pipectl's commands cannot be removed")

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from self._extra

    def __len__(self) -> int:
        return len(COMMANDS) + len(self._extra)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._extra


def build(module_name: str, name: str) -> dict:
    """Import `pipectl.cli.MODULE` and turn its commands into Click commands, as the root app would."""
    import importlib

    import typer
    from typer.main import get_group

    module = importlib.import_module(f"pipectl.cli.{module_name}")
    # The root's settings: plain help (no Rich), no pretty tracebacks.
    holder = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False)
    register = getattr(module, "register", None)
    if register is not None:
        register(holder)
    else:
        holder.add_typer(module.app, name=name)
    return dict(get_group(holder).commands)


def short_help(name: str, limit: int) -> str:
    """The summary `pipectl --help` lists for a command, cut to `limit` exactly as Typer cuts a command's."""
    from typer.core import TyperCommand

    return TyperCommand(name, help=COMMANDS[name][1], rich_markup_mode=None).get_short_help_str(limit)
