"""One way to compare text without case, the same in Python, SQLite and PostgreSQL.

Example: fold("ÉLAN") == fold("élan"); fold("STRASSE") == fold("Straße")

SQLite's lower() folds ASCII letters only and PostgreSQL's folds all of
Unicode, so `lower(name) = lower(?)` answered differently on the two backends,
and differently from Python. Instead the lead columns people look leads up by
(KEYED) each have a `<column>_key` twin that holds `fold(value)`, written by
pipectl itself, and every case-insensitive comparison compares keys in SQL:
`Lead.name_key == fold(typed)`. Folding is Python's `str.casefold` (ß → ss,
final sigma → σ), on the canonically decomposed text, so an accent typed as a
combining mark matches the precomposed letter.
"""

import re
import unicodedata
from collections.abc import Mapping
from typing import overload

from pipectl.contract import KEYED  # the lead columns with a folded `_key` twin (the contract's keyed fields)


@overload
def fold(text: str) -> str: ...
@overload
def fold(text: None) -> None: ...
def fold(text: str | None) -> str | None:
    """The comparison key of `text`: canonical caseless form (Unicode D145); None stays None."""
    if text is None:
        return None
    if text.isascii():  # the same key, quicker: ASCII has nothing to compose, and folds as it lowers
        return text.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


# The words of a name for lookup: letters and digits (an underscore or a hyphen separates words).
_WORD = re.compile(r"[^\W_]+")


def plain(text: str | None) -> str | None:
    """A name's lookup form: folded, accents dropped, its words joined by one space.

    Example: plain("Édith  Piaf-Nord") == "edith piaf nord"

    The `_key` columns keep accents (`Elan` is not `Élan` to the duplicate check), but a person
    looking a lead up types `edith` for Édith; `Lead.name_plain` holds this form for that.
    """
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", " ".join(_WORD.findall(stripped)))


def phone_key(text: str | None) -> str | None:
    """A phone number's comparison form: its digits alone, or None when it has too few to be a number.

    Example: phone_key("+1 (555) 010-0100") == "15550100100" == phone_key("1.555.010.0100")
    """
    if text is None:
        return None
    digits = "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())
    return digits if len(digits) >= PHONE_DIGITS else None


# Fewer digits than this is an extension or a typo, not a number two leads could share.
PHONE_DIGITS = 6


def search_form(word: str) -> str:
    """A word as the search index holds it: lower case, accents dropped (FTS5's `remove_diacritics 2`).

    Lower case, not casefold: the index keeps ß as ß, so a query must too.
    """
    decomposed = unicodedata.normalize("NFD", word.lower())
    return unicodedata.normalize("NFC", "".join(char for char in decomposed if not unicodedata.combining(char)))


def words(text: str | None) -> list[str]:
    """The words of `text` as search sees them (letters and digits; anything else separates)."""
    if not text:
        return []
    return _WORD.findall(unicodedata.normalize("NFC", text))


def key_of(column: str) -> str:
    """The key column of a lead column: `name` → `name_key`."""
    return f"{column}_key"


def lead_keys(values: Mapping) -> dict[str, str | None]:
    """The key columns for the lead columns `values` gives, for writers that bypass the ORM."""
    keys = {key_of(column): fold(values[column]) for column in KEYED if column in values}
    if "name" in values:
        keys["name_plain"] = plain(values["name"])
    if "company" in values:
        keys["company_plain"] = plain(values["company"])
    if "phone" in values:
        keys["phone_key"] = phone_key(values["phone"])
    return keys
