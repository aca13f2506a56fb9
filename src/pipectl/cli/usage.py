"""Usage errors in pipectl's own words: one `Error: …` line naming the option, exit 2.

Typer (through its vendored click) reports a bad option value, a missing
argument or an unknown option with a usage block and its own wording, and
Typer's type checks speak pydantic ("Input should be greater than or equal
to 0"). `usage_message` rewrites each of them from what the error knows (the
parameter, its choices and bounds, the value typed), so every usage error has
the shape of the core's: `Error: --format is one of table, json, jsonl or csv,
not 'yaml'.`
"""

from typing import Any


def is_usage_error(error: BaseException) -> bool:
    """A click usage error (bad value, missing or unknown parameter), but not "no arguments: show help"."""
    names = {cls.__name__ for cls in type(error).__mro__}
    return "UsageError" in names and "ClickException" in names and "NoArgsIsHelpError" not in names


def usage_message(error: Any) -> str:
    """The one line (without `Error: `) that says what was wrong and how to put it right."""
    kind = type(error).__name__
    param = getattr(error, "param", None)
    command = _command_path(error)
    if kind == "MissingParameter" and param is not None:
        what = "option" if _is_option(param) else "argument"
        return f"Missing {what} {label(param)}; see `{command} --help`."
    if kind == "NoSuchOption":
        close = getattr(error, "possibilities", None)
        guess = f" (did you mean {' or '.join(sorted(close))}?)" if close else ""
        return f"No such option {error.option_name}{guess}; see `{command} --help`."
    if kind == "BadOptionUsage" and "requires an argument" in error.message:
        return f"{error.option_name} needs a value."
    if param is not None:
        if _library_problem(error) is None and label(param) in error.message:
            return error.message  # pipectl's own message, which names the option already
        return f"{label(param)}{_bad_value(error, param)}"
    text = error.message.rstrip(".")
    if text.startswith("No such command"):
        # Typer may have added its own "Did you mean …?"; one suggestion, in one wording, is enough.
        text = text.split(". Did you mean")[0].rstrip(".")
        return f"{text}{_command_guess(error)}; see `{command} --help`."
    if text.startswith("Got unexpected extra argument"):
        extra = text.rsplit("(", 1)[-1].rstrip(")") if text.endswith(")") else ""
        return f"Unexpected extra argument {extra!r}; see `{command} --help` (quote a value with spaces)."
    return f"{text}; see `{command} --help`."


def label(param: Any) -> str:
    """`--format` for an option (its long name), `LEAD` for an argument."""
    if _is_option(param):
        long_names = [name for name in param.opts if name.startswith("--")]
        return (long_names or param.opts)[0]
    return param.metavar or param.name.upper()


def _is_option(param: Any) -> bool:
    return type(param).__name__.endswith("Option")


def _bad_value(error: Any, param: Any) -> str:
    """The rest of the line after the parameter's name, in pipectl's words."""
    problem = _library_problem(error)
    if problem is None:
        # pipectl's own parsers raise BadParameter with a message that already says it all.
        return ": " + error.message
    typed = problem.get("input")
    shown = f", not {typed!r}" if typed is not None else ""
    choices = _choices(param)
    if choices:
        return f" is one of {_either(choices)}{shown}."
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if problem["type"] in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        if low is not None and high is not None:
            return f" must be between {low:,} and {high:,}{shown}."
        return f" must be at least {low:,}{shown}." if low is not None else f" must be at most {high:,}{shown}."
    if problem["type"].startswith("int_"):
        return f" needs a whole number{shown}."
    if problem["type"].startswith(("float_", "decimal_")):
        return f" needs a number{shown}."
    return ": " + str(problem.get("msg", error.message)).removeprefix("Value error, ")


def _library_problem(error: Any) -> dict | None:
    """The first problem of the pydantic error Typer's type check raised, if that is what happened."""
    cause = error.__cause__
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return None
    try:
        found = errors()
    except Exception:  # not a pydantic ValidationError after all
        return None
    return found[0] if found else None


def _choices(param: Any) -> tuple[str, ...]:
    descriptor = getattr(param, "type_descriptor", None)
    choices = getattr(descriptor, "choices", None) or getattr(getattr(param, "type", None), "choices", None)
    return tuple(str(getattr(choice, "value", choice)) for choice in choices or ())


def _either(choices: tuple[str, ...]) -> str:
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"


def _command_path(error: Any) -> str:
    ctx = getattr(error, "ctx", None)
    return ctx.command_path if ctx is not None else "pipectl"


def _command_guess(error: Any) -> str:
    from difflib import get_close_matches

    ctx = getattr(error, "ctx", None)
    typed = error.message.split("'")[1] if error.message.count("'") >= 2 else ""
    if ctx is None or not typed:
        return ""
    close = get_close_matches(typed, ctx.command.list_commands(ctx), n=2)
    return f" (did you mean {' or '.join(close)}?)" if close else ""
