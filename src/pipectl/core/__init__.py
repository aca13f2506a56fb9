"""The core: plain functions over a session. Never imports typer or rich."""
