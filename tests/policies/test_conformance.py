"""The conformance suite: every registered policy passes it, and each check bites.

The first test runs every check on every class in the registry, so a policy added
to a built-in module (or installed through the ``ordercycle.policies`` entry-point
group) is covered without touching this file. The rest defines small, deliberately
broken policies and proves that the matching check fails on each, naming the policy.
"""

from __future__ import annotations

import dataclasses
import math
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import Field

from ordercycle.policies import testing
from ordercycle.policies.contexts import (
    BillingContext,
    CapacityContext,
    CapacityPlan,
    DispatchContext,
    DispatchDecision,
    Forecast,
    ForecastContext,
    InvoiceDecision,
    InvoiceLine,
    OrderView,
    Quote,
    QuoteContext,
    Ranking,
    RankingContext,
    ReturnContext,
    ReturnDecision,
    SelectionContext,
    SelectionDecision,
    from_json,
    to_json,
)
from ordercycle.policies.fulfilment import ShipPartial
from ordercycle.policies.registry import DECISIONS, registry
from ordercycle.policies.testing import (
    DECISION_SPECS,
    all_checks,
    check_policy,
    example_contexts,
    labelled_examples,
    parametrize_with_checks,
    policy_examples,
)

REGISTERED = [cls for table in registry().values() for cls in table.values()]

ForecastPolicy = DECISIONS["forecast"]
CapacityPolicy = DECISIONS["capacity"]
PricingPolicy = DECISIONS["pricing"]
SelectionPolicy = DECISIONS["selection"]
PriorityPolicy = DECISIONS["priority"]
DispatchPolicy = DECISIONS["dispatch"]
BillingPolicy = DECISIONS["billing"]
ReturnsPolicy = DECISIONS["returns"]


@parametrize_with_checks(REGISTERED)
def test_registered_policy_conforms(policy_cls, check):
    check(policy_cls)


# --- the tables and the examples ------------------------------------------------------


def test_every_decision_kind_has_a_spec_and_examples():
    assert set(DECISION_SPECS) == set(DECISIONS)
    for kind, spec in DECISION_SPECS.items():
        assert callable(getattr(DECISIONS[kind], spec.method)), kind
        contexts = example_contexts(kind)
        assert len(contexts) >= 3, kind
        assert all(type(context) is spec.context for context in contexts), kind


def test_examples_include_the_edge_cases():
    rankings = example_contexts("priority")
    assert any(not c.orders for c in rankings), "an empty queue"
    assert any(len(c.orders) == 1 for c in rankings), "a single order"
    keys = [(o.released_at, o.due_date, o.importance, o.remaining_hours) for c in rankings for o in c.orders]
    assert len(keys) > len(set(keys)), "orders that tie on every field but the id"
    assert any(not c.history_units for c in example_contexts("forecast")), "an empty history"
    assert any(len(c.candidates) == 1 for c in example_contexts("dispatch")), "a single candidate"
    assert {c.decider for c in example_contexts("selection")} == {"junior", "senior"}
    billing = example_contexts("billing")
    assert {c.rhythm for c in billing} == {"per_shipment", "monthly"}
    assert {c.lines[0].shipped_units is None for c in billing} == {True, False}, "consulted and not"
    assert any(len(c.lines) > 1 for c in billing), "a monthly multi-line invoice"


def test_examples_are_fresh_values_with_readable_labels():
    first, second = labelled_examples("priority"), labelled_examples("priority")
    assert first == second
    assert "empty queue" in first and "ties" in first


def test_only_policies_declaring_it_are_held_to_the_partial_delivery_flag():
    checked = {cls.name for cls in REGISTERED if "check_fulfilment_honours_partial_deliveries"
               in dict(all_checks(cls))}
    assert checked == {"by-customer"}
    examples = labelled_examples("fulfilment").values()
    assert {c.accepts_partial_deliveries for c in examples} == {True, False}


def test_policies_see_the_contexts_the_model_would_give_them():
    senior = registry()["selection"]["margin-floor"]
    junior = registry()["selection"]["size-threshold"]
    assert {c.decider for c in policy_examples(senior).values()} == {"senior"}
    assert {c.decider for c in policy_examples(junior).values()} == {"junior"}
    for cls in registry()["billing"].values():
        lines = [line for c in policy_examples(cls).values() for line in c.lines]
        assert lines and all((line.shipped_units is not None) == cls.consults for line in lines)


# --- deliberately broken policies, each caught by one check ----------------------------


class RandomNoiseForecast(ForecastPolicy):
    """Adds random noise: a different answer each time."""

    name = "random-noise"
    summary = "naive forecast plus noise"

    def __init__(self) -> None:
        pass

    def forecast(self, context: ForecastContext) -> Forecast:
        """Last value plus noise."""
        units = (context.history_units[-1] if context.history_units else 0.0) + random.random()
        return Forecast(units, units, units, "noisy")


class CallCountingForecast(ForecastPolicy):
    """Remembers how often it was asked, and lets that change its answer."""

    name = "call-counting"
    summary = "forecasts more the more it is asked"

    def __init__(self) -> None:
        pass

    def forecast(self, context: ForecastContext) -> Forecast:
        """Count the calls in fitted state, add them to the forecast."""
        self.calls_ = getattr(self, "calls_", 0) + 1
        return Forecast(float(self.calls_), float(self.calls_), float(self.calls_), "counted")


class MeanOfNothingForecast(ForecastPolicy):
    """Divides by the length of the history, which may be empty."""

    name = "mean-of-nothing"
    summary = "mean of the history"

    def __init__(self) -> None:
        pass

    def forecast(self, context: ForecastContext) -> Forecast:
        """Plain mean."""
        mean = sum(context.history_units) / len(context.history_units)
        return Forecast(mean, mean, mean, f"mean {mean:.1f}")


class NegativeForecast(ForecastPolicy):
    """Plans on a negative figure."""

    name = "negative"
    summary = "trend that goes below zero"

    def __init__(self) -> None:
        pass

    def forecast(self, context: ForecastContext) -> Forecast:
        """Always -1."""
        return Forecast(1.0, 1.0, -1.0, "planned below zero")


class ZeroShiftCapacity(CapacityPolicy):
    """Closes the work centre when it is idle."""

    name = "zero-shift"
    summary = "no shifts when there is no load"

    def __init__(self) -> None:
        pass

    def plan(self, context: CapacityContext) -> CapacityPlan:
        """Zero shifts without load, else the most."""
        shifts = 0 if context.planned_load_hours == 0 else context.max_shifts
        return CapacityPlan(shifts, f"{shifts} shifts")


class FreeQuote(PricingPolicy):
    """Gives small orders away."""

    name = "free-samples"
    summary = "single units are free"

    def __init__(self) -> None:
        pass

    def quote(self, context: QuoteContext) -> Quote:
        """Price 0 for one unit."""
        price = 0.0 if context.quantity == 1 else context.list_price
        return Quote(price, context.standard_lead_days, "free sample" if price == 0 else "list price")


class BlankReasonSelection(SelectionPolicy):
    """Decides without saying why."""

    name = "blank-reason"
    summary = "accept everything silently"

    def __init__(self) -> None:
        pass

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Accept, reason left blank."""
        return SelectionDecision(True, "  ")


class WrongDecisionReturns(ReturnsPolicy):
    """Answers a return request with a selection decision."""

    name = "wrong-decision"
    summary = "mixes up its decision types"

    def __init__(self) -> None:
        pass

    def review_return(self, context: ReturnContext) -> ReturnDecision:
        """Returns the wrong type."""
        return SelectionDecision(True, "approved")  # type: ignore[return-value]


class RefundInThePast(ReturnsPolicy):
    """Schedules the refund before it may be paid (a negative delay crashes the model's clock)."""

    name = "refund-in-the-past"
    summary = "approve, refund a day early"

    def __init__(self) -> None:
        pass

    def review_return(self, context: ReturnContext) -> ReturnDecision:
        """Approve with a negative refund delay."""
        return ReturnDecision(True, "approved", refund_delay_days=-1.0)


class MutatingRanking(PriorityPolicy):
    """Moves the clock of the context it is given."""

    name = "mutating"
    summary = "edd that writes into its input"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Due date."""
        return order.due_date

    def rank(self, context: RankingContext) -> Ranking:
        """Rank, then move the context's clock."""
        object.__setattr__(context, "now", context.now + 1.0)
        return super().rank(context)


class DroppingRanking(PriorityPolicy):
    """Loses the last order of every ranking."""

    name = "dropping"
    summary = "fifo that forgets the last order"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Release time."""
        return order.released_at

    def rank(self, context: RankingContext) -> Ranking:
        """Rank and drop the last."""
        ranking = super().rank(context)
        return Ranking(ranking.order_ids[:-1], ranking.reason)


class StableSortRanking(PriorityPolicy):
    """Sorts by due date only, so ties keep whatever order they came in."""

    name = "stable-sort"
    summary = "due date, ties in input order"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Due date."""
        return order.due_date

    def rank(self, context: RankingContext) -> Ranking:
        """Expedites first, then due date; no tie-break."""
        ordered = sorted(context.orders, key=lambda o: (not o.expedited, o.due_date))
        return Ranking(tuple(o.order_id for o in ordered), "due date")


class BackwardsRanking(PriorityPolicy):
    """Its ranking disagrees with the key the model's queues sort by."""

    name = "backwards"
    summary = "ranks latest due date first but keys by earliest"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Due date."""
        return order.due_date

    def rank(self, context: RankingContext) -> Ranking:
        """The reverse of what the key says."""
        ranking = super().rank(context)
        return Ranking(ranking.order_ids[::-1], "reversed")


class UndeclaredTimeDependence(PriorityPolicy):
    """Slack changes while an order waits, but the policy says its key does not."""

    name = "undeclared-slack"
    summary = "minimum slack, declared time independent"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Slack."""
        return order.due_date - now - order.remaining_hours / 24


class ListRanking(PriorityPolicy):
    """Returns the ids as a list, which comes back from JSON as a tuple."""

    name = "list-ranking"
    summary = "fifo returning a list"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Release time."""
        return order.released_at

    def rank(self, context: RankingContext) -> Ranking:
        """Ranking with a list of ids."""
        ranking = super().rank(context)
        return Ranking(list(ranking.order_ids), ranking.reason)  # type: ignore[arg-type]


class OffCandidateDispatch(DispatchPolicy):
    """Picks a job that is not among the candidates."""

    name = "off-candidate"
    summary = "runs job 999"

    def __init__(self) -> None:
        pass

    def dispatch(self, context: DispatchContext) -> DispatchDecision:
        """Job 999."""
        return DispatchDecision(999, "my favourite job")


class LineDroppingBilling(BillingPolicy):
    """Leaves every order but the first off the invoice."""

    name = "first-line-only"
    summary = "bills one order per invoice"

    def __init__(self) -> None:
        pass

    def invoice(self, context: BillingContext) -> InvoiceDecision:
        """Bill the first line only."""
        line = context.lines[0]
        amount = line.entered_units * line.entered_unit_price
        return InvoiceDecision(
            (InvoiceLine(line.order_id, line.entered_units, line.entered_unit_price, amount),), "first")


class LogicInInit(ForecastPolicy):
    """Converts its parameter and prepares state in ``__init__``."""

    name = "logic-in-init"
    summary = "moving average that converts its window"

    def __init__(self, window: Annotated[int, Field(ge=1)] = 4):
        self.window = int(window)
        self.history_: list[float] = []

    def forecast(self, context: ForecastContext) -> Forecast:
        """Zero."""
        return Forecast(0.0, 0.0, 0.0, "zero")


class ValidatingInit(ForecastPolicy):
    """Validates its parameter in ``__init__`` instead of declaring it."""

    name = "validating-init"
    summary = "checks its window itself"

    def __init__(self, window: int = 4):
        if window < 1:
            raise ValueError("window must be >= 1")
        self.window = window

    def forecast(self, context: ForecastContext) -> Forecast:
        """Zero."""
        return Forecast(0.0, 0.0, 0.0, "zero")


class RequiredParameter(ForecastPolicy):
    """Has a parameter without a default, so ``make(kind, name)`` cannot build it."""

    name = "required-parameter"
    summary = "needs a window"

    def __init__(self, window: Annotated[int, Field(ge=1)]):
        self.window = window

    def forecast(self, context: ForecastContext) -> Forecast:
        """Zero."""
        return Forecast(0.0, 0.0, 0.0, "zero")


class UntypedParameter(ForecastPolicy):
    """Declares a parameter without a type, so nothing can be rejected."""

    name = "untyped"
    summary = "moving average with an untyped window"

    def __init__(self, window=4):  # noqa: ANN001 - the defect under test
        self.window = window

    def forecast(self, context: ForecastContext) -> Forecast:
        """Zero."""
        return Forecast(0.0, 0.0, 0.0, "zero")


class InfiniteDefault(ReturnsPolicy):
    """Uses infinity for "no limit", which JSON cannot carry."""

    name = "infinite-window"
    summary = "approve returns up to max_days"

    def __init__(self, max_days: Annotated[float, Field(gt=0)] = math.inf):
        self.max_days = max_days

    def review_return(self, context: ReturnContext) -> ReturnDecision:
        """Approve inside max_days."""
        return ReturnDecision(context.days_since_delivery <= self.max_days, "within max_days")


class AdaptiveThreshold(SelectionPolicy):
    """Raises its own threshold after every accepted order."""

    name = "adaptive-threshold"
    summary = "size threshold that creeps up"

    def __init__(self, min_units: Annotated[int, Field(ge=0)] = 1):
        self.min_units = min_units

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Accept, then raise the bar."""
        accept = context.quantity >= self.min_units
        self.min_units += 1
        return SelectionDecision(accept, f"threshold {self.min_units}")


class PartialToEveryone(ShipPartial):
    """Claims to honour the customers' partial-delivery flag, and ships partial to everyone."""

    name = "partial-to-everyone"
    summary = "ship every ready part at once, whoever the customer"
    honours_partial_deliveries = True


class BadMetadata(SelectionPolicy):
    """Declares a decider the model does not know."""

    name = "bad-metadata"
    summary = "decided by a manager"
    decider = "manager"

    def __init__(self) -> None:
        pass

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Accept."""
        return SelectionDecision(True, "accepted")


class UnknownExemption(SelectionPolicy):
    """Exempts itself from a check that does not exist."""

    name = "unknown-exemption"
    summary = "accept everything"
    expected_failed_checks = {"check_determinism": "typo"}

    def __init__(self) -> None:
        pass

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Accept."""
        return SelectionDecision(True, "accepted")


class SlowSolver(SelectionPolicy):
    """Ignores its own time limit."""

    name = "slow-solver"
    summary = "thinks for a while"

    def __init__(self, time_limit_seconds: Annotated[float, Field(gt=0)] = 0.01):
        self.time_limit_seconds = time_limit_seconds

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Sleep past the limit."""
        time.sleep(self.time_limit_seconds + 0.1)
        return SelectionDecision(True, "accepted after a long think")


def _local_policy() -> type:
    class LocalDispatch(DispatchPolicy):
        """Defined inside a function: pickle cannot find it."""

        name = "local"
        summary = "first candidate"

        def __init__(self) -> None:
            pass

        def dispatch(self, context: DispatchContext) -> DispatchDecision:
            """First candidate."""
            return DispatchDecision(context.candidates[0].job_id, "first")

    return LocalDispatch


BITES = [
    (RandomNoiseForecast, "check_deterministic", "decided"),
    (CallCountingForecast, "check_deterministic", "asked twice"),
    (MeanOfNothingForecast, "check_decision_type_and_reason",
     "forecast() raised ZeroDivisionError: division by zero on example 'empty history'"),
    (NegativeForecast, "check_output_contract", "planned_units = -1.0 is not a finite number >= 0"),
    (ZeroShiftCapacity, "check_output_contract", "shifts = 0, expected an int in 1..3"),
    (FreeQuote, "check_output_contract", "unit_price = 0.0, expected a finite price > 0"),
    (BlankReasonSelection, "check_decision_type_and_reason", "empty reason"),
    (RefundInThePast, "check_output_contract", "refund_delay_days = -1.0, expected a finite delay >= 0"),
    (WrongDecisionReturns, "check_decision_type_and_reason", "returned SelectionDecision"),
    (MutatingRanking, "check_does_not_mutate_context", "changed the context"),
    (DroppingRanking, "check_output_contract", "is not a permutation"),
    (StableSortRanking, "check_ranking_order_invariance", "depends on input order"),
    (BackwardsRanking, "check_ranking_follows_key", "its key() gives"),
    (UndeclaredTimeDependence, "check_key_time_independent", "changes with time"),
    (ListRanking, "check_decision_json_round_trip", "Expected `tuple[int, ...]`"),
    (OffCandidateDispatch, "check_output_contract", "job 999 is not one of the candidates"),
    (LineDroppingBilling, "check_output_contract", "expected exactly"),
    (PartialToEveryone, "check_fulfilment_honours_partial_deliveries",
     "to a customer who does not accept partial deliveries"),
    (LogicInInit, "check_no_logic_in_init", "also sets ['history_']"),
    (ValidatingInit, "check_no_logic_in_init", "validates or converts"),
    (RequiredParameter, "check_no_logic_in_init", "parameters ['window'] have no default"),
    (UntypedParameter, "check_invalid_params_rejected", "declares no type"),
    (InfiniteDefault, "check_params_json_round_trip", "is not JSON"),
    (AdaptiveThreshold, "check_decision_leaves_params_unchanged", "deciding changed its parameters"),
    (BadMetadata, "check_policy_metadata", "`decider` must be one of"),
    (UnknownExemption, "check_expected_failed_checks", "'check_determinism'"),
    (SlowSolver, "check_time_limit", "time_limit_seconds=0.01"),
]


@pytest.mark.parametrize(("policy_cls", "check_name", "message"),
                         [pytest.param(*bite, id=f"{bite[0].name}-{bite[1]}") for bite in BITES])
def test_check_catches_broken_policy(policy_cls, check_name, message, monkeypatch):
    monkeypatch.setattr(testing, "TIME_LIMIT_SLACK_SECONDS", 0.05)
    check = dict(all_checks(policy_cls))[check_name]
    with pytest.raises(AssertionError) as caught:
        check(policy_cls)
    text = str(caught.value)
    assert text.startswith(f"{policy_cls.policy_id()}: "), text
    assert message in text, text


def test_unpicklable_policy_is_caught():
    local = _local_policy()
    with pytest.raises(AssertionError, match=r"dispatch/local@1: cannot be pickled"):
        testing.check_picklable(local)


def test_broken_policies_pass_the_checks_they_do_not_break():
    # A check that fails for everything would prove nothing: the broken ranking that
    # drops an id still passes the checks it does not break.
    for name in ("check_no_logic_in_init", "check_params_json_round_trip", "check_deterministic",
                 "check_does_not_mutate_context", "check_picklable"):
        dict(all_checks(DroppingRanking))[name](DroppingRanking)


# --- running the suite: check_policy, exemptions, parametrize ---------------------------


class WellBehavedPlugin(PriorityPolicy):
    """What a third-party policy looks like: largest customer weight per hour first."""

    name = "weight-per-hour"
    summary = "highest importance per remaining hour first"

    def __init__(self, hours_floor: Annotated[float, Field(gt=0, le=10)] = 0.5):
        self.hours_floor = hours_floor

    def key(self, order: OrderView, now: float) -> Any:
        """Minus importance per remaining hour (at least ``hours_floor``)."""
        return -order.importance / max(order.remaining_hours, self.hours_floor)


class ExemptedNoise(RandomNoiseForecast):
    """Nondeterministic on purpose, and says so."""

    name = "exempted-noise"
    expected_failed_checks = {
        "check_deterministic": "a noise generator for robustness studies",
        "check_picklable": "its unpickled copy draws other noise, as it should",
    }


class DeliberateSelection(SelectionPolicy):
    """Thinks briefly, well inside its time limit."""

    name = "deliberate"
    summary = "accept after a short think"

    def __init__(self, time_limit_seconds: Annotated[float, Field(gt=0)] = 30.0):
        self.time_limit_seconds = time_limit_seconds

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Sleep a little, accept."""
        time.sleep(min(self.time_limit_seconds, 0.01))
        return SelectionDecision(True, "accepted after a short think")


class ManyParameterTypes(ReturnsPolicy):
    """Parameters of every common kind: the bad values generated for each are rejected."""

    name = "many-parameter-types"
    summary = "approve within a window, by mode"

    def __init__(self, mode: Literal["strict", "lenient"] = "strict",
                 grace_days: Annotated[float, Field(ge=0)] | None = None,
                 notify_sales: bool = False, label: str = "standard",
                 max_units: Annotated[int, Field(ge=1, le=1000)] = 100,
                 reason_weights: dict[str, float] | None = None):
        self.mode = mode
        self.grace_days = grace_days
        self.notify_sales = notify_sales
        self.label = label
        self.max_units = max_units
        self.reason_weights = reason_weights

    def review_return(self, context: ReturnContext) -> ReturnDecision:
        """Approve inside the window (plus grace when lenient) and under max_units."""
        grace = (self.grace_days or 0.0) if self.mode == "lenient" else 0.0
        approve = context.days_since_delivery <= context.return_window_days + grace
        approve = approve and context.units <= self.max_units
        return ReturnDecision(approve, f"{self.label}: {'approved' if approve else 'refused'}")


@pytest.mark.parametrize("policy_cls", [WellBehavedPlugin, DeliberateSelection, ManyParameterTypes])
def test_a_well_behaved_plugin_passes_every_check(policy_cls):
    assert ("check_time_limit" in dict(all_checks(policy_cls))) == (policy_cls is DeliberateSelection)
    check_policy(policy_cls)


def test_check_policy_lists_every_failure():
    with pytest.raises(AssertionError) as caught:
        check_policy(DroppingRanking)
    text = str(caught.value)
    assert text.startswith("priority/dropping@1 fails 2 check(s):")
    assert "\ncheck_output_contract: priority/dropping@1: on 'single order': ranking () is not" in text
    assert "\ncheck_ranking_follows_key: priority/dropping@1: " in text


def test_written_exemption_lets_check_policy_pass():
    check_policy(ExemptedNoise)


class NeedlessExemption(WellBehavedPlugin):
    """Exempts itself from a check it passes."""

    name = "needless-exemption"
    expected_failed_checks = {"check_picklable": "thought it held a solver handle"}


def test_exemption_of_a_passing_check_warns():
    with pytest.warns(UserWarning, match="passes check_picklable"):
        check_policy(NeedlessExemption)


def _cases(decorator) -> dict[str, Any]:
    return {case.id: case for case in decorator.mark.args[1]}


def test_parametrize_gives_one_id_per_policy_and_check():
    cases = _cases(parametrize_with_checks([WellBehavedPlugin, ExemptedNoise]))
    assert decorator_args(parametrize_with_checks([WellBehavedPlugin])) == ("policy_cls", "check")
    assert "priority/weight-per-hour@1-check_ranking_order_invariance" in cases
    assert "forecast/exempted-noise@1-check_deterministic" in cases
    assert "forecast/exempted-noise@1-check_ranking_order_invariance" not in cases
    assert not any(name.endswith("check_time_limit") for name in cases), "no time limit declared"
    exempted = cases["forecast/exempted-noise@1-check_deterministic"].marks
    assert [(m.name, m.kwargs["strict"], m.kwargs["reason"]) for m in exempted] == [
        ("xfail", True, "a noise generator for robustness studies")]
    assert not cases["forecast/exempted-noise@1-check_output_contract"].marks


def decorator_args(decorator) -> tuple[str, ...]:
    return tuple(decorator.mark.args[0])


def test_every_registered_policy_gets_every_generic_check():
    cases = _cases(parametrize_with_checks(REGISTERED))
    generic = [name for name, _ in all_checks(WellBehavedPlugin)
               if "ranking" not in name and "key" not in name]
    for cls in REGISTERED:
        for name in generic:
            assert f"{cls.policy_id()}-{name}" in cases


def test_contexts_survive_json():
    for kind, spec in DECISION_SPECS.items():
        for label, context in labelled_examples(kind).items():
            back = from_json(spec.context, to_json(context))
            assert back == context, (kind, label)
            assert dataclasses.is_dataclass(back)


def test_the_suite_needs_neither_pytest_nor_the_simulator_at_import():
    code = ("import sys, ordercycle.policies.testing\n"
            "banned = ('pytest', 'simpy', 'ordercycle.sim', 'ordercycle.reports')\n"
            "bad = [m for m in banned if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_guide_documents_every_kind_and_check():
    guide = (Path(__file__).parents[2] / "docs" / "policies.md").read_text(encoding="utf-8")
    for kind, spec in DECISION_SPECS.items():
        row = next(line for line in guide.splitlines() if line.startswith(f"| `{kind}` |"))
        assert spec.context.__name__ in row and spec.decision.__name__ in row, row
        assert f"`{spec.method}(" in row, row
    for name in testing._CHECKS:
        assert f"| `{name}` |" in guide, name
