"""How the columns of a file map to a lead's fields: recognised headers, `--map`, `--ignore`, `--stage-map`.

Headers are compared case-, space- and punctuation-insensitively, so "E-mail",
"Email Address" and "email" are one column. When two columns claim the same
field ("Amount" and "Expected Revenue"), the one earlier in the alias list
wins and the other is kept as a custom field, as every unmapped column is.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipectl.contract import FIELD_PREFIX, FIELDS, STORED_ONLY
from pipectl.errors import UsageError


def normalise_header(text: str) -> str:
    """`E-mail ` → `email`, `Created Time` → `createdtime`."""
    return re.sub(r"[^0-9a-z]", "", str(text).lower())


def _lead_aliases() -> dict[str, tuple[str, ...]]:
    """The contract's fields and what a restore needs, each with its header spellings; a name may
    come in parts, and a JSON file may hold the BANT answers as one `bant` object."""
    aliases = {}
    for spec in FIELDS + STORED_ONLY:
        if spec.key == "nurture_since":  # worked out by scoring, never read from a file
            continue
        aliases[spec.key] = tuple(dict.fromkeys((normalise_header(spec.key),) + spec.aliases))
        if spec.key == "name":
            aliases["first_name"] = ("firstname", "givenname")
            aliases["last_name"] = ("lastname", "surname", "familyname")
        if spec.key == "closed_at":
            # Pipedrive gives the close as two columns, one per outcome; the row's status picks one.
            aliases["won_at"] = ("wontime", "dealwontime", "wondate", "datewon")
            aliases["lost_at"] = ("losttime", "deallosttime", "lostdate", "datelost")
    aliases["bant"] = ("bant",)
    return aliases


# The close date of one outcome only (`won_at`: Pipedrive's "Deal - Won time").
OUTCOME_DATES = ("won_at", "lost_at")
# Field → the header spellings that mean it, best first (normalised: lowercase letters and digits).
LEAD_ALIASES: dict[str, tuple[str, ...]] = _lead_aliases()
ACTIVITY_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "lead_id": ("leadid",),
    "lead_email": ("leademail", "email"),
    "lead": ("lead",),
    "kind": ("kind", "type", "activitytype"),
    "at": ("at", "date", "time", "when"),
    "note": ("note", "notes", "subject", "description"),
    "due": ("due", "duedate"),
    "done": ("done",),
    "from_stage": ("fromstage",),
    "to_stage": ("tostage",),
    "data": ("data",),
    "actor": ("actor", "by"),
}
# Derived values a pipectl export carries; import recomputes them (the win probability: `pipectl predict`).
DERIVED = {"daysinstage", "nurture", "probability"}


def custom_key(header: str) -> str:
    """A header as a custom field key: letters, digits, space, `_ . -`, starting with a letter."""
    cleaned = " ".join(re.sub(r"[^A-Za-z0-9_ .-]", " ", str(header)).split())
    cleaned = cleaned.lstrip("0123456789_ .-")
    return (cleaned or "column")[:64]


@dataclass
class Mapping:
    """Which column feeds which field; columns not named here become custom fields (or are ignored)."""

    fields: dict[str, str] = field(default_factory=dict)  # field → column
    custom: dict[str, str] = field(default_factory=dict)  # column → custom field key
    ignored: list[str] = field(default_factory=list)

    def describe(self) -> list[tuple[str, str]]:
        """(column, what it becomes) pairs, in the order of the fields."""
        rows = [(column, target) for target, column in self.fields.items()]
        rows += [(column, FIELD_PREFIX + key) for column, key in self.custom.items()]
        rows += [(column, "(ignored)") for column in self.ignored]
        return rows


def parse_pairs(pairs: list[str], option: str) -> list[tuple[str, str]]:
    """`OLD=NEW` pairs; the split is at the last `=` so a column may contain one."""
    parsed = []
    for pair in pairs:
        old, equals, new = pair.rpartition("=")
        if not equals or not old.strip() or not new.strip():
            raise UsageError(f"{option} {pair!r}: write {option} OLD=NEW.")
        parsed.append((old.strip(), new.strip()))
    return parsed


def build_mapping(
    headers: list[str], *, what: str = "leads", maps: Sequence[str] = (), ignore: Sequence[str] = ()
) -> Mapping:
    """Map the file's headers to fields: `--map` first, then recognised names, the rest custom."""
    aliases = LEAD_ALIASES if what == "leads" else ACTIVITY_ALIASES
    by_normal: dict[str, str] = {}
    for header in headers:
        by_normal.setdefault(normalise_header(header), header)
    mapping = Mapping()
    taken: set[str] = set()

    def find_column(name: str, option: str) -> str:
        if name in headers:
            return name
        column = by_normal.get(normalise_header(name))
        if column is None:
            raise UsageError(f"{option} {name!r}: the file has no such column; its columns are: {', '.join(headers)}.")
        return column

    for name in ignore:
        column = find_column(name, "--ignore")
        mapping.ignored.append(column)
        taken.add(column)
    for column_name, target in parse_pairs(list(maps), "--map"):
        column = find_column(column_name, "--map")
        if target.lower() == "ignore":
            mapping.ignored.append(column)
        elif target.lower().startswith(FIELD_PREFIX):
            mapping.custom[column] = custom_key(target[len(FIELD_PREFIX) :])
        else:
            wanted = _field_named(target, aliases)
            mapping.fields[wanted] = column
        taken.add(column)
    for target, spellings in aliases.items():
        if target in mapping.fields:
            continue
        for spelling in spellings:
            found = by_normal.get(spelling)
            if found is not None and found not in taken:
                mapping.fields[target] = found
                taken.add(found)
                break
    if what == "leads" and "name" in mapping.fields:
        # A full name column wins; first/last name columns then stay custom fields.
        for part in ("first_name", "last_name"):
            if part in mapping.fields and mapping.fields[part] not in dict(parse_pairs(list(maps), "--map")):
                taken.discard(mapping.fields.pop(part))
    for header in headers:
        if header in taken:
            continue
        if normalise_header(header) in DERIVED:
            mapping.ignored.append(header)
        elif header.startswith(FIELD_PREFIX):
            mapping.custom[header] = header[len(FIELD_PREFIX) :]
        else:
            mapping.custom[header] = custom_key(header)
    return mapping


def _field_named(target: str, aliases: dict[str, tuple[str, ...]]) -> str:
    wanted = normalise_header(target)
    for name, spellings in aliases.items():
        if wanted == normalise_header(name) or wanted in spellings:
            return name
    raise UsageError(
        f"--map …={target}: no field of that name; use one of {', '.join(aliases)}, "
        "field:KEY for a custom field, or ignore."
    )


# Stage and status values other CRMs use for outcomes.
WON_WORDS = {"won", "closedwon", "dealwon", "win"}
LOST_WORDS = {"lost", "closedlost", "deallost", "lostlead", "junklead", "junk", "disqualified", "unqualified"}
# The ones that say only the outcome; the others ("Junk Lead") are kept as a custom field.
PLAIN_OUTCOMES = {"won", "closedwon", "dealwon", "win", "lost", "closedlost", "deallost"}


def outcome_of(text: str) -> str | None:
    """`Closed Won` → won, `Junk Lead` → lost, anything else → None."""
    word = normalise_header(text)
    if word in WON_WORDS:
        return "won"
    if word in LOST_WORDS:
        return "lost"
    return None


def plain_outcome(text: str) -> bool:
    return normalise_header(text) in PLAIN_OUTCOMES


def parse_stage_map(pairs: list[str]) -> dict[str, str]:
    """`--stage-map OLD=NEW` as {old lowercased: new}; NEW may be a stage, `won` or `lost`."""
    return {old.strip().lower(): new for old, new in parse_pairs(list(pairs), "--stage-map")}
