"""pipectl: a sales-pipeline manager for people who live in a terminal."""


def __getattr__(name: str):
    # `__version__` is read from the package metadata only when asked for (`--version`):
    # importlib.metadata costs about a third of `pipectl --help`'s start-up.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("pipectl")
        except PackageNotFoundError:  # running from a source tree that was never installed
            return "0.0.0+unknown"
    raise AttributeError(f"module 'pipectl' has no attribute {name!r}")
