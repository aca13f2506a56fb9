"""The rules file: thresholds, scoring rules, stage entry rules and cleanup limits as one TOML document.

`load_rules` validates the whole file before it changes anything, so a bad
file is refused whole (with the line or key that is wrong) and the old rules
stay. A table left out of the file leaves that part of the rules as it is.
`export_rules` writes TOML that `load_rules` reads back to the same rules.
"""

import tomllib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session

from pipectl.core.cleanup_rules import CleanupRules, load_cleanup_rules, save_cleanup_rules
from pipectl.core.rescoring import rescore_open_leads
from pipectl.core.scoring import ScoreModel, ScoringRules, Thresholds, current_rules, save_rules
from pipectl.core.stages import open_stages, set_stage
from pipectl.errors import RuleViolation
from pipectl.folding import fold

MAX_ERRORS = 5


class StageRules(BaseModel):
    """`[stages.NAME]`: probability and idle days (left as they are when absent) and the entry rules."""

    model_config = ConfigDict(extra="forbid")

    probability: int | None = Field(default=None, ge=0, le=100)
    idle_days: int | None = Field(default=None, ge=1, le=3650)
    # Entry rules: a stage named in the file has exactly the entry rules the file gives it.
    requires_bant: bool = False
    min_score: int | None = Field(default=None, ge=0, le=100)


class RulesFile(BaseModel):
    """The whole document; each table is optional."""

    model_config = ConfigDict(extra="forbid")

    thresholds: Thresholds | None = None
    scoring: ScoringRules | None = None
    stages: dict[str, StageRules] | None = None
    cleanup: CleanupRules | None = None


def parse_rules(text: str, source: str = "the rules file") -> RulesFile:
    """Read and validate a rules document; any problem is a RuleViolation that says where."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleViolation(f"{source} is not valid TOML: {error}. The rules are unchanged.") from None
    except RecursionError:
        raise RuleViolation(f"{source} is nested too deeply to read. The rules are unchanged.") from None
    except ValueError:
        # Python refuses to read an integer of more than 4,300 digits (no rule needs one).
        raise RuleViolation(f"{source} holds a number with thousands of digits. The rules are unchanged.") from None
    try:
        return RulesFile.model_validate(data)
    except ValidationError as error:
        problems = _describe_errors(error, data, text)
        raise RuleViolation(f"{source} was refused; the rules are unchanged:\n  - " + "\n  - ".join(problems)) from None


def load_rules(session: Session, text: str, source: str = "the rules file") -> dict:
    """Validate and apply a rules document in the current transaction; re-score every open lead."""
    document = parse_rules(text, source)
    stages = _resolve_stages(session, document.stages or {}, source)
    current = current_rules(session)
    changes = _changes(session, document, stages)
    if document.thresholds is not None or document.scoring is not None:
        save_rules(
            session,
            ScoreModel(
                thresholds=document.thresholds or current.thresholds, scoring=document.scoring or current.scoring
            ),
        )
    for stage_name, wanted in stages:
        set_stage(
            session,
            stage_name,
            probability=wanted.probability,
            idle_days=wanted.idle_days,
            requires_bant=wanted.requires_bant,
            min_score=wanted.min_score,
            clear_min_score=wanted.min_score is None,
        )
    if document.cleanup is not None:
        save_cleanup_rules(session, document.cleanup)
    session.flush()
    scored = rescore_open_leads(session)
    return {
        "thresholds": document.thresholds is not None,
        "scoring": document.scoring is not None,
        "stages": [name for name, _ in stages],
        "cleanup": document.cleanup is not None,
        "scored": scored,
        "changes": changes,
    }


def _changes(session: Session, document: RulesFile, stages: list[tuple[str, StageRules]]) -> list:
    """What loading `document` changes, part by part, worked out before anything changes."""
    from pipectl.core.rules_diff import rule_changes, value_changes

    before = rules_document(session)
    found = []
    if document.thresholds is not None:
        found.append(value_changes("thresholds", before["thresholds"], document.thresholds.model_dump()))
    if document.scoring is not None:
        after = document.scoring.model_dump(exclude_none=True)
        for section in ("demographic", "behavioural"):
            found.append(rule_changes(f"{section} rules", before["scoring"].get(section, []), after.get(section, [])))
    for name, wanted in stages:
        entry = {key: value for key, value in wanted.model_dump().items() if value is not None or key == "min_score"}
        found.append(value_changes(f"stage {name}", {"min_score": None, **before["stages"][name]}, entry))
    if document.cleanup is not None:
        found.append(value_changes("cleanup", before["cleanup"], document.cleanup.model_dump()))
    return found


def rules_document(session: Session) -> dict:
    """The rules in force, as the plain data of a rules file (what `export` writes)."""
    model = current_rules(session)
    stages = {}
    for stage in open_stages(session):
        entry = {"probability": stage.probability, "idle_days": stage.idle_days, "requires_bant": stage.requires_bant}
        if stage.min_score is not None:
            entry["min_score"] = stage.min_score
        stages[stage.name] = entry
    return {
        "thresholds": model.thresholds.model_dump(),
        "scoring": model.scoring.model_dump(exclude_none=True),
        "stages": stages,
        "cleanup": load_cleanup_rules(session).model_dump(),
    }


def export_rules(session: Session) -> str:
    """The rules in force as TOML that `load_rules` reads back to the same rules."""
    import tomli_w

    header = (
        "# pipectl rules: thresholds, scoring, stage entry rules and cleanup limits.\n"
        "# Edit and load back with: pipectl rules load FILE.toml\n\n"
    )
    return header + tomli_w.dumps(rules_document(session))


def _resolve_stages(
    session: Session,
    wanted: dict[str, StageRules],
    source: str,
) -> list[tuple[str, StageRules]]:
    """The file's stage names matched to open stages (ignoring case); checked before anything changes."""
    known = {fold(stage.name): stage.name for stage in open_stages(session)}
    resolved: list[tuple[str, StageRules]] = []
    for name, rules in wanted.items():
        actual = known.get(fold(" ".join(name.split())))
        if actual is None:
            raise RuleViolation(
                f"{source} was refused; the rules are unchanged:\n  - [stages.{name}]: there is no stage "
                f"{name!r}; the stages are: {', '.join(known.values())} (`pipectl stages list`)."
            )
        if any(actual == seen for seen, _ in resolved):
            raise RuleViolation(
                f"{source} was refused; the rules are unchanged:\n  - [stages.{name}]: {actual} is named twice."
            )
        resolved.append((actual, rules))
    return resolved


def _describe_errors(error: ValidationError, data: dict, text: str) -> list[str]:
    """One line per problem: where it is (table, rule number and name, key, line) and what is wrong."""
    problems: list[str] = []
    seen: set[tuple] = set()
    for problem in error.errors():
        location = _trim(tuple(problem["loc"]), data, problem["type"])
        # A value that fits none of a union's types is reported once per type; once is enough.
        if location in seen:
            continue
        seen.add(location)
        problems.append(_describe_one(problem, location, data, text))
        if len(problems) == MAX_ERRORS:
            break
    return problems


def _trim(location: tuple, data: dict, kind: str) -> tuple:
    """The part of a pydantic location that exists in the file (dropping union member names)."""
    kept: list = []
    node = data
    for part in location:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            kept.append(part)
            node = node[part]
            continue
        if kind == "missing":
            kept.append(part)
        break
    return tuple(kept)


# pydantic's wording ("Input should be greater than or equal to 0") in the words of the rest of pipectl.
_PLAIN = {
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text in quotes",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "string_too_long": "must be at most {max_length} characters",
    "string_too_short": "must not be empty",
    "too_long": "must have at most {max_length} items",
}


def _plain(problem: Mapping[str, Any]) -> str:
    template = _PLAIN.get(problem["type"])
    if template is None:
        return problem["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    try:
        return template.format(**problem.get("ctx", {}))
    except (KeyError, IndexError):
        return template.split(" {")[0]


def _describe_one(problem: Mapping[str, Any], location: tuple, data: dict, text: str) -> str:
    message = _plain(problem)
    if problem["type"] == "extra_forbidden":
        message = f"unknown key {location[-1]!r} (a typo?)"
    elif problem["type"] == "missing":
        message = f"the key {location[-1]!r} is required"
    where = _where(location, data, as_key=problem["type"] in ("extra_forbidden", "missing"))
    line = _line_of(location, problem["type"], text)
    return f"{where}{f' (line {line})' if line else ''}: {message}"


def _where(location: tuple, data: dict, *, as_key: bool = False) -> str:
    """`[[scoring.demographic]] #2 "Senior title", key field` from a pydantic location."""
    parts: list[str] = []
    node: Any = data  # walks down through tables and arrays of tables
    table: list[str] = []
    for index, part in enumerate(location):
        if isinstance(part, int):
            name = (
                node[part].get("name")
                if isinstance(node, list) and part < len(node) and isinstance(node[part], dict)
                else None
            )
            parts.append(f"[[{'.'.join(table)}]] rule #{part + 1}" + (f" {name!r}" if name else ""))
            table = []
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        is_last = index == len(location) - 1
        child = node.get(part) if isinstance(node, dict) else None
        if is_last and (as_key or not isinstance(child, dict | list)):
            if table:
                parts.append(f"[{'.'.join(table)}]")
                table = []
            parts.append(f"key {part!r}")
        else:
            table.append(str(part))
        node = child
    if table:
        parts.append(f"[{'.'.join(table)}]")
    return ", ".join(parts) or "the file"


def _line_of(location: tuple, kind: str, text: str) -> int | None:
    """The line of the key a problem names: found under its own table header (the Nth `[[…]]` for the
    Nth rule), else anywhere when the key appears only once in the file."""
    if kind == "missing" or not location or not isinstance(location[-1], str):
        return None
    lines = text.splitlines()
    key = location[-1]
    table = [str(part) for part in location[:-1] if not isinstance(part, int)]
    occurrence = next((part for part in location if isinstance(part, int)), None)
    start, end = 0, len(lines)
    if table:
        wanted = f"[[{'.'.join(table)}]]" if occurrence is not None else f"[{'.'.join(table)}]"
        headers = [number for number, line in enumerate(lines) if _header(line) == wanted]
        index = occurrence or 0
        if index < len(headers):
            start = headers[index] + 1
            end = next((number for number in range(start, len(lines)) if _header(lines[number])), len(lines))
    found = [number + 1 for number in range(start, end) if _key_of(lines[number]) == key]
    if not found and table:
        found = [number + 1 for number, line in enumerate(lines) if _key_of(line) == key]
    return found[0] if len(found) == 1 or (found and table) else None


def _header(line: str) -> str | None:
    stripped = line.split("#", 1)[0].strip()
    if not stripped.startswith("["):
        return None
    return "".join(
        part.strip().strip('"').strip("'") if part not in "[]." else part for part in _split_header(stripped)
    )


def _split_header(header: str) -> list[str]:
    parts, current = [], ""
    for char in header:
        if char in "[].":
            if current:
                parts.append(current)
            parts.append(char)
            current = ""
        else:
            current += char
    if current:
        parts.append(current)
    return parts


def _key_of(line: str) -> str | None:
    if "=" not in line or line.lstrip().startswith(("#", "[")):
        return None
    return line.split("=", 1)[0].strip().strip('"').strip("'")


def rule_rows(document: dict) -> list[dict]:
    """The scoring rules of a rules document as flat rows (for `rules show`)."""
    from pipectl.core.scoring import BehaviouralRule, DemographicRule

    rows = []
    for data in document["scoring"].get("demographic", []):
        rule = DemographicRule.model_validate(data)
        rows.append(
            {
                "section": "demographic",
                "name": rule.name,
                "target": rule.field or "(several)",
                "condition": rule.describe(),
                "points": rule.points,
                "cap": rule.cap,
                "within": None,
            }
        )
    for data in document["scoring"].get("behavioural", []):
        activity_rule = BehaviouralRule.model_validate(data)
        target: str | None
        if activity_rule.kind is not None:
            target, condition = activity_rule.kind, f"each {activity_rule.kind.replace('_', ' ')}"
        elif activity_rule.within is not None:
            target, condition = activity_rule.field, f"{activity_rule.field} is a recent date"
        else:
            target, condition = activity_rule.field, f"each 1 of {activity_rule.field}"
        rows.append(
            {
                "section": "behavioural",
                "name": activity_rule.name,
                "target": target,
                "condition": condition,
                "points": activity_rule.points,
                "cap": activity_rule.cap,
                "within": activity_rule.within,
            }
        )
    return rows
