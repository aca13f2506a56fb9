"""The win model in the core, on synthetic pipelines with a known generating process: it ranks leads in
the planted order, its explanation adds up, its counts and evaluation match independent computations."""

import math
import random
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipectl import clock
from pipectl.core import prediction
from pipectl.core.leads import add_lead, edit_lead, validate_fields
from pipectl.core.outcomes import mark_lost, mark_won
from pipectl.core.prediction_eval import brier, calibration, evaluate, parse_holdout, roc_auc
from pipectl.core.prediction_features import COUNT_BANDS, SIZE_BANDS, FeatureSet, closed
from pipectl.core.rescoring import rescore_marked
from pipectl.errors import UsageError
from pipectl.storage.models import Lead
from prediction_support import SOURCE_ODDS, build


def brute_auc(scores, outcomes) -> float:
    """Every (won, lost) pair: 1 when the won lead scores higher, ½ on a tie."""
    won = [score for score, outcome in zip(scores, outcomes, strict=True) if outcome]
    lost = [score for score, outcome in zip(scores, outcomes, strict=True) if not outcome]
    wins = sum(1.0 if w > v else 0.5 if w == v else 0.0 for w in won for v in lost)
    return wins / (len(won) * len(lost))


def closed_lead(session, name, won, at, **fields):
    lead, _ = add_lead(session, validate_fields(name=name, **fields), at=at, force=True)
    if won:
        mark_won(session, lead, at=at + timedelta(hours=1))
    else:
        mark_lost(session, lead, reason="no", at=at + timedelta(hours=1))
    return lead


def test_the_model_ranks_leads_in_the_planted_order(session):
    opened = build(session, closed=160)
    model = prediction.train(session)
    for lead in opened.values():
        session.refresh(lead)
    chance = {key: lead.win_probability for key, lead in opened.items()}
    for industry in ("SaaS", "Retail"):
        assert chance[("Referral", industry)] > chance[("Website", industry)] > chance[("Cold list", industry)]
    for source in SOURCE_ODDS:
        assert chance[(source, "SaaS")] > chance[(source, "Retail")]
    assert model["won"] + model["lost"] == 160


def test_the_explanation_adds_up_to_the_stored_probability(session):
    opened = build(session, closed=90)
    model = prediction.train(session)
    for lead in opened.values():
        session.refresh(lead)
        explained = prediction.explain(session, lead.id, model)
        assert explained["logit"] == model["prior"] + sum(part["contribution"] for part in explained["factors"])
        assert explained["probability"] == pytest.approx(1 / (1 + math.exp(-explained["logit"])), abs=1e-15)
        assert lead.win_probability == pytest.approx(explained["probability"], abs=1e-12)
        sizes = [abs(part["contribution"]) for part in explained["factors"]]
        assert sizes == sorted(sizes, reverse=True)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    outcomes=st.lists(st.booleans(), min_size=30, max_size=45).filter(lambda o: 5 <= sum(o) <= len(o) - 5),
    seed=st.integers(0, 10_000),
)
def test_property_factors_add_up_to_the_logit_for_any_history(database, outcomes, seed):
    rng = random.Random(seed)
    with database.session() as session:
        session.execute(Lead.__table__.delete())
        start = clock.now() - timedelta(days=100)
        for index, won in enumerate(outcomes):
            closed_lead(
                session,
                f"P{index}",
                won,
                start + timedelta(days=index),
                source=rng.choice(["a", "b", "c", None]),
                industry=rng.choice(["x", "y"]),
                company_size=rng.choice([None, 5, 80, 3000]),
            )
        fresh = [
            add_lead(
                session,
                validate_fields(name=f"Open {index}", source=rng.choice(["a", "new", None]), company_size=40),
                force=True,
            )[0]
            for index in range(4)
        ]
        rescore_marked(session)
        model = prediction.train(session)
        for lead in fresh:
            explained = prediction.explain(session, lead.id, model)
            total = model["prior"] + sum(part["contribution"] for part in explained["factors"])
            assert math.isclose(total, explained["logit"], rel_tol=0, abs_tol=1e-12)
            session.refresh(lead)
            assert lead.win_probability == pytest.approx(prediction.sigmoid(explained["logit"]), abs=1e-12)
        session.rollback()


def test_counts_match_a_plain_count_and_contributions_the_laplace_formula(session):
    start = clock.now() - timedelta(days=60)
    plan = [("web", True)] * 12 + [("web", False)] * 4 + [("fair", True)] * 3 + [("fair", False)] * 11
    for index, (source, won) in enumerate(plan):
        closed_lead(session, f"C{index}", won, start + timedelta(days=index), source=source)
    rescore_marked(session)
    table = prediction.frequency_table(session, FeatureSet(), closed())
    sources = {value: (won, lost) for feature, value, won, lost in table if feature == "source"}
    assert sources == {"web": (12, 4), "fair": (3, 11)}
    model = prediction.train(session)
    assert model["prior"] == pytest.approx(math.log(15 / 15))
    fitted = dict(
        ((feature, value), contribution)
        for feature, value, contribution in session.execute(
            prediction.factors.select().with_only_columns(
                prediction.factors.c.feature, prediction.factors.c.value, prediction.factors.c.contribution
            )
        )
    )
    # α = 1 over the two source values: (12+1)/(15+2) against (4+1)/(15+2).
    assert fitted[("source", "web")] == pytest.approx(math.log(13 / 17) - math.log(5 / 17))
    assert fitted[("source", "fair")] == pytest.approx(math.log(4 / 17) - math.log(12 / 17))
    # The same value among every closed lead (here, no industry) tells nothing.
    assert fitted[("industry", "(none)")] == pytest.approx(0.0)
    newcomer, _ = add_lead(session, validate_fields(name="New", source="podcast"), force=True)
    factors = {part["field"]: part for part in prediction.explain(session, newcomer.id, model)["factors"]}
    assert factors["source"]["contribution"] == 0.0 and factors["source"]["seen"] is False


@pytest.mark.parametrize("won, lost", [(20, 9), (26, 4), (4, 30)])
def test_thin_history_says_not_enough_history(session, won, lost):
    start = clock.now() - timedelta(days=90)
    for index in range(won + lost):
        closed_lead(session, f"T{index}", index < won, start + timedelta(days=index))
    with pytest.raises(prediction.NotEnoughHistory, match="not enough history"):
        prediction.train(session)
    assert prediction.stored_model(session) is None


def test_the_model_is_rebuilt_when_stale_and_follows_edited_leads(session):
    opened = build(session, closed=60)
    model, trained = prediction.current_model(session)
    assert trained
    assert prediction.current_model(session) == (model, False)
    cold = opened[("Cold list", "Retail")]
    session.refresh(cold)
    before = cold.win_probability
    edit_lead(session, cold, validate_fields(source="Referral"))
    rescore_marked(session)
    session.refresh(cold)
    assert cold.win_probability > before  # the edited lead is re-predicted, the model is not retrained
    mark_won(session, opened[("Website", "SaaS")])
    rescore_marked(session)
    session.refresh(opened[("Website", "SaaS")])
    assert opened[("Website", "SaaS")].win_probability is None  # only open leads have one
    assert prediction.is_stale(session, model)
    again, trained = prediction.current_model(session)
    assert trained and again["won"] == model["won"] + 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6).map(lambda x: x / 6), st.booleans()), min_size=2, max_size=40).filter(
        lambda pairs: 0 < sum(outcome for _, outcome in pairs) < len(pairs)
    )
)
def test_auc_matches_a_brute_force_pairwise_count(pairs):
    scores, outcomes = [score for score, _ in pairs], [outcome for _, outcome in pairs]
    assert roc_auc(scores, outcomes) == pytest.approx(brute_auc(scores, outcomes))


def test_brier_and_calibration_by_hand():
    probabilities = [0.1, 0.9, 0.8, 0.3]
    outcomes = [False, True, False, True]
    assert brier(probabilities, outcomes) == pytest.approx((0.01 + 0.01 + 0.64 + 0.49) / 4)
    groups = calibration([index / 20 for index in range(20)], [index >= 10 for index in range(20)])
    assert [group["leads"] for group in groups] == [2] * 10
    assert [group["actual"] for group in groups] == [0.0] * 5 + [1.0] * 5
    assert groups[0]["predicted"] == pytest.approx(0.025)


def python_features(session, lead: Lead, kinds) -> dict:
    """The model's features of a lead, worked out in plain Python from the ORM rows."""
    from sqlmodel import select

    from pipectl.storage.models import Activity, Stage

    def text(value):
        return value.strip().lower() if value and value.strip() else "(none)"

    size = lead.company_size
    band = "(none)" if size is None else next(label for low, label in SIZE_BANDS if size >= low)
    found = {
        ("stage", session.get(Stage, lead.stage_id).name),
        ("source", text(lead.source)),
        ("industry", text(lead.industry)),
        ("size", band),
        ("owner", text(lead.owner)),
    }
    for kind in kinds:
        done = session.exec(select(Activity).where(Activity.lead_id == lead.id, Activity.kind == kind)).all()
        count = sum(
            1 for activity in done if activity.done and (lead.closed_at is None or activity.at <= lead.closed_at)
        )
        found.add((f"activity:{kind}", next((label for low, label in COUNT_BANDS if count >= low), "0")))
    return dict(found)


def test_evaluation_matches_an_independent_computation(session):
    from sqlmodel import select

    build(session, closed=150)
    result = evaluate(session, holdout=0.3, before=None, fields=())
    closed_leads = session.exec(
        select(Lead).where(Lead.status.in_(("won", "lost"))).order_by(Lead.closed_at, Lead.id)
    ).all()
    held = math.ceil(len(closed_leads) * 0.3)
    train, test = closed_leads[: len(closed_leads) - held], closed_leads[len(closed_leads) - held :]
    assert (result["train"]["closed"], result["test"]["closed"]) == (len(train), len(test))
    kinds = ["meeting"]
    won = sum(lead.status == "won" for lead in train)
    lost = len(train) - won
    counts: dict = {}
    for lead in train:
        for feature_value in python_features(session, lead, kinds).items():
            counts.setdefault(feature_value, [0, 0])[0 if lead.status == "won" else 1] += 1
    distinct: dict = {}
    for feature, _ in counts:
        distinct[feature] = distinct.get(feature, 0) + 1

    def probability(lead) -> float:
        logit = math.log(won / lost)
        for feature, value in python_features(session, lead, kinds).items():
            if (feature, value) in counts:
                w, v = counts[(feature, value)]
                k = distinct[feature]
                logit += math.log((w + 1) / (won + k)) - math.log((v + 1) / (lost + k))
        return 1 / (1 + math.exp(-logit))

    outcomes = [lead.status == "won" for lead in test]
    mine = [probability(lead) for lead in test]
    assert result["model"]["auc"] == pytest.approx(brute_auc(mine, outcomes))
    assert result["model"]["brier"] == pytest.approx(brier(mine, outcomes))
    expected = calibration(mine, outcomes)
    assert [(group["leads"], group["actual"]) for group in result["model"]["calibration"]] == [
        (group["leads"], group["actual"]) for group in expected
    ]
    assert [group["predicted"] for group in result["model"]["calibration"]] == pytest.approx(
        [group["predicted"] for group in expected]
    )
    rules = [lead.score / 100 for lead in test]
    assert result["rules"]["auc"] == pytest.approx(brute_auc(rules, outcomes))
    assert result["rules"]["brier"] == pytest.approx(brier(rules, outcomes))
    assert result["model"]["auc"] > 0.75  # the planted process is learnable


def test_holdout_is_read_as_a_share():
    assert parse_holdout("30%") == pytest.approx(0.3)
    assert parse_holdout("0.25") == pytest.approx(0.25)
    for bad in ("0%", "100%", "abc", "-5%", "1.5"):
        with pytest.raises(UsageError):
            parse_holdout(bad)
