"""`pipectl predict`: the win probability learned from the pipeline's history, explained, and evaluated."""

from typing import Annotated

import typer

from pipectl.cli.options import COUNT_MAX, DbOption, FormatOption, OpenLeadsArgument
from pipectl.cli.table_layout import Column

TABLE_LIMIT = 20
FORMATS = ("table", "json", "jsonl", "csv")
FACTOR_COLUMNS = (
    Column("Factor", priority=9, min_width=10, keep=True),
    Column("Value", priority=8, min_width=10, keep=True),
    Column("Log-odds", priority=9, justify="right", keep=True),
    Column("Won/lost", priority=5, justify="right"),
)
MEASURE_COLUMNS = (
    Column("Measure", priority=9, min_width=12, keep=True),
    Column("Model", priority=9, justify="right", keep=True),
    Column("Rule score", priority=9, justify="right", keep=True),
    Column("Better", priority=6, min_width=8),
)
CALIBRATION_COLUMNS = (
    Column("Decile", priority=9, justify="right", keep=True),
    Column("Model predicted", priority=9, justify="right", keep=True),
    Column("Model won", priority=9, justify="right", keep=True),
    Column("Rules predicted", priority=7, justify="right"),
    Column("Rules won", priority=7, justify="right"),
)


def predict(
    lead: OpenLeadsArgument = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show the prior and each factor in log-odds.")] = False,
    train: Annotated[bool, typer.Option("--train", help="Learn the model again from every closed lead.")] = False,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            metavar="KEY",
            show_default=False,
            help="A custom field the model weighs too (repeatable); retrains and is kept for later trainings.",
        ),
    ] = None,
    evaluate: Annotated[
        bool,
        typer.Option("--evaluate", help="Train on older closed leads, measure on newer ones: AUC, Brier, calibration."),
    ] = False,
    holdout: Annotated[
        str | None,
        typer.Option("--holdout", show_default=False, help="With --evaluate: the newest share held out (default 30%)."),
    ] = None,
    before: Annotated[
        str | None,
        typer.Option(
            "--before", metavar="DATE", show_default=False, help="With --evaluate: train on leads closed before DATE."
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            max=COUNT_MAX,
            show_default=False,
            help=f"How many leads to print (default: {TABLE_LIMIT} in a table, all in json, jsonl and csv; 0: all).",
        ),
    ] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Predict the chance that open leads are won, learned from the closed ones and explained factor by factor.

    Example: pipectl predict 42 --explain
    """
    from pipectl.cli.runtime import database, pipeline
    from pipectl.errors import UsageError

    if fmt not in FORMATS:
        # Refused before anything is learned or stored, as emit would after.
        raise UsageError(f"--format {fmt}: this command writes {', '.join(FORMATS[:-1])} or {FORMATS[-1]}.")
    if explain and lead is None:
        raise UsageError("--explain needs a LEAD: pipectl predict 42 --explain.")
    if (holdout is not None or before is not None) and not evaluate:
        raise UsageError("--holdout and --before go with --evaluate: pipectl predict --evaluate --holdout 30%.")
    if holdout is not None and before is not None:
        raise UsageError("--holdout and --before both choose the held-out leads; give one of them.")
    if evaluate and (lead is not None or explain or train):
        raise UsageError("--evaluate measures the model on the history; run it without LEAD, --explain or --train.")
    if evaluate:
        with pipeline(db, write=False) as session:
            result = _evaluate(session, holdout, before, field)
        _print_evaluation(result, fmt)
        return
    with database(db, write=True) as opened:
        with opened.session() as session:
            one = _one(session, lead, explain, train, field) if lead is not None else None
            if one is None:
                _train_if_needed(session, train, field)
        if one is not None:
            _print_one(one, explain, fmt)
            return
        if limit is None and fmt == "table":
            limit = TABLE_LIMIT
        _all(opened, limit, fmt)


def _train_if_needed(session, train: bool, field: list[str] | None) -> dict:
    from pipectl.core.prediction import current_model
    from pipectl.render import message

    model, trained = current_model(session, retrain=train, fields=field)
    if trained:
        won, lost = model["won"], model["lost"]
        message(f"Learned from {won + lost:,} closed leads ({won:,} won, {lost:,} lost).")
    return model


def _one(session, reference: str, explain: bool, train: bool, field: list[str] | None) -> dict:
    from pipectl.core.lookup import find_lead
    from pipectl.core.prediction import explain as explain_lead
    from pipectl.errors import RuleViolation

    found = find_lead(session, reference)
    assert found.id is not None, "the lead is stored"
    if found.status != "open":
        raise RuleViolation(
            f"Lead #{found.id} {found.name} is {found.status}: a win probability is for open leads "
            f"(pipectl reopen {found.id} first)."
        )
    model = _train_if_needed(session, train, field)
    result = explain_lead(session, found.id, model)
    result = {"id": found.id, "name": found.name, **{key: value for key, value in result.items() if key != "id"}}
    if not explain:
        return {"id": found.id, "name": found.name, "probability": result["probability"]}
    result["won"], result["lost"] = model["won"], model["lost"]
    return result


def _print_one(result: dict, explain: bool, fmt: str) -> None:
    from pipectl.output import Csv, emit

    layout = Csv(["field", "value", "contribution"], rows=lambda shown: shown["factors"]) if explain else Csv()
    shown = dict(result)
    if explain:
        shown["factors"] = [
            {"field": part["field"], "value": part["value"], "contribution": part["contribution"]}
            for part in result["factors"]
        ]
        shown.pop("won"), shown.pop("lost")
    emit(fmt, shown, table=lambda _: _card(result), csv_layout=layout)


def _card(result: dict) -> None:
    from pipectl.cli.table_layout import SECTION, print_table
    from pipectl.render import escape, stdout_console

    console = stdout_console()
    name = escape(result["name"], one_line=True)
    console.print(f"#{result['id']} {name}: win probability [bold]{result['probability']:.0%}[/bold]")
    if "factors" not in result:
        return
    rows: list[list[str] | None] = [
        ["Prior", f"{result['won']} won, {result['lost']} lost", f"{result['prior']:+.3f}", ""]
    ]
    for part in result["factors"]:
        counts = f"{part['won']}/{part['lost']}" if part["seen"] else "unseen"
        rows.append([part["field"], part["value"], f"{part['contribution']:+.3f}", counts])
    rows += [SECTION, ["Total (logit)", "", f"{result['logit']:+.3f}", ""]]
    print_table(console, FACTOR_COLUMNS, rows)
    console.print(
        "Log-odds add up; the probability is 1 / (1 + e^-logit). A value the history never saw counts 0.",
        style="dim",
    )


def _all(opened, limit: int | None, fmt: str) -> None:
    from pipectl.cli.tables import lead_table
    from pipectl.core.views import EXTRA_KEYS, LeadFilter, field_keys, lead_rows
    from pipectl.output import emit, lead_layout

    wanted = LeadFilter(status="open", sort="probability", limit=limit or None)
    with opened.session(write=False) as session:
        emit(
            fmt,
            lead_rows(session, wanted),
            table=lead_table,
            csv_layout=lead_layout(lambda: field_keys(session), EXTRA_KEYS),
        )


def _evaluate(session, holdout: str | None, before: str | None, field: list[str] | None) -> dict:
    from pipectl import clock
    from pipectl.core.prediction import custom_fields, stored_model
    from pipectl.core.prediction_eval import evaluate, parse_holdout
    from pipectl.dates import parse_date

    share = parse_holdout(holdout) if holdout is not None else (None if before is not None else 0.3)
    cut = parse_date(before, clock.now()) if before is not None else None
    model = stored_model(session) or {}
    fields = custom_fields(session, field) if field else tuple(model.get("fields", []))
    return evaluate(session, holdout=share, before=cut, fields=fields)


def _evaluation_rows(result: dict) -> list[dict]:
    rows = [
        {"measure": name, "decile": "", "model": result["model"][name], "rules": result["rules"][name]}
        for name in ("auc", "brier")
    ]
    for mine, theirs in zip(result["model"]["calibration"], result["rules"]["calibration"], strict=True):
        for measure in ("predicted", "actual"):
            rows.append(
                {"measure": measure, "decile": mine["decile"], "model": mine[measure], "rules": theirs[measure]}
            )
    return rows


def _print_evaluation(result: dict, fmt: str) -> None:
    from pipectl.output import Csv, emit

    emit(
        fmt,
        result,
        table=_evaluation_tables,
        csv_layout=Csv(["measure", "decile", "model", "rules"], rows=_evaluation_rows),
    )


def _evaluation_tables(result: dict) -> None:
    from pipectl.cli.table_layout import hidden_note, print_table
    from pipectl.render import stdout_console

    console = stdout_console()
    train, test = result["train"], result["test"]
    console.print(
        f"Trained on {train['closed']:,} leads closed before {result['split'][:10]} ({train['won']:,} won, "
        f"{train['lost']:,} lost); tested on the {test['closed']:,} closed since ({test['won']:,} won, "
        f"{test['lost']:,} lost)."
    )
    model, rules = result["model"], result["rules"]
    measures = [
        ["ROC AUC", f"{model['auc']:.3f}", f"{rules['auc']:.3f}", _better(model["auc"], rules["auc"], higher=True)],
        [
            "Brier score",
            f"{model['brier']:.3f}",
            f"{rules['brier']:.3f}",
            _better(model["brier"], rules["brier"], higher=False),
        ],
    ]
    hidden = print_table(console, MEASURE_COLUMNS, measures, title="Held-out leads")
    deciles = [
        [
            str(mine["decile"]),
            f"{mine['predicted']:.0%}",
            f"{mine['actual']:.0%}",
            f"{theirs['predicted']:.0%}",
            f"{theirs['actual']:.0%}",
        ]
        for mine, theirs in zip(model["calibration"], rules["calibration"], strict=True)
    ]
    hidden += print_table(console, CALIBRATION_COLUMNS, deciles, title="Calibration by decile (predicted vs won)")
    console.print(
        "AUC: the chance a won lead ranks above a lost one (0.5 is a coin). Brier: the mean squared error of "
        "the probability (lower is better; the rule score is read as score ÷ 100).",
        style="dim",
    )
    hidden_note(console, hidden)


def _better(model: float, rules: float, *, higher: bool) -> str:
    if abs(model - rules) < 0.005:
        return "even"
    return "model" if (model > rules) == higher else "rule score"


def register(app: typer.Typer) -> None:
    app.command()(predict)
