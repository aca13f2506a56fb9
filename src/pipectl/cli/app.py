"""The `pipectl` command: the root, its error handler, and the command groups.

Command modules import the core inside their functions, and are themselves
imported only when their command runs (cli/lazy.py), so `pipectl --help`,
`--version` and shell completion never load SQLAlchemy.
"""

import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from pipectl.errors import PipectlError


class PipectlGroup(TyperGroup):
    """The one place that turns the core's errors into `Error: …` on stderr and an exit code.

    Its commands are built on first use (cli/lazy.py): a run imports only the command it runs.
    """

    def __init__(self, **attrs):
        super().__init__(**attrs)
        from pipectl.cli.lazy import LazyCommands

        self.commands = LazyCommands(self.commands)

    def list_commands(self, ctx):
        # The names alone: Typer's own version walks .items(), which would build every command.
        return list(self.commands)

    def format_commands(self, ctx, formatter):
        # The list comes from the summaries in cli/lazy.py: help imports no command module.
        from pipectl.cli.lazy import COMMANDS, short_help

        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            rows = []
            for name in names:
                if name in COMMANDS:
                    rows.append((name, short_help(name, limit)))
                else:
                    command = self.get_command(ctx, name)
                    assert command is not None  # listed, so known
                    rows.append((name, command.get_short_help_str(limit)))
            formatter.write_dl(rows)

    def make_context(self, info_name, args, parent=None, **extra):
        if parent is None:
            from pipectl.cli.runtime import note_args

            note_args(list(args))
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except Exception as error:
            _usage_error(error)
            raise

    def invoke(self, ctx):
        try:
            return self._invoke_explained(ctx)
        except PipectlError as error:
            from pipectl.terminal import visible

            # The message may quote a name or a file's content: its escape sequences are shown, not run.
            print(f"Error: {visible(error)}", file=sys.stderr)
            raise typer.Exit(error.exit_code) from None
        except BrokenPipeError:
            # `pipectl export | head`: the reader left; that is not an error.
            _silence_stdout()
            raise typer.Exit(0) from None
        except Exception as error:
            _usage_error(error)
            raise

    def _invoke_explained(self, ctx):
        """Run the command; a failure the user caused that is not a PipectlError becomes one."""
        from pipectl.cli.runtime import start_command

        start_command(self._command_name(ctx))
        try:
            return super().invoke(ctx)
        except (PipectlError, BrokenPipeError):
            raise
        except Exception as error:
            from pipectl.cli.failures import explain

            failure = explain(error)
            if failure is None:
                raise
            raise failure from None

    def _command_name(self, ctx) -> str | None:
        """`import`, `stages remove`: what the note of a command holding the write lock names."""
        words = [*getattr(ctx, "_protected_args", []), *ctx.args][:2]
        group = self.commands.get(words[0]) if words else None
        if group is None:
            return None
        sub = getattr(group, "commands", {})
        return " ".join(words[:2]) if len(words) > 1 and words[1] in sub else words[0]


def _usage_error(error: Exception) -> None:
    """A usage error from Typer becomes one `Error: …` line naming the option, exit 2; others pass."""
    from pipectl.cli.usage import is_usage_error, usage_message

    if is_usage_error(error):
        print(f"Error: {usage_message(error)}", file=sys.stderr)
        raise typer.Exit(2) from None


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
    acting_as: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="NAME",
            show_default=False,
            help="Who is acting, recorded on every activity (default: PIPECTL_USER, else the login name).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """A sales pipeline in your terminal: leads, stages, activities, scores and forecasts."""
    from pipectl.actor import choose
    from pipectl.cli.runtime import root_db

    root_db["location"] = db
    choose(acting_as)  # every run sets it, so one run's --as never carries over to the next in a process


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main() -> None:
    """Entry point of the `pipectl` script and `python -m pipectl`."""
    app()
