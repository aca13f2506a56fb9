"""The stages an import meets: known ones, ones it may create (`--create-stages`), and in what order.

New stages are created when first met (rows refer to them by id from then on)
and arranged once the whole file is read: in the order `--stage-order` gives,
else in the order they first appear, with a notice that shows it. Each new
stage gets a win probability between its neighbours' (between the last stage's
and 100 % at the end, between 0 and the first one's at the start), never 0
without a word. Everything that stops the import is kept for the one report
the import gives at the end, with the rows' own problems.
"""

from sqlmodel import Session

from pipectl.core.stages import MAX_STAGES, add_stage, open_stages, set_order
from pipectl.errors import RuleViolation, UsageError
from pipectl.folding import fold
from pipectl.storage.models import stored_id


class ImportStages:
    """The pipeline's stages during one import, and the ones the file adds or lacks."""

    def __init__(self, session: Session, *, create: bool, order: list[str] | None = None):
        if order and not create:
            raise UsageError("--stage-order orders the stages --create-stages adds; add --create-stages.")
        self.session, self.create, self.order = session, create, [name.strip() for name in order or []]
        stages = open_stages(session)
        self.ids = {fold(stage.name): stored_id(stage) for stage in stages}
        self.names = {stored_id(stage): stage.name for stage in stages}
        self.existing = [stage.name for stage in stages]
        self.created: list[str] = []
        self.unknown: dict[str, int] = {}  # stage → rows, when the file's stages may not be created
        self.no_room: dict[str, int] = {}  # stage → rows, when creating it would pass MAX_STAGES
        self.problems: list[str] = []

    def known(self, name: str | None, *, create: bool = True) -> bool:
        """Whether rows of stage `name` can go in; creates it (when allowed and `create`) on first sight.

        A bad row (`create` False) never creates a stage: only a row that goes in may add one."""
        if name is None or fold(name) in self.ids:
            return True
        if not self.create:
            self.unknown[name] = self.unknown.get(name, 0) + 1
            return False
        crowded = next((stage for stage in self.no_room if fold(stage) == fold(name)), None)
        if crowded is None and create and len(self.ids) >= MAX_STAGES:
            crowded = name
        if crowded is not None:
            self.no_room[crowded] = self.no_room.get(crowded, 0) + 1
            return False
        if not create:
            return False
        try:
            stage = add_stage(self.session, name)
        except (RuleViolation, UsageError) as error:
            raise RuleViolation(
                f"Cannot create the stage {name!r}: {error} Map the file's stages onto yours with --stage-map OLD=NEW."
            ) from None
        self.ids[fold(stage.name)] = stored_id(stage)
        self.names[stored_id(stage)] = stage.name
        self.created.append(stage.name)
        return True

    def arrange(self) -> str | None:
        """Order and price the stages this import created; returns the notice that says how (or None)."""
        if not self.created:
            if self.order:
                self.problems.append("--stage-order: the file adds no stage, so there is nothing to order.")
            return None
        ordered = self._final_order()
        if ordered is None:
            return None
        stages = {fold(stage.name): stage for stage in open_stages(self.session)}
        set_order(self.session, [stages[fold(name)] for name in ordered])
        new = {fold(name) for name in self.created}
        chances = between_neighbours(
            [None if fold(name) in new else stages[fold(name)].probability for name in ordered]
        )
        for name, chance in zip(ordered, chances, strict=True):
            if fold(name) in new:
                stages[fold(name)].probability = chance
                self.session.add(stages[fold(name)])
        self.session.flush()
        described = ", ".join(f"{name} ({stages[fold(name)].probability}%)" for name in self.created)
        later = (
            "`pipectl stages move NAME POSITION` reorders them and `pipectl stages set NAME --probability N` "
            "changes a probability."
        )
        if self.order:
            return f"Created the stage(s) {described} where --stage-order puts them: {' → '.join(ordered)}. {later}"
        return (
            f"Created the stage(s) {described} in the order they first appear in the file: "
            f"{' → '.join(ordered)}. To choose the order, import with --stage-order A,B,C; afterwards, {later}"
        )

    def _final_order(self) -> list[str] | None:
        """The open stages in their new order: existing ones as they were, new ones where the order puts them."""
        result = list(self.existing)
        if not self.order:
            return result + self.created
        new = {fold(name): name for name in self.created}
        existing = {fold(name): name for name in self.existing}
        strangers = [name for name in self.order if fold(name) not in new and fold(name) not in existing]
        if strangers:
            self.problems.append(
                f"--stage-order names {', '.join(map(repr, strangers))}: neither a stage of the "
                "pipeline nor one the file adds."
            )
        listed = [existing[fold(name)] for name in self.order if fold(name) in existing]
        if listed != [name for name in self.existing if name in listed]:
            self.problems.append(
                f"--stage-order lists {', '.join(listed)}, but the pipeline has them in the order "
                f"{', '.join(name for name in self.existing if name in listed)}; keep that order "
                "(or move stages first with `pipectl stages move`)."
            )
        if self.problems:
            return None
        anchor = None
        wanted = [name for name in self.order if fold(name) in new or fold(name) in existing]
        for index, name in enumerate(wanted):
            if fold(name) in existing:
                anchor = result.index(existing[fold(name)])
                continue
            if anchor is None:
                later = next((existing[fold(other)] for other in wanted[index + 1 :] if fold(other) in existing), None)
                anchor = (result.index(later) if later is not None else len(result)) - 1
            result.insert(anchor + 1, new[fold(name)])
            anchor += 1
        placed = {fold(name) for name in result}
        return result + [name for name in self.created if fold(name) not in placed]

    def failures(self) -> list[str]:
        """What stops the import, as paragraphs of the one report."""
        found = list(self.problems)
        if self.unknown:
            names = ", ".join(
                f"{name!r} ({count} row{'s' if count > 1 else ''})" for name, count in sorted(self.unknown.items())
            )
            found.append(
                f"The file has stages the pipeline does not: {names}. The stages are: "
                f"{', '.join(self.existing)}. Map them with --stage-map OLD=NEW (NEW may be won or lost), "
                "or add them with --create-stages."
            )
        if self.no_room:
            names = ", ".join(map(repr, self.no_room))
            found.append(
                f"--create-stages cannot add {names}: a pipeline has at most {MAX_STAGES} stages "
                f"(it would have {len(self.ids) + len(self.no_room)}). Map some of the file's stages onto "
                "yours with --stage-map OLD=NEW."
            )
        return found


def between_neighbours(chances: list[int | None]) -> list[int]:
    """Fill the gaps (None) of a list of probabilities evenly between the known neighbours.

    A run of k gaps between a and b gets a + (b − a)·j/(k+1) for j = 1..k; the start counts as 0 and
    the end as 100. `[10, None, 50, None, None]` → `[10, 30, 50, 67, 83]`.
    """
    filled = list(chances)
    index = 0
    while index < len(filled):
        if filled[index] is not None:
            index += 1
            continue
        end = index
        while end < len(filled) and filled[end] is None:
            end += 1
        # The neighbours are known: a gap ends at a known chance or at the list's end.
        low = filled[index - 1] or 0 if index > 0 else 0
        high = filled[end] or 0 if end < len(filled) else 100
        gaps = end - index
        for step in range(gaps):
            filled[index + step] = round(low + (high - low) * (step + 1) / (gaps + 1))
        index = end
    return [chance or 0 for chance in filled]  # no gap is left
