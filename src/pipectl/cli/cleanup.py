"""Commands of this group are being written; `register` adds them to the root app."""

import typer


def register(app: typer.Typer) -> None:
    pass
