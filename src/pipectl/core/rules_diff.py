"""What a `rules load` changed: per part of the rules, what it added, replaced and removed.

A `[scoring]` table replaces both rule lists, so a file with only demographic
rules removes every behavioural rule; that is what the file says, but never
without a word: the summary names what went, and `removed_all` lets the
command warn about a list that was emptied.
"""

from dataclasses import dataclass, field


@dataclass
class Change:
    """One part of the rules (`thresholds`, `demographic rules`, a stage, `cleanup`) and what happened to it."""

    part: str
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # named ones whose definition changed
    removed: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)  # "mql 50 → 55"
    removed_all: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed or self.values)

    def describe(self) -> str:
        if not self.changed:
            return f"{self.part}: unchanged"
        parts = list(self.values)
        if self.replaced:
            parts.append(f"changed {_names(self.replaced)}")
        if self.added:
            parts.append(f"added {_names(self.added)}")
        if self.removed:
            parts.append(
                f"removed {'all ' if self.removed_all and len(self.removed) > 1 else ''}"
                f"{len(self.removed)}: {_names(self.removed)}"
            )
        return f"{self.part}: {'; '.join(parts)}"


def _names(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def value_changes(part: str, before: dict, after: dict) -> Change:
    """Keys whose value differs: `mql 50 → 55`."""
    return Change(
        part, values=[f"{key} {before.get(key)} → {value}" for key, value in after.items() if before.get(key) != value]
    )


def rule_changes(part: str, before: list[dict], after: list[dict]) -> Change:
    """Rules by name (ignoring case): added, changed, removed; a list the file empties is `removed_all`."""
    old = {rule["name"].lower(): rule for rule in before}
    new = {rule["name"].lower(): rule for rule in after}
    change = Change(
        part,
        added=[rule["name"] for key, rule in new.items() if key not in old],
        replaced=[rule["name"] for key, rule in new.items() if key in old and old[key] != rule],
        removed=[rule["name"] for key, rule in old.items() if key not in new],
    )
    change.removed_all = bool(before) and not after
    return change
