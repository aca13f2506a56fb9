"""The `pipectl` command: the root, its error handler, and the command groups.

Command modules import the core inside their functions, so `pipectl --help`,
`--version` and shell completion never load SQLAlchemy.
"""

import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from pipectl.errors import PipectlError


class PipectlGroup(TyperGroup):
    """The one place that turns the core's errors into `Error: …` on stderr and an exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PipectlError as error:
            print(f"Error: {error}", file=sys.stderr)
            raise typer.Exit(error.exit_code) from None
        except BrokenPipeError:
            # `pipectl export | head`: the reader left; that is not an error.
            _silence_stdout()
            raise typer.Exit(0) from None


app = typer.Typer(
    cls=PipectlGroup,
    name="pipectl",
    help="A sales pipeline in your terminal: leads, stages, activities, scores and forecasts.",
    no_args_is_help=True,
    # Plain help and plain `Error: …` lines: fast to print, and the same in a pipe as on a terminal.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from pipectl import __version__

        print(f"pipectl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH_OR_URL",
            envvar="PIPECTL_DB",
            show_envvar=True,
            show_default=False,
            help="Database file or SQLAlchemy URL (default: pipeline.db in the user data folder).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """A sales pipeline in your terminal: leads, stages, activities, scores and forecasts."""
    from pipectl.cli.runtime import root_db

    root_db["location"] = db


def _register() -> None:
    from pipectl.cli import cleanup, db, insight, leads, outcomes, qualify, scoring, stages, transfer

    for module in (leads, outcomes, qualify, scoring, cleanup, insight, transfer):
        module.register(app)
    app.add_typer(stages.app, name="stages")
    app.add_typer(db.app, name="db")


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


_register()


def main() -> None:
    """Entry point of the `pipectl` script and `python -m pipectl`."""
    app()
