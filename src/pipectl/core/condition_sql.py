"""Conditions and numbers of scoring rules as SQL expressions that SQLite and PostgreSQL both run.

Exports hold numbers and dates as text ("120", "4.5", "2024-05-01 10:12").
Reading one is written per dialect (a GLOB test and a CAST in SQLite, a
regular expression in PostgreSQL), so text that is no number gives NULL on
both, never 0 (SQLite's CAST alone) nor an error (PostgreSQL's).
"""

from typing import Any

from sqlalchemy import Float, Integer, String, and_, case, cast, exists, false, func, literal, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from pipectl.contract import BY_KEY, FIELD_PREFIX
from pipectl.core.conditions import Condition, is_number_field
from pipectl.storage.models import LeadField

lead_fields = LeadField.__table__
PG_NUMBER = r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"
PG_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
SQLITE_DAY = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"


class as_number(FunctionElement):
    """The number a text holds (decimals and exponents too), or NULL."""

    type = Float()
    inherit_cache = True


class iso_day(FunctionElement):
    """`YYYY-MM-DD` when a text starts with an ISO date, else NULL (compared as text)."""

    type = String()
    inherit_cache = True


class whole(FunctionElement):
    """A number's whole part, towards zero (SQLite's CAST truncates; PostgreSQL's rounds)."""

    type = Integer()
    inherit_cache = True


@compiles(as_number)
def _number_sqlite(element, compiler, **kw):
    text = func.trim(next(iter(element.clauses)))
    # A digit, nothing but number characters, at most one point: then CAST reads it whole.
    looks = and_(text.op("GLOB")("*[0-9]*"), ~text.op("GLOB")("*[^0-9.eE+-]*"), ~text.op("GLOB")("*.*.*"))
    return compiler.process(case((looks, cast(text, Float)), else_=None), **kw)


@compiles(as_number, "postgresql")
def _number_postgresql(element, compiler, **kw):
    text = func.trim(next(iter(element.clauses)))
    return compiler.process(case((text.op("~")(PG_NUMBER), cast(text, Float)), else_=None), **kw)


@compiles(iso_day)
def _day_sqlite(element, compiler, **kw):
    head = func.substr(func.trim(next(iter(element.clauses))), 1, 10)
    return compiler.process(case((head.op("GLOB")(SQLITE_DAY), head), else_=None), **kw)


@compiles(iso_day, "postgresql")
def _day_postgresql(element, compiler, **kw):
    text = func.trim(next(iter(element.clauses)))
    return compiler.process(case((text.op("~")(PG_DAY), func.substr(text, 1, 10)), else_=None), **kw)


@compiles(whole)
def _whole_sqlite(element, compiler, **kw):
    return compiler.process(cast(next(iter(element.clauses)), Integer), **kw)


@compiles(whole, "postgresql")
def _whole_postgresql(element, compiler, **kw):
    return compiler.process(cast(func.trunc(next(iter(element.clauses))), Integer), **kw)


def like_pattern(glob: str) -> str:
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _custom_key(field: str, lead_table) -> ColumnElement:
    key = field[len(FIELD_PREFIX) :]
    return and_(lead_fields.c.lead_id == lead_table.c.id, func.lower(lead_fields.c.key) == key.lower())


def condition_sql(condition: Condition, lead_table) -> ColumnElement:
    """True when the lead's row meets the condition; NULL or false otherwise."""
    inner = _plain_condition(condition, lead_table)
    # Negation turns "no match" (NULL included) into a match.
    return not_(func.coalesce(inner, false())) if condition.negate else inner


def _plain_condition(condition: Condition, lead_table) -> ColumnElement:
    if condition.matcher == "all_of":
        return and_(*(condition_sql(inner, lead_table) for inner in condition.all_of or []))
    if condition.matcher == "any_of":
        return or_(*(condition_sql(inner, lead_table) for inner in condition.any_of or []))
    assert condition.field is not None, "a matcher tests a field"
    if not condition.field.startswith(FIELD_PREFIX):
        return value_condition(condition, lead_table.c[BY_KEY[condition.field].stored])
    # A custom data point is a row of lead_fields (absent when not set): one EXISTS per condition.
    same_key = _custom_key(condition.field, lead_table)
    if condition.matcher == "missing":
        return ~exists().where(same_key, lead_fields.c.value != "")
    return exists().where(same_key, value_condition(condition, lead_fields.c.value))


def _literal_number(field: str | None, value: Any) -> ColumnElement:
    # Money is stored in whole cents; a rule speaks in currency units.
    return literal(round(value * 100) if field in BY_KEY and BY_KEY[field].kind == "money" else value)


def value_condition(condition: Condition, column) -> ColumnElement:
    """The condition's matcher on one value (a lead column, or a custom field's value)."""
    matcher = condition.matcher
    numeric = is_number_field(condition.field)
    if matcher == "present":
        return column.is_not(None) if numeric else and_(column.is_not(None), column != "")
    if matcher == "missing":
        return column.is_(None) if numeric else or_(column.is_(None), column == "")
    if matcher == "range":
        number = column if numeric else as_number(column)
        bounds = [number.is_not(None)]
        if condition.min is not None:
            bounds.append(number >= _literal_number(condition.field, condition.min))
        if condition.max is not None:
            bounds.append(number <= _literal_number(condition.field, condition.max))
        return and_(*bounds)
    if numeric:
        values = [condition.equals] if matcher == "equals" else condition.one_of or condition.not_one_of or []
        numbers = [_literal_number(condition.field, value) for value in values]
        if matcher == "not_one_of":
            return and_(column.is_not(None), column.not_in(numbers))
        return column.in_(numbers)
    lowered = func.lower(column)
    if matcher == "equals":
        return lowered == func.lower(literal(condition.equals))
    if matcher == "one_of":
        return lowered.in_([func.lower(literal(value)) for value in condition.one_of or []])
    if matcher == "not_one_of":
        wanted = [func.lower(literal(value)) for value in condition.not_one_of or []]
        return and_(column != "", lowered.not_in(wanted))
    if matcher == "contains":
        patterns = [f"*{text}*" for text in condition.texts]
    else:
        patterns = condition.globs
    return or_(*(lowered.like(func.lower(literal(like_pattern(glob))), escape="\\") for glob in patterns))


def number_of(field: str, lead_table) -> ColumnElement:
    """The number a lead's field holds (currency units for money), or NULL."""
    if not field.startswith(FIELD_PREFIX):
        spec = BY_KEY[field]
        column = lead_table.c[spec.stored]
        if spec.kind == "money":
            return column / literal(100.0)
        return column if is_number_field(field) else as_number(column)
    found = select(func.max(as_number(lead_fields.c.value))).where(_custom_key(field, lead_table))
    return found.scalar_subquery()


def day_of(field: str, lead_table) -> ColumnElement:
    """The ISO day (`YYYY-MM-DD`) a lead's text field starts with, or NULL."""
    if not field.startswith(FIELD_PREFIX):
        return iso_day(lead_table.c[BY_KEY[field].stored])
    return select(func.max(iso_day(lead_fields.c.value))).where(_custom_key(field, lead_table)).scalar_subquery()


def units(number: ColumnElement, per: float) -> ColumnElement:
    """How many whole `per` a number holds; none for a missing or negative number."""
    return case((number > 0, whole(number / literal(float(per)))), else_=0)


def capped(total: ColumnElement, points: int, cap: int | None) -> ColumnElement:
    """Held to `cap` points in all (a cap on a negative rule bounds the loss)."""
    if cap is None:
        return total
    if points >= 0:
        return case((total > cap, cap), else_=total)
    return case((total < -cap, -cap), else_=total)
