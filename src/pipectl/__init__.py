"""pipectl: a sales-pipeline manager for people who live in a terminal."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pipectl")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
