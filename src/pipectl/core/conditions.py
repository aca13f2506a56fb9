"""Conditions of scoring rules: what a lead's fields must hold for a rule to apply.

A condition tests one field (built-in, or `field:KEY` for a custom data point)
with one matcher, or combines conditions (`all_of`, `any_of`); `not = true`
turns any of them around. Text is compared ignoring case. `min`/`max` work on
every field: on a text field (a custom column of an export, say) the number is
read from the text, decimals too, and a value that is no number matches no
range. `scoring_sql` compiles a condition to one SQL expression.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipectl.contract import FIELD_PREFIX, NUMBER_DATA_POINTS, TEXT_DATA_POINTS

MATCHERS = ("equals", "one_of", "not_one_of", "glob", "contains", "min/max", "present", "missing")
COMBINERS = ("all_of", "any_of")
# Deep enough for any rule a person writes; a bound so a hostile file cannot nest without end.
MAX_DEPTH = 4


def known_field(value: str) -> str:
    """A built-in field's key, or `field:KEY` tidied; anything else is refused with the choices."""
    value = value.strip()
    if value in TEXT_DATA_POINTS + NUMBER_DATA_POINTS:
        return value
    if value.startswith(FIELD_PREFIX) and value[len(FIELD_PREFIX) :].strip():
        return FIELD_PREFIX + value[len(FIELD_PREFIX) :].strip()
    raise ValueError(
        f"unknown field {value!r}; use one of {', '.join(TEXT_DATA_POINTS + NUMBER_DATA_POINTS)}, "
        "or field:KEY for a custom data point"
    )


def is_number_field(field: str | None) -> bool:
    return field in NUMBER_DATA_POINTS


def number_text(value: float) -> str:
    """1.0 as `1`, 0.5 as `0.5`: numbers in a description as a person writes them."""
    return f"{value:g}" if isinstance(value, float) else str(value)


class Condition(BaseModel):
    """One field and one matcher, or `all_of` / `any_of` a list of conditions; `not = true` negates."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    field: str | None = None
    equals: str | int | float | None = None
    one_of: list[str | int | float] | None = Field(default=None, min_length=1)
    not_one_of: list[str | int | float] | None = Field(default=None, min_length=1)
    glob: str | list[str] | None = None
    contains: str | list[str] | None = None
    min: int | float | None = None
    max: int | float | None = None
    present: Literal[True] | None = None
    missing: Literal[True] | None = None
    all_of: list["Condition"] | None = Field(default=None, min_length=1, max_length=50)
    any_of: list["Condition"] | None = Field(default=None, min_length=1, max_length=50)
    negate: Literal[True] | None = Field(default=None, alias="not")

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str | None) -> str | None:
        return None if value is None else known_field(value)

    @field_validator("contains")
    @classmethod
    def _some_text(cls, value: str | list[str] | None) -> str | list[str] | None:
        texts = [value] if isinstance(value, str) else value or []
        if value is not None and (not texts or any(not text.strip() for text in texts)):
            raise ValueError("contains needs some text (an empty text is in every value)")
        return value

    def given(self) -> list[str]:
        """The matchers and combiners this condition sets."""
        return [
            name
            for name, on in (
                ("equals", self.equals is not None),
                ("one_of", self.one_of is not None),
                ("not_one_of", self.not_one_of is not None),
                ("glob", self.glob is not None),
                ("contains", self.contains is not None),
                ("min/max", self.min is not None or self.max is not None),
                ("present", self.present is not None),
                ("missing", self.missing is not None),
                ("all_of", self.all_of is not None),
                ("any_of", self.any_of is not None),
            )
            if on
        ]

    def check_condition(self, *, optional: bool = False) -> None:
        """Exactly one matcher on a field, or one combiner without one (`optional`: or nothing at all)."""
        given = self.given()
        if not given and optional:
            return
        if len(given) != 1:
            found = f"it has {' and '.join(given)}" if given else "it has none"
            raise ValueError(f"a condition needs exactly one of {', '.join(MATCHERS + COMBINERS)}; {found}")
        if given[0] in COMBINERS:
            if self.field is not None:
                raise ValueError(f"{given[0]} combines conditions that name their own field; leave field out here")
            if _depth(self) > MAX_DEPTH:
                raise ValueError(f"conditions nest at most {MAX_DEPTH} deep")
            return
        if self.field is None:
            raise ValueError(f"{given[0]} needs a field to test")
        numeric = is_number_field(self.field)
        if given[0] == "min/max" and self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        if given[0] in ("glob", "contains") and numeric:
            raise ValueError(f"{given[0]} matches text; {self.field!r} is a number (use min/max)")
        values = [self.equals] if given[0] == "equals" else (self.one_of or self.not_one_of or [])
        for value in values:
            if numeric and not isinstance(value, int | float):
                raise ValueError(f"{self.field!r} is a number; compare it with numbers, not {value!r}")
            if not numeric and not isinstance(value, str):
                raise ValueError(f"{self.field!r} is text; write {value!r} in quotes")

    @model_validator(mode="after")
    def _nested_are_whole(self):
        # Conditions inside all_of/any_of must each be complete; the rule checks its own top level.
        for inner in [*(self.all_of or []), *(self.any_of or [])]:
            inner.check_condition()
        return self

    @property
    def matcher(self) -> str | None:
        given = self.given()
        if not given:
            return None
        return "range" if given[0] == "min/max" else given[0]

    @property
    def globs(self) -> list[str]:
        return [self.glob] if isinstance(self.glob, str) else list(self.glob or [])

    @property
    def texts(self) -> list[str]:
        return [self.contains] if isinstance(self.contains, str) else list(self.contains or [])

    def describe(self) -> str:
        """The condition in words: `title matches Head of*`, `not (source contains web)`."""
        text = self._describe_plain()
        return f"not ({text})" if self.negate else text

    def _describe_plain(self) -> str:
        matcher, field = self.matcher, self.field
        if matcher == "all_of":
            return " and ".join(_grouped(inner) for inner in self.all_of or [])
        if matcher == "any_of":
            return " or ".join(_grouped(inner) for inner in self.any_of or [])
        if matcher == "equals":
            return f"{field} is {self.equals}"
        if matcher in ("one_of", "not_one_of"):
            values = ", ".join(str(value) for value in (self.one_of or self.not_one_of or []))
            return f"{field} is {'not ' if matcher == 'not_one_of' else ''}one of {values}"
        if matcher == "glob":
            return f"{field} matches {' or '.join(self.globs)}"
        if matcher == "contains":
            return f"{field} contains {' or '.join(self.texts)}"
        if matcher == "present":
            return f"{field} is given"
        if matcher == "missing":
            return f"{field} is missing"
        if matcher is None:
            return f"{field} is a number"
        low, high = self.min, self.max
        if low is not None and high is not None:
            return f"{field} {number_text(low)}–{number_text(high)}"
        return f"{field} ≥ {number_text(low)}" if low is not None else f"{field} ≤ {number_text(high or 0)}"


def _grouped(condition: Condition) -> str:
    text = condition.describe()
    return f"({text})" if condition.matcher in COMBINERS and not condition.negate else text


def _depth(condition: Condition) -> int:
    inner = [*(condition.all_of or []), *(condition.any_of or [])]
    return 1 + max((_depth(each) for each in inner), default=0)
